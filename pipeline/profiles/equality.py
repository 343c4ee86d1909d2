"""Equality monitoring: users by age, sex, disability, ethnicity, religion, sexual orientation and
gender identity, against the area's census population where the census counts the same groups
(the public sector equality duty).

Codes. Every extract code is mapped explicitly, and none is dropped: first the service's own code
map (config `services[].equality.codes`, code -> a category or anything the built-in lists
recognise), then the built-in lists in `equality_categories.csv` (the council guidance's
categories and the 2011 and 2021 census lists with their common spellings). Codes are compared
without case, punctuation or repeated spaces ('White: Irish' = 'White - Irish' = 'white irish').
'Prefer not to say' (and 'Not stated', 'Declined' ...), 'Missing' (blank, 'Unknown', 'Not known')
and 'Not recognised' are reported as rows of their own and never used as a denominator. When more
than `incomplete_share` (default 2%) of a view's records are not recognised, the view is marked
incomplete (a note in the table and its footnotes; the report leaves it out of the headlines),
and a category with no users while codes went unrecognised gets no index, so no group is ever
published as '0 users, index 0, under-represented' because its codes were not understood.

Age bands are the extract's own: every code that reads as an age band ('Under 18', '19-24',
'25 to 44', '75+', 'Over 75', '85 and over', 'Aged 16-17') is a band, plus any listed in
`equality.age_bands`. 'Over N' is read as N and over, as monitoring forms use it. Each band's
census population is built for exactly its ages from the area's finest age table: single years
(TS007) where the census folder has it, else five-year bands (TS007A). A five-year band cut by a
band edge is split pro rata (single years assumed evenly spread: ages 15-17 are 3/5 of 15-19) and
the row is flagged as an estimate in its note; an open top band (85 and over) cannot be split, so
a band such as 85-94 is reported without a census comparison. Bands that leave a gap (the
guidance's Under 18 and 19-24 leave out age 18) or overlap (65-75 and 75+) are named in the notes;
the comparison population is the sum of the bands' populations.

Ethnicity is profiled twice: in the 5 broad groups always, and in the 19 detailed groups of the
2021 census (the 2011 list maps onto them: 'Any other White background' -> 'White: Other White')
when any record carries a detailed code ('White' alone counts as 'Broad group only' there).
Census tables: TS007/TS007A (age), TS008 (sex: female and male only; 'Other' is reported without a
comparison), TS038 (disability under the Equality Act), TS021 (ethnic group), TS030 (religion,
when the census folder has it; residents who did not answer are left out as 'Prefer not to say'
users are). Disability type is reported as shares of disabled users; sexual orientation and gender
identity as shares of users (the census does not publish them for Output Areas).

For each category c with users u_c and census population p_c: U = users with a recognised
category, user % = 100 u_c / U; over the categories the census counts (C, with U_C users and
population P = sum of p_c): population % = 100 p_c / P, expected E_c = U_C p_c / P,
index = 100 u_c / E_c with its 95% interval as for segments (exact Poisson / Byar, allowing for
u_c being part of U_C). The index is given only where E_c >= 5 (fewer expected users are too few
to compare, as for most detailed ethnic groups in a small service).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import EQUALITY_FIELDS, RunConfig
from pipeline.errors import UserValueError
from pipeline.profiles import stats

logger = logging.getLogger(__name__)

CATEGORIES_CSV = Path(__file__).with_name("equality_categories.csv")
FIELDS = EQUALITY_FIELDS
PREFER_NOT, MISSING, UNKNOWN = "Prefer not to say", "Missing", "Not recognised"
BROAD_ONLY = "Broad group only"
REPORTED_ONLY = [PREFER_NOT, MISSING, UNKNOWN]
INCOMPLETE_SHARE = 0.02
MIN_EXPECTED = 5.0
PREFER_NOT_CODES = frozenset({
    "prefer not to say", "not stated", "declined", "refused", "prefer not to answer",
    "do not wish to say", "dont wish to say", "don t wish to say", "rather not say", "pnts",
    "not disclosed", "withheld", "declined to answer", "declined to say", "prefer not to disclose",
    "not answered", "no answer", "would rather not say",
})
MISSING_CODES = frozenset({
    "unknown", "not known", "not recorded", "n a", "na", "not asked", "missing", "blank", "none given",
    "not given", "not provided", "null",
})
#: Words meaning "the other group of this broad group" after a broad ethnic group.
OTHER_WORDS = frozenset({"other", "any other", "other background", "any other background"})
NO_INDEX_FEW = f"No index: fewer than {MIN_EXPECTED:g} users expected, too few to compare."
NO_INDEX_UNKNOWN = ("No index: no users were recognised in this group while some codes were not "
                    "recognised (they may belong here).")
REPORTED_NOTE = "Reported only: not in any share or census comparison."
TITLES = {"age_band": "age band", "sex": "sex", "disability": "disability",
          "disability_type": "disability type", "ethnicity": "ethnic group (broad)",
          "ethnicity_detailed": "ethnic group (detailed)", "religion": "religion or belief",
          "sexual_orientation": "sexual orientation", "gender_identity": "gender identity"}


def normalise(code) -> str:
    """A code compared without case, punctuation or repeated spaces: 'White - Irish' -> 'white irish'."""
    text = str(code).lower().replace("&", " and ").replace("\u2019", "'")
    text = re.sub(r"[^a-z0-9+<>]+", " ", text.replace("'", ""))
    return " ".join(text.split())


def _blank(raw) -> bool:
    return raw is None or raw is pd.NA or (isinstance(raw, float) and np.isnan(raw)) or not str(raw).strip()


def _special(n: str) -> str | None:
    """'Prefer not to say' or 'Missing' for a normalised code that means one of them."""
    if not n:
        return MISSING
    if n in PREFER_NOT_CODES:
        return PREFER_NOT
    if n in MISSING_CODES:
        return MISSING
    return None


# --- the built-in lists --------------------------------------------------------------------------


@cache
def standard_categories() -> pd.DataFrame:
    """The built-in categories: field, order, category, parent, census table and columns, note, aliases."""
    return pd.read_csv(CATEGORIES_CSV, dtype=str, keep_default_na=False)


def categories(field: str) -> pd.DataFrame:
    """The categories of one field (or 'ethnicity_detailed'), in order."""
    cats = standard_categories()
    return cats[cats["field"] == field].sort_values("order", key=lambda s: s.astype(int))


@cache
def _aliases(field: str) -> dict[str, str]:
    """Normalised alias (and category name) -> category of a field."""
    out: dict[str, str] = {}
    rows = categories(field)[["category", "aliases", "census_columns"]]
    for cat, aliases, cols in rows.itertuples(index=False):
        for a in [cat, cols, *aliases.split("|")]:
            if normalise(a):
                out.setdefault(normalise(a), cat)
    return out


@cache
def _detailed_within(broad: str) -> dict[str, str]:
    """Normalised alias -> detailed ethnic group, within one broad group (the words after it)."""
    det = categories("ethnicity_detailed")
    det = det[det["parent"] == broad]
    out: dict[str, str] = {}
    for cat, aliases in det[["category", "aliases"]].itertuples(index=False):
        tail = cat.split(": ", 1)[1]
        for a in [tail, *aliases.split("|")]:
            out.setdefault(normalise(a), cat)
        if "other" in normalise(tail).split():
            for w in OTHER_WORDS:
                out.setdefault(w, cat)
    return out


@cache
def _detailed_alone() -> dict[str, str]:
    """Normalised code -> detailed ethnic group for codes that name one on their own ('Pakistani',
    'White Irish', the full 2021 wording); aliases shared by two groups or naming a broad group
    are left out (they are not unambiguous)."""
    broad = _aliases("ethnicity")
    seen: dict[str, set[str]] = {}
    det = categories("ethnicity_detailed")
    for cat, aliases, cols in det[["category", "aliases", "census_columns"]].itertuples(index=False):
        for a in [cat, cols, *aliases.split("|")]:
            seen.setdefault(normalise(a), set()).add(cat)
    return {a: next(iter(c)) for a, c in seen.items() if len(c) == 1 and a not in broad}


def _parent(detailed: str) -> str:
    det = categories("ethnicity_detailed").set_index("category")
    return str(det.at[detailed, "parent"])


def _split(raw: str) -> tuple[str, str] | None:
    """A code split at its first ':' (else ' - ' or a spaced dash): ('White', 'Irish')."""
    text = str(raw)
    if ":" in text:
        head, tail = text.split(":", 1)
        return head, tail
    m = re.search(r"\s[-\u2013\u2014]\s", text)
    if m:
        return text[:m.start()], text[m.end():]
    return None


def ethnic_group(raw) -> tuple[str, str]:
    """(broad group, detailed group) of one extract code by the built-in lists; the detailed group
    is BROAD_ONLY when the code names only a broad group, and both are 'Prefer not to say',
    'Missing' or 'Not recognised' for such codes."""
    if _blank(raw):
        return MISSING, MISSING
    n = normalise(raw)
    special = _special(n)
    if special:
        return special, special
    broad = _aliases("ethnicity")
    if n in broad:
        return broad[n], BROAD_ONLY
    alone = _detailed_alone()
    if n in alone:
        return _parent(alone[n]), alone[n]
    parts = _split(raw)
    if parts and normalise(parts[0]) in broad:
        b = broad[normalise(parts[0])]
        return b, _detailed_within(b).get(normalise(parts[1]), BROAD_ONLY)
    for a in sorted(broad, key=len, reverse=True):  # 'White Irish', 'Asian Pakistani', 'Black other'
        if n.startswith(a + " "):
            b = broad[a]
            d = _detailed_within(b).get(n[len(a) + 1:])
            if d:
                return b, d
    return UNKNOWN, UNKNOWN


# --- age bands -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """Ages lo to hi inclusive (hi None: lo and over)."""

    lo: int
    hi: int | None

    @property
    def label(self) -> str:
        if self.hi is None:
            return f"{self.lo}+"
        if self.lo == 0 and self.hi > 0:
            return f"Under {self.hi + 1}"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"

    @property
    def key(self) -> tuple[int, float]:
        return self.lo, math.inf if self.hi is None else self.hi

    def years(self) -> int | None:
        return None if self.hi is None else self.hi - self.lo + 1

    def within(self, other: Band) -> bool:
        """Every age of this band is in `other`."""
        return self.lo >= other.lo and (other.hi is None or (self.hi is not None and self.hi <= other.hi))

    def overlap(self, other: Band) -> Band | None:
        lo = max(self.lo, other.lo)
        his = [h for h in (self.hi, other.hi) if h is not None]
        hi = min(his) if his else None
        return None if hi is not None and hi < lo else Band(lo, hi)


_AGE_WORDS = re.compile(r"\b(aged|age|ages|years|year|yrs|yr|old)\b")
_RANGE = re.compile(r"^(\d+)\s*(?:-|to)\s*(\d+)$")
_UNDER = re.compile(r"^(?:under|less than|below|younger than|<)\s*(\d+)$")
_UP_TO = re.compile(r"^(?:up to|<=)\s*(\d+)$|^(\d+)\s*(?:and|or)\s*(?:under|younger|below|less)$")
_OVER = re.compile(r"^(?:over|older than|above|>|>=|\u2265)\s*(\d+)$|"
                   r"^(\d+)\s*(?:\+|plus|and over|and above|or over|or older|and older|or more|and more)$")


def parse_band(text) -> Band | None:
    """The ages an age-band code covers: 'Under 18' -> 0-17, '19 - 24' -> 19-24, '25 to 44 years'
    -> 25-44, '75+' / 'Over 75' / '75 and over' -> 75 and over, '16' -> 16; None if it is not one."""
    if _blank(text):
        return None
    t = str(text).lower().replace("\u2013", "-").replace("\u2014", "-").replace("\u2265", ">=")
    t = " ".join(_AGE_WORDS.sub(" ", t).replace(":", " ").split())
    if m := _RANGE.match(t):
        lo, hi = int(m[1]), int(m[2])
        return Band(lo, hi) if lo <= hi else None
    if m := _UNDER.match(t):
        return Band(0, int(m[1]) - 1) if int(m[1]) > 0 else None
    if m := _UP_TO.match(t):
        return Band(0, int(m[1] or m[2]))
    if m := _OVER.match(t):
        return Band(int(m[1] or m[2]), None)
    if re.fullmatch(r"\d+", t):
        return Band(int(t), int(t))
    return None


# --- mapping codes ------------------------------------------------------------------------------


class CodeMap:
    """How one service's codes of one characteristic map to its categories: the service's own map
    first (code -> anything the built-in lists recognise), then the built-in lists."""

    def __init__(self, field: str, extra: Mapping[str, str] | None = None):
        self.field = field
        self.extra = {normalise(k): v for k, v in (extra or {}).items()}

    def builtin(self, raw) -> str:
        """Category by the built-in lists alone (an age band's label for age)."""
        if _blank(raw):
            return MISSING
        n = normalise(raw)
        special = _special(n)
        if special:
            return special
        if self.field == "age_band":
            band = parse_band(raw)
            return band.label if band else UNKNOWN
        if self.field in ("ethnicity", "ethnicity_detailed"):
            broad, detailed = ethnic_group(raw)
            return broad if self.field == "ethnicity" else detailed
        if self.field == "disability_type":
            return _disability_type(raw)
        return _aliases(self.field).get(n, UNKNOWN)

    def __call__(self, raw) -> str:
        if not _blank(raw) and normalise(raw) in self.extra:
            return self.builtin(self.extra[normalise(raw)])
        return self.builtin(raw)


def _disability_type(raw) -> str:
    aliases = _aliases("disability_type")
    n = normalise(raw)
    if n in aliases:
        return aliases[n]
    parts = [normalise(p) for p in re.split(r"[;|,/+]", str(raw)) if normalise(p)]
    found = {aliases.get(p) for p in parts}
    if len(parts) > 1 and None not in found:
        return found.pop() if len(found) == 1 else "More than one type"
    return UNKNOWN


def map_code(field: str, raw, extra: Mapping[str, str] | None = None) -> str:
    """Standard category of one extract code (the band's label for an age band; the broad group
    for 'ethnicity', the detailed one for 'ethnicity_detailed')."""
    return CodeMap(field, extra)(raw)


def target_problem(field: str, target: str) -> str | None:
    """Why a code map's target is not usable for `field` (None when it is)."""
    got = CodeMap(field).builtin(target)
    if got == UNKNOWN:
        if field == "age_band":
            return (f"{target!r} is not an age band (write e.g. 'Under 18', '25-44', '75+' or "
                    f"'{PREFER_NOT}')")
        names = list(categories(field)["category"]) + [PREFER_NOT, MISSING]
        return f"{target!r} is not a category of {field}; the categories are {names}"
    return None


def unrecognised(field: str, codes: Mapping, extra: Mapping[str, str] | None = None) -> dict[str, int]:
    """The distinct codes of `codes` (code -> records) that are not recognised, with their records,
    most frequent first. For 'ethnicity_detailed': the codes whose broad group is recognised but
    whose detailed group is not ('White: Cornish')."""
    cmap = CodeMap(field, extra)
    out: dict[str, int] = {}
    for code, n in codes.items():
        got = cmap(code)
        if field == "ethnicity_detailed":  # codes not recognised at all are the broad table's
            bad = (got == BROAD_ONLY and normalise(code) not in _aliases("ethnicity")
                   and normalise(code) not in cmap.extra)
        else:
            bad = got == UNKNOWN
        if bad:
            out[str(code)] = out.get(str(code), 0) + int(n)
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


# --- the census ---------------------------------------------------------------------------------


class AreaCensus:
    """Census tables summed over the area's Output Areas, each read once."""

    def __init__(self, cfg: RunConfig, oas: list[str]):
        self.census = cfg.census
        self.oas = list(oas)
        self._sums: dict[str, pd.Series] = {}

    def has(self, table: str) -> bool:
        from segments.census import CensusError, find_table_file

        try:
            find_table_file(self.census, table)
        except CensusError:
            return False
        return True

    def sums(self, table: str) -> pd.Series:
        """Each column of `table` summed over the area's OAs."""
        from segments.census import load_table

        if table not in self._sums:
            self._sums[table] = load_table(self.census, table).reindex(self.oas).fillna(0).sum()
        return self._sums[table]


@dataclass(frozen=True)
class Atom:
    """A census age column that holds no finer one: its ages and area count."""

    band: Band
    count: float
    column: str


def census_age_band(column: str) -> Band | None:
    """The ages of a census age column ('Aged 4 years and under', 'Aged 5 to 9 years',
    'Aged under 1 year', 'Aged 1 year', 'Aged 85 years and over'); None for the total."""
    text = str(column).split(":")[-1]
    return None if "total" in text.lower() else parse_band(text)


def age_atoms(census: AreaCensus) -> tuple[str, list[Atom]]:
    """(table, finest age columns): TS007 (single years) when the census folder has it, else TS007A.
    Subtotal columns (a band holding finer ones) are left out; the rest must not overlap."""
    table = "ts007" if census.has("ts007") else "ts007a"
    parsed = [(census_age_band(c), c, float(v)) for c, v in census.sums(table).items()]
    parsed = [(b, c, v) for b, c, v in parsed if b is not None]
    atoms = [Atom(b, v, c) for b, c, v in parsed
             if not any(o != b and o.within(b) for o, _, _ in parsed)]
    atoms.sort(key=lambda a: a.band.key)
    for a, b in zip(atoms, atoms[1:], strict=False):
        if a.band.overlap(b.band) is not None:
            raise UserValueError(f"census table {table}: age columns {a.column!r} and {b.column!r} overlap")
    return table, atoms


def _ages(band: Band) -> str:
    return f"{band.lo} and over" if band.hi is None else (
        str(band.lo) if band.lo == band.hi else f"{band.lo}-{band.hi}")


@dataclass
class Denominator:
    """A band's census population: value (None: no comparison), how it was built, an estimate?"""

    value: int | None
    note: str
    estimate: bool = False


def band_population(band: Band, atoms: list[Atom], table: str) -> Denominator:
    """The census population of exactly the band's ages from the finest age columns: whole columns
    inside the band, a share (years inside / years of the column) of a column the band cuts, which
    is an estimate; no value when the band cuts the open top column (e.g. 85 and over)."""
    total, parts, cut = Fraction(0), [], []
    for a in atoms:
        o = a.band.overlap(band)
        if o is None:
            continue
        if a.band.within(band):
            total += Fraction(a.count)
            parts.append(_ages(a.band))
            continue
        if a.band.years() is None:
            return Denominator(None, f"No census comparison: {table.upper()} counts ages "
                               f"{_ages(a.band)} as one group, which cannot be split at this band's "
                               f"edge (a single-year table, TS007, can).")
        share = Fraction(o.years(), a.band.years())
        total += Fraction(a.count) * share
        parts.append(f"{share} of {_ages(a.band)}")
        cut.append(_ages(a.band))
    value = math.floor(total + Fraction(1, 2))
    ages = (", ".join(parts[:-1]) + " and " + parts[-1]) if len(parts) > 1 else "".join(parts)
    if cut:
        return Denominator(value, f"Estimate from Census 2021 {table.upper()}: ages {ages} (single "
                           f"years assumed evenly spread within {' and '.join(cut)}).", True)
    return Denominator(value, f"Census 2021 {table.upper()}: ages {ages}." if parts else "No census ages.")


# --- one view -----------------------------------------------------------------------------------


@dataclass
class Options:
    """A service's equality options (config `services[].equality`)."""

    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    age_bands: list[str] = field(default_factory=list)
    incomplete_share: float = INCOMPLETE_SHARE

    @classmethod
    def of(cls, service) -> Options:
        eq = getattr(service, "equality", None)
        if eq is None:
            return cls()
        codes = {f: dict(m) for f, m in eq.codes.items()}
        for name in eq.code_lists:  # a built-in list of another scheme; the service's own map wins
            field, table = code_list(name)
            codes[field] = {**table, **codes.get(field, {})}
        return cls(codes, list(eq.age_bands), float(eq.incomplete_share))


#: Built-in code lists of other schemes: name -> (characteristic, CSV of code,category beside this module)
CODE_LISTS = {"nhs_ethnic_category": ("ethnicity", "nhs_ethnic_category.csv")}


@cache
def code_list(name: str) -> tuple[str, dict[str, str]]:
    """(characteristic, code -> category) of a built-in code list (config `equality.code_lists`).

    nhs_ethnic_category: the NHS Data Dictionary's ETHNIC CATEGORY codes (the 2001 census groups) onto
    the 2021 census groups; its 'Other Ethnic Groups - Chinese' (R) is 'Asian: Chinese', where the
    2021 census puts Chinese, Z (not stated) 'Prefer not to say' and 99 (not known) 'Missing'."""
    field, file = CODE_LISTS[name]
    table = pd.read_csv(Path(__file__).with_name(file), dtype=str, keep_default_na=False)
    return field, dict(zip(table["code"], table["category"], strict=True))


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


def _users(cmap: CodeMap, codes: pd.Series, users: pd.Series) -> pd.Series:
    mapped = [cmap(c) for c in codes]
    return pd.Series(users.to_numpy(dtype=np.int64), index=pd.Index(mapped)).groupby(level=0).sum()


def _unrecognised_codes(cmap: CodeMap, codes: pd.Series, users: pd.Series) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c, n in zip(codes, users, strict=True):
        if not _blank(c):
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
    notes += _coverage(bands)
    frame, incomplete = profile_frame("age_band", groups, _reported(by), int(users.sum()),
                                      options.incomplete_share)
    found = _unrecognised_codes(cmap, codes, users)
    _warn(view, found)
    return EqualityView(view, frame, _keys(view, frame, ("total", view)), notes=notes,
                        incomplete=incomplete, unrecognised=found)


def _coverage(bands: list[Band]) -> list[str]:
    """Notes on the ages the bands leave out or count twice."""
    if not bands:
        return []
    out = []
    top = None if any(b.hi is None for b in bands) else max(b.hi for b in bands)
    gaps, overlaps = [], []
    last = max(b.lo for b in bands) if top is None else top
    for age in range(min(b.lo for b in bands), last + 1):
        n = sum(1 for b in bands if b.lo <= age and (b.hi is None or age <= b.hi))
        (gaps if n == 0 else overlaps if n > 1 else []).append(age)
    if gaps:
        out.append(f"Age: no band covers age(s) {_runs(gaps)}: residents of those ages are left out of "
                   f"the census comparison.")
    if overlaps:
        open_top = top is None and overlaps[-1] == last  # ages above the last band's start overlap too
        out.append(f"Age: bands overlap at age(s) {_runs(overlaps, open_top)}: residents of those ages "
                   f"are in the census population of more than one band.")
    lo = min(b.lo for b in bands)
    cover = f"aged {lo} and over" if top is None else f"aged {lo} to {top}"
    if lo > 0 or top is not None:
        out.append(f"Age: the comparison is with residents {cover}, the ages the bands cover.")
    return out


def _runs(ages: list[int], open_top: bool = False) -> str:
    """Ages as runs: [18, 75, 76] -> '18, 75-76' ('75 and over' for an open last run)."""
    runs: list[list[int]] = []
    for a in ages:
        if runs and a == runs[-1][-1] + 1:
            runs[-1].append(a)
        else:
            runs.append([a])
    bands = [Band(r[0], r[-1]) for r in runs]
    if open_top:
        bands[-1] = Band(bands[-1].lo, None)
    return ", ".join(_ages(b) for b in bands)


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
