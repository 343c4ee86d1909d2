"""Display strings of every view: shareable (suppressed, rounded under the ONS rule) or private."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Suppression
from pipeline.profiles.table import (
    DERIVED_COLUMNS,
    format_profile,
    profile_table,
    round_half_up,
    with_uncertainty,
)
from pipeline.publish import suppression as sup

#: Views built on `profile_table` (seed columns first).
PROFILE_VIEWS = ("segment", "group", "subgroup", "ward", "ward_segment", "access_band", "access_band_segment")
#: Deprivation views that are not profile tables: the gradient and distance by decile (census only)
DEPRIVATION_TABLES = ("deprivation_gradient", "deprivation_access")
#: Per view kind: the count columns and the columns derived from them (hidden together).
HIDE = {
    "targets": (["service_count", "non_users"], []),
    "equality": (["service_count"], ["service_pct", "index", "index_lower", "index_upper", "significance"]),
    "channels": (["service_count"], ["segment_pct", "index", "index_lower", "index_upper", "significance",
                                     "channel_shift_candidate"]),
    "cross": ([], ["index", "index_lower", "index_upper", "significance"]),
    "access": ([], []),  # points, OAs, targets, candidates: geography and census households only
    "deprivation": ([], ["deciles", "sii", "sii_lower", "sii_upper", "rii", "rii_lower",  # the gradient
                         "rii_upper", "times_most_deprived", "times_lower", "times_upper", "scale", "note"]),
    "trends": (["service_count"], ["service_pct", "penetration_pct", "index", "index_change",
                                   "change_lower", "change_upper", "change"]),
}
DECIMALS = {"service_pct": 2, "population_pct": 2, "segment_pct": 2, "borough_pct": 2, "base_pct": 2,
            "penetration_pct": 2, "index": 0, "index_lower": 0, "index_upper": 0, "index_change": 0,
            "change_lower": 0, "change_upper": 0, "sii": 1, "sii_lower": 1, "sii_upper": 1, "rii": 2,
            "rii_lower": 2, "rii_upper": 2, "times_most_deprived": 2, "times_lower": 2, "times_upper": 2}


def kind(view: str) -> str:
    if view in PROFILE_VIEWS or (view.startswith("deprivation_") and view not in DEPRIVATION_TABLES):
        return "profile"  # deprivation_imd, _local, _<domain> (pipeline.profiles.deprivation)
    return view.split("_")[0] if view.split("_")[0] in HIDE else view


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.drop(columns=["suppressed"], errors="ignore").copy()
    for col in out.columns:
        if col in DECIMALS:
            out[col] = [round_half_up(None if v is None or (isinstance(v, float) and np.isnan(v)) else v,
                               DECIMALS[col]) for v in out[col]]
        elif out[col].dtype == bool:
            out[col] = out[col].map({True: "yes", False: ""})
        else:
            out[col] = out[col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                                    else str(int(v)) if isinstance(v, (float, np.floating)) and v == int(v)
                                    else str(v))
    return out


def _rounded_profile(frame: pd.DataFrame, base: int) -> pd.DataFrame:
    """ONS rule: the profile recomputed from counts rounded to `base` (Total = their sum)."""
    body = frame[frame["segment_code"] != "Total"]
    counts = body[["segment_code", "segment_name", "service_count", "base_count"]].copy()
    counts["service_count"] = [sup.round_count(v, base) for v in counts["service_count"]]
    out = with_uncertainty(profile_table(counts))
    extra = [c for c in frame.columns if c not in out.columns]
    for c in extra:
        out[c] = frame[c].to_numpy()
    return out


def display(view: str, frame: pd.DataFrame, rule: Suppression | None) -> pd.DataFrame:
    """Display strings of a view; with a rule, counts hidden where `suppressed` (and rounded
    under the ONS rule); without one, the unsuppressed private table."""
    hidden = frame["suppressed"] if "suppressed" in frame else pd.Series(False, index=frame.index)
    k = kind(view)
    if k == "profile":
        source = frame
        if rule is not None and sup.rounding(rule) > 1:
            source = _rounded_profile(frame, sup.rounding(rule))
        out = format_profile(source)
        extra = [c for c in frame.columns if c not in source.columns or c in ("ward_code", "segment", "band")]
        extra = [c for c in extra if c not in out.columns and c != "suppressed" and c != "expected"]
        for c in extra:
            out[c] = frame[c].fillna("").astype(str).to_numpy()
        counts, derived = ["service_count"], DERIVED_COLUMNS
    else:
        out = _display(frame)
        counts, derived = HIDE.get(k, (["service_count"], []))
        if rule is not None and sup.rounding(rule) > 1:
            for c in counts:
                out[c] = [v if v == "" else str(sup.round_count(int(v), sup.rounding(rule))) for v in out[c]]
    if rule is None:
        return out
    if view in ("targets_oa", "targets_ward"):  # their user counts are not published (gaps.py)
        return out.drop(columns=["service_count", "non_users"])
    return sup.mask(out, hidden, rule.symbol, counts, derived)
