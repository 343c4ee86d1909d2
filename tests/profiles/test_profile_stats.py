"""Intervals and significance of the profile: Wilson, exact Poisson / Byar, and the coverage of
the 95% index interval in a seeded simulation from known take-up rates."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from pipeline.profiles import stats
from pipeline.profiles.table import profile_table, with_uncertainty


def test_wilson_matches_the_textbook_example():
    # Newcombe (1998) example: 81 of 263 -> 0.2553 to 0.3662
    lo, hi = stats.wilson([81], [263])
    assert lo[0] == pytest.approx(0.2553, abs=1e-4) and hi[0] == pytest.approx(0.3662, abs=1e-4)
    lo, hi = stats.wilson([0, 5], [10, 0])
    assert lo[0] == 0 and hi[0] == pytest.approx(0.2775, abs=1e-4) and np.isnan(lo[1])


def test_poisson_interval_exact_below_ten_and_byar_close_to_exact_above():
    lo, hi = stats.poisson_interval([0, 3, 50])
    assert lo[0] == 0 and hi[0] == pytest.approx(3.689, abs=1e-3)
    assert lo[1] == pytest.approx(0.6187, abs=1e-4) and hi[1] == pytest.approx(8.7673, abs=1e-4)
    exact_lo, exact_hi = sps.chi2.ppf(0.025, 100) / 2, sps.chi2.ppf(0.975, 102) / 2
    assert lo[2] == pytest.approx(exact_lo, rel=2e-3) and hi[2] == pytest.approx(exact_hi, rel=2e-3)


def test_significance_labels():
    got = stats.significance([101, 50, 90, np.nan], [130, 99, 110, np.nan])
    assert list(got) == [stats.OVER, stats.UNDER, stats.NO_CLEAR, stats.NO_CLEAR]


def test_index_interval_covers_the_true_index_95_percent_of_the_time():
    """1,000 draws of a 10-segment borough with known take-up rates: the share of (draw,
    segment) intervals holding the true index must be between 93% and 97%."""
    rng = np.random.default_rng(2021)
    base = np.array([7000, 7100, 7150, 6500, 6150, 5500, 5500, 4800, 900, 350])
    rate = np.array([0.15, 0.28, 0.08, 0.05, 0.055, 0.17, 0.31, 0.12, 0.04, 0.20])
    true_index = 100 * rate / (base @ rate / base.sum())
    covered = total = 0
    for _ in range(1000):
        users = rng.binomial(base, rate)
        counts = pd.DataFrame({"segment_code": [str(i) for i in range(10)], "segment_name": "",
                               "service_count": users, "base_count": base})
        p = with_uncertainty(profile_table(counts)).iloc[:-1]
        covered += int(((p["index_lower"] <= true_index) & (true_index <= p["index_upper"])).sum())
        total += len(p)
    coverage = covered / total
    print(f"coverage {coverage:.4f} over {total} intervals")
    assert 0.93 <= coverage <= 0.97


def test_gaps_are_base_minus_users_and_shortfall_against_the_borough_rate():
    counts = pd.DataFrame({"segment_code": ["1", "2"], "segment_name": ["a", "b"],
                           "service_count": [30, 10], "base_count": [100, 300]})
    p = with_uncertainty(profile_table(counts))
    assert list(p["non_users"]) == [70, 290, 360]
    # borough rate 40/400 = 10%: segment 2 expects 30 users and has 10 -> shortfall 20
    assert p.loc[1, "shortfall"] == pytest.approx(20) and p.loc[0, "shortfall"] == 0
    assert p.loc[0, "significance"] == stats.OVER and p.loc[1, "significance"] == stats.UNDER
    assert p.loc[1, "non_users_lower"] < 290 < p.loc[1, "non_users_upper"]


def test_z95_is_scipys_normal_quantile_to_the_last_bit():
    assert stats.Z95 == float(sps.norm.ppf(0.975))
