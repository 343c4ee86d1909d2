"""Service points and the distance to them: the named points files services share, the OA
centres, the distance bands and extent, and each service's `access` block (docs/profiles.md,
'Access to service points')."""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import Field, field_validator

from pipeline.config.base import Strict


class PointColumns(Strict):
    """Header names of a service-points file."""

    name: str = "name"
    type: str | None = Field(default="type", description="kind of point (clinic, library, tip)")
    postcode: str | None = Field(default="postcode", description="located through the postcode directory")
    easting: str | None = Field(default="easting", description="EPSG:27700; used before the postcode")
    northing: str | None = "northing"


class PointsFile(Strict):
    """A CSV or XLSX of service points (name, type, postcode or easting/northing), or of candidate
    locations for a new point (see pipeline/profiles/access.py)."""

    path: Path
    columns: PointColumns = PointColumns()
    sheet: str | int | None = None


class CentroidFile(Strict):
    """OA population-weighted centroids (ONS 'Output Areas (2021) Population Weighted Centroids'):
    a CSV with the OA code and x/y in EPSG:27700."""

    path: Path
    code_column: str = "OA21CD"
    x_column: str = "x"
    y_column: str = "y"


class Access(Strict):
    """Run-level access settings: the named service-point files services share, the OA centres and
    the distance bands (docs/profiles.md, 'Access to service points')."""

    points: dict[str, PointsFile] = Field(
        default_factory=dict, description="name -> service-points file; services name the ones they use")
    centroids: CentroidFile | None = Field(
        default=None, description="OA population-weighted centroids; default: the household-weighted "
                                  "mean of each OA's postcode points")
    bands_km: list[float] = Field(
        default_factory=lambda: [1.0, 2.0, 5.0],
        description="band edges in km, rising: [1, 2, 5] gives < 1 km, 1-2 km, 2-5 km, 5 km and over")

    @field_validator("bands_km")
    @classmethod
    def _rising(cls, v: list[float]) -> list[float]:
        if not v or any(e <= 0 for e in v) or any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"bands_km must be positive and rising (got {v}). Fix: e.g. [1, 2, 5]")
        return v

    extent: tuple[float, float, float, float] | None = Field(
        default=None, description="easting min, northing min, easting max, northing max (EPSG:27700, metres) "
                                  "a service point's grid reference must lie within, e.g. the area with a "
                                  "margin; default: Great Britain, 0-700,000 E, 0-1,300,000 N")

    @field_validator("extent")
    @classmethod
    def _box(cls, v: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
        if v is not None and (not all(math.isfinite(e) for e in v) or v[0] >= v[2] or v[1] >= v[3]):
            raise ValueError(f"extent must be finite [easting min, northing min, easting max, northing max], "
                             f"each min below its max (got {list(v)}). Fix: e.g. [370000, 385000, 395000, "
                             "405000]")
        return v


class ServiceAccess(Strict):
    """Which service points a service is reached at, and the outreach question asked of them."""

    points: list[str] = Field(description="names of access.points files (shared files may be named by "
                                          "several services)")
    types: list[str] = Field(default_factory=list, description="only points of these types (default: all)")
    within_km: float | None = Field(
        default=None, gt=0, description="target households beyond this distance are under-served; "
                                        "default: the first band edge above 1 km (2 km by default)")
    candidates: PointsFile | None = Field(
        default=None, description="candidate locations for a new point; default: every OA centre")
    top: int = Field(default=20, ge=1, description="candidate locations listed")
