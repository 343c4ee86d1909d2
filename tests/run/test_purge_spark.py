"""`insight purge` and the privacy manifest know the Spark engine's folder: its datasets (the extracts
as read, the geocoded rows) are record-level and removed past the retention; its reference cache
(postcode directory and UPRN lookup, no service users) is kept. No run is needed: a private folder
laid out as a Spark run leaves it."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from pipeline.config import load_config
from pipeline.ownership import write_marker
from pipeline.privacy import purge
from pipeline.privacy.inventory import private_files
from tests.helpers import relocated_raw


def _spark_private(tmp_path: Path, days_old: float):
    """A config whose private folder holds a Spark run's datasets, its reference cache and its
    rejects, all `days_old` days old (no manifest: the purge goes by the files' age)."""
    raw = relocated_raw(Path("config/demo.yaml"), {}) | {"private_dir": str(tmp_path / "data"),
                                                         "outputs_dir": str(tmp_path / "outputs")}
    path = tmp_path / "spark.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    cfg = load_config(path, check_files=False)
    private = Path(cfg.private)
    for part in ("spark/ingest_library/part-0.parquet", "spark/geocode_library/part-0.parquet",
                 "spark/reference/postcodes-ab12/pc_area=DM/part-0.parquet", "rejects/library_rejects.csv",
                 "profiles/library_segment.csv"):
        (private / part).parent.mkdir(parents=True, exist_ok=True)
        (private / part).write_bytes(b"x")
    write_marker(private, "private", cfg.run)
    old = (datetime.now() - timedelta(days=days_old)).timestamp()
    for p in private.rglob("*"):
        os.utime(p, (old, old))
    return cfg, private


def test_the_manifest_lists_spark_datasets_as_record_level_and_the_cache_as_reference(tmp_path):
    _, private = _spark_private(tmp_path, days_old=1)
    files = {f["path"]: f for f in private_files(private)}
    assert files["spark/ingest_library/"]["removed_by_purge"]
    assert files["spark/geocode_library/"]["kind"] == "record-level (the Spark engine's datasets)"
    assert not files["spark/reference/"]["removed_by_purge"]
    assert "no service users" in files["spark/reference/"]["kind"]
    assert "spark/" not in files  # never the whole folder as 'not made by a run stage'


def test_purge_removes_the_spark_datasets_and_keeps_the_reference_cache(tmp_path):
    cfg, private = _spark_private(tmp_path, days_old=400)
    report = purge(cfg)
    assert report.done
    assert sorted(p.name for p in (private / "spark").iterdir()) == ["reference"]
    assert (private / "spark/reference/postcodes-ab12/pc_area=DM/part-0.parquet").is_file()
    assert not (private / "rejects").exists() and (private / "profiles/library_segment.csv").is_file()
    assert {Path(f).name for f in report.removed_files} >= {"ingest_library", "geocode_library", "rejects"}


def test_purge_within_retention_keeps_the_spark_datasets(tmp_path):
    cfg, private = _spark_private(tmp_path, days_old=1)
    assert not purge(cfg).done
    assert (private / "spark/ingest_library/part-0.parquet").is_file()
