"""Reading a Parquet extract: its columns and their types (from the file's footer, no rows read), each
cell as the text the ingest rules expect (`cell_sql`), the mapped columns of a type no engine reads
as text the same way refused with the fix, and the mapped columns loaded into the scratch table with
the file's own row number (`file_row_number`, 1-based, the file's row order).

An extract is one `.parquet` file, not a folder of parts: row numbers are the file's row order (the
rejects file names them), and the parts of a folder have no order every reader agrees on
(`filekind.check_path` says so and how to write one file).

The rules are DuckDB SQL; a Spark run reads the same file through the same SQL, transpiled
(`pipeline.spark.ingest`), with Spark's `_metadata.row_index` as the file's row number."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipeline.config import Service
from pipeline.ingest.errors import IngestError
from pipeline.ingest.headers import repeated_headers
from pipeline.ingest.store import projection, raw_table, raw_table_sql
from pipeline.privacy import AgeRule
from pipeline.warehouse import execute, ident

#: The column of the cells' SELECT holding each row's 0-based place in the file
FILE_ROW = "__file_row"
#: Types whose text is the same on every engine: a cast (integers, booleans, decimals) or a format
#: the date rule reads (`pipeline.dates`: dates and, with seconds, timestamps)
_CAST = re.compile(r"U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|BOOLEAN|DECIMAL\(\d+,\s*\d+\)")
_FORMATS = {"VARCHAR": None, "DATE": "%Y-%m-%d", "TIMESTAMP": "%Y-%m-%d %H:%M:%S",
            "TIMESTAMP_MS": "%Y-%m-%d %H:%M:%S"}
#: The fix for a mapped column of another type
TYPE_FIX = ("write the column as text (string), a whole number, a date or a timestamp when the Parquet "
            "file is made (e.g. CAST(col AS VARCHAR)), or map another column")


def columns_sql() -> str:
    """The columns of a Parquet file and their DuckDB types (its footer only). Bound: $1 the path."""
    return "DESCRIBE SELECT * FROM read_parquet($1)"


def relation_sql() -> str:
    """The read_parquet() call of an extract, each row with its 0-based place in the file. Bound: $1."""
    return "read_parquet($1, file_row_number = true)"


def readable_type(kind: str) -> bool:
    """Whether a column of DuckDB type `kind` is read as text the same way on every engine."""
    return kind in _FORMATS or _CAST.fullmatch(kind) is not None


def cell_sql(column: str, kind: str) -> str:
    """The text of one cell of `column` (DuckDB type `kind`): text as it is, a date as yyyy-mm-dd, a
    timestamp as yyyy-mm-dd hh:mm:ss (forms the date rule reads), anything else cast to text."""
    if kind == "VARCHAR":
        return ident(column)
    if kind in _FORMATS:
        return f"strftime({ident(column)}, '{_FORMATS[kind]}')"
    return f"CAST({ident(column)} AS VARCHAR)"


def cells_sql(columns: list[tuple[str, str]], source: str) -> str:
    """The subquery of `source` (a read_parquet() call or a view with `file_row_number`) giving every
    column as text (`cell_sql`) and each row's 0-based place in the file as FILE_ROW."""
    cells = ", ".join(f"{cell_sql(name, kind)} AS {ident(name)}" for name, kind in columns)
    return f"(SELECT {cells}, file_row_number AS {FILE_ROW} FROM {source})"


def parquet_columns(path: Path) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of a Parquet file, read from its footer on a connection of
    its own; an IngestError naming the file and the fix if it cannot be read as Parquet."""
    con = duckdb.connect()
    try:
        rows = execute(con, "ingest_parquet_columns", columns_sql(), [str(path)], fetch="all")
    except duckdb.Error:
        raise IngestError([f"{path}: the file cannot be read as Parquet (it is damaged, or not a Parquet "
                           f"file though it starts like one); fix: export the extract again as one "
                           f"Parquet file, or as CSV UTF-8"]) from None
    finally:
        con.close()
    return [(str(name), str(kind)) for name, kind, *_ in rows]


def type_problems(path: Path, columns: list[tuple[str, str]], mapping: dict[str, str]) -> list[str]:
    """One problem per mapped column whose type is not read as text the same way on every engine
    (a floating-point number, a time zone's timestamp, a list ...). Unmapped columns of such types
    only enter the row's hash, where each engine's text tells equal cells from unequal ones."""
    kinds = dict(columns)
    return [f"{path}: the column {header!r} (mapped to {fld.removeprefix('outcome_')!r}) is of Parquet type "
            f"{kinds[header]}, which is not read as text the same way everywhere (a floating-point "
            f"100012345678 may come back as 1.00012345678E11); fix: {TYPE_FIX}"
            for fld, header in mapping.items() if not readable_type(kinds[header])]


def check_columns(path: Path, service: Service, columns: list[tuple[str, str]],
                  age: AgeRule) -> tuple[str, dict[str, str]]:
    """(SELECT list, field -> header) of `projection` over a Parquet file's columns, after the same
    checks as a CSV header (repeated and missing mapped columns) and the types of the mapped ones."""
    headers = [name for name, _ in columns]
    if repeated := repeated_headers(service, headers, str(path)):
        raise IngestError(repeated)
    select, mapping = projection(service, headers, path, age)
    if problems := type_problems(path, columns, mapping):
        raise IngestError(problems)
    return select, mapping


def load_parquet(con, service: Service, path: Path, age: AgeRule) -> tuple[list[str], dict[str, str]]:
    """Read the mapped columns of a Parquet extract into the scratch table `raw_<service>` (the same
    `projection` as a CSV, over its cells as text), each row with its 0-based place in the file
    (FILE_ROW); return (its headers, field -> header)."""
    columns = parquet_columns(path)
    select, mapping = check_columns(path, service, columns, age)
    source = cells_sql(columns, relation_sql())
    execute(con, "ingest_read_parquet", raw_table_sql(raw_table(service), f"{select},\n{FILE_ROW}", source),
            [str(path)])
    return [name for name, _ in columns], mapping


def values_sql(columns: list[tuple[str, str]], wanted: dict[str, str]) -> str:
    """The cells (trimmed text, '' if blank) of the mapped columns `wanted` (field -> header) in every
    row with a cell given, for `insight validate`'s report of values. Bound: $1 the path."""
    cell = {name: f"coalesce(trim({ident(name)}), '')" for name, _ in columns}
    picked = ", ".join(f"{cell[header]} AS {ident(fld)}" for fld, header in wanted.items()) or "1 AS none"
    return (f"SELECT {picked} FROM {cells_sql(columns, relation_sql())} "
            f"WHERE concat({', '.join(cell.values())}) <> ''")


def parquet_values(path: Path, service: Service, fields: list[str]):
    """The mapped `fields` of a Parquet extract, one row per row with a cell given (values trimmed, ''
    if blank), as a pandas frame: read in memory for `insight validate`, never stored."""
    from pipeline.ingest.headers import map_headers

    columns = parquet_columns(path)
    mapping, _ = map_headers(service, [name for name, _ in columns], str(path))
    wanted = {f: mapping[f] for f in fields if f in mapping}
    con = duckdb.connect()
    try:
        frame = execute(con, "validate_parquet_values", values_sql(columns, wanted), [str(path)], fetch="df")
    finally:
        con.close()
    return frame[list(wanted)].astype(object)
