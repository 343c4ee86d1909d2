"""Render: the maps of each (sub-)service and of the run, from the published tables only.

A withheld cell arrives as the suppression symbol and is drawn as such: no unsuppressed value
can reach the HTML or the GeoPackage.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.config import RunConfig
from pipeline.publish.tables import Publication, PublishedTable
from pipeline.render import access as access_render
from pipeline.render.maps.geometry import (
    COORD_DECIMALS,
    SIMPLIFY_TOLERANCE_M,
    PreparedWards,
    level_geometry,
    prepare_once,
)
from pipeline.render.maps.layered import layered_map, multi_service_map
from pipeline.render.maps.level import LEVEL_NAMES, Level
from pipeline.render.maps.segment import segment_map
from pipeline.render.segment_info import with_segment_info

logger = logging.getLogger(__name__)


def interval_text(lower, upper, decimals: int) -> str:
    """"3.91 – 4.57" from a numeric interval; "" when either end is missing."""
    if lower is None or upper is None:
        return ""
    return f"{lower:,.{decimals}f} – {upper:,.{decimals}f}"


def ward_layer(wards: gpd.GeoDataFrame, ward: PublishedTable) -> gpd.GeoDataFrame:
    """Ward polygons with the published ward profile: display strings for the popups and numbers
    (None where withheld) for the colours."""
    shown = ward.frame
    body = shown.index[shown["segment_code"] != "Total"]
    rows = pd.DataFrame({
        "ward_code": shown.loc[body, "segment_code"],
        "ward_name": shown.loc[body, "segment_name"],
        "service_count_display": shown.loc[body, "service_count"],
        "penetration_display": shown.loc[body, "penetration_pct"],
        "index_display": shown.loc[body, "index"],
        "households": [int(v) for v in shown.loc[body, "base_count"]],
        "service_count": pd.array([None if v is None else int(v) for v in
                                   (ward.value(i, "service_count") for i in body)], dtype="Int64"),
        "penetration_pct": [ward.value(i, "penetration_pct") for i in body],
        "index": [ward.value(i, "index") for i in body],
    })
    for measure, decimals in (("penetration", 2), ("index", 0)):
        lo, hi = f"{measure}_lower", f"{measure}_upper"
        if lo in shown.columns and hi in shown.columns:
            rows[f"{measure}_interval_display"] = [
                ward.frame.at[i, lo] if ward.hidden.at[i, lo]
                else (interval_text(ward.value(i, lo), ward.value(i, hi), decimals) or "not available")
                for i in body]
    layer = wards.rename(columns={"code": "ward_code"})[["ward_code", "geometry"]]
    return layer.merge(rows, on="ward_code", how="inner")


def targets_layer(targets: PublishedTable | None, oas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The published target OAs (rank, segment) as polygons, or None."""
    if oas is None or targets is None or targets.frame.empty:
        return None
    t = targets.frame
    layer = oas.rename(columns={"code": "oa21cd"})[["oa21cd", "geometry"]].merge(
        t[["oa21cd", "rank", "segment_code", "segment_name", "base_count"]], on="oa21cd", how="inner")
    layer["label"] = [f"Target {r}: segment {c} {n}, {b} households".strip()
                      for r, c, n, b in zip(layer["rank"], layer["segment_code"], layer["segment_name"],
                                            layer["base_count"], strict=True)]
    return layer


def service_map_path(cfg: RunConfig, name: str) -> Path:
    return cfg.outputs / name.split("__")[0] / f"{name}_ward_map.html"


def service_layers(layer: gpd.GeoDataFrame, level: Level = "oa") -> list[tuple[str, gpd.GeoDataFrame, str]]:
    """The service map's layers: penetration and index at the ``oa`` level; above it the index only
    (every ward's penetration is in its tooltip either way), since each layer carries every ward's
    polygon again and two layers of 7,000 wards are twice the page budget
    (:mod:`pipeline.render.maps.level`)."""
    index = ("Index (100 = borough average)", layer, "index")
    return [("Penetration (% of households)", layer, "penetration_pct"), index] if level == "oa" else [index]


def service_map_wards(wards: gpd.GeoDataFrame, level: Level = "oa") -> PreparedWards:
    """The run's wards prepared once for every service map at *level* (its simplification and
    rounding: :func:`pipeline.render.maps.geometry.level_geometry`); at national scale preparing
    them is most of each map's time."""
    return prepare_once(wards, *level_geometry(level, SIMPLIFY_TOLERANCE_M, COORD_DECIMALS))


def write_service_map(
    cfg: RunConfig, pub: Publication, name: str, wards: gpd.GeoDataFrame, title: str,
    oas: gpd.GeoDataFrame | None = None, level: Level = "oa", prepared: PreparedWards | None = None,
) -> Path:
    """The self-contained ward map of one (sub-)service: penetration and index layers
    (and the target OAs when the profile stage gives them; the service points and their
    catchments when the service has access views). Above the ``oa`` level (a region or the
    country, :mod:`pipeline.render.maps.level`) only the index layer of the wards and the service
    points are drawn, simplified and rounded for the level (:func:`service_layers`). *prepared*:
    the run's wards made ready once (:func:`service_map_wards`)."""
    views = pub.services[name]
    r = cfg_render(cfg)
    detail = level == "oa"
    tolerance, decimals = level_geometry(level, SIMPLIFY_TOLERANCE_M, COORD_DECIMALS)
    return layered_map(
        service_layers(ward_layer(wards, views["ward"]), level),
        service_map_path(cfg, name), f"{title}: use by ward", suppressed_symbol=cfg.suppression.symbol,
        attribution=cfg.attribution, tiles=r.get("tiles"),
        tiles_attribution=r.get("tiles_attribution") or "Base map",
        targets=targets_layer(views.get("targets_oa"), oas) if detail else None,
        points=access_render.points_layer(views.get("access_points")),
        catchments=access_render.catchments_layer(views.get("access_oa"), oas) if detail else None,
        simplify_tolerance_m=tolerance, decimals=decimals, prepared=prepared,
    )


def write_services_map(cfg: RunConfig, pub: Publication, wards: gpd.GeoDataFrame,
                       labels: dict[str, str], level: Level = "oa",
                       prepared: PreparedWards | None = None) -> Path:
    """One map with a ward layer per (sub-)service (penetration), switched by a layer control."""
    layers = {labels.get(name, name): ward_layer(wards, views["ward"])
              for name, views in pub.services.items()}
    r = cfg_render(cfg)
    tolerance, decimals = level_geometry(level, SIMPLIFY_TOLERANCE_M, COORD_DECIMALS)
    return multi_service_map(layers, cfg.outputs / "services_map.html",
                             f"Service use by ward: {cfg.area_name}",
                             suppressed_symbol=cfg.suppression.symbol, attribution=cfg.attribution,
                             tiles=r.get("tiles"), tiles_attribution=r.get("tiles_attribution") or "Base map",
                             simplify_tolerance_m=tolerance, decimals=decimals, prepared=prepared)


#: The map's note on an OA mostly of communal-establishment residents (oa_fit.csv: communal).
COMMUNAL_NOTE = ("Mostly residents of communal establishments (halls, care homes, boarding schools, "
                 "prisons, barracks): not clustered, shown in its nearest segment")


def communal_oas(seg_dir: Path) -> set[str]:
    """The OAs oa_fit.csv flags ``communal`` (none without the file or the column)."""
    path = seg_dir / "oa_fit.csv"
    if not path.exists():
        return set()
    fit = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "communal" not in fit.columns:
        return set()
    return set(fit.loc[fit["communal"].str.lower() == "true", "oa21cd"])


def segment_layer(oas: gpd.GeoDataFrame, oa_segments: pd.DataFrame, names: pd.DataFrame,
                  communal: set[str] | None = None) -> gpd.GeoDataFrame:
    """OA polygons with their segment, its name and colour, and a link to its pen portrait; a
    ``note`` on the `communal` OAs (assigned to their nearest segment, not clustered)."""
    layer = oas.rename(columns={"code": "oa21cd"})[["oa21cd", "geometry"]].merge(
        oa_segments[["oa21cd", "segment"]], on="oa21cd", how="inner")
    layer = with_segment_info(layer, names)
    if communal:
        layer["note"] = [COMMUNAL_NOTE if o in communal else "" for o in layer["oa21cd"]]
    return layer


#: The segment map's decimals of a degree at the ``oa`` level (about 1 m)
SEGMENT_DECIMALS = 5


def write_segment_map(cfg: RunConfig, oas: gpd.GeoDataFrame, oa_segments: pd.DataFrame,
                      names: pd.DataFrame, level: Level = "oa",
                      areas: gpd.GeoDataFrame | None = None) -> Path:
    """The segment map: each Output Area in its segment's colour at the ``oa`` level; above it
    *areas* (``pipeline.render.areas.segment_area_layer``: wards or local authorities, each in its
    most common segment), simplified and rounded for the level."""
    r = cfg_render(cfg)
    guide = cfg.outputs / "segments" / "segment_guide.html"
    tolerance, decimals = level_geometry(level, SIMPLIFY_TOLERANCE_M, SEGMENT_DECIMALS)
    if level == "oa" or areas is None:
        layer, code, label = segment_layer(oas, oa_segments, names, communal_oas(cfg.outputs / "segments")), \
            "oa21cd", "Output Area"
        title = f"Neighbourhood segments: {cfg.area_name}"
    else:
        layer, code, label = areas, "code", LEVEL_NAMES[level].capitalize()
        title = f"Neighbourhood segments by {LEVEL_NAMES[level]} (most common segment): {cfg.area_name}"
    return segment_map(layer, cfg.outputs / "segments" / "segment_map.html", title,
                       attribution=cfg.attribution, tiles=r.get("tiles"),
                       tiles_attribution=r.get("tiles_attribution") or "Base map",
                       guide_href=guide.name if guide.exists() else None,
                       simplify_tolerance_m=tolerance, decimals=decimals, code_column=code, area_label=label)


def cfg_render(cfg: RunConfig) -> dict:
    """The optional ``render:`` block of the config as a dict (tiles off by default)."""
    block = getattr(cfg, "render", None)
    if block is None:
        return {}
    return block.model_dump() if hasattr(block, "model_dump") else dict(block)
