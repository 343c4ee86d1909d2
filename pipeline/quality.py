"""The match report: how each service's records were located, what was corrected, and whether the
unmatched records skew the picture (match rate by ward and by segment).

Written to ``outputs/<run>/quality/`` (aggregates only, small counts suppressed):

* ``match_levels.csv``: service, outcome, kind (matched / rejected), records, share_pct;
* ``corrections.csv``: per service, postcodes corrected (O/0, I/1), terminated postcodes used,
  UPRNs given (used / contradicting the record / not in the gazetteer), fuzzy address matches;
* ``match_by_ward.csv`` and ``match_by_segment.csv``: records placed in the area, matched,
  match_rate_pct, and for address services address_rate_pct (UPRN or address level, of matched);
  ``below_borough`` names the places whose rate falls well below the service's overall rate.

"Well below": rate at least ``GAP`` percentage points under the overall rate p0 *and* a binomial
z-score ``z = (p - p0) / sqrt(p0 (1 - p0) / n)`` below ``-Z``. A rejected record is placed by the
sector its postcode still shows, spread over the sector's OAs as the service's matched records of
that sector are (see ``sql/quality_units.sql``), so ``records`` may hold tenths; one with no usable
postcode has no place and is counted only in the overall figures.
"""

from __future__ import annotations

import logging
import math

import duckdb
import pandas as pd

from pipeline.config import RunConfig
from pipeline.geocode import MATCH_LEVELS, REJECT_REASONS
from pipeline.warehouse import sql

logger = logging.getLogger(__name__)

GAP = 5.0
Z = 3.0
ADDRESS_LEVELS = ("uprn", "address_exact", "address_fuzzy")


def below(rate: float, p0: float, n: float) -> tuple[float, bool]:
    """(z-score of `rate` against `p0` over `n` records, whether it is well below). Rates in %."""
    p, q = rate / 100, p0 / 100
    if n == 0 or q in (0, 1):
        return 0.0, False
    z = (p - q) / math.sqrt(q * (1 - q) / n)
    return round(z, 2), bool(rate <= p0 - GAP and z < -Z)


def _rates(con, service: str, by: list[str], address: bool) -> pd.DataFrame:
    keys = ", ".join(by)
    df = con.execute(
        f"""SELECT {keys}, round(sum(weight), 1) AS records, count(*) FILTER (matched) AS matched,
                   count(*) FILTER (outcome IN {ADDRESS_LEVELS}) AS address_level
            FROM quality_{service} WHERE {by[0]} IS NOT NULL GROUP BY ALL ORDER BY {keys}"""
    ).df()
    tot = con.execute(
        f"""SELECT sum(weight), count(*) FILTER (matched), count(*) FILTER (outcome IN {ADDRESS_LEVELS})
            FROM quality_{service} WHERE {by[0]} IS NOT NULL"""
    ).fetchall()[0]
    p0 = 100 * tot[1] / tot[0] if tot[0] else 0.0
    a0 = 100 * tot[2] / tot[1] if tot[1] else 0.0
    df.insert(0, "service", service)
    df["match_rate_pct"] = (100 * df["matched"] / df["records"]).astype(float).round(2)
    df["borough_match_rate_pct"] = round(p0, 2)
    zs = [below(r, p0, float(n)) for r, n in zip(df["match_rate_pct"], df["records"], strict=True)]
    df["z_match"] = [z for z, _ in zs]
    df["below_borough"] = [b for _, b in zs]
    if address:
        df["address_rate_pct"] = (100 * df["address_level"] / df["matched"].where(df["matched"] > 0)).round(2)
        df["borough_address_rate_pct"] = round(a0, 2)
        za = [below(r, a0, n) if pd.notna(r) else (0.0, False)
              for r, n in zip(df["address_rate_pct"], df["matched"], strict=True)]
        df["z_address"] = [z for z, _ in za]
        df["below_borough_address"] = [b for _, b in za]
    else:
        df = df.drop(columns="address_level")
    return df


def _suppress(df: pd.DataFrame, cfg: RunConfig, counts: list[str], rates: list[str]) -> pd.DataFrame:
    """Counts 1..threshold-1 shown as the suppression symbol, with the rates derived from them."""
    out = df.astype({c: object for c in counts + rates})
    small = pd.Series(False, index=df.index)
    for c in counts:
        hide = df[c].between(1, cfg.suppression.threshold - 1)
        out.loc[hide, c] = cfg.suppression.symbol
        small |= hide
    for c in rates:
        out.loc[small, c] = cfg.suppression.symbol
    return out


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> pd.DataFrame:
    """Write the match report; return per-service extras for the run summary."""
    folder = cfg.outputs / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    levels, corrections, wards, segs, extras = [], [], [], [], []
    for s in cfg.services:
        name = s.name
        con.execute(sql("quality_units", service=name))
        counts = dict(con.execute(
            f"SELECT outcome, count(DISTINCT row_number) FROM quality_{name} GROUP BY ALL").fetchall())
        total = sum(counts.values())
        for o in MATCH_LEVELS + REJECT_REASONS:
            n = counts.get(o, 0)
            levels.append({"service": name, "outcome": o,
                           "kind": "matched" if o in MATCH_LEVELS else "rejected",
                           "records": n, "share_pct": round(100 * n / total, 2) if total else 0.0})
        c = con.execute(
            f"""SELECT count(*) FILTER (postcode_corrected), count(*) FILTER (postcode_terminated),
                       count(*) FILTER (postcode_large_user),
                       count(*) FILTER (uprn_given = 'used'),
                       count(*) FILTER (uprn_given = 'contradicts_record'),
                       count(*) FILTER (uprn_given = 'not_found'),
                       count(*) FILTER (match_level = 'address_fuzzy')
                FROM geocode_{name}"""
        ).fetchall()[0]
        corrections.append(dict(zip(
            ["service", "postcodes_corrected", "terminated_postcodes", "large_user_postcodes", "uprns_used",
             "uprns_contradicting_record", "uprns_not_found", "fuzzy_address_matches"],
            (name, *c), strict=True)))
        address = any(f.startswith("address_") or f == "uprn" for f in s.columns)
        w = _rates(con, name, ["ward_code", "ward_name"], address)
        g = _rates(con, name, ["segment"], address)
        wards.append(w)
        segs.append(g)
        named = lambda df, col: "; ".join(df.loc[df["below_borough"], col].astype(str))  # noqa: E731
        extras.append({"service": name, "postcodes_corrected": c[0],
                       "wards_below_match_rate": named(w, "ward_name"),
                       "segments_below_match_rate": named(g, "segment")})
    pd.DataFrame(levels).pipe(
        lambda d: _suppress(d, cfg, ["records"], ["share_pct"])
    ).to_csv(folder / "match_levels.csv", index=False)
    pd.DataFrame(corrections).pipe(
        lambda d: _suppress(d, cfg, [c for c in d.columns if c != "service"], [])
    ).to_csv(folder / "corrections.csv", index=False)
    for frames, fname in ((wards, "match_by_ward.csv"), (segs, "match_by_segment.csv")):
        df = pd.concat(frames, ignore_index=True)
        if "address_level" in df:
            df["address_level"] = df["address_level"].astype("Int64")
        counts = [c for c in ("records", "matched", "address_level") if c in df]
        rates = [c for c in ("match_rate_pct", "address_rate_pct", "z_match", "z_address") if c in df]
        _suppress(df, cfg, counts, rates).to_csv(folder / fname, index=False)
    for e in extras:
        if e["wards_below_match_rate"]:
            logger.warning("%s: match rate well below the borough's in %s", e["service"],
                           e["wards_below_match_rate"])
    return pd.DataFrame(extras)
