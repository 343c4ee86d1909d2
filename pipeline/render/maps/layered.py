"""Ward choropleths as switchable layers: one ward layer (classes, features, tooltip and legend)
per (name, wards, value column), radio buttons with the legend following the layer, the overlays on
top (`layered_map`); one layer per service (`multi_service_map`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from pipeline.escape import html_text
from pipeline.publish.notes import DEFAULT_ATTRIBUTION
from pipeline.render.maps.classes import (
    INDEX_BAND_LABELS,
    INDEX_BANDS,
    INDEX_PALETTE,
    class_breaks,
    legend_html,
    legend_labels,
    palette_for,
)
from pipeline.render.maps.features import feature_style, highlight, tooltip_fields, ward_features
from pipeline.render.maps.geometry import COORD_DECIMALS, SIMPLIFY_TOLERANCE_M, PreparedWards, prepare_wards
from pipeline.render.maps.overlays import add_catchments, add_points, add_targets
from pipeline.render.maps.page import add_map_js, add_outline, finish_page, new_map, write_page

_LEGEND_TITLES = {
    "penetration_pct": "Penetration (% of households)",
    "index": "Index (100 = base average)",
}


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
        colours = palette_for(len(breaks) + 1 if valid.size else 0)
        labels = legend_labels(breaks, valid)
    data, any_suppressed = ward_features(wards_wgs, value_column, breaks, colours, suppressed_symbol)
    fields, aliases = tooltip_fields(wards_wgs.columns)
    layer = folium.GeoJson(
        data,
        name=html_text(name),  # the layer control shows names as HTML
        show=show,
        style_function=feature_style,
        highlight_function=highlight,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True, labels=True),
    )
    legend_title = _LEGEND_TITLES.get(value_column, value_column.replace("_", " ").capitalize())
    legend = legend_html(legend_title, colours, labels, suppressed_symbol, any_suppressed)
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
    decimals: int = COORD_DECIMALS,
    prepared: PreparedWards | None = None,
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
                       simplify_tolerance_m=simplify_tolerance_m, decimals=decimals, prepared=prepared)


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
    decimals: int = COORD_DECIMALS,
    prepared: PreparedWards | None = None,
) -> Path:
    """Ward choropleths as switchable layers ``(layer name, wards, value column)``.

    The layers are radio buttons (one at a time) and each layer's legend shows with it.
    ``value_column="index"`` uses the fixed bands diverging around 100; anything else
    quantile classes. *targets* (optional, EPSG:27700, columns ``oa21cd`` and optionally
    ``label``) is drawn as an outlined overlay that can be switched on and off. *points* (service
    points, EPSG:27700, ``name`` and ``label``) and *catchments* (polygons, ``name`` and ``label``)
    are overlays too. Ward coordinates are simplified by *simplify_tolerance_m* (metres) and
    rounded to *decimals* (both scaled to the map's level: ``maps.geometry.level_geometry``).
    *prepared*: the run's wards made ready once (``maps.geometry.prepare_once``), used for each
    layer whose wards are those wards in that order (the same coordinates as preparing it here).
    """
    if not layers:
        raise ValueError("no layers to map")

    def prepare(wards: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, object]:
        done = prepared.layer(wards, "ward_code", simplify_tolerance_m, decimals) if prepared else None
        return done if done is not None else prepare_wards(wards, simplify_tolerance_m, decimals)

    ready: dict[int, gpd.GeoDataFrame] = {}
    first_wgs, outline = prepare(layers[0][1])
    ready[id(layers[0][1])] = first_wgs
    m = new_map(tuple(first_wgs.total_bounds), tiles, tiles_attribution)
    legends: list[str] = []
    layer_vars: list[str] = []
    for i, (name, wards, column) in enumerate(layers):
        if id(wards) not in ready:
            ready[id(wards)] = prepare(wards)[0]
        layer, legend, _ = _ward_layer(ready[id(wards)], column, suppressed_symbol, name=name,
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
    add_outline(m, outline)
    if targets is not None and len(targets):
        add_targets(m, targets, simplify_tolerance_m)
    if catchments is not None and len(catchments):
        add_catchments(m, catchments, simplify_tolerance_m)
    if points is not None and len(points):
        add_points(m, points)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    # The legend follows the layer object, not its (escaped, possibly repeated) name.
    add_map_js(
        m,
        "(function () { var layers = [{layers}];"
        " {map}.on('baselayerchange', function (e) { var at = String(layers.indexOf(e.layer));"
        " document.querySelectorAll('.ci-legend[data-layer-index]').forEach(function (el) {"
        " el.style.display = el.dataset.layerIndex === at ? '' : 'none'; }); }); })();",
        layers=", ".join(layer_vars),
    )
    html = finish_page(m, title, "".join(legends), attribution, tiles)
    return write_page(html, out_html)
