"""Three tiers like the OAC: supergroups, groups within each supergroup, subgroups within each
group, each tier by `segments.kmeans.fit_kmeans` on the members of its parent alone.

Codes follow the OAC: supergroups ``1``..``k`` (largest first), groups ``1a``, ``1b``.. within
supergroup 1 (largest first), subgroups ``1a1``, ``1a2``.. within group ``1a``.  A tier's k is
one number for every parent or a mapping parent code -> k (missing parents take ``default``);
a parent with fewer OAs than k is split into as many clusters as it has distinct OAs.

**Minimum size.** No segment of any tier is smaller than ``min_oas`` Output Areas or
``min_households`` households (config ``segmentation.min_oas`` / ``min_households``): a split
(of the area into supergroups, or of a parent) that would make one is fitted again with one
segment fewer, until none is too small or the parent is kept whole; each such split is a line of
`notes`, which the run's closing lines print, so a tier with fewer segments than asked says why.
"""

from __future__ import annotations

import logging
import re
import string
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm import tqdm

from segments.kmeans import fit_kmeans, report_row

log = logging.getLogger(__name__)

LEVELS = ("supergroup", "group", "subgroup")
#: Safety time cap (seconds) of all the splits of one lower tier, shared by size, and the least
#: any split gets.
LOWER_TIER_CAP = 60.0
MIN_SPLIT_CAP = 10.0
#: Most starts of one group or subgroup split.
LOWER_MAX_STARTS = 100


def k_for(k: int | dict[str, int], parent: str, default: int) -> int:
    if isinstance(k, dict):
        return int(k.get(parent, default))
    return int(k)


def code_suffix(level: str, i: int) -> str:
    if level == "group":
        letters = string.ascii_lowercase
        return letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26]
    return str(i + 1)


@dataclass(frozen=True)
class MinSize:
    """The smallest segment allowed: Output Areas and households (`weights` per OA)."""

    oas: int = 1
    households: float = 0.0
    weights: np.ndarray | None = None

    def too_small(self, rows: np.ndarray, labels: np.ndarray, k: int) -> str:
        """Why the smallest of the `k` clusters (`labels` of `rows`) is too small ('' if none)."""
        sizes = np.bincount(labels, minlength=k)
        smallest = int(sizes.min())
        if smallest < self.oas:
            return (f"one would have had {smallest} Output Area{'' if smallest == 1 else 's'}, "
                    f"fewer than segmentation.min_oas {self.oas}")
        if self.weights is not None and self.households > 0:
            hh = np.bincount(labels, weights=self.weights[rows], minlength=k)
            if hh.min() < self.households:
                return (f"one would have had {hh.min():,.0f} households, fewer than "
                        f"segmentation.min_households {self.households:,.0f}")
        return ""


def fit_at_least(x: np.ndarray, rows: np.ndarray, k: int, size: MinSize, notes: list | None,
                 what: str, **kw):
    """`fit_kmeans` of ``x[rows]`` into `k` clusters, or fewer when a cluster would be smaller
    than `size` (a line in `notes` says so); None when even two are too small."""
    sub = x[rows]
    asked, why = k, ""
    while k >= 2:
        fit = fit_kmeans(sub, k, **kw)
        reason = size.too_small(rows, fit.labels, k)
        if not reason:
            if k < asked and notes is not None:
                notes.append(f"{what} made into {k}, not {asked}: with {k + 1} {why}")
            return fit
        why, k = reason, k - 1
    if notes is not None:
        notes.append(f"{what} kept whole, not split into {asked}: with 2 {why}")
    return None


def _split(x: np.ndarray, parents: np.ndarray, level: str, k: int | dict[str, int],
           n_init: int, seed: int, progress: bool, report: list | None = None,
           size: MinSize = MinSize(), notes: list | None = None
           ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    codes = np.empty(len(x), dtype=object)
    centres: dict[str, np.ndarray] = {}
    order = sorted(set(parents), key=code_key)
    default = k if isinstance(k, int) else 2
    for parent in tqdm(order, desc=f"{level}s", unit="parent", disable=not progress, leave=False):
        rows = np.flatnonzero(parents == parent)
        sub = x[rows]
        kk = min(k_for(k, parent, default), len(np.unique(sub, axis=0)))
        fit = None if kk <= 1 else fit_at_least(
            x, rows, kk, size, notes,
            f"{level}s: {'supergroup' if level == 'group' else 'group'} {parent}",
            n_init=n_init, seed=seed, max_starts=LOWER_MAX_STARTS,
            time_cap=max(MIN_SPLIT_CAP, LOWER_TIER_CAP * len(rows) / len(x)))
        if fit is None:
            codes[rows] = parent + code_suffix(level, 0)
            centres[parent + code_suffix(level, 0)] = sub.mean(axis=0)
            continue
        kk = len(fit.centres)
        if report is not None:
            report.append(report_row(fit, level, parent, len(rows), kk))
        for c in range(kk):
            code = parent + code_suffix(level, c)
            codes[rows[fit.labels == c]] = code
            centres[code] = fit.centres[c]
    return codes, centres


def code_key(code: str) -> tuple:
    """Sort key for OAC-style codes: 1 < 1a < 1a1 < 1a2 < 1b < 2 < 10 (others after, by text)."""
    m = re.fullmatch(r"(\d+)([a-z]*)(\d*)", str(code))
    if m is None:
        return (1, 0, str(code), 0)
    return (0, int(m[1]), m[2], int(m[3] or 0))


def build_hierarchy(matrix: pd.DataFrame, k: int, k_groups: int | dict | None = None,
                    k_subgroups: int | dict | None = None, n_init: int = 50, seed: int = 2021,
                    n_init_lower: int | None = None, progress: bool = False,
                    report: list | None = None, size: MinSize = MinSize(),
                    notes: list | None = None
                    ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], float]:
    """Cluster the OAs (rows of the standardised `matrix`) into up to three tiers.

    Returns (codes: DataFrame oa21cd, supergroup[, group[, subgroup]], centres per level
    (DataFrame code x variable), supergroup WCSS).  ``n_init`` is the floor of starts for the
    supergroups, ``n_init_lower`` (default ``n_init``) that of each group and subgroup split
    (`segments.kmeans.fit_kmeans` adds starts until the best is reached by several);
    `report` (a list) receives one `segments.kmeans.report_row` per fit; `size`: the smallest
    segment allowed (`MinSize`, weights in the rows of `matrix`), `notes` (a list) a line per
    split made into fewer segments than asked (see the module docstring).
    """
    x = np.ascontiguousarray(matrix.to_numpy(dtype=np.float64))
    fit = fit_at_least(x, np.arange(len(x)), k, size, notes, "supergroups: the area",
                       n_init=n_init, seed=seed,
                       progress="supergroups: k-means starts" if progress else None)
    if fit is None:  # even two supergroups would be too small: the minimum is not met
        fit = fit_kmeans(x, 2, n_init=n_init, seed=seed)
    k = len(fit.centres)
    if report is not None:
        report.append(report_row(fit, "supergroup", "", len(x), k))
    codes = pd.DataFrame({"oa21cd": matrix.index.astype(str)})
    codes["supergroup"] = (fit.labels + 1).astype(str)
    centres = {"supergroup": pd.DataFrame(fit.centres, columns=matrix.columns,
                                          index=pd.Index([str(i + 1) for i in range(k)]))}
    lower = n_init if n_init_lower is None else n_init_lower
    parent_level = "supergroup"
    for level, kk in (("group", k_groups), ("subgroup", k_subgroups)):
        if kk is None:
            break
        labels, cents = _split(x, codes[parent_level].to_numpy(), level, kk, lower, seed,
                               progress, report, size, notes)
        codes[level] = labels.astype(str)
        keys = sorted(cents, key=code_key)
        centres[level] = pd.DataFrame(np.vstack([cents[c] for c in keys]), index=keys,
                                      columns=matrix.columns)
        parent_level = level
    for frame in centres.values():
        frame.index.name = "segment"
    return codes, centres, fit.wcss
