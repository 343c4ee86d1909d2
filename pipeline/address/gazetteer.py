"""Load the council's address gazetteer into the warehouse as `ref_gazetteer`, each address with its OA.

The gazetteer's points (easting/northing, EPSG:27700) are put in Output Areas by point in polygon
(geopandas sjoin over an STRtree); only addresses inside the area's OAs are kept, since only they
can be profiled. UPRNs are keyed by the one UPRN rule (`pipeline.address.uprn`). Columns: uprn,
saon, paon, street, locality, town, postcode, pc_key, x, y, oa21cd, ward_code.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd

from pipeline.address import postcode, uprn
from pipeline.checks import Problem, need_columns
from pipeline.config import BNG, RunConfig
from pipeline.errors import GeographyError
from pipeline.warehouse import execute, ident

#: The columns of the gazetteer CSV (its bound path)
COLUMNS = "DESCRIBE SELECT * FROM read_csv(?, header = true)"

logger = logging.getLogger(__name__)
FIELDS = ("uprn", "saon", "paon", "street", "locality", "town", "postcode", "x", "y")


def read_gazetteer(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> pd.DataFrame:
    """The gazetteer under standard column names (text), checked for the configured columns."""
    spec = cfg.geography.gazetteer
    have = [r[0] for r in execute(con, "gazetteer_columns", COLUMNS, [str(spec.path)], fetch="all")]
    cols = spec.columns.model_dump()
    missing = [f"{spec.path}: no column {c!r} (configured as the gazetteer's {f} column); the file has {have}"
               for f, c in cols.items() if c is not None and c not in have]
    if missing:
        raise GeographyError(missing + ["fix: set geography.gazetteer.columns in the run config"])
    return execute(con, "gazetteer_read", gazetteer_read_sql(cols), [str(spec.path)], fetch="df")


def gazetteer_read_sql(cols: dict[str, str | None]) -> str:
    """Read the gazetteer CSV (the bound path $1) under standard column names (field -> the file's
    column, or None for NULL), every value as trimmed text."""
    sel = ", ".join((f"trim(CAST({ident(c)} AS VARCHAR)) AS {ident(f)}" if c
                     else f"CAST(NULL AS VARCHAR) AS {ident(f)}") for f, c in cols.items())
    return f"SELECT {sel} FROM read_csv($1, all_varchar = true, header = true)"


def load(con: duckdb.DuckDBPyConnection, cfg: RunConfig, oas: gpd.GeoDataFrame) -> int:
    """Create `ref_gazetteer` (in-area addresses with their OA and ward); return its row count."""
    gaz = read_gazetteer(con, cfg)
    gaz["uprn"] = uprn.keys(gaz["uprn"])  # the one UPRN rule: a column saved by Excel matches too
    x, y = pd.to_numeric(gaz["x"], errors="coerce"), pd.to_numeric(gaz["y"], errors="coerce")
    bad = int((x.isna() | y.isna() | gaz["uprn"].fillna("").eq("")).sum())
    if bad:
        logger.warning("Gazetteer: %d address(es) without a UPRN or coordinates are left out", bad)
    keep = x.notna() & y.notna() & gaz["uprn"].fillna("").ne("")
    gaz, x, y = gaz[keep].reset_index(drop=True), x[keep].to_numpy(), y[keep].to_numpy()
    pts = gpd.GeoDataFrame(gaz[["uprn"]], geometry=gpd.points_from_xy(x, y), crs=BNG)
    hit = gpd.sjoin(pts, oas[["code", "geometry"]], how="left", predicate="within")
    hit = hit.sort_values("code", kind="stable")  # a point on a shared edge: the first OA by code
    hit = hit[~hit.index.duplicated(keep="first")].sort_index()
    gaz["x"], gaz["y"], gaz["oa21cd"] = x, y, hit["code"].reindex(gaz.index).to_numpy()
    dups = int(gaz["uprn"].duplicated().sum())
    if dups:
        raise GeographyError([f"{cfg.geography.gazetteer.path}: {dups} UPRN(s) appear more than once"])
    postcode.install(con)
    con.register("gaz_df", gaz)
    execute(con, "gazetteer_table",
        """CREATE OR REPLACE TABLE ref_gazetteer AS
           SELECT g.uprn, g.saon, g.paon, g.street, g.locality, g.town,
                  upper(regexp_replace(trim(g.postcode), '\\s+', ' ', 'g')) AS postcode,
                  pc_key(g.postcode) AS pc_key, g.x, g.y, g.oa21cd, o.ward_code
           FROM gaz_df g JOIN ref_oa o USING (oa21cd) ORDER BY g.uprn"""
    )
    con.unregister("gaz_df")
    n = execute(con, "gazetteer_count", "SELECT count(*) FROM ref_gazetteer", fetch="value")
    logger.info("Gazetteer: %d addresses in the area (of %d read)", n, len(gaz) + bad)
    return n


def check(cfg: RunConfig) -> list[Problem]:
    """The gazetteer has its configured columns (as `read_gazetteer` reads it)."""
    spec = cfg.geography.gazetteer
    if spec is None or not Path(spec.path).is_file():
        return []
    con = duckdb.connect()
    try:
        have = [r[0] for r in execute(con, "gazetteer_columns", COLUMNS, [str(spec.path)], fetch="all")]
    except duckdb.Error as exc:
        return [f"geography.gazetteer.path: {spec.path} cannot be read as CSV "
                f"({str(exc).splitlines()[0]}). Fix: export the gazetteer as CSV"]
    finally:
        con.close()
    return need_columns("geography.gazetteer.columns", Path(spec.path), have, spec.columns.model_dump())
