"""The demo's planted resident survey, from random streams of its own (``numpy.random.default_rng([seed,
700])`` for the truth, ``[seed, 701]`` for the sample), so every other demo file stays byte-identical.

Truth (fictional): each OA's share of adults satisfied with their local area is

    p = logistic(BASE + TYPE_EFFECT[type of the OA] + v_ward + AGE_EFFECT[age band]),
    v_ward ~ N(0, WARD_SD^2)

so the truth varies by segment (the planted neighbourhood type) and by ward, and older residents
are more satisfied (as in most resident surveys), which is what makes an unweighted sample of too
many older residents biased. The truth of a segment or ward is the adult-weighted mean of p over
its cells (OA x age band x sex).

Sample: RESPONDENTS adults drawn from the census cells (OA x age band x sex, pipeline/surveys/
population.py) with probability proportional to people x RESPONSE[age band]: older residents
answer far more often (75+ about four times as often as 16-24), so the raw sample is too old and
leans towards the OAs where older people live. Each respondent answers Yes with probability p of
their cell; a Likert question on trust follows p too. A respondent is given a live postcode of the OA;
BLANK_POSTCODE of them give none (they cannot be geocoded and are counted as such).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import Census
from pipeline.config.survey import SURVEY_AGE_BANDS
from pipeline.surveys.population import cells

BASE = 0.2
#: planted segment effects on the logit scale, by demo neighbourhood type 1..8
TYPE_EFFECT = {1: 0.9, 2: 0.5, 3: 0.2, 4: 0.0, 5: -0.3, 6: -0.6, 7: -0.9, 8: 0.3}
WARD_SD = 0.25
#: planted age effects on the logit scale: older residents are more satisfied
AGE_EFFECT = {"16-24": -0.5, "25-34": -0.35, "35-44": -0.2, "45-54": 0.0, "55-64": 0.15, "65-74": 0.35,
              "75+": 0.5}
#: relative response propensity by survey age band (older residents answer more)
RESPONSE = {"16-24": 0.35, "25-34": 0.5, "35-44": 0.7, "45-54": 0.9, "55-64": 1.1, "65-74": 1.4, "75+": 1.5}
RESPONDENTS = 1500
BLANK_POSTCODE = 0.02
TRUST = ["Not at all", "Not very much", "A fair amount", "A great deal"]
TRUTH_STREAM, SAMPLE_STREAM = 700, 701


def demo_cells(census_dir: Path) -> pd.DataFrame:
    """The demo borough's adults by OA, survey age band and sex (from its census tables)."""
    from segments.census import load_table

    census = Census(dir=census_dir, pattern="census2021-{table}-oa-demo.csv")
    return cells(load_table(census, "ts007a"), load_table(census, "ts008"), list(SURVEY_AGE_BANDS))


def planted_truth(oa: pd.DataFrame, seed: int) -> pd.DataFrame:
    """oa21cd, type, ward, eta: each OA's planted logit of 'satisfied' before its age effect (oa:
    oa21cd, type, ward)."""
    rng = np.random.default_rng([seed, TRUTH_STREAM])
    wards = sorted(oa["ward"].unique())
    v = dict(zip(wards, rng.normal(0.0, WARD_SD, len(wards)), strict=True))
    eta = BASE + oa["type"].map(TYPE_EFFECT).to_numpy(float) + oa["ward"].map(v).to_numpy(float)
    out = oa[["oa21cd", "type", "ward"]].copy()
    out["eta"] = np.round(eta, 6)
    return out.sort_values("oa21cd", ignore_index=True)


def cell_truth(cells_: pd.DataFrame, eta_oa: pd.Series) -> np.ndarray:
    """The planted probability of 'satisfied' of each cell (oa21cd, age_band) or respondent."""
    eta = cells_["oa21cd"].map(eta_oa).to_numpy(float) + cells_["age_band"].map(AGE_EFFECT).to_numpy(float)
    return 1.0 / (1.0 + np.exp(-eta))


def draw(area_cells: pd.DataFrame, eta_oa: pd.Series, rng: np.random.Generator, n: int = RESPONDENTS
         ) -> pd.DataFrame:
    """n respondents (oa21cd, age_band, sex, satisfied 0/1, trust score 1-4), drawn from the cells
    with probability people x RESPONSE[age band]."""
    prob = area_cells["people"].to_numpy(float) * area_cells["age_band"].map(RESPONSE).to_numpy(float)
    idx = rng.choice(len(area_cells), size=n, replace=True, p=prob / prob.sum())
    out = area_cells.iloc[idx][["oa21cd", "age_band", "sex"]].reset_index(drop=True)
    p = cell_truth(out, eta_oa)
    out["satisfied"] = (rng.random(n) < p).astype(int)
    latent = p + rng.normal(0.0, 0.2, n)
    out["trust"] = np.clip(np.digitize(latent, [0.35, 0.55, 0.8]) + 1, 1, 4)
    return out


def write_survey(out_dir: Path, truth_dir: Path, oa: pd.DataFrame, directory: pd.DataFrame, seed: int = 2021
                 ) -> dict:
    """Write ``<out>/surveys/resident_survey.csv`` and ``<truth>/survey_truth.csv``; return counts.
    oa: oa21cd, type, ward (the demo's OAs); directory: the postcode directory (pcds, oa21cd, doterm,
    usertype)."""
    truth = planted_truth(oa, seed)
    all_cells = demo_cells(Path(out_dir) / "census2021")
    rng = np.random.default_rng([seed, SAMPLE_STREAM])
    resp = draw(all_cells, truth.set_index("oa21cd")["eta"], rng)
    live = directory[directory["doterm"].astype(str).eq("") & directory["usertype"].astype(str).eq("0")]
    by_oa = live.groupby("oa21cd")["pcds"].apply(lambda s: sorted(s)).to_dict()
    postcodes = [by_oa[o][int(rng.integers(len(by_oa[o])))] if o in by_oa else "" for o in resp["oa21cd"]]
    blank = rng.random(len(resp)) < BLANK_POSTCODE
    frame = pd.DataFrame({
        "Respondent": [f"R{i:05d}" for i in range(1, len(resp) + 1)],
        "Home postcode": np.where(blank, "", postcodes),
        "Age group": resp["age_band"],
        "Gender": resp["sex"],
        "Satisfied with local area": np.where(resp["satisfied"] == 1, "Yes", "No"),
        "Trust the council": [TRUST[s - 1] for s in resp["trust"]],
    })
    (Path(out_dir) / "surveys").mkdir(parents=True, exist_ok=True)
    frame.to_csv(Path(out_dir) / "surveys" / "resident_survey.csv", index=False, lineterminator="\n")
    truth.to_csv(Path(truth_dir) / "survey_truth.csv", index=False, lineterminator="\n")
    return {"respondents": int(len(frame)), "blank_postcode": int(blank.sum())}
