"""Disclosure control for every shareable table of a run.

Rule (config `suppression.rule`):

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
Cells that stand for the same count in several tables share one key, so a count hidden in one
table is hidden in all of them. The derived columns (shares, penetration, index, intervals,
non-users, shortfall) of a hidden count are hidden with it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import pandas as pd

from pipeline.config import Suppression

Key = Hashable


def threshold(rule: Suppression) -> int:
    """Smallest count shown: counts 1..threshold-1 are hidden."""
    return 10 if getattr(rule, "rule", "council") == "ons" else rule.threshold


def rounding(rule: Suppression) -> int:
    """Base to which published counts are rounded (1 = exact)."""
    return 5 if getattr(rule, "rule", "council") == "ons" else 1


def round_count(value: int, base: int) -> int:
    """Round half up to a multiple of `base`."""
    return int((int(value) + base // 2) // base * base) if base > 1 else int(value)


class Disclosure:
    """The counts of one (sub-)service's shareable tables and the relations between them."""

    def __init__(self, rule: Suppression):
        self.rule = rule
        self.counts: dict[Key, int] = {}
        self.relations: list[tuple[Key, list[Key]]] = []
        self._hidden: set[Key] | None = None

    def add(self, key: Key, count: int) -> None:
        count = int(count)
        if key in self.counts and self.counts[key] != count:
            raise ValueError(f"cell {key!r} registered with two counts: {self.counts[key]} and {count}")
        self.counts[key] = count
        self._hidden = None

    def relate(self, total: Key, parts: Iterable[Key]) -> None:
        """Declare total = sum(parts) (every key must have been added)."""
        parts = list(parts)
        missing = [k for k in [total, *parts] if k not in self.counts]
        if missing:
            raise KeyError(f"relation over unknown cells {missing[:3]}")
        if parts:
            self.relations.append((total, parts))
        self._hidden = None

    def table(self, keys: list[Key], counts: Iterable[int], total: Key, total_count: int) -> None:
        """Register a table's body cells and its Total, and the relation between them."""
        self.add(total, total_count)
        for k, c in zip(keys, counts, strict=True):
            self.add(k, c)
        self.relate(total, keys)

    def hidden(self) -> set[Key]:
        """The keys to hide (primary and secondary), computed once, deterministically."""
        if self._hidden is not None:
            return self._hidden
        limit = threshold(self.rule)
        hide = {k for k, c in self.counts.items() if 0 < c < limit}
        changed = True
        while changed:
            changed = False
            for total, parts in self.relations:
                members = [total, *parts]
                if sum(m in hide for m in members) != 1:
                    continue
                open_parts = [p for p in parts if p not in hide]
                pick = [p for p in open_parts if self.counts[p] > 0] or open_parts
                if not pick:
                    pick = [total] if total not in hide else []
                if pick:
                    hide.add(min(pick, key=lambda k: (self.counts[k], str(k))))
                    changed = True
        self._hidden = hide
        return hide

    def is_hidden(self, key: Key) -> bool:
        return key in self.hidden()


def simple_hidden(counts: pd.Series, rule: Suppression) -> pd.Series:
    """Single-table suppression (body rows vs a Total row at the end): a boolean mask."""
    d = Disclosure(rule)
    keys = list(range(len(counts) - 1))
    d.table(keys, counts.iloc[:-1], "Total", counts.iloc[-1])
    hid = d.hidden()
    return pd.Series([k in hid for k in keys] + ["Total" in hid], index=counts.index)


def mask(formatted: pd.DataFrame, hidden: pd.Series, symbol: str, count_columns: list[str],
         derived: list[str]) -> pd.DataFrame:
    """Replace the counts and derived columns of hidden rows with the symbol."""
    out = formatted.copy()
    rows = out.index[hidden.to_numpy(dtype=bool)]
    cols = [c for c in count_columns + derived if c in out.columns]
    out[cols] = out[cols].astype(object)
    out.loc[rows, cols] = symbol
    return out
