"""Benchmark: outcome profiles (a binary, an ordinal and a numeric outcome by segment, group,
subgroup, ward and age band) for 1,000,000 records. Prints timings.

    .venv/bin/python bench/bench_outcomes.py [--records 1000000] [--oas 190000]

A synthetic warehouse in memory: OAs in 600 wards, 8 supergroups / 24 groups / 48 subgroups, one
service with the three outcome columns and an age band; the counts are made in DuckDB and the
intervals in numpy (pipeline/profiles/outcomes.py), and the counts are registered in a count graph.
"""

from __future__ import annotations

import argparse
import logging
import time

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import Outcome
from pipeline.profiles import outcomes
from pipeline.profiles.service import ServiceProfile

LEVELS = [("segment", "segment"), ("group", "group"), ("subgroup", "subgroup")]


class _Service:
    name = "svc"
    outcomes = [
        Outcome(name="quit", column="q", kind="binary"),
        Outcome(name="sat", column="s", kind="ordinal",
                scale=["Very dissatisfied", "Dissatisfied", "Neither", "Satisfied", "Very satisfied"]),
        Outcome(name="days", column="d", kind="numeric", better="lower"),
    ]


def warehouse(records: int, n_oa: int, seed: int = 2021) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    oas = [f"E0{i:07d}" for i in range(n_oa)]
    sub = rng.integers(0, 48, n_oa)
    wards = [f"E05{i % 600:06d}" for i in range(n_oa)]
    geo = pd.DataFrame({"oa21cd": oas, "ward_code": wards, "ward_name": [f"Ward {w[-3:]}" for w in wards],
                        "households": rng.integers(80, 200, n_oa),
                        "segment": [str(s // 6 + 1) for s in sub],
                        "group": [f"{s // 6 + 1}{'abc'[(s // 2) % 3]}" for s in sub],
                        "subgroup": [f"{s // 6 + 1}{'abc'[(s // 2) % 3]}{s % 2 + 1}" for s in sub]})
    geo["base"] = geo["households"]
    con = duckdb.connect()
    con.register("oa_df", geo[["oa21cd"]].assign(k=np.arange(n_oa)))
    con.execute(f"""
        CREATE TABLE assign_svc AS
        SELECT i AS row_number, o.oa21cd,
               (['16-24','25-34','35-44','45-54','55-64','65-74','75+'])[1 + i % 7] AS age_band,
               (['Yes','No','', 'Not known'])[1 + (hash(i, 'q') % 4)::BIGINT] AS outcome_quit,
               (['Very dissatisfied','Dissatisfied','Neither','Satisfied','Very satisfied',
                 'Don''t know',''])[1 + (hash(i, 's') % 7)::BIGINT] AS outcome_sat,
               CASE WHEN i % 5 = 0 THEN '' ELSE (hash(i, 'd') % 300 / 10.0)::VARCHAR END AS outcome_days
        FROM range({records}) t(i) JOIN oa_df o ON o.k = hash(i, 'oa') % {n_oa}""")
    return con, geo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--oas", type=int, default=190_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    t0 = time.perf_counter()
    con, geo = warehouse(args.records, args.oas)
    t1 = time.perf_counter()
    names = {v: {} for _, v in LEVELS}
    b = ServiceProfile()
    outcomes.outcome_views(b, con, "assign_svc", _Service, geo, LEVELS, names, ["age_band"], exact=False)
    t2 = time.perf_counter()
    n = con.execute("SELECT count(*) FROM assign_svc").fetchone()[0]
    print(f"records: {n:,} over {args.oas:,} OAs; setup {t1 - t0:.2f} s")
    print(f"outcome views: {len(b.views)}; cells in the count graph: {len(b.graph.counts):,}")
    print(f"outcome profiles: {t2 - t1:.2f} s")


if __name__ == "__main__":
    main()
