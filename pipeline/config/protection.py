"""What keeps people from being identified: the suppression of small counts in every shareable
table, and the privacy settings (how long record-level data is kept, how a date of birth becomes an
age band)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.config.base import Strict

#: The age bands of the council guidance a date of birth becomes: label -> lowest age in the band.
DEFAULT_AGE_BANDS = {"Under 18": 0, "18-24": 18, "25-44": 25, "45-64": 45, "65-74": 65, "75+": 75}
#: The oldest plausible age (`privacy.max_age`): a date of birth giving an older age is implausible
DEFAULT_MAX_AGE = 110
#: The smallest suppression threshold allowed without `allow_small_threshold: true`.
SAFE_THRESHOLD = 5
#: The smallest count the ons suppression rule shows (`Suppression.min_shown`).
ONS_MIN_SHOWN = 10


class Suppression(Strict):
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


class Privacy(Strict):
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
