"""The published tables of a run: what render may read, and all it may read.

A :class:`PublishedTable` holds display values (numbers as text, rounded as published; the
suppression symbol where a cell is hidden; '' where undefined), the mask of hidden cells and its
footnotes. :meth:`PublishedTable.typed` gives the same values with numeric columns as numbers
(hidden cells keep the symbol) for workbooks, charts and maps. No unsuppressed count is reachable
from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

#: The columns of a profile view (segment, ward, ...), as the profiles compute them, for render
from pipeline.profiles.table import PROFILE_COLUMNS as PROFILE_COLUMNS

#: Columns that hold codes or words, never numbers (a segment code such as '11' stays text).
TEXT_COLUMNS = frozenset({
    "segment_code", "segment_name", "ward_code", "ward_name", "segment", "oa21cd", "postcodes",
    "channel", "period", "service", "outcome", "kind", "significance", "change", "target_segments",
    "channel_shift_candidate", "below_borough", "below_borough_address", "wards_below_match_rate",
    "segments_below_match_rate", "measure", "name", "field", "note",
})


def _number(text: str) -> int | float:
    return int(text) if text.lstrip("-").isdigit() else float(text)


def _parses(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class PublishedTable:
    """One shareable table.

    ``frame``: display strings; ``hidden``: True where a cell is withheld (same shape);
    ``path``: its CSV under outputs/<run>/; ``notes``: footnotes that travel with it;
    ``incomplete``: too many of its codes were not recognised (an equality view): shown with its
    note, never the subject of a headline.
    """

    frame: pd.DataFrame
    hidden: pd.DataFrame
    path: str
    symbol: str
    notes: list[str] = field(default_factory=list)
    incomplete: bool = False

    @property
    def rows_hidden(self) -> pd.Series:
        """True for the rows whose count is withheld (the first count column that is hidden
        anywhere; else any hidden cell)."""
        for col in ("service_count", "records", "matched"):
            if col in self.hidden:
                return self.hidden[col]
        return self.hidden.any(axis=1)

    def numeric_columns(self) -> list[str]:
        """Columns whose shown values are all numbers (and at least one is)."""
        out = []
        for col in self.frame.columns:
            if col in TEXT_COLUMNS:
                continue
            shown = self.frame.loc[~self.hidden[col], col].astype(str)
            shown = shown[shown != ""]
            if len(shown) and all(_parses(v) for v in shown):
                out.append(col)
        return out

    def typed(self) -> pd.DataFrame:
        """The published values with numeric columns as int/float, hidden cells as the symbol and
        undefined cells as None (object columns)."""
        out = self.frame.astype(object).copy()
        for col in self.numeric_columns():
            out[col] = [self.symbol if h else (None if v == "" else _number(str(v)))
                        for v, h in zip(self.frame[col], self.hidden[col], strict=True)]
        return out

    def value(self, row, col: str) -> float | None:
        """A shown cell as a number; None where hidden or undefined."""
        if self.hidden.at[row, col] or self.frame.at[row, col] in ("", None):
            return None
        return float(self.frame.at[row, col])


@dataclass
class Publication:
    """Every shareable table of a run: per (sub-)service and view, and run-level tables."""

    services: dict[str, dict[str, PublishedTable]]
    run: dict[str, PublishedTable]
    symbol: str
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def all_tables(self) -> list[PublishedTable]:
        return [t for views in self.services.values() for t in views.values()] + list(self.run.values())
