"""The one executor of the pipeline's SQL: every statement has a name and runs through :func:`execute`.

:func:`execute` logs the name, the rows the statement made or returned and the seconds it took
(DEBUG, logger ``pipeline.executor``); for a connection with a log (a run's warehouse,
`pipeline.warehouse.connect`, writes ``data/<run>/sql.log``, private, mode 0600) it writes them with
the statement's text, and under :func:`echo_sql` (``insight run CONFIG --sql``) it prints them to
stderr. Bound values are never written: only the statement and how many values it bound.

The SQL itself lives in ``pipeline/sql/<name>.sql`` (`pipeline.warehouse.sql`) or in a small
function named ``*_sql()`` that returns it. Only identifiers (quoted with :func:`ident`), the few
paths the pipeline itself made (:func:`literal`) and placeholders are put into the
text; every value is a bound parameter. tests/run/test_sql_in_view.py fails on an f-string, ``%`` or
``.format`` holding SQL anywhere else in pipeline/. Tables that live only while a stage works are
named ``scratch_*`` (:data:`SCRATCH`) and dropped when it is done (:func:`drop_scratch`).

No project imports: the modules below the warehouse (`pipeline.secret`) run their SQL through it too.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import duckdb

logger = logging.getLogger(__name__)

#: The statements a run executed (name, rows, seconds, the SQL; never a bound value), in the
#: private folder: data/<run>/sql.log.
SQL_LOG = "sql.log"
#: The prefix of tables that live only while a stage works (dropped when it is done).
SCRATCH = "scratch_"

_SQL_LOGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection -> its sql.log
#: (the run's warehouse connection, weakly, and its sql.log): while that connection lives, the
#: statements of the helper connections a stage opens (a CSV's columns, postcode keys, the area
#: cache) go to the run's log too
_RUN: list = []
_QUIET: weakref.WeakSet = weakref.WeakSet()  # connections told not to draw DuckDB's progress bar
_ECHO: list[TextIO] = []  # where `--sql` prints (echo_sql)


def ident(name: str) -> str:
    """An identifier (table or column name) quoted for DuckDB: `a "b` becomes `"a ""b"`."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(text: str | os.PathLike) -> str:
    """A string literal, for the few values written into the text: paths the pipeline made or was
    given (ATTACH, COPY ... TO, read_csv with a constant column list), the age-reference day and
    the ingest stage's own header and footer rules: `it's` becomes `'it''s'`. Everything else is
    bound."""
    return "'" + str(text).replace("'", "''") + "'"


def _private_log(path: Path) -> Path:
    """Start the run's sql.log afresh, readable by its owner only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # a file left by an older run keeps its mode otherwise
    return path


def sql_log(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The sql.log of a run's warehouse connection (None for any other connection)."""
    return _SQL_LOGS.get(con)


def attach_log(con: duckdb.DuckDBPyConnection, path: Path, fresh: bool = False, run: bool = False) -> None:
    """Write the statements of `con` to `path` as well: appended, or started afresh when `fresh`
    (made readable by its owner only, mode 0600). `run`: `con` is a run's warehouse, and while it
    lives the statements of connections without a log of their own go to `path` too."""
    if fresh or not path.exists():
        _private_log(path)
    _SQL_LOGS[con] = path
    if run:
        _RUN[:] = [weakref.ref(con), path]


def _log_of(con) -> Path | None:
    log = None if con is None else _SQL_LOGS.get(con)
    if log is None and _RUN and _RUN[0]() is not None:
        return _RUN[1]
    return log


@contextmanager
def echo_sql(stream: TextIO | None = None) -> Iterator[None]:
    """While open, print every statement executed (name, rows, seconds, SQL) to `stream`
    (stderr by default): `insight run CONFIG --sql`."""
    _ECHO.append(stream or sys.stderr)
    try:
        yield
    finally:
        _ECHO.pop()


def _rows(result: duckdb.DuckDBPyConnection) -> int | None:
    """The rows a statement made, changed or wrote (DuckDB's `Count`), None when it says none."""
    if [d[0] for d in result.description or []] != ["Count"]:
        return None
    got = result.fetchall()
    return int(got[0][0]) if got else None


def execute(con: duckdb.DuckDBPyConnection, name: str, sql: str, params: Sequence | dict | None = None,
            *, fetch: str | None = None) -> Any:
    """Run one named statement: every statement of the pipeline comes through here.

    `params` are bound, never put into the text. `fetch` says what the caller wants back:
    None (a statement: the rows it made or changed, or None for a view or macro), "all" (a list of
    tuples), "one" (the first row or None), "value" (the first column of the first row), "df" (a
    pandas frame). Logs the name, the rows and the seconds (DEBUG), writes them with the SQL to
    the run's sql.log and, under :func:`echo_sql`, prints them; bound values are never logged."""
    if con not in _QUIET:  # DuckDB draws a progress bar on stdout for a statement over 2 s
        con.execute("SET enable_progress_bar = false")
        con.execute("SET enable_progress_bar_print = false")  # stays off if something turns the bar on
        _QUIET.add(con)
    start = time.perf_counter()
    result = con.execute(sql) if params is None else con.execute(sql, params)
    if fetch is None:
        out = rows = _rows(result)
    elif fetch == "all":
        out = result.fetchall()
        rows = len(out)
    elif fetch == "one":
        out = result.fetchone()
        rows = 0 if out is None else 1
    elif fetch == "value":
        got = result.fetchone()
        out, rows = (None if got is None else got[0]), (0 if got is None else 1)
    elif fetch == "df":
        out = result.df()
        rows = len(out)
    else:
        raise ValueError(f"fetch must be None, 'all', 'one', 'value' or 'df', not {fetch!r}")
    _trace(con, name, sql, rows, time.perf_counter() - start, 0 if params is None else len(params))
    return out


def trace(name: str, sql: str, rows: int | None, seconds: float) -> None:
    """Log a statement another engine ran (`pipeline.spark`) as :func:`execute` logs its own: to the
    run's sql.log while a run's warehouse is open, and under :func:`echo_sql`."""
    _trace(None, name, sql, rows, seconds, 0)


def _trace(con, name: str, sql: str, rows: int | None, seconds: float, n_params: int) -> None:
    shown = "-" if rows is None else f"{rows:,}"
    head = f"-- sql {name}: {shown} rows, {seconds:.3f} s" + (f", {n_params} bound" if n_params else "")
    logger.debug("sql %s: %s rows, %.3f s", name, shown, seconds)
    log = _log_of(con)
    if log is None and not _ECHO:
        return
    text = f"{head}\n{sql.strip()}\n\n"
    if log is not None:
        with open(log, "a", encoding="utf-8") as f:
            f.write(text)
    for stream in _ECHO[-1:]:
        stream.write(text)
        stream.flush()


def describe_sql(relation: str) -> str:
    """The columns of a relation (a table name quoted by `ident`, or a table function built by a
    `*_sql()` function)."""
    return f"DESCRIBE SELECT * FROM {relation}"


def count_sql(table: str, where: str | None = None) -> str:
    """The rows of a table (quoted here), optionally only those meeting a condition the caller's
    module writes as a constant."""
    return f"SELECT count(*) FROM {ident(table)}" + (f" WHERE {where}" if where else "")


def frame_table_sql(table: str, view: str, *, temp: bool = True, insert: bool = False,
                    order_by: str | None = None, schema: str | None = None) -> str:
    """Copy a registered frame `view` into `table` (made afresh, or appended to when `insert`), in
    the order of column `order_by` if given; `schema`: an attached database's alias."""
    target = (f"{ident(schema)}." if schema else "") + ident(table)
    rows = f"SELECT * FROM {ident(view)}" + (f" ORDER BY {ident(order_by)}" if order_by else "")
    if insert:
        return f"INSERT INTO {target} {rows}"
    return f"CREATE OR REPLACE {'TEMP ' if temp else ''}TABLE {target} AS {rows}"


def store_frame(con: duckdb.DuckDBPyConnection, name: str, table: str, frame, *, temp: bool = True,
                insert: bool = False, order_by: str | None = None, schema: str | None = None) -> int | None:
    """Write a pandas frame to `table` as the named statement `name`; return the rows written."""
    view = f"{SCRATCH}frame_{table}"
    con.register(view, frame)
    try:
        return execute(con, name, frame_table_sql(table, view, temp=temp, insert=insert, order_by=order_by,
                                                  schema=schema))
    finally:
        con.unregister(view)


def drop_scratch(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Drop scratch tables (named `scratch_*`) once a stage is done with them."""
    for table in names:
        if not table.startswith(SCRATCH):
            raise ValueError(f"{table} is not a scratch table (scratch tables are named {SCRATCH}*)")
        execute(con, f"drop_{table}", drop_sql(table))


def drop_sql(table: str) -> str:
    return f"DROP TABLE IF EXISTS {ident(table)}"



def through_macro(values, install, name: str, sql: str,
                  con: duckdb.DuckDBPyConnection | None = None) -> list:
    """Each value of a pandas Series passed through a SQL rule on a connection of its own: the
    rule's macros defined by `install(con)`, then `sql` (a SELECT of column `k` from the registered
    one-column frame `series_values`, column `v`) run as the statement `name`. The rules of
    `pipeline.address` (postcode key, UPRN) read columns pandas has loaded the same way the stages
    read them in SQL, with no second copy of the rule in Python. `con`: a connection `install` has
    already run on, kept open by the caller for its next batch (the Spark UDFs keep one per worker
    process), instead of a new one."""
    import pandas as pd

    own = con is None
    con = duckdb.connect() if own else con
    try:
        if own:
            install(con)
        con.register("series_values", pd.DataFrame({"v": values.astype("string").to_numpy()}))
        return execute(con, name, sql, fetch="df")["k"].tolist()
    finally:
        if own:
            con.close()
        else:
            con.unregister("series_values")
