"""Storing an extract: the scratch tables it is read into, the projection that keeps only its mapped
columns (each row's blank flag, kind and hash over all its cells, a date of birth as its age band),
the rows numbered around the blank lines into `ingest_<service>`, and the dates of birth counted
by status as they are read (`dob_counts`, reported by `dob_lines`)."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import DATE_OF_BIRTH, STANDARD_FIELDS, Service
from pipeline.dates import FORMATS as DATE_FORMATS
from pipeline.ingest.errors import IngestError
from pipeline.ingest.headers import map_headers, option_column, outcome_column
from pipeline.ingest.rows import row_kind_sql
from pipeline.privacy import DOB_STATUSES, AgeRule
from pipeline.warehouse import SCRATCH, count_sql, describe_sql, drop_scratch, drop_sql, execute, ident


def raw_table(service: Service) -> str:
    """The scratch table of an extract's mapped fields as read, before numbering (dropped by `store_rows`)."""
    return f"{SCRATCH}raw_{service.name}"


def blank_table(service: Service) -> str:
    """The scratch table of an extract's blank lines (dropped by `store_rows`)."""
    return f"{SCRATCH}blank_{service.name}"


def raw_table_sql(table: str, select: str, source: str, insert: bool = False) -> str:
    """Read `source` (a read_csv() call or a registered frame) into `table` through the SELECT list of
    `projection`, or append to it when `insert`."""
    into = f"INSERT INTO {ident(table)}" if insert else f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS"
    return f"{into} SELECT {select} FROM {source}"


def empty_raw_sql(table: str, select: str, headers: list[str]) -> str:
    """An empty `table` with the columns `projection` gives (an extract with no data rows)."""
    empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {ident(h)}" for h in headers)
    return f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS SELECT {select} FROM (SELECT {empty}) WHERE false"


def _numbering(con, service: Service, blanks: list[int]) -> tuple[str, str]:
    """(FROM clause, row_number expression) numbering `raw_<service>`'s rows in file order, leaving
    the numbers of the blank lines free: a row with r rows before it in the scratch table gets
    r + 1 + (blank lines before it), found by an ASOF join on r >= (non-blank rows before a blank)."""
    raw = ident(raw_table(service))
    if not blanks:
        return raw, "rowid + 1"
    execute(con, "ingest_blank_lines", blank_lines_sql(blank_table(service)), [blanks])
    return (numbered_source_sql(raw_table(service), blank_table(service)),
            "__raw_id + 1 + coalesce(__blank_j, 0)")


def blank_lines_sql(table: str) -> str:
    """`table` of the blank lines (the bound list $1 of their row numbers), each with the non-blank
    rows before it (__blank_k) and the blank lines up to it (__blank_j)."""
    return f"""CREATE OR REPLACE TEMP TABLE {ident(table)} AS
            SELECT row_number AS __blank_row,
                   row_number - row_number() OVER (ORDER BY row_number) AS __blank_k,
                   row_number() OVER (ORDER BY row_number) AS __blank_j
            FROM (SELECT unnest($1::BIGINT[]) AS row_number)"""


def numbered_source_sql(raw: str, blank: str) -> str:
    """The FROM clause numbering `raw` around the blank lines of `blank` (see `_numbering`)."""
    steps = f"(SELECT __blank_k, max(__blank_j) AS __blank_j FROM {ident(blank)} GROUP BY ALL)"
    return f"(SELECT rowid AS __raw_id, * FROM {ident(raw)}) ASOF LEFT JOIN {steps} ON __raw_id >= __blank_k"


_quoted = ident


def projection(service: Service, headers: list[str], path: Path,
               age: AgeRule) -> tuple[str, dict[str, str]]:
    """(SELECT list, field -> header) reading only the mapped columns of a relation with columns
    `headers`: the row's blank flag, kind and hash over all its cells, then each mapped field,
    trimmed, a date of birth as its age band (and whether one was given). Every other cell is
    dropped here, as the row is read. Raises IngestError when a mapped column is missing."""
    mapping, problems = map_headers(service, headers, str(path))
    if problems:
        raise IngestError(problems)
    q = _quoted
    cells = ", ".join(f"coalesce(trim({q(h)}), '')" for h in headers)
    select = [f"concat({cells}) = '' AS __row_blank",
              f"{row_kind_sql(headers)} AS __row_kind",  # a repeated header, a footer or banner
              f"md5_number(concat_ws('\x1f', {cells})) AS __row_hash"]  # 128-bit, as a number
    for fld, header in mapping.items():
        if fld == DATE_OF_BIRTH:
            day = q(mapping["date"]) if "date" in mapping else None
            select += [f"{age.sql(q(header), day)} AS age_band",
                       f"{age.status_sql(q(header), day)} AS __dob_status"]
        else:
            select.append(f"nullif(trim({q(header)}), '') AS {fld}")
    return ",\n".join(select), mapping


def dob_counts_sql(table: str) -> str:
    """The dates of birth given in `table` (its `__dob_status`), by status."""
    return f"SELECT __dob_status, count(*) FROM {ident(table)} WHERE __dob_status IS NOT NULL GROUP BY 1"


def dob_counts(con, service: Service, table: str | None = None) -> dict[str, int] | None:
    """Dates of birth given in `raw_<service>` (or `table`) by status (`privacy.DOB_STATUSES`), with
    'given' their total; None when the service maps none."""
    if DATE_OF_BIRTH not in service.columns:
        return None
    rows = execute(con, "ingest_dob_status", dob_counts_sql(table or raw_table(service)), fetch="all")
    counts = {st: 0 for st in DOB_STATUSES} | {st: int(n) for st, n in rows}
    return counts | {"given": sum(counts.values())}


#: The date rule's forms in words, for messages: 'dd/mm/yyyy, yyyy-mm-dd, ...' (`pipeline.dates.FORMATS`)
DATE_FORMATS_SHOWN = ", ".join(dict.fromkeys(
    f.split(" ")[0].split("T")[0].replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy")
    for f in DATE_FORMATS)) + " (a time of day may follow)"


def dob_lines(where: str, service: Service, counts: dict[str, int] | None, age: AgeRule) -> list[str]:
    """The dates of birth that give no age band, by reason, in one line (none when every date given
    gives one); 'WARNING:' first when they pass the service's `equality.incomplete_share`."""
    if not counts or counts["given"] == counts["ok"]:
        return []
    given, bad = counts["given"], counts["given"] - counts["ok"]
    why = [f"{counts['unreadable']:,} cannot be read as a date (allowed: {DATE_FORMATS_SHOWN})"
           if counts["unreadable"] else "",
           f"{counts['future']:,} fall after the day the age is taken on" if counts["future"] else "",
           f"{counts['too_old']:,} give an age over {age.max_age} (privacy.max_age)"
           if counts["too_old"] else ""]
    share = bad / given
    limit = service.equality.incomplete_share
    warn = "WARNING: " if share > limit else ""
    over = f", more than the {limit:.0%} of equality.incomplete_share" if warn else ""
    return [f"{warn}{where} date_of_birth (column {service.columns[DATE_OF_BIRTH]!r}): of {given:,} dates of "
            f"birth given, {'; '.join(w for w in why if w)}: {bad:,} ({share:.1%}{over}) have no age band "
            "and are counted as missing in the age profile. Fix: correct them in the extract (day first), or "
            "set privacy.max_age if such ages are real"]


def view_fields(service: Service, stored: set[str]) -> tuple[str, str]:
    """(mapped, unmapped): the SELECT list of the fields `ingest_<service>` gives after its row number,
    flags and hash, in the order every engine gives them: the standard fields, options and outcomes
    that are `stored` (read from the extract), then each other one as NULL text."""
    fields = [f for f in STANDARD_FIELDS] + [option_column(o) for o in service.options]
    fields += [outcome_column(o.name) for o in service.outcomes]
    mapped = ",\n".join(f for f in fields if f in stored)
    unmapped = "".join(f", CAST(NULL AS VARCHAR) AS {f}" for f in fields if f not in stored)
    return mapped, unmapped


def store_rows(con, service: Service, path: Path, headers: list[str], blanks: list[int],
               number: str = "rowid + 1") -> int:
    """Number the scratch table `raw_<service>` (already only the mapped fields: `projection`) into
    `ingest_<service>` (blank lines added back as blank rows); return the rows read. `number`: the
    row number of a scratch row with no blank lines to leave room for (its place as read, or a
    Parquet file's own row number)."""
    stored = {r[0] for r in execute(con, "ingest_raw_columns", describe_sql(ident(raw_table(service))),
                                    fetch="all")}
    mapped, unmapped = view_fields(service, stored)
    table = f"ingest_{service.name}"
    source, number = _numbering(con, service, blanks)
    # The rows are read in file order into a scratch table (insertion order is preserved), whose rowid
    # then numbers them: unlike row_number() OVER (), this keeps both steps parallel. Only the mapped
    # fields are stored; the view `ingest_<service>` gives every standard field, NULL where unmapped.
    blank = blank_table(service) if blanks else None
    if blank is None:  # no blank lines: the scratch table's rowid + 1 is the row number, so its rows
        # are kept where they were read (renamed), not copied, and the view numbers and names them
        execute(con, "ingest_drop_kept", drop_sql(f"mapped_{table}"))
        execute(con, "ingest_kept", rename_sql(raw_table(service), f"mapped_{table}"))
        execute(con, "ingest_view", kept_view_sql(table, f"mapped_{table}", mapped, unmapped, number))
    else:
        execute(con, "ingest_numbered",
                numbered_sql(f"mapped_{table}", number, mapped, source, blank, len(headers)))
        execute(con, "ingest_view", ingest_view_sql(table, f"mapped_{table}", unmapped))
    drop_scratch(con, raw_table(service), blank_table(service))
    return execute(con, "ingest_rows", count_sql(table), fetch="value")


def numbered_sql(table: str, number: str, mapped: str, source: str, blank: str | None, width: int) -> str:
    """`table`: the rows of `source` numbered by `number` (`_numbering`) with the flags and the mapped
    fields (`mapped`, standard field names), and the blank lines of `blank` added back as blank rows
    (an empty line hashes as a row of `width` empty cells); kept in row order."""
    select = f"""SELECT {number} AS row_number, __row_blank AS row_blank, __row_kind AS row_kind,
                        __row_hash AS row_hash,
                        {mapped}
                 FROM {source}"""
    if blank:
        select = (f"""{select} UNION ALL BY NAME
                      SELECT __blank_row AS row_number, true AS row_blank,
                             md5_number(repeat(chr(31), {int(width) - 1})) AS row_hash
                      FROM {ident(blank)} ORDER BY row_number""")
    return f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS {select}"


def rename_sql(table: str, new: str) -> str:
    """Rename the temporary table `table` to `new`."""
    return f"ALTER TABLE {ident(table)} RENAME TO {ident(new)}"


def kept_view_sql(view: str, table: str, mapped: str, unmapped: str, number: str = "rowid + 1") -> str:
    """The view `ingest_<service>` over the scratch table as read (`table`, renamed): each row
    numbered by `number` (its rowid, file order: `store_rows`; a Parquet file's own row number), its
    flags, the mapped fields (`mapped`) and every other standard field NULL (`unmapped`), as
    `numbered_sql` and `ingest_view_sql` give them."""
    return f"""CREATE OR REPLACE TEMP VIEW {ident(view)} AS
               SELECT {number} AS row_number, __row_blank AS row_blank, __row_kind AS row_kind,
                      __row_hash AS row_hash,
                      {mapped}{unmapped}
               FROM {ident(table)}"""


def ingest_view_sql(view: str, table: str, unmapped: str) -> str:
    """The view `ingest_<service>`: every standard field, NULL (`unmapped`) where the service maps none."""
    return f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS SELECT *{unmapped} FROM {ident(table)}"
