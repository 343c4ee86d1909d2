"""The slope and relative index of inequality against OHID/PHE's published worked examples.

The figures are PHEindicatormethods' test data (Public Health England, GitHub
PublicHealthEngland/PHEindicatormethods, tests/testthat/testdata_SII.xlsx, commit 8d3fa8c,
rows 'default (e.g. life expectancy)' area1 and 'proportion (e.g. child obesity)' area1), the
expected values of phe_sii, the function OHID publishes its inequality indicators with. The SII
and RII are exact regressions, matched to 6 decimals; the limits are simulated (100,000 draws) and
matched within the package's own test tolerance."""

import numpy as np
import pytest

from pipeline.profiles import inequality

# life expectancy by deprivation decile (1 = most deprived): population, value
LE_POP = [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534]
LE = [75.933459, 78.344238, 83.836063, 83.637540, 80.465503, 81.115676, 81.693084, 84.190006,
      80.595564, 86.289435]

# child obesity: population (children measured) and count (obese) by decile
OB_POP = [34353, 32112, 27715, 25372, 23889, 23260, 23180, 24193, 23609, 24488]
OB_COUNT = [7287, 6881, 5656, 4868, 4176, 3876, 3617, 3546, 3314, 2960]


def test_sii_and_rii_by_hand_on_the_phe_life_expectancy_example():
    # the hand computation: relative ranks, then weighted least squares in closed form
    n = np.array(LE_POP, float)
    a = n / n.sum()
    b = np.cumsum(a) - a / 2
    y = np.array(LE)
    xbar, ybar = (a * b).sum(), (a * y).sum()
    slope = (a * (b - xbar) * (y - ybar)).sum() / (a * (b - xbar) ** 2).sum()
    intercept = ybar - slope * xbar
    assert slope == pytest.approx(6.934616, abs=1e-6)  # phe_sii's expected SII
    assert (intercept + slope) / intercept == pytest.approx(1.088818, abs=1e-6)  # its RII
    sii, rii = inequality.fit(LE, LE_POP)
    assert sii == pytest.approx(slope, abs=1e-9) and rii == pytest.approx(1.088818, abs=1e-6)


def test_a_proportion_its_wilson_logit_limits_match_phe_sii():
    g = inequality.gradient(OB_COUNT, OB_POP)
    assert g.scale == "proportion"
    assert g.sii == pytest.approx(-0.1072, abs=5e-5)
    assert g.rii == pytest.approx(0.533402, abs=1e-6)
    # phe_sii: SII -0.112209 to -0.10218, RII 0.517127 to 0.550154 (simulated; its test allows 5%)
    assert g.sii_lower == pytest.approx(-0.112209, rel=0.01)
    assert g.sii_upper == pytest.approx(-0.10218, rel=0.01)
    assert g.rii_lower == pytest.approx(0.517127, rel=0.01)
    assert g.rii_upper == pytest.approx(0.550154, rel=0.01)


def test_reproducible_and_refused_with_too_few_groups_or_an_empty_one():
    assert inequality.gradient(OB_COUNT, OB_POP) == inequality.gradient(OB_COUNT, OB_POP)
    few = inequality.gradient([5, 6, 7, 8], [100, 100, 100, 100])
    assert not few.computed and "at least 5" in few.reason
    empty = inequality.gradient([0, 6, 7, 8, 9], [100] * 5)
    assert not empty.computed and "no users" in empty.reason


def test_a_rate_over_one_is_drawn_on_the_log_scale():
    g = inequality.gradient([300, 250, 200, 150, 100], [100] * 5)
    assert g.scale == "rate" and g.sii < 0 and g.sii_lower < g.sii < g.sii_upper
    assert g.rii < 1
