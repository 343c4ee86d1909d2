"""Ward (and Output Area) geometry made ready for a web map: made valid, simplified in British
National Grid with shared edges kept shared, the borough outline dissolved without slivers, reprojected
to WGS84 and rounded, so that the same boundaries always give the same coordinates.

The simplification and rounding scale with the map's level (:mod:`pipeline.render.maps.level`):
at ``oa`` each map keeps its own (5 m; 6 decimals, the segment map 5), at ``ward`` and ``lad``
:data:`LEVEL_GEOMETRY` (measured by ``bench/bench_render_national.py``: a 7,000-ward page and a
331-LAD page within the budget). :func:`dissolve` makes the coarser areas from finer ones.

:class:`PreparedWards` is the run's ward layer made ready once (:func:`prepare_once`) and handed
to every service map: at national scale preparing 7,000 wards is most of a map's time, and a map
given the same wards in the same order takes the same coordinates and outline from it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import BNG as BRITISH_NATIONAL_GRID
from pipeline.config import WGS84

# The package's logger, as before the split: its console lines keep the name
logger = logging.getLogger(__package__)

SIMPLIFY_TOLERANCE_M = 5.0
COORD_DECIMALS = 6
#: (simplification tolerance in metres, decimals of a degree) of a map drawn at ``ward`` or ``lad``:
#: two pixels or less at the zoom that shows a county (ward) or a region (lad); 4 decimals are
#: about 10 m, 3 about 100 m
LEVEL_GEOMETRY: dict[str, tuple[float, int]] = {"ward": (200.0, 4), "lad": (500.0, 3)}


def level_geometry(level: str, tolerance_m: float = SIMPLIFY_TOLERANCE_M,
                   decimals: int = COORD_DECIMALS) -> tuple[float, int]:
    """(tolerance, decimals) for a map drawn at *level*: the map's own at ``oa``, else
    :data:`LEVEL_GEOMETRY`."""
    return LEVEL_GEOMETRY.get(level, (tolerance_m, decimals))


def dissolve(areas: gpd.GeoDataFrame, key: pd.Series) -> gpd.GeoDataFrame:
    """The polygons of *areas* merged by *key* (a code per row, aligned with *areas*): columns
    ``code`` and ``geometry``, sorted by code, in the CRS of *areas*. A coverage (wards into local
    authorities) is merged by its shared edges (``coverage_union``); the union of anything else."""
    groups = pd.Series(np.arange(len(areas)), index=areas.index).groupby(key.to_numpy(), sort=True)
    values = np.asarray(areas.geometry.values, dtype=object)
    codes, merged = [], []
    for code, at in groups:
        codes.append(code)
        parts = values[at.to_numpy()]
        try:
            geom = shapely.coverage_union_all(parts)
            if not geom.is_valid:
                raise ValueError("not a coverage")
        except Exception:  # noqa: BLE001 - not edge-matched: a plain union
            geom = shapely.union_all(shapely.make_valid(parts))
        merged.append(geom)
    return gpd.GeoDataFrame({"code": codes}, geometry=merged, crs=areas.crs)


def _round_coords(geom: shapely.Geometry, decimals: int = COORD_DECIMALS) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def simplify_coverage(geoms: gpd.GeoSeries, tolerance: float) -> gpd.GeoSeries:
    """Simplify a coverage (wards, or areas dissolved from one) keeping shared edges shared (falls
    back per polygon)."""
    if tolerance <= 0:
        return geoms
    values = np.asarray(geoms.values, dtype=object)
    try:
        simplified = shapely.coverage_simplify(values, tolerance)
        if not all(shapely.is_valid(simplified)) or any(shapely.is_empty(simplified)):
            raise ValueError("coverage simplification produced invalid/empty polygons")
    except Exception as exc:  # noqa: BLE001 - any GEOS failure -> safe fallback
        logger.debug("coverage_simplify failed (%s); using simplify(preserve_topology)", exc)
        simplified = shapely.simplify(values, tolerance, preserve_topology=True)
    return gpd.GeoSeries(simplified, index=geoms.index, crs=geoms.crs)


def _outline(
    geoms: gpd.GeoSeries, tolerance: float, gap_m: float = 1.0, min_hole_m2: float = 10_000.0
) -> shapely.Geometry:
    """Dissolved borough boundary without the slivers left by imperfectly matched wards.

    Ward boundaries are rarely perfectly edge-matched, so the plain union has thin gaps
    along internal edges. A morphological closing (buffer out then in by *gap_m*, mitred
    so corners stay sharp) seals gaps up to ``2 * gap_m`` wide; holes still under
    *min_hole_m2* (1 ha) are dropped, real enclaves are kept.
    """
    union = shapely.union_all(np.asarray(geoms.values, dtype=object))
    if gap_m > 0:
        union = union.buffer(gap_m, join_style="mitre").buffer(-gap_m, join_style="mitre")
    parts = []
    for poly in shapely.get_parts(union):
        if not isinstance(poly, shapely.Polygon) or poly.is_empty:
            continue
        holes = [r for r in poly.interiors if shapely.Polygon(r).area >= min_hole_m2]
        parts.append(shapely.Polygon(poly.exterior, holes))
    if not parts:
        return union
    outline = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
    return shapely.simplify(outline, tolerance, preserve_topology=True) if tolerance > 0 else outline


def prepare_wards(
    wards: gpd.GeoDataFrame, tolerance_m: float = SIMPLIFY_TOLERANCE_M, decimals: int = COORD_DECIMALS
) -> tuple[gpd.GeoDataFrame, shapely.Geometry]:
    """Simplify in British National Grid, dissolve the borough outline, reproject to WGS84.

    Returns ``(wards_wgs84, outline_wgs84)`` with coordinates rounded to *decimals* places
    (6 decimals of a degree are about 0.1 m; 5 about 1 m).
    """
    if wards.crs is None:
        logger.warning("Ward geometries have no CRS; assuming %s", BRITISH_NATIONAL_GRID)
        wards = wards.set_crs(BRITISH_NATIONAL_GRID)
    bng = wards.to_crs(BRITISH_NATIONAL_GRID) if wards.crs != BRITISH_NATIONAL_GRID else wards
    bng = bng.copy()
    bng["geometry"] = bng.geometry.make_valid()
    if tolerance_m > SIMPLIFY_TOLERANCE_M:  # a ward or lad level: the outline of the simplified areas
        # (the union of 7,000 full wards: minutes)
        bng["geometry"] = simplify_coverage(bng.geometry, tolerance_m)
        outline = _outline(bng.geometry, tolerance_m)
    else:
        outline = _outline(bng.geometry, tolerance_m)
        bng["geometry"] = simplify_coverage(bng.geometry, tolerance_m)
    outline_wgs = gpd.GeoSeries([outline], crs=BRITISH_NATIONAL_GRID).to_crs(WGS84).iloc[0]
    out = bng.to_crs(WGS84)
    out["geometry"] = out.geometry.map(lambda g: _round_coords(g, decimals))
    return out, _round_coords(outline_wgs, decimals)


@dataclass(frozen=True)
class PreparedWards:
    """The run's wards made ready for a web map once (:func:`prepare_wards` at *tolerance_m* and
    *decimals*): each ward's code and WGS84 geometry in the order given, and the outline."""

    codes: tuple[str, ...]
    geometry: gpd.GeoSeries
    outline: shapely.Geometry
    tolerance_m: float
    decimals: int

    def layer(self, wards: gpd.GeoDataFrame, code_column: str, tolerance_m: float,
              decimals: int) -> tuple[gpd.GeoDataFrame, shapely.Geometry] | None:
        """``prepare_wards(wards, tolerance_m, decimals)`` taken from this preparation when *wards*
        are these wards in this order at the same tolerance and decimals (the same input gives the
        same coordinates); None otherwise (a service whose ward table leaves a ward out: the
        caller prepares its own)."""
        if (tolerance_m, decimals) != (self.tolerance_m, self.decimals) or code_column not in wards.columns \
                or tuple(wards[code_column]) != self.codes:
            return None
        out = wards.copy()
        geometry = gpd.GeoSeries(self.geometry.to_numpy(), index=wards.index, crs=WGS84)
        out = gpd.GeoDataFrame(out.drop(columns=wards.geometry.name), geometry=geometry, crs=WGS84)
        return out[list(wards.columns)], self.outline


def prepare_once(wards: gpd.GeoDataFrame, tolerance_m: float = SIMPLIFY_TOLERANCE_M,
                 decimals: int = COORD_DECIMALS) -> PreparedWards:
    """The run's wards (``code``, ``geometry``) prepared once for every map drawn at *tolerance_m*
    and *decimals* (:class:`PreparedWards`)."""
    wgs, outline = prepare_wards(wards[["code", wards.geometry.name]], tolerance_m, decimals)
    return PreparedWards(tuple(wards["code"]), wgs.geometry, outline, tolerance_m, decimals)
