"""Trends: the segment profile per period (year or quarter) where records carry a date, and the
change in index from the previous period with its 95% interval.

Dates are read by the one date rule, `pipeline.dates` (the same forms that give a date of birth
its age band); records without a readable date are counted in the period 'unknown', listed last,
with no change computed. Each period's profile is
a `profile_table` over that period's users against the same base. The change in index I2 - I1 of
a segment between consecutive periods has the standard error sqrt(I1^2 / O1 + I2^2 / O2)
(Poisson counts O1, O2; the delta method), giving the interval (I2 - I1) +/- 1.96 SE; 'no clear
change' when the interval includes 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import dates
from pipeline.profiles import stats
from pipeline.profiles.table import profile_table


def period_sql(period: str) -> str:
    """DuckDB expression of a record's period from its `date` text."""
    parsed = dates.date_sql("date")
    if period == "quarter":
        label = f"strftime({parsed}, '%Y') || '-Q' || CAST(quarter({parsed}) AS VARCHAR)"
    else:
        label = f"strftime({parsed}, '%Y')"
    return f"coalesce({label}, 'unknown')"


def trend_profile(counts: pd.DataFrame) -> pd.DataFrame:
    """`counts`: period, segment_code, segment_name, service_count, base_count (each period
    over every segment). Rows per period x segment, then a Total row per period."""
    frames = []
    prev = None
    periods = sorted(counts["period"].unique(), key=lambda p: (p == "unknown", p))
    for period in periods:
        part = counts[counts["period"] == period]
        prof = profile_table(part[["segment_code", "segment_name", "service_count", "base_count"]])
        prof.insert(0, "period", period)
        idx = prof["index"].map(lambda v: np.nan if v is None else float(v)).to_numpy()
        o = prof["service_count"].to_numpy(dtype=float)
        if prev is not None and period != "unknown":
            i1, o1 = prev
            change = idx - i1
            with np.errstate(divide="ignore", invalid="ignore"):
                se = np.sqrt(i1 ** 2 / o1 + idx ** 2 / o)
            prof["index_change"] = change
            prof["change_lower"] = change - stats.Z95 * se
            prof["change_upper"] = change + stats.Z95 * se
            prof["change"] = np.where(prof["change_lower"] > 0, "rise",
                                      np.where(prof["change_upper"] < 0, "fall", "no clear change"))
            total = prof["segment_code"] == "Total"
            prof.loc[total, ["index_change", "change_lower", "change_upper"]] = np.nan
            prof.loc[total, "change"] = ""
        if period != "unknown":
            prev = (idx, o)
        frames.append(prof)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    for col in ["index_change", "change_lower", "change_upper"]:
        if col not in out:
            out[col] = np.nan
    out["change"] = out.get("change", pd.Series("", index=out.index)).fillna("")
    return out
