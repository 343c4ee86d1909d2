"""Unit tests for pipeline.escape: one helper per output context, each checked against the
parser it protects (Python's HTML parser, a JSON/JavaScript reading, matplotlib's mathtext
test, a CSV round trip)."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib import cbook

from pipeline.escape import (
    FORMULA_PREFIXES,
    html_text,
    js_string,
    mathtext_safe,
    script_json,
    spreadsheet_cell,
    spreadsheet_frame,
)
from tests.helpers import formula_cells

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

IMG = "<img src=x onerror=alert(1)>"
CLOSE = "</script><script>window.PWNED=1</script>"


class _Collect(HTMLParser):
    """Start tags, attribute values and text of a fragment, as a browser's tokeniser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def _parse(fragment: str) -> _Collect:
    p = _Collect()
    p.feed(fragment)
    p.close()
    return p


# --- html_text -----------------------------------------------------------------------


@pytest.mark.parametrize("s", [IMG, CLOSE, 'Opt "quoted" <b>bold</b> & \'single\'', "plain ward",
                               "=HYPERLINK(\"http://x\")"])
def test_html_text_is_text_in_content_and_attributes(s):
    escaped = html_text(s)
    for ch in "<>\"'":
        assert ch not in escaped
    as_text = _parse(f"<p>{escaped}</p>")
    assert as_text.tags == ["p"]  # no element from the value
    assert "".join(as_text.text) == s  # and it reads back as typed
    for quote in '"\'':
        as_attr = _parse(f"<span title={quote}{escaped}{quote} class=x></span>")
        assert as_attr.tags == ["span"]
        assert as_attr.attrs == [("title", s), ("class", "x")]  # cannot leave the attribute


def test_html_text_none_and_numbers():
    assert html_text(None) == ""
    assert html_text(12.5) == "12.5"
    assert html_text("a&b") == "a&amp;b"


# --- script_json / js_string ---------------------------------------------------------


@pytest.mark.parametrize("value", [CLOSE, "<!-- <script>", "a\u2028b\u2029c", "x & y > z", IMG])
def test_script_json_cannot_close_or_comment_a_script(value):
    obj = {"name": value, "list": [value, 1, None, True]}
    text = script_json(obj)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == obj  # the same value when the script reads it
    # In a page, the inline script ends only at its own closing tag.
    page = f"<script>var v = {text};</script><p>after</p>"
    assert page.lower().count("</script") == 1


def test_script_json_escapes_are_the_unicode_forms():
    assert script_json("</script>") == '"\\u003c/script\\u003e"'
    assert script_json("&") == '"\\u0026"'
    assert script_json("\u2028") == '"\\u2028"'
    assert script_json("é ©") == '"é ©"'  # everything else kept as is (UTF-8 page)
    with pytest.raises(ValueError):
        script_json(float("nan"))  # NaN is not JSON: refused, never written as bare NaN


def test_js_string_is_a_quoted_string_literal():
    assert js_string(CLOSE) == script_json(CLOSE)
    assert json.loads(js_string(CLOSE)) == CLOSE
    assert js_string(None) == '""'
    assert js_string(5) == '"5"'


# --- spreadsheet_cell / spreadsheet_frame ---------------------------------------------


@pytest.mark.parametrize("s", ["=HYPERLINK(\"http://evil\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3",
                               "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=", "-"])
def test_spreadsheet_cell_neutralises_formula_starts(s):
    out = spreadsheet_cell(s)
    assert out == "'" + s
    assert not out.startswith(FORMULA_PREFIXES)


@pytest.mark.parametrize("s", ["Ward A", "", "'=already quoted", "E05000001", "1a2", " =x"])
def test_spreadsheet_cell_leaves_plain_text(s):
    assert spreadsheet_cell(s) == s


@pytest.mark.parametrize("value", [-5, 3.25, -0.5, np.int64(-3), np.float64(-1.5), None, True,
                                   float("nan"), pd.Timestamp("2024-01-01")])
def test_spreadsheet_cell_leaves_non_strings(value):
    out = spreadsheet_cell(value)
    assert out is value or (isinstance(value, float) and np.isnan(out))


@pytest.mark.parametrize("s", ["-5", "-12.5", "+3", "-1e3", "-.5"])
def test_spreadsheet_cell_leaves_signed_numbers(s):
    """A signed number is read as that number by a spreadsheet, exactly as a numeric cell."""
    assert spreadsheet_cell(s) == s


def test_spreadsheet_cell_number_like_formulas_are_neutralised():
    for s in ("-1+1", "-5,000", "-3 ", "+1-cmd", "-1e3+A1"):
        assert spreadsheet_cell(s) == "'" + s


def test_spreadsheet_frame_neutralises_text_cells_and_headers():
    frame = pd.DataFrame({
        "segment_name": ["=HYPERLINK(\"http://x\")", "+rich", "Ward A", None],
        "count": [-1, 2, 3, 4],
        "share": [-0.5, 1.0, np.nan, 2.0],
        "@header": ["-x", "@y", "ok", "\tz"],
        "cat": pd.Categorical(["=a", "b", "=a", "b"]),
        "text": pd.array(["-z", "ok", None, "=q"], dtype="string"),
    })
    out = spreadsheet_frame(frame)
    assert list(out.columns) == ["segment_name", "count", "share", "'@header", "cat", "text"]
    assert out["segment_name"].tolist()[:3] == ["'=HYPERLINK(\"http://x\")", "'+rich", "Ward A"]
    assert out["segment_name"].isna().tolist() == [False, False, False, True]
    assert out["count"].tolist() == [-1, 2, 3, 4] and out["count"].dtype == frame["count"].dtype
    assert out["share"].equals(frame["share"])
    assert out["'@header"].tolist() == ["'-x", "'@y", "ok", "'\tz"]
    assert out["cat"].astype(str).tolist() == ["'=a", "b", "'=a", "b"]
    assert out["text"].tolist()[:2] == ["'-z", "ok"] and out["text"].tolist()[3] == "'=q"
    assert frame["segment_name"].iloc[0].startswith("=")  # the input is not changed

    # Written as CSV and read back, no cell starts a formula (except the untouched numbers).
    buf = io.StringIO()
    out.to_csv(buf, index=False)
    cells = [c for row in csv.reader(io.StringIO(buf.getvalue())) for c in row]
    bad = formula_cells(cells)
    assert bad == []


def test_spreadsheet_frame_categorical_collision_falls_back_to_text():
    frame = pd.DataFrame({"c": pd.Categorical(["=a", "'=a"])})
    assert spreadsheet_frame(frame)["c"].tolist() == ["'=a", "'=a"]



# --- mathtext_safe -------------------------------------------------------------------


@pytest.mark.parametrize("s", [r"$\frac{1}{0}$", r"Cost $5 to $10", r"$\notacommand{$", r"a $x^$ b",
                               r"already \$ escaped $y$"])
def test_mathtext_safe_is_never_mathtext(s):
    safe = mathtext_safe(s)
    assert not cbook.is_math_text(safe)
    fig, ax = plt.subplots()
    try:
        text = ax.set_title(safe)
        shown, math = text._preprocess_math(text.get_text())
        assert math is False and shown == s  # drawn literally, as typed
        fig.savefig(io.BytesIO(), format="png")
    finally:
        plt.close(fig)


def test_unescaped_label_would_break_the_chart():
    """The control: the same strings unescaped fail to draw, which is what the helper prevents."""
    fig, ax = plt.subplots()
    try:
        ax.set_title(r"$\notacommand{$")
        with pytest.raises(ValueError):
            fig.savefig(io.BytesIO(), format="png")
    finally:
        plt.close(fig)


def test_mathtext_safe_plain_values():
    assert mathtext_safe(None) == ""
    assert mathtext_safe("no dollars") == "no dollars"
    assert mathtext_safe(42) == "42"
