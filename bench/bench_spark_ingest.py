"""Benchmark: the ingest stage on DuckDB (on the driver) and on Spark local[2]
(`pipeline.spark.ingest`), one extract of --rows records as a UTF-8 CSV and as Parquet.

The extract has the columns of tests/extract_samples.py (a reference, a postcode, an address line, a
date of birth, an outcome and an unmapped note). Each engine reads it with the sample service's
mapping, with and (`--no-dob`) without the date of birth, whose age band Spark computes with the
age rule's pandas UDFs. Spark reads the CSV twice: the first read pays for the JVM's warm-up and
the Python workers' start. Prints wall seconds (and CPU seconds for DuckDB, which runs in this
process); the load of a shared machine disturbs the wall times, so it is printed beside them.

Usage: ``.venv/bin/python bench/bench_spark_ingest.py [--rows 500000] [--no-dob]``. Needs the spark
extra and Java 17+. docs/scale.md keeps the last run's figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from pipeline.ingest import ingest_service  # noqa: E402
from pipeline.privacy import AgeRule  # noqa: E402
from tests.extract_samples import config  # noqa: E402

NO_DOB = {"columns": {"record_id": "Ref", "postcode": "Postcode", "address_1": "Address Line 1"}}


def extract_sql(rows: int) -> str:
    """The bench's extract: `rows` records in the sample's columns."""
    return f"""CREATE TABLE t AS SELECT 'R' || range AS Ref,
                 'DM' || (range % 9 + 1) || ' ' || (range % 10) || 'AB' AS Postcode,
                 (range % 300) || ' High St, Flat ' || (range % 7) AS "Address Line 1",
                 strftime(DATE '1950-01-01' + INTERVAL (range % 20000) DAY, '%d/%m/%Y') AS DOB,
                 CASE range % 3 WHEN 0 THEN 'Yes' WHEN 1 THEN 'No' ELSE '' END AS Quit,
                 'note ' || (range % 1000) AS Notes
               FROM range({int(rows)})"""


def copy_sql(target: Path, parquet: bool) -> str:
    kind = "(FORMAT parquet)" if parquet else "(HEADER, DELIMITER ',')"
    return f"COPY t TO '{target.as_posix()}' {kind}"


def cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--no-dob", action="store_true", help="leave the date of birth unmapped")
    args = parser.parse_args()
    mapping = NO_DOB if args.no_dob else {}
    tmp = Path(tempfile.mkdtemp(prefix="bench_spark_ingest_"))
    csv, parquet = tmp / "extract.csv", tmp / "extract.parquet"
    con = duckdb.connect()
    con.execute(extract_sql(args.rows))
    con.execute(copy_sql(csv, parquet=False))
    con.execute(copy_sql(parquet, parquet=True))
    con.close()
    print(f"rows {args.rows:,}; date of birth {'not mapped' if args.no_dob else 'mapped'}; "
          f"csv {csv.stat().st_size / 1e6:.1f} MB; parquet {parquet.stat().st_size / 1e6:.1f} MB")
    for path in (csv, parquet):
        cfg = config(tmp, path, **mapping)
        start, used = time.perf_counter(), cpu()
        result = ingest_service(duckdb.connect(), cfg, cfg.services[0], AgeRule.of(cfg))
        print(f"duckdb {path.suffix}: {time.perf_counter() - start:.1f} s wall, {cpu() - used:.1f} CPU-s, "
              f"{result.rows:,} rows; load {os.getloadavg()[0]:.1f}")

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from pipeline.spark.ingest import run
    from pipeline.spark.session import DEFAULTS
    from pipeline.spark.stages import SparkRun

    builder = SparkSession.builder.master("local[2]").appName("bench-spark-ingest")
    for key, value in (DEFAULTS | {"spark.driver.memory": "2g"}).items():
        builder = builder.config(key, value)
    start = time.perf_counter()
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    print(f"spark session: {time.perf_counter() - start:.1f} s")
    for label, path in (("csv (cold)", csv), ("csv", csv), ("parquet", parquet)):
        cfg = config(tmp, path, **mapping)
        start = time.perf_counter()
        result = run(SparkRun(spark, duckdb.connect(), cfg))["svc"]
        print(f"spark {label}: {time.perf_counter() - start:.1f} s wall, {result.rows:,} rows; "
              f"load {os.getloadavg()[0]:.1f}")
    spark.stop()


if __name__ == "__main__":
    main()
