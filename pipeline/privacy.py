"""Privacy by design: what a run reads, what it keeps, for how long, and the purge that enforces it.

* **Read**: only the columns a service maps are read into the warehouse (`pipeline.ingest`); every
  other column of an extract is dropped as the row is read (its cells count only towards the
  row's blank flag and duplicate hash). Names, phone numbers and email addresses cannot be mapped
  at all (`pipeline.config.identifier_kind`). A `date_of_birth` column is turned into an age band
  as it is read (:class:`AgeRule`); the date itself is never stored.
* **Kept**: the record-level tables of `data/<run>/warehouse.duckdb` and the rejects in
  `data/<run>/rejects/`; the aggregates in `data/<run>/profiles/`, `data/<run>/quality/`,
  `data/<run>/run_summary.csv` (unsuppressed, private) and `outputs/<run>/` (suppressed, shareable).
* **Manifest**: every run writes `data/<run>/privacy_manifest.json` and `.md`
  (:func:`write_manifest`), stating which personal fields each service read, every warehouse
  table and its columns, the private files and which are record-level, the outputs (aggregates
  only), the retention and the date the record-level data falls due for purging.
* **Purge**: `insight purge CONFIG` (:func:`purge`) removes the record-level tables and files of a
  run once its manifest is older than `privacy.retention_days`, and keeps the aggregates. The
  warehouse is rewritten with only its reference and classification tables, so the removed rows
  do not linger in freed pages of the database file.

See docs/data-protection.md.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from pipeline import dates
from pipeline.config import DEFAULT_MAX_AGE, RunConfig, Service
from pipeline.warehouse import execute, ident, literal

logger = logging.getLogger(__name__)

MANIFEST_JSON = "privacy_manifest.json"
MANIFEST_MD = "privacy_manifest.md"
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
#: Ages outside 0..MAX_AGE never give an age band, whatever the config; `privacy.max_age` (default
#: 110, at most MAX_AGE) is the oldest plausible age of the rule (`AgeRule.max_age`).
MAX_AGE = 125
#: What a date of birth given is (`insight_dob_status`): an age band's, or why it has none
DOB_STATUSES = ("ok", "unreadable", "future", "too_old")


# --- dates of birth -> age bands ---------------------------------------------------------------


@dataclass(frozen=True)
class AgeRule:
    """How a date of birth becomes an age band: the age in whole years on the reference day (the
    configured `privacy.age_reference_date` for every record; else the record's own `date` where
    the service maps one and it reads as a date; else the day the run started), then the last band
    (`privacy.age_bands`, label -> lowest age) whose lowest age it reaches. A date that cannot be
    read by the one date rule (`pipeline.dates`) ('unreadable'), falls after the reference day
    ('future') or gives an age over `max_age` (`privacy.max_age`, default 110: 'too_old') gives no
    band; the macro `insight_dob_status(dob, day)` says which, and the ingest stage counts each
    for the run's notes, `insight validate` and the privacy manifest."""

    bands: Mapping[str, int]
    reference: date | None
    run_date: date
    max_age: int = DEFAULT_MAX_AGE

    @classmethod
    def of(cls, cfg: RunConfig, run_date: date | None = None) -> AgeRule:
        return cls(dict(cfg.privacy.age_bands), cfg.privacy.age_reference_date, run_date or date.today(),
                   cfg.privacy.max_age)

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Define the temporary macros `insight_date(text)` (the one date rule, `pipeline.dates`) and
        `insight_age_band(dob, day)` on `con`."""
        dates.install(con)
        execute(con, "age_macro", "CREATE OR REPLACE TEMP MACRO insight_age(d, r) AS "
                "year(r) - year(d) - CAST(strftime(r, '%m%d') < strftime(d, '%m%d') AS INTEGER)")
        ordered = sorted(self.bands.items(), key=lambda b: -b[1])  # bound, never in the SQL text
        lows, labels = [int(low) for _, low in ordered], [label for label, _ in ordered]
        execute(con, "age_band_lows", "SET VARIABLE insight_band_lows = ?", [lows])
        execute(con, "age_band_labels", "SET VARIABLE insight_band_labels = ?", [labels])
        execute(con, "age_band_macro", self.band_macro_sql())
        execute(con, "dob_max_age", "SET VARIABLE insight_max_age = ?", [int(self.max_age)])
        execute(con, "dob_status_macro", self.status_macro_sql())
        execute(con, "age_band_of_dob_macro", "CREATE OR REPLACE TEMP MACRO insight_age_band(dob, day) AS "
                "CASE WHEN insight_dob_status(dob, day) = 'ok' "
                "THEN insight_band(insight_age(insight_date(dob), day)) END")

    def status_macro_sql(self) -> str:
        """The macro `insight_dob_status(dob, day)`: NULL for a blank date of birth, else one of
        DOB_STATUSES: 'unreadable' (not a date by the one rule), 'future' (after `day`), 'too_old'
        (an age over `max_age` on `day`), or 'ok'. `max_age` is bound by `install` into the session
        variable `insight_max_age`."""
        return ("CREATE OR REPLACE TEMP MACRO insight_dob_status(dob, day) AS "
                "CASE WHEN nullif(trim(CAST(dob AS VARCHAR)), '') IS NULL THEN NULL "
                "WHEN insight_date(dob) IS NULL THEN 'unreadable' "
                "WHEN insight_age(insight_date(dob), day) < 0 THEN 'future' "
                "WHEN insight_age(insight_date(dob), day) > getvariable('insight_max_age') THEN 'too_old' "
                "ELSE 'ok' END")

    def status_sql(self, dob: str, record_date: str | None) -> str:
        """SQL of the status (`insight_dob_status`) of the date-of-birth column `dob`."""
        return f"insight_dob_status({dob}, {self.day_sql(record_date)})"

    def band_macro_sql(self) -> str:
        """The macro `insight_band(age)`: the label of the highest band whose lower age the age
        reaches. The config's ages and labels are bound into session variables by `install`
        (highest first: `insight_band_lows`, `insight_band_labels`); the text holds only one WHEN
        per band. A NULL age (no readable date) fails every test and gives NULL."""
        cases = " ".join(f"WHEN a >= getvariable('insight_band_lows')[{i}] "
                         f"THEN getvariable('insight_band_labels')[{i}]"
                         for i in range(1, len(self.bands) + 1))
        return (f"CREATE OR REPLACE TEMP MACRO insight_band(a) AS "
                f"CASE WHEN a NOT BETWEEN 0 AND {int(MAX_AGE)} THEN NULL {cases} END")

    def day_sql(self, record_date: str | None) -> str:
        """SQL of the day the age is taken on, given the SQL of the record's date column (or None).
        The configured or run's day is a DATE literal of an ISO date the pipeline formats itself
        (tests/test_privacy.py holds it in the text), never text from the config or a record."""
        fallback = f"DATE '{(self.reference or self.run_date).isoformat()}'"
        if self.reference is None and record_date is not None:
            return f"coalesce(insight_date({record_date}), {fallback})"
        return fallback

    def sql(self, dob: str, record_date: str | None) -> str:
        """SQL of the age band of the date-of-birth column `dob` (a quoted column name)."""
        return f"insight_age_band({dob}, {self.day_sql(record_date)})"

    def describe(self, service: Service) -> str:
        """The reference day in words, for the manifest."""
        if self.reference is not None:
            return f"age on {self.reference.isoformat()} (privacy.age_reference_date) for every record"
        if "date" in service.columns:
            return (f"age on the record's own date (`date`: {service.columns['date']}); on the run's "
                    f"date, {self.run_date.isoformat()}, where that is blank or not a date")
        return f"age on the run's date, {self.run_date.isoformat()}"

    def age_band(self, dob: date, day: date) -> str | None:
        """The band of one date of birth on `day` (Python's reading of the SQL rule, for checks)."""
        age = day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
        if not 0 <= age <= min(self.max_age, MAX_AGE):
            return None
        return max(((low, label) for label, low in self.bands.items() if age >= low), default=(0, None))[1]


# --- what each field is -----------------------------------------------------------------------


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


# --- the manifest --------------------------------------------------------------------------------


@dataclass
class Manifest:
    """The privacy manifest of one run, as written to data/<run>/privacy_manifest.json."""

    data: dict = field(default_factory=dict)

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.data["created"])


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


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


def _private_files(private: Path) -> list[dict]:
    """The files of the private folder, each classed as record-level, aggregate or the manifest."""
    out = []
    for entry in sorted(private.iterdir()) if private.is_dir() else []:
        name = entry.name
        if name.startswith(".insight") or name in (MANIFEST_JSON, MANIFEST_MD, "warehouse.duckdb"):
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

    created = _now(now)
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
        "warehouse_tables": warehouse_tables(con) if con is not None else [],
        "private_files": _private_files(Path(cfg.private)),
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


def _fingerprint_words(secret: dict | None) -> str:
    """The secret's fingerprint for the manifest's text (and a warning when it changed)."""
    if not secret or not secret.get("fingerprint"):
        return "."
    made = " (made by this run)" if secret.get("made_by_this_run") else ""
    text = (f" (fingerprint `{secret['fingerprint']}`{made}: runs with the same fingerprint have "
            "comparable keys).")
    return text + (f"\n\n**{secret['warning']}**" if secret.get("warning") else "")


def _markdown(m: dict) -> str:
    """The manifest for an information governance officer to read."""
    lines = [f"# Privacy manifest: run `{m['run']}`", "",
             f"Made {m['created']} ({m['status']}). Record-level data is kept for "
             f"**{m['retention_days']} days** (`privacy.retention_days`): `insight purge` removes it "
             f"from {m['purge_due']}.", "",
             f"Private folder: `{m['private_folder']}` (warehouse `{m['warehouse']}`). Household keys are "
             f"keyed hashes under the installation's secret key, kept apart in `{m['secret_key']}`"
             f"{_fingerprint_words(m.get('secret'))}", "",
             "## Personal fields read, by service", ""]
    for s in m["services"]:
        lines.append(f"### {s['label']} (`{s['service']}`), {s['file']}")
        lines.append("")
        if s["rows_read"] is None:
            lines += ["Not read (the run stopped before it).", ""]
            continue
        lines += [f"{s['rows_read']:,} rows read. Only these columns were read:", "",
                  "| field | column in the extract | kind |", "|---|---|---|"]
        lines += [f"| `{f['field']}` | {f['header']} | {f['kind']} |" for f in s["fields_read"]]
        lines.append("")
        if dob := s.get("date_of_birth"):
            bands = ", ".join(dob["bands"])
            counts = dob.get("counts") or {}
            lines += [f"Date of birth ({dob['header']}): stored only as its age band ({bands}); "
                      f"{dob['reference']}. Of {counts.get('given', 0):,} dates of birth given, with no age "
                      f"band (counted as missing): {counts.get('unreadable', 0):,} could not be read as a "
                      "date, "
                      f"{counts.get('future', 0):,} fall after the day the age is taken on, "
                      f"{counts.get('too_old', 0):,} give an age over {dob.get('max_age')} "
                      "(privacy.max_age).", ""]
        if s["columns_not_read"]:
            lines += [f"Columns not read (dropped as each row was read): {', '.join(s['columns_not_read'])}."]
        if s["identifier_columns_not_read"]:
            lines += [f"Of these, names, phone numbers or email addresses: "
                      f"{', '.join(s['identifier_columns_not_read'])}. Ask the service to leave them out "
                      "of the extract."]
        lines.append("")
    lines += ["## What the warehouse keeps", "",
              "| table | rows | record-level (removed by purge) | columns |", "|---|---|---|---|"]
    for t in m["warehouse_tables"]:
        lines.append(f"| `{t['table']}` | {t['rows']:,} | {'yes' if t['record_level'] else 'no'} | "
                     f"{', '.join(t['columns'])} |")
    lines += ["", "## Other private files", "", "| path | files | kind | removed by purge |",
              "|---|---|---|---|"]
    lines += [f"| `{f['path']}` | {f['files']} | {f['kind']} | {'yes' if f['removed_by_purge'] else 'no'} |"
              for f in m["private_files"]]
    out = m["outputs"]
    lines += ["", "## Shareable outputs: aggregates only", "",
              f"`{out['folder']}` holds counts, rates and indices by segment, ward, OA and group, never a "
              f"record; {out['suppression']}. {len(out['files'])} files:", ""]
    lines += [f"- `{f}`" for f in out["files"]]
    lines += ["", "## Never stored", ""] + [f"- {n}" for n in m["never_stored"]]
    if m["purges"]:
        lines += ["", "## Purges", ""]
        for p in m["purges"]:
            lines.append(f"- {p['purged']}: removed tables {', '.join(p['tables_removed']) or 'none'}; "
                         f"files {', '.join(p['files_removed']) or 'none'}")
    return "\n".join(lines) + "\n"


def save(manifest: Manifest, private: Path) -> Path:
    """Write the manifest's JSON and Markdown into the private folder (mode 0600); return the JSON."""
    private = Path(private)
    for name, text in ((MANIFEST_JSON, json.dumps(manifest.data, indent=2, ensure_ascii=False) + "\n"),
                       (MANIFEST_MD, _markdown(manifest.data))):
        tmp = private / f".{name}.new-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, private / name)
    return private / MANIFEST_JSON


def load(private: Path) -> Manifest | None:
    """The manifest in a private folder, or None."""
    path = Path(private) / MANIFEST_JSON
    if not path.is_file():
        return None
    return Manifest(json.loads(path.read_text(encoding="utf-8")))


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


# --- purge ---------------------------------------------------------------------------------------


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


def table_rows_sql(name: str) -> str:
    """The rows of a table of the warehouse file (schema main, never a temporary table)."""
    return f"SELECT count(*) FROM main.{ident(name)}"


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
    tables), the rejects and any interim files. Keeps outputs/<run>/ and the private aggregates
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
        if _now(now) < due:
            return report
        report.done = True
        files = [private / n for n in RECORD_LEVEL_FILES if (private / n).exists()]
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
        _record_purge(private, warehouse, manifest, report, _now(now))
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
    data["private_files"] = _private_files(private)
    data.setdefault("purges", []).append({
        "purged": when.isoformat(), "tables_removed": report.removed_tables,
        "files_removed": [Path(f).name for f in report.removed_files]})
    save(manifest, private)
