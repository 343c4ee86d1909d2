"""Equality monitoring: users by age, sex, disability and ethnicity against the area's census
population in the same categories (the public sector equality duty).

Codes in an extract are mapped to the standard categories in `equality_categories.csv`
(field, order, category, census table and columns, aliases). Matching is case-insensitive on
the trimmed code; for ethnicity the part before ':' is matched as well, so 2011 codes
('Asian or Asian British: Pakistani') and 2021 codes ('Asian, Asian British or Asian Welsh:
Pakistani') both land in the 2021 high-level group. 'Prefer not to say' (and 'not stated',
'declined'), blank codes and codes not in the list are reported as their own rows ('Prefer not
to say', 'Missing', 'Not recognised') but are not used as denominators.

Age: the guidance's bands (16-17, 18-24 or 19-24, ..., 65-75, 75+) skip age 18 or overlap at 75,
and the census (TS007A) counts in five-year bands. Bands are aligned to census-compatible ones:
16-24 (census: 4/5 of the 15-19 band, i.e. ages 16-19 assuming single years are evenly spread,
plus 20-24), 25-34, ..., 65-74 ('65-75' is read as 65-74, so a 75-year-old coded '65-75' is
counted there, not in 75+) and 75+; 'Under 16' takes the rest of the census total, so the census
column sums exactly to the area's TS007A total. Census sources: TS007A (age), TS008 (sex),
TS038 (disability under the Equality Act), TS021 (ethnic group).

For each category c with users u_c (of U users with a known category) and census population
p_c (of P): user % = 100 u_c / U, population % = 100 p_c / P, index = 100 * u_c / E_c with
E_c = U p_c / P, and the index interval as for segments (exact Poisson / Byar).
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import RunConfig
from pipeline.profiles import stats

logger = logging.getLogger(__name__)

CATEGORIES_CSV = Path(__file__).with_name("equality_categories.csv")
FIELDS = ("age_band", "sex", "disability", "ethnicity")
PREFER_NOT, MISSING, UNKNOWN = "Prefer not to say", "Missing", "Not recognised"
PREFER_NOT_CODES = {"prefer not to say", "not stated", "declined", "refused", "not known",
                    "prefer not to answer", "do not wish to say", "pnts"}
REPORTED_ONLY = [PREFER_NOT, MISSING, UNKNOWN]


@cache
def standard_categories() -> pd.DataFrame:
    return pd.read_csv(CATEGORIES_CSV, dtype=str, keep_default_na=False)


def map_code(field: str, raw) -> str:
    """Standard category of one extract code."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or not str(raw).strip():
        return MISSING
    code = " ".join(str(raw).strip().lower().split())
    if code in PREFER_NOT_CODES:
        return PREFER_NOT
    cats = standard_categories()
    cats = cats[cats["field"] == field]
    heads = [code, code.split(":")[0].strip()] if field == "ethnicity" else [code]
    for head in heads:
        for cat, aliases in zip(cats["category"], cats["aliases"], strict=True):
            if head in aliases.split("|"):
                return cat
    return UNKNOWN


def census_population(cfg: RunConfig, field: str, oas: list[str]) -> pd.Series:
    """Census count per standard category over the area's OAs (sums to the table's total)."""
    from segments.census import load_table

    cats = standard_categories()
    cats = cats[cats["field"] == field].sort_values("order", key=lambda s: s.astype(int))
    table = load_table(cfg.census, cats["census_table"].iloc[0])
    area = table.reindex(oas).fillna(0).sum()
    total = float(area.iloc[0])
    out = {}
    for cat, spec in zip(cats["category"], cats["census_columns"], strict=True):
        if spec == "REST":
            out[cat] = None
            continue
        value = 0.0
        for part in spec.split("|"):
            col, _, weight = part.partition("*")
            value += float(area[col]) * (float(weight) if weight else 1.0)
        out[cat] = round(value)
    rest = [c for c, v in out.items() if v is None]
    if rest:
        out[rest[0]] = round(total) - sum(v for v in out.values() if v is not None)
    return pd.Series(out, dtype="int64")


def equality_profile(codes: pd.Series, counts: pd.Series, population: pd.Series, field: str) -> pd.DataFrame:
    """Users per standard category against the census population.

    `codes`/`counts`: raw extract codes and their user counts. Returns rows per standard
    category, then the reported-only rows, then Total: field, segment_code (the category),
    service_count, service_pct,
    population, population_pct, index, index_lower, index_upper, significance.
    """
    mapped = pd.Series([map_code(field, c) for c in codes], index=codes.index)
    unknown = sorted({str(c) for c, m in zip(codes, mapped, strict=True) if m == UNKNOWN})
    if unknown:
        logger.warning("%s: codes not in the standard list, reported as %r: %s", field, UNKNOWN, unknown)
    users = counts.groupby(mapped.to_numpy()).sum()
    cats = list(population.index)
    u = np.array([int(users.get(c, 0)) for c in cats], dtype=float)
    p = population.to_numpy(dtype=float)
    U, P = u.sum(), p.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = U * p / P
        index = np.where(expected > 0, 100 * u / expected, np.nan)
        lo, hi = stats.index_interval(u, expected)
        frame = pd.DataFrame({
            "category": cats, "service_count": u.astype(int),
            "service_pct": np.where(U > 0, 100 * u / U, np.nan),
            "population": p.astype(int), "population_pct": 100 * p / P,
            "index": index, "index_lower": lo, "index_upper": hi,
            "significance": stats.significance(lo, hi),
        })
    extra = pd.DataFrame({"category": REPORTED_ONLY,
                          "service_count": [int(users.get(c, 0)) for c in REPORTED_ONLY]})
    total = pd.DataFrame({"category": ["Total"], "service_count": [int(counts.sum())],
                          "population": [int(P)]})
    out = pd.concat([frame, extra, total], ignore_index=True)
    out.insert(0, "field", field)
    out["significance"] = out["significance"].fillna("")
    # rows are keyed by `segment_code` in every profile table (ward codes in the ward profile,
    # categories here), so readers and checks can treat the tables alike
    return out.rename(columns={"category": "segment_code"})
