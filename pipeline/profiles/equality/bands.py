"""Age bands as the extract writes them: `parse_band` reads 'Under 18', '19 - 24', '25 to 44 years',
'75+', 'Over 75' as the ages they cover (`Band`), and the notes on the ages a set of bands leaves out
or counts twice."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pipeline.profiles.equality.categories import is_blank


@dataclass(frozen=True)
class Band:
    """Ages lo to hi inclusive (hi None: lo and over)."""

    lo: int
    hi: int | None

    @property
    def label(self) -> str:
        if self.hi is None:
            return f"{self.lo}+"
        if self.lo == 0 and self.hi > 0:
            return f"Under {self.hi + 1}"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"

    @property
    def key(self) -> tuple[int, float]:
        return self.lo, math.inf if self.hi is None else self.hi

    def years(self) -> int | None:
        return None if self.hi is None else self.hi - self.lo + 1

    def within(self, other: Band) -> bool:
        """Every age of this band is in `other`."""
        return self.lo >= other.lo and (other.hi is None or (self.hi is not None and self.hi <= other.hi))

    def overlap(self, other: Band) -> Band | None:
        lo = max(self.lo, other.lo)
        his = [h for h in (self.hi, other.hi) if h is not None]
        hi = min(his) if his else None
        return None if hi is not None and hi < lo else Band(lo, hi)


_AGE_WORDS = re.compile(r"\b(aged|age|ages|years|year|yrs|yr|old)\b")
_RANGE = re.compile(r"^(\d+)\s*(?:-|to)\s*(\d+)$")
_UNDER = re.compile(r"^(?:under|less than|below|younger than|<)\s*(\d+)$")
_UP_TO = re.compile(r"^(?:up to|<=)\s*(\d+)$|^(\d+)\s*(?:and|or)\s*(?:under|younger|below|less)$")
_OVER = re.compile(r"^(?:over|older than|above|>|>=|\u2265)\s*(\d+)$|"
                   r"^(\d+)\s*(?:\+|plus|and over|and above|or over|or older|and older|or more|and more)$")


def parse_band(text) -> Band | None:
    """The ages an age-band code covers: 'Under 18' -> 0-17, '19 - 24' -> 19-24, '25 to 44 years'
    -> 25-44, '75+' / 'Over 75' / '75 and over' -> 75 and over, '16' -> 16; None if it is not one."""
    if is_blank(text):
        return None
    t = str(text).lower().replace("\u2013", "-").replace("\u2014", "-").replace("\u2265", ">=")
    t = " ".join(_AGE_WORDS.sub(" ", t).replace(":", " ").split())
    if m := _RANGE.match(t):
        lo, hi = int(m[1]), int(m[2])
        return Band(lo, hi) if lo <= hi else None
    if m := _UNDER.match(t):
        return Band(0, int(m[1]) - 1) if int(m[1]) > 0 else None
    if m := _UP_TO.match(t):
        return Band(0, int(m[1] or m[2]))
    if m := _OVER.match(t):
        return Band(int(m[1] or m[2]), None)
    if re.fullmatch(r"\d+", t):
        return Band(int(t), int(t))
    return None


def ages_text(band: Band) -> str:
    return f"{band.lo} and over" if band.hi is None else (
        str(band.lo) if band.lo == band.hi else f"{band.lo}-{band.hi}")


def coverage_notes(bands: list[Band]) -> list[str]:
    """Notes on the ages the bands leave out or count twice."""
    if not bands:
        return []
    out = []
    top = None if any(b.hi is None for b in bands) else max(b.hi for b in bands)
    gaps, overlaps = [], []
    last = max(b.lo for b in bands) if top is None else top
    for age in range(min(b.lo for b in bands), last + 1):
        n = sum(1 for b in bands if b.lo <= age and (b.hi is None or age <= b.hi))
        (gaps if n == 0 else overlaps if n > 1 else []).append(age)
    if gaps:
        out.append(f"Age: no band covers age(s) {_runs(gaps)}: residents of those ages are left out of "
                   f"the census comparison.")
    if overlaps:
        open_top = top is None and overlaps[-1] == last  # ages above the last band's start overlap too
        out.append(f"Age: bands overlap at age(s) {_runs(overlaps, open_top)}: residents of those ages "
                   f"are in the census population of more than one band.")
    lo = min(b.lo for b in bands)
    cover = f"aged {lo} and over" if top is None else f"aged {lo} to {top}"
    if lo > 0 or top is not None:
        out.append(f"Age: the comparison is with residents {cover}, the ages the bands cover.")
    return out


def _runs(ages: list[int], open_top: bool = False) -> str:
    """Ages as runs: [18, 75, 76] -> '18, 75-76' ('75 and over' for an open last run)."""
    runs: list[list[int]] = []
    for a in ages:
        if runs and a == runs[-1][-1] + 1:
            runs[-1].append(a)
        else:
            runs.append([a])
    bands = [Band(r[0], r[-1]) for r in runs]
    if open_top:
        bands[-1] = Band(bands[-1].lo, None)
    return ", ".join(ages_text(b) for b in bands)
