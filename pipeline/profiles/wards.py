"""Ward profiles: users, base, penetration and index per ward (with intervals), and the
ward x segment breakdown (each cell's index is against the borough rate)."""

from __future__ import annotations

import pandas as pd

from pipeline.profiles.levels import aligned, grouped_counts, order_codes
from pipeline.profiles.table import profile_table, with_uncertainty


def ward_profile(geo: pd.DataFrame, users: pd.Series) -> pd.DataFrame:
    names = dict(zip(geo["ward_code"], geo["ward_name"], strict=False))
    return with_uncertainty(profile_table(grouped_counts(geo, users, "ward_code", names)))


def ward_segment_profile(geo: pd.DataFrame, users: pd.Series, seg_names: dict[str, str]) -> pd.DataFrame:
    """One row per ward x segment with households (code 'ward/segment'), plus the ward and
    segment codes and names as columns."""
    frame = geo.assign(users=aligned(geo, users))
    g = frame.groupby(["ward_code", "segment"]).agg(
        ward_name=("ward_name", "first"), service_count=("users", "sum"), base_count=("base", "sum")
    ).reset_index()
    order = {c: i for i, c in enumerate(order_codes(g["segment"]))}
    g = g.sort_values(["ward_code", "segment"], key=lambda s: s.map(order) if s.name == "segment" else s)
    counts = pd.DataFrame({
        "segment_code": g["ward_code"] + "/" + g["segment"],
        "segment_name": g["ward_name"] + " / " + g["segment"].map(seg_names).fillna(""),
        "service_count": g["service_count"].to_numpy(),
        "base_count": g["base_count"].to_numpy(),
    })
    prof = with_uncertainty(profile_table(counts))
    body = len(g)
    prof["ward_code"] = list(g["ward_code"]) + [""]
    prof["segment"] = list(g["segment"]) + [""]
    return prof.iloc[: body + 1]
