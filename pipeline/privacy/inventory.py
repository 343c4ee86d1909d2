"""What each field, table and private file of a run is, and the list of what a run keeps.

:func:`field_kind` names the kind of personal data a field holds; :func:`is_record_level` says
whether a warehouse table holds data about service users (removed by a purge) or only reference
and classification data (kept). :func:`warehouse_tables` and :func:`private_files` list the
warehouse's tables and the private folder's files so classed, for the manifest and after a purge.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.privacy.manifest import MANIFEST_JSON, MANIFEST_MD
from pipeline.warehouse import execute, ident

#: Tables that hold no data about service users: open reference data, the council's gazetteer (every
#: address, used or not), the OA classification and the warehouse's own marker. Every other table
#: of the warehouse is record-level and removed by a purge.
KEPT_PREFIXES = ("ref_", "segments_")
KEPT_TABLES = ("insight_warehouse",)
#: Private files and folders (under data/<run>/) that are record-level, removed by a purge.
RECORD_LEVEL_FILES = ("rejects", "interim", "warehouse.duckdb.wal", "warehouse.duckdb.tmp")
#: Private files and folders that hold aggregates only (unsuppressed), kept by a purge. sql.log
#: (pipeline.warehouse) holds each statement's text and row count, never a bound value.
AGGREGATE_FILES = ("profiles", "quality", "run_summary.csv", "sql.log")
#: The folder of the Spark engine's datasets (engine: spark, `pipeline.spark.stages`): the extracts
#: as read and the geocoded rows, record-level like the warehouse's tables, removed by a purge; all
#: but its reference cache (`SPARK_REFERENCE`, `pipeline.spark.reference`: the postcode directory and
#: UPRN lookup, open data about no service user), which is kept.
SPARK_FOLDER, SPARK_REFERENCE = "spark", "reference"


def spark_record_level(private: Path) -> list[Path]:
    """The Spark engine's record-level datasets of a private folder (its reference cache left out)."""
    folder = private / SPARK_FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return []
    return sorted(p for p in folder.iterdir() if p.name != SPARK_REFERENCE)


def field_kind(name: str) -> str:
    """What kind of personal data a warehouse or extract field holds, for the manifest."""
    if name == "record_id":
        return "record reference (identifies the record in the service's own system)"
    if name in ("uprn", "postcode", "easting", "northing") or name.startswith("address_"):
        return "location (identifies a household's address)"
    if name == "household_key":
        return "pseudonymous household key (keyed hash; the secret key is kept apart)"
    if name == "date_of_birth":
        return "date of birth: turned into an age band as it is read; the date is never stored"
    if name in ("ethnicity", "disability", "disability_type", "religion", "sexual_orientation",
                "gender_identity"):
        return "special category data (UK GDPR Article 9)"
    if name in ("age_band", "sex"):
        return "personal data (equality monitoring)"
    if name == "date":
        return "personal data (date of the record)"
    if name.startswith(("option_", "outcome_")) or name in ("channel", "segment", "match_level"):
        return "personal data (the person's use of the service)"
    if name in ("oa21cd", "ward_code", "uprn_source", "match_score"):
        return "location (the record's small area or match)"
    if name == "row_number":
        return "row of the extract (links back to the service's file)"
    return "derived from the record"


def is_record_level(table: str) -> bool:
    """Whether a warehouse table holds data about service users (removed by a purge)."""
    return not (table.startswith(KEPT_PREFIXES) or table in KEPT_TABLES)


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every table of the warehouse file (not temporary ones): name, rows, columns, whether it is
    record-level, and the kind of each personal column."""
    rows = execute(con, "manifest_tables", """SELECT table_name, list(column_name ORDER BY ordinal_position)
           FROM information_schema.columns
           WHERE table_catalog = current_database() AND table_schema = 'main'
           GROUP BY table_name ORDER BY table_name""", fetch="all")
    tables = []
    for name, columns in rows:
        count = execute(con, "manifest_table_rows", table_rows_sql(name), fetch="value")
        record = is_record_level(name)
        tables.append({
            "table": name, "rows": int(count), "columns": list(columns), "record_level": record,
            "personal_columns": {c: field_kind(c) for c in columns} if record else {},
            "removed_by_purge": record,
        })
    return tables


def table_rows_sql(name: str) -> str:
    """The rows of a table of the warehouse file (schema main, never a temporary table)."""
    return f"SELECT count(*) FROM main.{ident(name)}"


def private_files(private: Path) -> list[dict]:
    """The files of the private folder, each classed as record-level, aggregate or the manifest."""
    out = []
    for entry in sorted(private.iterdir()) if private.is_dir() else []:
        name = entry.name
        if name.startswith(".insight") or name in (MANIFEST_JSON, MANIFEST_MD, "warehouse.duckdb"):
            continue
        if name == SPARK_FOLDER and entry.is_dir() and not entry.is_symlink():
            for part in sorted(entry.iterdir()):
                kept = part.name == SPARK_REFERENCE
                out.append({"path": f"{name}/{part.name}" + ("/" if part.is_dir() else ""),
                            "files": sum(1 for p in part.rglob("*") if p.is_file()) if part.is_dir() else 1,
                            "kind": ("reference data (postcode directory, UPRN lookup): no service users"
                                     if kept else "record-level (the Spark engine's datasets)"),
                            "removed_by_purge": not kept})
            continue
        files = sorted(p for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else [entry]
        if name in RECORD_LEVEL_FILES:
            kind, kept = "record-level", False
        elif name in AGGREGATE_FILES:
            kind, kept = "aggregates, unsuppressed (small counts included): private", True
        else:
            kind, kept = "not made by a run stage the manifest knows: review it", True
        out.append({"path": name + ("/" if entry.is_dir() else ""), "files": len(files), "kind": kind,
                    "removed_by_purge": not kept})
    return out
