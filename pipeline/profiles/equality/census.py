"""The area's census populations: census tables summed over its Output Areas (`AreaCensus`, each
read once), the finest age columns of TS007 or TS007A (`age_atoms`), and the population of exactly a
band's ages, split pro rata where a census band is cut (`band_population`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from pipeline.config import RunConfig
from pipeline.errors import UserValueError
from pipeline.profiles.equality.bands import Band, ages_text, parse_band


class AreaCensus:
    """Census tables summed over the area's Output Areas, each read once."""

    def __init__(self, cfg: RunConfig, oas: list[str]):
        self.census = cfg.census
        self.oas = list(oas)
        self._sums: dict[str, pd.Series] = {}

    def has(self, table: str) -> bool:
        from segments.census import CensusError, find_table_file

        try:
            find_table_file(self.census, table)
        except CensusError:
            return False
        return True

    def sums(self, table: str) -> pd.Series:
        """Each column of `table` summed over the area's OAs."""
        from segments.census import load_table

        if table not in self._sums:
            self._sums[table] = load_table(self.census, table).reindex(self.oas).fillna(0).sum()
        return self._sums[table]


@dataclass(frozen=True)
class Atom:
    """A census age column that holds no finer one: its ages and area count."""

    band: Band
    count: float
    column: str


def census_age_band(column: str) -> Band | None:
    """The ages of a census age column ('Aged 4 years and under', 'Aged 5 to 9 years',
    'Aged under 1 year', 'Aged 1 year', 'Aged 85 years and over'); None for the total."""
    text = str(column).split(":")[-1]
    return None if "total" in text.lower() else parse_band(text)


def age_atoms(census: AreaCensus) -> tuple[str, list[Atom]]:
    """(table, finest age columns): TS007 (single years) when the census folder has it, else TS007A.
    Subtotal columns (a band holding finer ones) are left out; the rest must not overlap."""
    table = "ts007" if census.has("ts007") else "ts007a"
    parsed = [(census_age_band(c), c, float(v)) for c, v in census.sums(table).items()]
    parsed = [(b, c, v) for b, c, v in parsed if b is not None]
    atoms = [Atom(b, v, c) for b, c, v in parsed
             if not any(o != b and o.within(b) for o, _, _ in parsed)]
    atoms.sort(key=lambda a: a.band.key)
    for a, b in zip(atoms, atoms[1:], strict=False):
        if a.band.overlap(b.band) is not None:
            raise UserValueError(f"census table {table}: age columns {a.column!r} and {b.column!r} overlap")
    return table, atoms



@dataclass
class Denominator:
    """A band's census population: value (None: no comparison), how it was built, an estimate?"""

    value: int | None
    note: str
    estimate: bool = False


def band_population(band: Band, atoms: list[Atom], table: str) -> Denominator:
    """The census population of exactly the band's ages from the finest age columns: whole columns
    inside the band, a share (years inside / years of the column) of a column the band cuts, which
    is an estimate; no value when the band cuts the open top column (e.g. 85 and over)."""
    total, parts, cut = Fraction(0), [], []
    for a in atoms:
        o = a.band.overlap(band)
        if o is None:
            continue
        if a.band.within(band):
            total += Fraction(a.count)
            parts.append(ages_text(a.band))
            continue
        if a.band.years() is None:
            return Denominator(None, f"No census comparison: {table.upper()} counts ages "
                               f"{ages_text(a.band)} as one group, which cannot be split at this band's "
                               f"edge (a single-year table, TS007, can).")
        share = Fraction(o.years(), a.band.years())
        total += Fraction(a.count) * share
        parts.append(f"{share} of {ages_text(a.band)}")
        cut.append(ages_text(a.band))
    value = math.floor(total + Fraction(1, 2))
    ages = (", ".join(parts[:-1]) + " and " + parts[-1]) if len(parts) > 1 else "".join(parts)
    if cut:
        return Denominator(value, f"Estimate from Census 2021 {table.upper()}: ages {ages} (single "
                           f"years assumed evenly spread within {' and '.join(cut)}).", True)
    return Denominator(value, f"Census 2021 {table.upper()}: ages {ages}." if parts else "No census ages.")
