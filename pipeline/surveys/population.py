"""Who lives here: the area's adults by Output Area, age band and sex from the census, and the
margins a survey is raked to.

Per OA, the adults in each survey age band come from TS007A five-year bands (TS007 single years
when the census folder has it), a band the survey cuts shared pro rata by years
(`pipeline.profiles.equality.census`); sex is TS008 (all ages: the census tables give no OA-level
sex by age, so within an OA each age band is split by the OA's sex shares, an assumption stated
with the margins). Summing the cells (oa, age band, sex) over OAs gives each margin: age band,
sex, segment (each OA's segment), ward (each OA's ward), and any cross of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.errors import InsightError
from pipeline.profiles.equality.bands import Band, parse_band
from pipeline.profiles.equality.census import census_age_band

#: the respondent's and census's sex categories
SEXES = ("Female", "Male")


class PopulationError(InsightError):
    """The census cannot give the survey's population (an age band it cannot split, no sex table)."""


def bands_of(labels: list[str]) -> list[Band]:
    """The survey's age bands as ages; a label that is not an age band is an error."""
    out = []
    for label in labels:
        b = parse_band(label)
        if b is None:
            raise PopulationError(f"survey age band {label!r} is not an age band. Fix: write e.g. 16-24 "
                                  "or 75+")
        out.append(b)
    return out


def age_counts(ages: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """OA x survey age band: the census age columns' people in each band, a column the band cuts
    shared by years (an open top column, e.g. 85 and over, only into an open band)."""
    bands = bands_of(labels)
    out = pd.DataFrame(0.0, index=ages.index, columns=labels)
    for col in ages.columns:
        cb = census_age_band(col)
        if cb is None:
            continue
        for label, b in zip(labels, bands, strict=True):
            o = cb.overlap(b)
            if o is None:
                continue
            if cb.within(b):
                share = 1.0
            elif cb.years() is None:
                raise PopulationError(f"survey age band {label!r} cuts the census's open band {col!r}, which "
                                      "cannot be split. Fix: end the survey's top band open (e.g. 75+)")
            else:
                share = o.years() / cb.years()
            out[label] += ages[col].astype(float) * share
    return out


def cells(ages: pd.DataFrame, sexes: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Long table oa21cd, age_band, sex, people: the adults of each OA by survey age band and sex."""
    by_age = age_counts(ages, labels)
    total = sexes[list(SEXES)].sum(axis=1).replace(0, np.nan)
    parts = []
    for s in SEXES:
        share = (sexes[s] / total).reindex(by_age.index).fillna(0.5)
        part = by_age.mul(share, axis=0).stack().rename("people").reset_index()
        part.columns = ["oa21cd", "age_band", "people"]
        part["sex"] = s
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out[["oa21cd", "age_band", "sex", "people"]].sort_values(["oa21cd", "age_band", "sex"],
                                                                      ignore_index=True)


def with_area(cells_: pd.DataFrame, oa_frame: pd.DataFrame) -> pd.DataFrame:
    """The cells of the area's OAs, with each OA's `segment` and `ward` (oa_frame: oa21cd, segment, ward)."""
    return cells_.merge(oa_frame[["oa21cd", "segment", "ward"]], on="oa21cd", how="inner")


def margin_values(frame: pd.DataFrame, margin: str) -> pd.Series:
    """A margin's category of each row: the column, or the columns of a cross joined by ' x '."""
    parts = margin.split("*")
    if len(parts) == 1:
        return frame[margin].astype(object)
    vals = [frame[p].astype(object) for p in parts]
    joined = vals[0].astype(str)
    for v in vals[1:]:
        joined = joined + " x " + v.astype(str)
    missing = pd.concat([v.isna() for v in vals], axis=1).any(axis=1)
    return joined.where(~missing, None)


def margins(area_cells: pd.DataFrame, names: list[str]) -> dict[str, dict[str, float]]:
    """margin -> category -> adults, from the cells (with_area) of the area."""
    out = {}
    for m in names:
        keyed = area_cells.assign(_k=margin_values(area_cells, m))
        sums = keyed.groupby("_k", sort=True)["people"].sum()
        out[m] = {str(k): float(v) for k, v in sums.items()}
    return out


def table_margin(table: pd.DataFrame, oas: list[str], categories: dict[str, list[str]], adults: float,
                 name: str) -> dict[str, float]:
    """A config-named margin (`weighting.census`): each category's columns of a census table summed
    over the area's OAs, scaled to the area's adults. The table counts its own base (usual residents
    of every age, say), so its shares stand in for the adults' shares: an assumption stated in the
    notes."""
    missing = sorted({c for cols in categories.values() for c in cols} - set(table.columns))
    if missing:
        raise PopulationError(f"census margin {name!r}: the table has no column(s) {missing[:5]}; its "
                              f"columns are {list(table.columns)[:12]}. Fix: name its columns as the table "
                              "does")
    area = table.reindex(oas).fillna(0)
    counts = {k: float(area[cols].to_numpy(float).sum()) for k, cols in categories.items()}
    total = sum(counts.values())
    if not total > 0:
        raise PopulationError(f"census margin {name!r}: its columns count nobody in the area. Fix: check the "
                              "table and columns")
    return {k: v * adults / total for k, v in counts.items()}
