"""A reusable national postcode reference: the postcode directory loaded once into its own DuckDB file.

ONSPD/NSPL (~2.7M rows) or Code-Point Open (~1.7M) takes seconds to parse from CSV; loaded once
into `postcodes` (pc_key, pcds, oa21cd, ward_code, lad_code, easting, northing, is_live,
non_geographic, large_user; sorted by pc_key) it is attached read-only by any run, which then joins
its records to it in SQL. Table `source` records the file (path, size, modification time) and the
column settings it was built from, and the loading SQL, so `ensure_reference` rebuilds it when any
of them changes.

The pipeline writes only a reference it made: `reference_db` naming a folder, a file that is not a
DuckDB database (the directory CSV itself, say) or a DuckDB database without the marker table
`insight_reference` (or, for one built before the marker, this module's `source` fingerprint) is
refused and left as it was. A build is written to a temporary sibling and renamed into place, under
a lock (`<reference_db>.lock`): a second run needing the same reference waits for the first to build
it, then reuses it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

import duckdb

from boundaries.loaders import check_postcode_directory, postcode_directory_sql, unique_postcodes_sql
from pipeline.address import postcode
from pipeline.config import PostcodeDirectory
from pipeline.ownership import NotOwnedError, hold_lock
from pipeline.warehouse import execute, ident, literal

logger = logging.getLogger(__name__)

MARKER_TABLE = "insight_reference"
#: The fingerprint (JSON) of the directory file and column settings a reference was built from
FINGERPRINT = "SELECT fingerprint FROM source"
#: How long a run waits for another process building the same reference (seconds)
BUILD_WAIT = 1800.0
_LEGACY_KEYS = {"path", "size", "mtime_ns", "columns", "loader"}


def directory_fingerprint(spec: PostcodeDirectory) -> str:
    """What the reference was built from: the directory file (path, size, mtime), its columns and
    the loading SQL itself with the postcode-key macros (so a new version of either rebuilds it)."""
    st = Path(spec.path).stat()
    return json.dumps(
        {"path": str(Path(spec.path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
         "columns": spec.columns.model_dump(),
         "loader": hashlib.sha256((postcode_directory_sql(spec) + postcode.MACROS).encode()).hexdigest()},
        sort_keys=True,
    )


def _is_duckdb_file(path: Path) -> bool:
    """True when `path` starts with a DuckDB database header (read without opening it as one)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[8:12] == b"DUCK"


def is_ours(db_path: Path) -> bool:
    """True when `db_path` is a postcode reference this module built: a DuckDB database with the
    marker table (or, built before the marker, a `postcodes` table and this module's fingerprint)."""
    if not Path(db_path).is_file() or not _is_duckdb_file(db_path):
        return False
    try:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            tables = {r[0] for r in execute(con, "reference_tables", "SELECT table_name FROM "
                                            "information_schema.tables", fetch="all")}
            if MARKER_TABLE in tables:
                return True
            if {"postcodes", "source"} <= tables:
                built = json.loads(execute(con, "reference_fingerprint", FINGERPRINT, fetch="value"))
                return isinstance(built, dict) and _LEGACY_KEYS <= set(built)
        finally:
            con.close()
    except (duckdb.Error, ValueError, IndexError, TypeError):
        return False
    return False


def check_target(spec: PostcodeDirectory, db_path: Path) -> None:
    """Refuse a `reference_db` the pipeline may not write: a folder, the directory file itself, or an
    existing file that is not a reference it built. Nothing is written."""
    db_path = Path(db_path)
    where = f"geography.postcode_directory.reference_db {db_path}"
    if db_path.is_symlink() or (db_path.exists() and not db_path.is_file()):
        raise NotOwnedError(f"{where} is {'a link' if db_path.is_symlink() else 'a folder'}, not a "
                            "database file; set it to a new file name such as data/reference/onspd.duckdb")
    if Path(spec.path).exists() and db_path.exists() and db_path.samefile(spec.path):
        raise NotOwnedError(f"{where} is the postcode directory itself ({spec.path}); set it to a new "
                            "file name such as data/reference/onspd.duckdb (the directory is never written)")
    if db_path.exists() and not is_ours(db_path):
        raise NotOwnedError(
            f"{where} exists but is not a postcode reference built by this pipeline (no "
            f"{MARKER_TABLE} table), so it is not replaced; set reference_db to a new file name, or "
            "move the file away if it is an old reference you no longer need")


def _building_name(db_path: Path) -> str:
    return f".{db_path.name}.building-"


def build_reference(spec: PostcodeDirectory, db_path: Path) -> int:
    """Load the directory `spec` into `db_path` (table `postcodes`, one row per postcode, live first).
    Refuses a `db_path` it may not write (`check_target`); builds into a temporary sibling file and
    renames it into place. `ensure_reference` calls it under the reference's lock."""
    db_path = Path(db_path)
    check_target(spec, db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f"{_building_name(db_path)}{os.getpid()}-{threading.get_ident()}")
    tmp.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            check_postcode_directory(con, spec)
            execute(con, "reference_postcodes", reference_postcodes_sql(spec))
            execute(con, "reference_source", "CREATE TABLE source AS SELECT ? AS fingerprint",
                    [directory_fingerprint(spec)])
            execute(con, "reference_marker", reference_marker_sql(MARKER_TABLE))
            n = execute(con, "reference_rows", "SELECT count(*) FROM postcodes", fetch="value")
        finally:
            con.close()
        check_target(spec, db_path)  # nothing foreign appeared there while building
        tmp.replace(db_path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    logger.info("Postcode reference %s: %d postcodes", db_path, n)
    return n


def is_current(spec: PostcodeDirectory, db_path: Path) -> bool:
    """True when `db_path` exists and was built from the same directory file and column settings."""
    if not Path(db_path).is_file() or not _is_duckdb_file(db_path):
        return False
    try:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            built = execute(con, "reference_fingerprint", FINGERPRINT, fetch="value")
        finally:
            con.close()
    except duckdb.Error:  # not a reference database, or one from before `source` was kept
        return False
    return built == directory_fingerprint(spec)


def ensure_reference(spec: PostcodeDirectory, db_path: Path, wait: float = BUILD_WAIT) -> bool:
    """Build `db_path` from the directory unless it is current; return True when it was (re)built.
    Refuses a `db_path` the pipeline did not make. Only one process builds a reference at a time:
    another waits (up to `wait` seconds) for it, then reuses what it built."""
    db_path = Path(db_path)
    check_target(spec, db_path)
    if is_current(spec, db_path):
        logger.info("Postcode reference %s is current; reusing it", db_path)
        return False
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with hold_lock(db_path.with_name(db_path.name + ".lock"), f"the postcode reference {db_path}",
                   wait=wait):
        check_target(spec, db_path)
        if is_current(spec, db_path):  # another process built it while this one waited
            logger.info("Postcode reference %s was built by another run; reusing it", db_path)
            return False
        for stale in db_path.parent.iterdir():  # left by a killed build (none runs: the lock)
            if stale.name.startswith(_building_name(db_path)) and stale.is_file():
                stale.unlink(missing_ok=True)
        logger.info("Building the postcode reference %s from %s (once)", db_path, spec.path)
        build_reference(spec, db_path)
    return True


def attach_reference(con: duckdb.DuckDBPyConnection, db_path: Path, alias: str = "pcref",
                     view: str = "ref_postcodes") -> None:
    """Attach the reference read-only and expose it to the geocode SQL as a view (`ref_postcodes`)."""
    execute(con, "reference_attach", reference_attach_sql(Path(db_path), alias))
    execute(con, "reference_view", reference_view_sql(view, alias))


def reference_attach_sql(db_path: Path, alias: str) -> str:
    """Attach the reference read-only (its path, one the config named and the pipeline built, as a
    quoted literal)."""
    return f"ATTACH IF NOT EXISTS {literal(db_path)} AS {ident(alias)} (READ_ONLY)"


def reference_postcodes_sql(spec: PostcodeDirectory) -> str:
    """The reference's `postcodes` table: one row per postcode key, in key order."""
    return f"CREATE TABLE postcodes AS SELECT * FROM ({unique_postcodes_sql(spec)}) ORDER BY pc_key"


def reference_marker_sql(table: str) -> str:
    """The table marking a file as a postcode reference this module built."""
    return f"CREATE TABLE {ident(table)} AS SELECT 'postcode reference' AS kind, current_timestamp AS built"


def reference_view_sql(view: str, alias: str) -> str:
    """The view the geocode SQL reads (`ref_postcodes`) over the attached reference."""
    return f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS SELECT * FROM {ident(alias)}.postcodes"
