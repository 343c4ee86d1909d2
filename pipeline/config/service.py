"""A service extract: its file, the headers mapped to the standard fields (never to a person's
name, phone number or email address), the profile base and count, its equality options and its
outcome columns."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.config.access import ServiceAccess
from pipeline.config.base import Strict
from pipeline.config.fields import (
    DATE_OF_BIRTH,
    EQUALITY_FIELDS,
    MAPPABLE_FIELDS,
    check_slug,
    identifier_kind,
    identifier_problem,
)


class Equality(Strict):
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


class Outcome(Strict):
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
        return check_slug(v, "outcome")

    @model_validator(mode="after")
    def _numeric_range(self) -> Outcome:
        if not all(math.isfinite(v) and abs(v) <= OUTCOME_LIMIT for v in (self.minimum, self.maximum)) \
                or self.minimum >= self.maximum:
            raise ValueError(f"outcome {self.name!r}: minimum {self.minimum:g} and maximum {self.maximum:g} "
                             f"must be finite numbers within +-{OUTCOME_LIMIT:g}, the minimum below the "
                             "maximum. Fix: e.g. minimum: 0, maximum: 365 for days")
        # values other than the defaults, not fields set: a config written back from a loaded one
        # carries every field
        if self.kind != "numeric" and (self.minimum, self.maximum) != (0.0, OUTCOME_MAXIMUM):
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


class Service(Strict):
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
        return check_slug(v, "service")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict) -> dict:
        identifiers = [f for f in v if identifier_kind(f)]
        if identifiers:
            raise ValueError(identifier_problem("field(s)", identifiers))
        unknown = sorted(set(v) - set(MAPPABLE_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown field(s) {unknown}; allowed fields are {list(MAPPABLE_FIELDS)}"
            )
        headers = [h for f, c in v.items() for h in ([c] if isinstance(c, str) else c) if identifier_kind(h)]
        if headers:
            raise ValueError(identifier_problem("column(s)", headers))
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
            raise ValueError(identifier_problem("option column(s)", identifiers))
        return v

    @property
    def stored_fields(self) -> set[str]:
        """The standard fields the warehouse holds for this service: those mapped, with a date of
        birth stored as `age_band`."""
        return {("age_band" if f == DATE_OF_BIRTH else f) for f in self.columns}
