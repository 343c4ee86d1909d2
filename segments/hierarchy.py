"""Three tiers like the OAC: supergroups, groups within each supergroup, subgroups within each
group, each tier by `segments.kmeans.fit_kmeans` on the members of its parent alone.

Codes follow the OAC: supergroups ``1``..``k`` (largest first), groups ``1a``, ``1b``.. within
supergroup 1 (largest first), subgroups ``1a1``, ``1a2``.. within group ``1a``.  A tier's k is
one number for every parent or a mapping parent code -> k (missing parents take ``default``);
a parent with fewer OAs than k is split into as many clusters as it has distinct OAs.
"""

from __future__ import annotations

import logging
import re
import string

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


def _split(x: np.ndarray, parents: np.ndarray, level: str, k: int | dict[str, int],
           n_init: int, seed: int, progress: bool, report: list | None = None
           ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    codes = np.empty(len(x), dtype=object)
    centres: dict[str, np.ndarray] = {}
    order = sorted(set(parents), key=code_key)
    default = k if isinstance(k, int) else 2
    for parent in tqdm(order, desc=f"{level}s", unit="parent", disable=not progress, leave=False):
        rows = np.flatnonzero(parents == parent)
        sub = x[rows]
        kk = min(k_for(k, parent, default), len(np.unique(sub, axis=0)))
        if kk <= 1:
            codes[rows] = parent + code_suffix(level, 0)
            centres[parent + code_suffix(level, 0)] = sub.mean(axis=0)
            continue
        fit = fit_kmeans(sub, kk, n_init=n_init, seed=seed, max_starts=LOWER_MAX_STARTS,
                         time_cap=max(MIN_SPLIT_CAP, LOWER_TIER_CAP * len(rows) / len(x)))
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
                    report: list | None = None
                    ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], float]:
    """Cluster the OAs (rows of the standardised `matrix`) into up to three tiers.

    Returns (codes: DataFrame oa21cd, supergroup[, group[, subgroup]], centres per level
    (DataFrame code x variable), supergroup WCSS).  ``n_init`` is the floor of starts for the
    supergroups, ``n_init_lower`` (default ``n_init``) that of each group and subgroup split
    (`segments.kmeans.fit_kmeans` adds starts until the best is reached by several);
    `report` (a list) receives one `segments.kmeans.report_row` per fit.
    """
    x = np.ascontiguousarray(matrix.to_numpy(dtype=np.float64))
    fit = fit_kmeans(x, k, n_init=n_init, seed=seed,
                     progress="supergroups: k-means starts" if progress else None)
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
                               progress, report)
        codes[level] = labels.astype(str)
        keys = sorted(cents, key=code_key)
        centres[level] = pd.DataFrame(np.vstack([cents[c] for c in keys]), index=keys,
                                      columns=matrix.columns)
        parent_level = level
    for frame in centres.values():
        frame.index.name = "segment"
    return codes, centres, fit.wcss
