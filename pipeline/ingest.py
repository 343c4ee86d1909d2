"""Stage 1, ingest: read each service extract (CSV or XLSX) into the warehouse as `ingest_<service>`.

Headers are mapped to the standard fields of `pipeline.config.STANDARD_FIELDS` as the run
config says. Every data row keeps its 1-based `row_number` (the row a reader counts below the
header: a fully empty line counts, and a record whose quoted field spans several lines counts
once), a `row_blank` flag (every cell empty, or the line empty), a `row_kind` (a repeated header
row, or a footer or banner line: `pipeline.geocode.row_kind_sql`) and a `row_hash` (MD5 of all its
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
An .xlsx is checked before it is parsed (a zip, not an .xls or a web page; its unzipped size under
the service's `max_xlsx_mb`, 200 MB unless set), and formula cells saved without a result are
reported in the notes.

Every failure is an `IngestError` naming the file, the row and line where known, and the fix;
messages never quote a record's content (it holds personal data).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.checks import Problem, Unreadable, with_fix
from pipeline.config import (
    DATE_OF_BIRTH,
    STANDARD_FIELDS,
    RunConfig,
    Service,
    identifier_kind,
    identifier_kinds,
)
from pipeline.errors import InsightError
from pipeline.geocode import row_kind_sql
from pipeline.privacy import AgeRule

logger = logging.getLogger(__name__)

#: Lines (CSV) or rows (XLSX) searched for the header row when `header_row` is not set
SNIFF_LINES = 20
#: Lines searched beyond those, only to suggest a `header_row` in the error
HINT_LINES = 1000
#: Records decoded per batch when a CSV that is not UTF-8 is read by Python
DECODE_BATCH = 50_000
#: Characters of a line kept for header detection (longer lines are still read whole)
_LINE_CAP = 1 << 20
#: Byte-order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls workbooks and password-protected .xlsx
_ZIP_MAGIC = b"PK\x03\x04"
_CONVERT = ("open it in Excel or LibreOffice Calc and save it as an Excel Workbook (.xlsx) or as "
            "CSV UTF-8 (.csv), then point the service's `file:` at the new file")
_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", re.IGNORECASE)

# Python's csv module refuses fields over 128 KB by default; a long note field is legitimate.
csv.field_size_limit(2**31 - 1)


class IngestError(InsightError):
    """Extracts that cannot be read as configured; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("", problems)


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


def _norm(header: str) -> str:
    """Header compared without case, spaces or punctuation: 'Post Code' == 'POSTCODE' == 'post_code'."""
    return re.sub(r"[^a-z0-9]+", "", str(header).lower())


#: the usual names council systems give each field, tried after the configured one
SYNONYMS = {
    "postcode": ["Postcode", "Post Code", "PCODE", "Post_Code", "Postal Code", "PostCode", "PC"],
    "uprn": ["UPRN", "Property UPRN", "UPRN Number", "Unique Property Reference Number"],
    "address_1": ["Address1", "Address Line 1", "Addr1", "Add1", "Address 1"],
    "address_2": ["Address2", "Address Line 2", "Addr2", "Add2", "Address 2"],
    "address_3": ["Address3", "Address Line 3", "Addr3", "Add3", "Address 3"],
    "address_4": ["Address4", "Address Line 4", "Addr4", "Add4", "Address 4"],
    "address_5": ["Address5", "Address Line 5", "Addr5", "Add5", "Address 5"],
    "date_of_birth": ["Date of Birth", "DOB", "Birth Date", "Birthdate"],
}


def option_column(option: str) -> str:
    """Warehouse column of a YES/NO option: 'Garden waste collection' -> option_garden_waste_collection."""
    return "option_" + re.sub(r"[^a-z0-9]+", "_", option.lower()).strip("_")


def outcome_column(name: str) -> str:
    """Warehouse column of an outcome: 'quit_4wk' -> outcome_quit_4wk."""
    return f"outcome_{name}"


def _shown_headers(headers: list[str]) -> str:
    """The headers found, for an error message; withheld when the line looks like a record (a cell
    holding a postcode or a long number), as in a file with no header row."""
    if any(_POSTCODE.fullmatch(str(h).strip()) or re.fullmatch(r"\d{6,}", str(h).strip()) for h in headers):
        return ("(not shown: the line read as the header looks like a record; if the file has no header "
                "row, add one, or set the service's `header_row:`)")
    return str(headers)


def map_headers(
    service: Service, headers: list[str], source: str
) -> tuple[dict[str, str], list[str]]:
    """Resolve config field -> actual header; return (mapping, problems)."""
    by_norm = {_norm(h): h for h in headers}
    mapping, problems = {}, []
    wanted = dict(service.columns)
    for opt in service.options:
        wanted[option_column(opt)] = opt
    for out in service.outcomes:
        wanted[outcome_column(out.name)] = out.column
    shown = _shown_headers(headers)
    for fld, candidates in wanted.items():
        cands = [candidates] if isinstance(candidates, str) else list(candidates)
        hit = next((by_norm[_norm(c)] for c in cands + SYNONYMS.get(fld, []) if _norm(c) in by_norm), None)
        if hit is None:
            problems.append(
                f"{source}: service {service.name!r} maps outcome {fld.removeprefix('outcome_')!r} to "
                f"{cands}, but the file has no such column; columns found: {shown}. Fix: set that "
                f"outcome's `column:` to one of those headers"
                if fld.startswith("outcome_")
                else f"{source}: service {service.name!r} maps field {fld!r} to {cands}, "
                f"but the file has no such column; columns found: {shown}. "
                f"Fix: set services.{service.name}.columns.{fld} to one of those headers"
                if not fld.startswith("option_")
                else f"{source}: option column {candidates!r} not found; columns found: {shown}"
            )
        else:
            mapping[fld] = hit
    return mapping, problems


# --- encodings ---------------------------------------------------------------------------------


def bom_encoding(path: Path) -> str | None:
    """The UTF-16 or UTF-32 encoding a file's byte-order mark declares, or None."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), None)


def _first_bad_utf8(path: Path) -> tuple[int, int] | None:
    """(byte offset, line number) of the first byte that is not valid UTF-8, or None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                pos = max(exc.start, 0)
                return offset + pos, line + chunk[:pos].count(b"\n")
            offset += len(chunk)
            line += chunk.count(b"\n")
    return None


def _squash(encoding: str) -> str:
    return encoding.lower().replace("-", "").replace("_", "")


def _is_utf8(encoding: str) -> bool:
    """True for encodings DuckDB reads as they are (UTF-8 and its ASCII subset)."""
    return _squash(encoding) in ("utf8", "utf8sig", "ascii", "usascii")


def _check_declared(path: Path, declared: str, bom: str | None) -> None:
    """Raise IngestError when the declared encoding is unknown, or contradicted by the file's BOM or bytes."""
    fix = "fix: remove the service's `encoding:` to have it detected, or set it to the file's real one"
    try:
        codecs.lookup(declared)
    except LookupError:
        raise IngestError([f"{path}: the service's `encoding:` {declared!r} is not an encoding Python "
                           f"knows (e.g. utf-8, cp1252, utf-16); {fix}"]) from None
    if bom and _squash(declared) not in (_squash(bom), _squash(bom)[:5]):
        raise IngestError([f"{path}: declared {declared} but the file starts with a {bom.upper()} "
                           f"byte-order mark; {fix}"])
    if not bom and _squash(declared) in ("utf8", "utf8sig") and (bad := _first_bad_utf8(path)):
        raise IngestError(
            [f"{path}: declared UTF-8 but byte {bad[0]} (line {bad[1]}) is not UTF-8; fix: set "
             f"the service's `encoding:` to the file's real one (often cp1252), or remove it "
             f"to have it detected"]
        )


def detect_encoding(path: Path, declared: str | None) -> str:
    """The encoding to read `path` with: the declared one (checked), else the one a UTF-16/UTF-32
    byte-order mark names, else UTF-8 if every byte decodes, else cp1252."""
    bom = bom_encoding(path)
    if declared:
        _check_declared(path, declared, bom)
        return declared
    if bom:
        return bom
    return "utf-8" if _first_bad_utf8(path) is None else "cp1252"


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> IngestError:
    return IngestError([f"{path}: the file cannot be read as {encoding} ({exc.reason}); "
                        f"fix: set the service's `encoding:` to the file's real encoding"])


# --- header detection --------------------------------------------------------------------------


def _wanted_headers(service: Service) -> set[str]:
    """Every header name (normalised) that would map to one of the service's fields or options."""
    names = [c for v in service.columns.values() for c in ([v] if isinstance(v, str) else v)]
    names += [c for f in service.columns for c in SYNONYMS.get(f, [])] + list(service.options)
    names += [c for o in service.outcomes for c in ([o.column] if isinstance(o.column, str) else o.column)]
    return {_norm(c) for c in names}


def _head_lines(path: Path, encoding: str = "utf-8-sig") -> Iterator[str]:
    """The lines of a text file (UTF-8 unless told), each cut to _LINE_CAP characters; a longer
    line is still consumed whole, so the line count stays right."""
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        while line := fh.readline(_LINE_CAP):
            rest = line
            while len(rest) == _LINE_CAP and not rest.endswith(("\n", "\r")):
                rest = fh.readline(_LINE_CAP)
            yield line


def _line_score(line: str, delims: list[str], wanted: set[str]) -> tuple[int, str]:
    """(configured headers the line holds, delimiter that splits it so) for the best delimiter."""
    best = (0, delims[0])
    for d in delims:
        cells = next(csv.reader([line], delimiter=d), [])
        score = len(wanted & {_norm(c) for c in cells})
        best = max(best, (score, d), key=lambda s: s[0])
    return best


def _header_hint(path: Path, service: Service, where: int, unit: str) -> IngestError:
    """The error for a header row found only beyond the lines searched, with the `header_row` to set."""
    return IngestError(
        [f"{path}: none of the headers configured for service {service.name!r} is in the first "
         f"{SNIFF_LINES} {unit}s, where the header row is looked for, but {unit} {where} holds them. "
         f"Fix: set services.{service.name}.header_row: {where} (or delete the rows above the header)"]
    )


def sniff_csv(path: Path, service: Service, lines: int = SNIFF_LINES,
              encoding: str = "utf-8-sig") -> tuple[int, str]:
    """(0-based header line, delimiter): the line and delimiter among , tab ; | under which most
    of the configured headers appear, so title rows above the header are skipped. With
    `header_row` set only that line is scored; a header further down than `lines` raises an
    IngestError saying which `header_row` to set."""
    wanted = _wanted_headers(service)
    delims = [service.delimiter] if service.delimiter else [",", "\t", ";", "|"]
    first = (service.header_row or 1) - 1
    stop = service.header_row or lines
    best, seen = (0, first, delims[0]), 0
    for i, line in enumerate(islice(_head_lines(path, encoding), stop)):
        seen = i + 1
        score, d = _line_score(line, delims, wanted) if i >= first else (0, "")
        if score > best[0]:
            best = (score, i, d)
    if service.header_row and seen < service.header_row:
        raise IngestError([f"{path}: services.{service.name}.header_row is {service.header_row} but the "
                           f"file has only {seen} lines; fix: set it to the line holding the headers"])
    if best[0] == 0 and not service.header_row:
        for i, line in islice(enumerate(_head_lines(path, encoding)), lines, lines + HINT_LINES):
            if _line_score(line, delims, wanted)[0]:
                raise _header_hint(path, service, i + 1, "line")
    return best[1], best[2]


# --- records, as a reader counts them ------------------------------------------------------------


def _records(path: Path, header: int, delim: str, strict: bool = False, encoding: str = "utf-8-sig",
             errors: str = "replace") -> Iterator[tuple[int, int, object]]:
    """(row number, line the record starts on, its cells or the csv.Error it raised) for every data
    record below the header, read as DuckDB reads it (`"` quotes, doubled to escape). An empty line
    is a record with no cells; a record whose quoted field spans lines counts once. A broken header
    record comes as row 0. Read as UTF-8 unless `encoding` says otherwise."""
    with open(path, encoding=encoding, errors=errors, newline="") as fh:
        for _ in range(header):
            fh.readline()
        reader = csv.reader(fh, delimiter=delim, quotechar='"', doublequote=True, strict=strict)
        row, start = 0, header + 1  # row 0 is the header record
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                cells = exc
            if row or isinstance(cells, csv.Error):
                yield row, start, cells
            row, start = row + 1, header + reader.line_num + 1


def _has_empty_line(data: bytes) -> bool:
    """Whether `data` holds two line ends in a row (LF, CRLF or CR files). The CR patterns are
    searched only when a CR is present, which keeps the scan of an LF file to one pass."""
    return b"\n\n" in data or (b"\r" in data and (b"\n\r\n" in data or b"\r\r" in data))


def _may_have_blank_lines(path: Path) -> bool:
    """Whether the file holds an empty line anywhere (a cheap byte scan run before the exact count)."""
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            if _has_empty_line(chunk) or _has_empty_line(tail + chunk[:2]):
                return True
            tail = chunk[-2:]
    return False


def blank_lines(path: Path, header: int, delim: str) -> tuple[list[int], int]:
    """(row numbers of the fully empty lines below the header, rows in all). DuckDB skips empty
    lines; the pipeline counts them as blank rows so row numbers match the file."""
    if not _may_have_blank_lines(path):
        return [], -1
    blanks, total = [], 0
    for row, _, cells in _records(path, header, delim):
        total = row
        if cells == []:
            blanks.append(row)
    return blanks, total


# --- DuckDB reads and their errors -------------------------------------------------------------


def _csv_relation(path: Path, header: int, delim: str, parallel: bool = True) -> str:
    """The read_csv() call for a UTF-8 file: every cell as text, ragged rows padded."""
    opts = ["all_varchar = true", "header = true", "null_padding = true",
            f"delim = '{delim.replace(chr(39), chr(39) * 2)}'", "quote = '\"'", "escape = '\"'"]
    if header:
        opts.append(f"skip = {header}")
    if not parallel:  # DuckDB's parallel reader cannot pad rows when a quoted field holds a line break
        opts.append("parallel = false")
    return f"read_csv('{str(path).replace(chr(39), chr(39) * 2)}', {', '.join(opts)})"


def _quote_problems(path: Path, src: Path, header: int, delim: str, limit: int = 5,
                    encoding: str = "utf-8-sig") -> list[str]:
    """The first few records whose quoting is broken, as messages naming row and line (no content)."""
    problems = []
    for row, line, cells in _records(src, header, delim, strict=True, encoding=encoding):
        if isinstance(cells, csv.Error):
            what = ("a quoted field is never closed: the `\"` that opens it has no closing `\"`, so the "
                    "rest of the file would be read as one value" if "end of data" in str(cells) else
                    f"text follows the closing `\"` of a quoted field ({cells})")
            where = f"row {row} (line {line})" if row else f"the header row (line {line})"
            problems.append(f"{path}: {where}: {what}. Fix: correct the quotes there (a `\"` inside a "
                            f"quoted field is written `\"\"`), or export the extract again")
            if len(problems) == limit:
                break
    return problems


def _long_lines(src: Path, limit: int, count: int = 5) -> list[tuple[int, int]]:
    """(line number, length in bytes) of the first lines longer than `limit` bytes."""
    found = []
    with open(src, "rb") as fh:
        for i, line in enumerate(fh, start=1):
            if len(line) > limit:
                found.append((i, len(line)))
                if len(found) == count:
                    break
    return found


#: sentences of DuckDB's CSV errors that describe the fault without quoting the data
_DUCKDB_CAUSES = re.compile(r"Expected Number of Columns: \d+ Found: \d+|Value with unterminated quote found"
                            r"|Maximum line size of \d+ bytes exceeded|Invalid unicode \([\w ]+\) detected")


def _safe_cause(text: str, src: Path) -> str:
    """DuckDB's own account of an error without record content: the lines before its 'Original Line'
    block (less the option dump, suggestions and SQL echo) and the known cause sentences after it,
    with quoted values masked and the path shortened."""
    head, _, rest = text.partition("Original Line")
    kept = [line.strip() for line in head.splitlines() if line.strip() and not line.startswith(
        ("  ", "*", "Possible", "LINE ", "The search space"))]
    kept += _DUCKDB_CAUSES.findall(rest)
    cause = "; ".join(kept).replace(str(src), src.name)
    return re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", cause)[:300]


def _duckdb_problems(exc: duckdb.Error, path: Path, src: Path, header: int, delim: str) -> list[str]:
    """Clear problems for a DuckDB read error: the cause, the row or line where known, and the fix."""
    text = str(exc)
    if "unterminated quote" in text or "sniffing" in text:
        if found := _quote_problems(path, src, header, delim):
            return found
    if m := re.search(r"Maximum line size of (\d+) bytes", text):
        limit = int(m.group(1))
        return [f"{path}: line {n} is {size:,} bytes long, over the {limit:,}-byte limit for one line; "
                f"fix: check that line's quotes and line endings, or export the extract again"
                for n, size in _long_lines(src, limit)] or [f"{path}: a record is over {limit:,} bytes long"]
    if "Invalid unicode" in text and (bad := _first_bad_utf8(src)):
        return [f"{path}: byte {bad[0]} (line {bad[1]}) is not valid UTF-8; fix: set the service's "
                f"`encoding:` to the file's real one (often cp1252), or remove it to have it detected"]
    if "sniffing" in text:
        return [f"{path}: the file's layout (delimiter, quotes, line endings) could not be worked out; "
                f"fix: set the service's `delimiter:`, check the quotes are balanced and the line endings "
                f"consistent, or {_CONVERT}"]
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f" near line {line.group(1)}" if line else ""
    if (cols := re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)) and line:
        return [f"{path}: line {line.group(1)} has {cols.group(2)} fields where the rows above have "
                f"{cols.group(1)}; fix: put quotes around a field that holds the delimiter "
                f"({delim!r}), or export the extract again"]
    return [f"{path}: could not be read as CSV{where}: {_safe_cause(text, src)}; fix: correct the file "
            f"there, or {_CONVERT}"]


def _load_csv(con, service: Service, src: Path, header: int, delim: str,
              age: AgeRule) -> tuple[list[str], dict[str, str]]:
    """Read the mapped columns of a UTF-8 CSV into the scratch table `raw_<service>` (`_projection`);
    return (its headers, field -> header). Raises duckdb.Error, or IngestError for a missing column."""
    relation = _csv_relation(src, header, delim)
    headers = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    select, mapping = _projection(service, headers, src, age)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE raw_{service.name} AS SELECT {select} FROM {relation}")
    except duckdb.Error as exc:
        if "quoted new lines" not in str(exc):
            raise
        logger.info("%s has line breaks inside quoted fields: reading it on one thread", src.name)
        relation = _csv_relation(src, header, delim, parallel=False)
        con.execute(f"CREATE OR REPLACE TEMP TABLE raw_{service.name} AS SELECT {select} FROM {relation}")
    return headers, mapping


def _header_names(cells: list[str]) -> list[str]:
    """Column names for a header record as DuckDB names them: an empty one `column<n>`, a repeated
    one `<name>_<k>`."""
    names: list[str] = []
    for i, cell in enumerate(cells):
        name = cell.strip() or f"column{i + 1}"
        base, k = name, 1
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names


def _decoded_records(path: Path, encoding: str, header: int, delim: str, width: int) -> Iterator[list]:
    """The data records of a CSV that is not UTF-8, decoded by Python as they are read (nothing is
    written to disk), each padded to `width` cells; an empty line comes as []. Raises IngestError for
    a byte the encoding cannot decode, broken quotes, or a record wider than the header."""
    try:
        for _, line, cells in _records(path, header, delim, strict=True, encoding=encoding, errors="strict"):
            if isinstance(cells, csv.Error):
                raise IngestError(_quote_problems(path, path, header, delim, encoding=encoding))
            if len(cells) > width:
                raise IngestError([f"{path}: line {line} has {len(cells)} fields where the header has "
                                   f"{width}; fix: put quotes around a field that holds the delimiter "
                                   f"({delim!r}), or export the extract again"])
            yield cells + [None] * (width - len(cells)) if cells else cells
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from None


def _load_decoded(con, service: Service, path: Path, encoding: str,
                  age: AgeRule) -> tuple[list[str], dict[str, str]]:
    """Read the mapped columns of a CSV that is not UTF-8 into `raw_<service>`, decoding it in
    Python batch by batch (the same `_projection` as a UTF-8 file; no transcoded copy on disk);
    return (its headers, field -> header)."""
    header, delim = sniff_csv(path, service, encoding=encoding)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            for _ in range(header):
                fh.readline()
            first = next(csv.reader(fh, delimiter=delim, quotechar='"', doublequote=True), [])
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from None
    except csv.Error:
        raise IngestError(_quote_problems(path, path, header, delim, encoding=encoding)) from None
    headers = _header_names([c.lstrip("\ufeff") if i == 0 else c for i, c in enumerate(first)])
    select, mapping = _projection(service, headers, path, age)
    table, records = f"raw_{service.name}", _decoded_records(path, encoding, header, delim, len(headers))
    created = found = False
    while batch := list(islice(records, DECODE_BATCH)):
        found = found or any(batch)  # a file of nothing but empty lines has no data rows
        frame = pd.DataFrame([r or [None] * len(headers) for r in batch], columns=headers, dtype="string")
        con.register("decoded_df", frame)
        try:
            into = f"INSERT INTO {table}" if created else f"CREATE OR REPLACE TEMP TABLE {table} AS"
            con.execute(f"{into} SELECT {select} FROM decoded_df")
        finally:
            con.unregister("decoded_df")
        created = True
    if not created or not found:
        empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {_quoted(h)}" for h in headers)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select} FROM (SELECT {empty}) "
                    "WHERE false")
    return headers, mapping


# --- what kind of file it is ---------------------------------------------------------------------


def _file_kind(path: Path) -> str:
    """'ole' (old .xls, or an encrypted workbook), 'zip' (.xlsx), 'html', or 'text' (anything else)."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith((_ZIP_MAGIC, b"PK\x05\x06")):
        return "zip"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "html" if start.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) else "text"


def _kind_problem(path: Path) -> str | None:
    """Why this file cannot be read as the extract its name says, or None."""
    kind, suffix = _file_kind(path), path.suffix.lower()
    workbook = suffix in (".xlsx", ".xlsm")
    if kind == "ole":
        return (f"{path}: this is an old-format Excel workbook (.xls), or a password-protected one, which "
                f"the pipeline cannot read; fix: {_CONVERT} (without a password)")
    if kind == "html":
        return f"{path}: this is a web page or XML document (it starts with `<`), not a CSV or workbook; " \
               f"fix: {_CONVERT}"
    if suffix in (".xls", ".xlsb", ".ods", ".numbers"):
        hint = " (its content is text: if it is a CSV, rename it .csv)" if kind == "text" else ""
        return f"{path}: {suffix} files cannot be read{hint}; fix: {_CONVERT}"
    if workbook and kind != "zip":
        return (f"{path}: named {suffix} but it is not an Excel workbook (an .xlsx is a zip archive; this "
                f"is not); fix: if it is a CSV, rename it .csv; otherwise {_CONVERT}")
    if kind == "zip" and not workbook:
        return (f"{path}: this is a zip archive (an Excel .xlsx workbook, or a compressed extract), not a "
                f"CSV; fix: if it is a workbook, rename it .xlsx; if a zip, extract the CSV from it")
    return None


def _check_path(path: Path, service: Service) -> None:
    """Raise IngestError if the service's file is missing, a folder, empty or of the wrong kind."""
    where = f"services.{service.name}.file"
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in (".csv", ".xlsx", ".txt"))
        found = f"; files there: {inside[:5]}" if inside else ""
        raise IngestError([f"{path}: {where} is a folder, not a file{found}; fix: set it to the extract's "
                           f"file path"])
    if not path.is_file():
        raise IngestError([f"{path}: no such file ({where}); fix: correct the path"])
    if path.stat().st_size == 0:
        raise IngestError([f"{path}: the file is empty (0 bytes); export the extract again"])
    if problem := _kind_problem(path):
        raise IngestError([problem])


# --- Excel workbooks -----------------------------------------------------------------------------


def _check_xlsx_size(path: Path, service: Service) -> None:
    """Refuse a workbook whose zip members expand beyond the service's `max_xlsx_mb`, before parsing
    it. The declared sizes bound what zipfile will inflate (it stops at them), so they can be trusted."""
    try:
        with zipfile.ZipFile(path) as zf:
            expanded = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, EOFError):
        raise IngestError([f"{path}: the workbook is damaged or incomplete (truncated): it cannot be opened "
                           f"as an .xlsx; fix: export it again, or open and re-save it in Excel"]) from None
    if expanded > service.max_xlsx_mb * 1_000_000:
        raise IngestError(
            [f"{path}: the workbook expands to {expanded / 1e6:,.0f} MB when unzipped, over the "
             f"{service.max_xlsx_mb} MB limit that keeps a workbook from exhausting memory; fix: save "
             f"the sheet as CSV UTF-8 (.csv, no size limit) and point `file:` at it, or raise "
             f"services.{service.name}.max_xlsx_mb if the machine has the memory"]
        )


def _has_formulas(archive: zipfile.ZipFile, member: str) -> bool:
    """Whether a worksheet's XML holds any formula element (a byte scan, no parsing)."""
    tail = b""
    with archive.open(member) as fh:
        while chunk := fh.read(1 << 22):
            if re.search(rb"<(?:\w+:)?f[\s>/]", tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _uncached_formulas(archive: zipfile.ZipFile, member: str) -> list[str]:
    """References of the formula cells in a worksheet's XML that carry no saved (cached) value: no
    `<v>`, or an empty one on a cell not typed as text (Excel saves an empty text result so)."""
    from xml.etree.ElementTree import iterparse

    if not _has_formulas(archive, member):
        return []  # the common case, decided without parsing
    refs = []
    with archive.open(member) as fh:
        for _, el in iterparse(fh):
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "c":
                kids = {k.tag.rsplit("}", 1)[-1]: k for k in el}
                value = kids.get("v")
                if "f" in kids and (value is None or (not value.text and el.get("t") != "str")):
                    refs.append(el.get("r", "?"))
                el.clear()
            elif tag == "row":
                el.clear()
    return refs


def _pick_sheet(wb, path: Path, service: Service):
    """The configured worksheet (or the only one)."""
    sheets = wb.sheetnames
    if service.sheet is None and len(sheets) > 1:
        raise IngestError(
            [f"{path}: the workbook has {len(sheets)} sheets {sheets}; "
             f"fix: set `sheet:` for service {service.name!r} to the one holding the records"]
        )
    sheet = service.sheet if service.sheet is not None else 0
    if isinstance(sheet, int):
        if not 0 <= sheet < len(sheets):
            raise IngestError([f"{path}: no sheet number {sheet} (sheets are {sheets}, numbered from 0)"])
        return wb.worksheets[sheet]
    if sheet not in sheets:
        raise IngestError([f"{path}: no sheet {sheet!r}; sheets are {sheets}"])
    return wb[sheet]


def _workbook_rows(path: Path, service: Service) -> tuple[list[list[str]], list[str]]:
    """(every row of the configured sheet as text cells, references of formula cells with no saved value)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        logger.debug("openpyxl could not open %s", path, exc_info=True)
        raise IngestError([f"{path}: the workbook is damaged or not a real .xlsx ({type(exc).__name__}); "
                           f"fix: export it again, or {_CONVERT}"]) from None
    try:
        ws = _pick_sheet(wb, path, service)
        rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
        archive, member = getattr(wb, "_archive", None), getattr(ws, "_worksheet_path", None)
        uncached = _uncached_formulas(archive, member) if archive and member else []
    except IngestError:
        raise
    except Exception as exc:
        logger.debug("openpyxl could not read %s", path, exc_info=True)
        raise IngestError([f"{path}: the workbook is damaged or incomplete ({type(exc).__name__}); "
                           f"fix: export it again, or open and re-save it in Excel"]) from None
    finally:
        wb.close()
    return rows, uncached


def _xlsx_header(rows: list[list[str]], path: Path, service: Service) -> int:
    """0-based index of the header row: `header_row`, else the first of the first SNIFF_LINES rows
    naming most of the mapped headers (title rows above it are skipped)."""
    if service.header_row:
        if service.header_row > len(rows):
            raise IngestError([f"{path}: services.{service.name}.header_row is {service.header_row} but "
                               f"the sheet has only {len(rows)} rows"])
        return service.header_row - 1
    wanted = _wanted_headers(service)
    scores = [len(wanted & {_norm(c) for c in r}) for r in rows[: SNIFF_LINES + HINT_LINES]]
    if scores and max(scores[:SNIFF_LINES]) == 0 and max(scores) > 0:
        raise _header_hint(path, service, scores.index(max(scores)) + 1, "row")
    head = scores[:SNIFF_LINES]
    return max(range(len(head)), key=lambda i: (head[i], -i)) if head else 0


def _read_xlsx(path: Path, service: Service, notes: list[str]) -> pd.DataFrame:
    """Read the configured sheet of an .xlsx as text cells, headers from `header_row` or detected."""
    _check_xlsx_size(path, service)
    rows, uncached = _workbook_rows(path, service)
    if not rows:
        raise IngestError([f"{path}: the sheet is empty"])
    if uncached:
        notes.append(f"{path.name}: {len(uncached)} formula cell(s) have no saved result (first: "
                     f"{', '.join(uncached[:5])}) and are read as empty; open the workbook in Excel or "
                     f"LibreOffice, let it recalculate, save it and run again")
        logger.warning("%s: %d formula cells without a saved value", path, len(uncached))
    h = _xlsx_header(rows, path, service)
    header = [c if c else f"column{i + 1}" for i, c in enumerate(rows[h])]
    width = max([len(header)] + [len(r) for r in rows[h + 1 :]])
    header += [f"column{i + 1}" for i in range(len(header), width)]
    body = [r + [""] * (width - len(r)) for r in rows[h + 1 :]]
    return pd.DataFrame(body, columns=header, dtype="string").replace("", pd.NA)


# --- loading -----------------------------------------------------------------------------------


def _numbering(con, service: Service, blanks: list[int]) -> tuple[str, str]:
    """(FROM clause, row_number expression) numbering `raw_<service>`'s rows in file order, leaving
    the numbers of the blank lines free: a row with r rows before it in the scratch table gets
    r + 1 + (blank lines before it), found by an ASOF join on r >= (non-blank rows before a blank)."""
    raw = f"raw_{service.name}"
    if not blanks:
        return raw, "rowid + 1"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE blank_{service.name} AS
            SELECT row_number AS __blank_row,
                   row_number - row_number() OVER (ORDER BY row_number) AS __blank_k,
                   row_number() OVER (ORDER BY row_number) AS __blank_j
            FROM (SELECT unnest($1::BIGINT[]) AS row_number)""",
        [blanks],
    )
    steps = f"(SELECT __blank_k, max(__blank_j) AS __blank_j FROM blank_{service.name} GROUP BY ALL)"
    return (f"(SELECT rowid AS __raw_id, * FROM {raw}) ASOF LEFT JOIN {steps} ON __raw_id >= __blank_k",
            "__raw_id + 1 + coalesce(__blank_j, 0)")


def _quoted(header: str) -> str:
    return '"' + header.replace('"', '""') + '"'


def _projection(service: Service, headers: list[str], path: Path,
                age: AgeRule) -> tuple[str, dict[str, str]]:
    """(SELECT list, field -> header) reading only the mapped columns of a relation with columns
    `headers`: the row's blank flag, kind and hash over all its cells, then each mapped field,
    trimmed, a date of birth as its age band (and whether one was given). Every other cell is
    dropped here, as the row is read. Raises IngestError when a mapped column is missing."""
    mapping, problems = map_headers(service, headers, str(path))
    if problems:
        raise IngestError(problems)
    q = _quoted
    cells = ", ".join(f"coalesce(trim({q(h)}), '')" for h in headers)
    select = [f"concat({cells}) = '' AS __row_blank",
              f"{row_kind_sql(headers)} AS __row_kind",  # a repeated header, a footer or banner
              f"md5_number(concat_ws('\x1f', {cells})) AS __row_hash"]  # 128-bit, as a number
    for fld, header in mapping.items():
        if fld == DATE_OF_BIRTH:
            day = q(mapping["date"]) if "date" in mapping else None
            select += [f"{age.sql(q(header), day)} AS age_band",
                       f"nullif(trim({q(header)}), '') IS NOT NULL AS __dob_given"]
        else:
            select.append(f"nullif(trim({q(header)}), '') AS {fld}")
    return ",\n".join(select), mapping


def _dob_unreadable(con, service: Service) -> int | None:
    """Dates of birth given in `raw_<service>` that gave no age band (not a date, or out of range)."""
    if DATE_OF_BIRTH not in service.columns:
        return None
    return con.execute(f"SELECT count(*) FROM raw_{service.name} WHERE __dob_given AND age_band IS NULL"
                       ).fetchall()[0][0]


def _store(con, service: Service, path: Path, headers: list[str], blanks: list[int]) -> int:
    """Number the scratch table `raw_<service>` (already only the mapped fields: `_projection`) into
    `ingest_<service>` (blank lines added back as blank rows); return the rows read."""
    stored = {r[0] for r in con.execute(f"DESCRIBE raw_{service.name}").fetchall()}
    fields = [f for f in STANDARD_FIELDS] + [option_column(o) for o in service.options]
    fields += [outcome_column(o.name) for o in service.outcomes]
    mapped = ",\n".join(f for f in fields if f in stored)
    unmapped = "".join(f", CAST(NULL AS VARCHAR) AS {f}" for f in fields if f not in stored)
    table = f"ingest_{service.name}"
    source, number = _numbering(con, service, blanks)
    # The rows are read in file order into a scratch table (insertion order is preserved), whose rowid
    # then numbers them: unlike row_number() OVER (), this keeps both steps parallel. Only the mapped
    # fields are stored; the view `ingest_<service>` gives every standard field, NULL where unmapped.
    select = f"""SELECT {number} AS row_number, __row_blank AS row_blank, __row_kind AS row_kind,
                        __row_hash AS row_hash,
                        {mapped}
                 FROM {source}"""
    if blanks:  # an empty line hashes as a row of empty cells; the table is kept in row order
        select = (f"""{select} UNION ALL BY NAME
                      SELECT __blank_row AS row_number, true AS row_blank,
                             md5_number(repeat(chr(31), {len(headers) - 1})) AS row_hash
                      FROM blank_{service.name} ORDER BY row_number""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE mapped_{table} AS {select}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT *{unmapped} FROM mapped_{table}")
    con.execute(f"DROP TABLE raw_{service.name}")
    con.execute(f"DROP TABLE IF EXISTS blank_{service.name}")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def _ingest_xlsx(con, service: Service, path: Path, notes: list[str],
                 age: AgeRule) -> tuple[int, list[str], dict[str, str], int | None]:
    """Load the mapped columns of an .xlsx extract; return (rows, headers, field -> header, dates of
    birth not read). The sheet is parsed in memory; only `_projection` reaches a table."""
    df = _read_xlsx(path, service, notes)
    headers = [str(c) for c in df.columns]
    select, mapping = _projection(service, headers, path, age)
    con.register("xlsx_df", df)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE raw_{service.name} AS SELECT {select} FROM xlsx_df")
    finally:
        con.unregister("xlsx_df")
    del df
    dob = _dob_unreadable(con, service)
    return _store(con, service, path, headers, []), headers, mapping, dob


def _ingest_csv(con, cfg: RunConfig, service: Service, path: Path, encoding: str,
                age: AgeRule) -> tuple[int, list[str], dict[str, str], int | None]:
    """Load the mapped columns of a CSV extract (decoded by Python if it is not UTF-8); return
    (rows, headers, field -> header, dates of birth not read)."""
    if not _is_utf8(encoding):
        headers, mapping = _load_decoded(con, service, path, encoding, age)
        dob = _dob_unreadable(con, service)
        return _store(con, service, path, headers, []), headers, mapping, dob
    src = path
    header, delim = sniff_csv(src, service)
    try:
        headers, mapping = _load_csv(con, service, src, header, delim, age)
    except duckdb.Error as exc:
        raise IngestError(_duckdb_problems(exc, path, src, header, delim)) from None
    blanks, total = blank_lines(src, header, delim)
    loaded = con.execute(f"SELECT count(*) FROM raw_{service.name}").fetchall()[0][0]
    if loaded == 0:  # nothing but empty lines below the header: no data rows, not blank rows
        blanks = []
    if blanks and loaded + len(blanks) != total:
        raise IngestError([f"{path}: {total:,} rows counted but {loaded + len(blanks):,} read, so row "
                           f"numbers would be wrong; fix: check the file's quotes and line endings, "
                           f"or {_CONVERT}"])
    dob = _dob_unreadable(con, service)
    return _store(con, service, path, headers, blanks), headers, mapping, dob


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
        _check_path(path, service)
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            encoding = "xlsx"
            rows, headers, mapping, dob = _ingest_xlsx(con, service, path, notes, age)
        else:
            encoding = detect_encoding(path, service.encoding)
            if encoding == "cp1252" and not service.encoding:
                notes.append(f"{path.name} is not UTF-8: read as Windows-1252 (cp1252)")
                logger.warning("%s is not valid UTF-8; reading it as Windows-1252", path)
            rows, headers, mapping, dob = _ingest_csv(con, cfg, service, path, encoding, age)
    except OSError as exc:
        raise IngestError([f"{path}: could not be read ({exc.strerror or type(exc).__name__}); "
                           f"fix: check the file's permissions and that it is not open elsewhere"]) from None
    if rows == 0:
        raise IngestError([f"{path}: the file has a header but no data rows"])
    if dob:
        notes.append(f"{path.name}: {dob:,} dates of birth could not be read as a date (or give an age "
                     f"outside 0 to 125) and have no age band")
    used = set(mapping.values())
    not_read = [h for h in headers if h not in used]
    identifiers = [h for h in not_read if identifier_kind(h)]
    logger.info("Ingested %s: %d rows from %s (%s); %d of %d columns read", service.name, rows, path,
                encoding, len(used), len(headers))
    return IngestResult(service.name, rows, encoding, notes, read=dict(mapping), not_read=not_read,
                        identifiers=identifiers, dob_unreadable=dob)


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, IngestResult]:
    """Ingest every service, collecting the problems of all of them before raising."""
    results, problems = {}, []
    age = AgeRule.of(cfg)  # one reference day for every service of the run
    for service in cfg.services:
        try:
            results[service.name] = ingest_service(con, cfg, service, age)
        except IngestError as exc:
            problems.extend(exc.problems)
        except duckdb.Error as exc:  # not a CSV read error (those are explained above): say no more
            problems.append(f"{service.file}: could not be loaded ({type(exc).__name__}): "
                            f"{_safe_cause(str(exc), Path(service.file))}")
    if problems:
        raise IngestError(problems)
    return results


# --- check: what `insight validate` asks of each extract, by this stage's own rules ---------------

#: Bytes read from the top of a CSV extract to find its header (the stage searches the first
#: SNIFF_LINES lines, and the next HINT_LINES only to suggest a header_row).
HEAD_BYTES = 4 << 20


def _decoded_lines(path: Path, encoding: str) -> list[str]:
    """The first lines of a text file decoded in memory (at most HEAD_BYTES read; a line cut off at
    that point left out), split as the stage splits them (\\n, \\r\\n or \\r)."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
        at_end = not fh.read(1)
    lines = io.StringIO(head.decode(encoding, errors="replace").lstrip("\ufeff"), newline="").readlines()
    return lines if at_end or len(lines) < 2 else lines[:-1]


def csv_header(path: Path, service: Service) -> tuple[int, list[str]]:
    """(1-based line, cells) of a CSV extract's header, found as the stage finds it: in the
    encoding it detects (a declared one checked), on the line and delimiter it sniffs."""
    encoding = detect_encoding(path, service.encoding)
    if service.delimiter is not None and len(service.delimiter) != 1:
        raise Unreadable(f"delimiter {service.delimiter!r} must be one character, such as ',', ';', "
                         "'|' or a tab ('\\t'). Fix: set `delimiter:` to the one the file uses")
    readable = "utf-8-sig" if _is_utf8(encoding) else encoding
    line, delim = sniff_csv(path, service, encoding=readable)  # the stage's rule, read in memory
    lines = _decoded_lines(path, readable)
    cells = next(csv.reader([lines[line]], delimiter=delim), []) if line < len(lines) else []
    return line + 1, cells


def xlsx_header(path: Path, service: Service) -> tuple[int, list[str]]:
    """(1-based row, cells) of a workbook extract's header, reading only the rows the stage
    searches for it (read-only; size, kind and sheet checked by the stage's own rules)."""
    from openpyxl import load_workbook

    _check_xlsx_size(path, service)
    damaged = IngestError([f"{path}: the workbook is damaged or not a real .xlsx; fix: export it again, "
                           "or open it in Excel and save it as .xlsx or as CSV UTF-8"])
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged workbook
        raise damaged from None
    try:
        try:
            ws = _pick_sheet(wb, path, service)
        except IngestError as exc:
            raise IngestError(with_fix(exc.problems, f"set services.{service.name}.sheet to one of "
                                                     "the sheets listed")) from None
        last = max(service.header_row or 0, SNIFF_LINES + HINT_LINES)
        rows = [["" if v is None else str(v) for v in r]
                for r in ws.iter_rows(max_row=last, values_only=True)]
    except IngestError:
        raise
    except Exception:
        raise damaged from None
    finally:
        wb.close()
    if not rows:
        raise IngestError([f"{path}: the sheet is empty; fix: export the extract again"])
    row = _xlsx_header(rows, path, service)
    return row + 1, rows[row]


def extract_header(path: Path, service: Service) -> tuple[int, list[str]]:
    """(1-based line or row, cells) of an extract's header, CSV or workbook."""
    read = xlsx_header if path.suffix.lower() in (".xlsx", ".xlsm") else csv_header
    return read(path, service)


def _extract_problems(where: str, service: Service) -> list[Problem]:
    """Problems with one extract: its kind, encoding, sheet and the header's mapped columns."""
    path = Path(service.file)
    if path.is_file() and path.stat().st_size == 0:
        return [f"{where}: {path} is empty (0 bytes). Fix: export the extract again"]
    try:
        _check_path(path, service)
        number, cells = extract_header(path, service)
    except IngestError as exc:
        return with_fix(exc.problems, f"correct {where}'s encoding, delimiter, sheet or header_row, or "
                                      "export the extract again", where)
    except Unreadable as exc:
        return [f"{where}: {path}: {exc}"]
    except OSError as exc:
        return [f"{where}: {path} could not be read ({exc.strerror or type(exc).__name__}). Fix: check the "
                "file's permissions"]
    _, problems = map_headers(service, cells, f"{path} (header row {number})")
    return with_fix(problems, f"set {where}.columns and options to headers of the file", where)


def check(cfg: RunConfig) -> list[Problem]:
    """Each extract is a readable file whose header holds the mapped columns."""
    return [p for i, s in enumerate(cfg.services) if Path(s.file).exists()  # else missing_files says so
            for p in _extract_problems(f"services[{i}] ({s.name})", s)]


def privacy_warnings(cfg: RunConfig) -> list[str]:
    """One warning per extract whose header has columns that look like names, phone numbers or email
    addresses. They are never read (only mapped columns are, and such columns cannot be mapped),
    but the extract would be better without them. Extracts that cannot be read are left to
    `check`."""
    warnings = []
    for i, s in enumerate(cfg.services):
        path = Path(s.file)
        if not path.is_file() or path.stat().st_size == 0:
            continue
        try:
            _, cells = extract_header(path, s)
        except (IngestError, Unreadable, OSError):
            continue
        found = [c for c in cells if identifier_kind(c)]
        if found:
            warnings.append(f"services[{i}] ({s.name}): {path} has column(s) holding "
                            f"{identifier_kinds(found)} {found}; they are not read (only mapped columns "
                            "reach the warehouse). "
                            "Ask the service to leave them out of the extract")
    return warnings


def _csv_columns_of(path: Path, service: Service, fields: list[str]) -> dict[str, list[str]]:
    """The cells of the mapped `fields` in every non-blank record of a CSV extract, read in memory in
    the encoding, from the header line and with the delimiter the stage would use."""
    encoding = detect_encoding(path, service.encoding)
    readable = "utf-8-sig" if _is_utf8(encoding) else encoding
    line, delim = sniff_csv(path, service, encoding=readable)
    with open(path, encoding=readable, errors="replace", newline="") as fh:
        for _ in range(line):
            fh.readline()
        reader = csv.reader(fh, delimiter=delim)
        header = next(reader, [])
        mapping, _ = map_headers(service, header, str(path))
        at = {f: header.index(mapping[f]) for f in fields if f in mapping}
        out: dict[str, list[str]] = {f: [] for f in at}
        for r in reader:
            if any(c.strip() for c in r):
                for f, i in at.items():
                    out[f].append(r[i].strip() if i < len(r) else "")
    return out


def extract_columns(service: Service, fields: list[str]) -> pd.DataFrame:
    """The extract's mapped `fields`, one row per non-blank record (values trimmed, '' if blank):
    read in memory for `insight validate`'s code report, never stored."""
    path = Path(service.file)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return pd.DataFrame(_csv_columns_of(path, service, fields), dtype=object)
    frame = _read_xlsx(path, service, []).dropna(how="all")
    mapping, _ = map_headers(service, [str(c) for c in frame.columns], str(path))
    return pd.DataFrame({f: frame[mapping[f]].fillna("").astype(str).str.strip().to_numpy(dtype=object)
                         for f in fields if f in mapping})
