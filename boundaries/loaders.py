"""Loaders for boundary, lookup and postcode-directory files.

Every polygon layer is reprojected to British National Grid (EPSG:27700), the CRS all
geometry work is done in; maps reproject to WGS84 (EPSG:4326) only when drawn.
Problems are collected and raised together in a `GeographyError`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd

from pipeline.address import postcode
from pipeline.config import BNG, BoundaryFile, LookupFile, PostcodeDirectory
from pipeline.errors import GeographyError
from pipeline.warehouse import execute, sql

logger = logging.getLogger(__name__)


def _need_columns(path: Path, have: list[str], need: dict[str, str | None]) -> list[str]:
    """Return one problem per configured column that the file lacks."""
    problems = []
    for role, col in need.items():
        if col is not None and col not in have:
            problems.append(
                f"{path}: no column {col!r} (configured as the {role} column); "
                f"the file has {sorted(have)}"
            )
    return problems


def load_polygons(spec: BoundaryFile, kind: str) -> gpd.GeoDataFrame:
    """Read a polygon layer and return columns code, name (if configured), geometry in EPSG:27700."""
    gdf = gpd.read_file(spec.path, layer=spec.layer) if spec.layer else gpd.read_file(spec.path)
    problems = _need_columns(
        spec.path, list(gdf.columns), {f"{kind} code": spec.code_column, f"{kind} name": spec.name_column}
    )
    if gdf.crs is None:
        problems.append(f"{spec.path}: the layer has no CRS; save it with one (EPSG:27700 or 4326)")
    if problems:
        raise GeographyError(problems)
    out = gpd.GeoDataFrame(
        {"code": gdf[spec.code_column].astype(str)}, geometry=gdf.geometry, crs=gdf.crs
    )
    if spec.name_column:
        out["name"] = gdf[spec.name_column].astype(str)
    dups = out["code"][out["code"].duplicated()].unique().tolist()
    if dups:
        raise GeographyError([f"{spec.path}: {kind} codes appear more than once: {dups[:10]}"])
    out = out.to_crs(BNG)
    out["geometry"] = out.geometry.make_valid()
    return out.sort_values("code").reset_index(drop=True)


def load_oa_ward_lookup(spec: LookupFile) -> pd.DataFrame:
    """Read an OA -> ward lookup; return columns oa21cd, ward_code, ward_name (one row per OA)."""
    df = pd.read_csv(spec.path, dtype=str, keep_default_na=False)
    problems = _need_columns(
        spec.path,
        list(df.columns),
        {"OA": spec.oa_column, "ward": spec.ward_column, "ward name": spec.ward_name_column},
    )
    if problems:
        raise GeographyError(problems)
    out = pd.DataFrame({"oa21cd": df[spec.oa_column], "ward_code": df[spec.ward_column]})
    out["ward_name"] = df[spec.ward_name_column] if spec.ward_name_column else None
    dups = out["oa21cd"][out["oa21cd"].duplicated()].unique().tolist()
    if dups:
        raise GeographyError(
            [f"{spec.path}: OAs listed under more than one ward (need a best-fit lookup): {dups[:10]}"]
        )
    return out


def wards_by_centroid(oas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Best-fit each OA to the ward that holds its representative point (no lookup supplied)."""
    points = gpd.GeoDataFrame({"oa21cd": oas["code"]}, geometry=oas.representative_point(), crs=BNG)
    joined = gpd.sjoin(points, wards, how="left", predicate="within")
    return pd.DataFrame(
        {
            "oa21cd": joined["oa21cd"].to_numpy(),
            "ward_code": joined["code"].to_numpy(),
            "ward_name": joined.get("name", pd.Series(None, index=joined.index)).to_numpy(),
        }
    )


def unique_postcodes_sql(spec: PostcodeDirectory) -> str:
    """`postcode_directory_sql` with one row per postcode key: a live row before a terminated one."""
    return (postcode_directory_sql(spec)
            + " QUALIFY row_number() OVER (PARTITION BY pc_key ORDER BY is_live DESC, pcds) = 1")


def postcode_directory_sql(spec: PostcodeDirectory) -> str:
    """SQL selecting the configured directory columns under standard names.

    Output columns: pc_key (the macro `pc_key` of `pipeline.address.postcode`, the one postcode key
    rule: `check_postcode_directory` defines it on the connection), pcds, oa21cd, ward_code, lad_code,
    easting, northing, is_live, non_geographic, large_user. A postcode is live when its
    termination date is blank (ONSPD `doterm`) or its live flag (e.g. Code-Point presence) is true;
    non-geographic when its grid quality is 9 (ONSPD `osgrdind`: no grid reference, e.g. PO boxes);
    large-user when its user type is 1 (ONSPD `usertype`: one address receiving much mail).
    """
    c = spec.columns

    def col(name: str | None) -> str:
        return f'CAST("{name}" AS VARCHAR)' if name else "CAST(NULL AS VARCHAR)"

    if c.live_flag:
        live = f"lower(trim({col(c.live_flag)})) IN ('true', '1', 'y', 'yes')"
    elif c.terminated:
        live = f"coalesce(trim({col(c.terminated)}), '') = ''"
    else:
        live = "TRUE"
    return sql("postcode_directory", postcode=f'"{c.postcode}"', oa=col(c.oa), ward=col(c.ward),
               lad=col(c.lad), easting=col(c.easting), northing=col(c.northing), live=live,
               grid_quality=col(c.grid_quality), user_type=col(c.user_type),
               path="'" + str(spec.path).replace("'", "''") + "'")


def check_postcode_directory(con: duckdb.DuckDBPyConnection, spec: PostcodeDirectory) -> None:
    """Raise GeographyError naming every configured column the directory file lacks, and define the
    postcode macros (`pipeline.address.postcode`) that `postcode_directory_sql` uses on `con`."""
    postcode.install(con)
    have = [r[0] for r in execute(con, "postcode_directory_columns",
                                  "DESCRIBE SELECT * FROM read_csv(?, header = true)", [str(spec.path)],
                                  fetch="all")]
    c = spec.columns
    need = {
        "postcode": c.postcode,
        "OA": c.oa,
        "ward": c.ward,
        "local authority": c.lad,
        "easting": c.easting,
        "northing": c.northing,
        "termination date": c.terminated if not c.live_flag else None,
        "live flag": c.live_flag,
        "grid quality": c.grid_quality,
        "user type": c.user_type,
    }
    problems = _need_columns(spec.path, have, need)
    if problems:
        raise GeographyError(
            problems + ["fix: set geography.postcode_directory.columns in the run config "
                        "(a column you do not have can be set to null)"]
        )
