"""The render deliverables of a whole demo run: maps in a browser, headline numbers, PDF,
and a scan of every output for suppressed values shown unsuppressed.

One demo run (session fixture) with a high suppression threshold, so that some wards of
every service are hidden and the scan has something to find.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from pipeline.config import Suppression
from pipeline.render.charts import index_chart
from pipeline.render.headlines import about
from pipeline.render.screenshots import print_pdf
from tests.browser import find_chromium, render_page
from tests.helpers import republished

THRESHOLD = 150
CHROMIUM = find_chromium()


def _require_chromium() -> None:
    if CHROMIUM:
        return
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI; run scripts/install_chromium.sh")
    pytest.skip("chromium not installed (run scripts/install_chromium.sh); CI not set")


@pytest.fixture(scope="session")
def run(demo_run, tmp_path_factory):
    """The demo run published and rendered again with a high threshold, so that some wards of every
    service are hidden."""
    cfg, result, _, _ = demo_run
    return republished(cfg, result, tmp_path_factory.mktemp("report"),
                       suppression=Suppression(threshold=THRESHOLD, symbol="#"))


def _maps(out: Path) -> list[Path]:
    run_maps = [out / "services_map.html", out / "segments/segment_map.html"]
    return sorted(out.glob("*/*_ward_map.html")) + run_maps


def _features(html: str) -> list[dict]:
    feats = []
    for m in re.finditer(r"_add\((\{\"features\".*?\})\);\n", html):
        feats += json.loads(m.group(1))["features"]
    return feats


def test_every_output_written(run):
    cfg, result = run
    out = cfg.outputs
    for name in result.profiles:
        service = name.split("__")[0]
        for suffix in ("_report.html", "_ward_map.html"):
            assert (out / service / f"{name}{suffix}").stat().st_size > 0
        assert (out / service / "charts" / f"{name}_index.png").read_bytes()[:4] == b"\x89PNG"
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in result.profiles:  # the run index links every service's outputs
        service = name.split("__")[0]
        for suffix in ("_report.html", "_ward_map.html", "_profile.xlsx", "_profile_segment.csv"):
            href = f"{service}/{name}{suffix}"
            assert f'href="{href}"' in index and (out / href).exists(), href
    profiled = pd.read_csv(out / "segments/segments_oa.csv", dtype=str)["segment"].unique()
    assert len(profiled) >= 2
    for code in profiled:  # one page per segment of the level the profiles use
        page = out / "segments/portraits" / f"segment_{code}.html"
        assert f"Segment {code}" in page.read_text(encoding="utf-8")
    layers = set(gpd.list_layers(out / f"{cfg.run}_insight.gpkg")["name"])
    assert layers == {"wards", "output_areas"}


def test_maps_render_offline_in_chromium(run, tmp_path):
    """Each demo map: no JS errors, Leaflet up, ward/OA polygons in the DOM, coloured pixels."""
    _require_chromium()
    from PIL import Image

    cfg, _ = run
    maps = _maps(cfg.outputs)
    assert len(maps) == 9
    for i, page in enumerate(maps):
        dom, png, errors = render_page(page, CHROMIUM, out_dir=tmp_path / str(i))
        assert errors == [], f"{page.name}: JavaScript errors {errors}"
        assert "leaflet-container" in dom and "leaflet-map-pane" in dom, page.name
        # one layer shows at a time: count the distinct wards / OAs drawn
        n_features = len({f["properties"].get("ward_code") or f["properties"].get("oa21cd")
                          for f in _features(page.read_text(encoding="utf-8"))
                          if "ward_code" in f["properties"] or "segment" in f["properties"]})
        paths = re.findall(r"<path\b[^>]*class=\"[^\"]*leaflet-interactive", dom)
        assert n_features >= 20 and len(paths) >= n_features, (page.name, n_features, len(paths))
        arr = np.asarray(Image.open(png).convert("RGB")).astype(int)
        h, w, _ = arr.shape
        centre = arr[h // 4: 3 * h // 4, w // 4: 3 * w // 4]  # inside the borough
        saturated = (centre.max(axis=2) - centre.min(axis=2)) > 40
        assert saturated.mean() > 0.3, f"{page.name}: {saturated.mean():.0%} coloured pixels in the middle"


_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _allowed(row: pd.Series) -> set[str]:
    """Every number a sentence may print about one row of a published table: its cells (as
    written, and with thousands separators), the ratio index / 100, and about() of its counts."""
    vals = set()
    for v in row.astype(str):
        vals |= {v, v.lstrip("-"), *v.split("; ")}  # lists such as target_segments "3; 4; 5"; a slope index
        if re.fullmatch(r"\d+", v):
            vals |= {f"{int(v):,}", about(int(v))}
        elif re.fullmatch(r"\d+\.\d+", v):
            vals.add(about(int(Decimal(v).quantize(Decimal(1), rounding=ROUND_HALF_UP))))
    if str(row.get("index", "")).isdigit():
        vals.add(str((Decimal(int(row["index"])) / 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)))
        if str(row.get("service_count", "")).isdigit() and "base_count" in row:
            vals.add(about(int(row["base_count"]) - int(row["service_count"])))
    return vals


def _published(cfg, name: str, view: str) -> pd.DataFrame:
    service = name.split("__")[0]
    if view == "run_summary":
        return pd.read_csv(cfg.outputs / "run_summary.csv", dtype=str, keep_default_na=False).set_index(
            "service", drop=False)
    t = pd.read_csv(cfg.outputs / service / f"{name}_profile_{view}.csv", dtype=str, keep_default_na=False)
    return t.set_index("segment_code", drop=False)


def test_headline_numbers_come_from_the_profile_table(run):
    """Every number in the summary (findings and suggestions) is a cell of the published table the
    sentence names, for the rows it names (or derived from them as the docstrings say)."""
    cfg, result = run
    checked = 0
    sym = cfg.suppression.symbol
    for name in result.publication.services:
        service = name.split("__")[0]
        html = (cfg.outputs / service / f"{name}_report.html").read_text(encoding="utf-8")
        items = re.findall(r'<li class="headline" data-view="(\w+)" data-codes="([^"]*)">(.*?)</li>', html)
        assert len(items) >= 3, name
        names = set()
        for view in {v for v, _, _ in items} | {"segment", "ward"}:
            t = _published(cfg, name, view)
            names |= {n for c in ("segment_name", "segment_code", "channel") if c in t for n in t[c]}
        for view, codes, text in items:
            text = html_lib.unescape(text)
            table = _published(cfg, name, view)
            allowed: set[str] = set(_allowed(_published(cfg, name, "segment").loc["Total"]))
            for code in [c for c in codes.split("|") if c]:
                rows = table.loc[[code]]
                if "service_count" in rows:  # channels: a segment's row per channel, one at least shown
                    rows = rows[rows["service_count"] != sym]
                    assert len(rows), f"{name}: finding about hidden {code}"
                for _, row in rows.iterrows():
                    allowed |= _allowed(row)
            # names may hold digits ("Level 2", "25-44"): take them out before reading the numbers
            for nm in sorted(names, key=len, reverse=True):
                if nm and not nm.isdigit():
                    text = text.replace(nm, "")
            text = text.replace(cfg.area_name, "").replace("95% interval", "")
            for label in (o.label or o.name for s in cfg.services for o in s.outcomes):  # config text
                text = text.replace(label, "")
            for n in _NUMBER.findall(text):
                assert n.rstrip(".") in allowed, f"{name}: {n!r} in {text!r} is not from the table"
                checked += 1
        # the top-index sentence names the segment with the highest visible index
        seg = _published(cfg, name, "segment")
        vis = seg[(seg["segment_code"] != "Total") & (seg["service_count"] != sym)]
        if len(vis):
            top = vis.loc[vis["index"].astype(int).idxmax()]
            if int(top["index"]) > 100:
                assert f"segment {top['segment_code']} " in html and f"(index {top['index']}" in html, name
    assert checked > 50


def test_key_figures_are_the_published_total_and_match_rate(run):
    """The summary's key-figures table repeats published cells: the segment table's Total row (users,
    households, users per 100 households) and the run summary's match rate and rows read."""
    cfg, result = run
    for name in result.publication.services:
        service = name.split("__")[0]
        html = (cfg.outputs / service / f"{name}_report.html").read_text(encoding="utf-8")
        block = re.search(r'<table class="keyfigures">(.*?)</table>', html, re.S).group(1)
        heads = re.findall(r"<th scope=\"col\">(.*?)</th>", block)
        cells = [html_lib.unescape(c) for c in re.findall(r"<td>(.*?)</td>", block)]
        total = _published(cfg, name, "segment").loc["Total"]
        run_row = _published(cfg, name, "run_summary").loc[service]

        def shown(v: str) -> str:
            return f"{int(v):,}" if v.isdigit() else v

        assert heads == ["Users matched", "Households", "Users per 100 households", "Records matched"]
        assert cells == [shown(total["service_count"]), shown(total["base_count"]), total["penetration_pct"],
                         f"{run_row['match_rate_pct']}% of {shown(run_row['rows_read'])}"], name
        assert html.index('class="keyfigures"') < html.index('class="headlines"')  # first in the summary


def test_definitions_table_rows():
    from pipeline.render.report import definition_rows

    note = "Each segment is tested separately at the 95% level (a check: would it survive?)."
    assert definition_rows(["Index: service % / base % x 100.", note,
                            "Service %: the share; Base %: its share."]) == [
        ("Index", "Service % / base % x 100."), ("", note), ("Service %", "The share; Base %: its share.")]


def test_about_rounds_to_two_significant_figures():
    assert about(7_962) == "8,000" and about(7_949) == "7,900" and about(85) == "85" and about(150) == "150"
    assert about(12_345) == "12,000"


def test_report_prints_to_pdf(run, tmp_path):
    _require_chromium()
    cfg, _ = run
    report = cfg.outputs / "stop_smoking" / "stop_smoking_report.html"
    title = re.search(r"<title>(.*?)</title>", report.read_text(encoding="utf-8")).group(1)
    pdf = print_pdf(report, tmp_path / "report.pdf", CHROMIUM)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    m = re.search(rb"/Title\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f]+>)", data)
    assert m, "PDF has no /Title"
    raw = m.group(1)
    if raw.startswith(b"<"):
        b = bytes.fromhex(raw[1:-1].decode())
        pdf_title = b[2:].decode("utf-16-be") if b[:2] == b"\xfe\xff" else b.decode("latin-1")
    else:
        pdf_title = re.sub(rb"\\(.)", rb"\1", raw[1:-1]).decode("latin-1")  # PDF string escapes
    assert pdf_title == html_lib.unescape(title)
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2


def _raw_strings(profile: pd.DataFrame, hidden: pd.Series) -> dict[str, set[str]]:
    """The unsuppressed display strings of the suppressed rows, by row code."""
    from pipeline.profiles import format_profile

    full = format_profile(profile)
    cols = ("service_count", "penetration_pct", "index")
    return {str(full.at[i, "segment_code"]): {full.at[i, c] for c in cols} for i in hidden[hidden].index}


def test_no_suppressed_value_appears_unsuppressed(run, tmp_path):
    cfg, result = run
    out, sym = cfg.outputs, cfg.suppression.symbol
    n_hidden = 0
    gpkg_wards = gpd.read_file(out / f"{cfg.run}_insight.gpkg", layer="wards").set_index("ward_code")
    gpkg_oas = gpd.read_file(out / f"{cfg.run}_insight.gpkg", layer="output_areas")
    seg_oa = pd.read_csv(out / "segments/segments_oa.csv", dtype=str)
    for name, views in result.profiles.items():
        service = name.split("__")[0]
        published = result.publication.services[name]
        ward_hidden = published["ward"].rows_hidden
        seg_hidden = published["segment"].rows_hidden
        ward_raw = _raw_strings(views["ward"], ward_hidden)
        seg_raw = _raw_strings(views["segment"], seg_hidden)
        n_hidden += len(ward_raw) + len(seg_raw)
        # maps: tooltip properties of hidden wards show only the symbol
        feats = _features((out / service / f"{name}_ward_map.html").read_text(encoding="utf-8"))
        props = {f["properties"]["ward_code"]: f["properties"]
                 for f in feats if "ward_code" in f["properties"]}
        for code in ward_raw:
            p = props[code]
            assert p["count"] == p["penetration"] == p["index"] == sym, (name, code, p)
        # report and pen portraits: table rows of hidden codes show the symbol, never the value
        report = (out / service / f"{name}_report.html").read_text(encoding="utf-8")
        # the deprivation tables number their rows by decile (1-10), not by segment: left out here
        # (their own suppression: tests/deprivation/test_deprivation_demo.py)
        report = re.sub(r'<table class="profile" data-view="[^"]*deprivation[^"]*">.*?</table>', "", report,
                        flags=re.S)
        for code, raw in {**ward_raw, **seg_raw}.items():
            rows = re.findall(rf'<tr data-code="{re.escape(code)}"[^>]*>(.*?)</tr>', report)
            assert rows, (name, code)
            for r in rows:
                cells = re.findall(r"<td[^>]*>(.*?)</td>", r)
                assert sym in cells and not (raw & set(cells[2:4] + cells[6:8])), (name, code, cells)
        for code in seg_raw:
            page = (out / "segments/portraits" / f"segment_{code}.html").read_text(encoding="utf-8")
            cells = re.findall(r"<td[^>]*>(.*?)</td>", re.search(
                rf'<tr data-code="{re.escape(name)}">(.*?)</tr>', page).group(1))
            assert cells[1] == sym and cells[3] == sym and cells[4] == sym, (name, code, cells)
        # headlines never about a hidden row
        for view, codes in re.findall(r'data-view="(\w+)" data-codes="([^"]*)"', report):
            hidden = set(ward_raw) if view == "ward" else set(seg_raw) if view == "segment" else set()
            assert not (set(codes.split("|")) & hidden), (name, view, codes)
        # chart: nothing plotted for hidden rows
        chart = index_chart(views["segment"], seg_hidden, tmp_path / f"{name}.png", name)
        assert not set(chart.plotted) & set(seg_raw)
        # GeoPackage: numbers NULL and the display the symbol for hidden wards
        for code in ward_raw:
            g = gpkg_wards.loc[code]
            assert pd.isna(g[f"{name}_users"]) and pd.isna(g[f"{name}_penetration"])
            assert pd.isna(g[f"{name}_index"]) and g[f"{name}_shown"] == sym
        for code in seg_raw:
            oas = set(seg_oa.loc[seg_oa["segment"] == code, "oa21cd"])
            assert gpkg_oas.loc[gpkg_oas["oa21cd"].isin(oas), f"{name}_seg_index"].isna().all()
        # and every visible ward's numbers in the GeoPackage match the shareable table
        shown = published["ward"].frame.set_index("segment_code")
        vis = shown[(shown.index != "Total") & (shown["service_count"] != sym)]
        users = gpkg_wards.loc[vis.index, f"{name}_users"].astype(int).astype(str)
        assert (users == vis["service_count"]).all()
    assert n_hidden >= 10, "the fixture should suppress some rows"


def test_index_chart_is_deterministic_and_skips_hidden_rows(run, tmp_path):
    cfg, result = run
    seg = result.profiles["stop_smoking"]["segment"]
    hidden = pd.Series(False, index=seg.index)
    hidden.iloc[0] = True
    a = index_chart(seg, hidden, tmp_path / "a.png", "Test")
    b = index_chart(seg, hidden, tmp_path / "b.png", "Test")
    assert a.path.read_bytes() == b.path.read_bytes()
    assert str(seg.iloc[0]["segment_code"]) not in a.plotted and len(a.plotted) == len(seg) - 2
    assert "suppressed" in a.alt and "Highest" in a.alt
    assert b"tIME" not in a.path.read_bytes() and b"Software" not in a.path.read_bytes()


def test_equality_sections_show_the_published_numbers(run, tmp_path):
    """Each equality view gets a table and an index chart in the report: the same numbers as its
    published CSV, hidden groups shown only as the symbol and never plotted."""
    from pipeline.render.report import equality_section

    cfg, result = run
    sym, views = cfg.suppression.symbol, result.profiles["stop_smoking"]
    folder = cfg.outputs / "stop_smoking"
    report = (folder / "stop_smoking_report.html").read_text(encoding="utf-8")
    eq = sorted(v for v in views if v.startswith("equality_"))
    assert eq == ["equality_age_band", "equality_disability", "equality_ethnicity",
                  "equality_ethnicity_detailed", "equality_sex"]
    n_hidden = 0
    for view in eq:
        what = view.removeprefix("equality_").replace("_", " ")
        pub = pd.read_csv(folder / f"stop_smoking_profile_{view}.csv", dtype=str,
                          keep_default_na=False).set_index("segment_code")
        assert (folder / "charts" / f"stop_smoking_{view}_index.png").read_bytes()[:4] == b"\x89PNG"
        published = result.publication.services["stop_smoking"][view]
        _, chart = equality_section(cfg, "stop_smoking", view, published, tmp_path, "Stop smoking")
        for code, value in chart.plotted.items():
            assert pub.at[code, "service_count"] != sym and abs(float(pub.at[code, "index"]) - value) <= 0.5
        hidden = pub.index[pub["service_count"] == sym]
        n_hidden += len(hidden)
        assert not set(hidden) & set(chart.plotted)
        table = re.search(rf'<table class="profile" data-view="{what}">(.*?)</table>', report, re.S).group(1)
        rows = re.findall(r'<tr data-code="([^"]*)"[^>]*>(.*?)</tr>', table)
        assert [html_lib.unescape(code) for code, _ in rows] == list(pub.index)
        for code, row in rows:
            cells = [html_lib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            code = html_lib.unescape(code)
            assert cells[1] == pub.at[code, "service_count"], (view, code)
            assert cells[5] == pub.at[code, "index"], (view, code)
    assert n_hidden > 0, "the fixture should hide some equality groups"


def test_channel_section_shows_the_published_numbers(run, tmp_path):
    """The library's channel view (members' preferred contact): a heat map and a table in the
    report with the published CSV's numbers; hidden cells shown only as the symbol, never coloured."""
    from pipeline.render.report import channel_section

    cfg, result = run
    sym, frame = cfg.suppression.symbol, result.publication.services["library"]["channels"]
    folder = cfg.outputs / "library"
    pub = pd.read_csv(folder / "library_profile_channels.csv", dtype=str, keep_default_na=False)
    assert (folder / "charts" / "library_channels_index.png").read_bytes()[:4] == b"\x89PNG"
    _, chart = channel_section(cfg, "library", frame, tmp_path, "Library")
    by_cell = pub.set_index(["segment_code", "channel"])
    for key, value in chart.plotted.items():
        code, channel = key.split("|")
        assert by_cell.at[(code, channel), "service_count"] != sym
        assert abs(float(by_cell.at[(code, channel), "index"]) - value) <= 0.5
    hidden = {f"{c}|{ch}" for c, ch, n in zip(pub["segment_code"], pub["channel"], pub["service_count"],
                                               strict=True) if n == sym}
    assert hidden and not hidden & set(chart.plotted)
    report = (folder / "library_report.html").read_text(encoding="utf-8")
    table = re.search(r'<table class="profile" data-view="channels">(.*?)</table>', report, re.S).group(1)
    rows = [[html_lib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in re.findall(r"<tr data-code=[^>]*>(.*?)</tr>", table)]
    first = pub[["segment_code", "segment_name", "channel", "service_count"]].values.tolist()
    assert [r[:4] for r in rows] == first
    assert [r[6] for r in rows] == pub["index"].tolist()
