"""The profile table: take-up of a service against a base, by segment (or ward, or any area).

For each row g with service count s_g and base b_g, and totals S = sum s_g, B = sum b_g:

    service %      = 100 * s_g / S
    base %         = 100 * b_g / B
    penetration %  = 100 * s_g / b_g
    index          = (service % / base %) * 100 = 100 * s_g * B / (S * b_g) = 100 * O / E,
                     with O = s_g observed and E = S * b_g / B expected at the borough rate

Ratios are exact (fractions) and rounded half up for display: percentages to two decimals, the
index to a whole number, as in a Mosaic profile; the Total row shows 100 for both shares and
the overall penetration. `with_uncertainty` adds the 95% intervals, the significance call and
the gaps (see `pipeline.profiles.stats` and `pipeline.profiles.gaps`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import numpy as np
import pandas as pd

from pipeline.profiles import stats

PROFILE_COLUMNS = [
    "segment_code",
    "segment_name",
    "service_count",
    "service_pct",
    "base_count",
    "base_pct",
    "penetration_pct",
    "index",
]
INTERVAL_COLUMNS = ["penetration_lower", "penetration_upper", "index_lower", "index_upper", "significance"]
GAP_COLUMNS = ["non_users", "non_users_lower", "non_users_upper", "shortfall"]
#: Columns derived from the service count: hidden with it when it is suppressed.
DERIVED_COLUMNS = ["service_pct", "penetration_pct", "index", *INTERVAL_COLUMNS, *GAP_COLUMNS]


def round_half_up(value, places: int) -> str:
    """Round an exact ratio (or a float) half up to `places` decimals, as a string ('' when undefined)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    with localcontext() as ctx:
        ctx.prec = 50
        if isinstance(value, Fraction):
            d = Decimal(value.numerator) / Decimal(value.denominator)
        else:
            d = Decimal(repr(float(value)))
        return str(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _ratio(num: int, den: int, scale: int = 100) -> Fraction | None:
    return Fraction(scale * num, den) if den else None


def profile_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Compute the profile from counts.

    `counts` has columns segment_code, segment_name, service_count, base_count (one row per
    segment, in display order). Returns the numeric profile (exact fractions) in PROFILE_COLUMNS
    order, with a final Total row; `index` and percentages are None where undefined (zero base).
    """
    s = [int(v) for v in counts["service_count"]]
    b = [int(v) for v in counts["base_count"]]
    S, B = sum(s), sum(b)
    rows = []
    for code, name, sg, bg in zip(counts["segment_code"], counts["segment_name"], s, b, strict=True):
        expected = Fraction(S * bg, B) if B else 0  # users at the borough rate
        rows.append((str(code), name, sg, _ratio(sg, S), bg, _ratio(bg, B), _ratio(sg, bg),
                     stats.index(sg, expected)))
    rows.append(("Total", "", S, Fraction(100) if S else None, B, Fraction(100), _ratio(S, B),
                 Fraction(100) if S else None))
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def with_uncertainty(profile: pd.DataFrame) -> pd.DataFrame:
    """Add the 95% intervals, the significance call and the gaps to a `profile_table` frame.

    penetration_lower/upper: Wilson interval of s_g / b_g, in %; index_lower/upper: Poisson
    interval of O / E (exact below 10 users, Byar otherwise; allowing for S including
    O), x 100; significance: see
    `stats.significance`. Gaps: non_users = b_g - s_g with the interval b_g * (1 - Wilson);
    shortfall = max(0, E_g - s_g) where E_g = b_g * S / B: the users the segment lacks to reach
    the borough penetration rate. All are NaN where undefined; the Total row has no index
    interval or significance call ('').
    """
    out = profile.copy()
    s = out["service_count"].to_numpy(dtype=float)
    b = out["base_count"].to_numpy(dtype=float)
    is_total = out["segment_code"].eq("Total").to_numpy()
    S, B = s[is_total][0], b[is_total][0]
    lo, hi = stats.wilson(s, b)
    out["penetration_lower"], out["penetration_upper"] = 100 * lo, 100 * hi
    expected = np.where(B > 0, b * S / B if B else 0.0, np.nan)
    ilo, ihi = stats.index_interval(s, expected, S)  # the index itself: stats.index, in profile_table
    ilo, ihi = np.where(is_total, np.nan, ilo), np.where(is_total, np.nan, ihi)
    out["index_lower"], out["index_upper"] = ilo, ihi
    sig = stats.significance(ilo, ihi)
    sig[is_total] = ""
    out["significance"] = sig
    with np.errstate(invalid="ignore"):
        out["non_users"] = np.where(s <= b, b - s, np.nan)
        out["non_users_lower"] = b * (1 - hi)
        out["non_users_upper"] = b * (1 - lo)
        out["shortfall"] = np.where(is_total, np.nan, np.maximum(expected - s, 0))
    return out


def format_profile(profile: pd.DataFrame) -> pd.DataFrame:
    """Display strings: percentages to 2 dp, index to a whole number, Total shares as '100'.

    Returns the seed columns (PROFILE_COLUMNS) followed by the interval and gap columns when the
    frame carries them (intervals of penetration to 2 dp, of the index and the gaps to whole numbers).
    """
    out = profile[["segment_code", "segment_name"]].copy()
    out["segment_name"] = out["segment_name"].fillna("")
    is_total = out["segment_code"].eq("Total")
    out["service_count"] = profile["service_count"].map(str)
    pairs = zip(is_total, profile["service_pct"], strict=True)
    out["service_pct"] = ["100" if t and v is not None else round_half_up(v, 2) for t, v in pairs]
    out["base_count"] = profile["base_count"].map(str)
    pairs = zip(is_total, profile["base_pct"], strict=True)
    out["base_pct"] = ["100" if t else round_half_up(v, 2) for t, v in pairs]
    out["penetration_pct"] = [round_half_up(v, 2) for v in profile["penetration_pct"]]
    out["index"] = [round_half_up(v, 0) for v in profile["index"]]
    if "index_lower" not in profile:
        return out[PROFILE_COLUMNS]
    for col, places in [("penetration_lower", 2), ("penetration_upper", 2), ("index_lower", 0),
                        ("index_upper", 0), ("non_users", 0), ("non_users_lower", 0),
                        ("non_users_upper", 0), ("shortfall", 0)]:
        out[col] = [round_half_up(v, places) for v in profile[col]]
    out["significance"] = profile["significance"].fillna("")
    return out[PROFILE_COLUMNS + INTERVAL_COLUMNS + GAP_COLUMNS]
