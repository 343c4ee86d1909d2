"""Stage 0, geography: load the area's reference tables into the warehouse.

Writes `ref_oa` (oa21cd, ward_code, ward_name, households, x, y), `ref_wards`
(ward_code, ward_name, households) and `ref_postcodes` (the postcode directory under
standard column names, see `boundaries.loaders.postcode_directory_sql`; a view of the reusable
reference database of `boundaries.reference` when the config names one).
"""

from __future__ import annotations

import logging

import duckdb
import geopandas as gpd
import pandas as pd

from boundaries.loaders import (
    GeographyError,
    check_postcode_directory,
    load_oa_ward_lookup,
    load_polygons,
    postcode_directory_sql,
    wards_by_centroid,
)
from boundaries.reference import attach_reference, ensure_reference
from pipeline.config import PostcodeDirectory, RunConfig
from segments.census import households as census_households

logger = logging.getLogger(__name__)


def load_areas(cfg: RunConfig) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """OA and ward polygons in EPSG:27700 (columns code, [name], geometry)."""
    g = cfg.geography
    return load_polygons(g.oa_boundaries, "OA"), load_polygons(g.wards, "ward")


def build_ref_oa(cfg: RunConfig, oas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per OA of the area: its ward, census households and centroid."""
    g = cfg.geography
    lookup = load_oa_ward_lookup(g.oa_to_ward) if g.oa_to_ward else wards_by_centroid(oas, wards)
    ward_names = dict(zip(wards["code"], wards.get("name", wards["code"]), strict=True))
    hh = census_households(cfg.census).rename("households")
    ref = pd.DataFrame({"oa21cd": oas["code"]})
    pts = oas.representative_point()
    ref["x"], ref["y"] = pts.x.round(1).to_numpy(), pts.y.round(1).to_numpy()
    ref = ref.merge(lookup, on="oa21cd", how="left")
    ref["ward_name"] = ref["ward_name"].where(ref["ward_name"].notna(), ref["ward_code"].map(ward_names))
    ref = ref.merge(hh, left_on="oa21cd", right_index=True, how="left")

    problems = []
    no_ward = ref.loc[ref["ward_code"].isna(), "oa21cd"].tolist()
    if no_ward:
        problems.append(f"{len(no_ward)} OA(s) have no ward in the OA->ward lookup: {no_ward[:10]}")
    unknown_ward = sorted(set(ref["ward_code"].dropna()) - set(wards["code"]))
    if unknown_ward:
        problems.append(f"ward codes in the lookup are missing from the ward boundaries: {unknown_ward[:10]}")
    no_hh = ref.loc[ref["households"].isna(), "oa21cd"].tolist()
    if no_hh:
        problems.append(
            f"{len(no_hh)} OA(s) of the boundaries have no households in census table "
            f"{cfg.census.households_table}: {no_hh[:10]} (are the census files for the same area?)"
        )
    if problems:
        raise GeographyError(problems)
    ref["households"] = ref["households"].astype("int64")
    return ref[["oa21cd", "ward_code", "ward_name", "households", "x", "y"]].sort_values("oa21cd")


def load_postcodes(con: duckdb.DuckDBPyConnection, spec: PostcodeDirectory, oas: gpd.GeoDataFrame) -> None:
    """Make `ref_postcodes`: a view of the reusable reference database when `reference_db` is set
    (built once, rebuilt when the directory file changes), else a table of this run's warehouse.
    A directory without OAs (Code-Point Open) is read as `ref_postcodes_directory`, and
    `ref_postcodes` is a view giving each postcode the OA of `oas` that holds its point."""
    base = "ref_postcodes" if spec.columns.oa else "ref_postcodes_directory"
    if spec.reference_db is not None:
        ensure_reference(spec, spec.reference_db)
        attach_reference(con, spec.reference_db, view=base)
    else:
        check_postcode_directory(con, spec)
        con.execute(
            f"CREATE OR REPLACE TABLE {base} AS "
            + postcode_directory_sql(spec)
            + " QUALIFY row_number() OVER (PARTITION BY pc_key ORDER BY is_live DESC, pcds) = 1"
        )
    if spec.columns.oa is None:
        place_postcodes_by_point(con, base, oas)


def place_postcodes_by_point(con: duckdb.DuckDBPyConnection, base: str, oas: gpd.GeoDataFrame) -> int:
    """`ref_postcode_oa` (pc_key, oa21cd): the area's OA holding each postcode point of `base`
    (points in the area's bounding box only; geopandas sjoin, EPSG:27700), and the view
    `ref_postcodes` with those OAs filled in. Return the number of postcodes placed."""
    minx, miny, maxx, maxy = oas.total_bounds
    pts = con.execute(
        f"""SELECT pc_key, easting, northing FROM {base}
            WHERE easting BETWEEN ? AND ? AND northing BETWEEN ? AND ? ORDER BY pc_key""",
        [float(minx), float(maxx), float(miny), float(maxy)],
    ).df()
    points = gpd.GeoDataFrame(pts[["pc_key"]], geometry=gpd.points_from_xy(pts["easting"], pts["northing"]),
                              crs=oas.crs)
    hit = gpd.sjoin(points, oas[["code", "geometry"]], how="inner", predicate="within")
    hit = hit.sort_values("code", kind="stable")  # a point on a shared edge: the first OA by code
    hit = hit[~hit.index.duplicated(keep="first")].sort_index()
    placed = pd.DataFrame({"pc_key": hit["pc_key"].to_numpy(), "oa21cd": hit["code"].to_numpy()})
    con.register("placed_df", placed)
    con.execute("CREATE OR REPLACE TABLE ref_postcode_oa AS SELECT * FROM placed_df ORDER BY pc_key")
    con.unregister("placed_df")
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW ref_postcodes AS
            SELECT d.* REPLACE (coalesce(d.oa21cd, p.oa21cd) AS oa21cd)
            FROM {base} d LEFT JOIN ref_postcode_oa p USING (pc_key)"""
    )
    logger.info("Postcode directory without OAs: %d postcode points placed in the area's OAs", len(placed))
    return len(placed)


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict:
    """Load the reference tables; return counts for the run summary."""
    oas, wards = load_areas(cfg)
    ref_oa = build_ref_oa(cfg, oas, wards)
    con.register("ref_oa_df", ref_oa)
    con.execute("CREATE OR REPLACE TABLE ref_oa AS SELECT * FROM ref_oa_df ORDER BY oa21cd")
    con.unregister("ref_oa_df")
    con.execute(
        """CREATE OR REPLACE TABLE ref_wards AS
           SELECT ward_code, any_value(ward_name) AS ward_name, sum(households) AS households,
                  count(*) AS n_oas
           FROM ref_oa GROUP BY ward_code ORDER BY ward_code"""
    )
    load_postcodes(con, cfg.geography.postcode_directory, oas)
    n_pc, n_live = con.execute("SELECT count(*), count(*) FILTER (is_live) FROM ref_postcodes").fetchall()[0]
    summary = {
        "oas": len(ref_oa),
        "wards": int(ref_oa["ward_code"].nunique()),
        "households": int(ref_oa["households"].sum()),
        "postcodes": n_pc,
        "live_postcodes": n_live,
    }
    logger.info(
        "Geography: %(oas)d OAs, %(wards)d wards, %(households)d households, "
        "%(postcodes)d postcodes (%(live_postcodes)d live)",
        summary,
    )
    return summary
