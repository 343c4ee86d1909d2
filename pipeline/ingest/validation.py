"""What `insight validate` asks of each extract, by the stage's own rules, read in memory and never
stored: the header found as the stage finds it (`extract_header`), the problems with the file and
its mapped columns (`check`), the columns that look like names, phones or emails
(`privacy_warnings`), and the values the stage will reject or leave out (`value_report`)."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.checks import Problem, Unreadable, with_fix
from pipeline.config import DATE_OF_BIRTH, RunConfig, Service, identifier_kind, identifier_kinds
from pipeline.ingest.encoding import detect_encoding, is_utf8
from pipeline.ingest.errors import IngestError
from pipeline.ingest.filekind import check_path, is_parquet
from pipeline.ingest.headers import (
    HINT_LINES,
    MAX_COLUMNS,
    SNIFF_LINES,
    map_headers,
    outcome_column,
    sniff_csv,
)
from pipeline.ingest.parquetfile import TYPE_FIX, parquet_columns, parquet_values, type_problems
from pipeline.ingest.store import dob_counts, dob_lines
from pipeline.ingest.values import outcome_value_lines, outcome_values
from pipeline.ingest.xlsx import check_xlsx_size, pick_sheet, read_xlsx, sheet_header_index
from pipeline.privacy import AgeRule
from pipeline.warehouse import execute, ident

logger = logging.getLogger(__package__)

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
    readable = "utf-8-sig" if is_utf8(encoding) else encoding
    line, delim = sniff_csv(path, service, encoding=readable)  # the stage's rule, read in memory
    lines = _decoded_lines(path, readable)
    cells = next(csv.reader([lines[line]], delimiter=delim), []) if line < len(lines) else []
    return line + 1, cells


def xlsx_header(path: Path, service: Service) -> tuple[int, list[str]]:
    """(1-based row, cells) of a workbook extract's header, reading only the rows the stage
    searches for it (read-only; size, kind and sheet checked by the stage's own rules)."""
    from openpyxl import load_workbook

    check_xlsx_size(path, service)
    damaged = IngestError([f"{path}: the workbook is damaged or not a real .xlsx; fix: export it again, "
                           "or open it in Excel and save it as .xlsx or as CSV UTF-8"])
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged workbook
        raise damaged from None
    try:
        try:
            ws = pick_sheet(wb, path, service)
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
    row = sheet_header_index(rows, path, service)
    return row + 1, rows[row]


def parquet_header(path: Path, service: Service) -> tuple[int, list[str]]:
    """(1, column names) of a Parquet extract, from its footer (no rows read)."""
    return 1, [name for name, _ in parquet_columns(path)]


def extract_header(path: Path, service: Service) -> tuple[int, list[str]]:
    """(1-based line or row, cells) of an extract's header, CSV, workbook or Parquet."""
    if is_parquet(path):
        return parquet_header(path, service)
    read = xlsx_header if path.suffix.lower() in (".xlsx", ".xlsm") else csv_header
    return read(path, service)


def extract_problems(where: str, service: Service) -> list[Problem]:
    """Problems with one extract: its kind, encoding, sheet and the header's mapped columns."""
    path = Path(service.file)
    if path.is_file() and path.stat().st_size == 0:
        return [f"{where}: {path} is empty (0 bytes). Fix: export the extract again"]
    try:
        check_path(path, service)
        number, cells = extract_header(path, service)
    except IngestError as exc:
        return with_fix(exc.problems, f"correct {where}'s encoding, delimiter, sheet or header_row, or "
                                      "export the extract again", where)
    except Unreadable as exc:
        return [f"{where}: {path}: {exc}"]
    except OSError as exc:
        return [f"{where}: {path} could not be read ({exc.strerror or type(exc).__name__}). Fix: check the "
                "file's permissions"]
    if len(cells) > MAX_COLUMNS:
        return [f"{where}: {path}: the header row (line {number}) has {len(cells):,} columns, over the limit "
                f"of {MAX_COLUMNS:,} (the widest sheet a spreadsheet holds). Fix: set the service's "
                "`delimiter:` to the one the file uses, or export only the columns the service needs"]
    mapping, problems = map_headers(service, cells, f"{path} (header row {number})")
    if is_parquet(path) and not problems:  # the mapped columns' types, from the footer read above
        return with_fix(type_problems(path, parquet_columns(path), mapping), TYPE_FIX, where)
    return with_fix(problems, f"set {where}.columns and options to headers of the file", where)


def check(cfg: RunConfig) -> list[Problem]:
    """Each extract is a readable file whose header holds the mapped columns."""
    return [p for i, s in enumerate(cfg.services) if Path(s.file).exists()  # else missing_files says so
            for p in extract_problems(f"services[{i}] ({s.name})", s)]


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
    readable = "utf-8-sig" if is_utf8(encoding) else encoding
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
    if is_parquet(path):
        return parquet_values(path, service, fields)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return pd.DataFrame(_csv_columns_of(path, service, fields), dtype=object)
    frame = read_xlsx(path, service, []).dropna(how="all")
    mapping, _ = map_headers(service, [str(c) for c in frame.columns], str(path))
    return pd.DataFrame({f: frame[mapping[f]].fillna("").astype(str).str.strip().to_numpy(dtype=object)
                         for f in fields if f in mapping})


def dob_status_table_sql(table: str, source: str, status: str) -> str:
    """`table`: the status (`status`, SQL over `source`'s columns) of each record's date of birth."""
    return f"CREATE TEMP TABLE {ident(table)} AS SELECT {status} AS __dob_status FROM {ident(source)}"


def value_report(cfg: RunConfig) -> list[str]:
    """What the stage will reject or leave out of each extract's values, read from the extracts
    themselves by the stage's own rules: per outcome column, the values rejected
    (`outcome_value_lines`); the dates of birth that will give no age band, by reason
    (`dob_lines`). The outcome lines quote values, so they go to the terminal only. Extracts that
    cannot be read are left to `check`."""
    lines = []
    age = AgeRule.of(cfg)
    for i, s in enumerate(cfg.services):
        dob = DATE_OF_BIRTH in s.columns
        if not (s.outcomes or dob) or not Path(s.file).is_file():
            continue
        fields = [outcome_column(o.name) for o in s.outcomes] + ([DATE_OF_BIRTH, "date"] if dob else [])
        try:
            frame = extract_columns(s, [f for f in fields if f in s.columns or f.startswith("outcome_")])
        except (IngestError, Unreadable, OSError, UnicodeError, csv.Error, KeyError) as exc:
            logger.debug("%s: values not checked: %s", s.name, exc)
            continue
        where = f"services[{i}] ({s.name}) {s.file}:"
        con = duckdb.connect()
        try:
            con.register("scratch_values", frame.replace("", None))
            found = outcome_values(con, "scratch_values", [o for o in s.outcomes
                                                           if outcome_column(o.name) in frame])
            lines += outcome_value_lines(where, s, found)
            if DATE_OF_BIRTH in frame:
                age.install(con)
                day = ident("date") if "date" in frame else None
                execute(con, "validate_dob_status", dob_status_table_sql(
                    "scratch_dob", "scratch_values", age.status_sql(ident(DATE_OF_BIRTH), day)))
                lines += dob_lines(where, s, dob_counts(con, s, "scratch_dob"), age)
        finally:
            con.close()
    return lines
