"""A resident survey (`surveys:`): read like a service extract (its file, its headers mapped to the
standard fields, its questions as outcomes), geocoded by the same rules, then weighted to the
census and estimated by segment, ward and group (pipeline/surveys, docs/surveys.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from pipeline.config.base import Strict
from pipeline.config.fields import check_slug
from pipeline.config.service import Outcome, Service

#: the margins a survey can be raked to; `a*b` crosses two of them (the census counts of an age x
#: sex cross are estimated, since the census tables cross them at no finer level than the area)
MARGINS = ("age_band", "sex", "segment", "ward")
#: the standard adult age bands of a resident survey (aged 16 and over)
SURVEY_AGE_BANDS = ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
#: the name of the numeric outcome that carries a design weight through ingest
DESIGN_WEIGHT = "design_weight"


class CensusMargin(Strict):
    """A further margin from a census table: the respondents' answers to a field the survey maps
    (e.g. ethnicity), each matched to the table's columns it counts (their sum over the area's OAs)."""

    field: str = Field(description="a field the survey maps, e.g. ethnicity")
    table: str = Field(description="the census table, e.g. ts021")
    categories: dict[str, list[str]] = Field(
        description="the respondents' answer -> the table's columns that count it, e.g. "
                    "{White: ['White'], Asian: ['Asian, Asian British or Asian Welsh']}")

    @field_validator("categories")
    @classmethod
    def _some(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        if len(v) < 2 or any(not cols for cols in v.values()):
            raise ValueError("name at least two categories, each with at least one census column")
        cols = [c for cs in v.values() for c in cs]
        if len(set(cols)) != len(cols):
            raise ValueError(f"a census column counts in two categories ({cols}). Fix: name each once")
        return v


class SurveyWeighting(Strict):
    """How the respondents are weighted to the census (pipeline/surveys/weighting.py)."""

    margins: list[str] = Field(
        default_factory=lambda: ["age_band", "sex", "segment", "ward"],
        description=f"census margins raked to, each one of {list(MARGINS)} or a cross 'age_band*sex'")
    census: list[CensusMargin] = Field(
        default_factory=list, description="further margins from census tables (e.g. ethnic group from "
                                          "TS021), raked to with the others")
    trim: float | None = Field(
        default=5.0, gt=1, description="no weight above this many times the mean weight (null: no trimming)")

    @field_validator("margins")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        parts = [p for m in v for p in m.split("*")]
        unknown = sorted({p for p in parts if p not in MARGINS})
        if unknown:
            raise ValueError(f"unknown margin(s) {unknown}; allowed are {list(MARGINS)} and crosses such as "
                             "'age_band*sex'")
        if not v:
            raise ValueError("name at least one margin, e.g. [age_band, sex, segment, ward]")
        if len(set(v)) != len(v):
            raise ValueError(f"margins {v} name one twice. Fix: name each once")
        return v


class Survey(Strict):
    name: str = Field(description="Short slug, e.g. residents_2025: warehouse tables survey_<name>")
    label: str = Field(description="Name shown to readers, e.g. Residents' survey 2025")
    file: Path
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    header_row: int | None = Field(default=None, ge=1)
    max_xlsx_mb: int = Field(default=200, ge=1)
    columns: dict[str, str | list[str]] = Field(
        description="standard field -> header: postcode and/or uprn (and address lines), age_band, sex and "
                    "other equality fields")
    design_weight: str | None = Field(default=None, description="header of the respondents' design weights")
    questions: list[Outcome] = Field(
        description="the questions estimated: yes/no, Likert (ordinal) or numeric")
    age_bands: list[str] = Field(default_factory=lambda: list(SURVEY_AGE_BANDS),
                                 description="the age bands respondents are weighted in (adults)")
    weighting: SurveyWeighting = Field(default_factory=SurveyWeighting)
    min_respondents: int = Field(
        default=30, ge=1, description="an estimate from fewer respondents is not published (the cell's "
                                      "count is also subject to the run's suppression rule)")

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        return check_slug(v, "survey")

    @field_validator("questions")
    @classmethod
    def _questions(cls, v: list[Outcome]) -> list[Outcome]:
        names = [q.name for q in v]
        if not v:
            raise ValueError("name at least one question")
        if len(set(names)) != len(names):
            raise ValueError(f"question names must be distinct (got {names})")
        if DESIGN_WEIGHT in names:
            raise ValueError(f"{DESIGN_WEIGHT!r} is the design weight's own name. Fix: rename the question")
        return v

    @model_validator(mode="after")
    def _as_extract(self) -> Survey:
        self.extract()  # the service rules: mapped fields, identifiers refused, postcode or UPRN
        for c in self.weighting.census:
            if c.field not in self.columns or c.field in MARGINS:
                raise ValueError(f"survey {self.name!r}: census margin on {c.field!r} needs a field the "
                                 "survey maps other than age_band, sex, segment and ward. Fix: map it under "
                                 "columns")
        for m in self.weighting.margins:
            for field in ("age_band", "sex"):
                if field in m.split("*") and field not in self.columns:
                    raise ValueError(f"survey {self.name!r}: margin {m!r} needs the respondents' {field}. "
                                     f"Fix: map {field} under columns, or leave {m!r} out of "
                                     "weighting.margins")
        return self

    def extract(self) -> Service:
        """The survey as a service extract, so ingest and geocode read it by their own rules; its
        tables are ingest_survey_<name> and geocode_survey_<name>."""
        outcomes = list(self.questions)
        if self.design_weight:
            outcomes.append(Outcome(name=DESIGN_WEIGHT, column=self.design_weight, label="Design weight",
                                    kind="numeric", minimum=1e-9, maximum=1e9))
        return Service(name=f"survey_{self.name}", label=self.label, file=self.file, encoding=self.encoding,
                       delimiter=self.delimiter, sheet=self.sheet, header_row=self.header_row,
                       max_xlsx_mb=self.max_xlsx_mb, columns=self.columns, outcomes=outcomes, base="adults")
