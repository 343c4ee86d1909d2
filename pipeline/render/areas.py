"""The areas the run's maps are drawn by: the level (the rule is
:func:`pipeline.render.maps.level.map_level`), each Output Area's local authority, and the segment
map's wards or local authorities, each in its most common segment.

Each Output Area's local authority (LAD) comes from the run's OA -> ward lookup, the ONS
"OA21 to ward to LAD" file `insight area` cuts, when ``geography.oa_to_ward.lad_column`` names its
LAD column (``LAD23CD``); without it the maps stop at the ward level.

A ward's (or local authority's) segment on the segment map is the segment with most of its
households (Census 2021 TS041, as the profiles' base; ties to the first code in order), and its
tooltip says what share of the households that is. Only open data: the classification of the
Output Areas (``segments_oa.csv``, shared) and the census households.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd

from pipeline.config import BNG, RunConfig
from pipeline.render.maps.geometry import dissolve
from pipeline.render.maps.level import LEVEL_NAMES, Level, map_level
from pipeline.render.segment_info import with_segment_info

logger = logging.getLogger(__name__)


def oa_lads(cfg: RunConfig) -> pd.Series | None:
    """Each Output Area's local authority code (index ``oa21cd``), from the OA -> ward lookup's
    ``lad_column``; None when the config names none."""
    g = cfg.geography
    spec = g.oa_to_ward if g is not None else None
    if spec is None or spec.lad_column is None:
        return None
    frame = pd.read_csv(spec.path, dtype=str, keep_default_na=False,
                        usecols=[spec.oa_column, spec.lad_column])
    frame = frame.drop_duplicates(spec.oa_column)
    return pd.Series(frame[spec.lad_column].str.strip().to_numpy(), index=frame[spec.oa_column].to_numpy(),
                     name="lad_code")


def run_level(cfg: RunConfig, oas: gpd.GeoDataFrame | None, wards: gpd.GeoDataFrame,
              lads: pd.Series | None) -> Level:
    """The level of every map of the run, from its size and ``render.map_level``."""
    level = map_level(0 if oas is None else len(oas), len(wards), lads is not None, cfg.render.map_level)
    if level != "oa":
        logger.info("Maps drawn by %s (%d Output Areas, %d wards): Output Area detail in the GeoPackage",
                    LEVEL_NAMES[level], 0 if oas is None else len(oas), len(wards))
    return level


def area_segments(oa_segments: pd.DataFrame, oa_area: pd.Series, households: pd.Series) -> pd.DataFrame:
    """Per area (``oa_area``: each Output Area's area code, index ``oa21cd``): the segment with most
    households (ties: the first code), its share of the area's households (%) and the area's Output
    Areas. Columns ``code``, ``segment``, ``share``, ``oas``, sorted by code."""
    oa = oa_segments[["oa21cd", "segment"]].copy()
    oa["code"] = oa["oa21cd"].map(oa_area)
    oa["households"] = oa["oa21cd"].map(households).fillna(0).astype("int64")
    oa = oa[oa["code"].notna()]
    by = oa.groupby(["code", "segment"], sort=True).agg(households=("households", "sum"),
                                                        oas=("oa21cd", "size"))
    by = by.reset_index().sort_values(["code", "households", "segment"], ascending=[True, False, True],
                                      kind="mergesort")
    top = by.drop_duplicates("code").set_index("code")
    totals = by.groupby("code").agg(households=("households", "sum"), oas=("oas", "sum"))
    share = (100 * top["households"] / totals["households"].where(totals["households"] > 0)).fillna(0)
    return pd.DataFrame({"code": top.index, "segment": top["segment"].to_numpy(),
                         "share": share.reindex(top.index).to_numpy(),
                         "oas": totals["oas"].reindex(top.index).to_numpy()}).reset_index(drop=True)


def level_areas(level: Level, wards: gpd.GeoDataFrame, ref: pd.DataFrame,
                lads: pd.Series | None) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """The polygons the segment map draws at *level* (``ward`` or ``lad``, columns ``code`` and
    ``geometry`` in EPSG:27700) and each Output Area's code among them (index ``oa21cd``). *ref*: the
    run's ``ref_oa`` (``oa21cd``, ``ward_code``)."""
    oa_ward = pd.Series(ref["ward_code"].to_numpy(), index=ref["oa21cd"].to_numpy())
    polygons = wards[["code", "geometry"]]
    polygons = polygons.to_crs(BNG) if polygons.crs is not None and polygons.crs != BNG else polygons
    if level == "ward":
        return polygons.sort_values("code").reset_index(drop=True), oa_ward
    if lads is None:
        raise ValueError("the lad level needs each Output Area's local authority")
    # a ward's local authority: that of most of its Output Areas (wards nest in local authorities)
    pairs = pd.DataFrame({"ward": oa_ward.to_numpy(), "lad": oa_ward.index.map(lads)}).dropna()
    ward_lad = pairs.groupby("ward")["lad"].agg(lambda s: s.value_counts().sort_index().idxmax())
    keyed = polygons[polygons["code"].isin(ward_lad.index)].reset_index(drop=True)
    return dissolve(keyed, keyed["code"].map(ward_lad)), oa_ward.map(ward_lad).dropna()


def segment_area_layer(level: Level, wards: gpd.GeoDataFrame, ref: pd.DataFrame, lads: pd.Series | None,
                       oa_segments: pd.DataFrame, names: pd.DataFrame) -> gpd.GeoDataFrame:
    """The segment map's layer at ``ward`` or ``lad``: each area in its most common segment, with
    that segment's name, colour, supergroup, pen portrait and a note of its share."""
    polygons, oa_area = level_areas(level, wards, ref, lads)
    households = pd.Series(ref["households"].to_numpy(), index=ref["oa21cd"].to_numpy())
    top = area_segments(oa_segments, oa_area, households)
    layer = polygons.merge(top, on="code", how="inner")
    layer = with_segment_info(layer, names)
    layer["note"] = [f"Most common segment: {s:.0f}% of the households of its {n:,} Output Areas"
                     for s, n in zip(layer["share"], layer["oas"], strict=True)]
    return layer.drop(columns=["share", "oas"])
