"""Stage 2, geocode: give each ingested record an Output Area by its postcode, or a reason it has none.

The outcome of every row is recorded in `geocode_<service>` (SQL in `sql/geocode_postcode.sql`):
a `match_level` for matched rows, a `reject_reason` for the rest, so that
rows read = matched + rejected holds for every service and run.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from pipeline.config import RunConfig, Service
from pipeline.warehouse import sql

logger = logging.getLogger(__name__)

#: Reasons a row is not profiled, in order of precedence.
REJECT_REASONS = (
    "blank_row",
    "duplicate_row",
    "missing_postcode",
    "partial_postcode",
    "invalid_postcode",
    "postcode_not_found",
    "postcode_no_oa",
    "out_of_area",
)
MATCH_LEVELS = ("postcode_live", "postcode_terminated")


def geocode_service(con: duckdb.DuckDBPyConnection, service: Service) -> dict[str, int]:
    """Geocode one service; return its outcome counts (every match level and reason, zeros included)."""
    con.execute(sql("geocode_postcode", service=service.name))
    rows = con.execute(
        f"""SELECT coalesce(match_level, reject_reason) AS outcome, count(*)
            FROM geocode_{service.name} GROUP BY ALL"""
    ).fetchall()
    counts = dict.fromkeys(MATCH_LEVELS + REJECT_REASONS, 0) | dict(rows)
    unknown = set(counts) - set(MATCH_LEVELS + REJECT_REASONS)
    if unknown:  # an outcome the SQL produced but this module does not know: a bug, not bad data
        raise RuntimeError(f"geocode produced unknown outcomes {sorted(unknown)}")
    return counts


def write_rejects(con: duckdb.DuckDBPyConnection, service: Service, private: Path) -> Path:
    """Write the rejected rows (row number, reason, raw postcode) to the private run folder."""
    out = private / "rejects" / f"{service.name}_rejects.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"""COPY (SELECT g.row_number, g.reject_reason, i.postcode AS postcode_as_given
                  FROM geocode_{service.name} g JOIN ingest_{service.name} i USING (row_number)
                  WHERE g.reject_reason IS NOT NULL ORDER BY g.row_number)
            TO '{out.as_posix()}' (HEADER, DELIMITER ',')"""
    )
    return out


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, dict[str, int]]:
    results = {}
    for service in cfg.services:
        results[service.name] = geocode_service(con, service)
        write_rejects(con, service, cfg.private)
        matched = sum(results[service.name][m] for m in MATCH_LEVELS)
        logger.info("Geocoded %s: %d matched", service.name, matched)
    return results
