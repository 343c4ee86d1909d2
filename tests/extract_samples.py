"""A small service extract with the corners the ingest rules exist for, written as a CSV and as the
same rows in a Parquet file: a byte-order mark, a title line above the header, empty lines, a
repeated header row, a footer, quoted commas and doubled quotes, a CRLF line, a duplicate row, a
row of empty cells, an unreadable date of birth and a rejected outcome value. Shared by the
DuckDB test (tests/ingest/test_ingest_parquet.py) and the Spark one
(tests/spark/test_spark_same_answer.py), which compare the engines' `ingest_<service>` tables."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb

from tests.helpers import tiny_config

HEADER = ["Ref", "Postcode", "Address Line 1", "DOB", "Quit", "Notes"]
LINES = [
    "Stop smoking extract, December",  # a title line above the header
    ",".join(HEADER),
    'A1,DM4 7QX,"1 High St, Flat 2",01/02/1980,Yes,"say ""hi"""',
    "",
    ",".join(HEADER),  # the header repeated (a second page of a report)
    "A2, dm1 1ab ,2 Low Rd,1990-05-06,no,\r",  # a CRLF line: the \r is its line end
    'A1,DM4 7QX,"1 High St, Flat 2",01/02/1980,Yes,"say ""hi"""',  # a duplicate of row 1
    ",,,,,",
    "A3,DM2 2CD,3 Mid Ln,31/02/2000,maybe,x",  # no such day; an outcome value not allowed
    "A4,DM3 3EF,,2001-07-08,,",
    "",
    "Total records: 5",
]
SERVICE = {"name": "svc", "label": "Svc",
           "columns": {"record_id": "Ref", "postcode": "Postcode", "address_1": "Address Line 1",
                       "date_of_birth": "DOB"},
           "outcomes": [{"name": "quit", "column": "Quit", "label": "Quit", "kind": "binary"}]}


def write_csv(folder: Path, name: str = "extract.csv", lines: list[str] = LINES, bom: bool = True) -> Path:
    path = folder / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\n".join(lines).encode() + b"\n")
    return path


def write_parquet(folder: Path, name: str = "extract.parquet") -> Path:
    """The data rows of the CSV (below its header) as a Parquet file of text columns, in the same
    order; an empty line as a row of NULLs."""
    rows = list(csv.reader(io.StringIO("\n".join(LINES[2:]) + "\n")))
    path = folder / name
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (" + ", ".join(f'"{h}" VARCHAR' for h in HEADER) + ")")
        con.executemany("INSERT INTO t VALUES (" + ", ".join("?" * len(HEADER)) + ")",
                        [(r + [None] * len(HEADER))[:len(HEADER)] for r in rows])
        con.execute(f"COPY t TO '{path.as_posix()}' (FORMAT parquet, ROW_GROUP_SIZE 3)")
    finally:
        con.close()
    return path


def write_typed_parquet(folder: Path, name: str = "typed.parquet", nanoseconds: bool = False) -> Path:
    """A Parquet extract whose columns are not all text: a BIGINT reference, a DATE of birth, a
    TIMESTAMP record date, a BOOLEAN outcome, a DECIMAL and an unmapped DOUBLE (with `nanoseconds`,
    an unmapped TIMESTAMP_NS too, a type Spark 4 does not read)."""
    path = folder / name
    extra = ", TIMESTAMP_NS '2024-01-02 03:04:05.123456789' AS Logged" if nanoseconds else ""
    con = duckdb.connect()
    try:
        con.execute(f"""COPY (SELECT Ref, Postcode, DOB, Seen, Quit, Fee, Score{extra} FROM (VALUES
                (100012345678::BIGINT, 'DM4 7QX', DATE '1980-02-01', TIMESTAMP '2024-01-02 03:04:05', true,
                 12.30::DECIMAL(6, 2), 1.5::DOUBLE),
                (NULL, 'DM1 1AB', NULL, NULL, NULL, NULL, NULL),
                (100012345678::BIGINT, 'DM4 7QX', DATE '1980-02-01', TIMESTAMP '2024-01-02 03:04:05', true,
                 12.30::DECIMAL(6, 2), 1.5::DOUBLE),
                (7::BIGINT, 'dm2 2cd', DATE '2030-01-01', TIMESTAMP '2023-12-31 23:59:59', false,
                 -1.00::DECIMAL(6, 2), 1e20::DOUBLE)) t(Ref, Postcode, DOB, Seen, Quit, Fee, Score))
                TO '{path.as_posix()}' (FORMAT parquet)""")
    finally:
        con.close()
    return path


#: The sample service's mapping for `write_typed_parquet` (ages on the record's own date)
TYPED = {"reference": None, "columns": {"record_id": "Ref", "postcode": "Postcode", "date_of_birth": "DOB",
                                        "date": "Seen", "address_1": "Fee"}}


def config(tmp_path: Path, path: Path, reference: str | None = "2024-06-30", **service):
    """The run config of the sample service reading `path`; the age taken on `reference` (None: on
    the record's own `date` where it maps one, else the run's day)."""
    privacy = {"privacy": {"age_reference_date": reference}} if reference else {}
    return tiny_config(tmp_path, [SERVICE | {"file": str(path)} | service], **privacy)


#: The columns of `ingest_<service>` compared between extracts and engines, in file order; the hash as
#: the first row holding it (equal hashes, duplicates, are what the geocode stage reads from it)
COLUMNS = ("row_number, row_blank, row_kind, record_id, postcode, address_1, date, age_band, outcome_quit, "
           "min(row_number) OVER (PARTITION BY row_hash) AS first_with_hash")
