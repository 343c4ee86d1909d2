"""Excel profile workbooks (openpyxl): one formatted table per sheet plus a Notes sheet.

* bold header with fill, frozen under the header, auto filter, sensible column widths;
* number formats by column kind: counts ``#,##0``, percentages ``0.00``, index ``0``;
* suppressed cells arrive as strings (e.g. ``"#"``) and are written as right-aligned text;
* the ``Total`` row is bold;
* a diverging blue/orange colour scale centred on 100 on ``index`` columns;
* a Notes sheet with the title, definitions, caller notes and the attribution.

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
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

logger = logging.getLogger(__name__)

__all__ = [
    "DEFINITIONS",
    "FIXED_TIMESTAMP",
    "column_kind",
    "standard_notes",
    "write_profile_workbook",
]

#: Fixed document timestamp so repeated runs give identical bytes.
FIXED_TIMESTAMP = dt.datetime(2021, 3, 21, 0, 0, 0)
_ZIP_DATE = (2021, 3, 21, 0, 0, 0)

COUNT_FORMAT = "#,##0"
PCT_FORMAT = "0.00"
INDEX_FORMAT = "0"
FLOAT_FORMAT = "#,##0.00"

DEFINITIONS: tuple[str, ...] = (
    "Penetration = service users / base households x 100 (users per 100 households).",
    "Profile % = share of the service's users (or of the base) in each segment.",
    "Index = user % / base % x 100. 100 = same as the base; above 100 = over-represented; "
    "below 100 = under-represented.",
)

DEFAULT_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right. Contains ONS data licensed "
    "under the Open Government Licence v3.0."
)

HEADER_FILL = PatternFill("solid", start_color="FF1F4E79", end_color="FF1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFFFF")
TOTAL_FILL = PatternFill("solid", start_color="FFF2F2F2", end_color="FFF2F2F2")
TOTAL_BORDER = Border(top=Side(style="thin", color="FF000000"))
# Colour-blind-safe diverging scale: blue (under) - white (100) - orange (over).
INDEX_LOW, INDEX_MID, INDEX_HIGH = "FF2166AC", "FFFFFFFF", "FFE66101"

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def standard_notes(suppression_threshold: int, symbol: str = "#") -> list[str]:
    """Definitions plus the suppression rule, ready to pass as ``notes``."""
    return [
        *DEFINITIONS,
        f"Suppression: counts below {suppression_threshold} (and the percentages and indices "
        f"derived from them) are shown as '{symbol}' to protect individuals.",
    ]


def column_kind(name: str, series: pd.Series | None = None) -> str:
    """Classify a column as ``index``, ``pct``, ``count``, ``float`` or ``text`` by name/dtype."""
    n = str(name).strip().lower()
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


def _is_total(row: Sequence[Any]) -> bool:
    for v in row:
        if isinstance(v, str) and v.strip():
            return v.strip().lower().startswith("total")
    return False


def _write_table(ws, df: pd.DataFrame) -> None:
    if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
        df = df.reset_index()
    columns = [str(c) for c in df.columns]
    kinds = [column_kind(c, df[orig]) for c, orig in zip(columns, df.columns, strict=True)]

    ws.append(columns)
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
                cell.value = value
                cell.data_type = "s"
                if kind != "text":
                    cell.alignment = right
                shown = value
            else:
                cell.value = value
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    fmt = _FORMATS.get(kind, FLOAT_FORMAT)
                    cell.number_format = fmt
                    shown = f"{value:,.0f}" if fmt in (COUNT_FORMAT, INDEX_FORMAT) else f"{value:,.2f}"
                else:
                    shown = "" if value is None else str(value)
            if is_total:
                cell.font = bold
                cell.fill = TOTAL_FILL
                cell.border = TOTAL_BORDER
            widths[c - 1] = max(widths[c - 1], len(shown))

    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), 60)
    ws.freeze_panes = "A2"
    last_row = ws.max_row
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"

    data_rows = [r for r in range(2, last_row + 1) if r not in total_rows]
    if data_rows:
        first, last = data_rows[0], data_rows[-1]
        for c, kind in enumerate(kinds, start=1):
            if kind != "index":
                continue
            col = get_column_letter(c)
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
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    row = 3
    ws.cell(row=row, column=1, value="Notes").font = Font(bold=True)
    row += 1
    lines = list(notes)
    if not any("index" in n.lower() and "x 100" in n.lower() for n in lines):
        lines = [*DEFINITIONS, *lines]
    for line in lines:
        cell = ws.cell(row=row, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    if attribution:
        row += 1
        ws.cell(row=row, column=1, value="Attribution").font = Font(bold=True)
        cell = ws.cell(row=row + 1, column=1, value=attribution)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 110


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite the xlsx zip with fixed entry timestamps/attributes (stable bytes)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            fixed.create_system = 0
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps "modified" with the current time on save; pin it.
                payload = _MODIFIED.sub(
                    rb"\g<1>" + FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    payload,
                )
            dst.writestr(fixed, payload)
    return out.getvalue()


def write_profile_workbook(
    sheets: Mapping[str, pd.DataFrame],
    out_xlsx: Path,
    title: str,
    notes: Sequence[str],
    attribution: str | None = None,
) -> Path:
    """Write *sheets* (name -> table) and a Notes sheet to *out_xlsx*; returns the path.

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
        _write_table(ws, df)
    notes_ws = wb.create_sheet("Notes")
    _write_notes(notes_ws, title, notes, attribution)
    if len(wb.sheetnames) > 1:
        wb.active = 0

    wb.properties.title = title
    wb.properties.creator = "council-insight"
    wb.properties.lastModifiedBy = "council-insight"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP

    buf = io.BytesIO()
    wb.save(buf)
    data = _normalise_zip(buf.getvalue())
    out_xlsx = Path(out_xlsx)
    out_xlsx.parent.mkdir(parents=True, exist_ok=True)
    out_xlsx.write_bytes(data)
    logger.info("Wrote workbook %s (%d sheets)", out_xlsx, len(wb.sheetnames))
    return out_xlsx
