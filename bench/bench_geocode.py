"""Benchmark (a): 1,000,000 dirty postcode-level records geocoded against a 2.7M-row directory.

Generates (once, into data/bench/, git-ignored) a synthetic national-size postcode directory in the
ONSPD layout and a CSV of dirty records, loads the directory once into a reusable reference DuckDB
(`boundaries.reference`), then times, in the same run:

* **DuckDB, end to end**: the pipeline's own ingest (CSV -> `ingest_bench`) and geocode SQL
  (postcode correction, directory join, one outcome per row -> `geocode_bench`);
* **pandas baseline**: read the CSV, normalise the postcode, merge with the directory (already in
  memory) and with the area's OAs, and classify each row by the same rules.

Prints both timings, their ratio and the outcome counts (which must agree). Bar: DuckDB <= 5 s
and >= 3x faster than pandas. Usage: ``.venv/bin/python bench/bench_geocode.py [--records N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from boundaries.reference import attach_reference, ensure_reference  # noqa: E402
from pipeline.config import PostcodeDirectory, RunConfig  # noqa: E402
from pipeline.geocode import EMPTY_GAZETTEER, MATCH_LEVELS, REJECT_REASONS, geocode_service  # noqa: E402
from pipeline.ingest import ingest_service  # noqa: E402

OUT = Path("data/bench")
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
VALID = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2}$"


def make_directory(path: Path, rows: int) -> None:
    """ONSPD-layout CSV: 27 areas x 50 districts x 10 sectors x 400 units, first `rows` of them."""
    con = duckdb.connect()
    con.execute(
        f"""COPY (
            WITH i AS (SELECT range AS i FROM range({rows})),
            parts AS (
                SELECT i,
                       chr(CAST(65 + (i // 200000) % 26 AS INTEGER))
                           || chr(CAST(65 + (i // 200000 + 7) % 26 AS INTEGER)) AS area,
                       1 + (i // 4000) % 50 AS district, (i // 400) % 10 AS sector,
                       substr('{LETTERS}', 1 + (i // 20) % 20, 1)
                           || substr('{LETTERS}', 1 + i % 20, 1) AS unit
                FROM i)
            SELECT area || district || ' ' || sector || unit AS pcds,
                   'E0' || lpad(CAST(1000000 + i // 8 AS VARCHAR), 7, '0') AS oa21cd,
                   'E05' || lpad(CAST(i // 2000 AS VARCHAR), 6, '0') AS osward,
                   'E06' || lpad(CAST(i // 20000 AS VARCHAR), 6, '0') AS oslaua,
                   CAST(100000 + i % 500000 AS VARCHAR) AS oseast1m,
                   CAST(200000 + i % 700000 AS VARCHAR) AS osnrth1m,
                   CASE WHEN i % 17 = 0 THEN '202001' ELSE '' END AS doterm,
                   CASE WHEN i % 997 = 0 THEN 9 ELSE 1 END AS osgrdind,  -- no grid reference: PO boxes
                   CASE WHEN i % 53 = 0 THEN 1 ELSE 0 END AS usertype
            FROM parts) TO '{path.as_posix()}' (HEADER, DELIMITER ',')"""
    )
    con.close()


def make_records(path: Path, directory: Path, n: int, seed: int = 1) -> None:
    """Dirty records: 5% lower case, 6% unspaced, 1% O/0 typos, 0.5% district only, 0.5% invalid,
    1% blank, 2% not found."""
    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed / 10})")
    con.execute(
        f"""COPY (
            WITH d AS (SELECT pcds, row_number() OVER () AS k FROM read_csv('{directory.as_posix()}',
                                                                          all_varchar = true)),
            r AS (SELECT range AS id, random() AS u, 1 + CAST(floor(random() * (SELECT count(*) FROM d))
                                                             AS BIGINT) AS k FROM range({n}))
            SELECT 'R' || id AS "Record ID",
                   CASE WHEN u < 0.05 THEN lower(pcds)
                        WHEN u < 0.11 THEN replace(pcds, ' ', '')
                        WHEN u < 0.12 THEN replace(pcds, ' 1', ' I')
                        WHEN u < 0.125 THEN left(pcds, 3)
                        WHEN u < 0.13 THEN 'N/A'
                        WHEN u < 0.14 THEN ''
                        WHEN u < 0.16 THEN left(pcds, length(pcds) - 2) || 'ZZ'
                        ELSE pcds END AS "Post Code",
                   'Some note' AS "Note"
            FROM r JOIN d USING (k) ORDER BY id) TO '{path.as_posix()}' (HEADER, DELIMITER ',')"""
    )
    con.close()


def run_duckdb(records: Path, reference: Path, area_oas: pd.DataFrame) -> tuple[float, dict]:
    cfg = RunConfig.model_validate(
        {"run": "bench", "area_name": "Bench", "private_dir": str(OUT / "private"),
         "geography": {"oa_boundaries": {"path": "x", "code_column": "c"},
                       "wards": {"path": "x", "code_column": "c"}, "postcode_directory": {"path": "x"}},
         "census": {"dir": "x"},
         "services": [{"name": "bench", "label": "Bench", "file": str(records),
                       "columns": {"record_id": "Record ID", "postcode": "Post Code"}}]}
    )
    db = OUT / "bench_warehouse.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.register("oa_df", area_oas)
    con.execute("CREATE TABLE ref_oa AS SELECT * FROM oa_df")
    con.execute(EMPTY_GAZETTEER)
    t0, c0 = time.perf_counter(), time.process_time()
    attach_reference(con, reference)
    ingest_service(con, cfg, cfg.services[0])
    counts = geocode_service(con, cfg.services[0], None)
    con.close()  # the warehouse is written to disk: part of the timing
    return (time.perf_counter() - t0, time.process_time() - c0), counts


def run_pandas(records: Path, directory: pd.DataFrame, area_oas: pd.DataFrame) -> tuple[float, dict]:
    t0, c0 = time.perf_counter(), time.process_time()
    df = pd.read_csv(records, dtype=str, keep_default_na=False)
    key = df["Post Code"].str.upper().str.replace(r"\s+", "", regex=True)
    spaced = df["Post Code"].str.upper().str.strip().str.replace(r"\s+", " ", regex=True)
    m = pd.DataFrame({"pc_key": key}).merge(directory, on="pc_key", how="left")
    m["in_area"] = m["oa21cd"].isin(area_oas["oa21cd"])
    outcome = pd.Series("postcode_terminated", index=m.index)
    outcome[m["is_live"].eq(True)] = "postcode_live"
    outcome[~m["in_area"]] = "out_of_area"
    outcome[m["oa21cd"].isna()] = "postcode_no_oa"
    outcome[m["non_geographic"].eq(True)] = "postcode_non_geographic"
    outcome[m["pcds"].isna()] = "postcode_not_found"
    outcome[~key.str.match(VALID)] = "invalid_postcode"
    outcome[spaced.str.match(r"^[A-Z]{1,2}[0-9][A-Z0-9]?( [0-9])?$")] = "partial_postcode"
    outcome[key.eq("")] = "missing_postcode"
    counts = outcome.value_counts().to_dict()
    return (time.perf_counter() - t0, time.process_time() - c0), counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--directory-rows", type=int, default=2_700_000)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    directory_csv = OUT / f"onspd_synthetic_v2_{args.directory_rows}.csv"
    records_csv = OUT / f"records_v3_{args.records}.csv"
    reference = OUT / f"postcodes_v2_{args.directory_rows}.duckdb"
    if not directory_csv.exists():
        make_directory(directory_csv, args.directory_rows)
    if not records_csv.exists():
        make_records(records_csv, directory_csv, args.records)
    t0 = time.perf_counter()
    built = ensure_reference(PostcodeDirectory(path=directory_csv), reference)
    print(f"reference DB {'built' if built else 'current, reused'} in {time.perf_counter() - t0:.1f} s: "
          f"{reference}")
    con = duckdb.connect(str(reference), read_only=True)
    directory = con.execute("SELECT * FROM postcodes").df()
    con.close()
    area = pd.DataFrame({"oa21cd": directory["oa21cd"].drop_duplicates().iloc[::3].to_numpy()})
    area["ward_code"] = "E05000000"
    print(f"directory {len(directory):,} postcodes; records {args.records:,}; area {len(area):,} OAs")
    t_duck, c_duck = run_duckdb(records_csv, reference, area)
    t_pd, c_pd = run_pandas(records_csv, directory, area)
    c_duck = {k: v for k, v in c_duck.items() if v}
    load = os.getloadavg()[0]
    print(f"load average while running: {load:.1f} on {os.cpu_count()} cores (others share the CPU)")
    print(f"duckdb end to end (ingest + geocode): wall {t_duck[0]:.2f} s, CPU {t_duck[1]:.2f} s")
    print(f"pandas baseline (read + normalise + merge + classify): wall {t_pd[0]:.2f} s, CPU {t_pd[1]:.2f} s")
    print(f"speed-up: wall {t_pd[0] / t_duck[0]:.1f}x, CPU {t_pd[1] / t_duck[1]:.1f}x")
    for k in MATCH_LEVELS + REJECT_REASONS:
        if c_duck.get(k) or c_pd.get(k):
            print(f"  {k:24s} duckdb {c_duck.get(k, 0):>9,}  pandas {c_pd.get(k, 0):>9,}")


if __name__ == "__main__":
    main()
