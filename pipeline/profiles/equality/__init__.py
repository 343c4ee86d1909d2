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

The package, one job a module:

* :mod:`~pipeline.profiles.equality.categories`: the categories, reported-only rows, normalised codes,
  the built-in lists and code lists;
* :mod:`~pipeline.profiles.equality.bands`: age bands read from codes, and the ages they leave out;
* :mod:`~pipeline.profiles.equality.codemap`: a service's codes mapped to categories, and those not
  recognised;
* :mod:`~pipeline.profiles.equality.census`: census populations of the area, exactly a band's ages;
* :mod:`~pipeline.profiles.equality.frame`: one table's shares, index and interval, and completeness;
* :mod:`~pipeline.profiles.equality.options`: a service's equality options;
* :mod:`~pipeline.profiles.equality.views`: the views of one service.

Light at import, as `insight validate` reads it: pandas and numpy, no scipy (the census readers
load on first use).
"""

from pipeline.profiles.equality.bands import Band, parse_band
from pipeline.profiles.equality.categories import (
    BROAD_ONLY,
    CATEGORIES_CSV,
    CODE_LISTS,
    FIELDS,
    MISSING,
    MISSING_CODES,
    OTHER_WORDS,
    PREFER_NOT,
    PREFER_NOT_CODES,
    REPORTED_ONLY,
    TITLES,
    UNKNOWN,
    categories,
    code_list,
    ethnic_group,
    normalise,
    standard_categories,
)
from pipeline.profiles.equality.census import (
    AreaCensus,
    Atom,
    Denominator,
    age_atoms,
    band_population,
    census_age_band,
)
from pipeline.profiles.equality.codemap import CodeMap, map_code, target_problem, unrecognised
from pipeline.profiles.equality.frame import (
    INCOMPLETE_SHARE,
    MIN_EXPECTED,
    NO_INDEX_FEW,
    NO_INDEX_UNKNOWN,
    REPORTED_NOTE,
    EqualityView,
    Group,
    incomplete_note,
    profile_frame,
)
from pipeline.profiles.equality.options import Options
from pipeline.profiles.equality.views import (
    age_view,
    category_view,
    disability_type_view,
    ethnicity_views,
)

__all__ = [
    "BROAD_ONLY",
    "CATEGORIES_CSV",
    "CODE_LISTS",
    "FIELDS",
    "INCOMPLETE_SHARE",
    "MIN_EXPECTED",
    "MISSING",
    "MISSING_CODES",
    "NO_INDEX_FEW",
    "NO_INDEX_UNKNOWN",
    "OTHER_WORDS",
    "PREFER_NOT",
    "PREFER_NOT_CODES",
    "REPORTED_NOTE",
    "REPORTED_ONLY",
    "TITLES",
    "UNKNOWN",
    "AreaCensus",
    "Atom",
    "Band",
    "CodeMap",
    "Denominator",
    "EqualityView",
    "Group",
    "Options",
    "age_atoms",
    "age_view",
    "band_population",
    "categories",
    "category_view",
    "census_age_band",
    "code_list",
    "disability_type_view",
    "ethnic_group",
    "ethnicity_views",
    "incomplete_note",
    "map_code",
    "normalise",
    "parse_band",
    "profile_frame",
    "standard_categories",
    "target_problem",
    "unrecognised",
]
