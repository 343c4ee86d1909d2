"""The demo's planted resident survey (pipeline/synth/survey.py): its own random streams, a sample
biased towards older residents, every respondent in the truth's area."""

from __future__ import annotations

import pandas as pd

from pipeline.config.survey import SURVEY_AGE_BANDS
from pipeline.synth.survey import RESPONDENTS, demo_cells


def test_the_planted_survey_is_biased_towards_older_residents(demo_data):
    raw, truth = demo_data
    survey = pd.read_csv(raw / "surveys" / "resident_survey.csv", dtype=str, keep_default_na=False)
    assert len(survey) == RESPONDENTS
    assert set(survey["Age group"]) <= set(SURVEY_AGE_BANDS)
    assert 0 < (survey["Home postcode"] == "").sum() < 0.05 * RESPONDENTS
    cells = demo_cells(raw / "census2021")
    census = cells.groupby("age_band")["people"].sum() / cells["people"].sum()
    sample = survey["Age group"].value_counts(normalize=True)
    assert sample["75+"] > 1.4 * census["75+"] and sample["16-24"] < 0.6 * census["16-24"]
    planted = pd.read_csv(truth / "survey_truth.csv", dtype={"oa21cd": str})
    assert set(planted["oa21cd"]) == set(cells["oa21cd"]) and planted["eta"].notna().all()
