"""The counts of one (sub-)service's tables and the linear relations between them.

The compute stages register every count they will publish under a key (a cell that stands for
the same count in several tables shares its key) and declare which counts add up to which
(a table's rows to its Total, groups to their supergroup, ward x segment cells to the ward and to
the segment). The publication step (:mod:`pipeline.publish.suppression`) decides from this graph
which counts to hide; nothing here decides suppression.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

Key = Hashable


class CountGraph:
    """Counts by key and the relations total = sum(parts) between them."""

    def __init__(self) -> None:
        self.counts: dict[Key, int] = {}
        self.relations: list[tuple[Key, list[Key]]] = []
        #: counts that secondary suppression hides only when nothing else will do
        self.keep: set[Key] = set()

    def add(self, key: Key, count: int) -> None:
        count = int(count)
        if key in self.counts and self.counts[key] != count:
            raise ValueError(f"cell {key!r} registered with two counts: {self.counts[key]} and {count}")
        self.counts[key] = count

    def relate(self, total: Key, parts: Iterable[Key]) -> None:
        """Declare total = sum(parts) (every key must have been added)."""
        parts = list(parts)
        missing = [k for k in [total, *parts] if k not in self.counts]
        if missing:
            raise KeyError(f"relation over unknown cells {missing[:3]}")
        if parts:
            self.relations.append((total, parts))

    def table(self, keys: list[Key], counts: Iterable[int], total: Key, total_count: int) -> None:
        """Register a table's body cells and its Total, and the relation between them."""
        self.add(total, total_count)
        for k, c in zip(keys, counts, strict=True):
            self.add(k, c)
        self.relate(total, keys)
