"""Hostile strings through every renderer: service labels, option names, attributions, titles,
ward, segment and target names, chart labels and CSV cells (issue 10, "every string is data").

Each payload is checked twice: in the HTML written (no element or script from a config or data
string survives escaping) and in headless Chromium with the production flags (the page runs,
shows the strings as text, and no payload executed). A control page with one payload left
unescaped proves the browser check would see an execution.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import browser  # noqa: E402
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from shapely.geometry import box

from pipeline.render.charts import channel_chart, index_chart
from pipeline.render.maps import layered_map, multi_service_map, segment_map
from pipeline.render.offline import assert_offline
from tests.helpers import formula_cells, ward_choropleth

# --- payloads ------------------------------------------------------------------------

LABEL = '<img src=data:, onerror="window.PWNED=1">Libraries'
OPTION = 'Opt "q" <b onmouseover=x>bold</b> <svg onload="window.PWNED=2"></svg>'
ATTRIBUTION = '</script><script>window.PWNED=3</script><img src=data:, onerror="window.PWNED=4"> © Test data'
TITLE = "<script>window.PWNED=5</script>Service use & more"
TILES_ATTRIBUTION = '<img src=data:, onerror="window.PWNED=6">Tiles'
WARD_NAMES = [
    '=HYPERLINK("http://evil.example/","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
    "<img src=x onerror=alert(1)>", "</script><script>window.PWNED=7</script>",
]
TARGET_LABEL = '</script><img src=data:, onerror="window.PWNED=8">'
SEGMENT_NAMES = {"1": '=HYPERLINK("http://evil.example/")', "2": '<img src=data:, onerror="window.PWNED=9">',
                 "3": "</script><script>window.PWNED=10</script>", "4": "@risk & +plus"}
MATH_LABEL = r"$\frac{1}{0}$"
BROKEN_MATH = r"$\notacommand{$"

#: Fragments of the payloads that must never appear in a written page: each holds a character the
#: escaping removes (a ``<`` or a ``"``). Leaflet's own source has "<svg" and the report an
#: "<img" for its chart, hence the longer fragments.
MARKUP = ["<img src=", "<svg onload", "<b ", "<b>", "<script>window.PWNED", "</script><script>",
          'onerror="window', '"q"', '"E2"']


def _square_wards(names: list[str], seed: int = 0) -> gpd.GeoDataFrame:
    rows = []
    for i, name in enumerate(names):
        x0, y0 = 430_000 + (i % 3) * 1000, 390_000 + (i // 3) * 1000
        households = 1000 + 100 * i + seed
        count = 40 + 17 * i
        pen = count / households * 100
        rows.append({
            "ward_code": f"E0500{i:04d}", "ward_name": name, "households": households,
            "penetration_pct": pen, "index": pen / 6.0 * 100,
            "service_count_display": f"{count:,}", "penetration_display": f"{pen:.2f}",
            "index_display": f"{pen / 6.0 * 100:.0f}", "geometry": box(x0, y0, x0 + 1000, y0 + 1000),
        })
    return gpd.GeoDataFrame(rows, crs="EPSG:27700")


def _targets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"oa21cd": ["E00000001", '<b>"E2"</b>'], "label": [TARGET_LABEL, "=cmd"]},
        geometry=[box(430_100, 390_100, 430_600, 390_600), box(431_100, 390_100, 431_600, 390_600)],
        crs="EPSG:27700",
    )


def _segment_oas() -> gpd.GeoDataFrame:
    rows = []
    for i in range(8):
        code = str(i % 4 + 1)
        x0, y0 = 430_000 + (i % 4) * 500, 390_000 + (i // 4) * 500
        rows.append({"oa21cd": f"E0000{i:04d}", "segment": code, "segment_name": SEGMENT_NAMES[code],
                     "colour": ["#332288", "#88CCEE", "#44AA99", "#117733"][int(code) - 1],
                     "legend_key": code, "legend_label": SEGMENT_NAMES[code],
                     "portrait": f"portraits/segment_{code}.html",
                     "geometry": box(x0, y0, x0 + 500, y0 + 500)})
    return gpd.GeoDataFrame(rows, crs="EPSG:27700")


def _with_suppressed(wards: gpd.GeoDataFrame, symbol: str) -> gpd.GeoDataFrame:
    """The same wards with the third one suppressed (no value, the symbol in its display columns)."""
    wards = wards.copy()
    wards.loc[2, ["penetration_pct", "index"]] = np.nan
    for col in ("service_count_display", "penetration_display", "index_display"):
        wards.loc[2, col] = symbol
    return wards


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """Every map writer with hostile strings in every string argument and data column."""
    out = tmp_path_factory.mktemp("hostile")
    wards = _square_wards(WARD_NAMES)
    suppressed = _with_suppressed(wards, "<#>")
    return {
        "services": multi_service_map({LABEL: wards, OPTION: _square_wards(WARD_NAMES, seed=7)},
                                      out / "services_map.html", TITLE, attribution=ATTRIBUTION),
        "ward": layered_map([(LABEL, suppressed, "penetration_pct"), (OPTION, suppressed, "index")],
                            out / "ward_map.html", f"{LABEL}: use by ward", attribution=ATTRIBUTION,
                            targets=_targets(), suppressed_symbol="<#>"),
        "single": ward_choropleth(wards, out / "single.html", TITLE, attribution=ATTRIBUTION),
        "segments": segment_map(_segment_oas(), out / "segment_map.html", TITLE, attribution=ATTRIBUTION),
    }


def _markup_left(html: str) -> list[str]:
    return [m for m in MARKUP if m in html]


@pytest.mark.parametrize("page", ["services", "ward", "single", "segments"])
def test_no_payload_markup_in_written_map(pages, page):
    html = pages[page].read_text(encoding="utf-8")
    assert _markup_left(html) == []
    assert_offline(html)  # no payload's src= became a fetch either
    # The only script ends are the page's own: one per <script> start tag.
    assert html.lower().count("</script") == len(re.findall(r"<script\b", html, re.IGNORECASE))


def test_strings_reach_the_page_escaped_once(pages):
    """The escaped forms are there (the strings are shown, not dropped), never double-escaped."""
    html = pages["services"].read_text(encoding="utf-8")
    assert "&lt;img src=data:, onerror=&quot;window.PWNED=1&quot;&gt;Libraries" in html  # layer name
    assert "Opt &quot;q&quot; &lt;b onmouseover=x&gt;bold&lt;/b&gt;" in html
    assert "\\u0026lt;/script\\u0026gt;\\u0026lt;script\\u0026gt;window.PWNED=3" in html  # attribution
    assert "<title>&lt;script&gt;window.PWNED=5&lt;/script&gt;Service use &amp; more</title>" in html
    assert "&amp;amp;" not in html
    seg = pages["segments"].read_text(encoding="utf-8")
    assert "1 =HYPERLINK(&quot;http://evil.example/&quot;)" in seg  # legend label (code name, escaped)
    ward = pages["ward"].read_text(encoding="utf-8")
    assert "Suppressed (&lt;#&gt;): too few to show" in ward and "<#>" not in ward  # legend
    feats = [f for m in re.finditer(r"_add\((\{\"features\".*?\})\);\n", ward)
             for f in json.loads(m.group(1))["features"] if "ward_code" in f["properties"]]
    props = {f["properties"]["ward_code"]: f["properties"] for f in feats}
    assert props["E05000002"]["count"] == props["E05000002"]["index"] == "&lt;#&gt;"  # tooltip
    assert props["E05000004"]["ward_name"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert props["E05000000"]["ward_name"] == "=HYPERLINK(&quot;http://evil.example/&quot;,&quot;click&quot;)"


def test_tile_attribution_is_escaped(tmp_path):
    html = ward_choropleth(_square_wards(WARD_NAMES[:2]), tmp_path / "tiles.html", "Tiles",
                    tiles="https://tiles.example/{z}/{x}/{y}.png",
                    tiles_attribution=TILES_ATTRIBUTION).read_text(encoding="utf-8")
    assert _markup_left(html) == []
    assert "\\u0026lt;img src=data:, onerror=\\u0026quot;window.PWNED=6\\u0026quot;\\u0026gt;Tiles" in html


def test_attribution_cannot_fill_a_script_slot(tmp_path):
    """A string that looks like one of the map's own script slots is written as typed."""
    html = ward_choropleth(_square_wards(WARD_NAMES[:2]), tmp_path / "slot.html", "Slot",
                    attribution="{map} and {layers}").read_text(encoding="utf-8")
    assert 'addAttribution("{map} and {layers}")' in html


# --- the browser ---------------------------------------------------------------------

CHROMIUM = browser.find_chromium()

PROBE = """<script>
setTimeout(function () {
  var radios = document.querySelectorAll('.leaflet-control-layers-base input');
  if (radios.length > 1) { radios[1].click(); }
  setTimeout(function () {
    var d = document.documentElement;
    d.setAttribute('data-pwned', typeof window.PWNED === 'undefined' ? 'no' : String(window.PWNED));
    var shown = [].filter.call(document.querySelectorAll('.ci-legend[data-layer-index]'),
      function (el) { return el.style.display !== 'none'; });
    d.setAttribute('data-legends-shown', shown.map(function (el) {
      return el.dataset.layerIndex; }).join(','));
    d.setAttribute('data-probe', 'ran');
  }, 500);
}, 1500);
</script>"""


def _require_chromium() -> None:
    if CHROMIUM:
        return
    import os

    if os.environ.get("CI"):
        pytest.fail("chromium is required for the hostile-render browser tests in CI")
    pytest.skip("chromium not installed (run scripts/install_chromium.sh); CI not set")


def _dom(html_path: Path, work: Path) -> tuple[str, dict[str, str], list[str]]:
    """The DOM of *html_path* after its scripts and the probe ran, in headless Chromium with the
    production flags (network blocked); returns (dom, the probe's attributes, JS errors)."""
    html = html_path.read_text(encoding="utf-8")
    at = html.lower().rfind("</body>")
    html = html[:at] + PROBE + html[at:] if at >= 0 else html + PROBE
    page = work / f"probed-{html_path.name}"
    page.write_text(browser._inject_hook(html), encoding="utf-8")
    profile = Path(tempfile.mkdtemp(prefix="ci-hostile-"))
    try:
        dom = browser._run([CHROMIUM, *browser.chromium_flags(profile), "--dump-dom",
                            page.resolve().as_uri()]).stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    m = re.search(r"<html\b[^>]*>", dom)
    attrs = dict(re.findall(r'\s(data-[\w-]+)="([^"]*)"', m.group(0))) if m else {}
    return dom, attrs, browser._js_errors(dom)


class _Handlers(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.found += [(tag, name) for name, _ in attrs if name.startswith("on")]


def _event_handlers(dom: str) -> list[tuple[str, str]]:
    """Elements in the DOM with an inline event handler attribute (onerror=, onload=, ...)."""
    parser = _Handlers()
    parser.feed(dom)
    return parser.found


def test_probe_sees_an_executed_payload(tmp_path):
    """Control: the same probe on a page with the payload left unescaped reports it ran."""
    _require_chromium()
    page = tmp_path / "control.html"
    page.write_text(f"<!DOCTYPE html><html><head><title>c</title></head><body><p>{LABEL}</p>"
                    f"<p>x</p></body></html>", encoding="utf-8")
    _dom_text, attrs, _errors = _dom(page, tmp_path)
    assert attrs.get("data-probe") == "ran"
    assert attrs.get("data-pwned") == "1"
    assert _event_handlers(_dom_text) == [("img", "onerror")]


@pytest.mark.parametrize("page", ["services", "ward", "segments"])
def test_no_payload_runs_in_chromium(pages, page, tmp_path):
    _require_chromium()
    dom, attrs, errors = _dom(pages[page], tmp_path)
    assert attrs.get("data-probe") == "ran", "the probe did not run: the page's scripts broke"
    assert attrs.get("data-pwned") == "no"
    assert errors == [], f"JavaScript errors: {errors}"
    assert "leaflet-container" in dom
    assert len(re.findall(r"<path\b[^>]*class=\"[^\"]*leaflet-interactive", dom)) >= 6
    assert _event_handlers(dom) == []
    # The attribution is shown, as text.
    attribution = re.search(r'class="leaflet-control-attribution[^"]*">(.*?)</div>', dom, re.S)
    assert attribution
    assert "&lt;/script&gt;&lt;script&gt;window.PWNED=3&lt;/script&gt;" in attribution.group(1)


def test_layer_control_shows_names_as_text_and_legends_follow(pages, tmp_path):
    _require_chromium()
    dom, attrs, errors = _dom(pages["services"], tmp_path)
    assert errors == []
    control = re.search(r'class="leaflet-control-layers-base">(.*?)</div>', dom, re.S)
    assert control, "no layer control"
    names = re.findall(r"<span>([^<]*)</span>", control.group(1))  # the label span after the input
    assert [n.strip() for n in names] == [
        '&lt;img src=data:, onerror="window.PWNED=1"&gt;Libraries',
        'Opt "q" &lt;b onmouseover=x&gt;bold&lt;/b&gt; &lt;svg onload="window.PWNED=2"&gt;&lt;/svg&gt;',
    ]
    # The probe switched to the second layer: only its legend is shown.
    assert attrs.get("data-legends-shown") == "1"


# --- charts --------------------------------------------------------------------------


def _profile(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "segment_code": [*[str(i + 1) for i in range(len(names))], "Total"],
        "segment_name": [*names, ""],
        "index": [*np.linspace(60, 150, len(names)), 100.0],
        "index_lower": [*np.linspace(50, 130, len(names)), 100.0],
        "index_upper": [*np.linspace(70, 170, len(names)), 100.0],
    })


def test_index_chart_draws_dollar_labels(tmp_path):
    names = [MATH_LABEL, BROKEN_MATH, "a $x^$ b", "Cost $5 to $10", *WARD_NAMES[:2]]
    profile = _profile(names)
    hidden = pd.Series(False, index=profile.index)
    hidden.iloc[1] = True
    chart = index_chart(profile, hidden, tmp_path / "c.png", f"{BROKEN_MATH}: index by segment",
                        symbol="$", xlabel=f"Index {MATH_LABEL}")
    with Image.open(chart.path) as img:
        assert img.format == "PNG" and img.size[0] == 800 and img.size[1] > 200
    assert set(chart.plotted) == {"1", "3", "4", "5", "6"}
    assert chart.alt.startswith(f"{BROKEN_MATH}: index by segment.")  # alt text keeps the title as typed


def test_channel_chart_draws_dollar_channels(tmp_path):
    rows = []
    for seg, name in (("1", BROKEN_MATH), ("2", MATH_LABEL)):
        for ch, idx in (("$web{$", 80.0), ("phone $x^$", 120.0), ("unknown", 100.0)):
            rows.append({"segment_code": seg, "segment_name": name, "channel": ch, "index": idx,
                         "significance": "no clear difference"})
    rows.append({"segment_code": "Total", "segment_name": "", "channel": "all", "index": 100.0,
                 "significance": ""})
    frame = pd.DataFrame(rows)
    chart = channel_chart(frame, pd.Series(False, index=frame.index), tmp_path / "ch.png",
                          f"{BROKEN_MATH} channels", symbol="$")
    with Image.open(chart.path) as img:
        assert img.format == "PNG"
    assert chart.plotted == {"1|$web{$": 80.0, "1|phone $x^$": 120.0, "2|$web{$": 80.0,
                             "2|phone $x^$": 120.0}


# --- report templates ------------------------------------------------------------------


def _report_env():
    from pipeline.render.report import _ENV

    return _ENV


@pytest.mark.parametrize("template", ["service.html.j2", "index.html.j2", "portrait.html.j2"])
def test_report_templates_autoescape(template):
    env = _report_env()
    assert env.autoescape(template) is True  # (select_autoescape gives a function of the name)
    table = SimpleNamespace(columns=[LABEL, "Name"], rows=[[WARD_NAMES[4], SEGMENT_NAMES["2"]]])
    html = env.get_template(template).render(
        title=TITLE, label=LABEL, area=OPTION, attribution=ATTRIBUTION, run="r",
        headlines=[SimpleNamespace(view="segment", codes=[OPTION], text=LABEL)],
        chart={"href": "charts/x.png", "alt": OPTION}, interval_note=ATTRIBUTION,
        segment_table=table, ward_table=table, extras=[], match=[(LABEL, OPTION)],
        key_figures=[(LABEL, OPTION)], method=[ATTRIBUTION], definitions=[(LABEL, ATTRIBUTION)],
        warnings=[LABEL], map_href="m.html", workbook_href="w.xlsx",
        services=[{"label": LABEL, "report": "r.html", "map": "m.html", "workbook": "w.xlsx",
                   "csvs": ["a.csv"], "name": OPTION, "service_count": OPTION, "base_count": 1,
                   "penetration_pct": 1, "index": 1}],
        links=[("x.html", LABEL)],
        segments=[{"segment": "1", "segment_name": SEGMENT_NAMES["2"], "colour": '#fff"><b>x</b>',
                   "n_oas": 1}],
        seg={"segment": "1", "segment_name": SEGMENT_NAMES["3"], "colour": "#fff", "supergroup": "1",
             "supergroup_name": OPTION},
        portrait=ATTRIBUTION, n_oas=1, symbol="<#>",
    )
    assert _markup_left(html) == [], template
    assert "<b>x</b>" not in html
    assert "&lt;img src=data:, onerror=&#34;window.PWNED=1&#34;&gt;Libraries" in html


def test_service_report_payloads_inert_in_chromium(pages, tmp_path):
    """A report page with hostile strings everywhere, embedding the hostile ward map."""
    _require_chromium()
    env = _report_env()
    table = SimpleNamespace(columns=["Code", LABEL], rows=[["1", WARD_NAMES[4]], ["2", SEGMENT_NAMES["2"]]])
    html = env.get_template("service.html.j2").render(
        title=TITLE, label=LABEL, area=OPTION, attribution=ATTRIBUTION,
        headlines=[SimpleNamespace(view="segment", codes=["1"], text=LABEL)],
        chart={"href": "charts/x.png", "alt": OPTION}, interval_note="n", segment_table=table,
        ward_table=table, extras=[], match=[(LABEL, "1")], key_figures=[(LABEL, OPTION)],
        method=[ATTRIBUTION], definitions=[("Sources and attribution", ATTRIBUTION)], warnings=[],
        map_href=pages["ward"].name, workbook_href="w.xlsx",
    )
    report = pages["ward"].parent / "hostile_report.html"
    report.write_text(html, encoding="utf-8")
    dom, attrs, errors = _dom(report, tmp_path)
    assert attrs.get("data-probe") == "ran" and attrs.get("data-pwned") == "no"
    assert _event_handlers(dom) == []
    assert "<h1>&lt;img src=data:, onerror=\"window.PWNED=1\"&gt;Libraries</h1>" in dom
    assert [e for e in errors if "charts/x.png" not in e] == []  # the missing chart file only


# --- CSVs ----------------------------------------------------------------------------


def test_segment_csvs_have_no_formula_cells(tmp_path):
    from segments.build import SegmentResult
    from segments.outputs import write_segments

    codes = list(SEGMENT_NAMES)
    names = pd.DataFrame({"level": "supergroup", "segment": codes,
                          "segment_name": [SEGMENT_NAMES[c] for c in codes],
                          "description": ["-minus start", "+plus", "\tTab", "@at"],
                          "colour": ["#332288", "#88CCEE", "#44AA99", "#117733"]})
    assignments = pd.DataFrame({"oa21cd": [f"E0000000{i}" for i in range(8)],
                                "segment": [codes[i % 4] for i in range(8)],
                                "supergroup": [codes[i % 4] for i in range(8)]})
    portraits = names.assign(households=[-1, 2, 3, 4], oas=2, distinctive="=1+1")
    result = SegmentResult(assignments=assignments, names=names, centres=pd.DataFrame(),
                           variables=pd.DataFrame(), wcss=0.0, pen_portraits=portraits)
    folder = write_segments(SimpleNamespace(outputs=tmp_path), result)
    written = sorted(folder.glob("*.csv"))
    assert {p.name for p in written} >= {"segments_oa.csv", "segment_names.csv", "pen_portraits.csv",
                                         "names_template.csv"}
    for path in written:
        with path.open(encoding="utf-8", newline="") as f:
            cells = [c for row in csv.reader(f) for c in row]
        bad = formula_cells(cells)
        assert bad == [], path.name
    back = pd.read_csv(folder / "segment_names.csv", dtype=str, keep_default_na=False)
    assert back["segment_name"].tolist()[0] == "'" + SEGMENT_NAMES["1"]  # kept, as text
    assert back["segment_name"].tolist()[1] == SEGMENT_NAMES["2"]  # not a formula start: as is
    assert pd.read_csv(folder / "pen_portraits.csv")["households"].tolist() == [-1, 2, 3, 4]

