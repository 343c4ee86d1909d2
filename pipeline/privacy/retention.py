"""Retention: the purge that removes a run's record-level data once older than `privacy.retention_days`.

`insight purge CONFIG` (:func:`purge`) removes the record-level tables and files of a run once
its manifest is older than the retention, and keeps the aggregates. The warehouse is rewritten
with only its reference and classification tables, so the removed rows do not linger in freed
pages of the database file; the purge is added to the run's manifest.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipeline.config import RunConfig
from pipeline.privacy.inventory import (
    AGGREGATE_FILES,
    RECORD_LEVEL_FILES,
    is_record_level,
    private_files,
    spark_record_level,
    warehouse_tables,
)
from pipeline.privacy.manifest import Manifest, load, save, utc_now
from pipeline.warehouse import execute, ident, literal

logger = logging.getLogger(__package__)


@dataclass
class PurgeReport:
    """What a purge found and did."""

    private: Path
    made: datetime | None
    due: datetime | None
    removed_tables: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    done: bool = False

    def text(self) -> str:
        if self.made is None:
            return f"{self.private}: no run data to purge"
        when = f"made {self.made.date().isoformat()}, due for purging from {self.due.date().isoformat()}"
        if not self.done:
            return f"{self.private}: {when}; not due yet, nothing removed"
        removed = self.removed_tables + self.removed_files
        lines = [f"{self.private}: {when}; removed record-level data: "
                 f"{', '.join(removed) if removed else 'none left'}"]
        lines.append(f"kept (aggregates and reference data): {', '.join(self.kept) or 'nothing'}")
        return "\n".join(lines)


def _made(private: Path, warehouse: Path) -> tuple[datetime | None, Manifest | None]:
    """When the run's record-level data was made: the manifest's time, else the newest
    record-level file's modification time (a run from before manifests)."""
    manifest = load(private)
    if manifest is not None:
        return manifest.created, manifest
    candidates = [warehouse, *(private / n for n in RECORD_LEVEL_FILES)]
    times = [p.stat().st_mtime for p in candidates if p.exists()]
    return (datetime.fromtimestamp(max(times), UTC) if times else None), None


def attach_old_sql(warehouse: Path) -> str:
    """Attach the warehouse being purged read-only as `old` (its path a quoted literal: ATTACH binds
    no parameter)."""
    return f"ATTACH {literal(warehouse)} AS old (READ_ONLY)"


def keep_table_sql(name: str) -> str:
    """Copy a kept table from the old warehouse (attached as `old`) into the new one."""
    return f"CREATE TABLE main.{ident(name)} AS SELECT * FROM old.main.{ident(name)}"


def _rewrite_warehouse(warehouse: Path) -> tuple[list[str], list[str]]:
    """Rewrite the warehouse with only its kept tables (the record-level rows do not linger in
    freed pages); return (tables removed, tables kept)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [r[0] for r in execute(con, "purge_tables", "SELECT table_name FROM "
                                       "information_schema.tables WHERE table_catalog = current_database() "
                                       "AND table_schema = 'main' ORDER BY 1", fetch="all")]
    finally:
        con.close()
    removed = [n for n in names if is_record_level(n)]
    kept = [n for n in names if not is_record_level(n)]
    if not removed:
        return [], kept
    fresh = warehouse.with_name(f".{warehouse.name}.purge-{os.getpid()}")
    fresh.unlink(missing_ok=True)
    con = duckdb.connect(str(fresh))
    try:
        execute(con, "purge_attach", attach_old_sql(warehouse))
        for name in kept:
            execute(con, "purge_keep_table", keep_table_sql(name))
        execute(con, "purge_detach", "DETACH old")
    except BaseException:
        con.close()
        fresh.unlink(missing_ok=True)
        raise
    con.close()
    os.chmod(fresh, 0o600)
    os.replace(fresh, warehouse)
    warehouse.with_name(warehouse.name + ".wal").unlink(missing_ok=True)
    return removed, kept


def purge(cfg: RunConfig, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Remove the run's record-level data if it is older than `privacy.retention_days`: the
    record-level tables of the warehouse (the warehouse keeps its reference and classification
    tables), the rejects, any interim files and the Spark engine's datasets (not its reference
    cache). Keeps outputs/<run>/ and the private aggregates
    (profiles/, quality/, run_summary.csv). Refuses a private folder another run (or no run) owns,
    and waits for no running run: a run in progress holds the lock and the purge stops."""
    from pipeline.ownership import PRIVATE_MARKER, RUN_LOCK, NotOwnedError, hold_lock, marker_run

    private, warehouse = Path(cfg.private), Path(cfg.warehouse)
    if not private.is_dir():
        return PurgeReport(private, None, None)
    owner = marker_run(private / PRIVATE_MARKER)
    if owner != cfg.run:
        raise NotOwnedError(f"private folder {private} is not marked as run '{cfg.run}''s "
                            f"({PRIVATE_MARKER} {'names ' + repr(owner) if owner else 'is missing'}); "
                            "nothing removed. Check private_dir in the config")
    with hold_lock(private / RUN_LOCK, f"run '{cfg.run}' (private folder {private})"):
        made, manifest = _made(private, warehouse)
        if made is None:
            return PurgeReport(private, None, None)
        due = made + timedelta(days=cfg.privacy.retention_days)
        report = PurgeReport(private, made, due)
        report.kept = [f"{cfg.outputs}/"] + [f"{private / n}" + ("/" if (private / n).is_dir() else "")
                                              for n in AGGREGATE_FILES if (private / n).exists()]
        if utc_now(now) < due:
            return report
        report.done = True
        files = [private / n for n in RECORD_LEVEL_FILES if (private / n).exists()]
        files += spark_record_level(private)
        if dry_run:
            report.removed_files = [str(p) for p in files]
            return report
        if warehouse.is_file():
            removed, kept_tables = _rewrite_warehouse(warehouse)
            report.removed_tables = [f"{warehouse.name}: {t}" for t in removed]
            report.kept += [f"{warehouse.name}: {t}" for t in kept_tables]
        for p in files:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)
            report.removed_files.append(str(p))
        _record_purge(private, warehouse, manifest, report, utc_now(now))
        logger.info("Purged the record-level data of run %s", cfg.run)
        return report


def _record_purge(private: Path, warehouse: Path, manifest: Manifest | None, report: PurgeReport,
                  when: datetime) -> None:
    """Add the purge to the manifest (one is made for a run from before manifests) and refresh its
    lists of tables and files."""
    if manifest is None:
        manifest = Manifest({"run": private.name, "created": report.made.isoformat(), "status": "unknown",
                             "retention_days": None, "purge_due": report.due.isoformat(),
                             "private_folder": str(private), "warehouse": str(warehouse), "secret_key": "",
                             "services": [], "outputs": {"folder": "", "aggregates_only": True,
                                                         "suppression": "", "files": []},
                             "never_stored": [], "purges": []})
    data = manifest.data
    if warehouse.is_file():
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            data["warehouse_tables"] = warehouse_tables(con)
        finally:
            con.close()
    else:
        data["warehouse_tables"] = []
    data["private_files"] = private_files(private)
    data.setdefault("purges", []).append({
        "purged": when.isoformat(), "tables_removed": report.removed_tables,
        "files_removed": [Path(f).name for f in report.removed_files]})
    save(manifest, private)
