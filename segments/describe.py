"""Describing segments: grand index, automatic labels, the analyst's names file, pen portraits.

Grand index of variable j in segment s (on the untransformed values, percentages):

    GI_sj = 100 * mean_{i in s} x_ij / mean_{i in area} x_ij

(100 = as in the area; 200 = twice as common).  Automatic labels take the variables whose
standardised centre stands out most:  score_sj = (c_sj - c_pj) / sd_j,  with c_pj the centre of
the parent (the whole area for supergroups, the supergroup for groups, the group for
subgroups) and sd_j the spread of variable j over the area's OAs; the top three give
``"High: social rented, no car or van, flats"``.

The names file (``segmentation.names``) is a CSV the analyst edits: ``code,name`` and optionally
``description`` (a pen portrait in words); codes are unique across tiers (``1``, ``1a``, ``1a1``).
`names_template` writes one to start from.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from segments.hierarchy import LEVELS, code_key
from segments.palette import supergroup_colours

TOP = 3
NAME_COLUMNS = ["level", "segment", "segment_name", "description", "colour"]
PORTRAIT_COLUMNS = ["level", "segment", "segment_name", "households", "oas", "distinctive",
                    "description", "colour"]


def read_names(path: Path | str | None) -> pd.DataFrame:
    """The analyst's names file -> DataFrame indexed by code with columns name, description."""
    if path is None:
        return pd.DataFrame(columns=["name", "description"])
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"segment names file not found: {path} (segmentation.names)")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [c.strip().lower() for c in table.columns]
    if not {"code", "name"} <= set(table.columns):
        raise ValueError(f"{path}: a segment names file needs the columns code,name "
                         f"(and optionally description); found {list(table.columns)}")
    if "description" not in table.columns:
        table["description"] = ""
    table = table.apply(lambda c: c.str.strip())
    dups = sorted(set(table["code"][table["code"].duplicated()]))
    if dups:
        raise ValueError(f"{path}: the code(s) {dups} appear more than once; give each one row")
    return table.set_index("code")[["name", "description"]]


def short_label(label: str) -> str:
    """A variable name as it reads inside a segment name: "1. Managers, ..." -> "managers, ..."."""
    label = re.sub(r"^\d+\.\s*", "", label.strip())
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        label = label[0].lower() + label[1:]
    return label


def levels_of(codes: pd.DataFrame) -> list[str]:
    return [lv for lv in LEVELS if lv in codes.columns]


def grand_index(codes: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Long table level, segment, variable, index (100 x segment mean / area mean)."""
    if values.empty:
        return pd.DataFrame(columns=["level", "segment", "variable", "index"])
    v = values.loc[codes["oa21cd"]]
    area = v.mean().replace(0.0, np.nan)
    frames = []
    for level in levels_of(codes):
        means = v.groupby(codes[level].to_numpy()).mean()
        gi = (100 * means / area).round(1)
        gi = gi.loc[sorted(gi.index, key=code_key)]
        long = gi.stack(future_stack=True).rename("index").reset_index()
        long.columns = ["segment", "variable", "index"]
        long.insert(0, "level", level)
        frames.append(long)
    return pd.concat(frames, ignore_index=True)


def _parent(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i - 1] if i else None


def describe(codes: pd.DataFrame, matrix: pd.DataFrame, values: pd.DataFrame,
             labels: dict[str, str], names: pd.DataFrame | None = None,
             households: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(names table, pen portraits) for every tier present in `codes`.

    names: one row per code per level with NAME_COLUMNS; pen portraits: PORTRAIT_COLUMNS, the
    size in households (when `households` per OA is given) and OAs and the distinctive variables.
    """
    names = names if names is not None else read_names(None)
    colours = supergroup_colours(sorted(codes["supergroup"].unique(), key=code_key))
    hh = None if households is None else households.reindex(codes["oa21cd"]).to_numpy()
    gi = grand_index(codes, values)
    gi = gi.set_index(["level", "segment", "variable"])["index"] if len(gi) else None
    if not matrix.empty:
        m = matrix.loc[codes["oa21cd"]].to_numpy()
        sd = matrix.loc[codes["oa21cd"]].std(ddof=0).replace(0.0, np.nan).to_numpy()
    rows, portraits = [], []
    for level in levels_of(codes):
        used: dict[str, int] = {}
        parent = _parent(level)
        for code in sorted(codes[level].unique(), key=code_key):
            members = (codes[level] == code).to_numpy()
            sg = codes.loc[members, "supergroup"].iloc[0]
            high, low, auto = [], [], f"Segment {code}"
            if not matrix.empty:
                ref = m[(codes[parent] == codes.loc[members, parent].iloc[0]).to_numpy()] \
                    if parent else m
                score = pd.Series((m[members].mean(axis=0) - ref.mean(axis=0)) / sd,
                                  index=matrix.columns).fillna(0.0).sort_values(ascending=False)
                high = [v for v in score.index[:TOP] if score[v] > 0]
                low = [v for v in score.index[::-1][:TOP] if score[v] < 0]
                auto = "High: " + ", ".join(short_label(labels.get(v, v)) for v in high) \
                    if high else "Close to the area average"
                if auto in used:
                    used[auto] += 1
                    auto = f"{auto} ({used[auto]})"
                else:
                    used[auto] = 1

            def fmt(vs, level=level, code=code) -> str:
                if gi is None:
                    return ", ".join(labels.get(v, v) for v in vs)
                return ", ".join(f"{labels.get(v, v)} (index {gi[(level, code, v)]:.0f})"
                                 for v in vs)

            distinctive = f"Over-represented: {fmt(high) or 'none'}. " \
                f"Under-represented: {fmt(low) or 'none'}."
            name = names["name"].get(code) or auto
            text = names["description"].get(code) or ""
            n_oa = int(members.sum())
            n_hh = int(np.nansum(hh[members])) if hh is not None else None
            size = f"{n_oa} OAs" + (f", {n_hh} households" if n_hh is not None else "")
            description = text or f"{size}. {distinctive}"
            colour = colours[sg]
            rows.append((level, code, name, description, colour))
            portraits.append((level, code, name, n_hh, n_oa, distinctive, text, colour))
    named = pd.DataFrame(rows, columns=NAME_COLUMNS)
    pens = pd.DataFrame(portraits, columns=PORTRAIT_COLUMNS)
    pens["households"] = pens["households"].astype("Int64")
    return named, pens


def names_template(named: pd.DataFrame) -> pd.DataFrame:
    """A names file to edit: code, level, name (the automatic label), description (blank)."""
    return pd.DataFrame({"code": named["segment"], "level": named["level"],
                         "name": named["segment_name"], "description": ""})
