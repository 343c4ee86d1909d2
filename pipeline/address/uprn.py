"""The UPRN rule: one key for a Unique Property Reference Number, used by every loader and the geocode.

**Key** (`uprn_key(s)`, a DuckDB macro): the UPRN as digits with no leading zeros, or NULL. The text
is trimmed and read as a whole number, so the forms a UPRN column takes on its way through a
spreadsheet all give the same key:

* Excel's scientific notation (a UPRN column saved from Excel): ``1.00023336956E11`` ->
  ``100023336956``;
* a trailing decimal part (``123.0``, from a column read as numbers) -> ``123``;
* leading zeros (``00012345``, a column padded to 12 characters) -> ``12345``;
* surrounding spaces -> dropped.

A blank, or text that is not a number (``abc``, ``100 023``, ``1,234``), gives NULL: no UPRN, and the
record falls back to its address or postcode.

The records (`pipeline/sql/geocode_match.sql`), the council's gazetteer
(`pipeline.address.gazetteer`), the UPRN lookup in the ONSUD layout
(`pipeline.address.uprn_lookup`) and UPRN-keyed segmentation lookups (`segments.lookup`) all key
UPRNs by this macro, so a gazetteer saved from Excel matches its own UPRNs and the records'. Files
read with pandas take the same macro through `keys()`.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.executor import execute, through_macro

MACROS = """
CREATE OR REPLACE TEMP MACRO uprn_key(s) AS nullif(ltrim(regexp_replace(
    CAST(TRY_CAST(nullif(trim(CAST(s AS VARCHAR)), '') AS DECIMAL(18, 0)) AS VARCHAR),
    '[^0-9]', '', 'g'), '0'), '');
"""


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Define the macro `uprn_key` on a connection (idempotent)."""
    execute(con, "uprn_macro", MACROS)


def keys(values: pd.Series) -> pd.Series:
    """`uprn_key` of each value of a pandas Series (None where it gives no UPRN), same index."""
    out = through_macro(values, install, "uprn_keys", "SELECT uprn_key(v) AS k FROM series_values")
    return pd.Series([None if pd.isna(k) else k for k in out], index=values.index, dtype=object)
