"""The equality views of one service: users by each characteristic's categories, mapped by the
service's options, against the area's census (`category_view`, `age_view`, `ethnicity_views`,
`disability_type_view`), with their count-graph keys, notes and the codes not recognised."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipeline.profiles.equality.bands import coverage_notes, parse_band
from pipeline.profiles.equality.categories import (
    BROAD_ONLY,
    REPORTED_ONLY,
    TITLES,
    UNKNOWN,
    categories,
    is_blank,
)
from pipeline.profiles.equality.census import AreaCensus, age_atoms, band_population
from pipeline.profiles.equality.codemap import CodeMap, unrecognised
from pipeline.profiles.equality.frame import MIN_EXPECTED, EqualityView, Group, profile_frame
from pipeline.profiles.equality.options import Options

# The package's logger, as before the split: its warnings keep the name
logger = logging.getLogger(__package__)


def _users(cmap: CodeMap, codes: pd.Series, users: pd.Series) -> pd.Series:
    mapped = [cmap(c) for c in codes]
    return pd.Series(users.to_numpy(dtype=np.int64), index=pd.Index(mapped)).groupby(level=0).sum()


def _unrecognised_codes(cmap: CodeMap, codes: pd.Series, users: pd.Series) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c, n in zip(codes, users, strict=True):
        if not is_blank(c):
            counts[str(c)] = counts.get(str(c), 0) + int(n)
    return unrecognised(cmap.field, counts, cmap.extra)


def _reported(by: pd.Series, also: tuple[str, ...] = ()) -> dict[str, int]:
    return {r: int(by.get(r, 0)) for r in (*also, *REPORTED_ONLY)}


def _keys(view: str, frame: pd.DataFrame, total_key, shared: Mapping[str, tuple] | None = None) -> list:
    shared = shared or {}
    return [shared.get(c, (view, c)) for c in frame["segment_code"].iloc[:-1]] + [total_key]


def _warn(view: str, found: dict[str, int]) -> None:
    if found:
        shown = ", ".join(f"{c!r} ({n})" for c, n in list(found.items())[:10])
        logger.warning("%s: %d distinct code(s) not recognised, reported as %r: %s", view, len(found),
                       UNKNOWN, shown + (" ..." if len(found) > 10 else ""))


def category_view(field: str, codes: pd.Series, users: pd.Series, census: AreaCensus,
                  options: Options) -> EqualityView:
    """Sex, disability, broad ethnic group, religion, sexual orientation, gender identity."""
    view = f"equality_{field}"
    cmap = CodeMap(field, options.codes.get(field))
    by = _users(cmap, codes, users)
    cats = categories(field)
    notes = []
    tables = {t for t in cats["census_table"] if t}
    available = {t for t in tables if census.has(t)}
    groups = []
    rows = cats[["category", "census_table", "census_columns", "note"]]
    for cat, table, cols, note in rows.itertuples(index=False):
        pop = None
        if table in available:
            area = census.sums(table)
            pop = int(round(sum(float(area[c]) for c in cols.split("|"))))
        groups.append(Group(cat, int(by.get(cat, 0)), pop, note))
    for t in sorted(tables - available):
        notes.append(f"{TITLES[field].capitalize()}: no census comparison, as table {t.upper()} is not "
                     f"in the census folder.")
    if not tables:
        notes.append(f"{TITLES[field].capitalize()}: shares of users only; the census does not "
                     f"publish it for Output Areas.")
    if field == "sex":
        notes.append("Census 2021 recorded sex as female or male only: users recorded as 'Other' are "
                     "reported with their share but left out of the census comparison.")
    if field == "religion" and available:
        notes.append("Religion: residents who did not answer the census question (it was voluntary) "
                     "are left out of the census population, as 'Prefer not to say' users are.")
    frame, incomplete = profile_frame(field, groups, _reported(by), int(users.sum()),
                                      options.incomplete_share)
    found = _unrecognised_codes(cmap, codes, users)
    _warn(view, found)
    return EqualityView(view, frame, _keys(view, frame, ("total", view)), notes=notes,
                        incomplete=incomplete, unrecognised=found)


def age_view(codes: pd.Series, users: pd.Series, census: AreaCensus, options: Options) -> EqualityView:
    """Users by the extract's own age bands against a census population built for each."""
    view = "equality_age_band"
    cmap = CodeMap("age_band", options.codes.get("age_band"))
    by = _users(cmap, codes, users)
    bands = {parse_band(label) for label in by.index} | {parse_band(b) for b in options.age_bands}
    bands = sorted((b for b in bands if b is not None), key=lambda b: b.key)
    table, atoms = age_atoms(census)
    groups, estimated = [], []
    for b in bands:
        d = band_population(b, atoms, table)
        groups.append(Group(b.label, int(by.get(b.label, 0)), d.value, d.note))
        if d.estimate:
            estimated.append(b.label)
    notes = [f"Age: each band's census population is built for exactly its ages from Census 2021 "
             f"{table.upper()} ({'single years of age' if table == 'ts007' else 'five-year age bands'})."]
    if estimated:
        notes.append(f"Age: {', '.join(estimated)}: estimates, splitting a census age band pro rata "
                     f"(single years assumed evenly spread); a single-year table (TS007) would make "
                     f"them exact.")
    notes += coverage_notes(bands)
    frame, incomplete = profile_frame("age_band", groups, _reported(by), int(users.sum()),
                                      options.incomplete_share)
    found = _unrecognised_codes(cmap, codes, users)
    _warn(view, found)
    return EqualityView(view, frame, _keys(view, frame, ("total", view)), notes=notes,
                        incomplete=incomplete, unrecognised=found)


def ethnicity_views(codes: pd.Series, users: pd.Series, census: AreaCensus,
                    options: Options) -> list[EqualityView]:
    """The broad groups always; the 19 detailed groups when any record carries a detailed code.
    The detailed table shares its Total and reported rows with the broad one, and each broad group
    adds up to its detailed groups where no record of it gave the broad group alone."""
    broad = category_view("ethnicity", codes, users, census, options)
    cmap = CodeMap("ethnicity_detailed", options.codes.get("ethnicity"))
    by = _users(cmap, codes, users)
    cats = categories("ethnicity_detailed")
    if not any(int(by.get(c, 0)) for c in cats["category"]):
        return [broad]
    view = "equality_ethnicity_detailed"
    area = census.sums("ts021") if census.has("ts021") else None
    groups = [Group(cat, int(by.get(cat, 0)), None if area is None else int(area[col]))
              for cat, col in cats[["category", "census_columns"]].itertuples(index=False)]
    found = _unrecognised_codes(cmap, codes, users)
    reported = _reported(by, (BROAD_ONLY,))
    # codes naming a broad group with a detail not recognised ('White: Cornish') count as unrecognised
    frame, incomplete = profile_frame("ethnicity_detailed", groups, reported, int(users.sum()),
                                      options.incomplete_share, reported[UNKNOWN] + sum(found.values()))
    frame.loc[frame["segment_code"] == BROAD_ONLY, "note"] = (
        "Reported only: a broad group without a recognised detailed group (counted in the broad table).")
    shared = {r: ("equality_ethnicity", r) for r in REPORTED_ONLY}
    keys = _keys(view, frame, ("total", "equality_ethnicity"), shared)
    only = {}  # broad group -> records that gave it without a detailed group
    for code, n in zip(codes, users, strict=True):
        b, d = CodeMap("ethnicity", options.codes.get("ethnicity"))(code), cmap(code)
        if d == BROAD_ONLY:
            only[b] = only.get(b, 0) + int(n)
    relations = [(("equality_ethnicity", b), [(view, c) for c in part["category"]])
                 for b, part in cats.groupby("parent", sort=False) if not only.get(b)]
    notes = ["Ethnic group (detailed): the 19 groups of Census 2021 (TS021); 2011 codes map to "
             "their 2021 group. An index is given where at least "
             f"{MIN_EXPECTED:g} users are expected."]
    _warn(view, found)
    return [broad, EqualityView(view, frame, keys, relations, notes, incomplete, found)]


def disability_type_view(pairs: pd.DataFrame, options: Options, shared_total: bool) -> EqualityView:
    """Disability types as shares of disabled users (`pairs`: disability, code, users; without a
    `disability` column, the extract has no disability field and every record counts). With
    `shared_total` (records are counted), the table's Total is the disability table's 'Disabled'
    row."""
    view = "equality_disability_type"
    if "disability" in pairs:
        dis = CodeMap("disability", options.codes.get("disability"))
        pairs = pairs[[dis(d) == "Disabled" for d in pairs["disability"]]]
    cmap = CodeMap("disability_type", options.codes.get("disability_type"))
    by = _users(cmap, pairs["code"], pairs["users"])
    groups = [Group(c, int(by.get(c, 0))) for c in categories("disability_type")["category"]]
    frame, incomplete = profile_frame("disability_type", groups, _reported(by), int(pairs["users"].sum()),
                                      options.incomplete_share)
    total_key = ("equality_disability", "Disabled") if shared_total else ("total", view)
    notes = ["Disability type: shares of disabled users (those whose disability code is recognised "
             "as disabled); the census does not count types."]
    found = _unrecognised_codes(cmap, pairs["code"], pairs["users"])
    _warn(view, found)
    return EqualityView(view, frame, _keys(view, frame, total_key), notes=notes, incomplete=incomplete,
                        unrecognised=found)
