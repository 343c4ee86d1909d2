"""Benchmark (a): 1,000,000 dirty records geocoded through the CLI against a national-size
Code-Point-layout postcode directory (1.7M postcodes), beside a plain DuckDB baseline.

Generates (once, into data/bench/, git-ignored):

* a synthetic national postcode directory in the OS Code-Point Open layout (no OAs: each postcode
  is a point), every postcode legal by the letter-position rules of `pipeline.address.postcode`;
  one in 50 points lies in one of the area's OAs, the rest across Great Britain;
* a CSV of dirty records drawn from it (mostly from the area), with the messy forms people write;
* a run config over the area's real boundaries, OA->ward lookup and census (Trafford by default,
  from ../shared/ons/trafford) naming that directory and a reference DB, which it builds before
  timing (`boundaries.reference`, not timed).

Then measures, in the same run and one after the other (``--repeat`` times each, median shown):

* **CLI end to end**: ``insight run <config> --until geocode --quiet`` as a new process: imports,
  config validation, the geography stage (reference attached, the directory's points in the area
  placed in its OAs), ingest and geocode, warehouse written;
* **DuckDB baseline**: a plain script in a new process that imports only duckdb, reads the same
  CSV, normalises the postcode with the same `pc_key` macro, joins to the same reference DB and
  counts rows by outcome (no row accounting, corrections, OAs or writing).

Prints both, their ratio, the machine's load (/proc/loadavg) before and after, and the outcome
counts of both (the baseline does not place points in OAs, so its `postcode_found` is the CLI's
live postcodes plus out of area), and the CPU seconds and peak memory (maxrss) of each process.
``--breakdown`` adds where the CLI's time goes: the last CLI run's statements by name, from the
per-statement timings of its sql.log (rows, seconds), and the parts of one run in one process.
Bar: CLI <= 2.5x the baseline (and <= 4 s at 1M records).
Usage: ``.venv/bin/python bench/bench_geocode.py [--records 10000000] [--breakdown]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.address import postcode  # noqa: E402
from pipeline.geocode import MATCH_LEVELS, REJECT_REASONS  # noqa: E402

OUT = REPO / "data" / "bench"
AREA_CONFIG = REPO / "config" / "examples" / "trafford.yaml"
#: the Code-Point Open columns (OS), as the run config names them (`oa: null`: points only)
CODEPOINT_COLUMNS = {"postcode": "Postcode", "oa": None, "ward": None, "lad": "Admin_district_code",
                     "easting": "Eastings", "northing": "Northings", "terminated": None, "live_flag": None,
                     "grid_quality": None, "user_type": None}
#: legal letters by position (pipeline.address.postcode): area first letter, second letter, unit
FIRST = postcode._FIRST
SECOND = postcode._SECOND
UNIT = postcode._UNIT
#: one postcode in IN_AREA_EVERY has its point in one of the area's OAs
IN_AREA_EVERY = 50


def area_points(cfg: dict, n: int, seed: int = 1) -> pd.DataFrame:
    """`n` random points (EPSG:27700, whole metres) inside the area's OAs, as columns j, x, y."""
    import geopandas as gpd

    spec = cfg["geography"]["oa_boundaries"]
    area = gpd.read_file(spec["path"]).to_crs("EPSG:27700").union_all()
    pts = gpd.GeoSeries([area], crs="EPSG:27700").sample_points(n, rng=seed).explode(index_parts=False)
    return pd.DataFrame({"j": range(len(pts)), "x": pts.x.round().to_numpy(), "y": pts.y.round().to_numpy()})


def make_directory(path: Path, rows: int, area: dict) -> None:
    """Code-Point-layout CSV of `rows` legal postcodes AA9 9AA / AA99 9AA: 23 first letters x 23
    second letters (no Q, V, X first; no I, J, Z second) x districts 1-60 x sectors 0-9 x 400
    units (two of the 20 unit letters). Every IN_AREA_EVERY-th point lies in one of the area's OAs,
    the others anywhere in Great Britain's grid; one in 997 has no coordinates (0, 0 and quality 90,
    as Code-Point writes them)."""
    con = duckdb.connect()
    con.register("area_pts", area_points(area, rows // IN_AREA_EVERY + 1))
    con.execute(
        f"""COPY (
            WITH i AS (SELECT range AS i FROM range({rows})),
            parts AS (
                SELECT i,
                       substr('{FIRST}', 1 + CAST((i // 240000) % {len(FIRST)} AS INTEGER), 1)
                           || substr('{SECOND}', 1 + CAST((i // 240000 // {len(FIRST)} + i // 4000 % 7)
                                                          % {len(SECOND)} AS INTEGER), 1) AS area,
                       1 + (i // 4000) % 60 AS district, (i // 400) % 10 AS sector,
                       substr('{UNIT}', 1 + CAST((i // 20) % 20 AS INTEGER), 1)
                           || substr('{UNIT}', 1 + CAST(i % 20 AS INTEGER), 1) AS unit,
                       hash(i, 'x') % 1000000 / 1e6 AS u, hash(i, 'y') % 1000000 / 1e6 AS v
                FROM i),
            placed AS (SELECT parts.*, a.x, a.y FROM parts LEFT JOIN area_pts a
                       ON parts.i % {IN_AREA_EVERY} = 0 AND a.j = parts.i // {IN_AREA_EVERY})
            SELECT area || district || ' ' || sector || unit AS "Postcode",
                   CASE WHEN i % 997 = 0 THEN 90 ELSE 10 END AS "Positional_quality_indicator",
                   CASE WHEN i % 997 = 0 THEN 0
                        WHEN i % {IN_AREA_EVERY} = 0 THEN x
                        ELSE round(100000 + u * 550000) END AS "Eastings",
                   CASE WHEN i % 997 = 0 THEN 0
                        WHEN i % {IN_AREA_EVERY} = 0 THEN y
                        ELSE round(10000 + v * 990000) END AS "Northings",
                   'E92000001' AS "Country_code", 'E19000001' AS "NHS_regional_HA_code",
                   'E18000001' AS "NHS_HA_code", '' AS "Admin_county_code",
                   'E0' || lpad(CAST(6000000 + i // 20000 AS VARCHAR), 7, '0') AS "Admin_district_code",
                   'E05' || lpad(CAST(i // 2000 AS VARCHAR), 6, '0') AS "Admin_ward_code"
            FROM placed ORDER BY i) TO '{path.as_posix()}' (HEADER, DELIMITER ',')"""
    )
    con.close()


def make_records(path: Path, directory: Path, n: int, seed: int = 1) -> None:
    """Dirty records, 80% from the postcodes placed in the area and 20% from anywhere: 5% lower
    case, 6% unspaced, 2% with punctuation or a dash, 1% with an I for a 1, 0.5% district only,
    0.5% N/A, 1% blank, 2% not in the directory (a legal district the directory lacks)."""
    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed / 10})")
    con.execute(
        f"""COPY (
            WITH d AS (SELECT "Postcode" AS pcds, row_number() OVER () - 1 AS i
                       FROM read_csv('{directory.as_posix()}', all_varchar = true)),
            near AS (SELECT pcds, row_number() OVER (ORDER BY i) AS k FROM d WHERE i % {IN_AREA_EVERY} = 0),
            anywhere AS (SELECT pcds, i + 1 AS k FROM d),
            r AS (SELECT range AS id, random() AS u, random() < 0.8 AS local, random() AS pick
                  FROM range({n})),
            drawn AS (
                SELECT r.id, r.u, coalesce(n.pcds, a.pcds) AS pcds FROM r
                LEFT JOIN near n ON r.local AND n.k = 1 + CAST(floor(r.pick * (SELECT count(*) FROM near))
                                                              AS BIGINT)
                LEFT JOIN anywhere a
                       ON NOT r.local AND a.k = 1 + CAST(floor(r.pick * (SELECT count(*) FROM d)) AS BIGINT))
            SELECT 'R' || id AS "Record ID",
                   CASE WHEN u < 0.05 THEN lower(pcds)
                        WHEN u < 0.11 THEN replace(pcds, ' ', '')
                        WHEN u < 0.12 THEN pcds || '.'
                        WHEN u < 0.13 THEN replace(pcds, ' ', '-')
                        WHEN u < 0.14 THEN replace(pcds, ' 1', ' I')
                        WHEN u < 0.145 THEN split_part(pcds, ' ', 1)
                        WHEN u < 0.15 THEN 'N/A'
                        WHEN u < 0.16 THEN ''
                        WHEN u < 0.18 THEN regexp_replace(pcds, '[0-9]+ ', '99 ')  -- no district 99
                        ELSE pcds END AS "Post Code",
                   'Some note' AS "Note"
            FROM drawn ORDER BY id) TO '{path.as_posix()}' (HEADER, DELIMITER ',')"""
    )
    con.close()


def write_config(path: Path, area: dict, directory: Path, reference: Path, records: Path) -> None:
    """The bench's run config: the area's geography and census, the directory and the records."""
    cfg = {k: area[k] for k in ("area_name", "lad_code", "seed", "census", "segmentation") if k in area}
    cfg["run"] = "bench_geocode"
    cfg["geography"] = {k: v for k, v in area["geography"].items() if k != "postcode_directory"}
    cfg["geography"]["postcode_directory"] = {"path": str(directory), "columns": CODEPOINT_COLUMNS,
                                              "reference_db": str(reference)}
    cfg["services"] = [{"name": "bench", "label": "Bench", "file": str(records),
                        "columns": {"record_id": "Record ID", "postcode": "Post Code"}}]
    cfg["private_dir"] = str(OUT / "run")  # outputs: outputs/bench_geocode/ (--until geocode: none)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")


def absolute_area(config: Path) -> dict:
    """The area config with its relative paths made absolute (a config's relative paths are read
    from its own folder, `pipeline.paths.anchored`)."""
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    g = raw["geography"]
    for key in ("oa_boundaries", "wards", "oa_to_ward"):
        if g.get(key):
            g[key]["path"] = str((config.parent / g[key]["path"]).resolve())
    raw["census"]["dir"] = str((config.parent / raw["census"]["dir"]).resolve())
    return raw


BASELINE = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import duckdb
    records, reference, macros = sys.argv[1:4]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(macros)
    con.execute(f"ATTACH '{reference}' AS ref (READ_ONLY)")
    rows = con.execute(f'''
        SELECT outcome, count(*) FROM (
            SELECT CASE WHEN r.k = '' THEN 'missing_postcode'
                        WHEN pc_partial(r.k) THEN 'partial_postcode'
                        WHEN NOT pc_valid(r.k) THEN 'invalid_postcode'
                        WHEN p.pc_key IS NULL THEN 'postcode_not_found'
                        WHEN p.easting IS NULL THEN 'postcode_no_oa'
                        ELSE 'postcode_found' END AS outcome
            FROM (SELECT pc_key("Post Code") AS k
                  FROM read_csv('{records}', all_varchar = true, header = true)) r
            LEFT JOIN ref.postcodes p ON p.pc_key = r.k)
        GROUP BY ALL''').fetchall()
    con.close()
    print(json.dumps({"seconds_in_script": time.perf_counter() - t0, "counts": dict(rows)}))
""")

BREAKDOWN = textwrap.dedent("""
    import json, sys, time
    marks = {}
    t = time.perf_counter()
    from pipeline.cli import build_parser
    build_parser()
    marks["imports (pipeline.cli and its parser)"] = time.perf_counter() - t
    from pipeline.run import run_all
    from pipeline.ingest import privacy_warnings
    from pipeline.validate import validate_config
    t = time.perf_counter()
    cfg = validate_config(sys.argv[1])
    marks["insight validate (every file and column checked)"] = time.perf_counter() - t
    t = time.perf_counter()
    privacy_warnings(cfg)
    marks["privacy warnings (extract headers)"] = time.perf_counter() - t
    t = time.perf_counter()
    run_all(cfg, until="geography", progress=False)
    marks["stage geography (reference attached, points placed in OAs)"] = time.perf_counter() - t
    t = time.perf_counter()
    run_all(cfg, until="geocode", progress=False)
    marks["stages geography + ingest + geocode"] = time.perf_counter() - t
    print(json.dumps(marks))
""")


#: (CPU seconds, peak resident GB) of the last process `timed` ran
LAST_USAGE: list[float] = [0.0, 0.0]


def timed(cmd: list[str]) -> tuple[float, str]:
    """Run `cmd` as a new process; return (wall seconds, its stdout). Its CPU seconds (user + system)
    and peak resident memory (GB, the kernel's maxrss) go to LAST_USAGE."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU and peak memory
        took = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    LAST_USAGE[:] = [usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024 / 1024]
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stdout}\n{stderr}")
    return took, stdout


def sql_breakdown(log: Path, top: int = 14) -> list[tuple[str, int, float]]:
    """The statements of the run whose sql.log is `log`, by name: (name, rows of its last run,
    seconds summed), the costliest `top` first (each statement's line: `-- sql NAME: ROWS rows, S s`)."""
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        m = re.match(r"-- sql (\S+): (\S+) rows, ([0-9.]+) s", line)
        if m:
            seconds[m[1]] = seconds.get(m[1], 0.0) + float(m[3])
            rows[m[1]] = 0 if m[2] == "-" else int(m[2].replace(",", ""))
    return sorted(((k, rows[k], v) for k, v in seconds.items()), key=lambda t: -t[2])[:top]


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ")[0]
    except OSError:
        return f"{os.getloadavg()[0]:.2f}"


def cli_counts() -> dict[str, int]:
    warehouse = OUT / "run" / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("SELECT coalesce(match_level, reject_reason), count(*) FROM geocode_bench "
                           "GROUP BY ALL").fetchall()
    finally:
        con.close()
    return dict(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--directory-rows", type=int, default=1_700_000)
    ap.add_argument("--area-config", type=Path, default=AREA_CONFIG,
                    help="run config whose geography and census give the area (default: Trafford)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each (median shown)")
    ap.add_argument("--breakdown", action="store_true", help="also time the CLI's parts in one process")
    args = ap.parse_args()
    area = absolute_area(args.area_config)
    if not Path(area["geography"]["oa_boundaries"]["path"]).exists():
        raise SystemExit(f"the area's boundaries are absent ({area['geography']['oa_boundaries']['path']}); "
                         "pass --area-config naming a run config whose files exist")
    OUT.mkdir(parents=True, exist_ok=True)
    name = area["run"]
    directory = OUT / f"codepoint_synthetic_v2_{name}_{args.directory_rows}.csv"
    records = OUT / f"records_codepoint_v2_{name}_{args.records}.csv"
    reference = OUT / f"codepoint_v2_{name}_{args.directory_rows}.duckdb"
    config = OUT / f"bench_geocode_{name}.yaml"
    if not directory.exists():
        t0 = time.perf_counter()
        make_directory(directory, args.directory_rows, area)
        print(f"directory written in {time.perf_counter() - t0:.1f} s: {directory}")
    if not records.exists():
        make_records(records, directory, args.records)
    write_config(config, area, directory, reference, records)
    insight = str(Path(sys.executable).with_name("insight"))
    took, out = timed([insight, "reference", str(config)])
    print(f"reference DB ({took:.1f} s): {out.strip()}")
    con = duckdb.connect(str(reference), read_only=True)
    n_pc = con.execute("SELECT count(*) FROM postcodes").fetchall()[0][0]
    con.close()
    check = duckdb.connect()
    postcode.install(check)
    n_bad = check.execute(f"SELECT count(*) FILTER (NOT pc_valid(pc_key(\"Postcode\"))) FROM "
                          f"read_csv('{directory.as_posix()}', all_varchar = true)").fetchall()[0][0]
    check.close()
    print(f"directory {n_pc:,} postcodes ({n_bad} break the letter-position rules); "
          f"records {args.records:,}; area {name}")

    macros = postcode.MACROS
    cli_cmd = [insight, "run", str(config), "--until", "geocode", "--quiet"]
    base_cmd = [sys.executable, "-c", BASELINE, str(records), str(reference), macros]
    cli_t, base_t, in_script, loads = [], [], [], [loadavg()]
    cli_use, base_use = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same load
        took, _ = timed(cli_cmd)
        cli_t.append(took)
        cli_use.append(tuple(LAST_USAGE))
        took, out = timed(base_cmd)
        base_t.append(took)
        base_use.append(tuple(LAST_USAGE))
        result = json.loads(out.strip().splitlines()[-1])
        in_script.append(result["seconds_in_script"])
        loads.append(loadavg())
    cli, base = statistics.median(cli_t), statistics.median(base_t)
    print(f"load average (1 min, /proc/loadavg) before and after each pair: {' '.join(loads)} "
          f"on {os.cpu_count()} cores (others share the CPU)")
    print(f"CLI end to end (insight run --until geocode): median {cli:.2f} s wall "
          f"[{' '.join(f'{t:.2f}' for t in cli_t)}]")
    print(f"DuckDB baseline (read + pc_key + join + count, new process): median {base:.2f} s wall "
          f"[{' '.join(f'{t:.2f}' for t in base_t)}]; inside the script {statistics.median(in_script):.2f} s")
    print(f"ratio CLI / baseline: {cli / base:.2f}x (bar: <= 2.5x; at 1M also CLI <= 4 s)")
    for who, use in (("CLI", cli_use), ("baseline", base_use)):
        print(f"{who}: CPU (user + system) median {statistics.median(u[0] for u in use):.1f} s "
              f"[{' '.join(f'{u[0]:.1f}' for u in use)}]; peak memory (maxrss) max "
              f"{max(u[1] for u in use):.2f} GB [{' '.join(f'{u[1]:.2f}' for u in use)}]")
    got, want = cli_counts(), result["counts"]
    for k in [*MATCH_LEVELS, *REJECT_REASONS, "postcode_found"]:
        if got.get(k) or want.get(k):
            print(f"  {k:24s} CLI {got.get(k, 0):>9,}  baseline {want.get(k, 0):>9,}")
    if args.breakdown:
        print(f"where the last CLI run's SQL time went (data/bench/run/sql.log: statement, rows, seconds; "
              f"load {loadavg()}):")
        for stmt, n, secs in sql_breakdown(OUT / "run" / "sql.log"):
            print(f"  {stmt:40s} {n:>12,} rows {secs:7.2f} s")
        _, out = timed([sys.executable, "-c", BREAKDOWN, str(config)])
        print(f"where the CLI's time goes (one process, load {loadavg()}):")
        for part, secs in json.loads(out.strip().splitlines()[-1]).items():
            print(f"  {part:62s} {secs:5.2f} s")


if __name__ == "__main__":
    main()
