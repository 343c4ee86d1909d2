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
