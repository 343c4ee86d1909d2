"""The postcode rule: one key, one validity test, one correction, used by every loader and the geocode.

**Key** (`pc_key(s)`, a DuckDB macro): the postcode as a person reads it. Upper case; full-width
letters and digits (``ＭＳ３``) and the Cyrillic and Greek capitals that look exactly like a Latin
one (``М``, ``Ο``) folded to it; accents stripped; then every character that is not a letter or a
digit dropped: spaces, any Unicode punctuation, dashes, brackets, quotes, zero-width and other
invisible characters. ``'(m33-2ux.)'``, ``'M33\\u200b2UX'`` and ``'M33 – 2UX'`` all give ``M332UX``.
The directory (`boundaries.loaders.postcode_directory_sql`), the gazetteer, the UPRN lookup,
segmentation lookups and the records all key postcodes by this macro, so they always agree.

Printable ASCII (almost every record) takes a shortcut with the same result: upper case, then
every character but A-Z and 0-9 dropped (`pc_key_full` is the whole rule; a test holds them equal);
it makes the key ten times faster on a million records.

**Valid** (`pc_valid(k)`): the six formats of a UK postcode (A9 9AA, A99 9AA, A9A 9AA, AA9 9AA,
AA99 9AA, AA9A 9AA) with the letters each position may hold (Royal Mail's rules, as in the
Wikipedia article "Postcodes in the United Kingdom", section Validation, and the Government Data
Standards Catalogue's BS7666 postcode pattern):

* first letter: never Q, V or X;
* second letter (AA9, AA99, AA9A): never I, J or Z;
* third character of A9A: only A B C D E F G H J K P S T U W;
* fourth character of AA9A: only A B E H M N P R V W X Y;
* inward code: a digit, then two letters never C, I, K, M, O or V;
* and the one exception, ``GIR 0AA`` (formerly Girobank).

**Partial** (`pc_partial(k)`): a valid outward code alone (``AB10``, ``M41``: the district) or
with the sector digit (``M41 7``).

**Area** (`pc_area(k)`): the postcode area of a key, the one or two letters its outward code
starts with (``M`` of ``M332UX``, ``WA`` of ``WA145AB``); NULL for a key that does not start so
(``GIR0AA``, blanks). The Spark engine partitions its cached directory and UPRN lookup by it
(`pipeline.spark.reference`).

**Correction** (`pc_reading(k)`, a Python function DuckDB calls for invalid keys only): the
characters people and OCR confuse (``O``/``0``, ``I``/``1``, ``L``/``1``, ``Z``/``2``, ``S``/``5``)
are tried in each position. The reading is the legal postcode reached with the fewest changes,
and only when exactly one legal postcode is reached with that few; otherwise none. The geocode
counts it as a correction only when the corrected postcode is in the directory.
"""

from __future__ import annotations

import re

import duckdb
import pandas as pd

#: full-width and look-alike characters -> the Latin capital or digit they show (applied after upper)
_FOLD_FROM = ("ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ０１２３４５６７８９"
              "АВЕЅІЈКМНОРСТХУ"  # Cyrillic capitals
              "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ")  # Greek capitals
_FOLD_TO = ("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            "ABESIJKMHOPCTXY"
            "ABEZHIKMNOPTYX")
assert len(_FOLD_FROM) == len(_FOLD_TO)

_OUTWARD = (r"[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])")
#: a whole postcode as a key (no spaces), by the letter-position rules
VALID = rf"GIR0AA|{_OUTWARD}[0-9][ABD-HJLNP-UW-Z]{{2}}"
#: the district alone, or the sector
PARTIAL = rf"{_OUTWARD}[0-9]?"
#: the postcode area: the letters a key's outward code starts with (group 1)
AREA = r"^([A-Z]{1,2})[0-9]"


def macros_sql() -> str:
    """The postcode macros (pc_fold, pc_key_full, pc_key, pc_valid, pc_partial, pc_area), from the
    rules above."""
    return f"""
CREATE OR REPLACE TEMP MACRO pc_fold(s) AS
    strip_accents(translate(upper(coalesce(CAST(s AS VARCHAR), '')), '{_FOLD_FROM}', '{_FOLD_TO}'));
CREATE OR REPLACE TEMP MACRO pc_key_full(s) AS regexp_replace(pc_fold(s), '[^\\p{{L}}\\p{{N}}]+', '', 'g');
CREATE OR REPLACE TEMP MACRO pc_key(s) AS CASE
    WHEN regexp_full_match(coalesce(CAST(s AS VARCHAR), ''), '[ -~]*')
    THEN regexp_replace(upper(coalesce(CAST(s AS VARCHAR), '')), '[^A-Z0-9]+', '', 'g')
    ELSE pc_key_full(s) END;
CREATE OR REPLACE TEMP MACRO pc_valid(k) AS regexp_full_match(k, '{VALID}');
CREATE OR REPLACE TEMP MACRO pc_partial(k) AS regexp_full_match(k, '{PARTIAL}');
CREATE OR REPLACE TEMP MACRO pc_area(k) AS nullif(regexp_extract(k, '{AREA}', 1), '');
"""


MACROS = macros_sql()

# --- correction -----------------------------------------------------------------------------------

_FIRST, _SECOND = "ABCDEFGHIJKLMNOPRSTUWYZ", "ABCDEFGHKLMNOPQRSTUVWXY"
_THIRD_A9A, _FOURTH_AA9A = "ABCDEFGHJKPSTUW", "ABEHMNPRVWXY"
_DIGIT, _UNIT = "0123456789", "ABDEFGHJLNPQRSTUWXYZ"
_INWARD = (_DIGIT, _UNIT, _UNIT)
#: each format as the characters its positions may hold
FORMATS = [
    (_FIRST, _DIGIT) + _INWARD,  # A9 9AA
    (_FIRST, _DIGIT, _DIGIT) + _INWARD,  # A99 9AA
    (_FIRST, _DIGIT, _THIRD_A9A) + _INWARD,  # A9A 9AA
    (_FIRST, _SECOND, _DIGIT) + _INWARD,  # AA9 9AA
    (_FIRST, _SECOND, _DIGIT, _DIGIT) + _INWARD,  # AA99 9AA
    (_FIRST, _SECOND, _DIGIT, _FOURTH_AA9A) + _INWARD,  # AA9A 9AA
    tuple("GIR0AA"),  # the one exception
]
#: characters confused with one another in typing and OCR (letter O / zero, letter I or L / one, ...)
CONFUSED = {"O": "0", "0": "O", "I": "1", "L": "1", "1": "IL", "Z": "2", "2": "Z", "S": "5", "5": "S"}
_VALID_RE = re.compile(VALID)


def is_valid(key: str) -> bool:
    """Whether a key (see `pc_key`) is a postcode by the letter-position rules."""
    return bool(_VALID_RE.fullmatch(key))


def reading(key: str | None) -> str | None:
    """The one legal postcode an invalid key can be read as by correcting confused characters, or
    None: fewest changes first, and None when two readings need as few (or the key is valid)."""
    if not key or not 5 <= len(key) <= 7 or is_valid(key):
        return None
    found: dict[int, set[str]] = {}
    for fmt in FORMATS:
        if len(fmt) != len(key):
            continue
        options: list[list[str]] = []
        changes = 0
        for ch, allowed in zip(key, fmt, strict=True):
            if ch in allowed:
                options.append([ch])
                continue
            alts = [a for a in CONFUSED.get(ch, "") if a in allowed]
            if not alts:
                break
            options.append(alts)
            changes += 1
        else:
            readings = {""}
            for opts in options:
                readings = {r + o for r in readings for o in opts}
            found.setdefault(changes, set()).update(readings)
    if not found:
        return None
    best = found[min(found)]
    return next(iter(best)) if len(best) == 1 else None


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Define the macros `pc_fold`, `pc_key`, `pc_valid`, `pc_partial`, `pc_area` and the function
    `pc_reading` on a connection (idempotent)."""
    from pipeline.warehouse import execute

    execute(con, "postcode_macros", MACROS)
    try:
        con.create_function("pc_reading", reading, ["VARCHAR"], "VARCHAR", null_handling="special",
                            side_effects=False)
    except (duckdb.CatalogException, duckdb.NotImplementedException, duckdb.InvalidInputException):
        pass  # already defined on this connection


def keys(values: pd.Series) -> pd.Series:
    """`pc_key` of each value of a pandas Series (for lookups read with pandas), same index."""
    from pipeline.executor import through_macro

    out = through_macro(values, install, "postcode_keys", "SELECT pc_key(v) AS k FROM series_values")
    return pd.Series(out, index=values.index)


def display(key: str) -> str:
    """A valid key with its space: 'M332UX' -> 'M33 2UX'."""
    return f"{key[:-3]} {key[-3:]}"
