"""Equality monitoring: extract codes map to the standard categories, and the census comparison
adds up to the area's census totals."""

import pandas as pd
import pytest

from pipeline.profiles import equality
from segments.census import load_table

STANDARD = {
    "age_band": ["Under 16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
    "sex": ["Female", "Male"],
    "disability": ["Disabled", "Not disabled"],
    "ethnicity": ["Asian or Asian British", "Black or Black British", "Mixed or Multiple ethnic groups",
                  "White", "Other ethnic group"],
}
TABLES = {"age_band": "ts007a", "sex": "ts008", "disability": "ts038", "ethnicity": "ts021"}


@pytest.mark.parametrize("field,raw,category", [
    ("age_band", "16-17", "16-24"), ("age_band", "18-24", "16-24"), ("age_band", "19-24", "16-24"),
    ("age_band", "65-75", "65-74"), ("age_band", "75+", "75+"), ("age_band", " 75 and over ", "75+"),
    ("sex", "Female", "Female"), ("sex", "M", "Male"), ("sex", "Prefer not to say", equality.PREFER_NOT),
    ("sex", "", equality.MISSING), ("sex", None, equality.MISSING), ("sex", "X9", equality.UNKNOWN),
    ("disability", "Yes", "Disabled"), ("disability", "no", "Not disabled"),
    ("ethnicity", "Asian or Asian British: Pakistani", "Asian or Asian British"),        # 2011 code
    ("ethnicity", "Asian, Asian British or Asian Welsh: Pakistani", "Asian or Asian British"),  # 2021
    ("ethnicity", "Black or Black British: Caribbean", "Black or Black British"),
    ("ethnicity", "White: Other White", "White"), ("ethnicity", "Not stated", equality.PREFER_NOT),
])
def test_codes_map_to_standard_categories(field, raw, category):
    assert equality.map_code(field, raw) == category


def test_category_list_is_the_standard_one():
    cats = equality.standard_categories()
    for field, want in STANDARD.items():
        got = cats[cats["field"] == field].sort_values("order", key=lambda s: s.astype(int))
        assert list(got["category"]) == want


def test_profiles_use_standard_categories_and_census_totals(demo_profiles):
    cfg, profiles, _ = demo_profiles
    views = profiles["stop_smoking"]
    oas = pd.read_csv(cfg.outputs / "segments" / "segments_oa.csv", dtype=str)["oa21cd"].tolist()
    records = views["segment"]["service_count"].iloc[-1]
    for field, want in STANDARD.items():
        t = views[f"equality_{field}"]
        body = t[t["segment_code"] != "Total"]
        assert list(body["segment_code"]) == want + equality.REPORTED_ONLY
        area_total = load_table(cfg.census, TABLES[field]).reindex(oas).iloc[:, 0].sum()
        standard = body[body["segment_code"].isin(want)]
        assert standard["population"].sum() == area_total == t["population"].iloc[-1], field
        assert standard["population_pct"].sum() == pytest.approx(100)
        # every user is counted once, in a category or reported as missing / prefer not to say
        assert body["service_count"].sum() == t["service_count"].iloc[-1] == records
        # 'prefer not to say' and missing are not denominators: shares are of known users
        known = standard["service_count"].sum()
        assert standard["service_pct"].sum() == pytest.approx(100 if known else 0)
        assert body[~body["segment_code"].isin(want)]["population"].isna().all()
    sex = views["equality_sex"].set_index("segment_code")
    assert sex.loc[equality.PREFER_NOT, "service_count"] > 0
