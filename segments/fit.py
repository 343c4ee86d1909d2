"""How well each OA fits its segment, and how stable the segments are.

Fit: each OA's Euclidean distance to its supergroup centre in the standardised space,
d_i = ||z_i - c_{k(i)}||; the worst-fitting 5% (d_i at or above the 95th percentile) are
flagged ``weak`` (their label describes them less well).

Stability:

* across seeds: the supergroups rebuilt with other seeds, compared with the adjusted Rand index
  (1 = the same partition);
* per cluster, by bootstrap (Hennig 2007, "clusterboot"): for each of B resamples of the OAs
  (with replacement) k-means is refitted and every OA assigned to its nearest resample centre;
  cluster C's stability is the mean over resamples of  max_D |C n D| / |C u D|  (Jaccard) over
  the resample's clusters D.  Above 0.75 is usually read as stable, below 0.6 as doubtful.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score
from tqdm import tqdm

from segments.kmeans import fit_kmeans

WEAK_SHARE = 0.05


def fit_table(codes: pd.DataFrame, matrix: pd.DataFrame, centres: pd.DataFrame) -> pd.DataFrame:
    """oa21cd, supergroup, distance, weak (worst-fitting 5%)."""
    z = matrix.loc[codes["oa21cd"]].to_numpy()
    c = centres.loc[codes["supergroup"]].to_numpy()
    distance = np.sqrt(((z - c) ** 2).sum(axis=1))
    cut = np.quantile(distance, 1 - WEAK_SHARE)
    return pd.DataFrame({"oa21cd": codes["oa21cd"].to_numpy(),
                         "supergroup": codes["supergroup"].to_numpy(),
                         "distance": distance.round(6), "weak": distance >= cut})


def seed_agreement(matrix: pd.DataFrame, labels: np.ndarray, k: int, n_init: int, seed: int,
                   seeds: int = 5) -> pd.DataFrame:
    """seed, wcss, ari (vs `labels`) for `seeds` other seeds."""
    x = matrix.to_numpy()
    rows = []
    for s in range(1, seeds + 1):
        fit = fit_kmeans(x, k, n_init=n_init, seed=seed + s)
        rows.append((seed + s, round(fit.wcss, 6), round(adjusted_rand_score(labels, fit.labels),
                                                         6)))
    return pd.DataFrame(rows, columns=["seed", "wcss", "ari"])


def bootstrap_stability(matrix: pd.DataFrame, labels: pd.Series, k: int, n_init: int = 10,
                        seed: int = 2021, resamples: int = 20, progress: bool = False
                        ) -> pd.DataFrame:
    """segment, jaccard (mean over resamples), oas: clusterboot stability per cluster."""
    x = matrix.to_numpy()
    lab = labels.to_numpy()
    codes = sorted(set(lab), key=lambda c: (len(c), c))
    rng = np.random.default_rng(seed)
    scores = {c: [] for c in codes}
    for b in tqdm(range(resamples), desc="bootstrap", disable=not progress, leave=False):
        rows = rng.integers(0, len(x), len(x))
        fit = fit_kmeans(x[rows], k, n_init=n_init, seed=seed + b)
        near = ((x[:, None, :] - fit.centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        for c in codes:
            members = lab == c
            best = max(((members & (near == d)).sum() / (members | (near == d)).sum())
                       for d in range(k))
            scores[c].append(best)
    return pd.DataFrame({"segment": codes,
                         "jaccard": [round(float(np.mean(scores[c])), 4) for c in codes],
                         "oas": [int((lab == c).sum()) for c in codes]})
