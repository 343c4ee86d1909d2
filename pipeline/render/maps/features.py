"""The ward layer's GeoJSON features and tooltips: only the caller's display strings (the
suppression symbol where a value is suppressed) and the styling go into a feature's properties, never
a raw count; every string is escaped as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.escape import html_text
from pipeline.render.maps.classes import HATCH_ID, classify


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False



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


def ward_features(
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
            fill, cls = colours[classify(float(value), breaks)], "value"
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


def feature_style(feature: dict[str, Any]) -> dict[str, Any]:
    p = feature["properties"]
    suppressed = p["cls"] == "suppressed"
    return {
        "fillColor": p["fill"],
        "fillOpacity": 0.9 if suppressed else 0.8,
        "color": "#ffffff",
        "weight": 1,
        "opacity": 1,
    }


def highlight(_feature: dict[str, Any]) -> dict[str, Any]:
    return {"weight": 3, "color": "#000000"}


_TOOLTIP_FIELDS = ["ward_name", "count", "households", "penetration", "index"]
_TOOLTIP_ALIASES = ["Ward", "Service users", "Households", "Penetration (%)", "Index"]
#: Optional tooltip rows, shown when the caller passes ``<field>_display`` columns.
_INTERVAL_FIELDS = {
    "penetration_interval": "Penetration 95% interval",
    "index_interval": "Index 95% interval",
}


def tooltip_fields(columns) -> tuple[list[str], list[str]]:
    """Tooltip fields and their labels (escaped: folium's tooltip inserts them as HTML)."""
    fields, aliases = list(_TOOLTIP_FIELDS), list(_TOOLTIP_ALIASES)
    for field, alias in _INTERVAL_FIELDS.items():
        if f"{field}_display" in columns:
            at = fields.index("index" if field == "index_interval" else "penetration") + 1
            fields.insert(at, field)
            aliases.insert(at, alias)
    return fields, [html_text(a) for a in aliases]
