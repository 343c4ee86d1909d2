"""Excel profile workbooks (openpyxl): one formatted table per sheet plus notes sheets.

* bold header with fill, frozen under the header, auto filter, column widths that fit;
* numbers written as numbers, with number formats by column kind (given by the caller, else
  guessed from the heading): counts ``#,##0``, percentages ``0.00``, index ``0``;
* suppressed cells arrive as the symbol (e.g. ``"#"``) and are written as right-aligned text;
* the ``Total`` row is bold;
* a ``colour`` column (a segment's colour, ``#rrggbb``) shows the hex code on a fill of that colour,
  so the workbook keys its segments as the maps and the guide colour them;
* a diverging blue/white/orange colour scale centred on 100 on the ``Index`` column and data
  bars on the penetration column, over the body rows (not the Total);
* landscape A4 print set-up, fitted to the page width, the heading row repeated on every page;
* a Notes sheet with the title, definitions, caller notes and the attribution, and any further
  text sheets the caller gives (definitions, method, data quality, suppression).

Output is byte-identical for the same input: document properties carry a fixed
timestamp and the zip is rewritten with fixed entry dates and a stable entry order.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule, DataBarRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipeline.escape import spreadsheet_cell
from pipeline.publish.notes import DEFAULT_ATTRIBUTION, DEFINITIONS

logger = logging.getLogger(__name__)

__all__ = [
    "FIXED_TIMESTAMP",
    "column_kind",
    "stable_xlsx",
    "write_profile_workbook",
]

#: Fixed document timestamp so repeated runs give identical bytes.
FIXED_TIMESTAMP = dt.datetime(2021, 3, 21, 0, 0, 0)

COUNT_FORMAT = "#,##0"
PCT_FORMAT = "0.00"
INDEX_FORMAT = "0"
FLOAT_FORMAT = "#,##0.00"

HEADER_FILL = PatternFill("solid", start_color="FF1F4E79", end_color="FF1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFFFF")
TOTAL_FILL = PatternFill("solid", start_color="FFF2F2F2", end_color="FFF2F2F2")
TOTAL_BORDER = Border(top=Side(style="thin", color="FF000000"))
# Colour-blind-safe diverging scale: blue (under) - white (100) - orange (over).
INDEX_LOW, INDEX_MID, INDEX_HIGH = "FF2166AC", "FFFFFFFF", "FFE66101"

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_DOC_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def column_kind(name: str, series: pd.Series | None = None) -> str:
    """Classify a column as ``index``, ``pct``, ``count``, ``float``, ``colour`` or ``text`` by
    name/dtype."""
    n = str(name).strip().lower()
    if n == "colour":
        return "colour"
    if n == "index" or n.endswith(("_index", " index")) or n.startswith("index"):
        return "index"
    if any(t in n for t in ("pct", "%", "percent", "penetration", "share", "rate", "profile")):
        return "pct"
    if any(
        t in n for t in ("count", "households", "users", "population", "persons", "people", "number")
    ) or n in {"n", "base", "records"}:
        return "count"
    if series is not None:
        numeric = pd.to_numeric(series, errors="coerce")
        if numeric.notna().any() and numeric.notna().sum() >= series.notna().sum() * 0.5:
            finite = numeric.dropna()
            return "count" if (finite == finite.round()).all() else "float"
    return "text"


_FORMATS = {"index": INDEX_FORMAT, "pct": PCT_FORMAT, "count": COUNT_FORMAT, "float": FLOAT_FORMAT}
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb`` (black text above 0.179, white below, for contrast)."""
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _sheet_title(name: str, used: set[str]) -> str:
    base = _INVALID_SHEET_CHARS.sub("_", str(name)).strip("'") or "Sheet"
    base = base[:31]
    title, n = base, 2
    while title.lower() in used or title.lower() == "notes":
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


def _cell_value(value: Any) -> Any:
    """Python scalar for openpyxl; missing -> None; numpy types unwrapped."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _text(cell, value: str):
    """Write a string as a string: never a formula (a leading = + - @ is neutralised)."""
    cell.value = spreadsheet_cell(value)
    cell.data_type = "s"
    return cell


def _is_total(row: Sequence[Any]) -> bool:
    for v in row:
        if isinstance(v, str) and v.strip():
            return v.strip().lower().startswith("total")
    return False


def _write_table(ws, df: pd.DataFrame, kinds_by_column: Mapping[str, str] | None = None,
                 scale: str | None = None, bars: str | None = None) -> None:
    if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
        df = df.reset_index()
    columns = [str(c) for c in df.columns]
    given = kinds_by_column or {}
    kinds = [given.get(c) or column_kind(c, df[orig]) for c, orig in zip(columns, df.columns, strict=True)]

    for c, heading in enumerate(columns, start=1):
        _text(ws.cell(row=1, column=c), heading)
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    right = Alignment(horizontal="right")
    bold = Font(bold=True)
    widths = [max(len(c), 4) for c in columns]
    total_rows: list[int] = []
    for r, row in enumerate(df.itertuples(index=False, name=None), start=2):
        values = [_cell_value(v) for v in row]
        is_total = _is_total(values)
        if is_total:
            total_rows.append(r)
        for c, (value, kind) in enumerate(zip(values, kinds, strict=True), start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, str):
                # Suppressed / pre-formatted cells stay text; numbers' columns right-aligned.
                _text(cell, value)
                if kind != "text":
                    cell.alignment = right
                shown = value
            else:
                cell.value = value
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    fmt = "0" if kind == "text" else _FORMATS.get(kind, FLOAT_FORMAT)
                    cell.number_format = fmt
                    shown = f"{value:,.0f}" if fmt in (COUNT_FORMAT, INDEX_FORMAT) else f"{value:,.2f}"
                else:
                    shown = "" if value is None else str(value)
            if kind == "colour" and isinstance(value, str) and _HEX.fullmatch(value):
                cell.fill = PatternFill("solid", start_color="FF" + value[1:].upper(),
                                        end_color="FF" + value[1:].upper())
                cell.font = Font(color="FF000000" if _luminance(value) > 0.179 else "FFFFFFFF")
            if is_total:
                cell.font = bold
                cell.fill = TOTAL_FILL
                cell.border = TOTAL_BORDER
            widths[c - 1] = max(widths[c - 1], len(shown))

    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), 60)
    ws.freeze_panes = "A2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    last_row = ws.max_row
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"

    data_rows = [r for r in range(2, last_row + 1) if r not in total_rows]
    if data_rows:
        first, last = data_rows[0], data_rows[-1]
        for c, (name, kind) in enumerate(zip(columns, kinds, strict=True), start=1):
            col = get_column_letter(c)
            if bars is not None and name == bars:
                ws.conditional_formatting.add(f"{col}{first}:{col}{last}", DataBarRule(
                    start_type="num", start_value=0, end_type="max", color="FF9ECAE1"))
            if kind != "index" or (scale is not None and name != scale):
                continue
            ws.conditional_formatting.add(
                f"{col}{first}:{col}{last}",
                ColorScaleRule(
                    start_type="num",
                    start_value=0,
                    start_color=INDEX_LOW,
                    mid_type="num",
                    mid_value=100,
                    mid_color=INDEX_MID,
                    end_type="num",
                    end_value=200,
                    end_color=INDEX_HIGH,
                ),
            )


def _write_notes(ws, title: str, notes: Sequence[str], attribution: str | None) -> None:
    _text(ws["A1"], title)
    ws["A1"].font = Font(bold=True, size=14)
    row = 3
    ws.cell(row=row, column=1, value="Notes").font = Font(bold=True)
    row += 1
    lines = list(notes)
    if not any("index" in n.lower() and "x 100" in n.lower() for n in lines):
        lines = [*DEFINITIONS, *lines]
    for line in lines:
        cell = _text(ws.cell(row=row, column=1), line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    if attribution:
        row += 1
        ws.cell(row=row, column=1, value="Attribution").font = Font(bold=True)
        cell = _text(ws.cell(row=row + 1, column=1), attribution)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 110


def stable_xlsx(data: bytes, stamp: dt.datetime = FIXED_TIMESTAMP) -> bytes:
    """The one deterministic .xlsx writer (workbooks here, the synthetic extracts in
    `pipeline.synth`): rewrite the zip openpyxl saved with every entry dated `stamp`, fixed
    attributes, entries in the order written, and the document's created and modified dates
    (which openpyxl stamps with the time of saving) pinned to `stamp`: the same input gives the
    same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            fixed.create_system = 0
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = _DOC_DATES.sub(
                    rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", payload)
            dst.writestr(fixed, payload)
    return out.getvalue()


def _write_text_sheet(ws, lines: Sequence[str]) -> None:
    """A sheet of paragraphs, one per row, wrapped; a line ending in ':' is a bold heading."""
    for r, line in enumerate(lines, start=1):
        cell = _text(ws.cell(row=r, column=1), line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if line.endswith(":") or r == 1:
            cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 110
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4


def write_profile_workbook(
    sheets: Mapping[str, pd.DataFrame],
    out_xlsx: Path,
    title: str,
    notes: Sequence[str],
    attribution: str | None = None,
    kinds: Mapping[str, str] | None = None,
    text_sheets: Mapping[str, Sequence[str]] | None = None,
    scale: str | None = None,
    bars: str | None = None,
) -> Path:
    """Write *sheets* (name -> table), a Notes sheet and *text_sheets* (name -> paragraphs) to
    *out_xlsx*; returns the path. *kinds* maps a column heading to its kind (``count``, ``pct``,
    ``index``, ``float``, ``text``); *scale* names the one column that gets the index colour scale
    (default: every index column) and *bars* the one that gets data bars.

    If *notes* carry no index definition, the standard definitions are prepended. The
    attribution defaults to OS/ONS Open Government Licence wording unless a note already
    carries one (mentions "copyright" or "licence").
    """
    if attribution is None and not any("copyright" in n.lower() or "licence" in n.lower() for n in notes):
        attribution = DEFAULT_ATTRIBUTION
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, df in sheets.items():
        ws = wb.create_sheet(_sheet_title(name, used))
        _write_table(ws, df, kinds, scale, bars)
    notes_ws = wb.create_sheet("Notes")
    _write_notes(notes_ws, title, notes, attribution)
    for name, lines in (text_sheets or {}).items():
        _write_text_sheet(wb.create_sheet(_sheet_title(name, used)), lines)
    if len(wb.sheetnames) > 1:
        wb.active = 0

    wb.properties.title = title
    wb.properties.creator = "council-insight"
    wb.properties.lastModifiedBy = "council-insight"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP

    buf = io.BytesIO()
    wb.save(buf)
    data = stable_xlsx(buf.getvalue())
    out_xlsx = Path(out_xlsx)
    out_xlsx.parent.mkdir(parents=True, exist_ok=True)
    out_xlsx.write_bytes(data)
    logger.info("Wrote workbook %s (%d sheets)", out_xlsx, len(wb.sheetnames))
    return out_xlsx
