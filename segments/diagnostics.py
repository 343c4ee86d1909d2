"""Choosing k: WCSS (elbow), silhouette and Calinski-Harabasz for k = 2..15, and a clustergram.

For a partition into k clusters of n OAs with centres c_k and overall mean c:

    WCSS   = sum_i ||z_i - c_{k(i)}||^2
    CH     = [sum_k n_k ||c_k - c||^2 / (k - 1)] / [WCSS / (n - k)]
    silhouette = mean_i (b_i - a_i) / max(a_i, b_i)   (a: mean distance within the own cluster,
                                                      b: to the nearest other cluster)

The silhouette is computed on a seeded sample of at most 10,000 OAs.  Figures are written with
matplotlib's Agg backend and no timestamp or software metadata, so they are byte-identical run to
run.  The clustergram (Schonlau 2002) plots, for k = 1..15, each cluster's mean on the first
principal component, with lines between tiers as thick as the number of OAs moving.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.metrics import calinski_harabasz_score, silhouette_score  # noqa: E402
from tqdm import tqdm  # noqa: E402

from segments.kmeans import fit_kmeans  # noqa: E402

KS = range(2, 16)
SILHOUETTE_SAMPLE = 10_000
PNG_META = {"Software": None}


def k_diagnostics(matrix: pd.DataFrame, ks=KS, n_init: int = 20, seed: int = 2021,
                  progress: bool = False) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """Table k, wcss, silhouette, calinski_harabasz and the labels per k."""
    x = matrix.to_numpy()
    rows, labels = [], {}
    for k in tqdm(list(ks), desc="k", disable=not progress, leave=False):
        if k >= len(x):
            break
        fit = fit_kmeans(x, k, n_init=n_init, seed=seed, hits=None)
        labels[k] = fit.labels
        sil = silhouette_score(x, fit.labels, sample_size=min(len(x), SILHOUETTE_SAMPLE),
                               random_state=seed)
        rows.append((k, round(fit.wcss, 6), round(float(sil), 6),
                     round(float(calinski_harabasz_score(x, fit.labels)), 6)))
    return pd.DataFrame(rows, columns=["k", "wcss", "silhouette", "calinski_harabasz"]), labels


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=100, metadata=PNG_META)
    plt.close(fig)


def plot_choose_k(table: pd.DataFrame, path: Path, chosen: int | None = None) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, col, title in zip(axes, ["wcss", "silhouette", "calinski_harabasz"],
                              ["Within-cluster sum of squares (elbow)", "Silhouette (higher is better)",
                               "Calinski-Harabasz (higher is better)"], strict=True):
        ax.plot(table["k"], table[col], marker="o", color="#0072B2")
        if chosen is not None:
            ax.axvline(chosen, color="#D55E00", linestyle="--", linewidth=1)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("k (number of supergroups)")
        ax.set_xticks(list(table["k"]))
    fig.tight_layout()
    _save(fig, path)


def plot_clustergram(matrix: pd.DataFrame, labels: dict[int, np.ndarray], path: Path) -> None:
    x = matrix.to_numpy()
    pc1 = PCA(n_components=1, random_state=0).fit_transform(x)[:, 0]
    ks = [1] + sorted(labels)
    lab = {1: np.zeros(len(x), dtype=int), **labels}
    means = {k: {c: float(pc1[lab[k] == c].mean()) for c in np.unique(lab[k])} for k in ks}
    fig, ax = plt.subplots(figsize=(8, 5))
    for a, b in zip(ks[:-1], ks[1:], strict=True):
        pairs, counts = np.unique(np.column_stack([lab[a], lab[b]]), axis=0, return_counts=True)
        for (ca, cb), n in zip(pairs, counts, strict=True):
            ax.plot([a, b], [means[a][ca], means[b][cb]], color="#0072B2", alpha=0.6,
                    linewidth=0.3 + 8 * n / len(x))
    for k in ks:
        ax.scatter([k] * len(means[k]), list(means[k].values()), s=10, color="#D55E00", zorder=3)
    ax.set_xlabel("k (number of clusters)")
    ax.set_ylabel("cluster mean on the first principal component")
    ax.set_title("Clustergram: how OAs move between clusters as k grows", fontsize=10)
    ax.set_xticks(ks)
    fig.tight_layout()
    _save(fig, path)
