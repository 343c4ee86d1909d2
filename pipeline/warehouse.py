"""The run's private DuckDB warehouse: one file per run holding every record-level table.

Tables are named by stage: `geocode_<service>` (one outcome per input row) and `assign_<service>`
(the matched records with their segment) are kept; `ingest_<service>`, the mapped extract with its
names and addresses, lives only for the run (a temporary view), so the warehouse keeps no more
personal data than the later stages need. Reference tables are `ref_postcodes`, `ref_oa`,
`ref_wards`, `segments_oa`; `insight_warehouse` records the run that made the file.
Household keys are keyed hashes (`pipeline.secret`); docs/data-protection.md lists every table
and column that holds personal data.
Only aggregates leave it, through the profile and render stages.

Every statement goes through the named executor, `pipeline.executor.execute` (re-exported here):
a run's warehouse connection writes each statement's name, rows and seconds to
``data/<run>/sql.log`` (private, mode 0600), and ``insight run CONFIG --sql`` prints them. SQL
files beside the stages are loaded by :func:`sql`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline import secret
from pipeline.config import RunConfig
from pipeline.executor import (  # noqa: F401  (the executor, also imported from here by the stages)
    SCRATCH,
    SQL_LOG,
    attach_log,
    count_sql,
    describe_sql,
    drop_scratch,
    echo_sql,
    execute,
    frame_table_sql,
    ident,
    literal,
    sql_log,
    store_frame,
)
from pipeline.ownership import WAREHOUSE_MARKER_TABLE, prepare_private
from pipeline.paths import private_folder, private_writes

SQL_DIR = Path(__file__).parent / "sql"


def connect(cfg: RunConfig, fresh: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the run's warehouse in its private folder; `fresh` starts it empty,
    so no record-level table of an earlier run outlives the run that replaces it. A warehouse is
    replaced only in a private folder the pipeline marked as this run's (`pipeline.ownership`);
    a fresh warehouse records the run in table `insight_warehouse`. The connection has
    `insight_key()`, the keyed hash of household keys (`pipeline.secret`)."""
    if fresh:
        prepare_private(cfg)  # refuses a folder of another run, or a warehouse it did not make
        for stale in (cfg.warehouse, cfg.warehouse.with_name(cfg.warehouse.name + ".wal")):
            stale.unlink(missing_ok=True)
    else:
        private_folder(cfg.private)
    wal = cfg.warehouse.with_name(cfg.warehouse.name + ".wal")
    with private_writes(cfg.warehouse, wal):  # record-level: 0600, whatever the umask
        con = duckdb.connect(str(cfg.warehouse))
        if fresh:
            attach_log(con, Path(cfg.private) / SQL_LOG, fresh=True, run=True)
        execute(con, "warehouse_settings", "SET preserve_insertion_order = true")
        if fresh:
            execute(con, "warehouse_marker", marker_sql(WAREHOUSE_MARKER_TABLE), [cfg.run])
    secret.install(con)
    return con


def marker_sql(table: str) -> str:
    """The table recording the run that made the warehouse (one row: run, made)."""
    return f"CREATE TABLE {ident(table)} AS SELECT ? AS run, current_timestamp AS made"


def sql(name: str, **params: str) -> str:
    """Load a SQL file kept beside the stages, filling its `{placeholders}`: table names, and the
    quoted column names or expressions a stage builds from the run config."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return text.format(**params)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(execute(con, "table_exists", "SELECT count(*) FROM information_schema.tables "
                        "WHERE table_name = ?", [name], fetch="value"))


