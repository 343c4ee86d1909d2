"""Stage 1, ingest: read each service extract (CSV, XLSX or Parquet) into the warehouse as `ingest_<service>`.

Headers are mapped to the standard fields of `pipeline.config.STANDARD_FIELDS` as the run
config says. Every data row keeps its 1-based `row_number` (the row a reader counts below the
header: a fully empty line counts, and a record whose quoted field spans several lines counts
once), a `row_blank` flag (every cell empty, or the line empty), a `row_kind` (a repeated header
row, or a footer or banner line: `row_kind_sql`) and a `row_hash` (MD5 of all its
cells, kept as a 128-bit number: cheaper to store and group than its hex text), so the geocode
stage can account for blank and duplicate rows.

Privacy by design: only the mapped columns are read into the warehouse (an allow-list). Each
row's flags and hash are computed over all its cells as the row is read, and then every cell of a
column the service does not map is dropped: no table, not even a temporary one, holds it. A mapped
`date_of_birth` becomes its `age_band` in the same step (`pipeline.privacy.AgeRule`), so the date
is never stored. The result lists the fields read, the columns not read and those of them that
look like names, phone numbers or email addresses (for the privacy manifest).

CSV files are read as UTF-8 (with or without a BOM), UTF-16 or UTF-32 (told by their BOM) or
Windows-1252; a file that is not UTF-8 is decoded by Python as it is read, in batches, and no
copy of it is written anywhere. Raw files are only ever read.
A Parquet extract is one `.parquet` file: its row numbers are the file's row order (`file_row_number`
+ 1), its cells are read as text (`parquetfile.cell_sql`) and go through the same projection, and a
mapped column of a type not read as text the same way on every engine (a floating-point number) is
an error with the fix.
An .xlsx is checked before it is parsed (a zip, not an .xls or a web page; its unzipped size under
the service's `max_xlsx_mb`, 200 MB unless set), and formula cells saved without a result are
reported in the notes.

Every failure is an `IngestError` naming the file, the row and line where known, and the fix;
messages never quote a record's content (it holds personal data).

The package, one job a module:

* :mod:`~pipeline.ingest.errors`: `IngestError`, the stage's one error;
* :mod:`~pipeline.ingest.filekind`: what kind of file an extract is, and the checks on its path;
* :mod:`~pipeline.ingest.encoding`: byte-order marks, UTF-8 or Windows-1252, a declared encoding checked;
* :mod:`~pipeline.ingest.headers`: header names mapped to the config's fields, the warehouse columns of
  options and outcomes, a CSV's header line and delimiter sniffed;
* :mod:`~pipeline.ingest.rows`: repeated header rows and footer or banner lines (`row_kind_sql`);
* :mod:`~pipeline.ingest.csvfile`: a CSV's records as a reader counts them, its blank lines, the
  read_csv() relation, DuckDB's errors explained, UTF-8 and decoded loading;
* :mod:`~pipeline.ingest.xlsx`: a workbook's size, formulas, sheet, rows and header row;
* :mod:`~pipeline.ingest.parquetfile`: a Parquet file's columns and types, its cells as text, its
  rows with their place in the file;
* :mod:`~pipeline.ingest.store`: the scratch tables, the projection of the mapped columns, the rows
  numbered into `ingest_<service>`, dates of birth counted by status;
* :mod:`~pipeline.ingest.values`: the one rule of an outcome column's values, rejected ones counted;
* :mod:`~pipeline.ingest.validation`: what `insight validate` asks of each extract (`check`,
  `privacy_warnings`, `value_report`);
* this module: `ingest_service` and `run`, the stage itself, and `IngestResult`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.config import RunConfig, Service, identifier_kind
from pipeline.ingest.csvfile import (
    DECODE_BATCH,
    blank_lines,
    csv_relation_sql,
    duckdb_problems,
    header_cells,
    load_csv,
    load_decoded,
    safe_cause,
)
from pipeline.ingest.encoding import bom_encoding, detect_encoding, is_utf8
from pipeline.ingest.errors import IngestError
from pipeline.ingest.filekind import CONVERT_FIX, check_path, is_parquet
from pipeline.ingest.headers import (
    HINT_LINES,
    MAX_COLUMNS,
    SNIFF_LINES,
    SYNONYMS,
    map_headers,
    option_column,
    outcome_column,
    sniff_csv,
)
from pipeline.ingest.parquetfile import FILE_ROW, load_parquet
from pipeline.ingest.rows import FOOTER_MAX_CELLS, FOOTER_PATTERN, row_kind_sql
from pipeline.ingest.store import (
    DATE_FORMATS_SHOWN,
    blank_lines_sql,
    blank_table,
    dob_counts,
    dob_counts_sql,
    dob_lines,
    empty_raw_sql,
    ingest_view_sql,
    numbered_source_sql,
    numbered_sql,
    projection,
    raw_table,
    raw_table_sql,
    store_rows,
)
from pipeline.ingest.validation import (
    HEAD_BYTES,
    check,
    csv_header,
    dob_status_table_sql,
    extract_columns,
    extract_header,
    privacy_warnings,
    value_report,
    xlsx_header,
)
from pipeline.ingest.values import (
    NUMBER_PATTERN,
    OUTCOME_STATUSES,
    OutcomeValues,
    outcome_scores,
    outcome_value_lines,
    outcome_value_sql,
    outcome_values,
    outcome_values_sql,
)
from pipeline.ingest.xlsx import read_xlsx
from pipeline.privacy import AgeRule
from pipeline.warehouse import count_sql, execute

#: Every name the stage offered as one module, importable from `pipeline.ingest` as before
__all__ = [
    "DATE_FORMATS_SHOWN", "DECODE_BATCH", "FOOTER_MAX_CELLS", "FOOTER_PATTERN", "HEAD_BYTES",
    "HINT_LINES", "IngestError", "IngestResult", "MAX_COLUMNS", "NUMBER_PATTERN", "OUTCOME_STATUSES",
    "OutcomeValues", "SNIFF_LINES", "SYNONYMS", "blank_lines", "blank_lines_sql", "blank_table",
    "bom_encoding", "check", "check_rows", "csv_header", "csv_relation_sql", "detect_encoding",
    "dob_counts_sql", "dob_lines", "dob_status_table_sql", "empty_raw_sql", "extract_columns",
    "extract_header", "header_cells", "ingest_result", "ingest_service", "ingest_view_sql", "map_headers",
    "numbered_source_sql",
    "numbered_sql", "option_column", "outcome_column", "outcome_scores", "outcome_value_lines",
    "outcome_value_sql", "outcome_values", "outcome_values_sql", "privacy_warnings", "raw_table",
    "raw_table_sql", "row_kind_sql", "run", "sniff_csv", "unreadable", "value_report", "xlsx_header",
]

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """One service's extract as loaded: rows read (blank lines included), how it was decoded, and
    notes the run prints for the analyst."""

    service: str
    rows: int
    encoding: str
    notes: list[str] = field(default_factory=list)
    #: field -> the header it was read from (options as option_<name>); nothing else was read
    read: dict[str, str] = field(default_factory=dict)
    #: the extract's columns that were not read, and those of them that hold names, phones or emails
    not_read: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    #: dates of birth given that could not be read as a date (no age band); None: none mapped
    dob_unreadable: int | None = None
    #: dates of birth given by status (privacy.DOB_STATUSES: ok, unreadable, future, too_old) and in
    #: all ('given'); None: none mapped
    dob_counts: dict[str, int] | None = None
    #: outcome -> the values its column held, rejected ones counted (`outcome_values`)
    outcome_values: dict[str, OutcomeValues] = field(default_factory=dict)


def _ingest_xlsx(con, service: Service, path: Path, notes: list[str],
                 age: AgeRule) -> tuple[int, list[str], dict[str, str], dict[str, int] | None]:
    """Load the mapped columns of an .xlsx extract; return (rows, headers, field -> header, dates of
    birth not read). The sheet is parsed in memory; only `projection` reaches a table."""
    df = read_xlsx(path, service, notes)
    headers = [str(c) for c in df.columns]
    select, mapping = projection(service, headers, path, age)
    con.register("xlsx_df", df)
    try:
        execute(con, "ingest_read_xlsx", raw_table_sql(raw_table(service), select, "xlsx_df"))
    finally:
        con.unregister("xlsx_df")
    del df
    dob = dob_counts(con, service)
    return store_rows(con, service, path, headers, []), headers, mapping, dob


def _ingest_parquet(con, service: Service, path: Path,
                    age: AgeRule) -> tuple[int, list[str], dict[str, str], dict[str, int] | None]:
    """Load the mapped columns of a Parquet extract, numbered by their place in the file; return (rows,
    headers, field -> header, dates of birth by status)."""
    headers, mapping = load_parquet(con, service, path, age)
    dob = dob_counts(con, service)
    return store_rows(con, service, path, headers, [], number=f"{FILE_ROW} + 1"), headers, mapping, dob


def _ingest_csv(con, cfg: RunConfig, service: Service, path: Path, encoding: str,
                age: AgeRule) -> tuple[int, list[str], dict[str, str], dict[str, int] | None]:
    """Load the mapped columns of a CSV extract (decoded by Python if it is not UTF-8); return
    (rows, headers, field -> header, dates of birth not read)."""
    if not is_utf8(encoding):
        headers, mapping = load_decoded(con, service, path, encoding, age)
        dob = dob_counts(con, service)
        return store_rows(con, service, path, headers, []), headers, mapping, dob
    src = path
    header, delim = sniff_csv(src, service)
    try:
        headers, mapping = load_csv(con, service, src, header, delim, age)
    except duckdb.Error as exc:
        raise IngestError(duckdb_problems(exc, path, src, header, delim)) from None
    blanks, total = blank_lines(src, header, delim)
    loaded = execute(con, "ingest_rows_read", count_sql(raw_table(service)), fetch="value")
    if loaded == 0:  # nothing but empty lines below the header: no data rows, not blank rows
        blanks = []
    if blanks and loaded + len(blanks) != total:
        raise IngestError([f"{path}: {total:,} rows counted but {loaded + len(blanks):,} read, so row "
                           f"numbers would be wrong; fix: check the file's quotes and line endings, "
                           f"or {CONVERT_FIX}"])
    dob = dob_counts(con, service)
    return store_rows(con, service, path, headers, blanks), headers, mapping, dob


def ingest_service(con: duckdb.DuckDBPyConnection, cfg: RunConfig, service: Service,
                   age: AgeRule | None = None) -> IngestResult:
    """Load the mapped columns of one extract into `ingest_<service>`; raise IngestError on a file
    that cannot be read as configured (what is wrong, where and how to fix it). `age`: how a date
    of birth becomes an age band (default: the config's, on today's date)."""
    path = Path(service.file)
    notes: list[str] = []
    age = age or AgeRule.of(cfg)
    age.install(con)
    try:
        check_path(path, service)
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            encoding = "xlsx"
            rows, headers, mapping, dob = _ingest_xlsx(con, service, path, notes, age)
        elif is_parquet(path):
            encoding = "parquet"
            rows, headers, mapping, dob = _ingest_parquet(con, service, path, age)
        else:
            encoding = detect_encoding(path, service.encoding)
            if encoding == "cp1252" and not service.encoding:
                notes.append(f"{path.name} is not UTF-8: read as Windows-1252 (cp1252)")
                logger.warning("%s is not valid UTF-8; reading it as Windows-1252", path)
            rows, headers, mapping, dob = _ingest_csv(con, cfg, service, path, encoding, age)
    except OSError as exc:
        raise unreadable(path, exc) from None
    check_rows(path, rows)
    values = outcome_values(con, f"ingest_{service.name}", list(service.outcomes))
    return ingest_result(service, path, encoding, rows, headers, mapping, dob, values, notes, age)


def unreadable(path: Path, exc: OSError) -> IngestError:
    """The error for an extract the system would not let the stage read."""
    return IngestError([f"{path}: could not be read ({exc.strerror or type(exc).__name__}); "
                        f"fix: check the file's permissions and that it is not open elsewhere"])


def check_rows(path: Path, rows: int) -> None:
    """An extract with a header and no data rows (at most empty lines below it) is an error."""
    if rows == 0:
        raise IngestError([f"{path}: the file has a header but no data rows"])


def ingest_result(service: Service, path: Path, encoding: str, rows: int, headers: list[str],
                  mapping: dict[str, str], dob: dict[str, int] | None, values: dict[str, OutcomeValues],
                  notes: list[str], age: AgeRule, where: str = "") -> IngestResult:
    """What the stage reports of one extract, whichever engine read it: its notes (dates of birth
    without an age band, rejected outcome values), the columns read and not read (identifiers among
    them), logged in one line."""
    for line in dob_lines(f"{path.name}:", service, dob, age):
        notes.append(line)
        if line.startswith("WARNING"):
            logger.warning("%s", line)
    for line in outcome_value_lines(f"{path.name}:", service, values):
        notes.append(line)
        if line.startswith("WARNING"):
            logger.warning("%s", line)
    used = set(mapping.values())
    not_read = [h for h in headers if h not in used]
    identifiers = [h for h in not_read if identifier_kind(h)]
    logger.info("Ingested %s%s: %d rows from %s (%s); %d of %d columns read", service.name, where, rows, path,
                encoding, len(used), len(headers))
    return IngestResult(service.name, rows, encoding, notes, read=dict(mapping), not_read=not_read,
                        identifiers=identifiers, dob_unreadable=dob and dob["unreadable"], dob_counts=dob,
                        outcome_values=values)


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig, read=None) -> dict[str, IngestResult]:
    """Ingest every service, collecting the problems of all of them before raising. `read(service,
    age)`: how one service is read (default `ingest_service` into `con`; engine: spark passes its own)."""
    results, problems = {}, []
    age = AgeRule.of(cfg)  # one reference day for every service of the run
    read = read or (lambda service, age: ingest_service(con, cfg, service, age))
    for service in cfg.services:
        try:
            results[service.name] = read(service, age)
        except IngestError as exc:
            problems.extend(exc.problems)
        except duckdb.Error as exc:  # not a CSV read error (those are explained above): say no more
            problems.append(f"{service.file}: could not be loaded ({type(exc).__name__}): "
                            f"{safe_cause(str(exc), Path(service.file))}")
    if problems:
        raise IngestError(problems)
    return results
