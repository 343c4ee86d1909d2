"""The `surveys:` block of the run config (pipeline/config/survey.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.config.survey import Survey

BASE = {"name": "residents", "label": "Residents' survey", "file": "survey.csv",
        "columns": {"postcode": "Postcode", "age_band": "Age", "sex": "Sex"},
        "questions": [{"name": "satisfied", "column": "Satisfied", "kind": "binary"}]}


def test_a_survey_is_read_as_an_extract_with_its_design_weight_as_a_numeric_outcome():
    s = Survey.model_validate({**BASE, "design_weight": "Weight"})
    svc = s.extract()
    assert svc.name == "survey_residents" and [o.name for o in svc.outcomes] == ["satisfied", "design_weight"]
    assert svc.outcomes[1].kind == "numeric" and svc.outcomes[1].minimum > 0


@pytest.mark.parametrize("change, message", [
    ({"columns": {"postcode": "Postcode", "age_band": "Age", "sex": "Sex", "first_name": "Name"}},
     "never reads"),
    ({"columns": {"postcode": "Postcode", "sex": "Sex"}},
     "margin 'age_band' needs the respondents' age_band"),
    ({"weighting": {"margins": ["age_band", "tenure"]}}, "unknown margin"),
    ({"weighting": {"trim": 1.0}}, "greater than 1"),
    ({"questions": []}, "at least one question"),
    ({"surprise": 1}, "Extra inputs are not permitted"),
])
def test_a_survey_block_that_cannot_work_is_refused_with_the_reason(change, message):
    with pytest.raises(ValidationError, match=message):
        Survey.model_validate({**BASE, **change})


def test_survey_names_are_distinct_and_leave_the_services_their_tables(tmp_path):
    from tests.helpers import tiny_config

    with pytest.raises(ValidationError, match=r"the name\(s\) \['residents'\] are used more than once"):
        tiny_config(tmp_path, [], surveys=[BASE, BASE])
    service = {"name": "survey_residents", "label": "S", "file": "x.csv", "columns": {"postcode": "P"}}
    with pytest.raises(ValidationError, match="would be named"):
        tiny_config(tmp_path, [service], surveys=[BASE])
