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

The package, one job a module:

* :mod:`~pipeline.privacy.ages`: the age rule (a date of birth -> its age band, the DuckDB macros,
  a date of birth's status);
* :mod:`~pipeline.privacy.manifest`: the manifest as a document (its JSON and Markdown, save, load);
* :mod:`~pipeline.privacy.inventory`: what each field, table and private file is, and the lists of
  the warehouse's tables and the private folder's files;
* :mod:`~pipeline.privacy.record`: the manifest of a run built and written as it ends, with the
  secret key's fingerprint;
* :mod:`~pipeline.privacy.retention`: the purge.

See docs/data-protection.md.
"""

from pipeline.privacy.ages import DOB_STATUSES, MAX_AGE, AgeRule
from pipeline.privacy.inventory import (
    AGGREGATE_FILES,
    KEPT_PREFIXES,
    KEPT_TABLES,
    RECORD_LEVEL_FILES,
    field_kind,
    is_record_level,
    private_files,
    table_rows_sql,
    warehouse_tables,
)
from pipeline.privacy.manifest import MANIFEST_JSON, MANIFEST_MD, Manifest, load, markdown, save, utc_now
from pipeline.privacy.record import build_manifest, record_run, secret_record, write_manifest
from pipeline.privacy.retention import PurgeReport, attach_old_sql, keep_table_sql, purge

__all__ = [
    "AGGREGATE_FILES",
    "DOB_STATUSES",
    "KEPT_PREFIXES",
    "KEPT_TABLES",
    "MANIFEST_JSON",
    "MANIFEST_MD",
    "MAX_AGE",
    "RECORD_LEVEL_FILES",
    "AgeRule",
    "Manifest",
    "PurgeReport",
    "attach_old_sql",
    "build_manifest",
    "field_kind",
    "is_record_level",
    "keep_table_sql",
    "load",
    "markdown",
    "private_files",
    "purge",
    "record_run",
    "save",
    "secret_record",
    "table_rows_sql",
    "utc_now",
    "warehouse_tables",
    "write_manifest",
]
