"""The ingest stage on Spark (`engine: spark`): CSV and Parquet extracts read by Spark itself, where
the rows are, never through the driver, into the same `ingest_<service>` as on DuckDB.

What the driver reads is what `insight validate` reads anyway: the first lines of a CSV (its header
line and delimiter, `pipeline.ingest.headers.sniff_csv`, and its header record) or a Parquet file's
footer (its columns and types). The rules are the DuckDB path's own: the header mapped by
`map_headers`, the cells through `pipeline.ingest.store.projection` (blank flag, row kind, the hash
over all cells, a date of birth as its age band, only mapped columns kept), transpiled to Spark SQL;
the age rule's macros are per-engine functions (`pipeline.spark.functions.register_ages`).

**Row numbers are DuckDB's.** A Parquet row's number is Spark's `_metadata.row_index` + 1, the
file's row order, as DuckDB's `file_row_number` + 1. A CSV is read as lines (`spark.read.text`,
which splits at LF, CRLF or CR as DuckDB and Python's csv module do), each numbered by its place in
the file: within each block Spark reads (`_metadata.file_block_start`) by
`monotonically_increasing_id()` less the block's first id, plus the lines of the blocks before it
(a count per block and a running sum over blocks: one small aggregate, joined back). The line of a
record is its row, an empty line a blank row, as a reader counts them (`pipeline.ingest`), as long
as no quoted field spans lines. Each line is parsed with `from_csv` (`"` quotes, doubled to escape).

**What Spark does not read, DuckDB does.** A record whose quoted field spans lines (or any quote
that does not open and close a whole field), a line with more fields than the header, or a byte
that is not UTF-8 is counted first (one aggregate over the lines; never shown); the service is
then ingested on DuckDB on the driver, as on `engine: duckdb`, and handed to Spark as Parquet,
with an info line in the log. So are an .xlsx, a file with a UTF-16/32 byte-order mark, a
declared encoding other than UTF-8 and a Parquet file with a column type Spark 4 does not read.
The answer, and every error, is then DuckDB's own.

The counts the stage reports (rows, dates of birth by status, outcome values) come back as
aggregates through Parquet in the run's private folder; the rows stay in `data/<run>/spark/`.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from pipeline import ingest
from pipeline.config import DATE_OF_BIRTH, Service
from pipeline.ingest import IngestError, IngestResult
from pipeline.ingest.csvfile import header_cells
from pipeline.ingest.encoding import bom_encoding, is_utf8
from pipeline.ingest.filekind import check_path, is_parquet
from pipeline.ingest.headers import header_names, repeated_headers, sniff_csv
from pipeline.ingest.parquetfile import FILE_ROW, cells_sql, check_columns, parquet_columns, readable_type
from pipeline.ingest.store import projection, view_fields
from pipeline.ingest.values import outcome_values_of, outcome_values_sql
from pipeline.privacy import DOB_STATUSES, AgeRule
from pipeline.spark import functions
from pipeline.spark.stages import read_back_sql
from pipeline.warehouse import execute, ident

logger = logging.getLogger(__name__)

#: The columns of the ingest dataset beside `ingest_<service>`'s: the date of birth's status, and
#: whether the line had any text
_BESIDE = ("__dob_status", "__filled")
#: A quoted field: `"` at the start of the line or after the delimiter, any text with `""` for a `"`,
#: `"` before the delimiter or the end (unrolled, and possessive, so no backtracking on long lines)
_QUOTED = '(^|{d})"[^"]*+(?:""[^"]*+)*+"(?={d}|$)'


#: Parquet types Spark reads, beyond those every engine reads as the same text (`readable_type`); a
#: file with a column of another type (nanosecond timestamps, times of day, intervals) is read by
#: DuckDB and handed over
_SPARK_READS = re.compile(r"FLOAT|DOUBLE|BLOB|TIMESTAMP WITH TIME ZONE|(STRUCT|MAP)\(.*|.*\[\]")
#: A Parquet row has no line: it is filled, and Spark reads it as DuckDB does
_PARQUET_BESIDE = ", TRUE AS __filled"


class DriverRead(Exception):
    """This extract is read on DuckDB on the driver (the reason, for the log)."""


# --- Spark SQL of the reading (Spark's dialect: how Spark reads lines; the rules are transpiled) ----


def spark_text(text: str) -> str:
    """A Spark SQL string literal of `text` (backslashes and quotes escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def numbered_lines_sql(view: str) -> str:
    """Each line of `view` (value, block: the start of the block Spark read it in) with its 1-based
    line number in the file: its place in the block (monotonically_increasing_id less the block's
    first, as a block is read in order within one partition) plus the lines of the blocks before."""
    return f"""WITH lines AS (SELECT value, block, monotonically_increasing_id() AS id FROM {view}),
               blocks AS (SELECT block, min(id) AS first_id, count(*) AS n FROM lines GROUP BY block),
               offsets AS (SELECT block, first_id, sum(n) OVER (ORDER BY block) - n AS before FROM blocks)
               SELECT l.value, l.id - o.first_id + o.before + 1 AS line
               FROM lines l JOIN offsets o ON l.block = o.block"""


def csv_cells_sql(view: str, header_line: int, headers: list[str], delim: str) -> str:
    """The data lines of `view` (below the 1-based `header_line`) parsed by from_csv into the header's
    columns, each with its row number (`__row`), whether it has any text (`__filled`) and why Spark
    cannot read it as DuckDB would (`__suspect`: 'not_utf8', 'quotes' or 'too_wide'; else NULL)."""
    width = len(headers)
    schema = ", ".join(f"c{i} STRING" for i in range(width))
    options = (f"map('sep', {spark_text(delim)}, 'quote', '\"', 'escape', '\"', 'mode', 'PERMISSIVE', "
               f"'ignoreLeadingWhiteSpace', 'false', 'ignoreTrailingWhiteSpace', 'false')")
    d = re.escape(delim)
    bare = f"regexp_replace(value, {spark_text(_QUOTED.format(d=d))}, '$1')"
    columns = ", ".join(f"r.c{i} AS `{h.replace('`', '``')}`" for i, h in enumerate(headers))
    return f"""SELECT __row, __filled, __suspect, {columns}
               FROM (SELECT line - {int(header_line)} AS __row, value <> '' AS __filled,
                            CASE WHEN instr(value, '\ufffd') > 0 THEN 'not_utf8'
                                 WHEN instr(bare, '"') > 0 THEN 'quotes'
                                 WHEN length(bare) - length(replace(bare, {spark_text(delim)}, '')) >= {width}
                                 THEN 'too_wide' END AS __suspect,
                            from_csv(value, {spark_text(schema)}, {options}) AS r
                     FROM (SELECT *, CASE WHEN instr(value, '"') > 0 THEN {bare} ELSE value END AS bare
                           FROM {view} WHERE line > {int(header_line)}))"""


# --- the SQL of the rules (DuckDB's dialect, transpiled) -------------------------------------------


def projected_sql(select: str, source: str, row: str, beside: str) -> str:
    """`projection`'s SELECT list over `source`, with the row number `row` and the columns `beside`."""
    return f"SELECT {select},\n{row} AS __row{beside} FROM {source}"


def dataset_sql(source: str, mapped: str, unmapped: str, beside: list[str]) -> str:
    """The rows of `ingest_<service>` in its columns and order (`view_fields`), and `beside`."""
    extra = "".join(f", {c}" for c in beside)
    return f"""SELECT __row AS row_number, __row_blank AS row_blank, __row_kind AS row_kind,
                      __row_hash AS row_hash{', ' + mapped if mapped else ''}{unmapped}{extra}
               FROM {ident(source)}"""


def suspect_sql(table: str) -> str:
    """The lines Spark cannot read as DuckDB does, counted by why (`csv_cells_sql`'s `__suspect`)."""
    return f"SELECT __suspect, count(*) AS n FROM {ident(table)} WHERE __suspect IS NOT NULL GROUP BY ALL"


def tally_sql(table: str, dob: bool) -> str:
    """Rows by whether the line had text and (`dob`) the status of the date of birth (`__dob_status`,
    `pipeline.privacy.AgeRule`): one aggregate."""
    status = "__dob_status" if dob else "CAST(NULL AS VARCHAR) AS __dob_status"
    return f"SELECT __filled, {status}, count(*) AS n FROM {ident(table)} GROUP BY ALL"


# --- the stage ------------------------------------------------------------------------------------


def _driver_reason(path: Path, service: Service) -> str | None:
    """Why this extract is read on DuckDB on the driver before Spark looks at it, or None."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "an .xlsx workbook"
    if is_parquet(path):
        return None
    if service.encoding and not is_utf8(service.encoding):
        return f"encoding: {service.encoding}"
    if bom := bom_encoding(path):
        return f"a {bom.upper()} file"
    return None


def _header_line_problem(path: Path, header: int, delim: str) -> bool:
    """Whether the header line's quotes open and close whole fields on the line (else the header record
    spans lines, or is broken: DuckDB's reading and errors apply)."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for _ in range(header):
            fh.readline()
        line = fh.readline().rstrip("\r\n")
    return '"' in re.sub(_QUOTED.format(d=re.escape(delim)), r"\1", line)


class SparkIngest:
    """The ingest of one run on Spark: `side` is the run's `pipeline.spark.stages.SparkRun`."""

    def __init__(self, side):
        self.side = side
        self.spark, self.con, self.cfg = side.spark, side.con, side.cfg

    def run(self) -> dict[str, IngestResult]:
        """Every service, as `pipeline.ingest.run` (the problems of all of them before raising)."""
        registered = []

        def read(service: Service, age: AgeRule) -> IngestResult:
            if not registered:
                functions.register_ages(self.spark, age)
                registered.append(age)
            return self.service(service, age)

        return ingest.run(self.con, self.cfg, read)

    def service(self, service: Service, age: AgeRule) -> IngestResult:
        """One extract: read by Spark, or (`DriverRead`) on DuckDB and handed over."""
        path = Path(service.file)
        try:
            try:
                check_path(path, service)
                why = _driver_reason(path, service)
                if why is None:
                    return self._parquet(service, path, age) if is_parquet(path) else \
                        self._csv(service, path, age)
            except OSError as exc:
                raise ingest.unreadable(path, exc) from None
        except DriverRead as reason:
            why = str(reason)
        logger.info("%s: %s, so it is ingested on DuckDB on the driver and handed to Spark", path.name, why)
        result = ingest.ingest_service(self.con, self.cfg, service, age)
        self.side.hand_over(f"ingest_{service.name}", hash_text=True)
        return result

    def _spark_sql(self, name: str, text: str, view: str) -> None:
        """Run Spark SQL `text` (Spark's own dialect: how Spark reads) as the temporary view `view`,
        written to the run's sql.log as `spark_<name>`."""
        from pipeline.executor import trace

        start = time.perf_counter()
        self.spark.sql(text).createOrReplaceTempView(view)
        trace(f"spark_{name}", text, None, time.perf_counter() - start)

    def _csv(self, service: Service, path: Path, age: AgeRule) -> IngestResult:
        header, delim = sniff_csv(path, service)
        try:
            cells = header_cells(path, header, delim)
        except UnicodeDecodeError:
            raise DriverRead("it is not UTF-8 (a byte near its header)") from None
        if _header_line_problem(path, header, delim):
            raise DriverRead("its header record's quotes span lines")
        if repeated := repeated_headers(service, cells, str(path)):
            raise IngestError(repeated)
        headers = header_names(cells)
        select, mapping = projection(service, headers, path, age)
        name = service.name
        text = self.spark.read.text(path.as_posix())
        text = text.selectExpr("value", "_metadata.file_block_start AS block")  # the block read it in
        text.createOrReplaceTempView(f"scratch_text_{name}")
        self._spark_sql("ingest_lines", numbered_lines_sql(f"scratch_text_{name}"), f"scratch_lines_{name}")
        self._spark_sql("ingest_cells", csv_cells_sql(f"scratch_lines_{name}", header + 1, headers, delim),
                        f"scratch_cells_{name}")
        self._check_lines(name)
        source = projected_sql(select, f"scratch_cells_{name}", "__row", ", __filled")
        encoding = service.encoding or "utf-8"
        return self._store(service, path, age, source, headers, mapping, encoding)

    def _check_lines(self, name: str) -> None:
        """Raise DriverRead when Spark finds lines it cannot read as DuckDB does: one aggregate over
        the lines (nothing shown, nothing written but the counts), before the rows are projected."""
        found = self.side.dataset(f"lines_{name}")
        counted = self.side.query("ingest_suspect_lines", suspect_sql(f"scratch_cells_{name}"))
        self.side.write(counted, found.name)
        suspect = dict(execute(self.con, "spark_ingest_suspect_lines", read_back_sql(found), fetch="all"))
        if suspect:
            shown = ", ".join(f"{n:,} line(s) {_WHY[why]}" for why, n in sorted(suspect.items()))
            raise DriverRead(f"Spark found {shown}")

    def _parquet(self, service: Service, path: Path, age: AgeRule) -> IngestResult:
        columns = parquet_columns(path)
        select, mapping = check_columns(path, service, columns, age)
        if odd := [kind for _, kind in columns if not (readable_type(kind) or _SPARK_READS.fullmatch(kind))]:
            raise DriverRead(f"Spark 4 does not read its column type(s) {sorted(set(odd))}")
        name = service.name
        # each row's 0-based place in the file as `file_row_number` (DuckDB's name for it)
        self.spark.read.parquet(path.as_posix()).selectExpr("*", "_metadata.row_index AS file_row_number") \
            .createOrReplaceTempView(f"scratch_rows_{name}")
        cells = cells_sql(columns, f"scratch_rows_{name}")
        source = projected_sql(select, cells, f"{FILE_ROW} + 1", _PARQUET_BESIDE)
        return self._store(service, path, age, source, [n for n, _ in columns], mapping, "parquet")

    def _store(self, service: Service, path: Path, age: AgeRule, source: str, headers: list[str],
               mapping: dict[str, str], encoding: str) -> IngestResult:
        """The projected rows (`source`, DuckDB SQL) written as the dataset `ingest_<service>`; the
        counts the stage reports, as aggregates; the view `ingest_<service>` for the geocode."""
        name, side = service.name, self.side
        dob = DATE_OF_BIRTH in mapping
        self.side.query("ingest_projection", source).createOrReplaceTempView(f"scratch_projected_{name}")
        stored = {"age_band", "__dob_status"} if dob else set()
        stored |= {f for f in mapping if f != DATE_OF_BIRTH}
        mapped, unmapped = view_fields(service, stored)
        beside = ["__dob_status"] if dob else []
        rows = side.query("ingest_rows", dataset_sql(f"scratch_projected_{name}", mapped, unmapped,
                                                     beside + ["__filled"]))
        written = side.write(rows, f"ingest_{name}")
        written.createOrReplaceTempView(f"scratch_ingest_{name}")
        tally = side.dataset(f"tally_{name}")
        side.write(side.query("ingest_tally", tally_sql(f"scratch_ingest_{name}", dob)), tally.name)
        counts = execute(self.con, "spark_ingest_tally", read_back_sql(tally), fetch="all")
        total = sum(n for *_, n in counts)
        filled = sum(n for f, *_, n in counts if f)
        rows_read = total if filled else 0  # nothing but empty lines below the header: no data rows
        ingest.check_rows(path, rows_read)
        written.drop(*_BESIDE).createOrReplaceTempView(f"ingest_{name}")
        dob_by = None
        if dob:  # as `pipeline.ingest.store.dob_counts`: the dates given, by status
            dob_by = dict.fromkeys(DOB_STATUSES, 0)
            for *_, status, n in counts:
                if status is not None:
                    dob_by[status] += int(n)
            dob_by |= {"given": sum(dob_by.values())}
        values = {}
        if service.outcomes:
            found = side.dataset(f"values_{name}")
            outcomes = list(service.outcomes)
            counted = side.query("outcome_values", outcome_values_sql(f"ingest_{name}", outcomes))
            side.write(counted, found.name)
            got = execute(self.con, "spark_outcome_values",
                          read_back_sql(found, " ORDER BY outcome, st, n DESC, raw"), fetch="all")
            values = outcome_values_of(got, outcomes)
        return ingest.ingest_result(service, path, encoding, rows_read, headers, mapping, dob_by, values, [],
                                    age, where=" on Spark")


#: Why Spark leaves an extract to DuckDB, in words (`csv_cells_sql`'s `__suspect`)
_WHY = {"not_utf8": "not UTF-8", "quotes": "with a quoted field spanning lines or a stray quote",
        "too_wide": "with more fields than the header"}


def run(side) -> dict[str, IngestResult]:
    """The ingest stage on Spark for the run's Spark side (`pipeline.spark.stages.SparkRun`)."""
    return SparkIngest(side).run()
