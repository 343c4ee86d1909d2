"""Loader for Census 2021 tables per Output Area in the Nomis bulk CSV layout.

A Nomis bulk file holds one row per area and the columns

    date, geography, geography code, "<Table>: <Category>; measures: Value", ...

`load_table` returns a DataFrame indexed by the OA code (the ``geography code`` column) whose
columns are the category texts alone: the ``"<Table>: "`` prefix and the ``"; measures: Value"``
suffix are removed, white space is tidied (``"A:B"`` -> ``"A: B"``, runs of spaces -> one space).
Counts become integers; a table of non-integral values (TS006 population density, persons per
square kilometre) stays as floats.

Every problem found (missing file, a file not in the Nomis layout, non-numeric cells) is collected
and raised together in one `CensusError`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import Census
from pipeline.errors import InsightError

log = logging.getLogger(__name__)

#: The area-code column of a Nomis bulk file.
CODE_COLUMN = "geography code"
#: Columns of a Nomis bulk file that are not category values.
ID_COLUMNS = ("date", "geography", "geography code")

_SUFFIX = re.compile(r";\s*measures:\s*Value\s*$", re.IGNORECASE)
_MAX_BAD_CELLS = 10


class CensusError(InsightError):
    """Census tables that cannot be used; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s) with the census tables:", problems)


def clean_text(text: str) -> str:
    """Tidy a category text: one space after each colon, single spaces, no outer spaces."""
    text = re.sub(r"\s*:\s*", ": ", str(text))
    return re.sub(r"\s+", " ", text).strip()


def category_name(column: str) -> str:
    """Category text of a Nomis column header: drop the table prefix and the measures suffix.

    ``"Tenure of household: Social rented: Other social rented; measures: Value"`` ->
    ``"Social rented: Other social rented"``.  A header without a colon is returned tidied.
    """
    text = _SUFFIX.sub("", str(column))
    if ":" in text:
        text = text.split(":", 1)[1]
    return clean_text(text)


def table_key(table: str) -> str:
    return str(table).strip().lower()


def _table_files_present(census_cfg: Census) -> list[str]:
    folder = Path(census_cfg.dir)
    wildcard = census_cfg.pattern.replace("{table}", "*")
    found = sorted(p.name for p in folder.glob(wildcard))
    if not found:
        found = sorted(p.name for p in folder.glob("*.csv"))
    return found


def _missing_file_message(census_cfg: Census, table: str, matches: list[Path]) -> str:
    folder = Path(census_cfg.dir)
    pattern = census_cfg.pattern.format(table=table)
    if not folder.is_dir():
        return (
            f"table {table}: the census folder {folder} does not exist "
            f"(census.dir; looked for {pattern!r} from the pattern {census_cfg.pattern!r})"
        )
    if matches:
        names = ", ".join(p.name for p in matches)
        return (
            f"table {table}: {len(matches)} files in {folder} match {pattern!r} "
            f"(pattern {census_cfg.pattern!r}): {names}; make the pattern match just one"
        )
    present = _table_files_present(census_cfg)
    shown = ", ".join(present) if present else "none"
    return (
        f"table {table}: no file matching {pattern!r} in {folder} "
        f"(census.pattern {census_cfg.pattern!r}); table files there: {shown}"
    )


def table_missing(census_cfg: Census, table: str) -> bool:
    """True when no file in an existing census folder matches the table's pattern (as opposed
    to a missing folder or a pattern matching several files)."""
    folder = Path(census_cfg.dir)
    return folder.is_dir() and not list(folder.glob(census_cfg.pattern.format(table=table_key(table))))


def missing_tables_message(census_cfg: Census, needed_by: dict[str, list[tuple[str, str]]],
                           dropped: list[str] | tuple[str, ...] = ()) -> str:
    """One problem for every table with no file: the tables, the folder's files (listed once),
    the variables that need them and a ready ``drop: [...]`` line (with the ids already dropped)
    that leaves them out.  `needed_by`: table -> [(variable id, name)] of the variables using it."""
    folder = Path(census_cfg.dir)
    tables = list(needed_by)
    present = _table_files_present(census_cfg)
    shown = ", ".join(present) if present else "none"
    looked = ", ".join(repr(census_cfg.pattern.format(table=t)) for t in tables)
    variables = list(dict.fromkeys(v for t in tables for v in needed_by[t]))
    listed = "; ".join(f"{v} ({name})" for v, name in variables)
    ids = list(dict.fromkeys([*dropped, *(v for v, _ in variables)]))
    s = "" if len(tables) == 1 else "s"
    return (f"census table{s} {', '.join(tables)} not found: no file in {folder} matches "
            f"census.pattern {census_cfg.pattern!r} for {'it' if len(tables) == 1 else 'them'} "
            f"(looked for {looked}); the census table files there: {shown}. "
            f"{len(variables)} variable{'' if len(variables) == 1 else 's'} of the spec need "
            f"{'it' if len(tables) == 1 else 'them'}: {listed}. Fix: add the Nomis bulk "
            f"CSV{s} of {', '.join(tables)} to {folder}, or leave those variables out with this "
            f"line in the segmentation: block of the config:\n    drop: [{', '.join(ids)}]")


def find_table_file(census_cfg: Census, table: str) -> Path:
    """The one file holding `table`: the glob ``census_cfg.dir / census_cfg.pattern``.

    Raises CensusError naming the table, folder and pattern, and listing the files that are
    there, when no file (or more than one) matches.
    """
    table = table_key(table)
    path, problem = _find(census_cfg, table)
    if problem:
        raise CensusError([problem])
    return path


def _find(census_cfg: Census, table: str) -> tuple[Path | None, str | None]:
    folder = Path(census_cfg.dir)
    pattern = census_cfg.pattern.format(table=table)
    matches = sorted(folder.glob(pattern)) if folder.is_dir() else []
    if len(matches) == 1:
        return matches[0], None
    return None, _missing_file_message(census_cfg, table, matches)


def _read(path: Path, table: str) -> tuple[pd.DataFrame | None, list[str]]:
    """Read and check one Nomis bulk file; return (frame or None, problems).

    Columns are parsed as numbers by the CSV reader; only a column it leaves as text (a blank, a
    word, a thousands comma) is read again as text and checked cell by cell, so a national table
    of 188,880 clean rows costs one parse."""
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        ids = {c: str for c in header if str(c).strip() in ID_COLUMNS}  # codes stay text
        parsed = pd.read_csv(path, dtype=ids, na_filter=False, encoding="utf-8-sig", low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        return None, [f"table {table}: {path} cannot be read as CSV: {exc}"]
    columns = [str(c).strip() for c in parsed.columns]
    parsed.columns = columns
    if CODE_COLUMN not in columns:
        shown = ", ".join(repr(c) for c in columns[:12]) + (" ..." if len(columns) > 12 else "")
        return None, [
            f"table {table}: {path} is not in the Nomis bulk layout: it has no "
            f"{CODE_COLUMN!r} column (columns found: {shown})"
        ]
    value_cols = [c for c in columns if c not in ID_COLUMNS]
    if not value_cols:
        return None, [f"table {table}: {path} has no value columns besides {list(ID_COLUMNS)}"]
    problems: list[str] = []
    names = [category_name(c) for c in value_cols]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        problems.append(f"table {table}: {path} repeats the categories {dups}")
    codes = parsed[CODE_COLUMN].str.strip()
    dup_codes = codes[codes.duplicated()].unique().tolist()
    if dup_codes:
        problems.append(
            f"table {table}: {path} repeats the area codes {dup_codes[:10]}"
            + (" ..." if len(dup_codes) > 10 else "")
        )
    text: pd.DataFrame | None = None  # the file as text, read only if a column needs checking
    bad: list[str] = []
    values = {}
    for col, name in zip(value_cols, names, strict=True):
        num = parsed[col]
        if not _plain_numbers(num):
            if text is None:
                text = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
                text.columns = columns
            raw = text[col]
            num = pd.to_numeric(raw.str.strip().str.replace(",", "", regex=False), errors="coerce")
            for i in np.flatnonzero(num.isna().to_numpy()):
                # Row numbers count the header as line 1, as a spreadsheet would show them.
                bad.append(f"row {i + 2}, column {col!r}: {raw.iloc[i]!r}")
        values[name] = num
    if bad:
        more = f" ... and {len(bad) - _MAX_BAD_CELLS} more" if len(bad) > _MAX_BAD_CELLS else ""
        problems.append(
            f"table {table}: {path} has {len(bad)} non-numeric value(s): "
            + "; ".join(bad[:_MAX_BAD_CELLS])
            + more
        )
    if problems:
        return None, problems
    frame = pd.DataFrame(values)
    frame.index = pd.Index(codes.to_numpy(), name="oa21cd")
    for name in frame.columns:
        col = frame[name].to_numpy(dtype=float)
        if np.all(np.isfinite(col)) and np.all(col == np.round(col)):
            frame[name] = col.astype(np.int64)
    return frame, []


def _plain_numbers(column: pd.Series) -> bool:
    """Parsed by the CSV reader as integers, or as finite floats (no 'nan' or 'inf' text)."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return True
    return pd.api.types.is_float_dtype(column.dtype) and bool(np.isfinite(column.to_numpy()).all())


def load_with_problems(census_cfg: Census, table: str) -> tuple[pd.DataFrame | None, list[str]]:
    table = table_key(table)
    path, problem = _find(census_cfg, table)
    if problem:
        return None, [problem]
    frame, problems = _read(path, table)
    if frame is not None:
        log.debug("census table %s: %d areas x %d categories from %s", table, *frame.shape, path)
    return frame, problems


def load_table(census_cfg: Census, table: str) -> pd.DataFrame:
    """One census table: DataFrame indexed by OA code (``oa21cd``), one column per category.

    Columns are the category texts (see `category_name`); values are integers (floats for a
    table of non-integral values such as population density).  Raises CensusError.
    """
    frame, problems = load_with_problems(census_cfg, table)
    if problems:
        raise CensusError(problems)
    return frame


#: The census table of residents by residence type, and its categories (TS001).
RESIDENCE_TABLE = "ts001"
COMMUNAL, RESIDENTS = "Lives in a communal establishment", "Total"


def communal_share(census_cfg: Census) -> pd.Series:
    """Percentage of each OA's usual residents living in a communal establishment (halls of
    residence, boarding schools, care homes, prisons, barracks), from TS001."""
    frame = load_table(census_cfg, RESIDENCE_TABLE)
    missing = [c for c in (COMMUNAL, RESIDENTS) if c not in frame.columns]
    if missing:
        raise CensusError([f"table {RESIDENCE_TABLE} has no column(s) {missing}; found "
                           f"{list(frame.columns)}"])
    total = frame[RESIDENTS].astype(float).replace(0.0, np.nan)
    return (100 * frame[COMMUNAL].astype(float) / total).fillna(0.0).rename("communal_pct")


def households(census_cfg: Census) -> pd.Series:
    """Households per OA from the households table (TS041: one value column)."""
    table = table_key(census_cfg.households_table)
    frame = load_table(census_cfg, table)
    if frame.shape[1] != 1:
        raise CensusError(
            [
                f"table {table} (census.households_table) should have one value column "
                f"(the number of households) but has {frame.shape[1]}: {list(frame.columns)}"
            ]
        )
    series = frame.iloc[:, 0].rename("households")
    return series
