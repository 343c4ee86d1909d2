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
* CPU seconds (user + system) of the whole process tree, sampled every 0.2 s from
  /proc/<pid>/stat: each process's own utime + stime (the JVM, where most of Spark's work runs, and
  Spark's Python workers included), the last value seen kept for a process that has exited (a
  process that lives under 0.2 s is missed); per stage, from the samples at its start and end; and,
  as before, the CPU of the processes the run's process reaped (which leaves out the JVM unless the
  driver reaped it); peak memory: the largest sum of resident memory of the process tree, sampled
  at the same times;
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
times, spans = {}, {}
def timed(stage):
    def go(ctx):
        t0, w0 = time.perf_counter(), time.time()
        stage.run(ctx)
        times[stage.name] = time.perf_counter() - t0
        spans[stage.name] = (w0, time.time())
    return go
run.STAGES = tuple(run.Stage(s.name, timed(s), s.check) for s in run.STAGES)
cfg = load_config(sys.argv[1])
t0 = time.perf_counter()
result = run.run_all(cfg, until=sys.argv[2], progress=False)
times["total"] = time.perf_counter() - t0
rows = int(result.summary["rows_read"].sum())
matched = int(result.summary["matched"].sum())
print(json.dumps({"times": times, "spans": spans, "rows": rows, "matched": matched}))
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


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants now alive (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return found


def tree_sample(pid: int, cpu: dict[tuple[int, int], float]) -> int:
    """Resident bytes of `pid` and all its descendants; records in `cpu` each one's own CPU seconds
    (utime + stime of /proc/<p>/stat, without the children it reaped, so nothing counts twice), keyed
    by (pid, start time) so that a reused pid is another process. A process keeps the last value
    seen after it exits, so the JVM and Spark's Python workers count whoever reaps them."""
    total = 0
    page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                rss = int(f.read().split()[1]) * page
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            continue
        total += rss
        # after the command's ')': field 3 (state) is fields[0], so utime (14) is fields[11],
        # stime (15) fields[12], starttime (22) fields[19]
        cpu[(p, int(fields[19]))] = (int(fields[11]) + int(fields[12])) / tick
    return total


def measured(cmd: list[str]) -> tuple[float, float, float, float, int, list[tuple[float, float]], str]:
    """(wall s, CPU s of the process tree sampled from /proc, CPU s of the processes reaped, peak GB
    of the tree, processes seen, the tree's CPU over time as (epoch s, CPU s) samples, stdout) of
    `cmd` run as a new process."""
    peak = [0]
    cpu: dict[tuple[int, int], float] = {}
    series: list[tuple[float, float]] = []
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        before = os.times()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, text=True)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_sample(proc.pid, cpu))
                series.append((time.time(), sum(cpu.values())))
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
    reaped = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return took, sum(cpu.values()), reaped, peak[0] / 1024 ** 3, len(cpu), series, stdout


def cpu_between(series: list[tuple[float, float]], start: float, end: float) -> float:
    """CPU seconds the tree spent from `start` to `end` (epoch s): the last sample at or before each
    (samples every 0.2 s, so each end is off by at most that much of the tree's CPU)."""
    def at(t: float) -> float:
        before = [c for s, c in series if s <= t]
        return before[-1] if before else 0.0
    return at(end) - at(start)


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
        took, cpu, reaped, peak, seen, series, out = measured(
            [sys.executable, "-c", CHILD, str(config), args.until])
        got = json.loads(out.strip().splitlines()[-1])
        t = got["times"]
        record_level = sum(t.get(s, 0.0) for s in ("ingest", "geocode", "assign"))
        print(f"{engine} (load {load} -> {data.loadavg()}): {took:.1f} s wall in all, CPU {cpu:.1f} s "
              f"(process tree from /proc, {seen} processes: the JVM and Python workers included; "
              f"{reaped:.1f} s reaped), peak memory {peak:.2f} GB (process tree)")
        print("  " + "; ".join(f"{s} {t.get(s, 0.0):.1f} s" for s in stages))
        spent = {s: cpu_between(series, *got["spans"][s]) for s in stages if s in got["spans"]}
        print("  CPU (process tree): " + "; ".join(f"{s} {spent.get(s, 0.0):.1f} s" for s in stages))
        print(f"  record-level stages (ingest + geocode + assign) {record_level:.1f} s: "
              f"{got['rows'] / record_level:,.0f} records/s; {got['rows']:,} read, "
              f"{got['matched']:,} matched")
        level_cpu = sum(spent.get(s, 0.0) for s in ("ingest", "geocode", "assign"))
        print(f"  record-level CPU (ingest + geocode + assign) {level_cpu:.1f} s: "
              f"{level_cpu / got['rows'] * 1e6:.1f} CPU-s a million records")


if __name__ == "__main__":
    main()
