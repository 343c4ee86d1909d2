"""Tests for the render stage: offline ward maps, deterministic output, profile workbooks.

The browser test opens the map in headless Debian Chromium with all networking blocked. It
is skipped only when Chromium is absent *and* ``CI`` is unset; in CI a missing Chromium is
a failure (install it with ``scripts/install_chromium.sh``).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from openpyxl import load_workbook
from shapely.geometry import box

from pipeline.render import (
    assert_offline,
    leaflet_assets,
    make_offline,
    multi_service_map,
    write_profile_workbook,
)
from pipeline.render.maps import PALETTE, class_breaks, prepare_wards
from pipeline.render.offline import OfflineError, find_fetched_urls
from tests.browser import find_chromium, render_page
from tests.helpers import ward_choropleth

SUPPRESSED_CODE = "E05000004"
SUPPRESSED_RAW_COUNT = 3


def make_wards(seed: int = 0) -> gpd.GeoDataFrame:
    """Six 1 km square wards near Sheffield (EPSG:27700); ward 4 suppressed (raw count 3)."""
    rows = []
    for i in range(6):
        x0, y0 = 430_000 + (i % 3) * 1000, 390_000 + (i // 3) * 1000
        households = 1000 + 100 * i + seed
        suppressed = i == 4
        count = SUPPRESSED_RAW_COUNT if suppressed else 40 + 17 * i
        pen = count / households * 100
        index = pen / 6.0 * 100
        rows.append(
            {
                "ward_code": f"E0500{i:04d}",
                "ward_name": f"Ward {'ABCDEF'[i]}",
                "service_count": None if suppressed else count,
                "households": households,
                "penetration_pct": np.nan if suppressed else pen,
                "index": np.nan if suppressed else index,
                "service_count_display": "#" if suppressed else f"{count:,}",
                "penetration_display": "#" if suppressed else f"{pen:.2f}",
                "index_display": "#" if suppressed else f"{index:.0f}",
                "geometry": box(x0, y0, x0 + 1000, y0 + 1000),
            }
        )
    gdf = gpd.GeoDataFrame(rows, crs="EPSG:27700")
    # The raw suppressed count is present in the input, which is what we guard against.
    gdf.loc[gdf.ward_code == SUPPRESSED_CODE, "service_count"] = SUPPRESSED_RAW_COUNT
    return gdf


def geojson_features(html: str) -> list[dict]:
    """The ward features embedded in the map (the first GeoJSON with ward properties)."""
    feats = []
    for m in re.finditer(r"_add\((\{\"features\".*?\})\);\n", html):
        data = json.loads(m.group(1))
        feats += [f for f in data["features"] if "ward_code" in f["properties"]]
    return feats


@pytest.fixture(scope="module")
def map_html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("map") / "wards.html"
    return ward_choropleth(make_wards(), out, "Library members – penetration by ward")


# --- offline helpers -----------------------------------------------------------------


def test_leaflet_assets_from_xstatic():
    js, css = leaflet_assets()
    assert "L.version" in js or "version" in js
    assert ".leaflet-container" in css
    assert "url(images/" not in css  # images are data URIs
    assert "url(data:image/png;base64," in css


def test_make_offline_inlines_leaflet_and_drops_cdns():
    html = (
        "<html><head>"
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"/>'
        '<link rel="stylesheet" href="https://netdna.bootstrapcdn.com/x.css"/>'
        "</head><body><a href='https://example.org'>ok</a></body></html>"
    )
    with pytest.raises(OfflineError) as err:
        assert_offline(html)
    assert "https://code.jquery.com/jquery-3.7.1.min.js" in err.value.urls
    out = make_offline(html)
    assert_offline(out)
    assert "jquery" not in out
    assert "<style>" in out and "<script>" in out
    assert "https://example.org" in out  # plain links are not fetches


def test_find_fetched_urls_catches_tiles_and_css():
    html = (
        "<style>@import url('https://fonts.example/x.css'); "
        "div{background:url(https://img.example/a.png)}</style>"
        "<script>L.tileLayer('https://{s}.tile.example/{z}/{x}/{y}.png').addTo(m)</script>"
        '<img src="//cdn.example/i.png">'
    )
    urls = find_fetched_urls(html)
    assert "https://fonts.example/x.css" in urls
    assert "https://img.example/a.png" in urls
    assert "https://{s}.tile.example/{z}/{x}/{y}.png" in urls
    assert "//cdn.example/i.png" in urls


# --- ward map ------------------------------------------------------------------------


def test_map_is_self_contained(map_html: Path):
    html = map_html.read_text(encoding="utf-8")
    assert_offline(html)
    assert not re.search(r"<script[^>]+src\s*=", html, re.I)
    assert not re.search(r"<link[^>]+href\s*=\s*[\"']?(https?:)?//", html, re.I)
    for cdn in ("jquery", "bootstrap", "font-awesome", "fontawesome", "awesome-markers", "d3"):
        assert f"{cdn}." not in html.lower() and f"/{cdn}" not in html.lower(), cdn
    js, css = leaflet_assets()
    assert js[:2000] in html  # Leaflet inlined verbatim from xstatic-leaflet
    assert ".leaflet-container" in html
    assert "tileLayer(" not in html  # no base tiles by default


def test_map_tooltips_and_suppression(map_html: Path):
    html = map_html.read_text(encoding="utf-8")
    feats = geojson_features(html)
    assert len(feats) == 6
    wards = make_wards()
    by_code = {f["properties"]["ward_code"]: f["properties"] for f in feats}
    for _, row in wards.iterrows():
        props = by_code[row.ward_code]
        assert props["ward_name"] == row.ward_name
        assert props["count"] == row.service_count_display
        assert props["penetration"] == row.penetration_display
        assert props["index"] == row.index_display
        assert props["households"] == f"{row.households:,}"
    sup = by_code[SUPPRESSED_CODE]
    assert sup["count"] == sup["penetration"] == sup["index"] == "#"
    # the raw suppressed count must not be anywhere in the tooltip data
    assert str(SUPPRESSED_RAW_COUNT) not in json.dumps(
        {k: v for k, v in sup.items() if k not in ("ward_code", "fill")}
    )
    assert all("service_count" not in f["properties"] for f in feats)
    assert "Suppressed (#)" in html
    assert "Households" in html and "Penetration" in html
    # choropleth colours from the palette for unsuppressed wards
    fills = {p["fill"] for c, p in by_code.items() if c != SUPPRESSED_CODE}
    assert fills <= set(PALETTE) and len(fills) >= 3
    # coordinates rounded to 6 decimals and in WGS84 around Sheffield
    coords = np.array(feats[0]["geometry"]["coordinates"][0])
    assert np.all(np.abs(coords[:, 0] + 1.54) < 0.05) and np.all(np.abs(coords[:, 1] - 53.41) < 0.05)
    assert all(len(repr(float(v)).split(".")[1]) <= 6 for v in coords.ravel())


def test_map_title_and_legend(map_html: Path):
    html = map_html.read_text(encoding="utf-8")
    assert "<title>Library members – penetration by ward</title>" in html
    assert "ci-legend" in html and "Penetration (% of households)" in html
    assert "fitBounds" in html


def test_map_is_deterministic(tmp_path: Path):
    a = ward_choropleth(make_wards(), tmp_path / "a.html", "Determinism")
    b = ward_choropleth(make_wards(), tmp_path / "b.html", "Determinism")
    assert a.read_bytes() == b.read_bytes()
    assert not re.search(r"_[0-9a-f]{32}(?![0-9a-f])", a.read_text(encoding="utf-8"))


def test_map_optional_tiles(tmp_path: Path):
    out = ward_choropleth(
        make_wards(),
        tmp_path / "t.html",
        "Tiles",
        tiles="https://tiles.example/{z}/{x}/{y}.png",
        tiles_attribution="Example tiles",
    )
    html = out.read_text(encoding="utf-8")
    assert "https://tiles.example/{z}/{x}/{y}.png" in html
    assert not re.search(r"<script[^>]+src\s*=", html, re.I)


def test_class_breaks():
    assert class_breaks([]) == []
    assert class_breaks([1.0, 1.0, 2.0]) == [1.0]
    br = class_breaks(np.arange(100, dtype=float))
    assert len(br) == 4 and br == sorted(br)


def test_multi_service_map(tmp_path: Path):
    out = multi_service_map(
        {"Libraries": make_wards(), "Leisure centres": make_wards(seed=7)},
        tmp_path / "multi.html",
        "Services by ward",
    )
    html = out.read_text(encoding="utf-8")
    assert_offline(html)
    assert "L.control.layers" in html
    assert 'data-layer="Libraries"' in html and 'data-layer="Leisure centres"' in html
    assert len(geojson_features(html)) == 12


# --- workbook ------------------------------------------------------------------------


def profile_frames() -> dict[str, pd.DataFrame]:
    profile = pd.DataFrame(
        {
            "segment": ["A Urban families", "B Retired rural", "C Students", "Total"],
            "users": [1200, 40, "#", 1240],
            "base_households": [20000, 15000, 3000, 38000],
            "user_pct": [96.77, 3.23, "#", 100.0],
            "base_pct": [52.63, 39.47, 7.89, 100.0],
            "penetration_pct": [6.0, 0.27, "#", 3.26],
            "index": [183.9, 8.2, "#", 100.0],
        }
    )
    wards = make_wards().drop(columns="geometry")[
        ["ward_code", "ward_name", "service_count_display", "households", "penetration_display"]
    ]
    return {"Profile by segment": profile, "Wards": pd.DataFrame(wards)}


NOTES = [
    "Penetration = users / base households x 100.",
    "Index = user % / base % x 100 (100 = average).",
    "Suppression: counts below 5 are shown as #.",
]


def test_workbook_byte_identical(tmp_path: Path):
    a = write_profile_workbook(profile_frames(), tmp_path / "a.xlsx", "Libraries profile", NOTES)
    b = write_profile_workbook(profile_frames(), tmp_path / "b.xlsx", "Libraries profile", NOTES)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(2021, 3, 21, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
        assert "2021-03-21T00:00:00Z" in core


def test_workbook_formats_and_notes(tmp_path: Path):
    out = write_profile_workbook(profile_frames(), tmp_path / "p.xlsx", "Libraries profile", NOTES)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Profile by segment", "Wards", "Notes"]
    ws = wb["Profile by segment"]
    header = [c.value for c in ws[1]]
    assert header[0] == "segment" and ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb
    assert ws.freeze_panes == "A2"
    col = {name: i + 1 for i, name in enumerate(header)}
    assert ws.cell(2, col["users"]).number_format == "#,##0"
    assert ws.cell(2, col["base_households"]).number_format == "#,##0"
    assert ws.cell(2, col["user_pct"]).number_format == "0.00"
    assert ws.cell(2, col["penetration_pct"]).number_format == "0.00"
    assert ws.cell(2, col["index"]).number_format == "0"
    sup = ws.cell(4, col["users"])
    assert sup.value == "#" and sup.data_type == "s" and sup.alignment.horizontal == "right"
    total = ws.cell(5, 1)
    assert total.value == "Total" and total.font.bold and ws.cell(5, col["users"]).font.bold
    assert not ws.cell(2, 1).font.bold
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert any(r.type == "colorScale" for r in rules)
    ranges = [str(cf.sqref) for cf in ws.conditional_formatting]
    assert ranges == ["G2:G4"]  # index column, excluding the Total row
    assert ws.column_dimensions["A"].width >= len("A Urban families")

    notes = [c.value for c in wb["Notes"]["A"] if c.value]
    assert notes[0] == "Libraries profile"
    assert any("Index = user % / base % x 100" in n for n in notes)
    assert any("Suppression" in n for n in notes)
    assert any("Open Government Licence" in n for n in notes)


# --- browser -------------------------------------------------------------------------

CHROMIUM = find_chromium()


def _require_chromium() -> None:
    if CHROMIUM:
        return
    if os.environ.get("CI"):
        pytest.fail(
            "chromium is required for the offline map browser test in CI; run scripts/install_chromium.sh"
        )
    pytest.skip("chromium not installed (run scripts/install_chromium.sh); CI not set")


def _hex(c: str) -> tuple[int, int, int]:
    return tuple(int(c[i : i + 2], 16) for i in (1, 3, 5))


def test_map_renders_offline_in_chromium(map_html: Path, tmp_path: Path):
    _require_chromium()
    from PIL import Image

    dom, png, errors = render_page(map_html, CHROMIUM, out_dir=tmp_path)
    assert errors == [], f"JavaScript errors: {errors}"
    assert "leaflet-container" in dom
    paths = re.findall(r"<path\b[^>]*class=\"[^\"]*leaflet-interactive", dom)
    assert len(paths) >= 6, f"only {len(paths)} interactive ward paths"
    assert "ci-legend" in dom and "Suppressed (#)" in dom
    assert "url(#ci-suppressed-hatch)" in dom

    img = Image.open(png).convert("RGB")
    arr = np.asarray(img).astype(int)
    assert img.size == (1000, 800)
    # Coloured pixels: saturated (not white/grey background) or near a palette colour.
    spread = arr.max(axis=2) - arr.min(axis=2)
    near_palette = np.zeros(arr.shape[:2], dtype=bool)
    for c in PALETTE:
        near_palette |= np.abs(arr - np.array(_hex(c))).sum(axis=2) < 120
    coloured = (spread > 40) | near_palette
    share = coloured.mean()
    assert share > 0.02, f"screenshot looks blank: {share:.1%} coloured pixels"


def test_map_formats_numeric_display_values(tmp_path: Path):
    """Display columns may hold numbers (unsuppressed) mixed with the symbol (suppressed)."""
    wards = make_wards()
    sup = wards.ward_code == SUPPRESSED_CODE
    wards["service_count_display"] = [
        "#" if s else int(c) for s, c in zip(sup, wards.service_count, strict=True)
    ]
    wards["penetration_display"] = ["#" if s else p for s, p in zip(sup, wards.penetration_pct, strict=True)]
    wards["index_display"] = ["#" if s else i for s, i in zip(sup, wards["index"], strict=True)]
    wards["households"] = wards["households"] * 10
    html = ward_choropleth(wards, tmp_path / "n.html", "Numbers").read_text(encoding="utf-8")
    props = {f["properties"]["ward_code"]: f["properties"] for f in geojson_features(html)}
    first = props["E05000000"]
    assert first["count"] == "40" and first["households"] == "10,000"
    assert first["penetration"] == "4.00" and first["index"] == "67"
    assert props[SUPPRESSED_CODE]["count"] == "#"


def test_workbook_attribution_from_notes_not_duplicated(tmp_path: Path):
    notes = [*NOTES, "Contains OS data © Crown copyright and database right 2025."]
    out = write_profile_workbook(profile_frames(), tmp_path / "n.xlsx", "T", notes)
    values = [c.value for c in load_workbook(out)["Notes"]["A"] if c.value]
    assert "Attribution" not in values
    assert sum("copyright" in v.lower() for v in values) == 1


def test_outline_ignores_slivers_between_unmatched_wards():
    """Wards whose shared edges do not match exactly still give a clean borough outline."""
    cells = [box(x, y, x + 1000, y + 1000) for x in (0, 1000, 2000) for y in (0, 1000, 2000)]
    cells[4] = shapely.affinity.scale(cells[4], 0.9999, 0.9999)  # 5 cm gap all round
    wards = gpd.GeoDataFrame(
        {"ward_code": [f"W{i}" for i in range(9)]},
        geometry=[shapely.affinity.translate(c, 430_000, 390_000) for c in cells],
        crs="EPSG:27700",
    )
    raw_union = shapely.union_all(wards.geometry.values)
    # the sliver ring the outline must not show
    assert sum(len(p.interiors) for p in shapely.get_parts(raw_union)) == 1
    wgs, outline = prepare_wards(wards)
    assert outline.geom_type == "Polygon" and len(outline.interiors) == 0
    assert wgs.crs.to_epsg() == 4326 and wgs.geometry.is_valid.all()


def test_multi_service_map_renders_offline_in_chromium(tmp_path: Path):
    _require_chromium()
    out = multi_service_map(
        {"Libraries": make_wards(), "Leisure centres": make_wards(seed=7)},
        tmp_path / "multi.html",
        "Services by ward",
    )
    dom, _png, errors = render_page(out, CHROMIUM, out_dir=tmp_path / "shot")
    assert errors == [], f"JavaScript errors: {errors}"
    assert "leaflet-control-layers" in dom
    assert len(re.findall(r"<path\b[^>]*class=\"[^\"]*leaflet-interactive", dom)) >= 6
