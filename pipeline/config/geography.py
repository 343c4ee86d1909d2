"""The area's reference files: Output Area and ward boundaries, the OA -> ward lookup, the
postcode directory, the gazetteer, the UPRN lookup and the Census 2021 tables, with the coordinate
reference systems they are held and drawn in."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from pipeline.config.base import Strict

#: British National Grid, the CRS every boundary, point and gazetteer coordinate is held in
BNG = "EPSG:27700"
#: WGS84 longitude/latitude, the CRS maps are drawn in (only when drawn)
WGS84 = "EPSG:4326"


class BoundaryFile(Strict):
    """A polygon layer (GeoJSON, GeoPackage, shapefile) in any CRS; reprojected to EPSG:27700."""

    path: Path
    code_column: str
    name_column: str | None = None
    layer: str | None = None


class LookupFile(Strict):
    """An OA -> ward lookup CSV (ONS layout: OA21CD, WD23CD, WD23NM, LAD23CD, ...)."""

    path: Path
    oa_column: str
    ward_column: str
    ward_name_column: str | None = None
    lad_column: str | None = Field(
        default=None, description="the local authority (LAD) column (LAD23CD): lets the maps of a "
        "region or the country be drawn by local authority (render.map_level)")


class PostcodeColumns(Strict):
    """Header names of the postcode directory; defaults follow the ONSPD/NSPL layout."""

    postcode: str = "pcds"
    oa: str | None = Field(
        default="oa21cd",
        description="Output Area column; null for a directory without one (OS Code-Point Open): each "
        "postcode then takes the area's OA holding its point, and a point outside them is out of area",
    )
    ward: str | None = "osward"
    lad: str | None = "oslaua"
    easting: str | None = "oseast1m"
    northing: str | None = "osnrth1m"
    terminated: str | None = Field(
        default="doterm", description="Termination date (yyyymm); blank for live postcodes"
    )
    live_flag: str | None = Field(
        default=None, description="Alternative to `terminated`: a True/False 'is live' column"
    )
    grid_quality: str | None = Field(
        default="osgrdind",
        description="Grid reference quality (ONSPD osgrdind): 9 = no grid reference, a non-geographic "
        "postcode such as a PO box",
    )
    user_type: str | None = Field(default="usertype", description="ONSPD usertype: 1 = large user, 0 = small")

    @model_validator(mode="after")
    def _points_when_no_oa(self) -> PostcodeColumns:
        if self.oa is None and (self.easting is None or self.northing is None):
            raise ValueError("a directory without an OA column (oa: null) needs its easting and northing "
                             "columns, to place each postcode in an OA by point in polygon")
        return self


class PostcodeDirectory(Strict):
    path: Path
    columns: PostcodeColumns = PostcodeColumns()
    reference_db: Path | None = Field(
        default=None,
        description="Reusable DuckDB copy of the directory (e.g. data/reference/onspd.duckdb): built "
        "once from `path`, rebuilt when the file or its columns change, attached read-only by each run. "
        "Without it every run loads the directory into its own warehouse",
    )


class GazetteerColumns(Strict):
    """Header names of the gazetteer; defaults follow an LLPG / AddressBase-style export."""

    uprn: str = "UPRN"
    saon: str | None = Field(default="SAON", description="Secondary addressable object: 'Flat 2'")
    paon: str | None = Field(default="PAON", description="Primary addressable object: '5', 'Rose Cottage'")
    street: str = "STREET"
    locality: str | None = "LOCALITY"
    town: str | None = "TOWN"
    postcode: str = "POSTCODE"
    x: str = Field(default="X", description="Easting, British National Grid")
    y: str = Field(default="Y", description="Northing, British National Grid")
    class_code: str | None = Field(default=None, description="AddressBase classification code (R... "
                                   "residential); `insight area` writes CLASS")
    parent_uprn: str | None = Field(default=None, description="The parent UPRN (a flat's building)")


class Gazetteer(Strict):
    """The council's gazetteer: a flat CSV under `columns`, or a published layout recognised by its
    content (AddressBase Plus, Core or Premium, an LLPG export in DTF 8.1, OS Open UPRN; zipped or
    not; `pipeline.address.published`), for which `columns` is not used."""

    path: Path
    columns: GazetteerColumns = GazetteerColumns()
    min_score: float = Field(default=85.0, ge=50, le=100, description="Lowest fuzzy score accepted")
    min_margin: float = Field(default=5.0, ge=0, description="Best score minus runner-up, at least")


class UprnLookupColumns(Strict):
    """Header names of the UPRN lookup; defaults follow the ONS UPRN Directory (ONSUD)."""

    uprn: str = "UPRN"
    oa: str = "OA21CD"
    easting: str | None = Field(default="GRIDGB1E", description="Easting, British National Grid")
    northing: str | None = Field(default="GRIDGB1N", description="Northing, British National Grid")
    postcode: str | None = Field(default="PCDS", description="The address's postcode")


class UprnLookup(Strict):
    """A UPRN -> Output Area lookup such as ONSUD, which ONS issues as one CSV per region."""

    path: str = Field(description="CSV file, or a glob such as data/onsud/ONSUD_*.csv for all regions")
    columns: UprnLookupColumns = UprnLookupColumns()


class Geography(Strict):
    oa_boundaries: BoundaryFile
    wards: BoundaryFile
    oa_to_ward: LookupFile | None = Field(
        default=None,
        description="OA -> ward lookup; without it each OA takes the ward holding its centroid",
    )
    postcode_directory: PostcodeDirectory
    gazetteer: Gazetteer | None = Field(
        default=None, description="Address gazetteer (LLPG export) for UPRN and address matching"
    )
    uprn_lookup: UprnLookup | None = Field(
        default=None,
        description="UPRN -> OA lookup (ONSUD layout) for records whose UPRN the gazetteer lacks, "
        "or for runs with no gazetteer",
    )


class Census(Strict):
    """Census 2021 tables per OA in the Nomis bulk CSV layout, one file per table."""

    dir: Path
    pattern: str = Field(
        default="census2021-{table}-oa*.csv",
        description="Glob for a table's file inside `dir`; {table} is e.g. ts041",
    )
    households_table: str = "ts041"
