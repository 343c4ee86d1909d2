"""Benchmark `python -m segments` on national-size census files: prints wall time and peak memory.

The census tables are those of the synthetic nation of `bench_area.py` (made once into
bench/.cache/area/ if missing): 25 Nomis bulk tables of 188,880 Output Areas with the real
tables' headers and pseudo-random counts. Their OA files are unpacked into
bench/.cache/segments_cli/census/ and classified by a census-only config (`scope: census`, k 8 / 3 /
2 from the defaults) with the default diagnostics (`make segments`: 5 other seeds, 20 bootstrap
resamples), in a child process whose peak resident memory is read from the operating system.
Counts drawn at random have no neighbourhood structure, so k-means restarts rarely agree: this is
the slow case for the adaptive restarts, which then run to their floor and time cap.
Target (issue 16): <= 4 minutes. Run: .venv/bin/python bench/bench_segments_cli.py
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from bench_area import SOURCES, make_nation  # noqa: E402

CACHE = BENCH / ".cache" / "segments_cli"


def unpack_census() -> tuple[Path, int]:
    """The OA file of every census zip of the synthetic nation, unpacked once: (folder, tables)."""
    folder = CACHE / "census"
    zips = sorted(SOURCES.glob("census2021-*.zip"))
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for path in zips:
            with zipfile.ZipFile(path) as z:
                z.extractall(folder, [m for m in z.namelist() if m.endswith("-oa.csv")])
        (folder / ".complete").write_text("done\n")
    return folder, len(zips)


def write_config(census: Path) -> Path:
    """A census-only config: every OA in the tables is classified; nothing is profiled."""
    out = CACHE / "run"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cfg = {"run": "national", "area_name": "England and Wales (synthetic)",
           "outputs_dir": str(out / "outputs"), "private_dir": str(out / "data"),
           "census": {"dir": str(census), "pattern": "census2021-{table}-oa.csv"},
           "segmentation": {"scope": "census"}}
    path = out / "national.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    make_nation()
    census, tables = unpack_census()
    config = write_config(census)
    print(f"census: {tables} tables x 188,880 Output Areas in {census}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "segments", str(config)], cwd=REPO,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    print(proc.stdout)
    if proc.returncode != 0:
        raise SystemExit(f"python -m segments failed (exit {proc.returncode}):\n{proc.stderr}")
    print(f"python -m segments, national census-only config with default diagnostics: {wall:.1f} s "
          f"wall ({wall / 60:.1f} min), peak memory {peak:.2f} GB (target <= 4 minutes)")


if __name__ == "__main__":
    main()
