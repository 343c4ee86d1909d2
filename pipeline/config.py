"""Run configuration: a YAML file validated against a schema that reports every problem at once.

A run config names the geography (Output Area and ward boundaries, the postcode directory),
the Census 2021 tables, the classification and the service extracts to profile. Relative paths
are resolved against the directory `make` and `insight` are run from (the repository root).
"""

from __future__ import annotations

import glob
import logging
import math
import re
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline import paths
from pipeline.errors import InsightError

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
    "disability_type",
    "religion",
    "sexual_orientation",
    "gender_identity",
    "channel",
    "date",
)
#: The standard fields profiled against the census as equality characteristics.
EQUALITY_FIELDS = ("age_band", "sex", "disability", "disability_type", "ethnicity", "religion",
                   "sexual_orientation", "gender_identity")


logger = logging.getLogger(__name__)

#: A field an extract may map that is never stored: it is turned into `age_band` as it is read.
DATE_OF_BIRTH = "date_of_birth"
#: Every field a service may map: the standard fields and the date of birth.
MAPPABLE_FIELDS = (*STANDARD_FIELDS, DATE_OF_BIRTH)
#: The age bands of the council guidance a date of birth becomes: label -> lowest age in the band.
DEFAULT_AGE_BANDS = {"Under 18": 0, "18-24": 18, "25-44": 25, "45-64": 45, "65-74": 65, "75+": 75}
#: The oldest plausible age (`privacy.max_age`): a date of birth giving an older age is implausible
DEFAULT_MAX_AGE = 110
#: Fields and headers that would hold a name, phone number or email address (compared without case,
#: spaces or punctuation). They identify a person directly and profiling needs none of them, so
#: they can never be mapped (UK GDPR Article 5(1)(c), data minimisation).
_WHO = (r"(?:client|customer|member|contact|applicant|resident|person|patient|user|serviceuser|"
        r"primary|secondary|main|home|work|daytime|evening|alt|alternative|alternate|preferred|"
        r"personal|parent|carer|guardian|nextofkin|nok|mobile|private|business)?")
IDENTIFIER_PATTERNS = (
    ("email address", rf"{_WHO}email(?:address|addr|add)?\d*"),
    ("phone number", rf"{_WHO}(?:tel|telephone|phone|mob|mobile|landline|fax|cell|cellphone)"
                     r"(?:no|num|number)?\d*|contact(?:no|num|number)\d*"),
    ("name", rf"{_WHO}(?:full|first|last|given|family|middle|maiden|sur|fore|christian)?"
             r"names?\d*|initials?|knownas|nickname|alias"),
)
_IDENTIFIERS = tuple((kind, re.compile(pattern)) for kind, pattern in IDENTIFIER_PATTERNS)
#: A service or outcome name: it names files and columns (lower-case letters, digits, underscores)
SLUG = re.compile(r"[a-z][a-z0-9_]*")
#: A run name: it names outputs/<run>/ and data/<run>/ (and an area made by `insight area`)
RUN_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _slug(v: str, what: str) -> str:
    if not SLUG.fullmatch(v):
        raise ValueError(f"{what} name {v!r} must be a lower-case slug (letters, digits, underscores)")
    return v


def identifier_kind(name: str) -> str | None:
    """'name', 'phone number' or 'email address' when a field or header would hold one (e.g.
    'Forename', 'Surname', 'Client Name', 'Tel No', 'Mobile', 'E-mail'); None otherwise ('Street
    Name', 'Ward name' and 'Building Name' are not a person's name)."""
    norm = re.sub(r"[^a-z0-9]+", "", str(name).lower())
    return next((kind for kind, rx in _IDENTIFIERS if rx.fullmatch(norm)), None)


def identifier_kinds(names: list[str]) -> str:
    """The kinds of identifier `names` would hold, in words: 'names or phone numbers'."""
    plural = {"name": "names", "phone number": "phone numbers", "email address": "email addresses"}
    return " or ".join(plural[k] for k in plural if k in {identifier_kind(n) for n in names})


def _identifier_problem(where: str, names: list[str]) -> str:
    return (f"{where} {names} would hold {identifier_kinds(names)}, which the pipeline never reads: they "
            "identify a person directly, and profiling needs only where a record is (address, "
            "postcode or UPRN) and its equality fields (data minimisation, UK GDPR Article 5(1)(c)). "
            "Fix: remove the mapping; the column can stay in the extract, where it is not read")


#: The smallest suppression threshold allowed without `allow_small_threshold: true`.
SAFE_THRESHOLD = 5
#: The smallest count the ons suppression rule shows (`Suppression.min_shown`).
ONS_MIN_SHOWN = 10
#: British National Grid, the CRS every boundary, point and gazetteer coordinate is held in
BNG = "EPSG:27700"
#: WGS84 longitude/latitude, the CRS maps are drawn in (only when drawn)
WGS84 = "EPSG:4326"
#: The attribution of every output unless the run config gives its own (`attribution`); a map or
#: workbook written without one takes it too (`pipeline.publish.notes`). Plain text: it is escaped
#: where it is written.
DEFAULT_ATTRIBUTION = (
    "Contains National Statistics data © Crown copyright and database right 2021-2025. "
    "Contains OS data © Crown copyright and database right 2025. "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025. "
    "Open Government Licence v3.0."
)


class UserError(InsightError):
    """A problem with the user's config or files (not a bug): reported as `error:` lines with the
    fix, never as a traceback. `problems` lists every problem found, each on its own."""

    def __init__(self, headline: str, problems: list[str]):
        super().__init__(headline, problems)


class ConfigError(UserError):
    """A run config that cannot be used; the message lists every problem found."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        super().__init__(f"{self.path}: {len(problems)} problem(s) in the run config:", problems)


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

    def _changed(self, names: tuple[str, ...]) -> list[str]:
        """Those of `names` the config sets to something other than their default."""
        fields = type(self).model_fields
        return [n for n in names if n in self.model_fields_set
                and getattr(self, n) != fields[n].get_default(call_default_factory=True)]

    @model_validator(mode="after")
    def _settings_the_method_uses(self) -> Segmentation:
        """A setting the method never reads is an error, not silently ignored: the k-means settings
        with `method: lookup` (the classification is loaded, not built), a `lookup` block with
        `method: kmeans`."""
        if self.method == "lookup":
            unused = self._changed(KMEANS_ONLY)
            if unused:
                shown = ", ".join(f"{n}: {getattr(self, n)!r}" for n in unused)
                raise ValueError(
                    f"segmentation.{shown} does nothing with method: lookup (the classification is loaded "
                    f"from segmentation.lookup, not built by k-means; {', '.join(KMEANS_ONLY)} are k-means "
                    f"settings). Fix: remove {', '.join(unused)}, or set method: kmeans")
        elif self.lookup is not None:
            raise ValueError("segmentation.lookup does nothing with method: kmeans (the classification is "
                             "built from the census). Fix: set method: lookup to load it, or remove the "
                             "lookup block")
        return self

    @property
    def warnings(self) -> list[str]:
        """Settings that do less than they may seem to: with `method: lookup`, the variable settings
        change only how the loaded classification is described on the census (pen portraits,
        charts), never its segments."""
        if self.method != "lookup":
            return []
        described = self._changed(DESCRIPTION_ONLY)
        if not described:
            return []
        return [f"segmentation.{', '.join(described)} with method: lookup change only how the loaded "
                "classification is described on the census (pen portraits, charts), not which segment an "
                "Output Area is in. Fix: remove them unless that is what you want"]


#: Segmentation settings only k-means reads, and those that with `method: lookup` only describe
KMEANS_ONLY = ("k", "k_groups", "k_subgroups", "n_init", "n_init_lower")
DESCRIPTION_ONLY = ("variables", "add_variables", "drop", "weights", "scope", "reference")


class Equality(_Strict):
    """Equality monitoring options of a service (docs/profiles.md, 'Equality categories')."""

    codes: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="characteristic -> {code in the extract: standard category, age band (e.g. 25-44) "
                    "or 'Prefer not to say'}, for codes the built-in lists do not know",
    )
    age_bands: list[str] = Field(
        default_factory=list, description="age bands always shown, even with no users (e.g. 85-94)"
    )
    incomplete_share: float = Field(
        default=0.02, ge=0, le=1,
        description="a view is marked incomplete when more than this share of its records carry "
                    "codes that are not recognised",
    )
    code_lists: list[Literal["nhs_ethnic_category"]] = Field(
        default_factory=list,
        description="built-in code lists of other schemes to read the extract's codes by: "
                    "'nhs_ethnic_category', the NHS Data Dictionary's ETHNIC CATEGORY letters (A-S, Z "
                    "not stated, 99 not known); the service's own `codes` come first",
    )

    @field_validator("codes")
    @classmethod
    def _known_characteristics(cls, v: dict) -> dict:
        unknown = sorted(set(v) - set(EQUALITY_FIELDS))
        if unknown:
            raise ValueError(f"unknown characteristic(s) {unknown}; allowed are {list(EQUALITY_FIELDS)}")
        return v


#: A numeric outcome's default largest value, and the bound of any configured range (means of values
#: beyond it cannot be held exactly; 10^11 days to resolve is a typing error, not an outcome)
OUTCOME_MAXIMUM = 1_000_000.0
OUTCOME_LIMIT = 1e12


class Outcome(_Strict):
    """An outcome or satisfaction column of an extract (see pipeline/profiles/outcomes.py).

    binary: `success` values count as achieved, `failure` values as not achieved, anything else
    (blank, unrecognised) as no recorded outcome; ordinal: `scale` lists the answers worst first
    (scores 1..n), `satisfied_from` is the first answer counted as satisfied, `dont_know` answers
    are counted apart; numeric: a number (e.g. days to resolve)."""

    name: str = Field(description="Short slug, e.g. quit_4wk: warehouse column outcome_<name>")
    column: str | list[str] = Field(description="Header in the file (or candidate headers)")
    label: str | None = Field(default=None, description="Name shown to readers")
    kind: Literal["binary", "ordinal", "numeric"]
    better: Literal["higher", "lower"] = Field(
        default="higher", description="lower for complaints or days to resolve: who is worse served")
    success: list[str] = Field(default_factory=lambda: ["yes", "y", "true", "1"])
    failure: list[str] = Field(default_factory=lambda: ["no", "n", "false", "0"])
    scale: list[str] = Field(default_factory=list, description="ordinal answers, worst first")
    satisfied_from: str | None = Field(default=None, description="ordinal: first answer counted as satisfied")
    dont_know: list[str] = Field(
        default_factory=lambda: ["don't know", "dont know", "do not know", "not sure", "not known", "unknown",
                                 "n/a"],
        description="answers that record no outcome: counted apart (ordinal), or as no recorded outcome")
    minimum: float = Field(default=0.0, description="numeric: the smallest value accepted (default 0)")
    maximum: float = Field(default=OUTCOME_MAXIMUM, description="numeric: the largest value accepted")
    rejected_share: float = Field(
        default=0.02, ge=0, le=1, description="warn when more than this share of the values given are "
                                              "rejected (not recognised, not a number or out of range)")

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        return _slug(v, "outcome")

    @model_validator(mode="after")
    def _numeric_range(self) -> Outcome:
        if not all(math.isfinite(v) and abs(v) <= OUTCOME_LIMIT for v in (self.minimum, self.maximum)) \
                or self.minimum >= self.maximum:
            raise ValueError(f"outcome {self.name!r}: minimum {self.minimum:g} and maximum {self.maximum:g} "
                             f"must be finite numbers within +-{OUTCOME_LIMIT:g}, the minimum below the "
                             "maximum. Fix: e.g. minimum: 0, maximum: 365 for days")
        if self.kind != "numeric" and {"minimum", "maximum"} & self.model_fields_set:
            raise ValueError(f"outcome {self.name!r}: minimum and maximum do nothing for a {self.kind} "
                             "outcome. Fix: remove them, or set kind: numeric")
        return self

    @model_validator(mode="after")
    def _ordinal_scale(self) -> Outcome:
        if self.kind == "ordinal":
            if len(self.scale) < 2:
                raise ValueError(f"ordinal outcome {self.name!r} needs a `scale` of at least two answers, "
                                 "worst first")
            low = [s.strip().lower() for s in self.scale]
            if self.satisfied_from is not None and self.satisfied_from.strip().lower() not in low:
                raise ValueError(f"outcome {self.name!r}: satisfied_from {self.satisfied_from!r} is not in "
                                 f"its scale {self.scale}")
        return self


class PointColumns(_Strict):
    """Header names of a service-points file."""

    name: str = "name"
    type: str | None = Field(default="type", description="kind of point (clinic, library, tip)")
    postcode: str | None = Field(default="postcode", description="located through the postcode directory")
    easting: str | None = Field(default="easting", description="EPSG:27700; used before the postcode")
    northing: str | None = "northing"


class PointsFile(_Strict):
    """A CSV or XLSX of service points (name, type, postcode or easting/northing), or of candidate
    locations for a new point (see pipeline/profiles/access.py)."""

    path: Path
    columns: PointColumns = PointColumns()
    sheet: str | int | None = None


class CentroidFile(_Strict):
    """OA population-weighted centroids (ONS 'Output Areas (2021) Population Weighted Centroids'):
    a CSV with the OA code and x/y in EPSG:27700."""

    path: Path
    code_column: str = "OA21CD"
    x_column: str = "x"
    y_column: str = "y"


class Access(_Strict):
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


class ServiceAccess(_Strict):
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


class Service(_Strict):
    name: str = Field(description="Short slug used in file names, e.g. stop_smoking")
    label: str = Field(description="Name shown to readers, e.g. Stop smoking service")
    file: Path
    encoding: str | None = Field(default=None, description="e.g. utf-8, cp1252; default: detect")
    delimiter: str | None = None
    sheet: str | int | None = None
    header_row: int | None = Field(default=None, ge=1, description="1-based row holding the headers")
    max_xlsx_mb: int = Field(default=200, ge=1, description="the most an .xlsx extract may expand to "
                             "when unzipped, in MB: a workbook beyond it is refused before it is parsed "
                             "(a guard against a file that would exhaust memory)")
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
    equality: Equality = Field(default_factory=Equality, description="equality code map and options")
    outcomes: list[Outcome] = Field(
        default_factory=list, description="Outcome or satisfaction columns: profiled by segment, ward, group"
    )
    access: ServiceAccess | None = Field(
        default=None, description="service points: distance bands, catchments and candidate locations")

    @field_validator("outcomes")
    @classmethod
    def _distinct_outcomes(cls, v: list) -> list:
        names = [o.name for o in v]
        if len(set(names)) != len(names):
            raise ValueError(f"outcome names must be distinct (got {names})")
        return v

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        return _slug(v, "service")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict) -> dict:
        identifiers = [f for f in v if identifier_kind(f)]
        if identifiers:
            raise ValueError(_identifier_problem("field(s)", identifiers))
        unknown = sorted(set(v) - set(MAPPABLE_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown field(s) {unknown}; allowed fields are {list(MAPPABLE_FIELDS)}"
            )
        headers = [h for f, c in v.items() for h in ([c] if isinstance(c, str) else c) if identifier_kind(h)]
        if headers:
            raise ValueError(_identifier_problem("column(s)", headers))
        if "age_band" in v and DATE_OF_BIRTH in v:
            raise ValueError("both 'age_band' and 'date_of_birth' are mapped, but a date of birth is "
                             "stored as its age band. Fix: map only one of them")
        if "postcode" not in v and "uprn" not in v:
            raise ValueError("map at least one of 'postcode' or 'uprn' to a column")
        return v

    @field_validator("options")
    @classmethod
    def _no_identifier_options(cls, v: list[str]) -> list[str]:
        identifiers = [o for o in v if identifier_kind(o)]
        if identifiers:
            raise ValueError(_identifier_problem("option column(s)", identifiers))
        return v

    @property
    def stored_fields(self) -> set[str]:
        """The standard fields the warehouse holds for this service: those mapped, with a date of
        birth stored as `age_band`."""
        return {("age_band" if f == DATE_OF_BIRTH else f) for f in self.columns}


class Suppression(_Strict):
    rule: Literal["council", "ons"] = Field(
        default="council",
        description="council: counts 1..threshold-1 shown as #; ons: under 10 hidden, others rounded to 5",
    )
    threshold: int = Field(default=SAFE_THRESHOLD, ge=1,
                           description="council rule: counts 1..threshold-1 are shown as # (the ons "
                           "rule hides counts under 10 whatever this says)")
    allow_small_threshold: bool = Field(
        default=False,
        description=f"Must be true for a threshold below {SAFE_THRESHOLD}, which publishes small counts",
    )
    symbol: str = "#"

    @field_validator("symbol")
    @classmethod
    def _visible_symbol(cls, v: str) -> str:
        if not v.strip() or re.fullmatch(r"\s*[-+]?[\d.,]+\s*", v):
            raise ValueError(f"symbol {v!r} would read as a count or as nothing. "
                             "Fix: use a mark such as '#' or '*'")
        return v

    @model_validator(mode="after")
    def _small_threshold_needs_consent(self) -> Suppression:
        if self.small and not self.allow_small_threshold:
            raise ValueError(
                f"threshold {self.threshold} would publish counts from {self.threshold} to "
                f"{SAFE_THRESHOLD - 1}, which can identify people in small areas. Fix: set "
                f"suppression.threshold to {SAFE_THRESHOLD} or more, or, if your information "
                "governance officer has agreed the smaller threshold, add "
                "`allow_small_threshold: true` to the suppression block"
            )
        return self

    @property
    def min_shown(self) -> int:
        """The smallest count shown: counts 1..min_shown-1 are hidden. `threshold` under the council
        rule, ONS_MIN_SHOWN (10) under the ons rule. Every sentence that names the threshold
        (notes, manifest, match report) says this number."""
        return ONS_MIN_SHOWN if self.rule == "ons" else self.threshold

    @property
    def small(self) -> bool:
        """True when the council rule publishes counts below the safe threshold."""
        return self.rule == "council" and self.threshold < SAFE_THRESHOLD

    @property
    def warning(self) -> str | None:
        """The warning every run summary and output note must carry when small counts are
        published (a threshold below 5, allowed explicitly); None otherwise."""
        if not self.small:
            return None
        shown = f"{self.threshold}" if self.threshold == SAFE_THRESHOLD - 1 else (
            f"{self.threshold} to {SAFE_THRESHOLD - 1}")
        return (f"WARNING: small-number suppression was lowered to a threshold of {self.threshold} "
                f"(allow_small_threshold: true; the default is {SAFE_THRESHOLD}), so counts of "
                f"{shown} are published. Check with your information governance officer before "
                "sharing these outputs.")


class Privacy(_Strict):
    """How long record-level data is kept, and how a date of birth becomes an age band."""

    retention_days: int = Field(
        default=90, ge=1,
        description="days the record-level tables and rejects are kept after a run; `insight purge` "
        "removes them after that (the aggregates are kept)",
    )
    age_bands: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_AGE_BANDS),
        description="label -> lowest age: the bands a mapped date_of_birth becomes (put in age order)",
    )
    age_reference_date: date | None = Field(
        default=None,
        description="the day ages are taken on (yyyy-mm-dd) for every record; default: the record's "
        "own `date` where the service maps one and it is a date, else the day the run starts",
    )
    max_age: int = Field(
        default=DEFAULT_MAX_AGE, ge=18, le=125,
        description="the oldest plausible age: a date of birth giving an older age (or one after the day "
        "the age is taken on) is implausible, counted and reported, and has no age band",
    )

    @field_validator("age_bands")
    @classmethod
    def _bands(cls, v: dict[str, int]) -> dict[str, int]:
        v = dict(sorted(v.items(), key=lambda band: band[1]))  # by lowest age, whatever the YAML order
        lows = list(v.values())
        if not v or lows[0] != 0 or any(b <= a for a, b in zip(lows, lows[1:], strict=False)) \
                or any(not str(label).strip() for label in v):
            raise ValueError(f"age_bands must name each band with its lowest age, a different age for "
                             f"each band, the youngest 0 (got {v}). Fix: e.g. {DEFAULT_AGE_BANDS}")
        return v


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
    access: Access = Field(default_factory=Access, description="service-point files and distance bands")

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
        if self.services or seg.scope != "census":
            raise ValueError(
                "geography: Field required (the area's OA boundaries, wards and postcode directory). "
                "Fix: add a geography block; only a classification built from the census tables alone "
                "(segmentation.scope: census and no services) may leave it out")
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


def _where(loc: tuple) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")


_MERGE_TAG = "tag:yaml.org,2002:merge"


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate mapping keys at any depth (YAML would silently keep the
    last one: a second `suppression:` block could switch suppression off unseen). The composed
    node graph is walked once per node, so an alias bomb costs no more than its own size."""

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        self.duplicates = duplicate_keys(node)
        return self.construct_document(node)


def duplicate_keys(root: yaml.Node) -> list[str]:
    """One problem per key repeated in a mapping, naming its path and both lines."""
    problems, seen_nodes = [], set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack += [(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                    continue
                where = f"{path}.{key.value}" if path else key.value
                line = key.start_mark.line + 1
                if (key.tag, key.value) in first:
                    problems.append(
                        f"{where}: the key {key.value!r} appears twice (lines {first[key.tag, key.value]} "
                        f"and {line}); YAML would silently keep only the last. Fix: delete one of "
                        "them or merge the two into one")
                else:
                    first[key.tag, key.value] = line
                stack.append((value, where))
    return sorted(problems)


def read_yaml(path: Path) -> object:
    """The parsed YAML of `path`; raise ConfigError for a syntax error or repeated keys."""
    loader = StrictLoader(path.read_text(encoding="utf-8"))
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(path, [f"not valid YAML: {exc}"]) from None
    except RecursionError:
        raise ConfigError(path, ["the YAML is nested too deeply to read"]) from None
    finally:
        loader.dispose()
    if getattr(loader, "duplicates", None):
        raise ConfigError(path, loader.duplicates)
    return data


def missing_files(cfg: RunConfig) -> list[str]:
    """Input files that do not exist, and service names used twice."""
    problems = []
    g = cfg.geography
    globbed = ("census.dir (", "geography.uprn_lookup")  # files found by a glob exist
    files = {k: v for k, v in paths.inputs(cfg).items() if not k.startswith(globbed)}
    files["census.dir"] = cfg.census.dir
    if g is not None and g.uprn_lookup and not glob.glob(g.uprn_lookup.path):
        problems.append(f"geography.uprn_lookup.path: no file matches {g.uprn_lookup.path}. Fix: correct "
                        "the path or glob")
    for where, path in files.items():
        if not Path(path).exists():
            problems.append(f"{where}: no such file or folder: {path}. Fix: correct the path, or create it")
    if cfg.segmentation.method == "lookup" and cfg.segmentation.lookup is None:
        problems.append("segmentation.lookup: method 'lookup' needs a lookup: block. Fix: add one, or use "
                        "method: kmeans")
    names = [s.name for s in cfg.services]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"services: the name {dup!r} is used more than once. Fix: give each service its "
                        "own name")
    return problems


def schema_problems(raw: object) -> list[str]:
    """The schema's problems with parsed YAML, one per line, each naming where it is."""
    if not isinstance(raw, dict):
        return ["the file must hold a YAML mapping (key: value lines)"]
    try:
        RunConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            value = err.get("input")
            shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
            message = err["msg"].removeprefix("Value error, ")
            where = _where(err["loc"])
            problems.append(f"{where}: {message}{shown}" if where else message)
        return problems
    return []


def load_config(path: Path | str, check_files: bool = True) -> RunConfig:
    """Read and validate a run config; raise ConfigError listing every problem together.

    Always checks the schema, repeated keys and where the run would write
    (`pipeline.paths.folder_problems`, `reference_problems`); with `check_files`, also that
    every input file exists. The contents of the files are checked by `pipeline.validate`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, ["file not found" if not path.exists() else "not a file"])
    raw = read_yaml(path)
    problems = schema_problems(raw)
    if problems:
        raise ConfigError(path, problems)
    cfg = RunConfig.model_validate(raw)
    problems = paths.folder_problems(cfg) + paths.reference_problems(cfg)
    if check_files:
        problems += missing_files(cfg)
    if problems:
        raise ConfigError(path, problems)
    return cfg
