"""Render: the formatted Excel workbook of each (sub-)service (CSV tables come from the profile stage)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.config import RunConfig
from pipeline.profile import shareable
from pipeline.render.workbook import write_profile_workbook

DEFINITIONS = [
    "Service count: records matched to an Output Area of the area (see Data quality).",
    "Base: households in the segment or ward (Census 2021, table TS041).",
    "Service %: the segment's share of all users; Base %: its share of all households.",
    "Penetration %: users per 100 households of the segment (service count / base x 100).",
    "Index: service % / base % x 100. 100 = as expected from the segment's size; "
    "120 = 20% more users than expected; 80 = 20% fewer.",
]


def suppression_note(cfg: RunConfig) -> str:
    s = cfg.suppression
    return (
        f"Counts from 1 to {s.threshold - 1} are shown as '{s.symbol}', with the shares, penetration "
        f"and index derived from them; where a single count would be hidden, the next smallest is "
        f"hidden too, so that no hidden value can be worked out from the total."
    )


def write_service_workbook(
    cfg: RunConfig, name: str, views: dict[str, pd.DataFrame], summary: pd.DataFrame, title: str
) -> Path:
    """One workbook per (sub-)service: segment and ward profiles, data quality, notes."""
    service = name.split("__")[0]
    quality = summary[summary["service"] == service].T.reset_index()
    quality.columns = ["measure", "value"]
    sheets = {
        "Segment profile": shareable(views["segment"], cfg),
        "Ward profile": shareable(views["ward"], cfg).rename(
            columns={"segment_code": "ward_code", "segment_name": "ward_name"}
        ),
        "Data quality": quality.astype(str),
    }
    notes = DEFINITIONS + [suppression_note(cfg), cfg.attribution]
    return write_profile_workbook(sheets, cfg.outputs / service / f"{name}_profile.xlsx", title, notes)
