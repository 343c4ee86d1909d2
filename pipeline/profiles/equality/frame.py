"""The arithmetic of one equality table: users and shares, census population and its shares, the
index with its 95% interval where enough users are expected, the reported-only rows and the Total,
and whether too many codes went unrecognised for the table to be complete (`profile_frame`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.profiles import stats
from pipeline.profiles.equality.categories import TITLES, UNKNOWN

INCOMPLETE_SHARE = 0.02
MIN_EXPECTED = 5.0
NO_INDEX_FEW = f"No index: fewer than {MIN_EXPECTED:g} users expected, too few to compare."
NO_INDEX_UNKNOWN = ("No index: no users were recognised in this group while some codes were not "
                    "recognised (they may belong here).")
REPORTED_NOTE = "Reported only: not in any share or census comparison."


@dataclass
class Group:
    """One category row before the arithmetic: users, census population (None: not compared), note."""

    name: str
    users: int
    population: int | None = None
    note: str = ""


@dataclass
class EqualityView:
    """One equality table with its count-graph keys, relations, notes and status."""

    view: str
    frame: pd.DataFrame
    keys: list
    relations: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    incomplete: bool = False
    unrecognised: dict[str, int] = field(default_factory=dict)


def incomplete_note(field: str, limit: float) -> str:
    return (f"Incomplete: more than {limit * 100:g}% of records have {TITLES.get(field, field)} codes "
            f"that were not recognised, so this table is left out of the headline findings. Fix: "
            f"map them under services[].equality.codes ('insight validate' lists them).")


def profile_frame(field: str, groups: list[Group], reported: Mapping[str, int], total: int,
                  limit: float = INCOMPLETE_SHARE, unknown: int | None = None) -> tuple[pd.DataFrame, bool]:
    """The table of one view and whether it is incomplete.

    `groups`: the categories in order; `reported`: the reported-only rows (name -> users);
    `total`: all users; `unknown`: users whose codes were not recognised (default: the 'Not
    recognised' row). Columns: field, segment_code (the category), service_count, service_pct,
    population, population_pct, index, index_lower, index_upper, significance, note.
    """
    u = np.array([g.users for g in groups], dtype=float)
    comparable = np.array([g.population is not None and g.population > 0 for g in groups], dtype=bool)
    p = np.array([g.population if g.population is not None else np.nan for g in groups], dtype=float)
    unknown = int(reported.get(UNKNOWN, 0)) if unknown is None else unknown
    U, U_c, P = u.sum(), u[comparable].sum(), p[comparable].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(comparable, U_c * p / P if P > 0 else np.nan, np.nan)
    every, lo, hi = stats.index_with_interval(u, expected, total=np.full(len(u), U_c))
    notes, index = [], np.full(len(u), np.nan)
    for i, g in enumerate(groups):
        note = g.note
        if comparable[i]:
            if g.users == 0 and unknown > 0:
                note = " ".join(x for x in (note, NO_INDEX_UNKNOWN) if x)
            elif not expected[i] >= MIN_EXPECTED:
                note = " ".join(x for x in (note, NO_INDEX_FEW) if x)
            else:
                index[i] = every[i]
        notes.append(note)
    has = ~np.isnan(index)
    sig = np.where(has, stats.significance(lo, hi), "").astype(object)
    frame = pd.DataFrame({
        "segment_code": [g.name for g in groups], "service_count": u.astype(int),
        "service_pct": 100 * u / U if U > 0 else np.full(len(u), np.nan),
        "population": np.where(comparable, p, np.nan),
        "population_pct": np.where(comparable, 100 * p / P if P > 0 else np.nan, np.nan),
        "index": index, "index_lower": np.where(has, lo, np.nan), "index_upper": np.where(has, hi, np.nan),
        "significance": sig, "note": notes,
    })
    extra = pd.DataFrame({"segment_code": list(reported),
                          "service_count": [int(v) for v in reported.values()],
                          "significance": "", "note": REPORTED_NOTE})
    incomplete = total > 0 and unknown / total > limit
    tot = pd.DataFrame({"segment_code": ["Total"], "service_count": [int(total)],
                        "population": [P if comparable.any() else np.nan],
                        "significance": "", "note": incomplete_note(field, limit) if incomplete else ""})
    out = pd.concat([frame, extra, tot], ignore_index=True)
    out.insert(0, "field", field)
    return out, incomplete
