"""Gaps and targets: where the households that do not use the service are.

Target segments are the under-served ones: the segments significantly under-represented in the
service's profile (index interval below 100); when none is, those with an index below 100.
The target lists rank wards and Output Areas by the households of the target segments that do
not use the service (non-users = base - users). The shareable lists publish households and rank
but no user or non-user counts (those stay in the private copy): an OA's users, or a ward's
users summed over the target segments, could otherwise pin down hidden ward x segment counts. Each
OA carries its live postcodes (from the public postcode directory) for leaflet drops: no
personal data, and no per-postcode counts, so no postcode-level disclosure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.profiles import stats


def target_segments(segment_profile: pd.DataFrame) -> list[str]:
    body = segment_profile[segment_profile["segment_code"] != "Total"]
    under = body[body["significance"] == stats.UNDER]["segment_code"].tolist()
    if under:
        return under
    idx = pd.to_numeric(body["index"].map(lambda v: None if v is None else float(v)), errors="coerce")
    return body.loc[idx < 100, "segment_code"].tolist()


def target_wards(ward_segment: pd.DataFrame, targets: list[str]) -> pd.DataFrame:
    """Wards by users and households in the target segments (their sum over target cells)."""
    body = ward_segment[ward_segment["segment"].isin(targets)]
    g = body.groupby("ward_code", sort=True).agg(
        ward_name=("segment_name", lambda s: s.iloc[0].split(" / ")[0]),
        base_count=("base_count", "sum"), service_count=("service_count", "sum"),
    ).reset_index()
    g["non_users"] = g["base_count"] - g["service_count"]
    g["target_segments"] = "; ".join(targets)
    # keyed like the ward profile: segment_code holds the ward code
    return g.rename(columns={"ward_code": "segment_code", "ward_name": "segment_name"})


def target_oas(geo: pd.DataFrame, users: pd.Series, targets: list[str], seg_names: dict[str, str],
               postcodes: pd.Series) -> pd.DataFrame:
    """OAs of the target segments with their households, users and non-users."""
    t = geo[geo["segment"].isin(targets)].copy()
    t["service_count"] = t["oa21cd"].map(users).fillna(0).astype(np.int64)
    t["non_users"] = t["base"] - t["service_count"]
    t["segment_name"] = t["segment"].map(seg_names).fillna("")
    t["postcodes"] = t["oa21cd"].map(postcodes).fillna("")
    t = t.rename(columns={"base": "base_count", "segment": "segment_code"})
    return t[["oa21cd", "ward_code", "ward_name", "segment_code", "segment_name", "base_count",
              "service_count", "non_users", "postcodes"]].reset_index(drop=True)


def rank(frame: pd.DataFrame, hidden: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Sort by non-users (by base where the count is hidden), largest first; add `rank`."""
    key = np.where(hidden.to_numpy(dtype=bool), frame["base_count"], frame["non_users"])
    if hidden.all():  # target OAs: ranked by non-users, which are not published
        key = frame["non_users"].to_numpy()
    first = frame.columns[0]
    order = pd.DataFrame({"k": -key, "c": frame[first]}).sort_values(["k", "c"]).index
    out = frame.loc[order].reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out, hidden.loc[order].reset_index(drop=True)
