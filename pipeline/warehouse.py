"""The run's private DuckDB warehouse: one file per run holding every record-level table.

Tables are named by stage: `geocode_<service>` (one outcome per input row) and `assign_<service>`
(the matched records with their segment) are kept; `ingest_<service>`, the mapped extract with its
names and addresses, lives only for the run (a temporary view), so the warehouse keeps no more
personal data than the later stages need. Reference tables are `ref_postcodes`, `ref_oa`,
`ref_wards`, `segments_oa`.
Only aggregates leave it, through the profile and render stages.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.config import RunConfig

SQL_DIR = Path(__file__).parent / "sql"


def connect(cfg: RunConfig, fresh: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the run's warehouse in its private folder; `fresh` starts it empty,
    so no record-level table of an earlier run outlives the run that replaces it."""
    cfg.private.mkdir(parents=True, exist_ok=True)
    if fresh:
        for stale in (cfg.warehouse, cfg.warehouse.with_name(cfg.warehouse.name + ".wal")):
            stale.unlink(missing_ok=True)
    con = duckdb.connect(str(cfg.warehouse))
    con.execute("SET preserve_insertion_order = true")
    return con


def sql(name: str, **params: str) -> str:
    """Load a SQL file kept beside the stages, filling `{placeholders}` (identifiers only)."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return text.format(**params)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
    )
