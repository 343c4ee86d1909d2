"""Disclosure control for every shareable table of a run.

Rule (config `suppression.rule`):

The smallest count shown is `Suppression.min_shown` (config), under either rule:

* ``council`` (default): counts from 1 to threshold - 1 (1-4 by default) are shown as the
  symbol ('#'), as council guidance does; zeros and larger counts are shown exactly.
* ``ons``: counts from 1 to 9 are suppressed and every other count is rounded to the nearest 5
  (shares, penetration, index and intervals are then derived from the rounded counts).

Primary suppression hides the small counts. Secondary suppression makes sure no hidden count
can be worked out from published ones: every published table of one (sub-)service is a set of
linear relations between counts (a table's rows add up to its Total; the groups of a supergroup
add up to the supergroup; the ward x segment cells add up to the ward and to the segment;
the OAs of a ward and segment in the target list add up to that cell). A relation with exactly
one hidden count gives that count away, so while any relation has exactly one hidden member the
smallest published non-zero member of it is hidden too (repeated until no relation has one).
Chains of relations can still pin a count down (two relations with two hidden members each
sharing one), so the result is then audited by linear algebra: a hidden count is determined
when its unit vector lies in the row space of the relations over the hidden counts (a zero row
in a basis of their null space); for each such count the smallest published member of a
relation holding it whose hiding frees it (else the smallest) is hidden too, and the audit
repeats. Cells that stand for the same count in several tables share one key (or are tied by a
one-part relation), so a count hidden in one table is hidden in all of them. The derived columns
(shares, penetration, index, intervals, non-users, shortfall) of a hidden count are hidden with it.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.linalg import null_space

from pipeline.config import Suppression
from pipeline.profiles.cells import CountGraph, Key

logger = logging.getLogger(__name__)


def rounding(rule: Suppression) -> int:
    """Base to which published counts are rounded (1 = exact)."""
    return 5 if getattr(rule, "rule", "council") == "ons" else 1


def round_count(value: int, base: int) -> int:
    """Round half up to a multiple of `base`."""
    return int((int(value) + base // 2) // base * base) if base > 1 else int(value)


class Disclosure:
    """The hidden cells of one count graph (a (sub-)service's published tables) under a rule."""

    def __init__(self, graph: CountGraph, rule: Suppression):
        self.rule = rule
        self.counts = graph.counts
        self.relations = graph.relations
        self.keep = graph.keep
        self._hidden: set[Key] | None = None
        self._twins: dict[Key, set[Key]] = {}

    def hidden(self) -> set[Key]:
        """The keys to hide (primary and secondary), computed once, deterministically."""
        if self._hidden is not None:
            return self._hidden
        limit = self.rule.min_shown
        self._twins = self._twin_classes()
        hide: set[Key] = set()
        for k, c in self.counts.items():
            if 0 < c < limit:
                self._hide(hide, k)
        self._singles(hide)
        for _ in range(200):
            pinned = self.pinned(hide)
            if not pinned:
                break
            fix = None
            for key in pinned:
                fix = self._fix(hide, key)
                if fix is not None:
                    break
            if fix is None:
                logger.warning("disclosure: %d hidden counts could not be protected", len(pinned))
                break
            self._hide(hide, fix)
            self._singles(hide)
        self._hidden = hide
        return hide

    def pinned(self, hide: set[Key]) -> list[Key]:
        """Hidden keys whose value the published counts and the relations determine.

        Writing the relations as A x = b over the hidden counts x, a hidden count x_i is
        determined exactly when the unit vector e_i lies in the row space of A, i.e. when row i
        of a basis of A's null space is zero (scipy.linalg.null_space)."""
        order = sorted(hide, key=str)
        pos = {k: i for i, k in enumerate(order)}
        rows = []
        for total, parts in self.relations:
            a = np.zeros(len(order))
            for k, sign in [(total, 1.0)] + [(p, -1.0) for p in parts]:
                if k in pos:
                    a[pos[k]] += sign
            if a.any():
                rows.append(a)
        if not rows:
            return []
        A = np.array(rows)
        involved = np.flatnonzero(np.abs(A).sum(axis=0))
        basis = null_space(A[:, involved])
        free = np.linalg.norm(basis, axis=1) > 1e-9 if basis.size else np.zeros(len(involved), bool)
        return [order[i] for i, f in zip(involved, free, strict=True) if not f]

    def _fix(self, hide: set[Key], key: Key) -> Key | None:
        """A published key whose hiding frees `key`: from the relations holding it, else from
        the relations holding their members; the smallest that works, else the smallest."""
        ring = {key}
        for _ in range(2):
            rels = [(t, ps) for t, ps in self.relations if ring & {t, *ps}]
            near = sorted({m for t, ps in rels for m in (t, *ps) if m not in hide and m[0] != "total"},
                          key=lambda k: (self.counts[k] == 0, self.counts[k], str(k)))
            for m in near:
                if key not in self.pinned(hide | self._twins.get(m, {m})):
                    return m
            ring = {m for t, ps in rels for m in (t, *ps)}
        return near[0] if near else None

    def _twin_classes(self) -> dict[Key, set[Key]]:
        """Keys that are the same count (a relation with a single part: total = part), grouped."""
        cls: dict[Key, set[Key]] = {}
        for total, parts in self.relations:
            if len(parts) == 1:
                merged = cls.get(total, {total}) | cls.get(parts[0], {parts[0]})
                for k in merged:
                    cls[k] = merged
        return cls

    def _hide(self, hide: set[Key], key: Key) -> None:
        """Hide a key and every key standing for the same count."""
        hide |= self._twins.get(key, {key})

    def _singles(self, hide: set[Key]) -> None:
        """Hide more until no relation has exactly one hidden member."""
        changed = True
        while changed:
            changed = False
            for total, parts in self.relations:
                members = [total, *parts]
                if sum(m in hide for m in members) != 1:
                    continue
                open_parts = [p for p in parts if p not in hide]
                free = [p for p in open_parts if p not in self.keep] or open_parts
                pick = [p for p in free if self.counts[p] > 0] or free
                if not pick or (set(pick) <= self.keep and total not in hide and total not in self.keep):
                    pick = [total] if total not in hide else pick
                if pick:
                    self._hide(hide, min(pick, key=lambda k: (self.counts[k], str(k))))
                    changed = True


def mask(formatted: pd.DataFrame, hidden: pd.Series, symbol: str, count_columns: list[str],
         derived: list[str]) -> pd.DataFrame:
    """Replace the counts and derived columns of hidden rows with the symbol."""
    out = formatted.copy()
    rows = out.index[hidden.to_numpy(dtype=bool)]
    cols = [c for c in count_columns + derived if c in out.columns]
    out[cols] = out[cols].astype(object)
    out.loc[rows, cols] = symbol
    return out
