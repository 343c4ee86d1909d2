"""A reusable national postcode reference: the postcode directory loaded once into its own DuckDB file.

ONSPD/NSPL (~2.7M rows) or Code-Point Open (~1.7M) takes seconds to parse from CSV; loaded once
into `postcodes` (pc_key, pcds, oa21cd, ward_code, lad_code, easting, northing, is_live,
non_geographic, large_user; sorted by pc_key) it is attached read-only by any run, which then joins
its records to it in SQL. Table `source` records the file (path, size, modification time) and the
column settings it was built from, and the loading SQL, so `ensure_reference` rebuilds it when any
of them changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import duckdb

from boundaries.loaders import check_postcode_directory, postcode_directory_sql
from pipeline.config import PostcodeDirectory

logger = logging.getLogger(__name__)


def _fingerprint(spec: PostcodeDirectory) -> str:
    """What the reference was built from: the directory file (path, size, mtime), its columns and
    the loading SQL itself (so a new version of the loader rebuilds it)."""
    st = Path(spec.path).stat()
    return json.dumps(
        {"path": str(Path(spec.path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
         "columns": spec.columns.model_dump(),
         "loader": hashlib.sha256(postcode_directory_sql(spec).encode()).hexdigest()},
        sort_keys=True,
    )


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
        con.execute("CREATE TABLE source AS SELECT ? AS fingerprint", [_fingerprint(spec)])
        n = con.execute("SELECT count(*) FROM postcodes").fetchall()[0][0]
    finally:
        con.close()
    tmp.replace(db_path)
    logger.info("Postcode reference %s: %d postcodes", db_path, n)
    return n


def is_current(spec: PostcodeDirectory, db_path: Path) -> bool:
    """True when `db_path` exists and was built from the same directory file and column settings."""
    if not Path(db_path).exists():
        return False
    try:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            built = con.execute("SELECT fingerprint FROM source").fetchall()[0][0]
        finally:
            con.close()
    except duckdb.Error:  # not a reference database, or one from before `source` was kept
        return False
    return built == _fingerprint(spec)


def ensure_reference(spec: PostcodeDirectory, db_path: Path) -> bool:
    """Build `db_path` from the directory unless it is current; return True when it was (re)built."""
    if is_current(spec, db_path):
        logger.info("Postcode reference %s is current; reusing it", db_path)
        return False
    logger.info("Building the postcode reference %s from %s (once)", db_path, spec.path)
    build_reference(spec, db_path)
    return True


def attach_reference(con: duckdb.DuckDBPyConnection, db_path: Path, alias: str = "pcref",
                     view: str = "ref_postcodes") -> None:
    """Attach the reference read-only and expose it to the geocode SQL as a view (`ref_postcodes`)."""
    path = str(Path(db_path)).replace("'", "''")
    con.execute(f"ATTACH IF NOT EXISTS '{path}' AS {alias} (READ_ONLY)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {alias}.postcodes")
