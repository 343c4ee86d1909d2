"""A fixed colour-blind-safe colour per supergroup, used by every output.

Supergroups 1..8 take the Okabe-Ito palette (safe for the common colour-vision deficiencies;
its black replaced by grey), 9..15 continue with Paul Tol's muted scheme; groups and
subgroups inherit their supergroup's colour.
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
