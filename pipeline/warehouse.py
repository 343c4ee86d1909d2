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

import os
from pathlib import Path

import duckdb

from pipeline import secret
from pipeline.config import RunConfig
from pipeline.errors import InsightError
from pipeline.executor import (  # noqa: F401  (the executor, also imported from here by the stages)
    SCRATCH,
    SQL_LOG,
    attach_log,
    count_sql,
    describe_sql,
    drop_scratch,
    drop_sql,
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

#: DuckDB's memory limit by default: this share of the machine's memory (or of the process's cgroup
#: limit, if lower); INSIGHT_MEMORY_LIMIT overrides it ('8GB', '40%'). Past it DuckDB spills to
#: TEMP_DIR in the private folder (docs/scale.md).
MEMORY_SHARE = 0.6
MEMORY_ENV = "INSIGHT_MEMORY_LIMIT"
#: DuckDB's threads by default: the CPUs this process may run on; INSIGHT_THREADS overrides it.
THREADS_ENV = "INSIGHT_THREADS"
#: Where DuckDB spills what does not fit in memory: a folder of the private folder (record-level)
TEMP_DIR = ".duckdb-spill"


class EngineError(InsightError, ValueError):
    """INSIGHT_MEMORY_LIMIT or INSIGHT_THREADS cannot be read: reported as `error: ...`."""


def machine_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit if lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return total


def engine_settings() -> dict[str, str | int]:
    """DuckDB's memory_limit and threads for a run, from the machine or the environment
    (INSIGHT_MEMORY_LIMIT: a size such as '8GB' or a share such as '40%'; INSIGHT_THREADS)."""
    memory = os.environ.get(MEMORY_ENV, "").strip() or f"{MEMORY_SHARE:.0%}"
    if memory.endswith("%"):
        try:
            share = float(memory[:-1]) / 100
        except ValueError:
            share = -1.0
        if not 0 < share <= 1:
            raise EngineError(f"{MEMORY_ENV}={memory!r}: give a size such as 8GB or a share such as 40%")
        memory = f"{max(1, int(machine_memory() * share / 2**20))}MB"
    threads = os.environ.get(THREADS_ENV, "").strip()
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    n = int(threads) if threads.isdigit() and int(threads) > 0 else cpus
    return {"memory_limit": memory, "threads": n}


def engine(con: duckdb.DuckDBPyConnection, private: Path) -> None:
    """Bound the run's DuckDB: its memory limit and threads (`engine_settings`), spilling to a
    private folder of its own (TEMP_DIR), insertion order kept (ingest numbers rows by it)."""
    settings = engine_settings()
    execute(con, "warehouse_memory_limit", "SET memory_limit = ?", [settings["memory_limit"]])
    execute(con, "warehouse_threads", "SET threads = ?", [settings["threads"]])
    execute(con, "warehouse_temp_directory", "SET temp_directory = ?",
            [str(private_folder(Path(private) / TEMP_DIR))])
    execute(con, "warehouse_settings", "SET preserve_insertion_order = true")


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
        engine(con, cfg.private)
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


