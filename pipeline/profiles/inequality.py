"""The slope index of inequality (SII) and the relative index of inequality (RII) of a rate across
ordered deprivation groups, by the method OHID (formerly PHE) uses for the Public Health Outcomes
Framework and Fingertips (PHEindicatormethods::phe_sii; Low and Low, 'Measuring the gap: quantifying
and comparing local health inequalities', J Public Health 2004).

Groups q = 1..Q are ordered from the most deprived (1) to the least deprived (Q), each with its
population n_q (here households) and value y_q (here penetration, users / households).

    a_q = n_q / sum(n)                                  share of the population in group q
    b_q = sum_{r<q} a_r + a_q / 2                       relative rank: the midpoint of the group's
                                                        range in the cumulative population, 0..1
    fit  y_q * sqrt(a_q) = B0 * sqrt(a_q) + B1 * b_q * sqrt(a_q)     (least squares, no constant:
                                                        weighted least squares of y on b, weights a)
    SII = B1          the fitted value at b = 1 (least deprived end) minus that at b = 0 (most
                      deprived end), in the units of y (percentage points of penetration here)
    RII = (B0 + B1) / B0   the fitted value at the least deprived end over that at the most deprived

So a service used more in deprived areas has a negative SII and an RII below 1 (1 / RII: how many
times as high use is at the most deprived end as at the least).

Confidence intervals: simulation, as phe_sii. Each group's value is drawn R times from a normal
distribution on a transformed scale, y*_q ~ N(t(y_q), se_q), back-transformed, and the regression
refitted; the 2.5th and 97.5th percentiles (positions round(R * 0.025) and round(R * 0.975) of the
sorted draws) are the 95% limits of SII and RII. For a proportion t = logit and se_q =
(logit(upper_q) - logit(lower_q)) / (2 * 1.959964) from the group's 95% Wilson interval (the
pipeline's one interval rule, `stats.wilson`); for a rate that can exceed 1 (records per household)
t = log and se_q = 1 / sqrt(users_q) (Poisson). The draws come from numpy's default_rng with a fixed
seed, so a run is reproducible. Every group needs a population and (for the transforms) at least
one user and, for a proportion, one non-user; with fewer than 5 groups there is no SII (phe_sii's
rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.profiles import stats

#: phe_sii's default number of draws, and the seed that makes the interval reproducible
REPETITIONS = 100_000
SEED = 2804
MIN_GROUPS = 5


@dataclass(frozen=True)
class Gradient:
    """SII and RII with their 95% limits (None where the gradient cannot be computed: `reason`)."""

    sii: float | None = None
    sii_lower: float | None = None
    sii_upper: float | None = None
    rii: float | None = None
    rii_lower: float | None = None
    rii_upper: float | None = None
    groups: int = 0
    scale: str = ""  # 'proportion' (logit) or 'rate' (log)
    reason: str = ""

    @property
    def computed(self) -> bool:
        return self.sii is not None


def relative_ranks(population) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): each group's share of the population and the midpoint of its cumulative range."""
    n = np.asarray(population, dtype=float)
    a = n / n.sum()
    b = np.cumsum(a) - a / 2
    return a, b


def fit(values, population) -> tuple[float, float]:
    """(SII, RII) of `values` over groups ordered most to least deprived (the regression above)."""
    a, b = relative_ranks(population)
    coef = _solve(a, b, np.asarray(values, dtype=float)[:, None])
    b0, b1 = float(coef[0, 0]), float(coef[1, 0])
    return b1, (b0 + b1) / b0


def _solve(a: np.ndarray, b: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares of y * sqrt(a) on [sqrt(a), b * sqrt(a)] for each column of y: (2, R)."""
    x = np.column_stack([np.sqrt(a), b * np.sqrt(a)])  # (Q, 2)
    return np.linalg.solve(x.T @ x, x.T @ (y * np.sqrt(a)[:, None]))


def gradient(users, population, repetitions: int = REPETITIONS, seed: int = SEED) -> Gradient:
    """SII and RII (penetration as a proportion of 1) with 95% simulated limits, for groups ordered
    from the most to the least deprived. `users` and `population` are counts per group."""
    s = np.asarray(users, dtype=float)
    n = np.asarray(population, dtype=float)
    if len(n) < MIN_GROUPS:
        return Gradient(groups=len(n), reason=f"only {len(n)} deprivation group(s) in the area "
                                              f"(the slope index needs at least {MIN_GROUPS})")
    if (n <= 0).any() or (s <= 0).any():
        return Gradient(groups=len(n), reason="a deprivation group has no households or no users")
    y = s / n
    if (y < 1).all():
        lo, hi = stats.wilson(s, n)
        centre, se, scale = _logit(y), (_logit(hi) - _logit(lo)) / (2 * stats.Z95), "proportion"
    else:
        centre, se, scale = np.log(y), 1 / np.sqrt(s), "rate"
    sii, rii = fit(y, n)
    rng = np.random.default_rng(seed)
    draws = rng.normal(centre[:, None], se[:, None], size=(len(n), repetitions))
    back = 1 / (1 + np.exp(-draws)) if scale == "proportion" else np.exp(draws)
    a, b = relative_ranks(n)
    coef = _solve(a, b, back)
    sims_sii = np.sort(coef[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        sims_rii = np.sort((coef[0] + coef[1]) / coef[0])
    lo_at, hi_at = int(round(repetitions * 0.025)) - 1, int(round(repetitions * 0.975)) - 1
    return Gradient(sii, float(sims_sii[lo_at]), float(sims_sii[hi_at]), rii, float(sims_rii[lo_at]),
                    float(sims_rii[hi_at]), len(n), scale)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.log(p / (1 - p))
