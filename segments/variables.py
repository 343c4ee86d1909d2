"""Classification variables as data: a spec CSV turns census tables into per-OA percentages.

A spec has one row per variable, with the columns

=================  ==========================================================================
variable           short id (``v01``, ``c12``); unique
name               readable name (used in segment descriptions)
table              census table id (``ts054``); the file comes from the run config's census block
numerator          category texts to add up, separated by ``|``
                   (``"Owned|Shared ownership"``); the Nomis text after ``"<Table>: "``;
                   a whole Nomis header is accepted too
denominator        category text(s) (``|``-separated) or ``Total`` (the table's total column,
                   ``Total`` or ``Total: All households`` ...); optional for ``transform=value``
denominator_table  optional: the table holding the denominator (default: ``table``)
transform          optional: ``percent`` (default), ``ratio`` or ``value``
scale              optional multiplier applied last (default 1)
weight             optional weight applied after standardisation in the build (default 1)
short_label        the words a segment name uses for the variable's high side ("lone parents",
                   "in caravans", "with no garden"); required for a variable that
                   ``spec/descriptors.csv`` does not describe (`segments.naming`)
low_label          optional: the words for the low side
domain             optional: life_stage, household, housing, work, place, diversity (restricted)
                   or other (default)
=================  ==========================================================================

Other columns (``source``, ``notes``) are kept for documentation; ``short_label``, ``low_label`` and
``domain`` are read by `segments.naming.vocabulary`.  For each OA ``i``:

    percent:  x_i = 100 * sum(numerator_i) / sum(denominator_i) * scale
    ratio:    x_i = sum(numerator_i) / sum(denominator_i) * scale
    value:    x_i = sum(numerator_i) * scale        (e.g. population density, unscaled)

A zero denominator gives NaN (with a warning).  Category texts match after tidying white space
and ignoring case.

`DEFAULT_SPEC` (``spec/oac2021_variables.csv``) reproduces the 60 variables of the 2021 Output
Area Classification (ONS/UCL) from the Nomis tables; its ``source`` column holds the Nomis cell
code or the OAC's derived-variable name and ``notes`` says how derived variables are built.
Notes on it: population density (TS006) enters as persons per hectare, not a percentage;
"Other religion" is every religion other than Christian and no religion; v33 is the share of
residents disabled under the Equality Act (all ages), labelled so: the official OAC's v33 is a
standardised illness ratio (disabled residents against the number expected from the area's age
structure), which the OA tables cannot give as they have no age x disability breakdown, so this
share runs higher where residents are older; denominators are each table's own total (its
population universe).  None of the 60 variables needs TS060 (industry), so nothing is dropped.
`CORE_SPEC` (``spec/core_variables.csv``) is a quick 23-variable set.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import Census
from pipeline.errors import InsightError
from segments.census import (
    CensusError,
    category_name,
    clean_text,
    load_with_problems,
    missing_tables_message,
    table_key,
    table_missing,
)

log = logging.getLogger(__name__)

SPEC_DIR = Path(__file__).resolve().parent / "spec"
DEFAULT_SPEC = SPEC_DIR / "oac2021_variables.csv"
CORE_SPEC = SPEC_DIR / "core_variables.csv"

REQUIRED = ("variable", "name", "table", "numerator")
TRANSFORMS = ("percent", "ratio", "value")


class SpecError(InsightError):
    """A variable spec that cannot be used; the message lists every problem found."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        super().__init__(f"{self.path}: {len(problems)} problem(s) in the variable spec:", problems)


def _split(text: str) -> list[str]:
    return [t.strip() for t in str(text).split("|") if t.strip()]


def resolve_spec_path(path: Path | str | None) -> Path:
    """The spec file to use: `path`, ``<path>/oac2021_variables.csv`` for a folder, or default."""
    if path is None:
        return DEFAULT_SPEC
    path = Path(path)
    if path.is_dir():
        return path / DEFAULT_SPEC.name
    return path


def load_spec(path: Path | str | None = None) -> pd.DataFrame:
    """Read and check a spec CSV (default: the OAC 2021 spec); raise SpecError listing problems.

    Returns one row per variable with every optional column filled in: ``denominator`` (default
    ``Total``; empty for ``value``), ``denominator_table``, ``transform``, ``scale``, ``weight``.
    """
    path = resolve_spec_path(path)
    if not path.exists():
        raise SpecError(path, ["file not found"])
    spec = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    spec.columns = [str(c).strip().lower() for c in spec.columns]
    missing = [c for c in REQUIRED if c not in spec.columns]
    if missing:
        raise SpecError(
            path, [f"missing column(s) {missing}; the columns found are {list(spec.columns)}"]
        )
    spec = spec.apply(lambda col: col.str.strip())
    for col, default in (("denominator", ""), ("denominator_table", ""), ("transform", ""),
                         ("scale", ""), ("weight", "")):
        if col not in spec.columns:
            spec[col] = default
    problems: list[str] = []
    spec["table"] = spec["table"].map(table_key)
    spec["transform"] = spec["transform"].str.lower().replace("", "percent")
    spec["denominator_table"] = [
        table_key(d) if d else t for d, t in zip(spec["denominator_table"], spec["table"],
                                                  strict=True)
    ]
    for i, row in spec.iterrows():
        where = f"row {i + 2} ({row['variable'] or 'no id'})"
        for col in REQUIRED:
            if not row[col]:
                problems.append(f"{where}: the {col!r} column is empty")
        if row["transform"] not in TRANSFORMS:
            problems.append(
                f"{where}: transform {row['transform']!r} is not one of {list(TRANSFORMS)}"
            )
        if row["transform"] != "value" and not row["denominator"]:
            spec.loc[i, "denominator"] = "Total"
        for col in ("scale", "weight"):
            if row[col]:
                try:
                    float(row[col])
                except ValueError:
                    problems.append(f"{where}: {col} {row[col]!r} is not a number")
    ids = spec["variable"].tolist()
    for dup in sorted({v for v in ids if v and ids.count(v) > 1}):
        problems.append(f"variable id {dup!r} is used more than once; ids must differ")
    if spec.empty:
        problems.append("no variables")
    if problems:
        raise SpecError(path, problems)
    spec["scale"] = pd.to_numeric(spec["scale"].replace("", "1")).astype(float)
    spec["weight"] = pd.to_numeric(spec["weight"].replace("", "1")).astype(float)
    spec.attrs["path"] = str(path)
    return spec.reset_index(drop=True)


def _lookup(categories: list[str]) -> dict[str, str]:
    return {clean_text(c).casefold(): c for c in categories}


def _resolve(token: str, categories: list[str], lookup: dict[str, str]) -> str | None:
    """The table column a spec token names, or None."""
    if token.casefold() == "total":
        totals = [c for c in categories if c.casefold() == "total"
                  or c.casefold().startswith("total:")]
        return totals[0] if len(totals) == 1 else None
    for candidate in (clean_text(token), category_name(token)):
        hit = lookup.get(candidate.casefold())
        if hit is not None:
            return hit
    return None


def _missing_message(var: str, name: str, table: str, token: str, categories: list[str],
                     role: str) -> str:
    close = difflib.get_close_matches(token, categories, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    listed = "; ".join(repr(c) for c in categories)
    what = "a total column ('Total' or 'Total: ...')" if token.casefold() == "total" else \
        f"the category {token!r}"
    return (f"variable {var} ({name}): {role} - table {table} has no {what}{hint}; "
            f"available categories: {listed}")


def compute_percentages(census_cfg: Census, spec: pd.DataFrame | Path | str | None = None,
                        dropped: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Per-OA values of every spec variable: DataFrame OA (``oa21cd``) x variable id.

    Percentages of the denominator (0..100), ratios or plain values as the spec says; density as
    is.  Every missing table or category is collected into one CensusError, which lists the
    categories the table does hold; the tables with no file are one problem naming the variables
    that need them and a ``drop: [...]`` line (with `dropped`, the ids the config already drops)
    that leaves them out.
    """
    if not isinstance(spec, pd.DataFrame):
        spec = load_spec(spec)
    tables = list(dict.fromkeys(list(spec["table"]) + list(spec["denominator_table"])))
    frames: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    absent: dict[str, list[tuple[str, str]]] = {}
    for table in tables:
        if table_missing(census_cfg, table):
            absent[table] = [(r.variable, r.name) for r in spec.itertuples(index=False)
                             if table in (r.table, r.denominator_table)]
            continue
        frame, found = load_with_problems(census_cfg, table)
        problems.extend(found)
        if frame is not None:
            frames[table] = frame
    if absent:
        problems.insert(0, missing_tables_message(census_cfg, absent, dropped))
    lookups = {t: _lookup(list(f.columns)) for t, f in frames.items()}

    plan = []
    for row in spec.itertuples(index=False):
        parts = {}
        for role, table, tokens in (("numerator", row.table, _split(row.numerator)),
                                    ("denominator", row.denominator_table,
                                     _split(row.denominator))):
            if table not in frames:
                continue  # the missing file is reported once already
            cats = list(frames[table].columns)
            cols = []
            for token in tokens:
                col = _resolve(token, cats, lookups[table])
                if col is None:
                    problems.append(_missing_message(row.variable, row.name, table, token, cats,
                                                     role))
                else:
                    cols.append(col)
            parts[role] = cols
        plan.append((row, parts))
    if problems:
        raise CensusError(problems)

    index = None
    for frame in frames.values():
        index = frame.index if index is None else index.intersection(frame.index, sort=False)
    dropped = sum(len(f.index.difference(index)) for f in frames.values())
    if dropped:
        log.warning("%d area row(s) are not in every census table and are left out", dropped)
    index = index.sort_values()

    out = {}
    for row, parts in plan:
        num = frames[row.table].loc[index, parts["numerator"]].sum(axis=1).astype(float)
        if row.transform == "value":
            values = num
        else:
            den = frames[row.denominator_table].loc[index, parts["denominator"]].sum(axis=1)
            den = den.astype(float).replace(0.0, np.nan)
            values = num / den * (100.0 if row.transform == "percent" else 1.0)
            zero = int(den.isna().sum())
            if zero:
                log.warning("variable %s (%s): %d area(s) have a zero denominator (NaN)",
                            row.variable, row.name, zero)
        out[row.variable] = values * row.scale
    result = pd.DataFrame(out, index=index)
    result.index.name = "oa21cd"
    return result
