"""The age rule: a date of birth becomes an age band as it is read, and the date itself is never stored.

:class:`AgeRule` holds the configured bands (`privacy.age_bands`), the reference day and the
oldest plausible age (`privacy.max_age`); it installs the DuckDB macros the ingest stage reads
with (`insight_age`, `insight_band`, `insight_dob_status`, `insight_age_band`), gives the SQL of a
column's band and status, and says in words which day the age is taken on, for the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import duckdb

from pipeline import dates
from pipeline.config import DEFAULT_MAX_AGE, RunConfig, Service
from pipeline.warehouse import execute

#: Ages outside 0..MAX_AGE never give an age band, whatever the config; `privacy.max_age` (default
#: 110, at most MAX_AGE) is the oldest plausible age of the rule (`AgeRule.max_age`).
MAX_AGE = 125
#: What a date of birth given is (`insight_dob_status`): an age band's, or why it has none
DOB_STATUSES = ("ok", "unreadable", "future", "too_old")


@dataclass(frozen=True)
class AgeRule:
    """How a date of birth becomes an age band: the age in whole years on the reference day (the
    configured `privacy.age_reference_date` for every record; else the record's own `date` where
    the service maps one and it reads as a date; else the day the run started), then the last band
    (`privacy.age_bands`, label -> lowest age) whose lowest age it reaches. A date that cannot be
    read by the one date rule (`pipeline.dates`) ('unreadable'), falls after the reference day
    ('future') or gives an age over `max_age` (`privacy.max_age`, default 110: 'too_old') gives no
    band; the macro `insight_dob_status(dob, day)` says which, and the ingest stage counts each
    for the run's notes, `insight validate` and the privacy manifest."""

    bands: Mapping[str, int]
    reference: date | None
    run_date: date
    max_age: int = DEFAULT_MAX_AGE

    @classmethod
    def of(cls, cfg: RunConfig, run_date: date | None = None) -> AgeRule:
        return cls(dict(cfg.privacy.age_bands), cfg.privacy.age_reference_date, run_date or date.today(),
                   cfg.privacy.max_age)

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Define the temporary macros `insight_date(text)` (the one date rule, `pipeline.dates`) and
        `insight_age_band(dob, day)` on `con`."""
        dates.install(con)
        execute(con, "age_macro", "CREATE OR REPLACE TEMP MACRO insight_age(d, r) AS "
                "year(r) - year(d) - CAST(strftime(r, '%m%d') < strftime(d, '%m%d') AS INTEGER)")
        ordered = sorted(self.bands.items(), key=lambda b: -b[1])  # bound, never in the SQL text
        lows, labels = [int(low) for _, low in ordered], [label for label, _ in ordered]
        execute(con, "age_band_lows", "SET VARIABLE insight_band_lows = ?", [lows])
        execute(con, "age_band_labels", "SET VARIABLE insight_band_labels = ?", [labels])
        execute(con, "age_band_macro", self.band_macro_sql())
        execute(con, "dob_max_age", "SET VARIABLE insight_max_age = ?", [int(self.max_age)])
        execute(con, "dob_status_macro", self.status_macro_sql())
        execute(con, "age_band_of_dob_macro", "CREATE OR REPLACE TEMP MACRO insight_age_band(dob, day) AS "
                "CASE WHEN insight_dob_status(dob, day) = 'ok' "
                "THEN insight_band(insight_age(insight_date(dob), day)) END")

    def status_macro_sql(self) -> str:
        """The macro `insight_dob_status(dob, day)`: NULL for a blank date of birth, else one of
        DOB_STATUSES: 'unreadable' (not a date by the one rule), 'future' (after `day`), 'too_old'
        (an age over `max_age` on `day`), or 'ok'. `max_age` is bound by `install` into the session
        variable `insight_max_age`."""
        return ("CREATE OR REPLACE TEMP MACRO insight_dob_status(dob, day) AS "
                "CASE WHEN nullif(trim(CAST(dob AS VARCHAR)), '') IS NULL THEN NULL "
                "WHEN insight_date(dob) IS NULL THEN 'unreadable' "
                "WHEN insight_age(insight_date(dob), day) < 0 THEN 'future' "
                "WHEN insight_age(insight_date(dob), day) > getvariable('insight_max_age') THEN 'too_old' "
                "ELSE 'ok' END")

    def status_sql(self, dob: str, record_date: str | None) -> str:
        """SQL of the status (`insight_dob_status`) of the date-of-birth column `dob`."""
        return f"insight_dob_status({dob}, {self.day_sql(record_date)})"

    def band_macro_sql(self) -> str:
        """The macro `insight_band(age)`: the label of the highest band whose lower age the age
        reaches. The config's ages and labels are bound into session variables by `install`
        (highest first: `insight_band_lows`, `insight_band_labels`); the text holds only one WHEN
        per band. A NULL age (no readable date) fails every test and gives NULL."""
        cases = " ".join(f"WHEN a >= getvariable('insight_band_lows')[{i}] "
                         f"THEN getvariable('insight_band_labels')[{i}]"
                         for i in range(1, len(self.bands) + 1))
        return (f"CREATE OR REPLACE TEMP MACRO insight_band(a) AS "
                f"CASE WHEN a NOT BETWEEN 0 AND {int(MAX_AGE)} THEN NULL {cases} END")

    def day_sql(self, record_date: str | None) -> str:
        """SQL of the day the age is taken on, given the SQL of the record's date column (or None).
        The configured or run's day is a DATE literal of an ISO date the pipeline formats itself
        (tests/run/test_privacy.py holds it in the text), never text from the config or a record."""
        fallback = f"DATE '{(self.reference or self.run_date).isoformat()}'"
        if self.reference is None and record_date is not None:
            return f"coalesce(insight_date({record_date}), {fallback})"
        return fallback

    def sql(self, dob: str, record_date: str | None) -> str:
        """SQL of the age band of the date-of-birth column `dob` (a quoted column name)."""
        return f"insight_age_band({dob}, {self.day_sql(record_date)})"

    def describe(self, service: Service) -> str:
        """The reference day in words, for the manifest."""
        if self.reference is not None:
            return f"age on {self.reference.isoformat()} (privacy.age_reference_date) for every record"
        if "date" in service.columns:
            return (f"age on the record's own date (`date`: {service.columns['date']}); on the run's "
                    f"date, {self.run_date.isoformat()}, where that is blank or not a date")
        return f"age on the run's date, {self.run_date.isoformat()}"

    def age_band(self, dob: date, day: date) -> str | None:
        """The band of one date of birth on `day` (Python's reading of the SQL rule, for checks)."""
        age = day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
        if not 0 <= age <= min(self.max_age, MAX_AGE):
            return None
        return max(((low, label) for label, low in self.bands.items() if age >= low), default=(0, None))[1]
