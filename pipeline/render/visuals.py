"""Render: the maps of each (sub-)service. Suppressed values never reach the HTML."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.config import RunConfig
from pipeline.profile import shareable
from pipeline.render.maps import ward_map


def ward_layer(wards: gpd.GeoDataFrame, ward_profile: pd.DataFrame, cfg: RunConfig) -> gpd.GeoDataFrame:
    """Ward polygons with the (suppressed) profile fields the map shows. Raw counts that are
    suppressed are dropped here, so they never reach the HTML."""
    shown = shareable(ward_profile, cfg)
    body = shown[shown["segment_code"] != "Total"].rename(columns={"segment_code": "ward_code"})
    hidden = body["service_count"].eq(cfg.suppression.symbol)
    raw = ward_profile[ward_profile["segment_code"] != "Total"]
    layer = wards.rename(columns={"code": "ward_code", "name": "ward_name"})[
        ["ward_code", "geometry"]
    ].merge(body[["ward_code", "segment_name", "service_count", "base_count",
                  "penetration_pct", "index"]], on="ward_code", how="inner")
    layer = layer.rename(columns={"segment_name": "ward_name"})
    layer["service_count_display"] = layer.pop("service_count")
    layer["penetration_display"] = layer.pop("penetration_pct")
    layer["index_display"] = layer.pop("index")
    layer["households"] = layer.pop("base_count").astype(int)
    raw = raw.set_index("segment_code").loc[layer["ward_code"]]
    keep = ~hidden.set_axis(body["ward_code"]).loc[layer["ward_code"]].to_numpy()
    layer["service_count"] = pd.array(
        [int(v) if k else None for v, k in zip(raw["service_count"], keep, strict=True)], dtype="Int64"
    )
    pen, idx = raw["penetration_pct"], raw["index"]
    layer["penetration_pct"] = [float(v) if k else None for v, k in zip(pen, keep, strict=True)]
    layer["index"] = [float(v) if k and v is not None else None for v, k in zip(idx, keep, strict=True)]
    return layer


def write_service_map(
    cfg: RunConfig, name: str, views: dict[str, pd.DataFrame], wards: gpd.GeoDataFrame, title: str
) -> Path:
    """The self-contained ward map (penetration by ward) of one (sub-)service."""
    service = name.split("__")[0]
    layer = ward_layer(wards, views["ward"], cfg)
    return ward_map(layer, cfg.outputs / service / f"{name}_ward_map.html",
                    f"{title}: penetration by ward", suppressed_symbol=cfg.suppression.symbol,
                    attribution=cfg.attribution)
