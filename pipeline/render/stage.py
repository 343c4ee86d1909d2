"""Stage 5, render: the shareable deliverables of a run under outputs/<run>/.

Per service (and per YES/NO option): the suppressed profile as a formatted Excel workbook
(segment and ward sheets, data quality, notes) and a self-contained ward map (HTML that
works with no network). CSV tables are written by the profile stage.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd

from pipeline.config import RunConfig
from pipeline.profile import shareable
from pipeline.render.maps import ward_map
from pipeline.render.workbook import write_profile_workbook

logger = logging.getLogger(__name__)

DEFINITIONS = [
    "Service count: records matched to an Output Area of the area (see Data quality).",
    "Base: households in the segment or ward (Census 2021, table TS041).",
    "Service %: the segment's share of all users; Base %: its share of all households.",
    "Penetration %: users per 100 households of the segment (service count / base x 100).",
    "Index: service % / base % x 100. 100 = as expected from the segment's size; "
    "120 = 20% more users than expected; 80 = 20% fewer.",
]


def _suppression_note(cfg: RunConfig) -> str:
    s = cfg.suppression
    return (
        f"Counts from 1 to {s.threshold - 1} are shown as '{s.symbol}', with the shares, penetration "
        f"and index derived from them; where a single count would be hidden, the next smallest is "
        f"hidden too, so that no hidden value can be worked out from the total."
    )


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


def run(cfg: RunConfig, profiles: dict, summary: pd.DataFrame, wards: gpd.GeoDataFrame,
        labels: dict[str, str]) -> list:
    """Write the workbook and ward map of every (sub-)service; return the paths written."""
    written = []
    for name, views in profiles.items():
        service = name.split("__")[0]
        folder = cfg.outputs / service
        folder.mkdir(parents=True, exist_ok=True)
        title = f"{labels.get(name, name)}: {cfg.area_name}"
        quality = summary[summary["service"] == service].T.reset_index()
        quality.columns = ["measure", "value"]
        sheets = {
            "Segment profile": shareable(views["segment"], cfg),
            "Ward profile": shareable(views["ward"], cfg).rename(
                columns={"segment_code": "ward_code", "segment_name": "ward_name"}
            ),
            "Data quality": quality.astype(str),
        }
        notes = DEFINITIONS + [_suppression_note(cfg), cfg.attribution]
        written.append(write_profile_workbook(sheets, folder / f"{name}_profile.xlsx", title, notes))
        layer = ward_layer(wards, views["ward"], cfg)
        written.append(
            ward_map(layer, folder / f"{name}_ward_map.html", f"{title}: penetration by ward",
                     suppressed_symbol=cfg.suppression.symbol, attribution=cfg.attribution)
        )
        logger.info("Rendered %s", name)
    return written
