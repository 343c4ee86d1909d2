"""Benchmark: all profiles (3 classification levels, wards, ward x segment, targets, equality,
channels, trends and the cross-service matrix) for 1,000,000 geocoded records. Prints timings.

    .venv/bin/python bench/bench_profile.py [--records 1000000]

A synthetic warehouse in memory: 2,000 OAs in 30 wards, 8 supergroups / 24 groups / 48
subgroups, five services sharing the records, with age, sex, ethnicity, disability, channel and
date columns; the census equality tables are generated to match the OAs.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import RunConfig
from pipeline.profiles.service import cross_service, profiles_for

SERVICES = ["svc_a", "svc_b", "svc_c", "svc_d", "svc_e"]
FIELDS = ["postcode", "age_band", "sex", "ethnicity", "disability", "channel", "date"]


def census(folder: Path, oas: list[str], rng) -> None:
    cols = {
        "ts007a": ["Age: Total", "Age: Aged 4 years and under"]
        + [f"Age: Aged {a} to {a + 4} years" for a in range(5, 85, 5)] + ["Age: Aged 85 years and over"],
        "ts008": ["Sex: All persons", "Sex: Female", "Sex: Male"],
        "ts038": ["Disability: Total: All usual residents", "Disability: Disabled under the Equality Act",
                  "Disability: Not disabled under the Equality Act"],
        "ts021": ["Ethnic group: Total: All usual residents",
                  "Ethnic group: Asian, Asian British or Asian Welsh",
                  "Ethnic group: Black, Black British, Black Welsh, Caribbean or African",
                  "Ethnic group: Mixed or Multiple ethnic groups", "Ethnic group: White",
                  "Ethnic group: Other ethnic group"],
    }
    for table, names in cols.items():
        parts = rng.integers(5, 40, size=(len(oas), len(names) - 1))
        frame = pd.DataFrame(parts, columns=names[1:])
        frame.insert(0, names[0], parts.sum(axis=1))
        frame.insert(0, "geography code", oas)
        frame.insert(0, "geography", oas)
        frame.insert(0, "date", 2021)
        frame.to_csv(folder / f"census2021-{table}-oa-bench.csv", index=False)


def warehouse(records: int, folder: Path, seed: int = 2021) -> tuple[duckdb.DuckDBPyConnection, RunConfig]:
    rng = np.random.default_rng(seed)
    n_oa = 2000
    oas = [f"E0{i:07d}" for i in range(n_oa)]
    wards = [f"E05{i % 30:06d}" for i in range(n_oa)]
    sub = rng.integers(0, 48, n_oa)
    con = duckdb.connect()
    con.register("oa_df", pd.DataFrame({
        "oa21cd": oas, "ward_code": wards, "ward_name": [f"Ward {w[-2:]}" for w in wards],
        "households": rng.integers(80, 200, n_oa), "x": 0.0, "y": 0.0}))
    con.execute("CREATE TABLE ref_oa AS SELECT * FROM oa_df")
    con.execute("""CREATE TABLE ref_wards AS SELECT ward_code, any_value(ward_name) AS ward_name,
                   sum(households) AS households, count(*) AS n_oas FROM ref_oa GROUP BY 1""")
    con.register("seg_df", pd.DataFrame({"oa21cd": oas, "segment": [str(s // 6 + 1) for s in sub],
                                         "group": [f"{s // 6 + 1}{'abc'[(s // 2) % 3]}" for s in sub],
                                         "subgroup": [f"{s // 6 + 1}{'abc'[(s // 2) % 3]}{s % 2 + 1}"
                                                      for s in sub]}))
    con.execute("CREATE TABLE segments_oa AS SELECT * FROM seg_df")
    con.execute("CREATE TABLE segments_names AS SELECT DISTINCT segment, "
                "'Segment ' || segment AS segment_name FROM segments_oa")
    con.execute("""CREATE TABLE ref_postcodes AS SELECT 'BN' || oa21cd AS pcds, oa21cd, TRUE AS is_live
                   FROM ref_oa""")
    per = records // len(SERVICES)
    for s in SERVICES:
        con.execute(f"""
            CREATE TABLE assign_{s} AS
            SELECT i AS row_number, 'postcode_live' AS match_level,
                   'hh' || (hash(i, '{s}') % 150000) AS household_key,
                   o.oa21cd, o.ward_code, g.segment,
                   (['16-24','25-34','35-44','45-54','55-64','65-74','75+'])[1 + i % 7] AS age_band,
                   (['Female','Male','Prefer not to say'])[1 + (i // 7) % 3] AS sex,
                   (['White: Irish','Asian or Asian British: Indian','Black or Black British: African',
                     'Mixed or Multiple ethnic groups','Other ethnic group'])[1 + (i // 3) % 5] AS ethnicity,
                   (['Yes','No'])[1 + i % 2] AS disability,
                   (['Face to face','Telephone','Web','Email'])[1 + (i // 5) % 4] AS channel,
                   strftime(DATE '2023-01-01' + INTERVAL (i % 730) DAY, '%d/%m/%Y') AS date
            FROM range({per}) t(i)
            JOIN (SELECT oa21cd, ward_code, row_number() OVER (ORDER BY oa21cd) - 1 AS k FROM ref_oa) o
              ON o.k = hash(i, '{s}x') % {n_oa}
            JOIN segments_oa g USING (oa21cd)""")
    cdir = folder / "census"
    cdir.mkdir()
    census(cdir, oas, rng)
    cfg = RunConfig.model_validate({
        "run": "bench", "area_name": "Bench", "private_dir": str(folder / "data"),
        "outputs_dir": str(folder / "out"),
        "geography": {"oa_boundaries": {"path": "x", "code_column": "c"},
                      "wards": {"path": "x", "code_column": "c"}, "postcode_directory": {"path": "x"}},
        "census": {"dir": str(cdir), "pattern": "census2021-{table}-oa-bench.csv"},
        "services": [{"name": s, "label": s, "file": "x", "columns": {f: f for f in FIELDS}}
                     for s in SERVICES],
    })
    return con, cfg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        con, cfg = warehouse(args.records, Path(tmp))
        n = sum(con.execute(f"SELECT count(*) FROM assign_{s}").fetchone()[0] for s in SERVICES)
        t1 = time.perf_counter()
        profiles = profiles_for(con, cfg)
        t2 = time.perf_counter()
        matrix = cross_service(con, cfg, profiles)
        t3 = time.perf_counter()
        views = sum(len(v) for v in profiles.values())
        print(f"records: {n:,} in {len(SERVICES)} services; setup {t1 - t0:.2f} s")
        print(f"levels: {[v for v in profiles['svc_a'] if v in ('segment', 'group', 'subgroup')]}; "
              f"views: {views}; matrix rows: {len(matrix)}")
        print("profiles (levels, wards, ward x segment, targets, equality, channels, trends): "
              f"{t2 - t1:.2f} s")
        print(f"cross-service matrix: {t3 - t2:.2f} s")
        print(f"all profiles: {t3 - t1:.2f} s (bar: <= 3 s)")


if __name__ == "__main__":
    main()
