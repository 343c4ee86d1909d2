"""Benchmark: what the Spark path's pandas UDFs (`pipeline.spark.functions`) cost a million rows, in
this process, without a JVM: the part of the Spark run that is the pipeline's own Python.

Spark gives a pandas UDF its rows in Arrow batches (`spark.sql.execution.arrow.maxRecordsPerBatch`,
10,000 by default). For each rule this times one batch after another over the bench's records
(`bench/bench_geocode.py`'s data, the first --rows postcodes; the household key of each row as
`row|bench|<n>`, the bench's usual key), and prints CPU seconds a million rows (`time.process_time`,
which the load of a shared machine disturbs far less than wall time):

* `new connection a batch`: an in-process DuckDB opened, and its macros installed, for each batch,
  every value through the macro (the UDFs before) against `kept connection` (`functions._rule`,
  now: one connection per worker, each distinct value of a batch through the macro once);
* `pc_reading`: the Python rule over every key of a batch (what Spark did with the UDF lifted out of
  its CASE) against the keys `guard_udfs` now passes (the invalid ones of length 5 to 7 that are not
  partial; NULL for the rest);
* `pc_fold`: likewise, every row against the rows whose postcode is not valid;
* `insight_key`: three calls a row (one per kind of key, as `geocode_match.sql` had it: Spark ran
  all three) against one.

Usage: ``.venv/bin/python bench/bench_spark_udfs.py [--rows 200000]``. Prints figures; docs/scale.md
keeps the last run's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import bench_geocode as data  # noqa: E402
import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.address import postcode, uprn  # noqa: E402
from pipeline.executor import through_macro  # noqa: E402
from pipeline.spark import functions  # noqa: E402

BATCH = 10_000
KEY = bytes(range(32))  # a fixed key: the figures do not depend on it


def batches(values: pd.Series) -> list[pd.Series]:
    return [values.iloc[i : i + BATCH] for i in range(0, len(values), BATCH)]


def cpu_per_million(fn, parts: list[pd.Series], rows: int) -> float:
    start = time.process_time()
    for part in parts:
        fn(part)
    return (time.process_time() - start) * 1_000_000 / rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--records", type=Path,
                    default=data.OUT / "records_codepoint_v2_trafford_1000000.csv")
    args = ap.parse_args()
    if not args.records.exists():
        raise SystemExit(f"{args.records} is absent: run bench/bench_spark.py --records 1000000 first")
    con = duckdb.connect()
    postcode.install(con)
    given = con.execute("SELECT v, pc_key(v) AS k, pc_valid(pc_key(v)) AS valid, pc_partial(pc_key(v)) part "
                        "FROM (SELECT \"Post Code\" AS v FROM read_csv(?, all_varchar = true) LIMIT ?)",
                        [str(args.records), args.rows]).df()
    rows = len(given)
    print(f"{rows:,} postcodes of {args.records.name}; batches of {BATCH:,}; {os.cpu_count()} cores; "
          f"load {data.loadavg()}")

    def install_address(c) -> None:
        postcode.install(c)
        uprn.install(c)

    def install_key(c) -> None:
        from pipeline import secret

        secret.install(c, KEY)

    keys = pd.Series([f"row|bench|{n}" for n in range(1, rows + 1)], dtype="object")
    cases = {"pc_key": (given["v"], install_address), "insight_key": (keys, install_key)}
    for name, (values, install) in cases.items():
        statement = functions.RULES[name][1]
        parts = batches(values)
        fresh = cpu_per_million(lambda p, s=statement, i=install, n=name: through_macro(p, i, n, s),
                                parts, rows)
        kept_fn = functions._rule(name, statement, "string", KEY if name == "insight_key" else None)
        kept = cpu_per_million(kept_fn, parts, rows)
        print(f"{name}: new connection a batch {fresh:.2f} CPU-s a million rows; kept connection {kept:.2f}")

    hmac = functions._rule("insight_key", functions.RULES["insight_key"][1], "string", KEY)
    parts = batches(keys)
    three = cpu_per_million(lambda p: [hmac(p) for _ in range(3)], parts, rows)
    one = cpu_per_million(hmac, parts, rows)
    print(f"insight_key: three calls a row {three:.2f} CPU-s a million rows; one call {one:.2f}")

    def reading_every(values: pd.Series) -> pd.Series:  # before: the Python rule on every key
        return values.map(lambda k: None if k is None or k is pd.NA else postcode.reading(k)).astype("object")

    length = given["k"].str.len()
    wanted = ~given["valid"] & length.between(5, 7) & ~given["part"]
    guarded = given["k"].where(wanted, None)
    every = cpu_per_million(reading_every, batches(given["k"]), rows)
    only = cpu_per_million(functions._reading, batches(guarded), rows)
    print(f"pc_reading: every key {every:.2f} CPU-s a million rows; the {int(wanted.sum()):,} keys guarded "
          f"in {only:.2f}")

    fold = functions._rule("pc_fold", functions.RULES["pc_fold"][1], "string", None)
    invalid = given["v"].where(~given["valid"], None)
    every = cpu_per_million(fold, batches(given["v"]), rows)
    only = cpu_per_million(fold, batches(invalid), rows)
    print(f"pc_fold: every row {every:.2f} CPU-s a million rows; the {int((~given['valid']).sum()):,} rows "
          f"guarded in {only:.2f}")


if __name__ == "__main__":
    main()
