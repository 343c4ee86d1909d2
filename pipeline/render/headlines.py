"""Headline findings written from the numbers of the published profile table.

Every number in a sentence is a cell of the published profile table (the display string,
so it matches the table to the digit) or derived from cells of the same row:

* "N times as likely" = index / 100, one decimal, rounded half up;
* "about N households ... do not use it" = base count - service count, rounded to two
  significant figures;
* "95% interval L–U" = the published ``index_lower``/``index_upper`` cells, when the
  profile has them.

Rows whose count is suppressed are never the subject of a sentence, so nothing hidden can
be worked back from a headline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd


@dataclass
class Headline:
    """One sentence and the table rows its numbers come from (``view`` rows by code)."""

    text: str
    view: str
    codes: list[str] = field(default_factory=list)


def half_up(value, places: int) -> str:
    d = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{d:,}" if places else f"{int(d):,}"


def about(n: int) -> str:
    """Round to two significant figures for "about N" (exact below 100)."""
    if n < 100:
        return f"{n:,}"
    step = 10 ** (len(str(n)) - 2)
    return f"{int((Decimal(n) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * step:,}"


def _visible(shown: pd.DataFrame, hidden: pd.Series) -> pd.DataFrame:
    body = shown[(shown["segment_code"] != "Total") & ~hidden.reindex(shown.index).fillna(True)]
    return body[body["index"].astype(str).str.fullmatch(r"\d+")]


def _name(row) -> str:
    name = row["segment_name"]
    return f" ({name})" if name and name != row["segment_code"] else ""


def headlines(segment_shown: pd.DataFrame, segment_hidden: pd.Series,
              ward_shown: pd.DataFrame | None, ward_hidden: pd.Series | None, area: str,
              what: str = "the service") -> list[Headline]:
    """Plain-English findings from the published tables (display strings) of one service.

    *segment_shown* is the published segment table; *segment_hidden* marks its withheld rows.
    Ward tables are optional.
    """
    out: list[Headline] = []
    is_total = segment_shown["segment_code"] == "Total"
    total = segment_shown[is_total].iloc[0]
    if segment_hidden[is_total].any():
        return [Headline(f"Too few users of {what} were matched to {area} to show any finding.",
                         "segment", [])]
    if str(total["service_count"]) == "0":
        return [Headline(f"No users of {what} were matched to {area}, so there is nothing to profile: "
                         "the match report says why each record was rejected.", "segment", ["Total"])]
    out.append(Headline(
        f"{int(total['service_count']):,} users of {what} were matched to {area}: "
        f"{total['penetration_pct']} for every 100 households across its "
        f"{int(total['base_count']):,} households.", "segment", ["Total"]))
    vis = _visible(segment_shown, segment_hidden)
    if vis.empty:
        out.append(Headline("Every segment has too few users to show, so no segment findings are given.",
                            "segment", []))
        return out
    idx = vis["index"].astype(int)
    top = vis.loc[idx.idxmax()]
    top_index = int(top["index"])
    if top_index > 100:
        ratio = half_up(Decimal(top_index) / 100, 1)
        interval = ""
        if {"index_lower", "index_upper"} <= set(segment_shown.columns):
            lo, hi = top["index_lower"], top["index_upper"]
            if lo and hi:
                interval = f", 95% interval {int(lo):,}–{int(hi):,}"
        out.append(Headline(
            f"Households in segment {top['segment_code']}{_name(top)} are {ratio} times as likely as "
            f"the {area} average to use {what} (index {top_index}{interval}).",
            "segment", [str(top["segment_code"])]))
        non_users = int(top["base_count"]) - int(top["service_count"])
        out.append(Headline(
            f"About {about(non_users)} households in segment {top['segment_code']}{_name(top)} "
            f"do not use it.", "segment", [str(top["segment_code"])]))
    low = vis.loc[idx.idxmin()]
    if int(low["index"]) < 100:
        out.append(Headline(
            f"Households in segment {low['segment_code']}{_name(low)} are the least likely to use it "
            f"(index {int(low['index'])}): {low['penetration_pct']} users per 100 households against "
            f"{total['penetration_pct']} across {area}.",
            "segment", [str(low["segment_code"]), "Total"]))
    if ward_shown is not None and ward_hidden is not None:
        wv = _visible(ward_shown, ward_hidden)
        if len(wv) >= 2:
            pen = wv["penetration_pct"].astype(float)
            hi_w, lo_w = wv.loc[pen.idxmax()], wv.loc[pen.idxmin()]
            out.append(Headline(
                f"By ward, use is highest in {hi_w['segment_name']} ({hi_w['penetration_pct']} per 100 "
                f"households) and lowest in {lo_w['segment_name']} ({lo_w['penetration_pct']}).",
                "ward", [str(hi_w["segment_code"]), str(lo_w["segment_code"])]))
    return out
