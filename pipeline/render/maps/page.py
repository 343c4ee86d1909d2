"""The page around the layers: a folium map with no CDN assets (Leaflet inlined), the title,
legend control and attribution, scripts run after the map exists, deterministic element ids, the
page language and a zoomable viewport, and the single self-contained HTML file written."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import folium
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from pipeline.escape import html_text, js_string
from pipeline.render.maps.classes import HATCH_ID, SUPPRESSED_COLOUR, SUPPRESSED_HATCH
from pipeline.render.offline import (
    assert_offline,
    inline_leaflet_tags,
    make_offline,
)

# The package's logger, as before the split: its console lines keep the name
logger = logging.getLogger(__package__)

_PLACEHOLDER = "<!--ci-inline-leaflet-->"
_FOLIUM_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")

_CSS = """
<style>
.ci-box {background: rgba(255,255,255,0.92);
  padding: 8px 10px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.35);
  font: 13px/1.35 Arial, Helvetica, sans-serif; color: #222;}
.ci-title {position: absolute; z-index: 1000; top: 10px; left: 54px; right: 54px;
  max-width: 640px; font-size: 15px; font-weight: bold;}
.ci-legends .ci-legend + .ci-legend {margin-top: 6px;}
.leaflet-control-attribution {max-width: 60%; font-size: 11px;}
.ci-legend {max-width: 380px;}
.ci-legend h4 {margin: 0 0 4px; font-size: 13px;}
.ci-legend .ci-row {display: flex; align-items: center; margin: 2px 0;}
.ci-legend .ci-swatch {width: 18px; height: 14px; margin-right: 6px;
  border: 1px solid #555; flex: none;}
.ci-hatch {background: repeating-linear-gradient(45deg, #6e6e6e 0 2px, #bdbdbd 2px 6px);}
.foliumtooltip th {text-align: left;}
</style>
"""

_HATCH_SVG = f"""
<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false">
  <defs>
    <pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="6" height="6"
             patternTransform="rotate(45)">
      <rect width="6" height="6" fill="{SUPPRESSED_COLOUR}"></rect>
      <rect width="2" height="6" fill="{SUPPRESSED_HATCH}"></rect>
    </pattern>
  </defs>
</svg>
"""


def new_map(bounds: tuple[float, float, float, float], tiles: str | None, tiles_attr: str):
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_control=True, zoom_snap=0.25)
    # Only Leaflet is needed; it is inlined later, so no CDN assets at all.
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root.header.add_child(Element(_PLACEHOLDER), name="ci_inline_leaflet", index=0)
    root.header.add_child(Element(_CSS), name="ci_css")
    root.html.add_child(Element(_HATCH_SVG), name="ci_hatch")
    if tiles:
        # Leaflet shows a tile layer's attribution as HTML.
        folium.TileLayer(tiles=tiles, attr=html_text(tiles_attr), name="Base map",
                         control=False).add_to(m)
    minx, miny, maxx, maxy = bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(12, 12))
    return m


def add_outline(m: folium.Map, outline: shapely.Geometry) -> None:
    folium.GeoJson(
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(outline)},
        name="Borough boundary",
        style_function=lambda _f: {"fill": False, "color": "#111111", "weight": 2.5},
        interactive=False,
        control=False,
    ).add_to(m)


class _MapScript(MacroElement):
    """Raw JavaScript rendered after the map (and its earlier children) are defined."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str):
        super().__init__()
        self._name = "CiMapScript"
        self.code = code


_JS_SLOT = re.compile(r"\{(\w+)\}")


def add_map_js(m: folium.Map, code: str, **values: str) -> None:
    """Append *code* to run after the map exists: ``{map}`` -> the map's JS variable and
    ``{name}`` -> ``values[name]``, a JavaScript expression the caller made safe (``js_string``,
    ``script_json``). Slots are filled in one pass, so a value is never itself searched for
    slots."""
    values = {"map": m.get_name(), **values}
    m.add_child(_MapScript(_JS_SLOT.sub(lambda mt: values.get(mt.group(1), mt.group(0)), code)))


def finish_page(m: folium.Map, title: str, legend: str, attribution: str, tiles: str | None) -> str:
    root = m.get_root()
    safe_title = html_text(title)
    root.header.add_child(Element(f"<title>{safe_title}</title>"), name="ci_title_tag")
    root.html.add_child(
        Element(f'<div class="ci-box ci-title" role="heading" aria-level="1">{safe_title}</div>'),
        name="ci_title",
    )
    # The legend becomes a Leaflet control, so Leaflet stacks it above the attribution.
    root.html.add_child(
        Element(f'<div id="ci-legend-control" class="ci-legends">{legend}</div>'),
        name="ci_legend",
    )
    add_map_js(
        m,
        "(function () { var legend = L.control({position: 'bottomright'});"
        " legend.onAdd = function () { var el = document.getElementById('ci-legend-control');"
        " L.DomEvent.disableClickPropagation(el); return el; }; legend.addTo({map}); })();",
    )
    # Leaflet inserts an attribution as HTML: escape it as text, then as a script string.
    add_map_js(m, "{map}.attributionControl.addAttribution({text});",
                text=js_string(html_text(attribution)))
    html = root.render()
    # Deterministic ids: folium uses uuid4 hex; renumber in order of first appearance.
    ids: dict[str, str] = {}
    html = _FOLIUM_ID.sub(lambda mt: ids.setdefault(mt.group(0), f"{len(ids) + 1:04d}"), html)
    html = html.replace(_PLACEHOLDER, inline_leaflet_tags(), 1)
    html = make_offline(html)
    html = _accessible(html)
    html = "\n".join(line.rstrip() for line in html.splitlines()) + "\n"
    if tiles is None:
        assert_offline(html)
    else:
        logger.warning("Map uses base tiles from %s: viewing it needs network access", tiles)
    return html


_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>', re.S)


def _accessible(html: str) -> str:
    """What folium's page template lacks for WCAG 2.2 AA: the page language, and a viewport that
    lets the reader zoom (folium sets maximum-scale=1 and user-scalable=no)."""
    html = html.replace("<html>", '<html lang="en-GB">', 1)
    return _VIEWPORT.sub('<meta name="viewport" content="width=device-width, initial-scale=1.0">', html, 1)


def write_page(html: str, out_html: Path) -> Path:
    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    out_html.write_bytes(html.encode("utf-8"))
    logger.info("Wrote map %s (%.0f kB)", out_html, len(html) / 1024)
    return out_html
