"""Take-up by deprivation: the profile of a service by national IMD decile, by the area's own IMD
quintile and by each domain's decile, and the gradient across the deciles.

Views (each a `profile_table` with `with_uncertainty`: users, households, % of users, % of
households, penetration, index, intervals and significance, the one index rule of
`pipeline.profiles.table`):

* ``deprivation_imd``: national IMD decile as published (1 = most deprived 10% of LSOAs nationally);
* ``deprivation_local``: the area's LSOAs ranked by national IMD rank, in quintiles
  (`deprivation_source.local_quintiles`);
* ``deprivation_<domain>``: each domain's national decile (income, employment, ...).

Households are the census base of each OA (TS041 by default), summed over the OAs of each LSOA
and of each decile; every OA of the area is in one LSOA and every LSOA in the index (or the run
stops with the fix), so each table's Total is the service's total. The rows are registered in the
count graph as a table adding up to the service total, so publication suppresses them with every
other count.

``deprivation_gradient``: one row with the slope index of inequality (SII, percentage points of
penetration from the most to the least deprived end) and the relative index (RII, least over most
deprived) across the national IMD deciles present, with 95% limits (`pipeline.profiles.inequality`),
and ``times_most_deprived`` = 1 / RII: how many times as high use is at the most deprived end as
at the least. It is derived from every decile's count: withheld when any of them is.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.config import RunConfig
from pipeline.profiles import inequality, levels
from pipeline.profiles.deprivation_source import DOMAIN_LABELS, area_index
from pipeline.profiles.table import profile_table, with_uncertainty

GRADIENT = "deprivation_gradient"
QUINTILE_NAMES = {1: "1 (most deprived fifth of the area)", 5: "5 (least deprived fifth of the area)"}


def decile_name(d: int) -> str:
    return {1: "1 (most deprived 10%)", 10: "10 (least deprived 10%)"}.get(int(d), str(d))


def area_deprivation(con: duckdb.DuckDBPyConnection, cfg: RunConfig,
                     oas: list[str]) -> tuple[pd.DataFrame, list[str]] | None:
    """Every OA's LSOA, ranks and deciles (None for a config without a deprivation block)."""
    if cfg.deprivation is None:
        return None
    return area_index(con, cfg, oas)


def columns(index: pd.DataFrame) -> dict[str, str]:
    """view -> the column of the OA frame it groups by, IMD first, then the domains present."""
    out = {"deprivation_imd": "imd_decile", "deprivation_local": "imd_local_quintile"}
    for col in index.columns:
        own = col in ("imd_decile", "imd_local_decile")
        if col.endswith("_decile") and not own and index[col].notna().all():
            out[f"deprivation_{col.removesuffix('_decile')}"] = col
    return out


def deprivation_views(b, geo: pd.DataFrame, users: pd.Series, area: tuple[pd.DataFrame, list[str]]) -> None:
    """The deprivation views of one (sub-)service into its ServiceProfile `b`."""
    index, notes = area
    by_oa = geo.merge(index.drop(columns=["nation"]), on="oa21cd", how="left")
    for view, col in columns(index).items():
        by_oa[col] = by_oa[col].astype("Int64").astype(str)
        names = {c: (QUINTILE_NAMES.get(int(c), c) if view == "deprivation_local" else decile_name(int(c)))
                 for c in by_oa[col].unique()}
        prof = with_uncertainty(profile_table(levels.grouped_counts(by_oa, users, col, names)))
        b.profile_view(view, prof, [(view, c) for c in prof["segment_code"].iloc[:-1]])
        domain = view.removeprefix("deprivation_")
        label = ("the area's own IMD quintile" if domain == "local"
                 else f"{DOMAIN_LABELS.get(domain, domain)} decile")
        b.notes[view] = [f"Take-up by {label}.", *notes]
    imd = b.views["deprivation_imd"]
    b.views[GRADIENT] = gradient_frame(imd)
    b.derived[GRADIENT] = [b.keys["deprivation_imd"][:-1]]
    b.notes[GRADIENT] = [
        "Slope index of inequality (SII): the fitted difference in penetration (percentage points) between "
        "the least and the most deprived ends of the area's population ranked by national IMD decile; "
        "relative index (RII): their ratio, least over most deprived (OHID method, PHEindicatormethods "
        "phe_sii: weighted regression on the cumulative midpoint rank, 95% limits by simulation).", *notes]


def gradient_frame(imd: pd.DataFrame) -> pd.DataFrame:
    """One row: the SII (percentage points) and RII of penetration across the IMD deciles, 1 / RII
    and their limits; `reason` where it cannot be computed."""
    body = imd[imd["segment_code"] != "Total"]
    g = inequality.gradient(body["service_count"].to_numpy(), body["base_count"].to_numpy())

    def pp(v):
        return None if v is None else 100 * v

    def inv(v):
        return None if v is None or v == 0 else 1 / v

    return pd.DataFrame([{
        "segment_code": "imd_decile", "measure": "IMD decile", "deciles": g.groups,
        "sii": pp(g.sii), "sii_lower": pp(g.sii_lower), "sii_upper": pp(g.sii_upper),
        "rii": g.rii, "rii_lower": g.rii_lower, "rii_upper": g.rii_upper,
        "times_most_deprived": inv(g.rii), "times_lower": inv(g.rii_upper), "times_upper": inv(g.rii_lower),
        "scale": g.scale, "note": g.reason,
    }])



#: the segment guide's columns: % of a segment's households in the most deprived LSOAs
SHARE_COLUMNS = {
    "most_deprived_10pc_national": ("imd_decile", 1), "most_deprived_20pc_national": ("imd_decile", 2),
    "most_deprived_10pc_local": ("imd_local_decile", 1), "most_deprived_20pc_local": ("imd_local_decile", 2),
}


def segment_shares(geo: pd.DataFrame, area: tuple[pd.DataFrame, list[str]],
                   level_columns: list[tuple[str, str]]) -> pd.DataFrame:
    """Per segment at each level: its households and the % of them in the most deprived 10% and 20%
    of LSOAs nationally (IMD deciles 1, 1-2 as published) and locally (the area's own LSOAs ranked,
    `local_quintiles` with 10 groups). Census households only: no service count, nothing to suppress."""
    index, _ = area
    by_oa = geo.merge(index[["oa21cd", "imd_decile", "imd_local_decile"]], on="oa21cd", how="left")
    rows = []
    for col, level in level_columns:
        groups = sorted(by_oa.groupby(col, sort=False), key=lambda cp: (len(str(cp[0])), str(cp[0])))
        for code, part in groups:
            hh = int(part["households"].sum())
            row = {"level": "supergroup" if level == "segment" else level, "segment": str(code),
                   "households": hh}
            for name, (decile, top) in SHARE_COLUMNS.items():
                within = int(part.loc[part[decile] <= top, "households"].sum())
                row[f"pct_households_{name}"] = 100 * within / hh if hh else None
            rows.append(row)
    return pd.DataFrame(rows)


def outcome_dimensions(geo: pd.DataFrame, area: tuple[pd.DataFrame, list[str]] | None) -> list:
    """The outcome views' deprivation dimension: each OA's national IMD decile (as published), its
    names, and the users view it splits (`outcomes.outcome_views(extra=...)`); none without a
    deprivation block."""
    if area is None:
        return []
    index, _ = area
    decile = geo[["oa21cd"]].merge(index[["oa21cd", "imd_decile"]], on="oa21cd", how="left")
    codes = decile.set_index("oa21cd")["imd_decile"].astype("Int64").astype(str)
    names = {c: decile_name(int(c)) for c in codes.unique()}
    return [("deprivation_decile", codes, names, "deprivation_imd")]


ACCESS = "deprivation_access"


def access_by_decile(b, area: tuple[pd.DataFrame, list[str]] | None) -> None:
    """Distance to the nearest service point by national IMD decile, from the service's `access_oa`
    view (pipeline.profiles.access): per decile its households, the % of them in each distance band
    and the household-weighted mean distance (km). Census households only: no user count to hide."""
    if area is None or "access_oa" not in b.views:
        return
    oa = b.views["access_oa"].merge(area[0][["oa21cd", "imd_decile"]], on="oa21cd", how="left")
    bands = list(dict.fromkeys(b.views["access_band"]["segment_code"].iloc[:-1]))
    rows = []
    for decile, part in sorted(oa.groupby("imd_decile"), key=lambda dp: int(dp[0])):
        hh = int(part["households"].sum())
        row = {"segment_code": str(int(decile)), "segment_name": decile_name(int(decile)), "households": hh}
        for band in bands:
            within = part.loc[part["band"] == band, "households"].sum()
            row[f"households_pct {band}"] = round(100 * within / hh, 2)
        row["mean_distance_km"] = round(float((part["distance_km"] * part["households"]).sum() / hh), 2)
        rows.append(row)
    b.views[ACCESS] = pd.DataFrame(rows)
    b.derived[ACCESS] = None
    b.notes[ACCESS] = ["Distance from each Output Area's centre to the nearest service point, by the "
                       "national IMD decile of its LSOA: census households only."]
