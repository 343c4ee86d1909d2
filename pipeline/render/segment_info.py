"""What the render stage knows about the segments: names, tiers, colours, pen portraits.

Read from the shareable segment outputs (``outputs/<run>/segments/``) so the render stage
does not depend on how the classification was built:

* ``segments_oa.csv``: ``oa21cd, segment`` and, when the classification has tiers,
  ``supergroup, group, subgroup``;
* ``segment_names.csv``: ``segment, segment_name, description`` and optionally ``level`` and
  ``colour`` (a segment's own colour wins over the palette);
* ``pen_portraits.csv`` (optional): ``segment`` and a portrait text column.

Without a ``colour``, segments are coloured by supergroup from the one palette,
`segments.palette` (the colours the classification's own outputs carry), by `segment_colours`:
the segment map, the guide and the workbook's Segments sheet all take a segment's colour from it.
The supergroup of a code is the ``supergroup`` column when present, else its leading digits
("5b2" -> "5").
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from segments.palette import supergroup_colours

logger = logging.getLogger(__name__)

_TEXT_COLUMNS = ("pen_portrait", "portrait", "text", "description")


def supergroup_of(code: str) -> str:
    """Leading digits of a segment code ("5b2" -> "5"); the code itself if it has none."""
    m = re.match(r"\d+", str(code))
    return m.group(0) if m else str(code)


def _code_order(codes: pd.Series) -> list[str]:
    return sorted(set(codes.astype(str)), key=lambda c: (len(supergroup_of(c)), supergroup_of(c), c))


def segment_colours(names: pd.DataFrame, oa: pd.DataFrame) -> dict[str, str]:
    """Colour per segment code of *names* (any level): the segment's own ``colour`` where it is
    a hex colour, else its supergroup's in `segments.palette`. The supergroup of a code is read
    from *oa*'s tier columns (``segment``, ``group``, ``subgroup`` beside ``supergroup``), else
    from its leading digits."""
    sg: dict[str, str] = {}
    if "supergroup" in oa.columns:
        for col in ("subgroup", "group", "segment", "supergroup"):
            if col in oa.columns:
                sg |= dict(zip(oa[col].astype(str), oa["supergroup"].astype(str), strict=True))
    codes = names["segment"].astype(str)
    groups = [sg.get(c, supergroup_of(c)) for c in codes]
    palette = supergroup_colours(sorted(set(groups) | set(sg.values())))
    own = names["colour"] if "colour" in names.columns else pd.Series("", index=names.index)
    return {c: (str(o) if re.fullmatch(r"#[0-9A-Fa-f]{6}", str(o)) else palette[g])
            for c, o, g in zip(codes, own, groups, strict=True)}


def load_segments(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(oa_table, names)`` from *folder*; names gain ``supergroup`` and ``colour`` columns.

    ``oa_table``: ``oa21cd, segment, supergroup``. ``names``: one row per segment (the level
    the profiles use), with ``segment, segment_name, description, supergroup, colour,
    supergroup_name``.
    """
    oa = pd.read_csv(folder / "segments_oa.csv", dtype=str, keep_default_na=False)
    names = pd.read_csv(folder / "segment_names.csv", dtype=str, keep_default_na=False)
    if "supergroup" not in oa.columns:
        oa["supergroup"] = oa["segment"].map(supergroup_of)
    all_levels = names.copy()
    if "level" in names.columns:  # keep the names of the level the OA table's `segment` uses
        used = set(oa["segment"])
        at_level = names[names["segment"].isin(used)]
        names = at_level.drop_duplicates("segment") if len(at_level) else names
    names = names.copy()
    names["supergroup"] = names["segment"].map(
        dict(zip(oa["segment"], oa["supergroup"], strict=False))
    ).fillna(names["segment"].map(supergroup_of))
    names["colour"] = names["segment"].map(segment_colours(names, oa))
    sg_names = dict(zip(all_levels["segment"], all_levels["segment_name"], strict=False))
    names["supergroup_name"] = [sg_names.get(g, f"Supergroup {g}") if g != s else n
                                for g, s, n in zip(names["supergroup"], names["segment"],
                                                   names["segment_name"], strict=True)]
    if "description" not in names.columns:
        names["description"] = ""
    order = {c: i for i, c in enumerate(_code_order(names["segment"]))}
    names = names.sort_values("segment", key=lambda s: s.map(order)).reset_index(drop=True)
    return oa, names


def load_portraits(folder: Path) -> dict[str, str]:
    """Pen-portrait text per segment from ``pen_portraits.csv`` (empty when absent)."""
    path = folder / "pen_portraits.csv"
    if not path.exists():
        return {}
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    text = next((c for c in _TEXT_COLUMNS if c in table.columns), None)
    if "segment" not in table.columns or text is None:
        logger.warning("%s has no segment/portrait columns; pen portraits use the descriptions", path)
        return {}
    return dict(zip(table["segment"], table[text], strict=False))


def with_segment_info(layer: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """`layer` (a ``segment`` column) with each segment's name, colour, legend key and label (its
    supergroup's) and the link to its pen portrait: the segment map's columns, whatever its areas."""
    from pipeline.escape import file_stem

    info = names.set_index("segment")
    layer["segment_name"] = layer["segment"].map(info["segment_name"])
    layer["colour"] = layer["segment"].map(info["colour"])
    layer["legend_key"] = layer["segment"].map(info["supergroup"])
    layer["legend_label"] = layer["segment"].map(info["supergroup_name"])
    layer["portrait"] = [f"portraits/segment_{file_stem(s)}.html" for s in layer["segment"]]
    return layer
