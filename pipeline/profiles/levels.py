"""What to count and against what: the area frame (OA -> ward, segment at every level, base)
and the users per OA of a (sub-)service, counted in DuckDB.

Levels: the classification's columns present in `segments_oa` at run time: `segment` (the
supergroup; view 'segment'), and `group` and `subgroup` when the classification has them.

Base (config `services[].base`): `households` (Census 2021 TS041, default), `residents`
(TS001 usual residents), `adults` (residents aged 18+ from TS007A: 2/5 of the 15-19 band, ages
18 and 19, plus every band from 20; an estimate, since the census band straddles 18) or a census
count `census:<table>:<column>[|<column>...]` (the sum of those columns, e.g. residents aged 65+).

Count (config `services[].count`): `records` (rows, default), `households` (distinct
household keys from the geocode stage) or `persons` (distinct household key, age band, sex and
ethnicity: an approximation where the extract carries no person identifier).
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import RunConfig
from pipeline.errors import UserValueError
from pipeline.warehouse import execute, ident

logger = logging.getLogger(__name__)

#: (column of segments_oa, view name), coarsest first.
LEVELS = [("segment", "segment"), ("group", "group"), ("subgroup", "subgroup")]
UNIT_SQL = {
    "records": "count(*)",
    "households": "count(DISTINCT household_key)",
    "persons": "count(DISTINCT (household_key, age_band, sex, ethnicity))",
}


def levels(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(column, view) of each classification level present in segments_oa."""
    cols = {r[0] for r in execute(con, "segments_oa_columns", "DESCRIBE segments_oa", fetch="all")}
    return [(c, v) for c, v in LEVELS if c in cols]


def segment_names(con: duckdb.DuckDBPyConnection, level: str) -> dict[str, str]:
    """Code -> name at one level (from segments_names; a `level` column when it has one)."""
    cols = {r[0] for r in execute(con, "segments_names_columns", "DESCRIBE segments_names", fetch="all")}
    if "level" in cols:
        want = "supergroup" if level == "segment" else level
        rows = execute(con, "segment_names", "SELECT segment, segment_name FROM segments_names "
                       "WHERE level IN (?, ?)", [want, level], fetch="all")
    elif level == "segment":
        rows = execute(con, "segment_names", "SELECT segment, segment_name FROM segments_names", fetch="all")
    else:
        rows = []
    return {str(c): ("" if n is None else str(n)) for c, n in rows}


def census_base(cfg: RunConfig, spec: str) -> pd.Series:
    from segments.census import load_table

    if spec == "residents":
        t = load_table(cfg.census, "ts001")
        return t.iloc[:, 0]
    if spec == "adults":
        t = load_table(cfg.census, "ts007a")
        bands = [c for c in t.columns if "total" not in c.lower()]
        teen = [c for c in bands if "15 to 19" in c]
        older = bands[bands.index(teen[0]) + 1:]
        return (t[older].sum(axis=1) + 0.4 * t[teen[0]]).round().astype(int)
    _, table, columns = spec.split(":", 2)
    t = load_table(cfg.census, table)
    wanted = columns.split("|")
    missing = [c for c in wanted if c not in t.columns]
    if missing:
        raise UserValueError(
            f"base {spec!r}: census table {table} has no column(s) {missing}; its columns are "
            f"{list(t.columns)}"
        )
    return t[wanted].sum(axis=1)


def area_frame(con: duckdb.DuckDBPyConnection, cfg: RunConfig, base: str = "households") -> pd.DataFrame:
    """One row per OA: oa21cd, ward_code, ward_name, households, base and a column per level."""
    geo = execute(con, "area_frame", area_frame_sql([c for c, _ in levels(con)]), fetch="df")
    for c in ["oa21cd", "ward_code", "ward_name", *(c for c, _ in levels(con))]:
        geo[c] = geo[c].astype(str).astype(object)
    if base == "households":
        geo["base"] = geo["households"].astype(int)
    else:
        per_oa = census_base(cfg, base)
        geo["base"] = geo["oa21cd"].map(per_oa).fillna(0).astype(int)
    return geo


def area_frame_sql(level_columns: list[str]) -> str:
    """Each OA with its ward, households and its segment at every level (columns of segments_oa)."""
    lv = ", ".join(f"s.{ident(c)}" for c in level_columns)
    return f"""SELECT o.oa21cd, o.ward_code, o.ward_name, o.households, {lv}
            FROM ref_oa o JOIN segments_oa s USING (oa21cd) ORDER BY o.oa21cd"""


def oa_users(con: duckdb.DuckDBPyConnection, table: str, option: str | None = None,
             unit: str = "records", yes: tuple[str, ...] = ()) -> pd.DataFrame:
    """Users per OA of a warehouse assign table: all its records, or those whose `option` column
    reads as one of the `yes` values (bound, compared lower case and trimmed)."""
    return execute(con, "oa_users", oa_users_sql(table, unit, option), [list(yes)] if option else None,
                   fetch="df")


def oa_users_sql(table: str, unit: str, option: str | None = None) -> str:
    """Users (counted by `unit`) per OA of `table`, only the rows whose `option` is in the list $1."""
    where = f"list_contains($1, lower(trim({ident(option)})))" if option else "TRUE"
    return f"""SELECT oa21cd, {UNIT_SQL[unit]} AS users FROM {ident(table)}
            WHERE {where} GROUP BY oa21cd ORDER BY oa21cd"""


def order_codes(codes) -> list[str]:
    """Display order of segment codes: numeric-aware (1, 2, 10; 1a, 1b)."""
    return sorted({str(c) for c in codes}, key=lambda c: (len(c), c))


def aligned(geo: pd.DataFrame, users: pd.Series) -> np.ndarray:
    """Users per OA in the order of `geo` (0 where an OA has none)."""
    return users.reindex(geo["oa21cd"].to_numpy()).fillna(0).to_numpy(dtype=np.int64)


def grouped_counts(geo: pd.DataFrame, users: pd.Series, column: str, names: dict[str, str]) -> pd.DataFrame:
    """Counts frame (segment_code, segment_name, service_count, base_count) by a geo column."""
    frame = geo.assign(users=aligned(geo, users))
    g = frame.groupby(column, sort=False).agg(service_count=("users", "sum"), base_count=("base", "sum"))
    codes = order_codes(g.index) if column not in ("ward_code", "oa21cd") else sorted(g.index)
    g = g.loc[codes].reset_index().rename(columns={column: "segment_code"})
    g["segment_name"] = g["segment_code"].map(names).fillna("")
    return g[["segment_code", "segment_name", "service_count", "base_count"]]
