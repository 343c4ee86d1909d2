"""The date rule: which texts are read as a date, used by every stage that reads one.

**Formats** (`FORMATS`, the first that fits the whole trimmed text wins): ``dd/mm/yyyy``,
``yyyy-mm-dd``, ``dd-mm-yyyy``, ``dd.mm.yyyy``, ``yyyy/mm/dd``, and with a time of day
``yyyy-mm-dd hh:mm:ss`` (how Excel dates come out of a workbook), ``dd/mm/yyyy hh:mm``,
``dd/mm/yyyy hh:mm:ss`` and ISO 8601's ``yyyy-mm-ddThh:mm:ss``. The time of day is dropped: the rule
gives a day. Days and months are read day first (a UK extract's ``05/03/2024`` is 5 March); a text
in none of these forms, or naming a day that does not exist (``31/02/2024``), is no date.

The rule is written once, here, and read two ways:

* in DuckDB, `date_sql(expr)`: the SQL of the day an expression's text gives (NULL for no date);
  `install(con)` defines it as the macro `insight_date(x)`. Dates of birth become age bands by it
  (`pipeline.privacy.AgeRule`, as each row is read) and records fall into their trend period by it
  (`pipeline.profiles.trends`);
* in Python, `parse(text)`: the same day or None, for checks and for files read with pandas.

A test (`tests/run/test_dates.py`) holds the two readings equal on every format and on texts that are
near misses.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from pipeline.executor import execute

#: The forms a date is read in, first that fits; strftime codes as both Python and DuckDB read them.
FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S",
           "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


#: Every form has a four-digit year: a text without four digits standing alone is no date.
YEAR_PATTERN = r"(^|[^0-9])[0-9]{4}([^0-9]|$)"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def date_sql(expr: str) -> str:
    """DuckDB SQL of the day the text of `expr` (SQL) gives by the rule, NULL where it gives none.
    The year is four digits, as Python's %Y reads it (DuckDB's would take `3/4/5` as the year 5)."""
    formats = ", ".join(_literal(f) for f in FORMATS)
    text = f"trim(CAST({expr} AS VARCHAR))"
    return (f"CASE WHEN regexp_matches({text}, {_literal(YEAR_PATTERN)}) "
            f"THEN CAST(try_strptime({text}, [{formats}]) AS DATE) END")


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Define the temporary macro `insight_date(x)` (`date_sql`) on a connection (idempotent)."""
    execute(con, "date_macro", macro_sql())


def macro_sql() -> str:
    """The macro `insight_date(x)`: `date_sql` of its argument."""
    return f"CREATE OR REPLACE TEMP MACRO insight_date(x) AS {date_sql('x')}"


def parse(text: object) -> date | None:
    """The day a text gives by the rule (Python's reading of `date_sql`), or None."""
    if text is None:
        return None
    value = str(text).strip()
    for fmt in FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None
