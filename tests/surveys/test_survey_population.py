"""The area's adults by OA, survey age band and sex, and the margins (pipeline/surveys/population.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.surveys.population import PopulationError, age_counts, cells, margins, with_area

AGES = pd.DataFrame({"Total": [100, 50], "Aged 10 to 14 years": [10, 5], "Aged 15 to 19 years": [10, 5],
                     "Aged 20 to 24 years": [20, 10], "Aged 25 to 84 years": [50, 25],
                     "Aged 85 years and over": [10, 5]}, index=pd.Index(["O1", "O2"], name="oa21cd"))
SEX = pd.DataFrame({"All persons": [100, 50], "Female": [60, 25], "Male": [40, 25]}, index=AGES.index)


def test_a_census_band_the_survey_cuts_is_shared_by_years():
    out = age_counts(AGES, ["16-24", "25+"])
    assert out.loc["O1", "16-24"] == pytest.approx(10 * 4 / 5 + 20)  # ages 16-19 of 15-19, and 20-24
    assert out.loc["O1", "25+"] == pytest.approx(60)


def test_a_band_that_cuts_the_open_top_column_is_an_error():
    with pytest.raises(PopulationError, match="cannot be split"):
        age_counts(AGES, ["16-24", "25-89"])


def test_cells_split_each_band_by_the_oas_sex_shares_and_margins_sum_them():
    c = cells(AGES, SEX, ["16-24", "25+"])
    assert c["people"].sum() == pytest.approx(28 + 60 + 14 + 30)
    o1 = c[(c["oa21cd"] == "O1") & (c["age_band"] == "25+")].set_index("sex")["people"]
    assert o1["Female"] == pytest.approx(36) and o1["Male"] == pytest.approx(24)
    area = with_area(c, pd.DataFrame({"oa21cd": ["O1", "O2"], "segment": ["1", "2"], "ward": ["W", "W"]}))
    m = margins(area, ["segment", "ward", "age_band*sex"])
    assert m["segment"] == pytest.approx({"1": 88, "2": 44})
    assert m["ward"] == pytest.approx({"W": 132})
    assert m["age_band*sex"]["25+ x Female"] == pytest.approx(36 + 15)
