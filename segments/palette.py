"""A fixed colour-blind-safe colour per supergroup: the one palette of every figure, map, guide and workbook.

Supergroups 1..8 take the Okabe-Ito palette (safe for the common colour-vision deficiencies;
its black replaced by grey), 9..15 continue with Paul Tol's muted scheme; groups and
subgroups inherit their supergroup's colour. A segment's own ``colour`` in a names file wins.

Used by the classification's outputs (`segments.describe` writes each segment's colour into
``segment_names.csv`` and ``pen_portraits.csv``) and by the render stage for the segment map, the
segment guide and the workbook's Segments sheet (`pipeline.render.segment_info.segment_colours`),
so supergroup k is one colour wherever it is shown.

Why this palette and not Paul Tol's muted alone (which the render stage once used, making
supergroup 1 orange in the classification's figures and indigo in the guide and map): Okabe-Ito
is the most widely used colour-blind-safe qualitative set, its eight colours cover the eight
supergroups of the ONS/UCL method, and with Tol's muted after it there are 15 distinct colours
before any repeats (a Mosaic-style lookup has 15 groups) against Tol muted's nine. A colour is
fixed by the code (``"3"`` is always the third colour), not by which supergroups are present, so
a service map of part of the area keys the same as the whole.
"""

from __future__ import annotations

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#999999"]
TOL_MUTED = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#882255"]
PALETTE = OKABE_ITO + TOL_MUTED


def supergroup_colours(codes) -> dict[str, str]:
    """Supergroup code -> hex colour: code ``"n"`` takes the n-th colour (cycling), others in
    sorted order after the numbered ones."""
    out: dict[str, str] = {}
    codes = [str(c) for c in codes]
    others = sorted(c for c in codes if not c.isdigit())
    for c in codes:
        if c.isdigit() and int(c) >= 1:
            out[c] = PALETTE[(int(c) - 1) % len(PALETTE)]
    for i, c in enumerate(others):
        out[c] = PALETTE[(len(PALETTE) - 1 - i) % len(PALETTE)]
    return out
