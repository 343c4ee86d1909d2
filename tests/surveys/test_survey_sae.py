"""The Fay-Herriot ward model (pipeline/surveys/sae.py, wards.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.surveys import sae
from pipeline.surveys.wards import segment_mix


def _balanced(y, D):
    wards = [f"W{i}" for i in range(len(y))]
    direct = pd.Series(y, index=wards)
    return direct, pd.Series(D, index=wards), pd.DataFrame(index=wards)


def test_reml_with_equal_variances_and_an_intercept_has_its_closed_form():
    # equal D_i and X = 1: REML gives A = s^2 - D (s^2 the sample variance, m - 1 divisor)
    y = np.array([0.30, 0.45, 0.52, 0.61, 0.38, 0.70, 0.55, 0.42])
    D = 0.004
    model = sae.fit(*_balanced(y, np.full(len(y), D)))
    A = np.var(y, ddof=1) - D
    assert model.A == pytest.approx(A, rel=1e-6) and model.converged
    gamma = A / (A + D)
    t = model.table
    np.testing.assert_allclose(t["gamma"], gamma, rtol=1e-6)
    np.testing.assert_allclose(t["estimate"], gamma * y + (1 - gamma) * y.mean(), rtol=1e-6)
    assert (t["lower"] < t["estimate"]).all() and (t["estimate"] < t["upper"]).all()
    assert (t["mse"] < D).all()  # the model's error is below the direct estimate's


def test_no_spread_beyond_the_sampling_error_shrinks_every_ward_to_the_covariates():
    y = np.array([0.50, 0.51, 0.49, 0.50, 0.52, 0.48])
    model = sae.fit(*_balanced(y, np.full(len(y), 0.01)))
    assert model.A == 0.0
    np.testing.assert_allclose(model.table["estimate"], y.mean())


def test_a_ward_of_the_area_with_no_respondent_gets_the_synthetic_estimate_and_none_outside():
    wards = ["W1", "W2", "W3", "W4", "W5", "W6"]
    cov = pd.DataFrame({"mix": [0.2, 0.4, 0.6, 0.8, 0.5, 0.3]}, index=wards)
    direct = pd.Series([0.25, 0.38, 0.66, 0.79, np.nan, 0.35, 0.9], index=wards + ["OUTSIDE"])
    D = pd.Series(0.003, index=direct.index)
    t = sae.fit(direct, D, cov).table
    assert list(t.index) == wards  # no estimate for a ward outside the area
    assert t.loc["W5", "model"] == "synthetic" and np.isnan(t.loc["W5", "gamma"])
    assert t.loc["W5", "estimate"] == pytest.approx(t.loc["W5", "synthetic"])
    assert (t.drop(index="W5")["model"] == "EBLUP").all()


def test_the_segment_mix_applies_segment_estimates_to_each_wards_adults():
    cells = pd.DataFrame({"ward": ["A", "A", "B"], "segment": ["1", "2", "2"], "people": [30.0, 10.0, 50.0]})
    mix = segment_mix(cells, pd.Series({"1": 0.8, "2": 0.4}))
    assert mix["A"] == pytest.approx(0.75 * 0.8 + 0.25 * 0.4) and mix["B"] == pytest.approx(0.4)


def test_agrees_with_samplics_eblup_area_model_reml():
    # The reference: samplics 0.6.1 (EblupAreaModel(method=REML), fit(tol=1e-12, intercept=True), predict)
    # on these ten areas, run once and its figures copied here to 10 significant figures (samplics is
    # archived and not a dependency: its numbers are the reference, the model is pipeline/surveys/sae.py).
    y = [0.62, 0.30, 0.71, 0.60, 0.52, 0.45, 0.75, 0.33, 0.58, 0.49]
    x = [0.55, 0.50, 0.52, 0.63, 0.41, 0.57, 0.60, 0.46, 0.49, 0.58]
    D = [0.004, 0.006, 0.003, 0.005, 0.007, 0.004, 0.006, 0.005, 0.003, 0.004]
    areas = [f"W{i}" for i in range(10)]
    model = sae.fit(pd.Series(y, index=areas), pd.Series(D, index=areas), pd.DataFrame({"x": x}, index=areas))
    assert model.A == pytest.approx(0.01550627446, rel=1e-9)
    np.testing.assert_allclose(model.beta, [0.06772124431, 0.8829397794], rtol=1e-9)
    np.testing.assert_allclose(model.table["estimate"], [
        0.6063301673, 0.3583618891, 0.6803100582, 0.6058453585, 0.4919227576, 0.4748118971, 0.7074501232,
        0.3650803709, 0.5670900655, 0.5084199841], rtol=1e-9)
    np.testing.assert_allclose(model.table["mse"], [
        0.003619452543, 0.005107364042, 0.002797690860, 0.004661093250, 0.006445559378, 0.003643631784,
        0.005251592788, 0.004525457858, 0.002819339314, 0.003662167779], rtol=1e-8)
