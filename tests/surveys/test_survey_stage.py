"""The survey stage over hand-made tables: every respondent accounted for, weights to the census,
the warehouse keeps the weights, outputs hold aggregates only, small counts suppressed
(pipeline/surveys/stage.py, publish.py)."""

from __future__ import annotations

import csv

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.config.survey import Survey
from pipeline.surveys.stage import analyse, check, publish
from tests.helpers import tiny_config

OAS = {"O1": ("W1", "1"), "O2": ("W1", "2"), "O3": ("W2", "1"), "O4": ("W2", "2")}
AGE_COLUMNS = ["Aged 15 to 19 years", "Aged 20 to 24 years", "Aged 25 to 49 years", "Aged 50 to 74 years",
               "Aged 75 to 84 years", "Aged 85 years and over"]


def _census(folder):
    folder.mkdir()
    rows = {"O1": [10, 40, 200, 150, 50, 10], "O2": [20, 60, 250, 100, 20, 5],
            "O3": [5, 20, 120, 200, 80, 20], "O4": [15, 50, 220, 120, 30, 5]}
    with open(folder / "census2021-ts007a-oa-t.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "geography", "geography code", "Age: Total"] + [f"Age: {c}" for c in AGE_COLUMNS])
        for oa, r in rows.items():
            w.writerow([2021, oa, oa, sum(r), *r])
    with open(folder / "census2021-ts021-oa-t.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "geography", "geography code", "Ethnic group: Total: All usual residents",
                    "Ethnic group: White", "Ethnic group: Asian"])
        for oa, r in rows.items():
            w.writerow([2021, oa, oa, sum(r), sum(r) - 100, 100])
    with open(folder / "census2021-ts008-oa-t.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "geography", "geography code", "Sex: All persons; measures: Value",
                    "Sex: Female; measures: Value", "Sex: Male; measures: Value"])
        for oa, r in rows.items():
            w.writerow([2021, oa, oa, sum(r), sum(r) // 2, sum(r) - sum(r) // 2])


@pytest.fixture
def setting(tmp_path):
    _census(tmp_path / "census")
    survey = Survey.model_validate({
        "name": "residents", "label": "Residents", "file": str(tmp_path / "s.csv"),
        "columns": {"postcode": "Postcode", "age_band": "Age", "sex": "Sex"}, "age_bands": ["16-49", "50+"],
        "questions": [{"name": "satisfied", "column": "Satisfied", "kind": "binary"}], "min_respondents": 10})
    cfg = tiny_config(tmp_path, [], census={"dir": str(tmp_path / "census")})
    cfg.surveys = [survey]
    con = duckdb.connect()
    oa = pd.DataFrame([(k, w, f"Ward {w}", s) for k, (w, s) in OAS.items()],  # noqa: F841 (the SQL reads it)
                      columns=["oa21cd", "ward_code", "ward_name", "segment"])
    con.execute("CREATE TABLE ref_oa AS SELECT oa21cd, ward_code, ward_name FROM oa")
    con.execute("CREATE TABLE segments_oa AS SELECT oa21cd, segment FROM oa")
    con.execute("CREATE TABLE segments_names AS SELECT * FROM (VALUES ('1', 'Leafy'), ('2', 'Urban')) "
                "t(segment, segment_name)")
    rng = np.random.default_rng(7)
    n = 300
    oas = rng.choice(list(OAS), n)
    frame = pd.DataFrame({
        "row_number": np.arange(1, n + 1), "match_level": "postcode_live", "reject_reason": None,
        "oa21cd": oas, "ward": [OAS[o][0] for o in oas], "segment": [OAS[o][1] for o in oas],
        "age_band": rng.choice(["18-24", "35-44", "55-64", "80+"], n, p=[0.1, 0.2, 0.3, 0.4]),
        "sex": rng.choice(["F", "Male", "female", "Prefer not to say"], n),
        "q_satisfied": rng.integers(0, 2, n).astype(float)})
    frame.loc[:5, ["match_level", "oa21cd", "ward", "segment"]] = None
    frame.loc[:5, "reject_reason"] = "missing_postcode"
    frame.loc[6, "oa21cd"] = "ELSEWHERE"  # placed, but outside the area: not weighted
    outcomes = {"postcode_live": n - 6, "missing_postcode": 6}
    return cfg, survey, con, frame, outcomes


def test_every_respondent_is_accounted_for_and_weighted_to_the_census(setting):
    cfg, survey, con, frame, outcomes = setting
    frame.loc[20, "age_band"] = "45-54"  # straddles the survey's bands 16-49 and 50+
    result = analyse(con, cfg, survey, frame, outcomes, read=300)
    assert result.read == 300 and result.placed == 293
    assert any(n.startswith("1 respondent(s) gave an age band that is not within") for n in result.notes)
    assert any("7 of 300 respondents" in n and "missing_postcode: 6" in n for n in result.notes)
    assert any(n.startswith("age_band: the respondents who could not be placed move") for n in result.notes)
    w = result.weights
    adults = 10 * 4 / 5 + 40 + 200 + 150 + 50 + 10 + 20 * 4 / 5 + 60 + 250 + 100 + 20 + 5 \
        + 5 * 4 / 5 + 20 + 120 + 200 + 80 + 20 + 15 * 4 / 5 + 50 + 220 + 120 + 30 + 5
    assert w.weight.sum() == pytest.approx(adults) and w.n == 293 and 1 < w.deff < 3
    weighting = result.tables["weighting"]
    # among the respondents whose value is known (the rest keep their share as 'Not known'), each
    # margin's weighted shares are the census's
    known = weighting[weighting["category"] != "Not known"]
    shares = known.groupby("margin")["weighted_share"].transform(lambda v: v / v.sum())
    np.testing.assert_allclose(shares, known["census_share"], atol=1e-6)
    assert (weighting.groupby("margin")["respondents"].sum() == 293).all()  # each margin adds up
    stored = con.execute("SELECT count(*), sum(weight) FROM survey_residents_weights").fetchone()
    assert stored[0] == 293 and stored[1] == pytest.approx(adults)
    assert set(result.tables) >= {"satisfied_segment", "satisfied_ward", "satisfied_age_band",
                                  "satisfied_sex"}


def test_outputs_hold_aggregates_with_small_counts_suppressed(setting):
    cfg, survey, con, frame, outcomes = setting
    frame.loc[frame["segment"] == "2", "q_satisfied"] = np.nan
    frame.loc[12:14, "q_satisfied"] = [1.0, 0.0, 1.0]
    frame.loc[12:14, "segment"] = "2"
    frame.loc[12:14, "oa21cd"] = "O2"
    frame.loc[12:14, "ward"] = "W1"
    result = analyse(con, cfg, survey, frame, outcomes, read=300)
    folder = publish(cfg, survey, result)
    seg = pd.read_csv(folder / "residents_satisfied_segment.csv", dtype=str).set_index("domain")
    assert seg.loc["2", "respondents"] == "#" and seg.loc["2", "estimate"] == "#"  # 3 answers: hidden
    # secondary suppression: the other segment's count would give it away (All = 1 + 2)
    assert seg.loc["1", "respondents"] == "#" and seg.loc["1", "name"] == "Leafy"
    assert seg.loc["All", "estimate"] not in ("#", "")
    text = " ".join(p.read_text() for p in folder.iterdir())
    assert "ELSEWHERE" not in text and "O1" not in text  # no OA, postcode or row of a respondent
    ward = pd.read_csv(folder / "residents_satisfied_ward.csv", dtype=str).set_index("ward")
    assert set(ward.index) == {"W1", "W2"} and (ward["model"] == "EBLUP").all()


def test_validate_names_a_missing_survey_file_and_a_missing_header(setting, tmp_path):
    cfg, survey, *_ = setting
    assert any("no such file" in p for p in check(cfg))
    (tmp_path / "s.csv").write_text("Postcode,Age,Sex\nDM1 1AA,35-44,F\n", encoding="utf-8")
    problems = check(cfg)
    assert any("Satisfied" in p and "surveys[0] (residents)" in p for p in problems), problems


def test_the_report_page_workbook_and_ward_map_come_from_the_published_tables(setting):
    import geopandas as gpd
    from openpyxl import load_workbook
    from shapely.geometry import box

    from pipeline.surveys.report import write_report

    cfg, survey, con, frame, outcomes = setting
    survey = survey.model_copy(update={"label": "Residents <script>alert(1)</script>"})
    folder = publish(cfg, survey, analyse(con, cfg, survey, frame, outcomes, read=300))
    wards = gpd.GeoDataFrame({"code": ["W1", "W2"], "name": ["Ward W1", "Ward W2"]},
                             geometry=[box(380000, 390000, 381000, 391000),
                                       box(381000, 390000, 382000, 391000)],
                             crs="EPSG:27700")
    written = write_report(cfg, survey, folder, wards)
    page = (folder / "residents_report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "Who answered against who lives here" in page and "By ward: direct and model estimates" in page
    assert "the respondents as they answered, unweighted:" in page  # the weighting's effect on the figure
    sheets = load_workbook(folder / "residents_survey.xlsx").sheetnames
    assert {"satisfied_segment", "satisfied_ward", "weighting", "summary"} <= set(sheets)
    ward_map = (folder / "residents_satisfied_ward_map.html").read_text(encoding="utf-8")
    assert "Ward W1" in ward_map  # offline: finish_page refuses a page that would load anything
    assert len(written) == 3


def test_a_config_named_census_margin_is_raked_to_with_the_others(setting):
    cfg, survey, con, frame, outcomes = setting
    survey = Survey.model_validate({
        **survey.model_dump(mode="json", exclude_unset=True),
        "columns": {**survey.columns, "ethnicity": "Ethnicity"},
        "weighting": {"census": [{"field": "ethnicity", "table": "ts021",
                                  "categories": {"White": ["White"], "Asian": ["Asian"]}}]}})
    frame["ethnicity"] = np.resize(["white ", "Asian", None, "WHITE"], len(frame))
    result = analyse(con, cfg, survey, frame, outcomes, read=300)
    weighting = result.tables["weighting"].set_index(["margin", "category"])
    census_asian = 400 / (460 + 455 + 445 + 440)  # TS021's share, standing in for the adults'
    share = weighting.loc["ethnicity", "weighted_share"]
    assert share["Asian"] / (share["Asian"] + share["White"]) == pytest.approx(census_asian, rel=1e-4)
    assert any("TS021" in n for n in result.notes)
    bad = survey.model_copy(deep=True)
    bad.weighting.census[0].categories = {"White": ["White"], "Asian": ["Asian Indian"]}
    cfg.surveys = [bad]
    (cfg.census.dir.parent / "s.csv").write_text("Postcode,Age,Sex,Satisfied,Ethnicity\n", encoding="utf-8")
    assert any("has no column(s) ['Asian Indian']" in p for p in check(cfg))
