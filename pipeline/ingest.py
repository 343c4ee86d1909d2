"""Stage 1, ingest: read each service extract (CSV or XLSX) into the warehouse as `ingest_<service>`.

Headers are mapped to the standard fields of `pipeline.config.STANDARD_FIELDS` as the run
config says. Every data row keeps its 1-based `row_number` (the row a reader counts below the
header), a `row_blank` flag (every cell empty) and a `row_hash` (MD5 of all its cells, kept as a
128-bit number: cheaper to store and group than its hex text), so the geocode stage can account for
blank and duplicate rows. Raw files are only ever read.
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import STANDARD_FIELDS, RunConfig, Service

logger = logging.getLogger(__name__)


class IngestError(Exception):
    """Extracts that cannot be read as configured; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(f"  - {p}" for p in problems))


@dataclass
class IngestResult:
    service: str
    rows: int
    encoding: str
    notes: list[str] = field(default_factory=list)


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
}


def option_column(option: str) -> str:
    """Warehouse column of a YES/NO option: 'Garden waste collection' -> option_garden_waste_collection."""
    return "option_" + re.sub(r"[^a-z0-9]+", "_", option.lower()).strip("_")


def map_headers(
    service: Service, headers: list[str], source: str
) -> tuple[dict[str, str], list[str]]:
    """Resolve config field -> actual header; return (mapping, problems)."""
    by_norm = {_norm(h): h for h in headers}
    mapping, problems = {}, []
    wanted = dict(service.columns)
    for opt in service.options:
        wanted[option_column(opt)] = opt
    for fld, candidates in wanted.items():
        cands = [candidates] if isinstance(candidates, str) else list(candidates)
        hit = next((by_norm[_norm(c)] for c in cands + SYNONYMS.get(fld, []) if _norm(c) in by_norm), None)
        if hit is None:
            problems.append(
                f"{source}: service {service.name!r} maps field {fld!r} to {cands}, "
                f"but the file has no such column; columns found: {headers}. "
                f"Fix: set services.{service.name}.columns.{fld} to one of those headers"
                if not fld.startswith("option_")
                else f"{source}: option column {candidates!r} not found; columns found: {headers}"
            )
        else:
            mapping[fld] = hit
    return mapping, problems


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


def detect_encoding(path: Path, declared: str | None) -> str:
    """The encoding to read `path` with: the declared one, else UTF-8 if every byte decodes, else cp1252."""
    if declared:
        if declared.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig"):
            bad = _first_bad_utf8(path)
            if bad:
                raise IngestError(
                    [f"{path}: declared UTF-8 but byte {bad[0]} (line {bad[1]}) is not UTF-8; fix: set "
                     f"the service's `encoding:` to the file's real one (often cp1252), or remove it "
                     f"to have it detected"]
                )
        return declared
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _utf8_copy(path: Path, encoding: str, interim: Path) -> Path:
    """Transcode a non-UTF-8 CSV into a private interim copy DuckDB can read (the raw file is untouched)."""
    interim.mkdir(parents=True, exist_ok=True)
    out = interim / f"{path.stem}.utf8.csv"
    try:
        with open(path, encoding=encoding, newline="") as src, open(
            out, "w", encoding="utf-8", newline=""
        ) as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    except UnicodeDecodeError as exc:
        raise IngestError(
            [f"{path}: byte {exc.start} cannot be read as {encoding} ({exc.reason}); "
             f"fix: set the service's `encoding:` to the file's real encoding"]
        ) from None
    return out


def _wanted_headers(service: Service) -> set[str]:
    names = [c for v in service.columns.values() for c in ([v] if isinstance(v, str) else v)]
    names += [c for f in service.columns for c in SYNONYMS.get(f, [])] + list(service.options)
    return {_norm(c) for c in names}


def sniff_csv(path: Path, service: Service, lines: int = 20) -> tuple[int, str]:
    """(0-based header line, delimiter): the line and delimiter among , tab ; | under which most
    of the configured headers appear, so title rows above the header are skipped."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        head = [fh.readline() for _ in range(lines)]
    wanted = _wanted_headers(service)
    delims = [service.delimiter] if service.delimiter else [",", "\t", ";", "|"]
    best = (0, 0, delims[0])
    for i, line in enumerate(head):
        if service.header_row and i != service.header_row - 1:
            continue
        for d in delims:
            cells = next(csv.reader([line], delimiter=d), [])
            score = len(wanted & {_norm(c) for c in cells})
            if score > best[0]:
                best = (score, i, d)
    if best[0] == 0:
        return (service.header_row or 1) - 1, delims[0]
    return best[1], best[2]


def _csv_relation(con, path: Path, service: Service) -> str:
    header, delim = sniff_csv(path, service)
    opts = ["all_varchar = true", "header = true", "null_padding = true", f"delim = '{delim}'",
            "quote = '\"'", "escape = '\"'"]
    if header:
        opts.append(f"skip = {header}")
    return f"read_csv('{str(path).replace(chr(39), chr(39) * 2)}', {', '.join(opts)})"


def _read_xlsx(path: Path, service: Service) -> pd.DataFrame:
    """Read the configured sheet of an .xlsx as text cells, headers from `header_row` or detected."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = wb.sheetnames
        if service.sheet is None and len(sheets) > 1:
            raise IngestError(
                [f"{path}: the workbook has {len(sheets)} sheets {sheets}; "
                 f"fix: set `sheet:` for service {service.name!r} to the one holding the records"]
            )
        sheet = service.sheet if service.sheet is not None else 0
        if isinstance(sheet, int):
            ws = wb.worksheets[sheet]
        elif sheet in sheets:
            ws = wb[sheet]
        else:
            raise IngestError([f"{path}: no sheet {sheet!r}; sheets are {sheets}"])
        rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    if service.header_row:
        h = service.header_row - 1
    else:  # the first row naming most of the mapped headers; title rows above it are skipped
        wanted = {_norm(c) for v in service.columns.values() for c in ([v] if isinstance(v, str) else v)}
        scores = [len(wanted & {_norm(c) for c in r}) for r in rows[:20]]
        h = max(range(len(scores)), key=lambda i: (scores[i], -i)) if scores else 0
    if not rows:
        raise IngestError([f"{path}: sheet {sheet!r} is empty"])
    header = [c if c else f"column{i + 1}" for i, c in enumerate(rows[h])]
    body = [r + [""] * (len(header) - len(r)) for r in rows[h + 1 :]]
    return pd.DataFrame(body, columns=header, dtype="string").replace("", pd.NA)


def ingest_service(con: duckdb.DuckDBPyConnection, cfg: RunConfig, service: Service) -> IngestResult:
    """Load one extract into `ingest_<service>`; raise IngestError on a header mapping that fails."""
    path = Path(service.file)
    notes: list[str] = []
    if path.stat().st_size == 0:
        raise IngestError([f"{path}: the file is empty (0 bytes); export the extract again"])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        df = _read_xlsx(path, service)
        con.register("xlsx_df", df)
        relation, encoding = "xlsx_df", "xlsx"
    else:
        encoding = detect_encoding(path, service.encoding)
        src = path
        if encoding.lower().replace("-", "") not in ("utf8", "utf8sig", "ascii"):
            src = _utf8_copy(path, encoding, cfg.private / "interim")
            if not service.encoding:
                notes.append(f"{path.name} is not UTF-8: read as Windows-1252 (cp1252)")
                logger.warning("%s is not valid UTF-8; reading it as Windows-1252", path)
        relation = _csv_relation(con, src, service)

    headers = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    mapping, problems = map_headers(service, headers, str(path))
    if problems:
        raise IngestError(problems)

    q = lambda h: '"' + h.replace('"', '""') + '"'  # noqa: E731
    cells = ", ".join(f"coalesce(trim({q(h)}), '')" for h in headers)
    fields = [f for f in STANDARD_FIELDS] + [option_column(o) for o in service.options]
    mapped = ",\n".join(f"nullif(trim({q(mapping[f])}), '') AS {f}" for f in fields if f in mapping)
    unmapped = "".join(f", CAST(NULL AS VARCHAR) AS {f}" for f in fields if f not in mapping)
    table = f"ingest_{service.name}"
    # The rows are read in file order into a scratch table (insertion order is preserved), whose rowid
    # then numbers them: unlike row_number() OVER (), this keeps both steps parallel. Only the mapped
    # fields are stored; the view `ingest_<service>` gives every standard field, NULL where unmapped.
    con.execute(f"CREATE OR REPLACE TEMP TABLE raw_{service.name} AS SELECT * FROM {relation}")
    if relation == "xlsx_df":
        con.unregister("xlsx_df")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE mapped_{table} AS
            SELECT rowid + 1 AS row_number,
                   concat({cells}) = '' AS row_blank,
                   md5_number(concat_ws('\x1f', {cells})) AS row_hash,  -- 128-bit, as a number
                   {mapped}
            FROM raw_{service.name}"""
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT *{unmapped} FROM mapped_{table}")
    con.execute(f"DROP TABLE raw_{service.name}")
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    if rows == 0:
        raise IngestError([f"{path}: the file has a header but no data rows"])
    logger.info("Ingested %s: %d rows from %s (%s)", service.name, rows, path, encoding)
    return IngestResult(service.name, rows, encoding, notes)


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, IngestResult]:
    """Ingest every service, collecting the problems of all of them before raising."""
    results, problems = {}, []
    for service in cfg.services:
        try:
            results[service.name] = ingest_service(con, cfg, service)
        except IngestError as exc:
            problems.extend(exc.problems)
        except duckdb.Error as exc:
            problems.append(f"{service.file}: could not be read as CSV: {str(exc).splitlines()[0]}")
    if problems:
        raise IngestError(problems)
    return results
