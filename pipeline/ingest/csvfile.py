"""Reading a CSV extract: its records as a reader counts them (an empty line counts; a record whose
quoted field spans lines counts once) and its blank lines; the read_csv() relation of a UTF-8 file
and the cells of its header record; DuckDB's read errors as problems naming the row or line, never
the content; and the mapped columns loaded into the scratch table, by DuckDB for a UTF-8 file or
decoded by Python batch by batch for any other (no transcoded copy on disk)."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import Service
from pipeline.ingest.encoding import decode_error, first_bad_utf8
from pipeline.ingest.errors import IngestError
from pipeline.ingest.filekind import CONVERT_FIX
from pipeline.ingest.headers import MAX_COLUMNS, header_names, repeated_headers, sniff_csv
from pipeline.ingest.store import empty_raw_sql, projection, raw_table, raw_table_sql
from pipeline.privacy import AgeRule
from pipeline.warehouse import execute

logger = logging.getLogger(__package__)

#: Records decoded per batch when a CSV that is not UTF-8 is read by Python
DECODE_BATCH = 50_000

# Python's csv module refuses fields over 128 KB by default; a long note field is legitimate.
csv.field_size_limit(2**31 - 1)


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


def csv_relation_sql(parallel: bool = True) -> str:
    """The read_csv() call for a UTF-8 file: every cell as text, short rows padded, the columns those
    of the header record as `header_cells` read it (so DuckDB never guesses how many there are: a
    row of 200,000 delimiters is a row too wide, found at once, not 200,000 columns to sniff).
    Bound: $1 the path, $2 the delimiter, $3 the lines above the header, $4 the columns
    (`_csv_params`)."""
    opts = ["columns = $4", "auto_detect = false", "header = true", "null_padding = true", "delim = $2",
            "skip = $3", "quote = '\"'", "escape = '\"'"]
    if not parallel:  # DuckDB's parallel reader cannot pad rows when a quoted field holds a line break
        opts.append("parallel = false")
    return f"read_csv($1, {', '.join(opts)})"


def _csv_params(path: Path, header: int, delim: str, headers: list[str]) -> list:
    return [str(path), delim, int(header), dict.fromkeys(headers, "VARCHAR")]


def header_cells(path: Path, header: int, delim: str, encoding: str = "utf-8-sig") -> list[str]:
    """The cells of the header record (the record starting on 0-based line `header`), read as the
    records below it are (`"` quotes, doubled to escape; a byte-order mark dropped), at most
    MAX_COLUMNS + 1 of them: an IngestError for a header wider than MAX_COLUMNS or with broken
    quotes, or UnicodeDecodeError for a byte the encoding cannot decode."""
    with open(path, encoding=encoding, newline="") as fh:
        for _ in range(header):
            fh.readline()
        try:
            cells = next(csv.reader(fh, delimiter=delim, quotechar='"', doublequote=True), [])
        except csv.Error:
            raise IngestError(_quote_problems(path, path, header, delim, encoding=encoding)) from None
    if len(cells) > MAX_COLUMNS:
        raise IngestError([f"{path}: the header row (line {header + 1}) has {len(cells):,} columns, over the "
                           f"limit of {MAX_COLUMNS:,} (the widest sheet a spreadsheet holds); fix: check the "
                           f"delimiter ({delim!r}) is the one the file uses (set the service's "
                           f"`delimiter:`), or export only the columns the service needs"])
    return [c.lstrip("\ufeff") if i == 0 else c for i, c in enumerate(cells)]


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


def safe_cause(text: str, src: Path) -> str:
    """DuckDB's own account of an error without record content: the lines before its 'Original Line'
    block (less the option dump, suggestions and SQL echo) and the known cause sentences after it,
    with quoted values masked and the path shortened."""
    head, _, rest = text.partition("Original Line")
    kept = [line.strip() for line in head.splitlines() if line.strip() and not line.startswith(
        ("  ", "*", "Possible", "LINE ", "The search space"))]
    kept += _DUCKDB_CAUSES.findall(rest)
    cause = "; ".join(kept).replace(str(src), src.name)
    return re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", cause)[:300]


def _fields_on_line(src: Path, number: int, delim: str) -> int | None:
    """How many fields the record on 1-based line `number` has (DuckDB stops counting at one more
    than it expected), or None if that line cannot be read as one record."""
    with open(src, encoding="utf-8-sig", errors="replace", newline="") as fh:
        line = next(islice(fh, number - 1, None), None)
    try:
        return len(next(csv.reader([line], delimiter=delim))) if line else None
    except (csv.Error, StopIteration):
        return None


def duckdb_problems(exc: duckdb.Error, path: Path, src: Path, header: int, delim: str) -> list[str]:
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
    if "Invalid unicode" in text and (bad := first_bad_utf8(src)):
        return [f"{path}: byte {bad[0]} (line {bad[1]}) is not valid UTF-8; fix: set the service's "
                f"`encoding:` to the file's real one (often cp1252), or remove it to have it detected"]
    if "sniffing" in text:
        return [f"{path}: the file's layout (delimiter, quotes, line endings) could not be worked out; "
                f"fix: set the service's `delimiter:`, check the quotes are balanced and the line endings "
                f"consistent, or {CONVERT_FIX}"]
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f" near line {line.group(1)}" if line else ""
    if (cols := re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)) and line:
        found = _fields_on_line(src, int(line.group(1)), delim) or int(cols.group(2))
        return [f"{path}: line {line.group(1)} has {found:,} fields where the rows above have "
                f"{cols.group(1)}; fix: put quotes around a field that holds the delimiter "
                f"({delim!r}), or export the extract again"]
    return [f"{path}: could not be read as CSV{where}: {safe_cause(text, src)}; fix: correct the file "
            f"there, or {CONVERT_FIX}"]


def load_csv(con, service: Service, src: Path, header: int, delim: str,
             age: AgeRule) -> tuple[list[str], dict[str, str]]:
    """Read the mapped columns of a UTF-8 CSV into the scratch table `raw_<service>` (`projection`);
    return (its headers, field -> header). Raises duckdb.Error, or IngestError for a missing column."""
    cells = header_cells(src, header, delim)
    if repeated := repeated_headers(service, cells, str(src)):
        raise IngestError(repeated)
    headers = header_names(cells)
    relation, params = csv_relation_sql(), _csv_params(src, header, delim, headers)
    select, mapping = projection(service, headers, src, age)
    try:
        execute(con, "ingest_read_csv", raw_table_sql(raw_table(service), select, relation), params)
    except duckdb.Error as exc:
        if "quoted new lines" not in str(exc):
            raise
        logger.info("%s has line breaks inside quoted fields: reading it on one thread", src.name)
        relation = csv_relation_sql(parallel=False)
        execute(con, "ingest_read_csv_one_thread", raw_table_sql(raw_table(service), select, relation),
                params)
    return headers, mapping


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
        raise decode_error(path, encoding, exc) from None


def load_decoded(con, service: Service, path: Path, encoding: str,
                 age: AgeRule) -> tuple[list[str], dict[str, str]]:
    """Read the mapped columns of a CSV that is not UTF-8 into `raw_<service>`, decoding it in
    Python batch by batch (the same `projection` as a UTF-8 file; no transcoded copy on disk);
    return (its headers, field -> header)."""
    header, delim = sniff_csv(path, service, encoding=encoding)
    try:
        cells = header_cells(path, header, delim, encoding)
    except UnicodeDecodeError as exc:
        raise decode_error(path, encoding, exc) from None
    if repeated := repeated_headers(service, cells, str(path)):
        raise IngestError(repeated)
    headers = header_names(cells)
    select, mapping = projection(service, headers, path, age)
    table, records = raw_table(service), _decoded_records(path, encoding, header, delim, len(headers))
    created = found = False
    while batch := list(islice(records, DECODE_BATCH)):
        found = found or any(batch)  # a file of nothing but empty lines has no data rows
        frame = pd.DataFrame([r or [None] * len(headers) for r in batch], columns=headers, dtype="string")
        con.register("decoded_df", frame)
        try:
            execute(con, "ingest_read_decoded", raw_table_sql(table, select, "decoded_df", insert=created))
        finally:
            con.unregister("decoded_df")
        created = True
    if not created or not found:
        execute(con, "ingest_empty", empty_raw_sql(table, select, headers))
    return headers, mapping
