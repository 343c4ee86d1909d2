"""Weighted estimates by domain, intervals on Kish's effective sample size (pipeline/surveys/estimates.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.profiles.stats import Z95, wilson
from pipeline.surveys.estimates import by_domain, domain_estimate


def test_a_weighted_proportion_uses_kish_effective_n_in_its_interval():
    y = np.array([1, 0, 1, 1, np.nan])
    w = np.array([1.0, 1.0, 2.0, 4.0, 9.0])  # the last did not answer: left out
    e = domain_estimate(y, w, binary=True)
    assert e["respondents"] == 4 and e["weighted"] == 8
    assert e["estimate"] == pytest.approx(7 / 8)
    assert e["n_eff"] == pytest.approx(64 / 22)
    lo, hi = wilson(np.array([7 / 8 * 64 / 22]), np.array([64 / 22]))
    assert (e["lower"], e["upper"]) == pytest.approx((lo[0], hi[0]))


def test_a_weighted_mean_of_numbers_and_its_interval():
    e = domain_estimate([2.0, 4.0], [1.0, 3.0], binary=False)
    assert e["estimate"] == pytest.approx(3.5)
    s2 = (1 * 1.5**2 + 3 * 0.5**2) / 4
    half = Z95 * np.sqrt(s2 / (16 / 10))
    assert (e["lower"], e["upper"]) == pytest.approx((3.5 - half, 3.5 + half))


def test_domains_are_compared_with_the_area_as_the_profiles_do():
    frame = pd.DataFrame({"seg": ["a"] * 200 + ["b"] * 200 + ["c"] * 10,
                          "y": [1] * 190 + [0] * 10 + [1] * 20 + [0] * 180 + [1] * 5 + [0] * 5,
                          "w": 1.0})
    t = by_domain(frame, "y", "w", "seg", binary=True).set_index("domain")
    assert t.loc["All", "respondents"] == 410 and t.loc["All", "vs_area"] == ""
    assert t.loc["a", "vs_area"] == "higher" and t.loc["b", "vs_area"] == "lower"
    assert t.loc["c", "vs_area"] == "similar"  # 10 respondents: an interval too wide to call


def test_a_domain_with_no_answer_has_no_estimate():
    frame = pd.DataFrame({"seg": ["a", "b"], "y": [1.0, np.nan], "w": 1.0})
    t = by_domain(frame, "y", "w", "seg", binary=True, order=["a", "b", "z"]).set_index("domain")
    assert np.isnan(t.loc["b", "estimate"]) and t.loc["z", "respondents"] == 0 and t.loc["z", "vs_area"] == ""
