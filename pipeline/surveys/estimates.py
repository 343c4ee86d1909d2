"""Weighted estimates of a question by domain (segment, ward, equality group, deprivation), with
intervals that allow for the weighting.

For the respondents r of domain d who answered (y_r: 1/0 for a yes/no or a satisfied/not answer,
the value for a number) with weights w_r:

    estimate   y_d = sum w_r y_r / sum w_r
    n_eff      (sum w_r)^2 / sum w_r^2                     (Kish's effective sample size)
    interval   a proportion: Wilson's score interval with n_eff trials (pipeline.profiles.stats.wilson);
               a number: y_d -/+ z s_w / sqrt(n_eff), s_w^2 = sum w_r (y_r - y_d)^2 / sum w_r

Kish's n_eff allows for the loss of precision from unequal weights but not for the gain from
calibration or for clustering; with one respondent per household and raking to a few margins it is
the usual, somewhat conservative, approximation (Kish 1992, 'Weighting for unequal Pi').

The comparison with the area's average follows the profiles: a domain is 'higher' or 'lower'
when its interval lies wholly above or below the area's estimate (pipeline.profiles.stats.significance
on the difference), else 'similar'.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.profiles.stats import Z95, wilson

#: the columns of an estimates table, in order
COLUMNS = ["domain", "respondents", "weighted", "n_eff", "estimate", "lower", "upper", "vs_area"]


def domain_estimate(y, w, binary: bool, z: float = Z95) -> dict:
    """The weighted estimate of answers `y` (NaN: no answer) with weights `w`, and its interval."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    ok = ~np.isnan(y)
    y, w = y[ok], w[ok]
    n = int(ok.sum())
    if n == 0 or w.sum() <= 0:
        return {"respondents": n, "weighted": 0.0, "n_eff": 0.0, "estimate": np.nan, "lower": np.nan,
                "upper": np.nan}
    sw = w.sum()
    est = float(np.sum(w * y) / sw)
    n_eff = float(sw**2 / np.sum(w * w))
    if binary:
        lo, hi = wilson(np.array([est * n_eff]), np.array([n_eff]), z)
        lo, hi = float(lo[0]), float(hi[0])
    else:
        s2 = float(np.sum(w * (y - est) ** 2) / sw)
        half = z * np.sqrt(s2 / n_eff)
        lo, hi = est - half, est + half
    return {"respondents": n, "weighted": float(sw), "n_eff": n_eff, "estimate": est, "lower": lo,
            "upper": hi}


def by_domain(frame: pd.DataFrame, answer: str, weight: str, domain: str, binary: bool,
              order: list[str] | None = None) -> pd.DataFrame:
    """One row per domain value (in `order`, else sorted) and a first row 'All' for the area:
    respondents who answered, weighted count, n_eff, estimate, interval and the comparison with the
    area ('higher', 'lower', 'similar'; blank for the area's own row)."""
    area = domain_estimate(frame[answer], frame[weight], binary)
    rows = [{"domain": "All", **area, "vs_area": ""}]
    values = order if order is not None else sorted(frame[domain].dropna().astype(str).unique())
    keys = frame[domain].astype(object).where(frame[domain].notna(), None)
    for v in values:
        part = frame[(keys.astype(str) == str(v)).to_numpy()]
        e = domain_estimate(part[answer], part[weight], binary)
        if np.isnan(e["estimate"]):
            vs = ""
        elif e["lower"] > area["estimate"]:
            vs = "higher"
        elif e["upper"] < area["estimate"]:
            vs = "lower"
        else:
            vs = "similar"
        rows.append({"domain": str(v), **e, "vs_area": vs})
    return pd.DataFrame(rows, columns=COLUMNS)
