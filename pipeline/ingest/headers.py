"""An extract's header: names compared without case, spaces or punctuation, the usual names council
systems give each field, the warehouse columns of YES/NO options and outcomes, the config's fields
mapped to the header's columns, the names DuckDB gives a header record's cells, and the header
line and delimiter of a CSV found among its first lines (title rows above it skipped)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from pipeline.config import Service
from pipeline.ingest.errors import IngestError

#: Lines (CSV) or rows (XLSX) searched for the header row when `header_row` is not set
SNIFF_LINES = 20
#: Lines searched beyond those, only to suggest a `header_row` in the error
HINT_LINES = 1000
#: The most columns an extract may have: the widest sheet Excel or LibreOffice holds (16,384), so
#: any real export fits; a wider header is a wrong delimiter or a damaged file
MAX_COLUMNS = 16_384
#: Characters of a line kept for header detection (longer lines are still read whole)
_LINE_CAP = 1 << 20
_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", re.IGNORECASE)


def norm_header(header: str) -> str:
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


def _wanted(service: Service) -> dict[str, str | list[str]]:
    """Field (or option_/outcome_ column) -> the header or headers the config maps it to."""
    wanted = dict(service.columns)
    for opt in service.options:
        wanted[option_column(opt)] = opt
    for out in service.outcomes:
        wanted[outcome_column(out.name)] = out.column
    return wanted


def repeated_headers(service: Service, cells: list[str], source: str) -> list[str]:
    """One problem per mapped header that the header row holds more than once (as written, before
    any reader renames the copies): which copy holds the data would be a guess, and a reader takes
    the first where a spreadsheet user may have filled the second."""
    seen: dict[str, list[int]] = {}
    for i, cell in enumerate(cells):
        seen.setdefault(norm_header(cell), []).append(i + 1)
    problems = []
    for fld, candidates in _wanted(service).items():
        for c in [candidates] if isinstance(candidates, str) else list(candidates):
            places = seen.get(norm_header(c), [])
            if len(places) > 1:
                problems.append(f"{source}: the header {c!r} (mapped to {fld.removeprefix('outcome_')!r}) "
                                f"is in columns {', '.join(map(str, places))}, so which holds the data is "
                                f"a guess; fix: rename or remove the copies in the file so the header "
                                f"appears once")
                break
    return problems


def map_headers(
    service: Service, headers: list[str], source: str
) -> tuple[dict[str, str], list[str]]:
    """Resolve config field -> actual header; return (mapping, problems). A mapped header that the
    header row holds more than once is a problem too (`repeated_headers`)."""
    by_norm = {norm_header(h): h for h in headers}
    mapping, problems = {}, repeated_headers(service, headers, source)
    shown = _shown_headers(headers)
    for fld, candidates in _wanted(service).items():
        cands = [candidates] if isinstance(candidates, str) else list(candidates)
        hit = next((by_norm[norm_header(c)] for c in cands + SYNONYMS.get(fld, [])
                    if norm_header(c) in by_norm), None)
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


def header_names(cells: list[str]) -> list[str]:
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


# --- header detection --------------------------------------------------------------------------


def wanted_headers(service: Service) -> set[str]:
    """Every header name (normalised) that would map to one of the service's fields or options."""
    names = [c for v in service.columns.values() for c in ([v] if isinstance(v, str) else v)]
    names += [c for f in service.columns for c in SYNONYMS.get(f, [])] + list(service.options)
    names += [c for o in service.outcomes for c in ([o.column] if isinstance(o.column, str) else o.column)]
    return {norm_header(c) for c in names}


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
        score = len(wanted & {norm_header(c) for c in cells})
        best = max(best, (score, d), key=lambda s: s[0])
    return best


def header_hint(path: Path, service: Service, where: int, unit: str) -> IngestError:
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
    wanted = wanted_headers(service)
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
                raise header_hint(path, service, i + 1, "line")
    return best[1], best[2]
