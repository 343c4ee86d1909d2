"""Benchmark: the record-level stages on DuckDB and on Spark local[2], on national-size data.

Uses the data of `bench/bench_geocode.py` (generated once into data/bench/, git-ignored; made here
if absent): a synthetic national postcode directory in the Code-Point Open layout (1.7M postcodes,
every one legal), N dirty records drawn from it (10,000,000 by default) and a run config over
Trafford's real boundaries and census (../shared/ons/trafford), with its reference DB.

For each engine, in a new process (`insight`'s own code: `pipeline.run.run_all(cfg, until='assign')`,
each stage timed), one after the other:

* wall seconds per stage (geography, ingest, geocode, segments, assign; on Spark the geocode
  includes handing the extract and the reference tables to Spark, and assign the aggregates back)
  and records per second of the record-level stages (ingest + geocode + assign);
* CPU seconds (user + system) of the process and of the processes it waited for (Spark's Python
  workers; the JVM only when the driver reaped it on exit, so Spark's figure is a lower bound), and
  peak memory: the largest sum of resident memory of the process tree, sampled every
  0.2 s from /proc;
* the machine's load (/proc/loadavg) before and after: other work shares these two cores.

Usage: ``.venv/bin/python bench/bench_spark.py [--records 10000000] [--engines duckdb,spark]``
(``make bench-spark``). Prints figures; docs/scale.md keeps the last run's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import bench_geocode as data  # noqa: E402

#: run in the child: every stage of the queue timed, to stdout as JSON on the last line
CHILD = r"""
import json, sys, time
from pipeline import run
from pipeline.config import load_config
times = {}
def timed(stage):
    def go(ctx):
        t0 = time.perf_counter()
        stage.run(ctx)
        times[stage.name] = time.perf_counter() - t0
    return go
run.STAGES = tuple(run.Stage(s.name, timed(s), s.check) for s in run.STAGES)
cfg = load_config(sys.argv[1])
t0 = time.perf_counter()
result = run.run_all(cfg, until=sys.argv[2], progress=False)
times["total"] = time.perf_counter() - t0
rows = int(result.summary["rows_read"].sum())
matched = int(result.summary["matched"].sum())
print(json.dumps({"times": times, "rows": rows, "matched": matched}))
"""


def area_of(config: Path) -> dict:
    """The area config with its relative paths made absolute (relative to the config's folder, as
    `load_config` reads them)."""
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    g = raw["geography"]
    for key in ("oa_boundaries", "wards", "oa_to_ward"):
        if g.get(key):
            g[key]["path"] = str((config.parent / g[key]["path"]).resolve())
    raw["census"]["dir"] = str((config.parent / raw["census"]["dir"]).resolve())
    return raw


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def measured(cmd: list[str]) -> tuple[float, float, float, str]:
    """(wall s, CPU s of the tree, peak GB of the tree, stdout) of `cmd` run as a new process."""
    peak = [0]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        before = os.times()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, text=True)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss(proc.pid))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        done.set()
        sampler.join()
        took = time.perf_counter() - t0
        after = os.times()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stdout[-3000:]}\n{stderr[-5000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return took, cpu, peak[0] / 1024 ** 3, stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--directory-rows", type=int, default=1_700_000)
    ap.add_argument("--area-config", type=Path, default=data.AREA_CONFIG)
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--until", default="assign", help="the last stage run (default: assign)")
    ap.add_argument("--spark-conf", default="{}", help="JSON of extra spark.conf settings")
    args = ap.parse_args()
    area = area_of(args.area_config.resolve())
    if not Path(area["geography"]["oa_boundaries"]["path"]).exists():
        raise SystemExit(f"the area's boundaries are absent ({area['geography']['oa_boundaries']['path']}); "
                         "pass --area-config naming a run config whose files exist")
    data.OUT.mkdir(parents=True, exist_ok=True)
    name = area["run"]
    directory = data.OUT / f"codepoint_synthetic_v2_{name}_{args.directory_rows}.csv"
    records = data.OUT / f"records_codepoint_v2_{name}_{args.records}.csv"
    reference = data.OUT / f"codepoint_v2_{name}_{args.directory_rows}.duckdb"
    if not directory.exists():
        data.make_directory(directory, args.directory_rows, area)
    if not records.exists():
        data.make_records(records, directory, args.records)
    insight = str(Path(sys.executable).with_name("insight"))
    configs = {}
    for engine in args.engines.split(","):
        config = data.OUT / f"bench_spark_{engine}_{name}.yaml"
        data.write_config(config, area, directory, reference, records)
        raw = yaml.safe_load(config.read_text(encoding="utf-8"))
        raw["run"] = f"bench_{engine}"
        raw["private_dir"] = str(data.OUT / f"run_{engine}")
        raw["outputs_dir"] = str(REPO / "outputs" / f"bench_{engine}")
        if engine == "spark":
            conf = {"spark.driver.memory": "6g", "spark.sql.shuffle.partitions": "8"}
            conf |= json.loads(args.spark_conf)
            raw["engine"], raw["spark"] = "spark", {"master": "local[2]", "conf": conf}
        config.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        configs[engine] = config
    subprocess.run([insight, "reference", str(configs[next(iter(configs))])], cwd=REPO, check=True,
                   capture_output=True)
    print(f"records {args.records:,}; directory {args.directory_rows:,} postcodes; area {name}; "
          f"{os.cpu_count()} cores; until {args.until}")
    stages = ["geography", "ingest", "geocode", "segments", "assign"]
    stages = stages[: stages.index(args.until) + 1]
    for engine, config in configs.items():
        load = data.loadavg()
        took, cpu, peak, out = measured([sys.executable, "-c", CHILD, str(config), args.until])
        got = json.loads(out.strip().splitlines()[-1])
        t = got["times"]
        record_level = sum(t.get(s, 0.0) for s in ("ingest", "geocode", "assign"))
        print(f"{engine} (load {load} -> {data.loadavg()}): {took:.1f} s wall in all, CPU {cpu:.1f} s "
              f"(the process and those it waited for), peak memory {peak:.2f} GB (process tree)")
        print("  " + "; ".join(f"{s} {t.get(s, 0.0):.1f} s" for s in stages))
        print(f"  record-level stages (ingest + geocode + assign) {record_level:.1f} s: "
              f"{got['rows'] / record_level:,.0f} records/s; {got['rows']:,} read, "
              f"{got['matched']:,} matched")


if __name__ == "__main__":
    main()
