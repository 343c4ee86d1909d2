"""Footnotes that travel with every published table: definitions, the suppression rule in force,
and warnings (a threshold below the default)."""

from __future__ import annotations

from pipeline.config import DEFAULT_ATTRIBUTION, RunConfig
from pipeline.profiles import stats
from pipeline.publish.suppression import rounding

#: the significance calls of the published tables (render reads them from here, not from profiles)
OVER, UNDER = stats.OVER, stats.UNDER

#: The attribution of a map or workbook written without one (the pipeline always passes the
#: run's `attribution`): the run config's default, `pipeline.config.DEFAULT_ATTRIBUTION`.
__all__ = ["DEFAULT_ATTRIBUTION", "DEFINITIONS", "OVER", "UNDER", "run_notes", "suppression_note", "warnings"]

DEFINITIONS = [
    "Service count: records matched to an Output Area of the area (see Data quality).",
    "Base: households in the segment or ward (Census 2021, table TS041) unless the service's "
    "config names another base (residents, adults or a census count).",
    "Service %: the segment's share of all users; Base %: its share of all households.",
    "Penetration %: users per 100 households of the segment (service count / base x 100).",
    "Index: service % / base % x 100. 100 = as expected from the segment's size; "
    "120 = 20% more users than expected; 80 = 20% fewer.",
    "Penetration lower/upper: 95% Wilson score interval of the penetration.",
    "Index lower/upper: 95% interval of the index as observed / expected users (exact Poisson "
    "below 10 users, Byar's approximation otherwise). Over-represented: the interval lies above "
    "100; under-represented: below 100; otherwise no clear difference.",
    stats.MULTIPLE_COMPARISONS_NOTE,
    "Non-users: base minus users (with the interval from the penetration's); shortfall: users "
    "the segment lacks to reach the borough's penetration rate.",
    "Targets: wards and Output Areas ranked by households of the under-represented segments that "
    "do not use the service (by households where the user count is suppressed).",
    "Equality: users by category against the area's Census 2021 residents in the same groups (age: "
    "TS007/TS007A, built for each of the service's own bands; sex: TS008; disability: TS038; ethnic "
    "group: TS021; religion: TS030); 'Prefer not to say', missing and unrecognised codes are reported "
    "but not used as denominators; an index is given where at least 5 users are expected. A row's "
    "note says how its census population was built (an estimate where a census age band is split).",
    "Channels: each segment's channel mix against the borough's; segments over-represented in "
    "face-to-face or telephone are channel-shift candidates (and may be at risk of digital exclusion).",
    "Trends: the profile per period and the change in index from the previous period, with a 95% interval.",
]


def suppression_note(cfg: RunConfig) -> str:
    s = cfg.suppression
    if rounding(s) > 1:
        return (f"Counts from 1 to {s.min_shown - 1} are shown as '{s.symbol}' and other counts are "
                f"rounded to the nearest {rounding(s)} (ONS rule); shares, penetration and index are "
                f"computed from the rounded counts. Further counts are hidden wherever a hidden one "
                f"could otherwise be worked out from totals or from another table of the run.")
    return (
        f"Counts from 1 to {s.min_shown - 1} are shown as '{s.symbol}', with the shares, penetration, "
        f"index, intervals and gaps derived from them; further counts are hidden wherever a hidden "
        f"one could otherwise be worked out from a total or from another table of the same run "
        f"(the match report and run summary included)."
    )


def warnings(cfg: RunConfig) -> list[str]:
    """Warnings every output must carry: a suppression threshold below the safe one (config)."""
    return [cfg.suppression.warning] if cfg.suppression.warning else []


def run_notes(cfg: RunConfig) -> list[str]:
    """The notes of every table of the run: warnings first, then the suppression rule."""
    return [*warnings(cfg), suppression_note(cfg)]
