"""Benchmark: outcome profiles (a binary, an ordinal and a numeric outcome by segment, group,
subgroup, ward and age band) for 1,000,000 records, and access profiles (distance from each of
190,000 OA centres to the nearest of 500 service points, bands, band x segment cells, catchments,
the target OAs beyond 2 km and every OA centre ranked as a candidate site). Prints timings.

    .venv/bin/python bench/bench_outcomes.py [--records 1000000] [--oas 190000] [--points 500]

A synthetic warehouse in memory: OAs in 600 wards, 8 supergroups / 24 groups / 48 subgroups, one
service with the three outcome columns and an age band; the counts are made in DuckDB and the
intervals in numpy (pipeline/profiles/outcomes.py), and the counts are registered in a count graph.
The OA centres are England-like: 60% in 60 towns (normal, sd 4 km), the rest spread over 500 x 600 km;
the points sit at OA centres drawn at random (so mostly in towns). The access timing covers the users
per OA (DuckDB), the segment profile the bands relate to and pipeline/profiles/access.py
(access_frames and register); the centres are given, as from the ONS population-weighted centroids.
"""

from __future__ import annotations

import argparse
import logging
import time

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import Outcome
from pipeline.profiles import access, gaps, levels, outcomes
from pipeline.profiles.service import ServiceProfile, _level_views

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


def places(n_oa: int, n_points: int, seed: int = 2021) -> tuple[pd.DataFrame, pd.DataFrame]:
    """England-like OA centres (EPSG:27700) and service points at OA centres."""
    rng = np.random.default_rng([seed, 1])
    towns = np.c_[rng.uniform(150_000, 650_000, 60), rng.uniform(50_000, 650_000, 60)]
    urban = int(0.6 * n_oa)
    xy = np.r_[towns[rng.integers(0, 60, urban)] + rng.normal(0, 4000, (urban, 2)),
               np.c_[rng.uniform(150_000, 650_000, n_oa - urban), rng.uniform(50_000, 650_000, n_oa - urban)]]
    centres = pd.DataFrame({"oa21cd": [f"E0{i:07d}" for i in range(n_oa)], "x": xy[:, 0], "y": xy[:, 1],
                            "centre": "population-weighted centroid"})
    at = rng.choice(n_oa, n_points, replace=False)
    points = pd.DataFrame({"name": [f"Point {i:03d}" for i in range(n_points)], "type": "clinic",
                           "x": xy[at, 0], "y": xy[at, 1]})
    return centres, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--oas", type=int, default=190_000)
    parser.add_argument("--points", type=int, default=500)
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
    centres, points = places(args.oas, args.points)
    t3 = time.perf_counter()
    users = levels.oa_users(con, "assign_svc").set_index("oa21cd")["users"]
    a = ServiceProfile()
    _level_views(a, geo, users, [("segment", "segment")], {"segment": {}})
    frames = access.access_frames(geo, users, {}, centres, points, [1.0, 2.0, 5.0], 2.0,
                                  gaps.target_segments(a.views["segment"]), None, 20)
    access.register(a, frames)
    t4 = time.perf_counter()
    print(f"access: {args.oas:,} OAs x {args.points} points; target OAs beyond 2 km: "
          f"{len(frames['access_targets']):,}; candidates ranked: {args.oas:,}; "
          f"cells in the count graph: {len(a.graph.counts):,}")
    print(f"access profiles: {t4 - t3:.2f} s")
    print(f"outcome and access profiles: {t2 - t1 + t4 - t3:.2f} s")


if __name__ == "__main__":
    main()
