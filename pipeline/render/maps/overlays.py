"""Overlays drawn over the ward layers, each switchable in the layer control: target Output Areas
(a thick dashed outline), service points' catchments (thin outlines) and the service points
(circle markers), with their names and labels escaped as text."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely

from pipeline.config import WGS84
from pipeline.escape import html_text
from pipeline.render.maps.geometry import COORD_DECIMALS, prepare_wards

TARGET_COLOUR = "#000000"
POINT_COLOUR = "#7a0177"


def add_targets(m: folium.Map, targets: gpd.GeoDataFrame, tolerance_m: float) -> None:
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


def add_catchments(m: folium.Map, catchments: gpd.GeoDataFrame, tolerance_m: float) -> None:
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


def add_points(m: folium.Map, points: gpd.GeoDataFrame) -> None:
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
