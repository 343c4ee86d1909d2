"""Weights to the population: raking (iterative proportional fitting) of the respondents to the
area's census margins, with trimming, the design effect and the effective sample size.

The algorithm is weightipy's (`weightipy.internal.rim.Rake`, the Quantipy RIM engine): for each
margin m in turn and each of its categories c, every weight in c is multiplied by
T_mc / sum_{i in c} w_i (T_mc the census count of c scaled to the sample), cycling over the margins
until the weights stop changing (Deming and Stephan, 1940). The respondents' design weights
(`surveys[].design_weight`) are the starting weights; without them every respondent starts at 1.

Trimming (`surveys[].trim`): after each cycle, weights above `trim` times the mean weight are cut
to it and the weights rescaled to their mean (the engine's cap); the margins are then met only
approximately, and the largest gap is reported (`Weights.margin_gap`).

A respondent with no value for a margin (no age band, say) is kept in a category of its own,
'Not known', whose target is its share of the design-weighted sample: the census distribution is
imposed on the respondents whose value is known, and no weight is dropped.

Reported: Kish's design effect of weighting deff = n sum(w^2) / (sum w)^2 and the effective sample
size n_eff = (sum w)^2 / sum(w^2) = n / deff (Kish 1965, 11.7).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.errors import InsightError

#: the category of a respondent whose value for a margin is blank
NOT_KNOWN = "Not known"
#: the largest relative gap between a weighted margin and its census count accepted when no trimming binds
MARGIN_TOLERANCE = 1e-4


class MarginError(InsightError):
    """A census margin the respondents cannot be weighted to (an empty cell, a category the census
    lacks, a margin with no population)."""


@dataclass
class Weights:
    """Raked weights (summing to the population) and what weighting did."""

    weight: np.ndarray
    design: np.ndarray
    population: float
    iterations: int
    trimmed: int  # weights cut by the trim
    margin_gap: float  # the largest relative gap between a weighted margin and its census count
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.weight)

    @property
    def n_eff(self) -> float:
        """Kish's effective sample size: (sum w)^2 / sum(w^2)."""
        return kish_n_eff(self.weight)

    @property
    def deff(self) -> float:
        """Kish's design effect of weighting: n sum(w^2) / (sum w)^2 = 1 + CV(w)^2."""
        return self.n / self.n_eff if self.n else float("nan")


def kish_n_eff(w) -> float:
    """(sum w)^2 / sum(w^2); 0 for no weights."""
    w = np.asarray(w, dtype=float)
    ss = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / ss if ss > 0 else 0.0


def margin_problems(frame: pd.DataFrame, margins: dict[str, dict[str, float]], survey: str = "survey"
                    ) -> list[str]:
    """Why the respondents cannot be raked to `margins` (margin -> category -> census count): a
    category respondents gave that the census lacks, a census category with people and no
    respondent, a margin with no population. Empty when raking can go ahead."""
    out = []
    for m, targets in margins.items():
        if m not in frame.columns:
            out.append(f"{survey}: margin {m!r} has no column among the respondents' fields. Fix: map the "
                       f"field, or leave {m!r} out of weighting.margins")
            continue
        total = sum(float(v) for v in targets.values())
        if not total > 0:
            out.append(f"{survey}: margin {m!r} has no population in the census. Fix: check the census "
                       "tables, or leave the margin out")
            continue
        given = frame[m].dropna().astype(str)
        given = given[given != NOT_KNOWN]
        lacking = sorted(set(given) - set(map(str, targets)))
        if lacking:
            out.append(f"{survey}: margin {m!r}: respondents give {lacking[:5]}, which the census lacks "
                       f"(census categories: {sorted(map(str, targets))[:12]}). Fix: map those answers to "
                       "census categories, or leave them blank (then 'Not known')")
        empty = sorted(str(c) for c, v in targets.items() if float(v) > 0 and not (given == str(c)).any())
        if empty:
            out.append(f"{survey}: margin {m!r}: no respondent in {empty[:8]}, which the census counts "
                       f"{', '.join(f'{float(targets[c]):,.0f}' for c in empty[:8])} people in; no weight "
                       "can stand for them. Fix: merge them with a neighbouring category (e.g. wider age "
                       "bands), or leave the margin out")
    return out


def rake(frame: pd.DataFrame, margins: dict[str, dict[str, float]], design=None, trim: float | None = None,
         survey: str = "survey", max_iterations: int = 1000) -> Weights:
    """Rake the respondents (`frame`, one row each, a column per margin) to the census counts
    `margins` (margin -> category -> count); return weights that sum to the population.
    Raises MarginError naming every margin that cannot be met."""
    problems = margin_problems(frame, margins, survey)
    if problems:
        raise MarginError(f"{survey}: the respondents cannot be weighted to the census margins", problems)
    from weightipy.internal.rim import Rake

    n = len(frame)
    d = np.ones(n) if design is None else np.asarray(design, dtype=float)
    if n == 0 or d.shape != (n,) or not np.all(np.isfinite(d) & (d > 0)):
        raise MarginError(f"{survey}: design weights must be positive numbers, one per respondent "
                          f"({n:,} respondents). Fix: check the design weight column")
    population = float(sum(margins[next(iter(margins))].values()))
    data = pd.DataFrame(index=pd.RangeIndex(n))
    targets, notes = [], []
    for m, cats in margins.items():
        col = frame[m].astype(object).where(frame[m].notna(), NOT_KNOWN).astype(str).to_numpy()
        data[m] = col
        unknown = col == NOT_KNOWN
        share_unknown = float(d[unknown].sum() / d.sum())
        total = sum(float(v) for v in cats.values())
        pct = {str(c): 100.0 * (1 - share_unknown) * float(v) / total for c, v in cats.items()}
        if unknown.any():
            pct[NOT_KNOWN] = 100.0 * share_unknown
            notes.append(f"{int(unknown.sum()):,} respondent(s) with no {m}: kept at their design-weighted "
                         f"share ({share_unknown:.1%}) as '{NOT_KNOWN}'; the census distribution is imposed "
                         "on the rest")
        targets.append({m: pct})
    use_cap = trim is not None
    engine = Rake(data, targets, "weight", max_iterations=max_iterations, convcrit=1e-6,
                  _use_cap=use_cap, cap=float(trim) if use_cap else 10_000_000.0)
    # the design weights are the starting weights (the engine's constructor sets them to 1)
    engine.dataframe["weight"] = d * n / d.sum()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # the engine prints its convergence; it becomes a note
        iterations = engine.start()
    w = engine.dataframe["weight"].to_numpy(dtype=float)
    w = w * population / w.sum()
    gap = 0.0
    total_w = w.sum()
    for target in targets:
        (m, pcts), = target.items()
        for c, pct in pcts.items():
            want = pct / 100.0 * total_w
            got = float(w[data[m].to_numpy() == c].sum())
            if want > 0:
                gap = max(gap, abs(got - want) / want)
    mean_w = w.mean()
    trimmed = int(np.sum(w >= float(trim) * mean_w * (1 - 1e-9))) if use_cap else 0
    text = " ".join(printed.getvalue().split())
    if not use_cap and gap > MARGIN_TOLERANCE:
        raise MarginError(f"{survey}: raking did not meet the census margins (largest gap {gap:.2%} after "
                          f"{iterations} cycles){': ' + text if text else ''}",
                          ["the margins contradict each other for these respondents (e.g. a category held "
                           "only by respondents another margin needs elsewhere). Fix: merge sparse "
                           "categories or leave a margin out"])
    if use_cap and gap > 0.01:
        notes.append(f"trimming weights at {trim:g} times the mean left the margins up to {gap:.1%} from "
                     "the census counts")
    return Weights(w, d, population, int(iterations), trimmed, gap, notes)
