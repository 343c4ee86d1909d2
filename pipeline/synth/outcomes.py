"""Planted outcomes and satisfaction for the demo extracts, from a random stream of their own.

Each extract that gets outcomes draws them from ``numpy.random.default_rng([seed, 500 + k])``
(k: the service's position), so the columns and truth the other generators write are unchanged.

* stop_smoking: 'Quit at 4 weeks' (Yes / No; 15% blank, lost to follow-up, and 2% 'Not known').
  P(quit) = QUIT_BY_TYPE[type] + an age effect (AGE_EFFECT: bands starting under 25 lose 0.14,
  bands from 75 lose 0.04).
* contact_centre: 'Age Band' (its own draw, so the outcomes can be profiled by age), 'Satisfaction'
  (five answers 'Very dissatisfied' .. 'Very satisfied' for 40% of contacts, 6% of them
  "Don't know"; P(satisfied or better) = SATISFIED_BY_TYPE[type] - 0.15 for ages 75 and over) and
  'Days to resolve' (70% of contacts; gamma with shape 2 and mean DAYS_BY_TYPE[type]).

The truth: ``<service>_outcome_truth.csv`` (row_number and the planted probability or mean per
outcome) for the data rows of the extract as written (blank rows have none).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

QUIT_BY_TYPE = [0.62, 0.56, 0.50, 0.40, 0.58, 0.46, 0.34, 0.22]
SATISFIED_BY_TYPE = [0.82, 0.78, 0.72, 0.62, 0.76, 0.66, 0.55, 0.44]
DAYS_BY_TYPE = [3.0, 3.2, 4.0, 5.0, 3.6, 4.5, 5.5, 7.0]
SATISFACTION = ["Very dissatisfied", "Dissatisfied", "Neither satisfied nor dissatisfied", "Satisfied",
                "Very satisfied"]
CONTACT_AGE_BANDS = ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
CONTACT_AGE_P = [0.12, 0.17, 0.17, 0.17, 0.15, 0.12, 0.10]
SERVICES = ("stop_smoking", "contact_centre")


def band_start(label) -> int | None:
    """First age of a band label: 'Under 18' -> 0, '19-24' -> 19, 'Over 75' and '75+' -> 75."""
    text = str(label).lower()
    nums = re.findall(r"\d+", text)
    if not nums:
        return None
    return 0 if "under" in text else int(nums[0])


def age_effect(labels, young: float, old: float) -> np.ndarray:
    """Per record: `young` for bands starting under 25, `old` for bands from 75, else 0."""
    starts = [band_start(a) for a in labels]
    return np.array([young if s is not None and s < 25 else old if s is not None and s >= 75 else 0.0
                     for s in starts])


def plant(service: str, df: pd.DataFrame, truth: pd.DataFrame, types: np.ndarray,
          rng: np.random.Generator) -> None:
    """Add the service's outcome columns to `df` and their planted values to `truth` (in place)."""
    n = len(df)
    t = np.asarray(types, dtype=int) - 1
    if service == "stop_smoking":
        ages = df["Age Band"] if "Age Band" in df else [""] * n
        p = np.clip(np.asarray(QUIT_BY_TYPE)[t] + age_effect(ages, -0.14, -0.04), 0.02, 0.98)
        quit_ = rng.random(n) < p
        u = rng.random(n)
        df["Quit at 4 weeks"] = np.where(u < 0.15, "", np.where(u < 0.17, "Not known",
                                                                 np.where(quit_, "Yes", "No")))
        truth["p_quit_4wk"] = p
    elif service == "contact_centre":
        df["Age Band"] = np.asarray(CONTACT_AGE_BANDS, dtype=object)[rng.choice(len(CONTACT_AGE_BANDS), n,
                                                                                p=CONTACT_AGE_P)]
        p = np.clip(np.asarray(SATISFIED_BY_TYPE)[t] + age_effect(df["Age Band"], 0.0, -0.15), 0.02, 0.98)
        satisfied = rng.random(n) < p
        high = np.where(rng.random(n) < 0.45, 4, 3)  # Very satisfied / Satisfied
        low = rng.choice(3, n, p=[0.25, 0.30, 0.45])
        answer = np.asarray(SATISFACTION, dtype=object)[np.where(satisfied, high, low)]
        u = rng.random(n)
        df["Satisfaction"] = np.where(u < 0.60, "", np.where(u < 0.624, "Don't know", answer))
        mean = np.asarray(DAYS_BY_TYPE)[t]
        days = np.round(rng.gamma(2.0, mean / 2.0), 1)
        df["Days to resolve"] = np.where(rng.random(n) < 0.70, [f"{d:g}" for d in days], "")
        truth["p_satisfied"], truth["mean_days"] = p, mean


def write_truth(service: str, tr: pd.DataFrame, truth_dir: Path) -> None:
    """``<service>_outcome_truth.csv``: row_number and the planted columns (after the blank and
    duplicate rows are placed)."""
    cols = [c for c in tr.columns if c.startswith(("p_", "mean_"))]
    if cols:
        tr[["row_number", *cols]].to_csv(Path(truth_dir) / f"{service}_outcome_truth.csv", index=False,
                                         lineterminator="\n", float_format="%.6g")
