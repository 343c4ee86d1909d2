"""The ward small-area estimates of one question: the direct weighted estimates, the census
covariates (the segment-mix prediction), the smoothed sampling variances and the Fay-Herriot fit
(pipeline/surveys/sae.py, where the model and its assumptions are written out)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.surveys import sae
from pipeline.surveys.estimates import by_domain


def segment_mix(area_cells: pd.DataFrame, segment_estimates: pd.Series) -> pd.Series:
    """Per ward: sum over segments of (the ward's share of adults in the segment) x (the segment's
    weighted estimate): what the ward would answer if each of its residents answered as their
    segment does across the area."""
    people = area_cells.groupby(["ward", "segment"])["people"].sum().unstack(fill_value=0.0)
    share = people.div(people.sum(axis=1), axis=0)
    est = segment_estimates.reindex(share.columns.astype(str))
    est.index = share.columns
    # a segment with no estimate (no respondent) leans on the area's mean of the segment estimates
    est = est.fillna(float(np.nanmean(segment_estimates.to_numpy(float))))
    return (share * est).sum(axis=1).rename("segment_mix")


def smoothed_variance(direct: pd.DataFrame, area_estimate: float, area_variance: float | None, binary: bool
                      ) -> pd.Series:
    """D_i: the area's unit variance over each ward's effective sample size (p(1 - p) for a
    proportion, the weighted s^2 for a number)."""
    unit = area_estimate * (1 - area_estimate) if binary else float(area_variance or 0.0)
    n_eff = direct["n_eff"].astype(float).where(direct["n_eff"] > 0)
    return (unit / n_eff).rename("D")


def ward_estimates(frame: pd.DataFrame, answer: str, weight: str, area_cells: pd.DataFrame,
                   segment_estimates: pd.Series, binary: bool, extra: pd.DataFrame | None = None
                   ) -> sae.FayHerriot:
    """Fit the Fay-Herriot model of `answer` over the wards of the area (`area_cells`' wards: a ward
    outside them gets no estimate) and return it; its table is indexed by ward and carries the
    direct estimate's respondents and n_eff too."""
    wards = sorted(area_cells["ward"].astype(str).unique())
    inside = frame[frame["ward"].astype(str).isin(wards)]
    direct = by_domain(inside, answer, weight, "ward", binary, order=wards).set_index("domain")
    area = direct.loc["All"]
    direct = direct.drop(index="All")
    var = None
    if not binary:
        y = inside[answer].to_numpy(float)
        w = inside[weight].to_numpy(float)
        ok = ~np.isnan(y)
        var = float(np.sum(w[ok] * (y[ok] - area["estimate"]) ** 2) / np.sum(w[ok]))
    D = smoothed_variance(direct, float(area["estimate"]), var, binary)
    covariates = segment_mix(area_cells, segment_estimates).to_frame()
    covariates.index = covariates.index.astype(str)
    if extra is not None:
        covariates = covariates.join(extra, how="left")
    covariates = covariates.reindex(wards)
    # a ward with fewer than 2 effective respondents has no usable direct estimate
    usable = direct["estimate"].where(direct["n_eff"] >= 2)
    model = sae.fit(usable, D, covariates)
    model.table["respondents"] = direct["respondents"].reindex(model.table.index).fillna(0).astype(int)
    model.table["n_eff"] = direct["n_eff"].reindex(model.table.index)
    model.table["direct_lower"] = direct["lower"].reindex(model.table.index)
    model.table["direct_upper"] = direct["upper"].reindex(model.table.index)
    return model
