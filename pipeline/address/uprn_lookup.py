"""Build `ref_uprn`: every UPRN the run can place, with its postcode, Output Area, ward and point.

Two sources, the council's own first:

* the gazetteer (`ref_gazetteer`): its points put in OAs by point in polygon;
* a UPRN -> OA lookup in the ONS UPRN Directory (ONSUD) layout, for UPRNs the gazetteer lacks (or
  for runs without one). ONSUD gives each UPRN's OA21CD itself, and its point (GRIDGB1E/N).

Only UPRNs in the area's OAs are kept: an ONSUD of all England streams through DuckDB file to file
and only the area's few hundred thousand rows are stored. Columns: uprn, postcode, pc_key,
oa21cd, ward_code, x, y, source ('gazetteer' or 'uprn_lookup').
"""

from __future__ import annotations

import logging

import duckdb

from boundaries.loaders import GeographyError
from pipeline.address import postcode, uprn
from pipeline.config import RunConfig
from pipeline.warehouse import sql

logger = logging.getLogger(__name__)

EMPTY_UPRN = """CREATE TABLE IF NOT EXISTS ref_uprn (uprn VARCHAR, postcode VARCHAR, pc_key VARCHAR,
    oa21cd VARCHAR, ward_code VARCHAR, x DOUBLE, y DOUBLE, source VARCHAR)"""


def _lookup_parts(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, str]:
    """The placeholders of uprn_lookup_rows.sql for the configured lookup, after checking its columns."""
    spec = cfg.geography.uprn_lookup
    src = f"read_csv('{spec.path.replace(chr(39), chr(39) * 2)}', all_varchar = true, header = true, " \
          "union_by_name = true)"
    have = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    cols = spec.columns.model_dump()
    missing = [f"{spec.path}: no column {c!r} (configured as the UPRN lookup's {f} column); "
               f"the file has {have[:30]}" for f, c in cols.items() if c is not None and c not in have]
    if missing:
        raise GeographyError(missing + ["fix: set geography.uprn_lookup.columns in the run config "
                                        "(a column you do not have can be set to null, except uprn and oa)"])
    q = lambda c: f'"{c}"' if c else "CAST(NULL AS VARCHAR)"  # noqa: E731
    return {"source": src, "uprn": f"uprn_key({q(cols['uprn'])})", "postcode": q(cols["postcode"]),
            "oa": q(cols["oa"]), "easting": q(cols["easting"]), "northing": q(cols["northing"])}


def load(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, int]:
    """Create `ref_uprn` from the gazetteer and the UPRN lookup; return the UPRNs taken from each."""
    con.execute("DROP TABLE IF EXISTS ref_uprn")
    con.execute(EMPTY_UPRN)
    con.execute("""INSERT INTO ref_uprn SELECT uprn, postcode, pc_key, oa21cd, ward_code, x, y, 'gazetteer'
                   FROM ref_gazetteer""")
    if cfg.geography.uprn_lookup is not None:
        postcode.install(con)
        uprn.install(con)
        con.execute(sql("uprn_lookup_rows", **_lookup_parts(con, cfg)))
        dups = con.execute(
            "SELECT uprn FROM ref_uprn GROUP BY uprn HAVING count(*) > 1 ORDER BY uprn LIMIT 10").fetchall()
        if dups:
            raise GeographyError([f"{cfg.geography.uprn_lookup.path}: UPRN(s) listed more than once in "
                                  f"the area: {[d[0] for d in dups]}; a UPRN lookup has one row per UPRN"])
    counts = dict(con.execute("SELECT source, count(*) FROM ref_uprn GROUP BY ALL").fetchall())
    if cfg.geography.uprn_lookup is not None:
        logger.info("UPRN lookup: %d UPRNs in the area beyond the gazetteer's %d",
                    counts.get("uprn_lookup", 0), counts.get("gazetteer", 0))
    return counts
