"""No record-level row reaches the driver on the Spark path: nothing in pipeline/spark/ calls
.collect(), .toPandas(), .take(), .head(), .first(), .toLocalIterator() or .rdd. Aggregates come back
to the warehouse as Parquet written by Spark and read by DuckDB (pipeline.spark.stages)."""

from __future__ import annotations

import re
from pathlib import Path

SPARK_PATH = Path(__file__).resolve().parents[2] / "pipeline" / "spark"
DRIVER_PULLS = re.compile(
    r"\.(collect|toPandas|take|head|first|tail|toLocalIterator|collectAsList)\s*\(|\.rdd\b")


def driver_pulls(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if DRIVER_PULLS.search(line.split("#")[0])]


def test_no_record_level_rows_are_pulled_to_the_driver():
    files = sorted(SPARK_PATH.glob("*.py"))
    assert len(files) >= 4, files
    found = {f.name: driver_pulls(f.read_text(encoding="utf-8")) for f in files}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_scan_catches_a_collect():
    assert driver_pulls("rows = frame.collect()\nframe.toPandas()\nx = df.rdd.map(f)") != []
    assert len(driver_pulls("rows = frame.collect()\nframe.toPandas()\nx = df.rdd.map(f)")) == 3
    assert driver_pulls("frame.write.parquet(path)  # never .collect() here") == []
