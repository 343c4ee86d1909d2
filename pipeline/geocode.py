"""Stage 2, geocode: give each ingested record an Output Area, by the best evidence it carries.

One match hierarchy per record (SQL in `sql/geocode_postcode.sql` and `sql/geocode_match.sql`):
UPRN (the record's UPRN is in the gazetteer or the UPRN lookup, `pipeline.address.uprn_lookup`) >
address (matched to the gazetteer, exactly, then fuzzily with its score; `pipeline.address.matcher`)
> postcode (live, then terminated) > rejected
with a reason code. The outcome of every row is recorded in `geocode_<service>`: a `match_level`
for matched rows, a `reject_reason` for the rest, so that rows read = matched + rejected holds for
every service and run. `MATCH_LEVELS` and `REJECT_REASONS` are the single source of truth.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pandas as pd
from tqdm import tqdm

from pipeline import secret
from pipeline.address import postcode, uprn, uprn_lookup
from pipeline.address.matcher import GazetteerIndex, match_frame
from pipeline.address.uprn_lookup import EMPTY_UPRN
from pipeline.checks import Problem
from pipeline.config import RunConfig, Service
from pipeline.paths import private_folder, private_writes
from pipeline.warehouse import SCRATCH, drop_scratch, execute, literal, sql, store_frame, table_exists

logger = logging.getLogger(__name__)

#: Reasons a row is not profiled, in order of precedence.
REJECT_REASONS = (
    "blank_row",
    "header_repeat",
    "footer_row",
    "duplicate_row",
    "missing_postcode",
    "partial_postcode",
    "invalid_postcode",
    "postcode_not_found",
    "postcode_non_geographic",
    "postcode_no_oa",
    "out_of_area",
)
#: How a row was located, best evidence first.
MATCH_LEVELS = ("uprn", "address_exact", "address_fuzzy", "postcode_live", "postcode_terminated")
#: postcode outcomes whose postcode cannot be trusted to hold the address: look beyond its block
WIDEN_FOR = ("postcode_terminated", "missing_postcode", "partial_postcode", "invalid_postcode",
             "postcode_not_found", "postcode_non_geographic", "postcode_no_oa")

EMPTY_GAZETTEER = """CREATE TABLE IF NOT EXISTS ref_gazetteer (uprn VARCHAR, saon VARCHAR, paon VARCHAR,
    street VARCHAR, locality VARCHAR, town VARCHAR, postcode VARCHAR, pc_key VARCHAR, x DOUBLE, y DOUBLE,
    oa21cd VARCHAR, ward_code VARCHAR, class_code VARCHAR, residential BOOLEAN, parent_uprn VARCHAR)"""


def gazetteer_index(
    con: duckdb.DuckDBPyConnection, min_score: float, min_margin: float
) -> GazetteerIndex | None:
    """The address index of `ref_gazetteer`, or None when the run has no gazetteer."""
    if not table_exists(con, "ref_gazetteer"):
        return None
    gaz = execute(con, "gazetteer_index", "SELECT uprn, saon, paon, street, locality, town, postcode, "
                  "pc_key FROM ref_gazetteer WHERE street IS NOT NULL ORDER BY uprn", fetch="df")
    return GazetteerIndex(gaz, min_score, min_margin) if len(gaz) else None


def match_addresses(con: duckdb.DuckDBPyConnection, service: Service, index: GazetteerIndex | None) -> int:
    """Write `scratch_address_match_<service>` (row_number, uprn, level, score) for the rows with an address
    whose postcode is not outside the area (rows with a UPRN too: it is checked against the
    address); return the number matched."""
    frame = pd.DataFrame({"row_number": [], "uprn": [], "level": [], "score": []}).astype(
        {"row_number": "int64", "uprn": "string", "level": "string", "score": "float64"}
    )
    if index is not None:
        rows = execute(con, "geocode_address_rows", sql("geocode_address_rows", service=service.name),
                       [list(WIDEN_FOR)], fetch="df")
        if len(rows):
            chunks = [rows.iloc[i : i + 5000] for i in range(0, len(rows), 5000)]
            bar = tqdm(chunks, desc=f"address {service.name}", unit="5k rows", leave=False,
                       disable=len(chunks) < 4)
            parts = [match_frame(index, c) for c in bar]
            frame = pd.concat(parts, ignore_index=True)
    store_frame(con, "geocode_address_matches", f"{SCRATCH}address_match_{service.name}", frame)
    return len(frame)


def address_sql(service: Service) -> dict[str, str]:
    """SQL for the record's full address text and its first two lines, from the lines the service maps
    (NULL when it maps none: a postcode-only extract then pays nothing for addresses)."""
    lines = [f"address_{i}" for i in range(1, 6) if f"address_{i}" in service.columns]
    first_two = [f for f in lines if f in ("address_1", "address_2")]
    concat = lambda cols: f"concat_ws(' ', {', '.join(cols)})" if cols else "CAST(NULL AS VARCHAR)"  # noqa: E731
    return {"address_text": concat(lines), "address_12": concat(first_two)}


def geocode_service(
    con: duckdb.DuckDBPyConnection, service: Service, index: GazetteerIndex | None = None,
    oa_by_point: bool = False,
) -> dict[str, int]:
    """Geocode one service; return its outcome counts (every match level and reason, zeros included).
    `oa_by_point`: the directory has no OAs (Code-Point), so a postcode that has a point but no OA
    lies outside the area (`geography.place_postcodes_by_point`) and is out of area."""
    execute(con, "empty_gazetteer", EMPTY_GAZETTEER)
    execute(con, "empty_uprn_lookup", EMPTY_UPRN)
    postcode.install(con)
    uprn.install(con)
    outside = "(p.oa21cd IS NULL AND p.easting IS NOT NULL)" if oa_by_point else "FALSE"
    execute(con, "geocode_postcode", sql("geocode_postcode", service=service.name, located_outside=outside,
                                         **address_sql(service)))
    match_addresses(con, service, index)
    secret.install(con)  # insight_key(): household keys are keyed hashes, never plain ones
    execute(con, "geocode_table", sql("geocode_table", service=service.name))
    # Every row carries its row_number, so the table need not be written in row order: kept in order,
    # DuckDB's threads wait on each other and the write took twice its CPU time (docs/scale.md).
    # Readers that need an order ask for it (ORDER BY row_number).
    execute(con, "geocode_unordered", "SET preserve_insertion_order = false")
    try:
        execute(con, "geocode_match", sql("geocode_match", service=service.name))
    finally:
        execute(con, "geocode_ordered", "SET preserve_insertion_order = true")
    drop_scratch(con, f"{SCRATCH}address_match_{service.name}")
    rows = execute(con, "geocode_outcomes", sql("geocode_outcomes", service=service.name), fetch="all")
    counts = dict.fromkeys(MATCH_LEVELS + REJECT_REASONS, 0) | dict(rows)
    unknown = set(counts) - set(MATCH_LEVELS + REJECT_REASONS)
    if unknown:  # an outcome the SQL produced but this module does not know: a bug, not bad data
        raise RuntimeError(f"geocode produced unknown outcomes {sorted(unknown)}")
    return counts


def write_rejects(con: duckdb.DuckDBPyConnection, service: Service, private: Path) -> Path:
    """Write the rejected rows (row number, reason, raw postcode, and the corrected reading tried
    and not found in the directory) to the private run folder."""
    out = private_folder(private / "rejects") / f"{service.name}_rejects.csv"
    with private_writes(out):  # record-level: 0600, whatever the umask
        execute(con, "geocode_rejects", sql("geocode_rejects", service=service.name,
                                            target=literal(out.as_posix())))
    return out


def load_gazetteer(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> GazetteerIndex | None:
    """Load the configured gazetteer (if any) into `ref_gazetteer` and index it for matching."""
    if cfg.geography.gazetteer is None:
        execute(con, "drop_gazetteer", "DROP TABLE IF EXISTS ref_gazetteer")
        return None
    from pipeline.address import gazetteer
    from pipeline.geography import load_areas

    oas, _ = load_areas(cfg)
    gazetteer.load(con, cfg, oas)
    g = cfg.geography.gazetteer
    return gazetteer_index(con, g.min_score, g.min_margin)


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, dict[str, int]]:
    index = load_gazetteer(con, cfg)
    execute(con, "empty_gazetteer", EMPTY_GAZETTEER)
    uprn_lookup.load(con, cfg)
    results = {}
    for service in cfg.services:
        results[service.name] = geocode_service(
            con, service, index, oa_by_point=cfg.geography.postcode_directory.columns.oa is None)
        write_rejects(con, service, cfg.private)
        matched = sum(results[service.name][m] for m in MATCH_LEVELS)
        logger.info("Geocoded %s: %d matched", service.name, matched)
    return results


def check(cfg: RunConfig) -> list[Problem]:
    """The gazetteer and the UPRN lookup have the columns their loaders read."""
    if cfg.geography is None:
        return []
    from pipeline.address import gazetteer

    return gazetteer.check(cfg) + uprn_lookup.check(cfg)
