"""The run config as a whole (`RunConfig`): its name and folders, the area, the census, the
classification, suppression, privacy, map options, attribution, services and service points, and
the checks that join its blocks."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.config.access import Access
from pipeline.config.base import Strict
from pipeline.config.deprivation import Deprivation
from pipeline.config.engine import Spark
from pipeline.config.fields import RUN_NAME
from pipeline.config.geography import Census, Geography
from pipeline.config.protection import Privacy, Suppression
from pipeline.config.segmentation import Segmentation
from pipeline.config.service import Service
from pipeline.config.survey import Survey

#: The attribution of every output unless the run config gives its own (`attribution`); a map or
#: workbook written without one takes it too (`pipeline.publish.notes`). Plain text: it is escaped
#: where it is written.
DEFAULT_ATTRIBUTION = (
    "Contains National Statistics data © Crown copyright and database right 2021-2025. "
    "Contains OS data © Crown copyright and database right 2025. "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025. "
    "Open Government Licence v3.0."
)


class Render(Strict):
    """Map options. Base tiles are off by default: a map with tiles needs the network to view."""

    tiles: str | None = Field(default=None, description="XYZ tile URL, e.g. the council's own tile server")
    tiles_attribution: str = "Base map"
    map_level: Literal["auto", "oa", "ward", "lad"] = Field(
        default="auto", description="the geography the maps are drawn by: auto (Output Areas for a "
        "borough, wards or local authorities for a region or the country: pipeline/render/maps/level.py), "
        "or oa, ward, lad to force it. The GeoPackage keeps every Output Area whatever the level")


class RunConfig(Strict):
    run: str = Field(description="Run name: private data in data/<run>, outputs in outputs/<run>")
    area_name: str
    lad_code: str | None = None
    seed: int = 2021
    private_dir: Path | None = None
    outputs_dir: Path | None = None
    geography: Geography | None = Field(
        default=None, description="boundaries, lookups and the postcode directory; optional only for "
        "a classification built from the census alone (segmentation.scope: census, no services)")
    census: Census
    segmentation: Segmentation = Segmentation()
    suppression: Suppression = Suppression()
    render: Render = Render()
    privacy: Privacy = Privacy()
    attribution: str = Field(default=DEFAULT_ATTRIBUTION,
                             description="Source attribution printed on every output")
    services: list[Service] = Field(default_factory=list)
    surveys: list[Survey] = Field(default_factory=list, description="resident surveys: weighted to the "
                                  "census, estimated by segment, ward and group (docs/surveys.md)")
    access: Access = Field(default_factory=Access, description="service-point files and distance bands")
    deprivation: Deprivation | None = Field(
        default=None, description="the Indices of Deprivation: take-up by deprivation decile (optional)")
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="record-level engine: duckdb (this machine) or spark (docs/spark.md)")
    spark: Spark | None = Field(default=None, description="where Spark runs (engine: spark only)")

    @model_validator(mode="after")
    def _spark_block_has_effect(self) -> RunConfig:
        if self.spark is not None and self.engine != "spark":
            raise ValueError("spark: this block has no effect with engine: duckdb. Fix: set engine: spark, "
                             "or remove the spark block")
        return self

    @model_validator(mode="after")
    def _map_level_has_its_areas(self) -> RunConfig:
        lookup = self.geography.oa_to_ward if self.geography is not None else None
        if self.render.map_level == "lad" and (lookup is None or lookup.lad_column is None):
            raise ValueError("render.map_level: lad needs each Output Area's local authority. Fix: set "
                             "geography.oa_to_ward.lad_column to the lookup's LAD column (LAD23CD in the ONS "
                             "OA to ward to LAD lookup), or choose auto, oa or ward")
        if self.render.map_level in ("oa", "ward") and lookup is not None and lookup.lad_column is not None:
            # the LAD column is read only for the maps' level (auto) and the segment map at lad
            raise ValueError(f"geography.oa_to_ward.lad_column: {lookup.lad_column!r} has no effect with "
                             f"render.map_level: {self.render.map_level} (each Output Area's local authority "
                             "is read only to draw maps by local authority). Fix: remove lad_column, or set "
                             "render.map_level to auto or lad")
        if self.render.map_level != "auto" and self.geography is None:
            raise ValueError(f"render.map_level: {self.render.map_level} has no effect without a geography "
                             "block (no maps are drawn). Fix: remove it")
        return self

    @model_validator(mode="after")
    def _survey_names_distinct(self) -> RunConfig:
        names = [s.name for s in self.surveys]
        twice = sorted({n for n in names if names.count(n) > 1})
        clash = sorted({s.extract().name for s in self.surveys} & {s.name for s in self.services})
        if twice:
            raise ValueError(f"surveys: the name(s) {twice} are used more than once. Fix: give each survey "
                             "a name of its own")
        if clash:
            raise ValueError(f"surveys: a survey's tables would be named {clash}, as a service's are. Fix: "
                             "rename the survey or the service")
        return self

    @model_validator(mode="after")
    def _access_points_named(self) -> RunConfig:
        for s in self.services:
            unknown = [] if s.access is None else [p for p in s.access.points if p not in self.access.points]
            if unknown:
                raise ValueError(f"service {s.name!r}: access.points {unknown} are not named under "
                                 f"access.points (named: {sorted(self.access.points)}). Fix: add them there")
        return self

    @model_validator(mode="after")
    def _geography_unless_census_only(self) -> RunConfig:
        if self.geography is not None:
            return self
        seg = self.segmentation
        if self.services or self.surveys or seg.scope != "census":
            raise ValueError(
                "geography: Field required (the area's OA boundaries, wards and postcode directory). "
                "Fix: add a geography block; only a classification built from the census tables alone "
                "(segmentation.scope: census, no services and no surveys) may leave it out")
        if seg.method == "lookup" and seg.lookup is not None and seg.lookup.key != "oa" \
                and seg.lookup.to_oa is None:
            raise ValueError(
                f"geography: a {seg.lookup.key}-keyed lookup is linked to Output Areas through the "
                "postcode directory. Fix: add geography.postcode_directory, or segmentation.lookup.to_oa")
        return self

    @property
    def census_only(self) -> bool:
        """A config with no geography: the classification of every OA in the census tables."""
        return self.geography is None

    @field_validator("run")
    @classmethod
    def _run_slug(cls, v: str) -> str:
        if not RUN_NAME.fullmatch(v):
            raise ValueError(f"run name {v!r} may hold only letters, digits, '-' and '_'")
        return v

    @property
    def private(self) -> Path:
        return self.private_dir or Path("data") / self.run

    @property
    def outputs(self) -> Path:
        return self.outputs_dir or Path("outputs") / self.run

    @property
    def warehouse(self) -> Path:
        return self.private / "warehouse.duckdb"
