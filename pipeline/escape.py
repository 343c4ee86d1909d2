"""Escaping rules: every config or data string is data, never markup, script or a formula.

One helper per output context, and every writer uses these (nothing escapes by hand):

=======================  ==================================================================
``html_text``            HTML text and attribute values (``html.escape`` with quotes)
``script_json``          any JSON-able value inside an inline ``<script>``: ``<``, ``>``,
                         ``&``, U+2028 and U+2029 written as ``\\u003c`` etc., so a string
                         can never close the script (``</script>``) or open a comment
``js_string``            one string as a JavaScript string literal (``script_json`` of it)
``spreadsheet_cell``     a CSV or workbook cell: a string a spreadsheet would read as a
                         formula (first character ``= + - @``, tab or carriage return) gets
                         a leading ``'`` (the OWASP advice); numbers are untouched
``spreadsheet_frame``    ``spreadsheet_cell`` over every text cell and column name of a frame
``mathtext_safe``        matplotlib text: ``$`` escaped so no label is parsed as mathtext
=======================  ==================================================================

Strings that are values in HTML which the browser later inserts as HTML (Leaflet layer names,
attributions, tooltips) need ``html_text`` *and*, where they pass through a script,
``script_json``: the first stops markup, the second stops the script being closed early.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from typing import Any

import pandas as pd

__all__ = [
    "FORMULA_PREFIXES",
    "html_text",
    "js_string",
    "mathtext_safe",
    "script_json",
    "spreadsheet_cell",
    "spreadsheet_frame",
]


def html_text(value: Any) -> str:
    """*value* as HTML text, safe in element content and in quoted attribute values.

    ``&``, ``<``, ``>``, ``"`` and ``'`` become character references. ``None`` gives ``""``.
    """
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_UNSAFE_RE = re.compile("[<>&\u2028\u2029]")


def script_json(obj: Any) -> str:
    """*obj* as JSON that is safe inside an inline ``<script>`` element.

    The JSON is also a valid JavaScript expression. ``<``, ``>`` and ``&`` are written as
    ``\\u003c``, ``\\u003e`` and ``\\u0026`` (so neither ``</script>`` nor ``<!--`` can occur),
    and the line separators U+2028/U+2029 as escapes (older JavaScript engines end a string
    at them). Outside strings, JSON never holds these characters, so nothing else changes.
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    return _SCRIPT_UNSAFE_RE.sub(lambda m: _SCRIPT_UNSAFE[m.group(0)], text)


def js_string(value: Any) -> str:
    """*value* (``str()`` of it; ``None`` gives ``""``) as a quoted JavaScript string literal,
    safe inside an inline ``<script>``."""
    return script_json("" if value is None else str(value))


#: First characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a
#: formula, or that it strips before doing so (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_cell(value: Any) -> Any:
    """*value* safe as a CSV or workbook cell.

    A string starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading single quote, so the spreadsheet shows it as text instead of evaluating it
    (``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``). A string that is just a signed number
    (``-5``, ``+1.5e3``) is left alone: a spreadsheet reads it as that number and nothing else,
    exactly as it reads a numeric cell. Anything that is not a string (numbers, booleans,
    ``None``, NaN, dates) is returned unchanged.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def spreadsheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of *frame* with :func:`spreadsheet_cell` applied to every text cell (columns of
    object or string dtype, and categoricals of strings) and to the column names; numeric
    columns are untouched. Use it on every frame written to a CSV or a workbook."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = series.cat.categories
            if cats.dtype == object or pd.api.types.is_string_dtype(cats.dtype):
                safe = [spreadsheet_cell(c) for c in cats]
                if len(set(safe)) == len(safe):
                    out[col] = series.cat.rename_categories(safe)
                else:  # a neutralised name collides with an existing one: plain strings
                    out[col] = series.astype(object).map(spreadsheet_cell)
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[col] = series.map(spreadsheet_cell, na_action="ignore")
    out.columns = [spreadsheet_cell(c) for c in out.columns]
    return out


def mathtext_safe(value: Any) -> str:
    """*value* as matplotlib text shown literally, never parsed as mathtext.

    matplotlib parses a string as mathtext only when it holds an even, non-zero number of
    unescaped ``$``; ``\\$`` is a literal dollar that matplotlib shows as ``$``. Escaping every
    ``$`` is therefore enough: the other mathtext specials (``\\``, ``^``, ``_``, ``{``) only act
    inside ``$...$``. This holds with ``text.usetex`` off (matplotlib's default, and
    :mod:`pipeline.render.charts` forces it off for its text); with TeX on, every special would
    need escaping.
    """
    if value is None:
        return ""
    return str(value).replace("$", "\\$")


_UNSAFE_FILE = re.compile(r"[^A-Za-z0-9_-]+")


def file_stem(value: Any) -> str:
    """A string as part of a file name: letters, digits, '_' and '-' only, so a code such as
    '../x' or 'a/b' can never name a file outside its folder; a changed value gets a short hash
    of the original so two codes never share a file."""
    text = str(value)
    stem = _UNSAFE_FILE.sub("_", text).strip("_") or "x"
    if stem == text:
        return stem
    return f"{stem}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
