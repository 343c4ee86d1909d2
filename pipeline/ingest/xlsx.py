"""Reading an .xlsx extract: its unzipped size checked before it is parsed, formula cells saved
without a result found, the configured sheet picked, its rows read as text cells and the header row
found among them (`header_row`, or the row naming most of the mapped headers)."""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path

import pandas as pd

from pipeline.config import Service
from pipeline.ingest.errors import IngestError
from pipeline.ingest.filekind import CONVERT_FIX
from pipeline.ingest.headers import HINT_LINES, SNIFF_LINES, header_hint, norm_header, wanted_headers

logger = logging.getLogger(__package__)


def check_xlsx_size(path: Path, service: Service) -> None:
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


def pick_sheet(wb, path: Path, service: Service):
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


_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


def _merged_ranges(archive: zipfile.ZipFile, member: str) -> list[tuple[str, int, int]]:
    """(reference, first row, last row) of each merged range of a worksheet's XML (a byte scan: a
    workbook read row by row is not told of merges, and a merged range keeps its value in its
    first cell only)."""
    found: dict[str, tuple[str, int, int]] = {}  # by reference: the chunks overlap by 256 bytes
    tail = b""
    with archive.open(member) as fh:
        while chunk := fh.read(1 << 22):
            for m in _MERGE_REF.finditer(tail + chunk):
                c1, r1, c2, r2 = (g.decode() if g else None for g in m.groups())
                ref = f"{c1}{r1}:{c2}{r2}" if c2 else f"{c1}{r1}"
                found[ref] = (ref, int(r1), int(r2 or r1))
            tail = chunk[-256:]
    return list(found.values())


def _workbook_rows(path: Path, service: Service) -> tuple[list[list[str]], list[str], list]:
    """(every row of the configured sheet as text cells, references of formula cells with no saved
    value, the sheet's merged ranges)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        logger.debug("openpyxl could not open %s", path, exc_info=True)
        raise IngestError([f"{path}: the workbook is damaged or not a real .xlsx ({type(exc).__name__}); "
                           f"fix: export it again, or {CONVERT_FIX}"]) from None
    try:
        ws = pick_sheet(wb, path, service)
        rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
        archive, member = getattr(wb, "_archive", None), getattr(ws, "_worksheet_path", None)
        uncached = _uncached_formulas(archive, member) if archive and member else []
        merged = _merged_ranges(archive, member) if archive and member else []
    except IngestError:
        raise
    except Exception as exc:
        logger.debug("openpyxl could not read %s", path, exc_info=True)
        raise IngestError([f"{path}: the workbook is damaged or incomplete ({type(exc).__name__}); "
                           f"fix: export it again, or open and re-save it in Excel"]) from None
    finally:
        wb.close()
    return rows, uncached, merged


def sheet_header_index(rows: list[list[str]], path: Path, service: Service) -> int:
    """0-based index of the header row: `header_row`, else the first of the first SNIFF_LINES rows
    naming most of the mapped headers (title rows above it are skipped)."""
    if service.header_row:
        if service.header_row > len(rows):
            raise IngestError([f"{path}: services.{service.name}.header_row is {service.header_row} but "
                               f"the sheet has only {len(rows)} rows"])
        return service.header_row - 1
    wanted = wanted_headers(service)
    scores = [len(wanted & {norm_header(c) for c in r}) for r in rows[: SNIFF_LINES + HINT_LINES]]
    if scores and max(scores[:SNIFF_LINES]) == 0 and max(scores) > 0:
        raise header_hint(path, service, scores.index(max(scores)) + 1, "row")
    head = scores[:SNIFF_LINES]
    return max(range(len(head)), key=lambda i: (head[i], -i)) if head else 0


def read_xlsx(path: Path, service: Service, notes: list[str]) -> pd.DataFrame:
    """Read the configured sheet of an .xlsx as text cells, headers from `header_row` or detected."""
    check_xlsx_size(path, service)
    rows, uncached, merged = _workbook_rows(path, service)
    if not rows:
        raise IngestError([f"{path}: the sheet is empty"])
    if uncached:
        notes.append(f"{path.name}: {len(uncached)} formula cell(s) have no saved result (first: "
                     f"{', '.join(uncached[:5])}) and are read as empty; open the workbook in Excel or "
                     f"LibreOffice, let it recalculate, save it and run again")
        logger.warning("%s: %d formula cells without a saved value", path, len(uncached))
    h = sheet_header_index(rows, path, service)
    below = [ref for ref, _, last in sorted(merged, key=lambda m: (m[1], len(m[0]), m[0]))
             if last > h + 1 and ":" in ref]  # covering a data row, in sheet order
    if below:
        notes.append(f"{path.name}: {len(below)} merged cell range(s) below the header (first: "
                     f"{', '.join(below[:5])}) keep their value in the first cell only, so the other "
                     f"cells of each are read as empty; to read them, unmerge the cells in Excel or "
                     f"LibreOffice, fill the value into each, save and run again")
        logger.warning("%s: %d merged cell ranges below the header", path, len(below))
    header = [c if c else f"column{i + 1}" for i, c in enumerate(rows[h])]
    width = max([len(header)] + [len(r) for r in rows[h + 1 :]])
    header += [f"column{i + 1}" for i in range(len(header), width)]
    body = [r + [""] * (width - len(r)) for r in rows[h + 1 :]]
    return pd.DataFrame(body, columns=header, dtype="string").replace("", pd.NA)
