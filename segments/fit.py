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
  the resample's clusters D.  Above 0.75 is usually read as stable, below 0.6 as doubtful:
  such a segment is flagged ``weak`` in the segment outputs and its pen portrait says so
  (`flag_weak`). Groups and subgroups are judged the same way within their parent
  (`bootstrap_within`: the parent's OAs resampled and split again), so every tier is flagged.
  A Jaccard is shown rounded down (`jaccard_text`), so a figure below the threshold never reads
  as the threshold ("0.59", not "0.60 (below 0.6)", for 0.599).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from tqdm import tqdm

from segments.kmeans import fit_kmeans

WEAK_SHARE = 0.05
#: Bootstrap Jaccard below which a segment is flagged weak, and at or above which it is stable.
WEAK_JACCARD = 0.6
STABLE_JACCARD = 0.75
#: Another seed whose supergroups agree with the run's below this adjusted Rand index disagrees.
SEED_AGREE_ARI = 0.9


def jaccard_text(jaccard: float) -> str:
    """A Jaccard as shown: two decimals rounded down, so it agrees with the thresholds."""
    return f"{math.floor(float(jaccard) * 100 + 1e-9) / 100:.2f}"


def seed_line(seeds: pd.DataFrame) -> str:
    """The seed check in words when another seed's supergroups disagree (ARI below
    `SEED_AGREE_ARI`); '' when every seed agrees."""
    if seeds is None or seeds.empty:
        return ""
    off = seeds[seeds["ari"] < SEED_AGREE_ARI]
    if off.empty:
        return ""
    return (f"{len(off)} of {len(seeds)} other seeds gave supergroups that disagree with this "
            f"run's (adjusted Rand index {', '.join(f'{a:.2f}' for a in off['ari'])}; "
            f"{SEED_AGREE_ARI} or more agrees): the boundaries between some supergroups depend on "
            "where k-means starts, so read neighbouring supergroups together (stability_seeds.csv)")


def stability_word(jaccard: float) -> str:
    """``stable`` (>= 0.75), ``fairly stable`` (0.6 to 0.75) or ``weak`` (< 0.6)."""
    if jaccard >= STABLE_JACCARD:
        return "stable"
    return "fairly stable" if jaccard >= WEAK_JACCARD else "weak"


def weak_sentence(jaccard: float, resamples: int) -> str:
    """The caution a weak segment's pen portrait ends with, in an analyst's words."""
    return (f"Caution: a weak segment. Rebuilt from {resamples} resamples of the area's Output "
            f"Areas, its closest match overlapped it by only {math.floor(jaccard * 100 + 1e-9)}% "
            f"on average (bootstrap Jaccard {jaccard_text(jaccard)}; below {WEAK_JACCARD:.0%} a "
            "segment is not reliably there), so "
            "where it ends and its neighbours begin is uncertain: treat its figures as indicative "
            "and read it together with the segments it borders.")


def flag_weak(frame: pd.DataFrame, boot: pd.DataFrame, resamples: int,
              text: str = "description") -> pd.DataFrame:
    """`frame` (segment_names or pen_portraits rows) with ``stability`` and
    ``bootstrap_jaccard`` columns for every segment `boot` judged (its ``level`` column, or
    supergroups when it has none; blank for others) and the caution sentence after a weak
    segment's `text`."""
    out = frame.copy()
    levels = boot["level"] if "level" in boot else pd.Series("supergroup", index=boot.index)
    jac = dict(zip(zip(levels, boot["segment"].astype(str), strict=True), boot["jaccard"],
                   strict=True))
    lv = out["level"] if "level" in out else pd.Series("supergroup", index=out.index)
    j = pd.Series([jac.get(k, np.nan) for k in zip(lv, out["segment"].astype(str),
                                                    strict=True)], index=out.index, dtype=float)
    out["stability"] = [stability_word(v) if pd.notna(v) else "" for v in j]
    out["bootstrap_jaccard"] = j
    weak = j.lt(WEAK_JACCARD).fillna(False).to_numpy()
    if text in out:
        out.loc[weak, text] = [f"{t} {weak_sentence(v, resamples)}".strip()
                               for t, v in zip(out.loc[weak, text], j[weak], strict=True)]
    return out


def fit_table(codes: pd.DataFrame, matrix: pd.DataFrame, centres: pd.DataFrame,
              communal: pd.Index | None = None) -> pd.DataFrame:
    """oa21cd, supergroup, distance, weak (worst-fitting 5%), communal (an OA mostly of
    communal-establishment residents, assigned to its nearest segment, not clustered)."""
    z = matrix.loc[codes["oa21cd"]].to_numpy()
    c = centres.loc[codes["supergroup"]].to_numpy()
    distance = np.sqrt(((z - c) ** 2).sum(axis=1))
    cut = np.quantile(distance, 1 - WEAK_SHARE)
    oas = codes["oa21cd"].to_numpy()
    return pd.DataFrame({"oa21cd": oas, "supergroup": codes["supergroup"].to_numpy(),
                         "distance": distance.round(6), "weak": distance >= cut,
                         "communal": pd.Index(oas).isin(communal if communal is not None
                                                        else [])})


def seed_agreement(matrix: pd.DataFrame, labels: np.ndarray, k: int, n_init: int, seed: int,
                   seeds: int = 5, progress: bool = False) -> pd.DataFrame:
    """seed, wcss, ari (vs `labels`), starts, hits for `seeds` other seeds (the build's own
    adaptive search with another seed)."""
    from sklearn.metrics import adjusted_rand_score  # on first use, as in segments.kmeans

    x = matrix.to_numpy()
    rows = []
    for s in tqdm(range(1, seeds + 1), desc="seed check", disable=not progress, leave=False):
        fit = fit_kmeans(x, k, n_init=n_init, seed=seed + s)
        rows.append((seed + s, round(fit.wcss, 6), round(adjusted_rand_score(labels, fit.labels),
                                                         6), fit.n_init, fit.hits))
    return pd.DataFrame(rows, columns=["seed", "wcss", "ari", "starts", "hits"])


def bootstrap_within(matrix: pd.DataFrame, codes: pd.DataFrame, level: str, parent: str,
                     n_init: int = 10, seed: int = 2021, resamples: int = 20) -> pd.DataFrame:
    """level, segment, jaccard, oas, stability of each segment of `level`, by `bootstrap_stability`
    within its `parent` (the parent's OAs resampled and split into as many again)."""
    frames = []
    for p in sorted(codes[parent].unique(), key=lambda c: (len(c), c)):
        rows = (codes[parent] == p).to_numpy()
        lab = codes.loc[rows, level].reset_index(drop=True)
        k = lab.nunique()
        if k < 2 or len(lab) < 5 * k:  # one segment, or too few OAs to resample and split
            counts = lab.value_counts()
            frames.append(pd.DataFrame({"segment": counts.index, "jaccard": np.nan,
                                        "oas": counts.to_numpy(),
                                        "stability": "not judged (too few Output Areas)"
                                        if k > 1 else "stable"}))
            if k < 2:
                frames[-1]["jaccard"] = 1.0
            continue
        frames.append(bootstrap_stability(matrix[rows], lab, k, n_init=n_init, seed=seed,
                                          resamples=resamples))
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "level", level)
    return out


def nearest(x: np.ndarray, centres: np.ndarray, chunk: int = 50_000) -> np.ndarray:
    """Index of each row's nearest centre, in chunks (no n x k x p array)."""
    cc = np.einsum("ij,ij->i", centres, centres)
    return np.concatenate([(cc[None, :] - 2 * x[i:i + chunk] @ centres.T).argmin(axis=1)
                           for i in range(0, len(x), chunk)]) if len(x) else np.zeros(0, int)


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
        fit = fit_kmeans(x[rows], k, n_init=n_init, seed=seed + b, hits=None)
        near = nearest(x, fit.centres)
        for c in codes:
            members = lab == c
            best = max(((members & (near == d)).sum() / (members | (near == d)).sum())
                       for d in range(k))
            scores[c].append(best)
    jaccard = [round(float(np.mean(scores[c])), 4) for c in codes]
    return pd.DataFrame({"segment": codes, "jaccard": jaccard,
                         "oas": [int((lab == c).sum()) for c in codes],
                         "stability": [stability_word(j) for j in jaccard]})
