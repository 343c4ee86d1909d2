"""Render: the formatted Excel workbooks (CSV tables come from the profile stage).

Per (sub-)service: a sheet per profile view (suppressed, as shared), a Definitions and method
sheet (Notes), and a Data quality sheet. Per run: a summary workbook with the cross-service
matrix of indices.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.config import RunConfig
from pipeline.profiles import outputs as out_tables
from pipeline.profiles import stats
from pipeline.profiles.suppression import rounding, threshold
from pipeline.render.workbook import write_profile_workbook

DEFINITIONS = [
    "Service count: records matched to an Output Area of the area (see Data quality).",
    "Base: households in the segment or ward (Census 2021, table TS041) unless the service's "
    "config names another base (residents, adults or a census count).",
    "Service %: the segment's share of all users; Base %: its share of all households.",
    "Penetration %: users per 100 households of the segment (service count / base x 100).",
    "Index: service % / base % x 100. 100 = as expected from the segment's size; "
    "120 = 20% more users than expected; 80 = 20% fewer.",
    "Penetration lower/upper: 95% Wilson score interval of the penetration.",
    "Index lower/upper: 95% interval of the index as observed / expected users (exact Poisson "
    "below 10 users, Byar's approximation otherwise). Over-represented: the interval lies above "
    "100; under-represented: below 100; otherwise no clear difference.",
    stats.MULTIPLE_COMPARISONS_NOTE,
    "Non-users: base minus users (with the interval from the penetration's); shortfall: users "
    "the segment lacks to reach the borough's penetration rate.",
    "Targets: wards and Output Areas ranked by households of the under-represented segments that "
    "do not use the service (by households where the user count is suppressed).",
    "Equality: users by standard category against the area's Census 2021 residents (TS007A, "
    "TS008, TS038, TS021); 'Prefer not to say', missing and unrecognised codes are reported but "
    "not used as denominators. Age bands are aligned to census five-year bands (see docs).",
    "Channels: each segment's channel mix against the borough's; segments over-represented in "
    "face-to-face or telephone are channel-shift candidates (and may be at risk of digital exclusion).",
    "Trends: the profile per period and the change in index from the previous period, with a 95% interval.",
]

SHEETS = {
    "segment": "Segment profile", "group": "Group profile", "subgroup": "Subgroup profile",
    "ward": "Ward profile", "ward_segment": "Ward x segment", "targets_ward": "Target wards",
    "targets_oa": "Target OAs", "equality_age_band": "Equality age", "equality_sex": "Equality sex",
    "equality_disability": "Equality disability", "equality_ethnicity": "Equality ethnicity",
    "channels": "Channels", "trends": "Trends",
}


def suppression_note(cfg: RunConfig) -> str:
    s = cfg.suppression
    if rounding(s) > 1:
        return (f"Counts from 1 to {threshold(s) - 1} are shown as '{s.symbol}' and other counts are "
                f"rounded to the nearest {rounding(s)} (ONS rule); shares, penetration and index are "
                f"computed from the rounded counts. Further counts are hidden wherever a hidden one "
                f"could otherwise be worked out from totals or from another table of the run.")
    return (
        f"Counts from 1 to {s.threshold - 1} are shown as '{s.symbol}', with the shares, penetration, "
        f"index, intervals and gaps derived from them; further counts are hidden wherever a hidden "
        f"one could otherwise be worked out from a total or from another table of the same run."
    )


def write_service_workbook(
    cfg: RunConfig, name: str, views: dict[str, pd.DataFrame], summary: pd.DataFrame, title: str
) -> Path:
    """One workbook per (sub-)service: a sheet per view, data quality, notes and method."""
    service = name.split("__")[0]
    quality = summary[summary["service"] == service].T.reset_index()
    quality.columns = ["measure", "value"]
    sheets = {}
    for view, frame in views.items():
        shown = out_tables.display(view, frame, cfg.suppression)
        if view == "ward":
            shown = shown.rename(columns={"segment_code": "ward_code", "segment_name": "ward_name"})
        sheets[SHEETS.get(view, view.replace("_", " ").capitalize())] = shown
    sheets["Data quality"] = quality.astype(str)
    notes = DEFINITIONS + [suppression_note(cfg), cfg.attribution]
    return write_profile_workbook(sheets, cfg.outputs / service / f"{name}_profile.xlsx", title, notes)


def write_summary_workbook(cfg: RunConfig, matrix: pd.DataFrame) -> Path:
    """The run's summary workbook: the segment x service matrix of indices (suppressed), long
    and wide, services ordered by the similarity of their profiles."""
    wide = matrix.pivot(index=["segment_code", "segment_name"], columns="service", values="index")
    wide = wide[list(dict.fromkeys(matrix["service"]))].reset_index()
    sheets = {"Index matrix": wide, "Index with intervals": matrix}
    notes = [
        "Index matrix: each service's index per segment (100 = as expected from the segment's "
        "households); services are ordered by the similarity of their profiles (average-linkage "
        "hierarchical clustering of log indices), so services that draw on the same groups sit together.",
        "any_service: households using at least one service, each counted once (household key).",
        *DEFINITIONS[4:8], suppression_note(cfg), cfg.attribution,
    ]
    out = cfg.outputs / "cross_service" / "cross_service_summary.xlsx"
    return write_profile_workbook(sheets, out, f"Services compared: {cfg.area_name}", notes)
