"""Render: the maps of each (sub-)service and of the run. Suppressed values never reach the HTML.

Only the display strings of :func:`pipeline.profile.shareable` and raw values of rows that
survived suppression are passed on to the map writers.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.config import RunConfig
from pipeline.profile import shareable
from pipeline.render.maps import layered_map, multi_service_map, segment_map

logger = logging.getLogger(__name__)


def hidden_rows(profile: pd.DataFrame, cfg: RunConfig) -> pd.Series:
    """True for the rows whose count is suppressed in the shareable table (or flagged
    ``suppressed`` by the profile stage), indexed like *profile*."""
    shown = shareable(profile, cfg)
    hidden = shown["service_count"].astype(str).eq(cfg.suppression.symbol)
    if "suppressed" in profile.columns:
        hidden |= profile["suppressed"].fillna(False).astype(bool)
    return hidden


def _num(value) -> float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def interval_text(lower, upper, decimals: int) -> str:
    """"3.91 – 4.57" from a numeric interval; "" when either end is missing."""
    lo, hi = _num(lower), _num(upper)
    if lo is None or hi is None:
        return ""
    return f"{lo:,.{decimals}f} – {hi:,.{decimals}f}"


def ward_layer(wards: gpd.GeoDataFrame, ward_profile: pd.DataFrame, cfg: RunConfig) -> gpd.GeoDataFrame:
    """Ward polygons with the (suppressed) profile fields the map shows. Raw values of
    suppressed rows are dropped here, so they never reach the HTML or GeoPackage."""
    shown = shareable(ward_profile, cfg)
    is_body = shown["segment_code"] != "Total"
    body = shown[is_body].rename(columns={"segment_code": "ward_code"})
    hidden = hidden_rows(ward_profile, cfg)[is_body]
    raw = ward_profile[is_body]
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
    symbol = cfg.suppression.symbol
    for measure, decimals in (("penetration", 2), ("index", 0)):
        lo, hi = f"{measure}_lower", f"{measure}_upper"
        if lo in raw.columns and hi in raw.columns:
            layer[f"{measure}_interval_display"] = [
                (interval_text(a, b, decimals) or "not available") if k else symbol
                for a, b, k in zip(raw[lo], raw[hi], keep, strict=True)
            ]
    return layer


def targets_layer(views: dict[str, pd.DataFrame], oas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The target OAs of the profile stage (a ``targets`` view with ``oa21cd``), or None."""
    targets = views.get("targets")
    if oas is None or targets is None or "oa21cd" not in getattr(targets, "columns", []):
        return None
    codes = targets["oa21cd"].astype(str)
    layer = oas.rename(columns={"code": "oa21cd"})[["oa21cd", "geometry"]]
    layer = layer[layer["oa21cd"].isin(set(codes))].copy()
    label = next((c for c in ("reason", "label", "segment_name", "segment") if c in targets.columns), None)
    if label:
        layer["label"] = layer["oa21cd"].map(dict(zip(codes, targets[label].astype(str), strict=False)))
    return layer


def service_map_path(cfg: RunConfig, name: str) -> Path:
    return cfg.outputs / name.split("__")[0] / f"{name}_ward_map.html"


def write_service_map(
    cfg: RunConfig, name: str, views: dict[str, pd.DataFrame], wards: gpd.GeoDataFrame, title: str,
    oas: gpd.GeoDataFrame | None = None,
) -> Path:
    """The self-contained ward map of one (sub-)service: penetration and index layers
    (and the target OAs when the profile stage gives them)."""
    layer = ward_layer(wards, views["ward"], cfg)
    r = cfg_render(cfg)
    return layered_map(
        [("Penetration (% of households)", layer, "penetration_pct"),
         ("Index (100 = borough average)", layer, "index")],
        service_map_path(cfg, name), f"{title}: use by ward", suppressed_symbol=cfg.suppression.symbol,
        attribution=cfg.attribution, tiles=r.get("tiles"),
        tiles_attribution=r.get("tiles_attribution") or "Base map", targets=targets_layer(views, oas),
    )


def write_services_map(cfg: RunConfig, profiles: dict, wards: gpd.GeoDataFrame,
                       labels: dict[str, str]) -> Path:
    """One map with a ward layer per (sub-)service (penetration), switched by a layer control."""
    layers = {labels.get(name, name): ward_layer(wards, views["ward"], cfg)
              for name, views in profiles.items()}
    r = cfg_render(cfg)
    return multi_service_map(layers, cfg.outputs / "services_map.html",
                             f"Service use by ward: {cfg.area_name}",
                             suppressed_symbol=cfg.suppression.symbol, attribution=cfg.attribution,
                             tiles=r.get("tiles"), tiles_attribution=r.get("tiles_attribution") or "Base map")


def segment_layer(oas: gpd.GeoDataFrame, oa_segments: pd.DataFrame, names: pd.DataFrame) -> gpd.GeoDataFrame:
    """OA polygons with their segment, its name and colour, and a link to its pen portrait."""
    layer = oas.rename(columns={"code": "oa21cd"})[["oa21cd", "geometry"]].merge(
        oa_segments[["oa21cd", "segment"]], on="oa21cd", how="inner")
    info = names.set_index("segment")
    layer["segment_name"] = layer["segment"].map(info["segment_name"])
    layer["colour"] = layer["segment"].map(info["colour"])
    layer["legend_key"] = layer["segment"].map(info["supergroup"])
    layer["legend_label"] = layer["segment"].map(info["supergroup_name"])
    layer["portrait"] = [f"portraits/segment_{s}.html" for s in layer["segment"]]
    return layer


def write_segment_map(cfg: RunConfig, oas: gpd.GeoDataFrame, oa_segments: pd.DataFrame,
                      names: pd.DataFrame) -> Path:
    r = cfg_render(cfg)
    return segment_map(segment_layer(oas, oa_segments, names), cfg.outputs / "segments" / "segment_map.html",
                       f"Neighbourhood segments: {cfg.area_name}", attribution=cfg.attribution,
                       tiles=r.get("tiles"), tiles_attribution=r.get("tiles_attribution") or "Base map")


def cfg_render(cfg: RunConfig) -> dict:
    """The optional ``render:`` block of the config as a dict (tiles off by default)."""
    block = getattr(cfg, "render", None)
    if block is None:
        return {}
    return block.model_dump() if hasattr(block, "model_dump") else dict(block)
