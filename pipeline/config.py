"""Run configuration: a YAML file validated against a schema that reports every problem at once.

A run config names the geography (Output Area and ward boundaries, the postcode directory),
the Census 2021 tables, the classification and the service extracts to profile. Relative paths
are resolved against the directory `make` and `insight` are run from (the repository root).
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: Standard record fields a service extract can map its headers to.
STANDARD_FIELDS = (
    "record_id",
    "uprn",
    "address_1",
    "address_2",
    "address_3",
    "address_4",
    "address_5",
    "postcode",
    "age_band",
    "sex",
    "ethnicity",
    "disability",
    "channel",
    "date",
)


class ConfigError(Exception):
    """A run config that cannot be used; the message lists every problem found."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: {len(problems)} problem(s) in the run config:\n{lines}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BoundaryFile(_Strict):
    """A polygon layer (GeoJSON, GeoPackage, shapefile) in any CRS; reprojected to EPSG:27700."""

    path: Path
    code_column: str
    name_column: str | None = None
    layer: str | None = None


class LookupFile(_Strict):
    """An OA -> ward lookup CSV (ONS layout: OA21CD, WD23CD, WD23NM, ...)."""

    path: Path
    oa_column: str
    ward_column: str
    ward_name_column: str | None = None


class PostcodeColumns(_Strict):
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


class PostcodeDirectory(_Strict):
    path: Path
    columns: PostcodeColumns = PostcodeColumns()
    reference_db: Path | None = Field(
        default=None,
        description="Reusable DuckDB copy of the directory (e.g. data/reference/onspd.duckdb): built "
        "once from `path`, rebuilt when the file or its columns change, attached read-only by each run. "
        "Without it every run loads the directory into its own warehouse",
    )


class GazetteerColumns(_Strict):
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


class Gazetteer(_Strict):
    path: Path
    columns: GazetteerColumns = GazetteerColumns()
    min_score: float = Field(default=85.0, ge=50, le=100, description="Lowest fuzzy score accepted")
    min_margin: float = Field(default=5.0, ge=0, description="Best score minus runner-up, at least")


class UprnLookupColumns(_Strict):
    """Header names of the UPRN lookup; defaults follow the ONS UPRN Directory (ONSUD)."""

    uprn: str = "UPRN"
    oa: str = "OA21CD"
    easting: str | None = Field(default="GRIDGB1E", description="Easting, British National Grid")
    northing: str | None = Field(default="GRIDGB1N", description="Northing, British National Grid")
    postcode: str | None = Field(default="PCDS", description="The address's postcode")


class UprnLookup(_Strict):
    """A UPRN -> Output Area lookup such as ONSUD, which ONS issues as one CSV per region."""

    path: str = Field(description="CSV file, or a glob such as data/onsud/ONSUD_*.csv for all regions")
    columns: UprnLookupColumns = UprnLookupColumns()


class Geography(_Strict):
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


class Census(_Strict):
    """Census 2021 tables per OA in the Nomis bulk CSV layout, one file per table."""

    dir: Path
    pattern: str = Field(
        default="census2021-{table}-oa*.csv",
        description="Glob for a table's file inside `dir`; {table} is e.g. ts041",
    )
    households_table: str = "ts041"


class KeyLink(_Strict):
    """A CSV linking a lookup's key (postcode or UPRN) to its Output Area."""

    path: Path
    key_column: str
    oa_column: str


class Lookup(_Strict):
    """An external classification (official OAC, a licensed Mosaic) keyed by OA, postcode or UPRN."""

    path: Path
    key: Literal["oa", "postcode", "uprn"] = "oa"
    key_column: str
    code_column: str = Field(description="top tier code (supergroup), the profiling segment")
    group_column: str | None = None
    subgroup_column: str | None = None
    to_oa: KeyLink | None = Field(
        default=None, description="key -> OA link; postcodes default to the postcode directory"
    )
    names: Path | None = Field(default=None, description="CSV with columns code,name")


class Segmentation(_Strict):
    method: Literal["kmeans", "lookup"] = "kmeans"
    k: int = Field(default=8, ge=2, le=30, description="number of supergroups")
    k_groups: int | dict[str, int] | None = Field(
        default=3, description="groups per supergroup (or code -> k); null: no group tier"
    )
    k_subgroups: int | dict[str, int] | None = Field(
        default=2, description="subgroups per group (or code -> k); null: no subgroup tier"
    )
    n_init: int = Field(default=50, ge=1, description="k-means starts for the supergroups")
    n_init_lower: int | None = Field(default=None, ge=1, description="starts per lower tier")
    variables: Path | None = Field(
        default=None, description="Variable specification CSV; default segments/spec"
    )
    add_variables: Path | None = Field(default=None, description="extra spec rows (same layout)")
    drop: list[str] = Field(default_factory=list, description="variable ids left out")
    weights: dict[str, float] = Field(default_factory=dict, description="variable id -> weight")
    scope: Literal["area", "census"] = Field(
        default="area",
        description="build on the area's OAs (default) or every OA in the census tables",
    )
    reference: Path | None = Field(
        default=None, description="CSV variable,min,max: ranges to standardise against"
    )
    lookup: Lookup | None = None
    names: Path | None = Field(
        default=None, description="CSV code,name[,description] giving segments names"
    )


class Service(_Strict):
    name: str = Field(description="Short slug used in file names, e.g. stop_smoking")
    label: str = Field(description="Name shown to readers, e.g. Stop smoking service")
    file: Path
    encoding: str | None = Field(default=None, description="e.g. utf-8, cp1252; default: detect")
    delimiter: str | None = None
    sheet: str | int | None = None
    header_row: int | None = Field(default=None, description="1-based row holding the headers")
    columns: dict[str, str | list[str]] = Field(
        description="standard field -> header in the file (or a list of candidate headers)"
    )
    options: list[str] = Field(
        default_factory=list, description="YES/NO columns profiled as sub-services"
    )
    base: str = Field(
        default="households",
        pattern=r"^(households|residents|adults|census:[a-z0-9]+:.+)$",
        description="Profile base: households | residents | adults | census:<table>:<column>[|<column>]",
    )
    count: Literal["records", "households", "persons"] = Field(
        default="records", description="What is counted: records, households (household key) or persons"
    )
    period: Literal["year", "quarter"] = Field(default="year", description="Trend period for dated records")

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", v):
            raise ValueError(
                f"service name {v!r} must be a lower-case slug (letters, digits, underscores)"
            )
        return v

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict) -> dict:
        unknown = sorted(set(v) - set(STANDARD_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown field(s) {unknown}; allowed fields are {list(STANDARD_FIELDS)}"
            )
        if "postcode" not in v and "uprn" not in v:
            raise ValueError("map at least one of 'postcode' or 'uprn' to a column")
        return v


class Suppression(_Strict):
    rule: Literal["council", "ons"] = Field(
        default="council",
        description="council: counts 1..threshold-1 shown as #; ons: under 10 hidden, others rounded to 5",
    )
    threshold: int = Field(default=5, ge=1, description="Counts 1..threshold-1 are shown as #")
    symbol: str = "#"


class Render(_Strict):
    """Map options. Base tiles are off by default: a map with tiles needs the network to view."""

    tiles: str | None = Field(default=None, description="XYZ tile URL, e.g. the council's own tile server")
    tiles_attribution: str = "Base map"


class RunConfig(_Strict):
    run: str = Field(description="Run name: private data in data/<run>, outputs in outputs/<run>")
    area_name: str
    lad_code: str | None = None
    seed: int = 2021
    private_dir: Path | None = None
    outputs_dir: Path | None = None
    geography: Geography
    census: Census
    segmentation: Segmentation = Segmentation()
    suppression: Suppression = Suppression()
    render: Render = Render()
    attribution: str = Field(
        default=(
            "Contains National Statistics data © Crown copyright and database right 2021-2025. "
            "Contains OS data © Crown copyright and database right 2025. "
            "Contains Royal Mail data © Royal Mail copyright and database right 2025. "
            "Open Government Licence v3.0."
        ),
        description="Source attribution printed on every output",
    )
    services: list[Service]

    @field_validator("run")
    @classmethod
    def _run_slug(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", v):
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


def _where(loc: tuple) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")


def _missing_files(cfg: RunConfig) -> list[str]:
    problems = []
    g = cfg.geography
    files = {
        "geography.oa_boundaries.path": g.oa_boundaries.path,
        "geography.wards.path": g.wards.path,
        "geography.postcode_directory.path": g.postcode_directory.path,
        "census.dir": cfg.census.dir,
    }
    if g.oa_to_ward:
        files["geography.oa_to_ward.path"] = g.oa_to_ward.path
    if g.gazetteer:
        files["geography.gazetteer.path"] = g.gazetteer.path
    if cfg.segmentation.lookup:
        files["segmentation.lookup.path"] = cfg.segmentation.lookup.path
    if g.uprn_lookup and not glob.glob(g.uprn_lookup.path):
        problems.append(f"geography.uprn_lookup.path: no file matches {g.uprn_lookup.path} "
                        "(fix the path or glob)")
    for i, s in enumerate(cfg.services):
        files[f"services[{i}].file ({s.name})"] = s.file
    for where, path in files.items():
        if not Path(path).exists():
            problems.append(f"{where}: no such file or folder: {path} (fix the path or create it)")
    if cfg.segmentation.method == "lookup" and cfg.segmentation.lookup is None:
        problems.append("segmentation.lookup: method 'lookup' needs a lookup: block")
    names = [s.name for s in cfg.services]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"services: the name {dup!r} is used more than once; names must differ")
    return problems


def load_config(path: Path | str, check_files: bool = True) -> RunConfig:
    """Read and validate a run config; raise ConfigError listing every problem together."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(path, ["file not found"])
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(path, [f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(path, ["the file must hold a YAML mapping (key: value lines)"])
    try:
        cfg = RunConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            value = err.get("input")
            shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
            problems.append(f"{_where(err['loc'])}: {err['msg']}{shown}")
        raise ConfigError(path, problems) from None
    if check_files:
        problems = _missing_files(cfg)
        if problems:
            raise ConfigError(path, problems)
    return cfg
