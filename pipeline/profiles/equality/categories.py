"""The categories of each characteristic and the words that read as them: the built-in lists of
`equality_categories.csv` (the council guidance's categories, the 2011 and 2021 census lists and
their common spellings), the reported-only rows ('Prefer not to say', 'Missing', 'Not recognised'),
how a code is normalised before it is compared, how an ethnicity code splits into its broad and
detailed group, and the built-in code lists of other schemes (NHS ETHNIC CATEGORY)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import EQUALITY_FIELDS

#: The lists sit in pipeline/profiles/, beside this package (pipeline.area.build reads them too).
LISTS = Path(__file__).parents[1]
CATEGORIES_CSV = LISTS / "equality_categories.csv"
FIELDS = EQUALITY_FIELDS
PREFER_NOT, MISSING, UNKNOWN = "Prefer not to say", "Missing", "Not recognised"
BROAD_ONLY = "Broad group only"
REPORTED_ONLY = [PREFER_NOT, MISSING, UNKNOWN]
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
TITLES = {"age_band": "age band", "sex": "sex", "disability": "disability",
          "disability_type": "disability type", "ethnicity": "ethnic group (broad)",
          "ethnicity_detailed": "ethnic group (detailed)", "religion": "religion or belief",
          "sexual_orientation": "sexual orientation", "gender_identity": "gender identity"}


def normalise(code) -> str:
    """A code compared without case, punctuation or repeated spaces: 'White - Irish' -> 'white irish'."""
    text = str(code).lower().replace("&", " and ").replace("\u2019", "'")
    text = re.sub(r"[^a-z0-9+<>]+", " ", text.replace("'", ""))
    return " ".join(text.split())


def is_blank(raw) -> bool:
    return raw is None or raw is pd.NA or (isinstance(raw, float) and np.isnan(raw)) or not str(raw).strip()


def special_code(n: str) -> str | None:
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
def aliases_of(field: str) -> dict[str, str]:
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
    broad = aliases_of("ethnicity")
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
    if is_blank(raw):
        return MISSING, MISSING
    n = normalise(raw)
    special = special_code(n)
    if special:
        return special, special
    broad = aliases_of("ethnicity")
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


#: Built-in code lists of other schemes: name -> (characteristic, CSV of code,category in LISTS)
CODE_LISTS = {"nhs_ethnic_category": ("ethnicity", "nhs_ethnic_category.csv")}


@cache
def code_list(name: str) -> tuple[str, dict[str, str]]:
    """(characteristic, code -> category) of a built-in code list (config `equality.code_lists`).

    nhs_ethnic_category: the NHS Data Dictionary's ETHNIC CATEGORY codes (the 2001 census groups) onto
    the 2021 census groups; its 'Other Ethnic Groups - Chinese' (R) is 'Asian: Chinese', where the
    2021 census puts Chinese, Z (not stated) 'Prefer not to say' and 99 (not known) 'Missing'."""
    field, file = CODE_LISTS[name]
    table = pd.read_csv(LISTS / file, dtype=str, keep_default_na=False)
    return field, dict(zip(table["code"], table["category"], strict=True))
