"""The match report: how each service's records were located, what was corrected, and whether the
unmatched records skew the picture (match rate by ward and by segment).

Returned unsuppressed (the publication step, :mod:`pipeline.publish`, writes the private copy
and publishes the tables under ``outputs/<run>/quality/`` with the run's suppression rule):

* ``match_levels.csv``: service, outcome, kind (matched / rejected), records, share_pct;
* ``corrections.csv``: per service, postcodes corrected (O/0, I/1), terminated postcodes used,
  UPRNs given (used / contradicting the record / not in the gazetteer), fuzzy address matches,
  records matched to a non-residential address (the gazetteer's class code, e.g. AddressBase's);
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
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.config import RunConfig
from pipeline.geocode import EMPTY_GAZETTEER, MATCH_LEVELS, REJECT_REASONS
from pipeline.warehouse import execute, ident, sql

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
    levels = [list(ADDRESS_LEVELS)]
    df = execute(con, f"quality_rates_by_{by[0]}", rates_sql(service, by), levels, fetch="df")
    tot = execute(con, f"quality_rates_all_{by[0]}", rates_sql(service, by, total=True), levels, fetch="one")
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


def rates_sql(service: str, by: list[str], total: bool = False) -> str:
    """Records (weighted), matched and matched at an address level (the bound list $1) of
    `quality_<service>` by the columns `by`, or over all rows where `by[0]` is known (`total`)."""
    keys = ", ".join(ident(b) for b in by)
    counts = ("count(*) FILTER (matched) AS matched, "
              "count(*) FILTER (list_contains($1, outcome)) AS address_level")
    table, known = ident(f"quality_{service}"), f"{ident(by[0])} IS NOT NULL"
    if total:
        return f"SELECT sum(weight) AS records, {counts} FROM {table} WHERE {known}"
    return (f"SELECT {keys}, round(sum(weight), 1) AS records, {counts} FROM {table} WHERE {known} "
            f"GROUP BY ALL ORDER BY {keys}")


def outcome_units_sql(service: str) -> str:
    """The records (distinct row numbers) of each outcome in `quality_<service>`."""
    return f"SELECT outcome, count(DISTINCT row_number) FROM {ident(f'quality_{service}')} GROUP BY ALL"


@dataclass
class MatchReport:
    """The match report's tables, unsuppressed, and per-service extras for the run summary."""

    match_levels: pd.DataFrame
    corrections: pd.DataFrame
    match_by_ward: pd.DataFrame
    match_by_segment: pd.DataFrame
    extras: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"match_levels": self.match_levels, "corrections": self.corrections,
                "match_by_ward": self.match_by_ward, "match_by_segment": self.match_by_segment}


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> MatchReport:
    """The match report of every service (unsuppressed)."""
    levels, corrections, wards, segs, extras = [], [], [], [], []
    execute(con, "empty_gazetteer", EMPTY_GAZETTEER)  # the corrections read the class of matched addresses
    for s in cfg.services:
        name = s.name
        if cfg.engine != "spark":  # on Spark, pipeline.spark.stages made quality_<service> from its aggregate
            execute(con, "quality_units", sql("quality_units", service=name))
        counts = dict(execute(con, "quality_outcomes", outcome_units_sql(name), fetch="all"))
        total = sum(counts.values())
        for o in MATCH_LEVELS + REJECT_REASONS:
            n = counts.get(o, 0)
            levels.append({"service": name, "outcome": o,
                           "kind": "matched" if o in MATCH_LEVELS else "rejected",
                           "records": n, "share_pct": round(100 * n / total, 2) if total else 0.0})
        c = execute(con, "quality_corrections", sql("quality_corrections", service=name), fetch="one")
        corrections.append(dict(zip(
            ["service", "postcodes_corrected", "terminated_postcodes", "large_user_postcodes", "uprns_used",
             "uprns_contradicting_record", "uprns_not_found", "fuzzy_address_matches",
             "non_residential_matches"],
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
    by = {}
    for frames, key in ((wards, "ward"), (segs, "segment")):
        df = pd.concat(frames, ignore_index=True)
        if "address_level" in df:
            df["address_level"] = df["address_level"].astype("Int64")
        by[key] = df
    for e in extras:
        if e["wards_below_match_rate"]:
            logger.warning("%s: match rate well below the borough's in %s", e["service"],
                           e["wards_below_match_rate"])
    return MatchReport(pd.DataFrame(levels), pd.DataFrame(corrections), by["ward"], by["segment"],
                       pd.DataFrame(extras))
