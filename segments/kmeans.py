"""k-means that reaches the optimum reliably and fast, seeded and reproducible, and says how
sure it is.

Within-cluster sum of squares of a partition with centres c_k (the member means):

    WCSS = sum_i ||z_i - c_{k(i)}||^2

The 2021 OAC took the best of 2,000 single-start k-means runs.  `fit_kmeans` chooses the number
of starts adaptively: it keeps starting (k-means++ seeding, Lloyd to convergence) until the best
WCSS found has been reached by ``hits`` independent starts, with ``n_init`` starts at least (the
floor) and ``max_starts`` at most, and a time cap (``time_cap`` seconds) as a safety stop.
Small inputs thus get hundreds of starts for a few seconds and large ones stop early.  Each
fit reports the starts run, how many reached the best, the next-best distinct solution's WCSS
and why the search stopped (`KMeansFit`).

* Up to ``LOCAL_SEARCH_ROWS`` (2,000) rows each Lloyd solution is improved by single-point moves
  (Hartigan's rule: move OA i from cluster a to b when
  n_b/(n_b+1) ||z_i - c_b||^2 < n_a/(n_a-1) ||z_i - c_a||^2, the exact WCSS change), then Lloyd
  again, until neither changes it.  Lloyd stops at many near-equal local optima on a district
  (on Trafford's 738 OAs the best of 3,000 Lloyd starts was reached once); the moves leave far
  fewer, so the best is reached by several starts and is lower than the best of thousands of
  Lloyd starts.
* Above ``2 * sample_size`` rows the starts run on a seeded random subsample of ``sample_size``
  rows (the landscape of local optima of a large random sample is that of the full data); the
  ``refine`` best distinct sample solutions then seed Lloyd on the full data (float32 for the
  sweeps, WCSS in float64) and the lowest full-data WCSS wins.

Two solutions are the same when their WCSS agree to a relative ``SAME`` (1e-9).
The stopping rule uses counts only, so a fit is reproducible (same input, k, settings and seed,
same labels) unless the time cap stops it, which is logged and reported (``stopped``).
Clusters are relabelled 0..k-1 by size, largest first (ties broken by the centre coordinates).
k-means runs single-threaded by default (``THREADS``).
`bench/bench_segments.py` measures the gap to the best of 2,000 single starts.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

if TYPE_CHECKING:
    from sklearn.cluster import KMeans

log = logging.getLogger(__name__)

SAMPLE_SIZE = 20_000
REFINE = 10
#: Starts that must reach the best WCSS before the search stops.
HITS = 3
#: Or, after WORK / rows starts (hundreds on a district, the floor at national scale), until the
#: best has stood STOOD times the starts it took to find it (2: as many starts again).
WORK = 200_000
STOOD = 2
#: Most starts of one fit, and its safety time cap in seconds.
MAX_STARTS = 1_000
TIME_CAP = 120.0
#: Inputs up to this many rows get single-point (Hartigan) moves after each Lloyd run.
LOCAL_SEARCH_ROWS = 2_000
#: Relative WCSS difference below which two solutions are the same.
SAME = 1e-9
#: OpenMP threads for k-means.  One by default: on a shared machine (load above the core count)
#: a single thread measured 2.5 to 5 times faster than two; set 0 for all cores.
THREADS = 1


@dataclass
class KMeansFit:
    """labels 0..k-1 (largest cluster first), centres k x p, WCSS, and how it was reached:
    ``n_init`` starts run (on the subsample when ``sampled``), ``hits`` of them reaching the
    best, ``next_wcss`` the next-best distinct solution found (NaN: none), ``stopped`` why the
    search ended (``hits``, ``max starts``, ``time cap``, ``fixed``), ``refined_hits`` (sampled
    fits) how many refined solutions reached the full-data best, of ``refined``."""

    labels: np.ndarray
    centres: np.ndarray
    wcss: float
    n_init: int
    sampled: bool
    hits: int = 1
    next_wcss: float = math.nan
    stopped: str = "fixed"
    seconds: float = 0.0
    refined: int = 0
    refined_hits: int = 0

    @property
    def gap(self) -> float:
        """Relative WCSS gap of the next-best distinct solution found (NaN: none found)."""
        return (self.next_wcss - self.wcss) / self.wcss if self.wcss else math.nan


def wcss(x: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squares of `labels` with each cluster's mean as its centre."""
    total = 0.0
    for k in np.unique(labels):
        members = x[labels == k]
        total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


def _centres(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((k, x.shape[1]))
    for j in range(k):
        members = x[labels == j]
        if len(members):
            out[j] = members.mean(axis=0)
    return out


def _ordered(x: np.ndarray, labels: np.ndarray, k: int) -> KMeansFit:
    sizes = np.bincount(labels, minlength=k)
    centres = np.vstack([x[labels == c].mean(axis=0) if sizes[c] else np.zeros(x.shape[1])
                         for c in range(k)])
    order = sorted(range(k), key=lambda c: (-sizes[c], tuple(np.round(centres[c], 12))))
    new = np.empty(k, dtype=np.int64)
    new[order] = np.arange(k)
    labels = new[labels]
    return KMeansFit(labels=labels, centres=centres[order], wcss=wcss(x, labels), n_init=0,
                     sampled=False)


def _single(x: np.ndarray, k: int, seed: int, init: np.ndarray | str = "k-means++",
            tol: float = 1e-4) -> KMeans:
    from sklearn.cluster import KMeans  # on first use: checking a config (validate) needs no sklearn

    return KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd", max_iter=500,
                  random_state=seed, tol=tol).fit(x)


def hartigan_moves(x: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """Single-point moves that lower the WCSS (best move first) until none does: (labels,
    moves).  Moving OA i from a to b changes the WCSS by
    n_b/(n_b+1) d(i,b) - n_a/(n_a-1) d(i,a), d the squared distance to the centre."""
    labels = labels.copy()
    n = len(x)
    rows = np.arange(n)
    sizes = np.bincount(labels, minlength=k).astype(float)
    cent = _centres(x, labels, k)
    xx = np.einsum("ij,ij->i", x, x)
    d = np.maximum(xx[:, None] - 2 * x @ cent.T + np.einsum("ij,ij->i", cent, cent)[None, :], 0)
    floor = -1e-12 * max(float(d[rows, labels].sum()), 1.0)
    moves = 0
    for _ in range(10 * n):
        na = sizes[labels]
        out = np.where(na > 1, na / np.maximum(na - 1, 1) * d[rows, labels], -np.inf)
        delta = d * (sizes / (sizes + 1)) - out[:, None]
        delta[rows, labels] = np.inf
        i, b = divmod(int(np.argmin(delta)), k)
        if not delta[i, b] < floor:
            break
        a = labels[i]
        cent[a] = (cent[a] * sizes[a] - x[i]) / (sizes[a] - 1)
        cent[b] = (cent[b] * sizes[b] + x[i]) / (sizes[b] + 1)
        sizes[a] -= 1
        sizes[b] += 1
        labels[i] = b
        for j in (a, b):
            d[:, j] = np.maximum(xx - 2 * (x @ cent[j]) + cent[j] @ cent[j], 0)
        moves += 1
    return labels, moves


def _polished(x: np.ndarray, k: int, labels: np.ndarray) -> np.ndarray:
    """Alternate single-point moves and Lloyd until neither changes the partition."""
    for _ in range(50):
        labels, moves = hartigan_moves(x, labels, k)
        if not moves:
            break
        again = _single(x, k, 0, init=_centres(x, labels, k), tol=0).labels_
        if np.array_equal(again, labels):
            break
        labels = again
    return labels


def _one(x: np.ndarray, k: int, seed: int, local: bool) -> tuple[float, np.ndarray, np.ndarray]:
    """(WCSS, labels, centres) of one start: k-means++ and Lloyd to convergence, then the
    single-point moves when `local`."""
    km = _single(x, k, seed, tol=0 if local else 1e-4)
    labels = km.labels_
    if local:
        labels = _polished(x, k, labels)
        return wcss(x, labels), labels, _centres(x, labels, k)
    return float(km.inertia_), labels, km.cluster_centers_


REPORT_COLUMNS = ["level", "parent", "oas", "k", "starts", "hits", "wcss", "next_best_wcss",
                  "gap_pct", "stopped", "sample_oas", "refined", "refined_hits"]


def report_row(fit: KMeansFit, level: str, parent: str, oas: int, k: int,
               sample_size: int = SAMPLE_SIZE) -> dict:
    """One row of ``restarts.csv``: how the fit of one split reached its WCSS (no timing, so
    the table is the same run to run)."""
    return {"level": level, "parent": parent, "oas": oas, "k": k, "starts": fit.n_init,
            "hits": fit.hits, "wcss": round(fit.wcss, 6),
            "next_best_wcss": round(fit.next_wcss, 6) if not math.isnan(fit.next_wcss) else None,
            "gap_pct": float(f"{100 * fit.gap:.3g}") if not math.isnan(fit.gap) else None,
            "stopped": fit.stopped, "sample_oas": sample_size if fit.sampled else None,
            "refined": fit.refined or None, "refined_hits": fit.refined_hits or None}


@dataclass
class _Search:
    """The starts of one search: every WCSS, and the best distinct solutions found."""

    values: list
    best: list  # (wcss, start index, labels, centres), lowest first, distinct
    stopped: str

    def hits(self) -> int:
        low = self.best[0][0]
        return sum(v <= low * (1 + SAME) for v in self.values)

    def next_wcss(self) -> float:
        low = self.best[0][0]
        above = [v for v in self.values if v > low * (1 + SAME)]
        return min(above) if above else math.nan


def _search(x: np.ndarray, k: int, seed: int, floor: int, hits: int | None, max_starts: int,
            time_cap: float, keep: int, local: bool, progress: str | None = None) -> _Search:
    rng = np.random.default_rng(seed)
    most = floor if hits is None else max(floor, max_starts)
    budget = min(most, max(floor, WORK // max(len(x), 1)))
    t0 = time.perf_counter()
    found = _Search(values=[], best=[], stopped="fixed" if hits is None else "max starts")
    bar = tqdm(total=most, desc=progress, unit="start", leave=False, disable=progress is None)
    try:
        _starts(x, k, rng, floor, hits, most, budget, t0, time_cap, keep, local, found, bar)
    finally:
        bar.close()
    return found


def _starts(x, k, rng, floor, hits, most, budget, t0, time_cap, keep, local, found, bar) -> None:
    for start in range(most):
        value, labels, centres = _one(x, k, int(rng.integers(0, 2**31 - 1)), local)
        found.values.append(value)
        bar.update()
        if not any(abs(value - b[0]) <= SAME * b[0] for b in found.best):
            found.best = sorted(found.best + [(value, start, labels, centres)],
                                key=lambda b: b[:2])[:keep]
        if hits is None or start + 1 < floor:
            continue
        if found.hits() >= hits:
            found.stopped = "hits"
            break
        if start + 1 >= budget and start + 1 >= STOOD * (found.best[0][1] + 1):
            found.stopped = "best stood"
            break
        if time.perf_counter() - t0 > time_cap:
            found.stopped = "time cap"
            log.warning("k-means k=%d on %d rows stopped by the time cap (%.0fs) after %d starts, "
                        "the best reached by %d: the result may differ on another machine",
                        k, len(x), time_cap, start + 1, found.hits())
            break


def fit_kmeans(x: np.ndarray, k: int, n_init: int = 50, seed: int = 2021,
               sample_size: int = SAMPLE_SIZE, refine: int = REFINE, threads: int | None = None,
               hits: int | None = HITS, max_starts: int = MAX_STARTS,
               time_cap: float = TIME_CAP, progress: str | None = None) -> KMeansFit:
    """Cluster the rows of `x` into `k` clusters minimising WCSS (see the module docstring).
    ``n_init`` is the floor of starts; ``hits=None`` runs exactly ``n_init`` starts;
    `progress`: the label of a progress bar of the starts (None: no bar)."""
    threads = THREADS if threads is None else threads
    t0 = time.perf_counter()
    with threadpool_limits(threads or None):
        fit = _fit(x, k, n_init, seed, sample_size, refine, hits, max_starts, time_cap, progress)
    fit.seconds = time.perf_counter() - t0
    return fit


def _fit(x: np.ndarray, k: int, n_init: int, seed: int, sample_size: int, refine: int,
         hits: int | None, max_starts: int, time_cap: float, progress: str | None) -> KMeansFit:
    x = np.ascontiguousarray(x, dtype=np.float64)
    n = len(x)
    if n < k:
        raise ValueError(f"cannot make {k} clusters from {n} rows")
    if n <= 2 * sample_size:
        found = _search(x, k, seed, n_init, hits, max_starts, time_cap, 1,
                        local=n <= LOCAL_SEARCH_ROWS, progress=progress)
        fit = _ordered(x, found.best[0][2], k)
        fit.n_init, fit.hits, fit.next_wcss, fit.stopped = (len(found.values), found.hits(),
                                                            found.next_wcss(), found.stopped)
        return fit
    rng = np.random.default_rng(seed)
    sample = x[np.sort(rng.choice(n, size=sample_size, replace=False))]
    found = _search(sample, k, int(rng.integers(0, 2**31 - 1)), n_init, hits, max_starts,
                    time_cap, refine, local=False,
                    progress=progress and f"{progress} (sample of {sample_size:,})")
    x32 = x.astype(np.float32)
    runs = []
    for _value, start, _labels, centres in tqdm(found.best, desc=progress and f"{progress} (refine)",
                                               leave=False, disable=progress is None):
        km = _single(x32, k, seed, init=centres.astype(np.float32))
        labels = _single(x, k, seed, init=km.cluster_centers_.astype(np.float64)).labels_
        runs.append((wcss(x, labels), start, labels))
    runs.sort(key=lambda r: r[:2])
    low = runs[0][0]
    fit = _ordered(x, runs[0][2], k)
    above = [r[0] for r in runs if r[0] > low * (1 + SAME)]
    fit.n_init, fit.sampled, fit.hits, fit.stopped = (len(found.values), True, found.hits(),
                                                      found.stopped)
    fit.next_wcss = min(above) if above else math.nan
    fit.refined, fit.refined_hits = len(runs), sum(r[0] <= low * (1 + SAME) for r in runs)
    log.debug("k-means k=%d on %d rows: %d subsample starts (best reached by %d), %d refined, "
              "WCSS %.4f", k, n, fit.n_init, fit.hits, len(runs), fit.wcss)
    return fit
