"""Uncertainty for profiles: Wilson intervals for penetration, Poisson intervals for the index.

Penetration p = s / b (users per household). Its 95% Wilson score interval, with z = 1.96, is

    centre = (p + z^2 / 2b) / (1 + z^2 / b)
    half   = z / (1 + z^2 / b) * sqrt(p (1 - p) / b + z^2 / 4b^2)
    [centre - half, centre + half]

The index is an observed / expected ratio: O = s_g users in segment g, E = S * b_g / B users
expected if the segment took the service up at the borough rate, index = 100 * O / E. O is
treated as Poisson with E fixed, so a 95% interval for the index is 100 * [L, U] / E where
[L, U] is the interval for the Poisson mean (pulled in on the log scale by sqrt(1 - O/S) when
E is built from a total S that includes O; see `index_interval`):

* exact (Garwood), used for O < 10:  L = chi2.ppf(0.025, 2O) / 2,  U = chi2.ppf(0.975, 2O + 2) / 2
  (L = 0 when O = 0);
* Byar's approximation otherwise:
      L = O * (1 - 1/(9O) - z / (3 sqrt(O)))^3
      U = (O + 1) * (1 - 1/(9(O + 1)) + z / (3 sqrt(O + 1)))^3

A segment is 'over-represented' when the whole interval lies above 100, 'under-represented'
when it lies below 100 and 'no clear difference' otherwise. With k segments tested at the 95%
level about k / 20 are flagged by chance alone (see MULTIPLE_COMPARISONS_NOTE).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

#: The 97.5% point of the standard normal, float(scipy.stats.norm.ppf(0.975)) to the last bit (a
#: test checks): a literal, so that importing this module (as `insight validate` does through the
#: equality checks) does not load scipy.stats.
Z95 = 1.959963984540054
EXACT_BELOW = 10
OVER, UNDER, NO_CLEAR = "over-represented", "under-represented", "no clear difference"


def multiple_comparisons_note(tested: str, rows: str, advice: str) -> str:
    """The one multiple-comparisons note, for each kind of table that makes a call per row:
    `tested` says what is tested against what, `rows` what the rows are, `advice` how to read it."""
    return (f"{tested} at the 95% level, so with 20 {rows} about one may be flagged by chance alone; "
            f"{advice}")


MULTIPLE_COMPARISONS_NOTE = multiple_comparisons_note(
    "Each segment is tested separately", "segments",
    "give most weight to differences that are large, consistent across levels and periods, or far "
    "from the interval's edge (a Bonferroni-style check: would the call survive a 99.75% interval "
    "for 20 segments?).")


def wilson(successes, trials, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of successes / trials (as proportions, NaN where undefined:
    no trials, or more successes than trials, as when counting records against households)."""
    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = s / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        bad = (n <= 0) | (s > n) | (s < 0)
        lower = np.where(bad, np.nan, np.clip(centre - half, 0, 1))
        upper = np.where(bad, np.nan, np.clip(centre + half, 0, 1))
    return lower, upper


def poisson_interval(observed, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95% interval for a Poisson mean given the observed count: exact (Garwood) below
    EXACT_BELOW, Byar's approximation from there on."""
    from scipy import stats

    o = np.asarray(observed, dtype=float)
    alpha = 2 * (1 - stats.norm.cdf(z))
    with np.errstate(divide="ignore", invalid="ignore"):
        exact_lo = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * o) / 2, 0.0)
        exact_hi = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
        byar_lo = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
        o1 = o + 1
        byar_hi = o1 * (1 - 1 / (9 * o1) + z / (3 * np.sqrt(o1))) ** 3
    small = o < EXACT_BELOW
    return np.where(small, exact_lo, byar_lo), np.where(small, exact_hi, byar_hi)


def index(observed, expected):
    """The index 100 * O / E, the one definition every profile uses (segments, wards, equality
    groups, channels; with E = S * b / B it is service % / base % x 100). Exact, a Fraction, for
    one count and an exact expected value (int or Fraction), as the segment profile shows it
    rounded half up; else element-wise floats. None (NaN) where nothing is expected (E <= 0)."""
    if isinstance(observed, int | Fraction) and isinstance(expected, int | Fraction):
        return Fraction(100) * observed / expected if expected > 0 else None
    o, e = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e > 0, 100 * o / e, np.nan)


def index_with_interval(observed, expected, total=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index, lower, upper) as floats: `index` and `index_interval` together."""
    lower, upper = index_interval(observed, expected, total)
    return index(np.asarray(observed, dtype=float), expected), lower, upper


def index_interval(observed, expected, total=None, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95% interval of the index 100 * O / E (NaN where nothing is expected).

    When `total` (S, the users that E is built from) is given, the interval allows for E
    sharing its users with O: on the log scale Var(log O/S) = 1/O - 1/S = (1 - O/S) / O, so
    the Poisson limits are pulled in by the factor c = sqrt(1 - O/S):
    lower = 100 (O/E) (L/O)^c, upper = 100 (O/E) (U/O)^c (for O = 0: 0 and 100 U / E).
    """
    o = np.asarray(observed, dtype=float)
    lo, hi = poisson_interval(o, z)
    e = np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if total is not None:
            s = np.asarray(total, dtype=float)
            c = np.sqrt(np.clip(1 - np.where(s > 0, o / s, 0), 0, 1))
            pos = o > 0
            lo = np.where(pos, o * (lo / np.where(pos, o, 1)) ** c, lo)
            hi = np.where(pos, o * (hi / np.where(pos, o, 1)) ** c, hi)
        ok = e > 0
        return np.where(ok, 100 * lo / e, np.nan), np.where(ok, 100 * hi / e, np.nan)


def significance(lower, upper) -> np.ndarray:
    """'over-represented' if the index interval lies above 100, 'under-represented' if below,
    else 'no clear difference' (also where the interval is undefined)."""
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    return np.where(lo > 100, OVER, np.where(hi < 100, UNDER, NO_CLEAR)).astype(object)
