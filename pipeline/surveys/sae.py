"""Small-area estimates for wards: the area-level Fay-Herriot model (Fay and Herriot 1979; Rao and
Molina 2015, Small Area Estimation, chapters 4 and 6).

Model, for the wards i = 1..m that have respondents:

    direct estimate  y_i = theta_i + e_i,       e_i ~ N(0, D_i), D_i known
    ward's truth     theta_i = x_i' beta + v_i, v_i ~ N(0, A)

x_i are ward covariates from the census (an intercept and the ward's segment-mix prediction
sum_s share_is * y_s, the weighted segment estimates applied to the ward's adult population by
segment, plus any census covariates given). D_i is the direct estimate's sampling variance,
smoothed (a generalised variance function: D_i = p(1 - p) / n_eff,i for a proportion, with p the
area's estimate; s^2 / n_eff,i for a number), because a variance estimated from 40 respondents is
itself too noisy to be treated as known.

A (the between-ward variance the covariates leave unexplained) is estimated by REML with Fisher
scoring, V = diag(A + D_i), P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1:

    score   s(A) = -tr(P)/2 + y'P P y/2,   information  I(A) = tr(P P)/2,   A <- max(0, A + s/I)

Then beta = (X'V^-1 X)^-1 X'V^-1 y, the shrinkage weight gamma_i = A / (A + D_i), and the EBLUP

    theta_i = gamma_i y_i + (1 - gamma_i) x_i' beta

with the Prasad-Rao / Datta-Lahiri MSE g1 + g2 + 2 g3: g1 = gamma_i D_i, g2 = (1 - gamma_i)^2
x_i'(X'V^-1 X)^-1 x_i, g3 = D_i^2 / (A + D_i)^3 * var(A), var(A) = 2 / sum (A + D_i)^-2. The
interval is theta_i -/+ 1.96 sqrt(MSE). 1 - gamma_i is how much the model leans on the covariates.

A ward of the area with no respondent gets the synthetic estimate x_i' beta (MSE A + g2), flagged;
no estimate is made for a ward outside the survey's area.

Assumptions: the direct estimates are unbiased for their wards (the weighting has removed the
response bias within each ward); the sampling errors are independent between wards and their
variances known up to the smoothing; the ward effects are normal with one variance, independent
of the covariates; the linking model is linear on the estimate's scale (for proportions near 0
or 1 an arcsine or logit scale would be better, and the intervals may then go beyond 0-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.profiles.stats import Z95


@dataclass
class FayHerriot:
    """A fitted model: A, beta, and the per-ward table (`table`)."""

    A: float
    beta: np.ndarray
    iterations: int
    converged: bool
    table: pd.DataFrame


def reml(y: np.ndarray, X: np.ndarray, D: np.ndarray, tol: float = 1e-10, max_iter: int = 100
         ) -> tuple[float, int, bool]:
    """The REML estimate of A by Fisher scoring, from A = the mean of D (never below 0)."""
    A = float(max(np.var(y) - np.mean(D), np.mean(D) * 0.1, 1e-12))
    for it in range(1, max_iter + 1):
        vinv = 1.0 / (A + D)
        XtV = X.T * vinv
        P = np.diag(vinv) - XtV.T @ np.linalg.solve(XtV @ X, XtV)
        Py = P @ y
        score = -0.5 * np.trace(P) + 0.5 * float(Py @ Py)
        info = 0.5 * float(np.sum(P * P))
        new = max(0.0, A + score / info)
        if abs(new - A) <= tol * max(1.0, A):
            return new, it, True
        A = new
    return A, max_iter, False


def fit(direct: pd.Series, D: pd.Series, covariates: pd.DataFrame) -> FayHerriot:
    """Fit the model to the wards with a direct estimate (`direct`, `D` indexed by ward) and
    predict every ward in `covariates` (indexed by ward; an intercept is added). Returns one row a
    ward: direct, D, gamma (the weight on the direct estimate), synthetic, estimate, mse, lower,
    upper, model ('EBLUP' or 'synthetic': no respondent)."""
    have = direct.dropna().index.intersection(covariates.index)
    X_all = np.column_stack([np.ones(len(covariates)), covariates.to_numpy(dtype=float)])
    pos = covariates.index.get_indexer(have)
    X = X_all[pos]
    y = direct.loc[have].to_numpy(dtype=float)
    d = D.loc[have].to_numpy(dtype=float)
    A, iterations, converged = reml(y, X, d)
    vinv = 1.0 / (A + d)
    XtV = X.T * vinv
    cov_beta = np.linalg.inv(XtV @ X)
    beta = cov_beta @ (XtV @ y)
    var_A = 2.0 / np.sum(vinv**2)
    synthetic = X_all @ beta
    g2_all = np.einsum("ij,jk,ik->i", X_all, cov_beta, X_all)
    out = pd.DataFrame(index=covariates.index)
    out["direct"] = direct.reindex(covariates.index)
    out["D"] = D.reindex(covariates.index)
    out["synthetic"] = synthetic
    gamma = np.full(len(out), np.nan)
    est = synthetic.copy()
    mse = A + g2_all
    gamma[pos] = A / (A + d)
    est[pos] = gamma[pos] * y + (1 - gamma[pos]) * synthetic[pos]
    g1 = gamma[pos] * d
    g2 = (1 - gamma[pos]) ** 2 * g2_all[pos]
    g3 = d**2 / (A + d) ** 3 * var_A
    mse[pos] = g1 + g2 + 2 * g3
    out["gamma"] = gamma
    out["estimate"] = est
    out["mse"] = mse
    out["lower"] = est - Z95 * np.sqrt(mse)
    out["upper"] = est + Z95 * np.sqrt(mse)
    out["model"] = "synthetic"
    out.loc[have, "model"] = "EBLUP"
    return FayHerriot(A, beta, iterations, converged, out)
