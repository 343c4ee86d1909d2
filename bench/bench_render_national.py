"""Benchmark: the maps of a run over all of England and Wales, at each map level.

    .venv/bin/python bench/bench_render_national.py [--oas 188880 --wards 7000 --lads 331]
        [--oa-sizes 2000,5000,10000,20000] [--full-oa] [--no-browser]
        [--only pages,services,guide]

Builds synthetic England-and-Wales-sized geometry in EPSG:27700 (seeded, the same every run):
``--oas`` Output Areas, the Voronoi cells of random points over a square of England and Wales's
area (151,000 km2), their edges cut every 40 m and every vertex moved by a smooth function of its
position (so neighbours keep shared edges shared and a boundary has detail to simplify, as a
full-resolution boundary has); ``--wards`` wards, each the OAs nearest one of as many random
points, dissolved; ``--lads`` local authorities, each the wards nearest one of as many points.
Each area gets census-like households, each OA a segment (12 segments in 4 supergroups), and each
ward a row of a table shaped like the published ward profile (``<name>_profile_ward.csv``: display
strings, the suppression symbol where a small count is withheld).

Then it writes, with the render stage's own functions (``pipeline.render.visuals.ward_layer``,
``maps.layered_map``, ``maps.segment_map``, ``render.areas.segment_area_layer``, the
simplification and rounding of ``maps.geometry.level_geometry``), and prints for each page: the
level, the features drawn, the HTML size, the GeoJSON in it (the HTML less an empty map page), the
time to write it, and (when Chromium is installed) the time to open it in headless Chromium with
the network blocked: in-page time from navigation start to the end of the load event (Leaflet set
up and every polygon drawn), and the wall time of the Chromium process.

* the service map at ``ward`` (``visuals.service_layers``: the index layer of every ward);
* the segment map at ``ward`` (every ward in its most common segment) and at ``lad``;
* the service map's wards at the ``lad`` level's simplification (what a run past the ward budget
  draws, since no table by local authority is published), and a LAD-shaped table's map;
* the segment map at ``oa`` for blocks of ``--oa-sizes`` neighbouring OAs, to find how many OAs a
  page holds (``--full-oa`` adds every OA: minutes to write, and a page no browser holds);
* ``services``: two service maps at ``ward`` (two ward tables), each preparing the wards itself
  (as before the render stage prepared them once a run) and then with the wards prepared once
  (``visuals.service_map_wards``) and handed to both, the maps compared byte for byte;
* ``guide``: the segment guide's maps (``render.guide``: a thumbnail a segment of 12 groups in
  4 supergroups and the overview, every Output Area a path in each).

``--only`` picks the groups (default all: ``pages`` is the list above the last two).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.config import BNG  # noqa: E402
from pipeline.publish.tables import PublishedTable  # noqa: E402
from pipeline.render import guide as segment_guide  # noqa: E402
from pipeline.render.areas import segment_area_layer  # noqa: E402
from pipeline.render.maps import layered_map, segment_map  # noqa: E402
from pipeline.render.maps.geometry import dissolve, level_geometry  # noqa: E402
from pipeline.render.maps.level import BUDGET_BYTES, map_level  # noqa: E402
from pipeline.render.screenshots import chromium_flags, find_chromium  # noqa: E402
from pipeline.render.visuals import (  # noqa: E402
    SEGMENT_DECIMALS,
    service_layers,
    service_map_wards,
    ward_layer,
)

#: England and Wales: 151,000 km2 as a square
SIDE_M = 388_600.0
ORIGIN = (150_000.0, 150_000.0)
SEGMENT_M = 40.0
SYMBOL = "#"
_TIMER = """<script>window.addEventListener('load', function () { setTimeout(function () {
document.documentElement.setAttribute('data-load-ms', String(performance.now())); }, 0); });</script>"""


def _wiggle(xy: np.ndarray) -> np.ndarray:
    """A smooth displacement of every vertex by its position (at most about 134 m, in waves of 37 m
    to 1.5 km, as boundaries follow streets, streams and fields), the same for a vertex two polygons
    share, so a coverage stays a coverage (the displacement's slope stays well under 1)."""
    x, y = xy[:, 0], xy[:, 1]
    dx, dy = np.zeros_like(x), np.zeros_like(y)
    for k, (w, a) in enumerate(((37.0, 6.0), (113.0, 10.0), (301.0, 18.0), (797.0, 40.0), (1511.0, 60.0))):
        dx += a * np.sin(x / w + 1.3 * k) * np.cos(y / (w * 1.7) + 0.7 * k)
        dy += a * np.cos(x / (w * 1.3) + 0.4 * k) * np.sin(y / w + 1.1 * k)
    return np.column_stack([x + dx, y + dy])


def national(n_oas: int, n_wards: int, n_lads: int, seed: int = 25):
    """(oas, wards, lads, ref): OA, ward and LAD polygons (code, geometry; EPSG:27700) and the
    OA lookup (oa21cd, ward_code, lad_code, households)."""
    rng = np.random.default_rng(seed)
    x0, y0 = ORIGIN
    box = shapely.box(x0, y0, x0 + SIDE_M, y0 + SIDE_M)
    points = rng.uniform(0, SIDE_M, (n_oas, 2)) + [x0, y0]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=box))
    cells = shapely.intersection(cells, box)
    order = shapely.STRtree(cells).query(shapely.points(points), predicate="within")
    cells = cells[order[1][np.argsort(order[0])]]  # cell i holds point i
    cells = shapely.transform(shapely.segmentize(cells, SEGMENT_M), _wiggle)
    ward_seeds = rng.uniform(0, SIDE_M, (n_wards, 2)) + [x0, y0]
    ward_of = cKDTree(ward_seeds).query(points)[1]
    lad_of_ward = cKDTree(rng.uniform(0, SIDE_M, (n_lads, 2)) + [x0, y0]).query(ward_seeds)[1]
    oa_codes = np.array([f"E{i:08d}" for i in range(n_oas)])
    ward_codes = np.array([f"E05{i:06d}" for i in range(n_wards)])
    lad_codes = np.array([f"E06{i:06d}" for i in range(n_lads)])
    oas = gpd.GeoDataFrame({"code": oa_codes}, geometry=cells, crs=BNG)
    ref = pd.DataFrame({"oa21cd": oa_codes, "ward_code": ward_codes[ward_of],
                        "lad_code": lad_codes[lad_of_ward[ward_of]],
                        "households": rng.integers(90, 200, n_oas)})
    wards = dissolve(oas, ref["ward_code"])
    wards["name"] = [f"Ward {c[-4:]} {'Park' if i % 3 else 'Riverside'}" for i, c in enumerate(wards["code"])]
    ward_lad = ref.drop_duplicates("ward_code").set_index("ward_code")["lad_code"]
    lads = dissolve(wards, wards["code"].map(ward_lad))
    lads["name"] = [f"Authority {c[-3:]}" for c in lads["code"]]
    return oas, wards, lads, ref


def profile_table(areas: gpd.GeoDataFrame, households: pd.Series, rng: np.random.Generator) -> PublishedTable:
    """A table shaped like the published ward profile (display strings; the symbol where a count
    under 10 is withheld, and what it would give away with it)."""
    n = len(areas)
    hh = households.reindex(areas["code"]).to_numpy()
    users = rng.binomial(hh, rng.uniform(0.002, 0.12, n))
    total_users, total_hh = users.sum(), hh.sum()
    pen = 100 * users / hh
    index = pen / (100 * total_users / total_hh) * 100
    frame = pd.DataFrame({
        "segment_code": areas["code"].to_numpy(), "segment_name": areas["name"].to_numpy(),
        "service_count": [f"{u}" for u in users],
        "service_pct": [f"{100 * u / total_users:.2f}" for u in users],
        "base_count": [f"{h}" for h in hh], "base_pct": [f"{100 * h / total_hh:.2f}" for h in hh],
        "penetration_pct": [f"{p:.2f}" for p in pen], "index": [f"{i:.0f}" for i in index],
        "penetration_lower": [f"{p * 0.85:.2f}" for p in pen],
        "penetration_upper": [f"{p * 1.15:.2f}" for p in pen],
        "index_lower": [f"{i * 0.85:.0f}" for i in index], "index_upper": [f"{i * 1.15:.0f}" for i in index],
    })
    hidden = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    small = users < 10
    for col in ("service_count", "service_pct", "penetration_pct", "index", "penetration_lower",
                "penetration_upper", "index_lower", "index_upper"):
        hidden.loc[small, col] = True
        frame.loc[small, col] = SYMBOL
    total = {c: "" for c in frame.columns}
    total.update(segment_code="Total", segment_name="Total", service_count=str(total_users),
                 base_count=str(total_hh), penetration_pct=f"{100 * total_users / total_hh:.2f}", index="100")
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    hidden = pd.concat([hidden, pd.DataFrame([dict.fromkeys(hidden.columns, False)])], ignore_index=True)
    return PublishedTable(frame, hidden, "bench_profile_ward.csv", SYMBOL)


def segments(ref: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each OA's segment (spatially clustered: by its ward, mostly) and the segment names."""
    codes = [f"{s}{g}" for s in "1234" for g in "abc"]
    colours = {"1": "#1b9e77", "2": "#d95f02", "3": "#7570b3", "4": "#e7298a"}
    ward_seg = {w: codes[i % len(codes)] for i, w in enumerate(sorted(set(ref["ward_code"])))}
    own = ref["ward_code"].map(ward_seg).to_numpy()
    other = np.array(codes)[rng.integers(0, len(codes), len(ref))]
    oa_segments = pd.DataFrame({"oa21cd": ref["oa21cd"],
                                "segment": np.where(rng.random(len(ref)) < 0.6, own, other)})
    names = pd.DataFrame({"segment": codes, "segment_name": [f"Segment {c} households" for c in codes],
                          "colour": [colours[c[0]] for c in codes], "supergroup": [c[0] for c in codes],
                          "supergroup_name": [f"Supergroup {c[0]}" for c in codes]})
    return oa_segments, names


def open_time(chromium: str, page: Path, timeout: float) -> tuple[float | None, float]:
    """(in-page load seconds or None, Chromium wall seconds) for *page*, network blocked."""
    work = Path(tempfile.mkdtemp(prefix="bench-national-"))
    try:
        timed = work / page.name
        html = page.read_text(encoding="utf-8")
        m = re.search(r"<head[^>]*>", html)
        timed.write_text(html[: m.end()] + _TIMER + html[m.end():], encoding="utf-8")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([chromium, *chromium_flags(work / "profile", virtual_time_ms=None),
                                   "--dump-dom", timed.as_uri()], capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return None, time.perf_counter() - t0
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m = re.search(r'data-load-ms="([\d.]+)"', proc.stdout)
    return (float(m.group(1)) / 1000 if m else None), wall


def two_services(wards: gpd.GeoDataFrame, first: gpd.GeoDataFrame, second: gpd.GeoDataFrame,
                 out: Path) -> None:
    """Two service maps at ``ward``: each preparing its wards, then the wards prepared once for both
    (the render stage's way); prints the times and whether the pages are the same bytes."""
    tol, dec = level_geometry("ward")

    def write(prepared, tag: str) -> list[str]:
        digests = []
        for i, rows in enumerate((first, second)):
            t = time.perf_counter()
            path = layered_map(service_layers(rows, "ward"), out / f"service{i}_{tag}.html",
                               "Service use by ward", simplify_tolerance_m=tol, decimals=dec,
                               prepared=prepared)
            print(f"  service map {i + 1} ({tag}): {time.perf_counter() - t:.1f} s", flush=True)
            digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
        return digests

    t0 = time.perf_counter()
    before = write(None, "each prepares")
    each = time.perf_counter() - t0
    t0 = time.perf_counter()
    prepared = service_map_wards(wards, "ward")
    once = time.perf_counter() - t0
    after = write(prepared, "prepared once")
    total = time.perf_counter() - t0
    print(f"services: two service maps at ward ({len(wards):,} wards): {each:.1f} s each preparing the wards;"
          " "
          f"{total:.1f} s with them prepared once ({once:.1f} s) and handed to both; "
          f"pages byte-identical: {before == after}", flush=True)


def guide_maps(oas: gpd.GeoDataFrame, oa_segments: pd.DataFrame, names: pd.DataFrame, out: Path) -> None:
    """The segment guide's maps (thumbnails and overview, ``render.guide._entries``: every Output
    Area a path, in every map) from a segment folder holding only what the maps need."""
    seg_dir = out / "guide_segments"
    seg_dir.mkdir(parents=True, exist_ok=True)
    oa = oa_segments.assign(group=oa_segments["segment"], supergroup=oa_segments["segment"].str[0])
    oa[["oa21cd", "segment", "supergroup", "group"]].to_csv(seg_dir / "segments_oa.csv", index=False)
    tiers = pd.concat([
        pd.DataFrame({"segment": sorted(oa["supergroup"].unique()), "level": "supergroup"}),
        pd.DataFrame({"segment": sorted(oa["group"].unique()), "level": "group"})])
    tiers["segment_name"] = [f"Segment {c}" for c in tiers["segment"]]
    tiers["colour"] = tiers["segment"].str[0].map(names.drop_duplicates("supergroup")
                                                   .set_index("supergroup")["colour"])
    tiers.to_csv(seg_dir / "segment_names.csv", index=False)
    t = time.perf_counter()
    entries, overview = segment_guide._entries(seg_dir, oas)
    maps = sum(1 for e in entries for x in (e, *e.children) if x.thumb) + bool(overview)
    print(f"guide: {maps} maps (a thumbnail a segment and the overview), every one of {len(oas):,} "
          f"Output Areas a path in each: {time.perf_counter() - t:.1f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oas", type=int, default=188_880)
    parser.add_argument("--wards", type=int, default=7_000)
    parser.add_argument("--lads", type=int, default=331)
    parser.add_argument("--oa-sizes", default="2000,5000,10000,20000")
    parser.add_argument("--full-oa", action="store_true", help="also the segment map of every OA")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a page may take to open")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bench_render_national")
    parser.add_argument("--only", default="pages,services,guide",
                        help="groups to run: pages, services, guide")
    args = parser.parse_args()
    groups = set(args.only.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([25, 5])
    t0 = time.perf_counter()
    oas, wards, lads, ref = national(args.oas, args.wards, args.lads)
    vertices = int(shapely.get_num_coordinates(oas.geometry.values).sum())
    print(f"geometry: {len(oas):,} OAs ({vertices:,} vertices), {len(wards):,} wards, {len(lads):,} LADs "
          f"in EPSG:27700, built in {time.perf_counter() - t0:.1f} s")
    print(f"level rule (auto): {map_level(len(oas), len(wards), True)}; budget {BUDGET_BYTES / 1e6:.0f} MB "
          "of GeoJSON a page")
    oa_segments, names = segments(ref, rng)
    households = ref.groupby("ward_code")["households"].sum()
    lad_households = ref.groupby("lad_code")["households"].sum()
    chromium = None if args.no_browser else find_chromium()

    blank = segment_map(oas.iloc[:1].assign(oa21cd=oas["code"].iloc[:1], segment="1a", segment_name="x",
                                            colour="#000000"), args.out / "blank.html", "Blank")
    empty_bytes = blank.stat().st_size
    if chromium:
        blank_load, blank_wall = open_time(chromium, blank, args.timeout)
        print(f"chromium: {chromium}; a one-polygon map page opens in {blank_load:.2f} s in-page, "
              f"{blank_wall:.2f} s wall (start-up and shut-down)")
    else:
        print("chromium not found (or --no-browser): open times not measured")

    rows = []

    def page(label: str, level: str, features: int, write) -> None:
        t = time.perf_counter()
        path = write()
        build = time.perf_counter() - t
        size = path.stat().st_size
        load = wall = None
        if chromium:
            load, wall = open_time(chromium, path, args.timeout)
        rows.append((label, level, features, size, max(size - empty_bytes, 0), build, load, wall))
        shown = "-" if not chromium else ("timed out" if load is None else f"{load:.2f}")
        geojson = max(size - empty_bytes, 0)
        print(f"{label:<46} {level:<5} {features:>8,} {size / 1e6:>8.2f} {geojson / 1e6:>8.2f}"
              f" {build:>8.1f} {shown:>9} {'' if wall is None else f'{wall:.1f}':>6}", flush=True)

    print(f"{'page':<46} {'level':<5} {'features':>8} {'HTML MB':>8} {'GeoJSON':>8} {'write s':>8} "
          f"{'load s':>9} {'wall s':>6}")
    ward_table = profile_table(wards, households, rng)
    ward_rows = ward_layer(wards, ward_table)
    if "services" in groups:
        second = profile_table(wards, households, np.random.default_rng([25, 6]))  # own draws
        two_services(wards, ward_rows, ward_layer(wards, second), args.out)
    if "guide" in groups:
        guide_maps(oas, oa_segments, names, args.out)
    if "pages" not in groups:
        return 0
    for level in ("ward", "lad"):
        tol, dec = level_geometry(level)
        what = "service map: wards (index layer)" if level == "ward" else \
            "service map: wards at the lad simplification"
        page(what, level, len(ward_rows), lambda tol=tol, dec=dec, level=level: layered_map(
            service_layers(ward_rows, level), args.out / f"service_{level}.html", "Service use by ward",
            simplify_tolerance_m=tol, decimals=dec))
    lad_rows = ward_layer(lads, profile_table(lads, lad_households, rng))
    tol, dec = level_geometry("lad")
    page("service map: a LAD-shaped table (none published)", "lad", len(lad_rows), lambda: layered_map(
        service_layers(lad_rows, "lad"), args.out / "service_lad_table.html",
        "Service use by local authority", simplify_tolerance_m=tol, decimals=dec))
    lad_series = pd.Series(ref["lad_code"].to_numpy(), index=ref["oa21cd"].to_numpy())
    for level in ("ward", "lad"):
        tol, dec = level_geometry(level, decimals=SEGMENT_DECIMALS)
        layer = segment_area_layer(level, wards, ref, lad_series, oa_segments, names)
        page(f"segment map: {level}s in their most common segment", level, len(layer),
             lambda layer=layer, tol=tol, dec=dec, level=level: segment_map(
                 layer, args.out / f"segment_{level}.html", f"Segments by {level}", simplify_tolerance_m=tol,
                 decimals=dec, code_column="code", area_label=level))
    centre = np.array([ORIGIN[0] + SIDE_M / 2, ORIGIN[1] + SIDE_M / 2])
    middle = np.column_stack([oas.centroid.x, oas.centroid.y])
    near = np.argsort(np.hypot(*(middle - centre).T), kind="stable")
    sizes = [int(s) for s in args.oa_sizes.split(",") if s] + ([len(oas)] if args.full_oa else [])
    for n in sizes:
        block = oas.iloc[np.sort(near[:n])].rename(columns={"code": "oa21cd"})
        block = block.merge(oa_segments, on="oa21cd").merge(names, on="segment")
        block["legend_key"], block["legend_label"] = block["supergroup"], block["supergroup_name"]
        block["portrait"] = [f"portraits/segment_{s}.html" for s in block["segment"]]
        page(f"segment map: {n:,} OAs", "oa", len(block), lambda block=block, n=n: segment_map(
            block, args.out / f"segment_oa_{n}.html", f"Segments: {n} OAs"))
    (args.out / "figures.json").write_text(json.dumps(rows), encoding="utf-8")
    print(f"pages in {args.out}; GeoJSON = HTML less a one-polygon map page ({empty_bytes / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
