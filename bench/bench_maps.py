"""Benchmark: the Trafford segment map (738 OAs): file size and time to open in Chromium.

    .venv/bin/python bench/bench_maps.py [--runs 3]

OA boundaries: ../shared/ons/trafford/boundaries/oa21_bgc.geojson; classification: the
Trafford run's outputs/trafford/segments/ when present, else the official 2021 OAC
assignment (supergroups). Prints the build time, the file size (target <= 2 MB), and the
time to open it in headless Chromium with the network blocked (target < 2 s): in-page time
from navigation start to the end of the load event (Leaflet set up and every polygon
drawn), and the wall time of the whole Chromium process (start-up included).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.render.maps import segment_map  # noqa: E402
from pipeline.render.screenshots import chromium_flags, find_chromium  # noqa: E402
from pipeline.render.segment_info import supergroup_of  # noqa: E402
from segments.palette import supergroup_colours  # noqa: E402

TRAFFORD = REPO.parent / "shared" / "ons" / "trafford"
_TIMER = """<script>window.addEventListener('load', function () { setTimeout(function () {
document.documentElement.setAttribute('data-load-ms', String(performance.now())); }, 0); });</script>"""


def classification() -> tuple[pd.DataFrame, str]:
    run = REPO / "outputs" / "trafford" / "segments"
    if (run / "segments_oa.csv").exists() and (run / "segment_names.csv").exists():
        from pipeline.render.segment_info import load_segments

        oa, names = load_segments(run)
        return oa[["oa21cd", "segment"]].merge(
                        names[["segment", "segment_name", "colour", "supergroup", "supergroup_name"]],
                        on="segment", how="left"), "outputs/trafford/segments (Trafford run)"
    a = pd.read_csv(TRAFFORD / "oac2021" / "trafford_oac2021_assignment.csv", dtype=str)
    oa = pd.DataFrame({"oa21cd": a["Geography_Code"], "segment": a["Supergroup"]})
    oa["supergroup"] = oa["segment"].map(supergroup_of)
    oa["segment_name"] = "OAC supergroup " + oa["segment"]
    oa["supergroup_name"] = oa["segment_name"]
    oa["colour"] = oa["supergroup"].map(supergroup_colours(sorted(set(oa["supergroup"]))))  # the one palette
    return oa, "official 2021 OAC assignment"


def open_time(chromium: str, page: Path) -> tuple[float, float, int]:
    work = Path(tempfile.mkdtemp(prefix="bench-maps-"))
    try:
        timed = work / page.name
        html = page.read_text(encoding="utf-8")
        m = re.search(r"<head[^>]*>", html)
        timed.write_text(html[: m.end()] + _TIMER + html[m.end():], encoding="utf-8")
        t0 = time.perf_counter()
        flags = chromium_flags(work / "profile", virtual_time_ms=None)
        proc = subprocess.run([chromium, *flags, "--dump-dom", timed.as_uri()], capture_output=True,
                              text=True, timeout=120, check=True)
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m = re.search(r'data-load-ms="([\d.]+)"', proc.stdout)
    paths = len(re.findall(r"<path\b[^>]*leaflet-interactive", proc.stdout))
    if not m:
        raise RuntimeError("the page did not report its load time")
    return float(m.group(1)) / 1000, wall, paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "trafford_segment_map.html")
    args = parser.parse_args()
    oas = gpd.read_file(TRAFFORD / "boundaries" / "oa21_bgc.geojson")
    code = next(c for c in oas.columns if c.upper() in ("OA21CD", "AREA_CODE"))
    oas = oas.rename(columns={code: "oa21cd"})[["oa21cd", "geometry"]]
    table, source = classification()
    layer = oas.merge(table, on="oa21cd", how="inner")
    layer["legend_key"], layer["legend_label"] = layer["supergroup"], layer["supergroup_name"]
    layer["portrait"] = [f"portraits/segment_{s}.html" for s in layer["segment"]]
    t0 = time.perf_counter()
    segment_map(layer, args.out, "Neighbourhood segments: Trafford")
    build = time.perf_counter() - t0
    size = args.out.stat().st_size
    print(f"classification: {source}")
    print(f"OAs mapped: {len(layer)}")
    print(f"build: {build:.2f} s")
    print(f"file: {args.out}  size: {size / 1e6:.3f} MB ({size:,} bytes)  target <= 2 MB: "
          f"{'OK' if size <= 2_000_000 else 'OVER'}")
    chromium = find_chromium()
    if not chromium:
        print("chromium not found: open time not measured")
        return 1
    blank = args.out.with_name("blank.html")
    blank.write_text("<!DOCTYPE html><html><head><title>blank</title></head></html>", encoding="utf-8")
    _, blank_wall, _ = open_time(chromium, blank)
    print(f"baseline: chromium wall for an empty page {blank_wall:.2f} s (start-up and shut-down)")
    for i in range(args.runs):
        page_s, wall_s, paths = open_time(chromium, args.out)
        print(f"open {i + 1}: in-page load {page_s:.2f} s  chromium wall {wall_s:.2f} s  "
              f"polygons drawn {paths}  target < 2 s: {'OK' if page_s < 2 else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
