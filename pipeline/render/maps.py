"""Self-contained ward choropleth maps (one HTML file, no network needed to view).

Council intranets often block CDNs, so every map is a single HTML file:

* Leaflet's JS/CSS are inlined from the installed ``xstatic-leaflet`` package;
* folium's default CDN assets (jQuery, Bootstrap, Font Awesome, awesome-markers) are
  switched off on the ``Map`` instance and anything left is stripped by
  :func:`pipeline.render.offline.make_offline`;
* no base tiles unless a tile URL is passed explicitly;
* the legend and title are plain inline HTML/CSS (no branca colormap, which pulls d3);
* folium's random element ids are replaced by sequential ones so the same input gives a
  byte-identical file.

Suppressed values never reach the page: only the caller's display strings (``"#"`` where
suppressed) go into the GeoJSON properties, never the raw counts.

Every caller string is text, never markup (:mod:`pipeline.escape`): Leaflet inserts layer names,
attributions, tooltips and pop-ups as HTML, so each is passed through ``html_text`` before it
reaches folium or Leaflet, and strings written into the page's own scripts go through
``js_string``/``script_json`` as well, so that not even ``</script>`` can end a script early.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from pipeline.config import BNG as BRITISH_NATIONAL_GRID
from pipeline.config import WGS84
from pipeline.escape import html_text, js_string
from pipeline.publish.notes import DEFAULT_ATTRIBUTION
from pipeline.render.offline import (
    assert_offline,
    inline_leaflet_tags,
    make_offline,
)
from segments.naming import short_label

logger = logging.getLogger(__name__)

__all__ = [
    "PALETTE",
    "SUPPRESSED_COLOUR",
    "class_breaks",
    "layered_map",
    "multi_service_map",
    "prepare_wards",
    "segment_map",
]

#: Viridis, 5 classes: sequential, perceptually uniform and colour-blind safe.
PALETTE: tuple[str, ...] = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
#: Index bands diverging around 100 (ColorBrewer RdBu, colour-blind safe): blue = fewer users
#: than the households predict, red = more.
INDEX_BANDS: tuple[float, ...] = (80.0, 95.0, 105.0, 120.0)
INDEX_PALETTE: tuple[str, ...] = ("#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b")
INDEX_BAND_LABELS: tuple[str, ...] = (
    "80 or under (well below)", "80 – 95", "95 – 105 (about average)", "105 – 120",
    "over 120 (well above)",
)
SUPPRESSED_COLOUR = "#bdbdbd"
SUPPRESSED_HATCH = "#6e6e6e"
TARGET_COLOUR = "#000000"
HATCH_ID = "ci-suppressed-hatch"

SIMPLIFY_TOLERANCE_M = 5.0
COORD_DECIMALS = 6

_LEGEND_TITLES = {
    "penetration_pct": "Penetration (% of households)",
    "index": "Index (100 = base average)",
}
_PLACEHOLDER = "<!--ci-inline-leaflet-->"
_FOLIUM_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


# --- geometry ------------------------------------------------------------------------


def _round_coords(geom: shapely.Geometry, decimals: int = COORD_DECIMALS) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def _simplify(geoms: gpd.GeoSeries, tolerance: float) -> gpd.GeoSeries:
    """Simplify a ward coverage keeping shared edges shared (falls back per polygon)."""
    if tolerance <= 0:
        return geoms
    values = np.asarray(geoms.values, dtype=object)
    try:
        simplified = shapely.coverage_simplify(values, tolerance)
        if not all(shapely.is_valid(simplified)) or any(shapely.is_empty(simplified)):
            raise ValueError("coverage simplification produced invalid/empty polygons")
    except Exception as exc:  # noqa: BLE001 - any GEOS failure -> safe fallback
        logger.debug("coverage_simplify failed (%s); using simplify(preserve_topology)", exc)
        simplified = shapely.simplify(values, tolerance, preserve_topology=True)
    return gpd.GeoSeries(simplified, index=geoms.index, crs=geoms.crs)


def _outline(
    geoms: gpd.GeoSeries, tolerance: float, gap_m: float = 1.0, min_hole_m2: float = 10_000.0
) -> shapely.Geometry:
    """Dissolved borough boundary without the slivers left by imperfectly matched wards.

    Ward boundaries are rarely perfectly edge-matched, so the plain union has thin gaps
    along internal edges. A morphological closing (buffer out then in by *gap_m*, mitred
    so corners stay sharp) seals gaps up to ``2 * gap_m`` wide; holes still under
    *min_hole_m2* (1 ha) are dropped, real enclaves are kept.
    """
    union = shapely.union_all(np.asarray(geoms.values, dtype=object))
    if gap_m > 0:
        union = union.buffer(gap_m, join_style="mitre").buffer(-gap_m, join_style="mitre")
    parts = []
    for poly in shapely.get_parts(union):
        if not isinstance(poly, shapely.Polygon) or poly.is_empty:
            continue
        holes = [r for r in poly.interiors if shapely.Polygon(r).area >= min_hole_m2]
        parts.append(shapely.Polygon(poly.exterior, holes))
    if not parts:
        return union
    outline = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
    return shapely.simplify(outline, tolerance, preserve_topology=True) if tolerance > 0 else outline


def prepare_wards(
    wards: gpd.GeoDataFrame, tolerance_m: float = SIMPLIFY_TOLERANCE_M, decimals: int = COORD_DECIMALS
) -> tuple[gpd.GeoDataFrame, shapely.Geometry]:
    """Simplify in British National Grid, dissolve the borough outline, reproject to WGS84.

    Returns ``(wards_wgs84, outline_wgs84)`` with coordinates rounded to *decimals* places
    (6 decimals of a degree are about 0.1 m; 5 about 1 m).
    """
    if wards.crs is None:
        logger.warning("Ward geometries have no CRS; assuming %s", BRITISH_NATIONAL_GRID)
        wards = wards.set_crs(BRITISH_NATIONAL_GRID)
    bng = wards.to_crs(BRITISH_NATIONAL_GRID) if wards.crs != BRITISH_NATIONAL_GRID else wards
    bng = bng.copy()
    bng["geometry"] = bng.geometry.make_valid()
    outline = _outline(bng.geometry, tolerance_m)
    bng["geometry"] = _simplify(bng.geometry, tolerance_m)
    outline_wgs = gpd.GeoSeries([outline], crs=BRITISH_NATIONAL_GRID).to_crs(WGS84).iloc[0]
    out = bng.to_crs(WGS84)
    out["geometry"] = out.geometry.map(lambda g: _round_coords(g, decimals))
    return out, _round_coords(outline_wgs, decimals)


# --- classification ------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def class_breaks(values: pd.Series | np.ndarray | list[float], k: int = 5) -> list[float]:
    """Quantile break points (upper bounds of the first ``k-1`` classes), distinct, sorted.

    Fewer than ``k`` distinct values give fewer classes; no valid values give ``[]``.
    """
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return []
    distinct = np.unique(arr)
    if distinct.size <= k:
        return [float(v) for v in distinct[:-1]]
    qs = np.quantile(arr, np.linspace(0, 1, k + 1)[1:-1])
    edges = sorted({round(float(q), 6) for q in qs})
    return [e for e in edges if e < distinct.max()]


def _palette_for(n_classes: int) -> list[str]:
    if n_classes <= 0:
        return []
    if n_classes >= len(PALETTE):
        return list(PALETTE)
    idx = np.linspace(0, len(PALETTE) - 1, n_classes).round().astype(int)
    return [PALETTE[i] for i in idx]


def _classify(value: float, breaks: list[float]) -> int:
    """Class index: ``v <= breaks[0]`` -> 0, ..., ``v > breaks[-1]`` -> len(breaks)."""
    return int(np.searchsorted(np.asarray(breaks, dtype=float), value, side="left"))


def _fmt(v: float) -> str:
    return f"{v:,.1f}"


def _legend_labels(breaks: list[float], values: np.ndarray) -> list[str]:
    """One label per class from the values actually in it ("min – max", or one value)."""
    if values.size == 0:
        return []
    classes = np.searchsorted(np.asarray(breaks, dtype=float), values, side="left")
    bounds = [-np.inf, *breaks, np.inf]
    labels = []
    for k in range(len(breaks) + 1):
        members = values[classes == k]
        if members.size:
            lo, hi = float(members.min()), float(members.max())
        else:  # empty quantile class (heavy ties): show its break interval
            lo, hi = float(max(bounds[k], values.min())), float(min(bounds[k + 1], values.max()))
        labels.append(_fmt(lo) if _fmt(lo) == _fmt(hi) else f"{_fmt(lo)} – {_fmt(hi)}")
    return labels


# --- HTML pieces ---------------------------------------------------------------------

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


def _legend_html(
    title: str, colours: list[str], labels: list[str], suppressed_symbol: str, any_suppressed: bool
) -> str:
    """The legend box; *title*, *labels*, colours and the symbol are plain text (escaped here)."""
    rows = [
        f'<div class="ci-row"><span class="ci-swatch" style="background:{html_text(c)}"></span>'
        f"<span>{html_text(label)}</span></div>"
        for c, label in zip(colours, labels, strict=True)
    ]
    if any_suppressed:
        sym = html_text(suppressed_symbol)
        rows.append(
            '<div class="ci-row"><span class="ci-swatch ci-hatch"></span>'
            f"<span>Suppressed ({sym}): too few to show</span></div>"
        )
    return (
        f'<div class="ci-box ci-legend" role="region" aria-label="Legend">'
        f"<h4>{html_text(title)}</h4>{''.join(rows)}</div>"
    )


def _format_number(value: Any, decimals: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return f"{float(value):,.{decimals}f}"


def _display(
    row: Mapping[str, Any], column: str, symbol: str, decimals: int, fallback: str | None = None
) -> str:
    """Display text for a tooltip field: the caller's string escaped; numbers formatted.

    Only ``fallback`` columns that are never suppressed (households) may fill a gap; a
    missing display value otherwise shows the suppression symbol, never a raw value.
    """
    value = row.get(column)
    if _is_missing(value) and fallback is not None:
        value = row.get(fallback)
    if _is_missing(value):
        return html_text(symbol)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _format_number(value, decimals)
    return html_text(value)


def _features(
    wards: gpd.GeoDataFrame,
    value_column: str,
    breaks: list[float],
    colours: list[str],
    suppressed_symbol: str,
) -> tuple[dict[str, Any], bool]:
    """GeoJSON with only display strings and styling in the properties (no raw counts)."""
    features = []
    any_suppressed = False
    for _, row in wards.iterrows():
        value = row.get(value_column)
        count_display = row.get("service_count_display")
        suppressed = _is_missing(value) or (
            isinstance(count_display, str) and count_display.strip() == suppressed_symbol
        )
        if suppressed:
            any_suppressed = True
            fill, cls = f"url(#{HATCH_ID})", "suppressed"
        else:
            fill, cls = colours[_classify(float(value), breaks)], "value"
        props = {
            "ward_code": html_text(row.get("ward_code", "")),
            "ward_name": html_text(row.get("ward_name", "")),
            "count": _display(row, "service_count_display", suppressed_symbol, 0),
            "households": _display(row, "households_display", suppressed_symbol, 0, "households"),
            "penetration": _display(row, "penetration_display", suppressed_symbol, 2),
            "index": _display(row, "index_display", suppressed_symbol, 0),
            "fill": fill,
            "cls": cls,
        }
        for extra in _INTERVAL_FIELDS:
            if f"{extra}_display" in wards.columns:
                props[extra] = _display(row, f"{extra}_display", suppressed_symbol, 2)
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": shapely.geometry.mapping(row.geometry),
            }
        )
    return {"type": "FeatureCollection", "features": features}, any_suppressed


def _style(feature: dict[str, Any]) -> dict[str, Any]:
    p = feature["properties"]
    suppressed = p["cls"] == "suppressed"
    return {
        "fillColor": p["fill"],
        "fillOpacity": 0.9 if suppressed else 0.8,
        "color": "#ffffff",
        "weight": 1,
        "opacity": 1,
    }


def _highlight(_feature: dict[str, Any]) -> dict[str, Any]:
    return {"weight": 3, "color": "#000000"}


_TOOLTIP_FIELDS = ["ward_name", "count", "households", "penetration", "index"]
_TOOLTIP_ALIASES = ["Ward", "Service users", "Households", "Penetration (%)", "Index"]
#: Optional tooltip rows, shown when the caller passes ``<field>_display`` columns.
_INTERVAL_FIELDS = {
    "penetration_interval": "Penetration 95% interval",
    "index_interval": "Index 95% interval",
}


def _tooltip_fields(columns) -> tuple[list[str], list[str]]:
    """Tooltip fields and their labels (escaped: folium's tooltip inserts them as HTML)."""
    fields, aliases = list(_TOOLTIP_FIELDS), list(_TOOLTIP_ALIASES)
    for field, alias in _INTERVAL_FIELDS.items():
        if f"{field}_display" in columns:
            at = fields.index("index" if field == "index_interval" else "penetration") + 1
            fields.insert(at, field)
            aliases.insert(at, alias)
    return fields, [html_text(a) for a in aliases]


# --- map assembly --------------------------------------------------------------------


def _new_map(bounds: tuple[float, float, float, float], tiles: str | None, tiles_attr: str):
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


def _add_outline(m: folium.Map, outline: shapely.Geometry) -> None:
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


def _add_map_js(m: folium.Map, code: str, **values: str) -> None:
    """Append *code* to run after the map exists: ``{map}`` -> the map's JS variable and
    ``{name}`` -> ``values[name]``, a JavaScript expression the caller made safe (``js_string``,
    ``script_json``). Slots are filled in one pass, so a value is never itself searched for
    slots."""
    values = {"map": m.get_name(), **values}
    m.add_child(_MapScript(_JS_SLOT.sub(lambda mt: values.get(mt.group(1), mt.group(0)), code)))


def _finish(m: folium.Map, title: str, legend: str, attribution: str, tiles: str | None) -> str:
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
    _add_map_js(
        m,
        "(function () { var legend = L.control({position: 'bottomright'});"
        " legend.onAdd = function () { var el = document.getElementById('ci-legend-control');"
        " L.DomEvent.disableClickPropagation(el); return el; }; legend.addTo({map}); })();",
    )
    # Leaflet inserts an attribution as HTML: escape it as text, then as a script string.
    _add_map_js(m, "{map}.attributionControl.addAttribution({text});",
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


def _write(html: str, out_html: Path) -> Path:
    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    out_html.write_bytes(html.encode("utf-8"))
    logger.info("Wrote map %s (%.0f kB)", out_html, len(html) / 1024)
    return out_html


def _ward_layer(
    wards_wgs: gpd.GeoDataFrame,
    value_column: str,
    suppressed_symbol: str,
    name: str,
    show: bool = True,
) -> tuple[folium.GeoJson, str, bool]:
    if value_column not in wards_wgs.columns:
        raise KeyError(f"value column {value_column!r} not in ward data")
    values = pd.to_numeric(wards_wgs[value_column], errors="coerce")
    valid = values[np.isfinite(values.to_numpy(dtype=float))].to_numpy(dtype=float)
    if value_column == "index":  # fixed bands diverging around 100, comparable across services
        breaks, colours, labels = list(INDEX_BANDS), list(INDEX_PALETTE), list(INDEX_BAND_LABELS)
    else:
        breaks = class_breaks(valid)
        colours = _palette_for(len(breaks) + 1 if valid.size else 0)
        labels = _legend_labels(breaks, valid)
    data, any_suppressed = _features(wards_wgs, value_column, breaks, colours, suppressed_symbol)
    fields, aliases = _tooltip_fields(wards_wgs.columns)
    layer = folium.GeoJson(
        data,
        name=html_text(name),  # the layer control shows names as HTML
        show=show,
        style_function=_style,
        highlight_function=_highlight,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True, labels=True),
    )
    legend_title = _LEGEND_TITLES.get(value_column, value_column.replace("_", " ").capitalize())
    legend = _legend_html(legend_title, colours, labels, suppressed_symbol, any_suppressed)
    return layer, legend, any_suppressed


def multi_service_map(
    wards_by_service: Mapping[str, gpd.GeoDataFrame],
    out_html: Path,
    title: str,
    value_column: str = "penetration_pct",
    suppressed_symbol: str = "#",
    attribution: str = DEFAULT_ATTRIBUTION,
    tiles: str | None = None,
    tiles_attribution: str = "Base map",
    simplify_tolerance_m: float = SIMPLIFY_TOLERANCE_M,
) -> Path:
    """One ward layer per service (radio-button switcher); legends switch with the layer.

    Each service is classified on its own breaks, so colours compare wards within a
    service, not across services.
    """
    if not wards_by_service:
        raise ValueError("no services to map")
    layers = [(service, wards, value_column) for service, wards in wards_by_service.items()]
    return layered_map(layers, out_html, title, suppressed_symbol=suppressed_symbol,
                       attribution=attribution, tiles=tiles, tiles_attribution=tiles_attribution,
                       simplify_tolerance_m=simplify_tolerance_m)


def layered_map(
    layers: Sequence[tuple[str, gpd.GeoDataFrame, str]],
    out_html: Path,
    title: str,
    suppressed_symbol: str = "#",
    attribution: str = DEFAULT_ATTRIBUTION,
    tiles: str | None = None,
    tiles_attribution: str = "Base map",
    simplify_tolerance_m: float = SIMPLIFY_TOLERANCE_M,
    targets: gpd.GeoDataFrame | None = None,
    points: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
) -> Path:
    """Ward choropleths as switchable layers ``(layer name, wards, value column)``.

    The layers are radio buttons (one at a time) and each layer's legend shows with it.
    ``value_column="index"`` uses the fixed bands diverging around 100; anything else
    quantile classes. *targets* (optional, EPSG:27700, columns ``oa21cd`` and optionally
    ``label``) is drawn as an outlined overlay that can be switched on and off. *points* (service
    points, EPSG:27700, ``name`` and ``label``) and *catchments* (polygons, ``name`` and ``label``)
    are overlays too.
    """
    if not layers:
        raise ValueError("no layers to map")
    prepared: dict[int, gpd.GeoDataFrame] = {}
    first_wgs, outline = prepare_wards(layers[0][1], simplify_tolerance_m)
    prepared[id(layers[0][1])] = first_wgs
    m = _new_map(tuple(first_wgs.total_bounds), tiles, tiles_attribution)
    legends: list[str] = []
    layer_vars: list[str] = []
    for i, (name, wards, column) in enumerate(layers):
        if id(wards) not in prepared:
            prepared[id(wards)] = prepare_wards(wards, simplify_tolerance_m)[0]
        layer, legend, _ = _ward_layer(prepared[id(wards)], column, suppressed_symbol, name=name,
                                       show=(i == 0))
        layer.overlay = False  # base layers -> radio buttons, one at a time
        layer.add_to(m)
        layer_vars.append(layer.get_name())
        legends.append(
            legend.replace(
                'class="ci-box ci-legend"',
                f'class="ci-box ci-legend" data-layer="{html_text(name)}" data-layer-index="{i}"'
                + ("" if i == 0 else ' style="display:none"'),
                1,
            )
        )
    _add_outline(m, outline)
    if targets is not None and len(targets):
        _add_targets(m, targets, simplify_tolerance_m)
    if catchments is not None and len(catchments):
        _add_catchments(m, catchments, simplify_tolerance_m)
    if points is not None and len(points):
        _add_points(m, points)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    # The legend follows the layer object, not its (escaped, possibly repeated) name.
    _add_map_js(
        m,
        "(function () { var layers = [{layers}];"
        " {map}.on('baselayerchange', function (e) { var at = String(layers.indexOf(e.layer));"
        " document.querySelectorAll('.ci-legend[data-layer-index]').forEach(function (el) {"
        " el.style.display = el.dataset.layerIndex === at ? '' : 'none'; }); }); })();",
        layers=", ".join(layer_vars),
    )
    html = _finish(m, title, "".join(legends), attribution, tiles)
    return _write(html, out_html)


def _add_targets(m: folium.Map, targets: gpd.GeoDataFrame, tolerance_m: float) -> None:
    """Target OAs as a thick outline overlay (no fill, so the choropleth shows through)."""
    wgs, _ = prepare_wards(targets, tolerance_m)
    label = wgs["label"] if "label" in wgs.columns else pd.Series("Target area", index=wgs.index)
    features = [
        {"type": "Feature",
         "properties": {"oa21cd": html_text(code), "label": html_text(lab)},
         "geometry": shapely.geometry.mapping(geom)}
        for code, lab, geom in zip(wgs["oa21cd"], label, wgs.geometry, strict=True)
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=html_text("Target areas"),  # an overlay in the layer control, which takes HTML
        style_function=lambda _f: {"fill": False, "color": TARGET_COLOUR, "weight": 3,
                                   "dashArray": "6 3"},
        tooltip=folium.GeoJsonTooltip(fields=["oa21cd", "label"],
                                      aliases=[html_text("Output Area"), html_text("Target")]),
        show=True,
    ).add_to(m)


POINT_COLOUR = "#7a0177"


def _add_catchments(m: folium.Map, catchments: gpd.GeoDataFrame, tolerance_m: float) -> None:
    """Each service point's catchment (the OAs nearest to it) as a thin outline overlay."""
    wgs, _ = prepare_wards(catchments, tolerance_m)
    features = [
        {"type": "Feature", "properties": {"name": html_text(n), "label": html_text(lab)},
         "geometry": shapely.geometry.mapping(geom)}
        for n, lab, geom in zip(wgs["name"], wgs["label"], wgs.geometry, strict=True)
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=html_text("Catchments (nearest service point)"),
        style_function=lambda _f: {"fill": False, "color": POINT_COLOUR, "weight": 2, "opacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=["label"], aliases=[html_text("Catchment")]),
        show=True,
    ).add_to(m)


def _add_points(m: folium.Map, points: gpd.GeoDataFrame) -> None:
    """Service points as circle markers with their name and catchment in the tooltip."""
    wgs = points.to_crs(WGS84)
    group = folium.FeatureGroup(name=html_text("Service points"), show=True)
    for lab, geom in zip(wgs["label"], wgs.geometry, strict=True):
        folium.CircleMarker(
            location=[round(geom.y, COORD_DECIMALS), round(geom.x, COORD_DECIMALS)], radius=7,
            color="#ffffff", weight=2, fill=True, fill_color=POINT_COLOUR, fill_opacity=1.0,
            tooltip=html_text(str(lab)),
        ).add_to(group)
    group.add_to(m)


# --- segment map ---------------------------------------------------------------------


#: Characters of a segment-map legend entry (``code name``), so each takes one line.
LEGEND_LABEL_MAX = 38


def segment_map(
    oas: gpd.GeoDataFrame,
    out_html: Path,
    title: str,
    attribution: str = DEFAULT_ATTRIBUTION,
    tiles: str | None = None,
    tiles_attribution: str = "Base map",
    simplify_tolerance_m: float = SIMPLIFY_TOLERANCE_M,
    decimals: int = 5,
    guide_href: str | None = None,
) -> Path:
    """Output Areas coloured by segment (one colour per supergroup), self-contained HTML; the
    legend names each supergroup in short (``code name`` fitted, never cut mid-word) and links to
    the segment guide when *guide_href* is given.

    *oas* is in EPSG:27700 with ``oa21cd``, ``segment``, ``segment_name``, ``colour`` and
    optionally ``legend_key``/``legend_label`` (the supergroup a colour stands for) and
    ``portrait`` (relative link to the segment's pen portrait, shown in the click pop-up).
    Coordinates are rounded to *decimals* (5 = about 1 m) to keep the file small.
    """
    if len(oas) == 0:
        raise ValueError("no Output Areas to map")
    wgs, outline = prepare_wards(oas, simplify_tolerance_m, decimals)
    m = _new_map(tuple(wgs.total_bounds), tiles, tiles_attribution)
    has_link = "portrait" in wgs.columns
    features = []
    for row in wgs.itertuples(index=False):
        props = {
            "oa21cd": html_text(row.oa21cd),
            "segment": html_text(row.segment),
            "segment_name": html_text(row.segment_name),
            "fill": str(row.colour),  # a style value (set by Leaflet as an attribute), not HTML
        }
        if has_link:
            href = html_text(row.portrait)
            props["link"] = f'<a href="{href}" target="_top">Pen portrait of segment {props["segment"]}</a>'
        features.append({"type": "Feature", "properties": props,
                          "geometry": shapely.geometry.mapping(row.geometry)})
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="Segments",
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.8,
                                  "color": "#ffffff", "weight": 0.6, "opacity": 1},
        highlight_function=_highlight,
        tooltip=folium.GeoJsonTooltip(fields=["oa21cd", "segment", "segment_name"],
                                      aliases=[html_text(a) for a in ("Output Area", "Segment", "Name")],
                                      sticky=True),
        popup=folium.GeoJsonPopup(fields=["link"], labels=False) if has_link else None,
    ).add_to(m)
    _add_outline(m, outline)
    key = "legend_key" if "legend_key" in wgs.columns else "segment"
    label = "legend_label" if "legend_label" in wgs.columns else "segment_name"
    legend_rows = (wgs[[key, label, "colour"]].drop_duplicates(key)
                   .sort_values(key, key=lambda s: s.astype(str).str.zfill(4)))
    legend = _legend_html("Segments", list(legend_rows["colour"]),
                          [short_label(k, n, LEGEND_LABEL_MAX)
                           for k, n in zip(legend_rows[key], legend_rows[label], strict=True)],
                          "#", False)
    if guide_href:
        link = f'<div class="ci-row"><a href="{html_text(guide_href)}" target="_top">Segment guide</a></div>'
        legend = legend[: -len("</div>")] + link + "</div>"  # inside the legend box
    html = _finish(m, title, legend, attribution, tiles)
    return _write(html, out_html)
