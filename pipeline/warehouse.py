"""The run's private DuckDB warehouse: one file per run holding every record-level table.

Tables are named by stage: `ingest_<service>`, `geocode_<service>`, `assign_<service>`;
reference tables are `ref_postcodes`, `ref_oa`, `ref_wards`, `segments_oa`.
Only aggregates leave it, through the profile and render stages.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.config import RunConfig

SQL_DIR = Path(__file__).parent / "sql"


def connect(cfg: RunConfig) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the run's warehouse in its private folder."""
    cfg.private.mkdir(parents=True, exist_ok=True)
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
