"""Build `ref_uprn`: every UPRN the run can place, with its postcode, Output Area, ward and point.

Two sources, the council's own first:

* the gazetteer (`ref_gazetteer`): its points put in OAs by point in polygon;
* a UPRN -> OA lookup in the ONS UPRN Directory (ONSUD) layout, for UPRNs the gazetteer lacks (or
  for runs without one). ONSUD gives each UPRN's OA21CD itself, and its point (GRIDGB1E/N).

Only UPRNs in the area's OAs are kept: an ONSUD of all England streams through DuckDB file to file
and only the area's few hundred thousand rows are stored. A Spark run keeps the keyed national
rows in its reference cache instead (`pipeline.spark.reference`) and keeps the area's on Spark.
Columns: uprn, postcode, pc_key, oa21cd, ward_code, x, y, source ('gazetteer' or 'uprn_lookup').
"""

from __future__ import annotations

import logging

import duckdb

from pipeline.address import postcode, uprn
from pipeline.checks import Problem, with_fix
from pipeline.config import RunConfig
from pipeline.errors import GeographyError
from pipeline.warehouse import describe_sql, execute, ident, sql

logger = logging.getLogger(__name__)

EMPTY_UPRN = """CREATE TABLE IF NOT EXISTS ref_uprn (uprn VARCHAR, postcode VARCHAR, pc_key VARCHAR,
    oa21cd VARCHAR, ward_code VARCHAR, x DOUBLE, y DOUBLE, source VARCHAR)"""


def _lookup_parts(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, str]:
    """The placeholders of uprn_lookup_rows.sql for the configured lookup, after checking its columns."""
    spec = cfg.geography.uprn_lookup
    src = source_sql()
    have = [r[0] for r in execute(con, "uprn_lookup_columns", describe_sql(src), [spec.path], fetch="all")]
    cols = spec.columns.model_dump()
    missing = [f"{spec.path}: no column {c!r} (configured as the UPRN lookup's {f} column); "
               f"the file has {have[:30]}" for f, c in cols.items() if c is not None and c not in have]
    if missing:
        raise GeographyError(missing + ["fix: set geography.uprn_lookup.columns in the run config "
                                        "(a column you do not have can be set to null, except uprn and oa)"])
    q = lambda c: ident(c) if c else "CAST(NULL AS VARCHAR)"  # noqa: E731
    return {"source": src, "uprn": f"uprn_key({q(cols['uprn'])})", "postcode": q(cols["postcode"]),
            "oa": q(cols["oa"]), "easting": q(cols["easting"]), "northing": q(cols["northing"])}


#: The UPRN lookup's CSV files (the bound path or glob $1) as DuckDB reads them, every value text
SOURCE = "read_csv($1, all_varchar = true, header = true, union_by_name = true)"


def source_sql() -> str:
    return SOURCE


def keyed_sql(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> str:
    """Every row of the configured lookup, keyed (uprn_lookup_keyed.sql; the path bound as $1),
    after checking its columns; the postcode and UPRN macros installed on `con`."""
    postcode.install(con)
    uprn.install(con)
    return sql("uprn_lookup_keyed", **_lookup_parts(con, cfg))


def rows_sql(keyed: str, order: bool = True) -> str:
    """The area's rows of `keyed` (a subquery or, on Spark, a view) into ref_uprn, in UPRN order
    when `order`."""
    return sql("uprn_lookup_rows", keyed=keyed, order_by="ORDER BY u.uprn" if order else "")


def load(con: duckdb.DuckDBPyConnection, cfg: RunConfig, lookup: bool = True) -> dict[str, int]:
    """Create `ref_uprn` from the gazetteer and the UPRN lookup; return the UPRNs taken from each.
    `lookup` False: the gazetteer's only (a Spark run reads the lookup from its reference cache)."""
    execute(con, "drop_uprn_lookup", "DROP TABLE IF EXISTS ref_uprn")
    execute(con, "empty_uprn_lookup", EMPTY_UPRN)
    execute(con, "uprn_from_gazetteer", """INSERT INTO ref_uprn SELECT uprn, postcode, pc_key, oa21cd,
                   ward_code, x, y, 'gazetteer' FROM ref_gazetteer""")
    if lookup and cfg.geography.uprn_lookup is not None:
        execute(con, "uprn_lookup_rows", rows_sql(f"({keyed_sql(con, cfg)})"),
                [cfg.geography.uprn_lookup.path])
        dups = execute(con, "uprn_lookup_duplicates", "SELECT uprn FROM ref_uprn GROUP BY uprn "
                       "HAVING count(*) > 1 ORDER BY uprn LIMIT 10", fetch="all")
        if dups:
            raise GeographyError([f"{cfg.geography.uprn_lookup.path}: UPRN(s) listed more than once in "
                                  f"the area: {[d[0] for d in dups]}; a UPRN lookup has one row per UPRN"])
    counts = dict(execute(con, "uprn_sources", "SELECT source, count(*) FROM ref_uprn GROUP BY ALL",
                          fetch="all"))
    if lookup and cfg.geography.uprn_lookup is not None:
        logger.info("UPRN lookup: %d UPRNs in the area beyond the gazetteer's %d",
                    counts.get("uprn_lookup", 0), counts.get("gazetteer", 0))
    return counts


def check(cfg: RunConfig) -> list[Problem]:
    """The UPRN lookup files (ONSUD) have their configured columns (the stage's own check)."""
    import glob

    if cfg.geography.uprn_lookup is None or not glob.glob(cfg.geography.uprn_lookup.path):
        return []
    con = duckdb.connect()
    try:
        _lookup_parts(con, cfg)
    except GeographyError as exc:
        return with_fix(exc.problems, "set geography.uprn_lookup.columns", "geography.uprn_lookup.columns")
    except duckdb.Error as exc:
        return [f"geography.uprn_lookup.path: {cfg.geography.uprn_lookup.path} cannot be read as CSV "
                f"({str(exc).splitlines()[0]}). Fix: name the ONSUD CSV files"]
    finally:
        con.close()
    return []
