"""Stage 4, profile: take-up of each service against all households, by segment and by ward.

For each segment g with service count s_g and base households b_g, and totals S = sum s_g,
B = sum b_g:

    service %      = 100 * s_g / S
    base %         = 100 * b_g / B
    penetration %  = 100 * s_g / b_g
    index          = (service % / base %) * 100 = 100 * s_g * B / (S * b_g)

Ratios are computed exactly (fractions) and rounded half up for display: percentages to two
decimals, the index to a whole number, as in a Mosaic profile. The Total row shows 100 for
both shares and the overall penetration. Suppression (see `suppress`) is applied to every
table that leaves the private run folder.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import duckdb
import pandas as pd

from pipeline.config import RunConfig, Suppression
from pipeline.ingest import option_column

logger = logging.getLogger(__name__)

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
YES_VALUES = ("yes", "y", "true", "1")


def _round(value: Fraction | None, places: int) -> str:
    """Round an exact ratio half up to `places` decimals, as a string ('' when undefined)."""
    if value is None:
        return ""
    with localcontext() as ctx:
        ctx.prec = 50
        d = Decimal(value.numerator) / Decimal(value.denominator)
        return str(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _ratio(num: int, den: int, scale: int = 100) -> Fraction | None:
    return Fraction(scale * num, den) if den else None


def profile_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Compute the profile from counts.

    `counts` has columns segment_code, segment_name, service_count, base_count (one row per
    segment, in display order). Returns the numeric profile (floats) in PROFILE_COLUMNS order,
    with a final Total row; `index` and percentages are None where undefined (zero base).
    """
    s = [int(v) for v in counts["service_count"]]
    b = [int(v) for v in counts["base_count"]]
    S, B = sum(s), sum(b)
    rows = []
    for code, name, sg, bg in zip(counts["segment_code"], counts["segment_name"], s, b, strict=True):
        share_s, share_b = _ratio(sg, S), _ratio(bg, B)
        index = share_s / share_b * 100 if share_s is not None and share_b else None
        rows.append((str(code), name, sg, share_s, bg, share_b, _ratio(sg, bg), index))
    rows.append(("Total", "", S, Fraction(100) if S else None, B, Fraction(100), _ratio(S, B),
                 Fraction(100) if S else None))
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def format_profile(profile: pd.DataFrame) -> pd.DataFrame:
    """Display strings: percentages to 2 dp, index to a whole number, Total shares as '100'."""
    out = profile[["segment_code", "segment_name"]].copy()
    out["segment_name"] = out["segment_name"].fillna("")
    is_total = out["segment_code"].eq("Total")
    out["service_count"] = profile["service_count"].map(str)
    pairs = zip(is_total, profile["service_pct"], strict=True)
    out["service_pct"] = ["100" if t and v is not None else _round(v, 2) for t, v in pairs]
    out["base_count"] = profile["base_count"].map(str)
    pairs = zip(is_total, profile["base_pct"], strict=True)
    out["base_pct"] = ["100" if t else _round(v, 2) for t, v in pairs]
    out["penetration_pct"] = [_round(v, 2) for v in profile["penetration_pct"]]
    out["index"] = [_round(v, 0) for v in profile["index"]]
    return out[PROFILE_COLUMNS]


def suppress(formatted: pd.DataFrame, counts: pd.Series, rule: Suppression) -> pd.DataFrame:
    """Hide small counts: counts 1..threshold-1 (and the shares, penetration and index derived
    from them) are shown as the symbol. If only one body cell would be hidden, the next
    smallest non-zero count is hidden too (secondary suppression), so that no hidden value
    can be recovered by subtracting the published cells from the published total.
    """
    out = formatted.copy()
    body = out.index[out["segment_code"] != "Total"]
    c = counts.loc[body].astype(int)
    hide = set(c.index[(c > 0) & (c < rule.threshold)])
    if len(hide) == 1:
        rest = c[(c > 0) & ~c.index.isin(hide)].sort_values(kind="stable")
        if len(rest):
            hide.add(rest.index[0])
    cols = ["service_count", "service_pct", "penetration_pct", "index"]
    out.loc[sorted(hide), cols] = rule.symbol
    return out


def _segment_counts(con: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE") -> pd.DataFrame:
    return con.execute(
        f"""SELECT n.segment AS segment_code, n.segment_name,
                   coalesce(u.service_count, 0) AS service_count, b.base_count
            FROM segments_names n
            JOIN (SELECT segment, sum(households) AS base_count
                  FROM ref_oa JOIN segments_oa USING (oa21cd) GROUP BY segment) b
                 ON b.segment = n.segment
            LEFT JOIN (SELECT segment, count(*) AS service_count FROM {table}
                       WHERE {where} GROUP BY segment) u ON u.segment = n.segment
            ORDER BY length(n.segment), n.segment"""
    ).df()


def _ward_counts(con: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE") -> pd.DataFrame:
    return con.execute(
        f"""SELECT w.ward_code AS segment_code, w.ward_name AS segment_name,
                   coalesce(u.service_count, 0) AS service_count, w.households AS base_count
            FROM ref_wards w
            LEFT JOIN (SELECT ward_code, count(*) AS service_count FROM {table}
                       WHERE {where} GROUP BY ward_code) u USING (ward_code)
            ORDER BY w.ward_code"""
    ).df()


def profiles_for(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, dict[str, pd.DataFrame]]:
    """Numeric profiles per (sub-)service: {'stop_smoking': {'segment': df, 'ward': df}, ...}.

    YES/NO option columns become sub-services named '<service>__<option>'.
    """
    out = {}
    for service in cfg.services:
        table = f"assign_{service.name}"
        views = {service.name: "TRUE"}
        for opt in service.options:
            col = option_column(opt)
            views[f"{service.name}__{col.removeprefix('option_')}"] = (
                f"lower(trim({col})) IN {YES_VALUES}"
            )
        for name, where in views.items():
            out[name] = {
                "segment": profile_table(_segment_counts(con, table, where)),
                "ward": profile_table(_ward_counts(con, table, where)),
            }
    return out


def shareable(profile: pd.DataFrame, cfg: RunConfig) -> pd.DataFrame:
    """The formatted, suppressed table that may leave the private run folder."""
    return suppress(format_profile(profile), profile["service_count"], cfg.suppression)


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, dict[str, pd.DataFrame]]:
    """Write unsuppressed profiles to the private folder and suppressed ones to outputs/<run>/."""
    profiles = profiles_for(con, cfg)
    private = cfg.private / "profiles"
    private.mkdir(parents=True, exist_ok=True)
    for name, views in profiles.items():
        folder = cfg.outputs / name.split("__")[0]
        folder.mkdir(parents=True, exist_ok=True)
        for view, prof in views.items():
            format_profile(prof).to_csv(private / f"{name}_profile_{view}.csv", index=False)
            shareable(prof, cfg).to_csv(folder / f"{name}_profile_{view}.csv", index=False)
    return profiles
