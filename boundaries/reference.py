"""A reusable national postcode reference: the postcode directory loaded once into its own DuckDB file.

ONSPD/NSPL (~2.7M rows) or Code-Point Open (~1.7M) takes seconds to parse from CSV; loaded once
into `postcodes` (pc_key, pcds, oa21cd, ward_code, lad_code, easting, northing, is_live; sorted by
pc_key) it is attached read-only by any run, which then joins its records to it in SQL.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from boundaries.loaders import check_postcode_directory, postcode_directory_sql
from pipeline.config import PostcodeDirectory

logger = logging.getLogger(__name__)


def build_reference(spec: PostcodeDirectory, db_path: Path) -> int:
    """Load the directory `spec` into `db_path` (table `postcodes`, one row per postcode, live first)."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        check_postcode_directory(con, spec)
        con.execute(
            "CREATE TABLE postcodes AS SELECT * FROM ("
            + postcode_directory_sql(spec)
            + " QUALIFY row_number() OVER (PARTITION BY pc_key ORDER BY is_live DESC, pcds) = 1"
            + ") ORDER BY pc_key"
        )
        n = con.execute("SELECT count(*) FROM postcodes").fetchall()[0][0]
    finally:
        con.close()
    tmp.replace(db_path)
    logger.info("Postcode reference %s: %d postcodes", db_path, n)
    return n


def attach_reference(con: duckdb.DuckDBPyConnection, db_path: Path, alias: str = "pcref") -> None:
    """Attach the reference read-only and expose it to the geocode SQL as the view `ref_postcodes`."""
    path = str(Path(db_path)).replace("'", "''")
    con.execute(f"ATTACH IF NOT EXISTS '{path}' AS {alias} (READ_ONLY)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW ref_postcodes AS SELECT * FROM {alias}.postcodes")
