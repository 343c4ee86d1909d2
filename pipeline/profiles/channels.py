"""Channels: the channel mix of each segment and its index against the borough's mix.

Channel codes are normalised to face-to-face, telephone, web, email, other (blank: unknown).
For segment g and channel k with c_gk contacts (c_g in the segment over known channels, C_k in
the channel, C in all): segment % = 100 c_gk / c_g, borough % = 100 C_k / C, and
index = 100 * c_gk / E_gk with E_gk = c_g C_k / C, its interval exact Poisson / Byar as for
segments. The segments with a significant over-representation in face-to-face or telephone are
named as channel-shift candidates (and groups at risk of digital exclusion).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.profiles import stats

CHANNELS = ["face-to-face", "telephone", "web", "email", "other", "unknown"]
ASSISTED = ("face-to-face", "telephone")
_PATTERNS = [
    ("face-to-face", r"face|person|counter|visit|walk|office|desk"),
    ("telephone", r"phone|tel|call|mobile"),
    ("web", r"web|online|internet|portal|app|digital|form"),
    ("email", r"e-?mail"),
]


def normalise_channel(raw) -> str:
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or not str(raw).strip():
        return "unknown"
    text = str(raw).strip().lower()
    for name, pattern in _PATTERNS:
        if re.search(pattern, text):
            return name
    return "other"


def channel_profile(cells: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """`cells`: segment, channel (normalised), users. Rows per segment x channel present, then
    a 'Total' row per channel (the borough mix). Unknown channels are reported, not indexed."""
    g = cells.groupby(["segment", "channel"])["users"].sum().unstack(fill_value=0)
    g = g.reindex(columns=[c for c in CHANNELS if c in g.columns])
    known = [c for c in g.columns if c != "unknown"]
    seg_known = g[known].sum(axis=1)
    chan = g.sum(axis=0)
    C = float(chan[known].sum())
    rows = []
    for seg in g.index:
        for ch in g.columns:
            o = float(g.loc[seg, ch])
            if ch == "unknown":
                rows.append((seg, ch, int(o), np.nan, np.nan, np.nan))
                continue
            e = seg_known[seg] * chan[ch] / C if C else np.nan
            share = 100 * o / seg_known[seg] if seg_known[seg] else np.nan
            rows.append((seg, ch, int(o), share, 100 * chan[ch] / C if C else np.nan, e))
    out = pd.DataFrame(rows, columns=["segment_code", "channel", "service_count", "segment_pct",
                                      "borough_pct", "expected"])
    out["index"], lo, hi = stats.index_with_interval(out["service_count"], out["expected"])
    out["index_lower"], out["index_upper"] = lo, hi
    out["significance"] = np.where(out["expected"].notna(), stats.significance(lo, hi), "")
    out["channel_shift_candidate"] = out["channel"].isin(ASSISTED) & (out["significance"] == stats.OVER)
    out.insert(1, "segment_name", out["segment_code"].map(names).fillna(""))
    totals = pd.DataFrame({"segment_code": "Total", "segment_name": "", "channel": list(g.columns),
                           "service_count": [int(chan[c]) for c in g.columns],
                           "borough_pct": [100 * chan[c] / C if c != "unknown" and C else np.nan
                                           for c in g.columns]})
    out = pd.concat([out.drop(columns="expected"), totals], ignore_index=True)
    out["significance"] = out["significance"].fillna("")
    out["channel_shift_candidate"] = out["channel_shift_candidate"].fillna(False).astype(bool)
    return out
