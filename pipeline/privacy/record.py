"""The record of a run: its privacy manifest built and written at its end, a failed run's too.

:func:`build_manifest` states which personal fields each service read (and how its dates of birth
became age bands), every warehouse table and its columns, the private files and which are
record-level, the outputs (aggregates only), the retention and the date the record-level data
falls due for purging, and the secret key's fingerprint (:func:`secret_record`: a changed key is a
warning). :func:`write_manifest` saves it; :func:`record_run` does so as a run ends.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from pipeline.config import RunConfig, Service
from pipeline.privacy.ages import AgeRule
from pipeline.privacy.inventory import field_kind, private_files, warehouse_tables
from pipeline.privacy.manifest import Manifest, load, save, utc_now

logger = logging.getLogger(__package__)


def _service_entry(service: Service, result, age: AgeRule) -> dict:
    """What one service's ingest read: the mapped fields (and headers), the columns not read."""
    read = dict(getattr(result, "read", {}) or {})
    entry = {
        "service": service.name, "label": service.label, "file": str(service.file),
        "rows_read": getattr(result, "rows", None),
        "fields_read": [{"field": f, "header": h, "kind": field_kind(f)} for f, h in read.items()],
        "columns_not_read": list(getattr(result, "not_read", []) or []),
        "identifier_columns_not_read": list(getattr(result, "identifiers", []) or []),
    }
    if "date_of_birth" in service.columns:
        entry["date_of_birth"] = {
            "header": read.get("date_of_birth"), "stored_as": "age_band",
            "bands": {label: low for label, low in age.bands.items()}, "reference": age.describe(service),
            "dates_not_read": getattr(result, "dob_unreadable", None),
            "max_age": age.max_age,
            "counts": getattr(result, "dob_counts", None),
        }
    return entry


def secret_record(private: Path) -> dict:
    """The run's secret key for its manifest: the file, its fingerprint (`pipeline.secret.fingerprint`,
    a keyed hash of a constant, never the key), whether this run made it, and `changed` (with a
    `warning`) when the fingerprint differs from the previous run's manifest in the same private
    folder, or this run made a new key where an earlier run had one: the household keys of the two
    runs cannot be compared. Read before this run saves its own manifest."""
    from pipeline.secret import fingerprint, made_now, secret_path

    fp, made = fingerprint(), made_now()
    record = {"file": str(secret_path()), "fingerprint": fp, "made_by_this_run": made, "changed": None}
    try:
        previous = load(Path(private))
    except (OSError, ValueError):  # unreadable: nothing to compare with
        previous = None
    if previous is None:
        return record
    before = previous.data.get("secret")
    prev_fp = before.get("fingerprint") if isinstance(before, dict) else None
    if (prev_fp and fp and prev_fp != fp) or (not prev_fp and made):
        when = previous.data.get("created", "an earlier run")
        record["changed"] = {"previous_fingerprint": prev_fp, "previous_run": when}
        record["warning"] = (
            f"WARNING: the secret key's fingerprint is {fp}, not {prev_fp or 'that'} of the previous run in "
            f"{private} (made {when}): household keys changed, so this run's household counts cannot be "
            "compared with that run's. If the key was deleted or replaced by mistake, restore it from a "
            f"backup ({secret_path()}) and run again")
    return record


def build_manifest(con: duckdb.DuckDBPyConnection | None, cfg: RunConfig, ingested: Mapping, *,
                   status: str, outputs: Path | None, shared_outputs: Path | None = None,
                   now: datetime | None = None) -> Manifest:
    """The manifest of a run: `ingested` maps service -> IngestResult (may be partial), `outputs` is
    where the run wrote its outputs (listed; None: none kept), `shared_outputs` where they end up."""
    from pipeline.secret import secret_path

    created = utc_now(now)
    days = cfg.privacy.retention_days
    age = AgeRule.of(cfg)
    out_files = sorted(str(p.relative_to(outputs)) for p in Path(outputs).rglob("*")
                       if p.is_file() and not p.name.startswith(".")) if outputs else []
    data = {
        "run": cfg.run, "created": created.isoformat(), "status": status,
        "retention_days": days, "purge_due": (created + timedelta(days=days)).isoformat(),
        "private_folder": str(cfg.private), "warehouse": str(cfg.warehouse),
        "secret_key": str(secret_path()),
        "secret": secret_record(Path(cfg.private)),
        "services": [_service_entry(s, ingested.get(s.name), age) for s in cfg.services],
        "surveys": [_service_entry(s.extract(), ingested.get(s.extract().name), age) for s in cfg.surveys],
        "warehouse_tables": warehouse_tables(con) if con is not None else [],
        "private_files": private_files(Path(cfg.private)),
        "outputs": {"folder": str(shared_outputs or outputs or cfg.outputs), "aggregates_only": True,
                    "suppression": cfg.suppression.warning or
                    f"counts below {cfg.suppression.min_shown} hidden ({cfg.suppression.rule} rule), "
                    "with secondary suppression across tables",
                    "files": out_files},
        "never_stored": [
            "names, phone numbers and email addresses: they cannot be mapped (the config is refused), "
            "so such columns are never read",
            "any column a service does not map: dropped as each row is read",
            "dates of birth: turned into an age band as each row is read",
            "address lines and record references: only in the run's temporary tables, gone when it "
            "ends (the warehouse keeps the matched UPRN, postcode and point, not the address as given)",
            "the secret key of the household keys: only in its own file, never in the warehouse or outputs",
        ],
        "purges": [],
    }
    return Manifest(data)


def write_manifest(con, cfg: RunConfig, ingested: Mapping, *, status: str, outputs: Path | None,
                   shared_outputs: Path | None = None, now: datetime | None = None) -> Path:
    """Build and save the run's manifest (see :func:`build_manifest`)."""
    manifest = build_manifest(con, cfg, ingested, status=status, outputs=outputs,
                              shared_outputs=shared_outputs, now=now)
    path = save(manifest, Path(cfg.private))
    logger.info("Privacy manifest: %s", path)
    return path


def record_run(con, cfg: RunConfig, ingested: Mapping, reached: str | None, failed: bool,
               shared: Path | None = None) -> Path | None:
    """Write the manifest at the end of a run, also of one that failed (the warehouse it leaves is
    described; its outputs were not kept). While a run is failing, a failure to write the manifest
    is logged, not raised: the run's own error is the one to report."""
    status = f"failed during stage {reached}" if failed else f"completed up to stage {reached}"
    outputs = None if failed else Path(cfg.outputs)
    try:
        return write_manifest(con, cfg, ingested, status=status, outputs=outputs, shared_outputs=shared)
    except Exception:
        if not failed:
            raise
        logger.exception("Could not write the privacy manifest of the failed run")
        return None
