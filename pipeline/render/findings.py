"""The report's summary beyond the segment headlines: the biggest gap, wards and equality groups
significantly under-represented, channel-shift candidates, data quality in one line, and options
("what this suggests") phrased as options, not orders.

Every number in a sentence is a published cell of the table the finding names (``Headline.view``,
rows ``Headline.codes``), or ``about()`` of one; a withheld row is never the subject of a sentence.
"""

from __future__ import annotations

import pandas as pd

from pipeline.publish.notes import UNDER
from pipeline.publish.tables import PublishedTable
from pipeline.render.headlines import Headline, about


def _visible(t: PublishedTable):
    f = t.frame
    return f[(f["segment_code"] != "Total") & ~t.rows_hidden.to_numpy()]


def _names(rows, limit: int = 3, prefix: str = "") -> str:
    parts = [f"{prefix}{r['segment_name'] or r['segment_code']} (index {r['index']})"
             for _, r in rows.head(limit).iterrows()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def biggest_gap(seg: PublishedTable, area: str) -> list[Headline]:
    """The under-represented segment with the largest shortfall against the area's rate."""
    vis = _visible(seg)
    if "shortfall" not in vis:
        return []
    vis = vis[(vis["significance"] == UNDER) & (vis["shortfall"] != "")]
    if vis.empty:
        return []
    top = vis.loc[vis["shortfall"].astype(float).idxmax()]
    n = int(float(top["shortfall"]))
    return [Headline(
        f"The biggest gap: segment {top['segment_code']} ({top['segment_name']}) would have about "
        f"{about(n)} more users if its households used the service at the {area} rate.",
        "segment", [str(top["segment_code"])])]


def wards_below(ward: PublishedTable, area: str) -> list[Headline]:
    """Up to three wards whose use is significantly below the area's, lowest index first."""
    vis = _visible(ward)
    vis = vis[vis["significance"] == UNDER]
    if vis.empty:
        return []
    vis = vis.assign(_i=vis["index"].astype(int)).sort_values(["_i", "segment_code"]).head(3)
    return [Headline(f"Use is significantly below the {area} rate in {_names(vis)}.", "ward",
                     [str(c) for c in vis["segment_code"]])]


def equality_under(views: dict[str, PublishedTable]) -> list[Headline]:
    """Per equality view: the groups significantly under-represented against the census."""
    out = []
    for view, t in views.items():
        if not view.startswith("equality_") or "significance" not in t.frame:
            continue
        vis = _visible(t)
        vis = vis[vis["significance"] == UNDER]
        if vis.empty:
            continue
        what = view.removeprefix("equality_").replace("_", " ")
        vis = vis.assign(segment_name="")
        out.append(Headline(f"By {what}, fewer users than the census population predicts: "
                            f"{_names(vis, limit=4)}.", view, [str(c) for c in vis["segment_code"]]))
    return out


def channel_shift(channels: PublishedTable | None) -> list[Headline]:
    """Segments over-represented in face-to-face or telephone contact (channel-shift candidates)."""
    if channels is None:
        return []
    vis = _visible(channels)
    vis = vis[vis["channel_shift_candidate"] == "yes"]
    if vis.empty:
        return []
    parts = [f"segment {r['segment_code']} by {r['channel']} (index {r['index']})" for _, r in vis.iterrows()]
    return [Headline(f"Channel-shift candidates (more assisted contact than the area's mix): "
                     f"{'; '.join(parts[:4])}.", "channels", sorted(set(vis["segment_code"].astype(str))))]


def key_figures(seg: PublishedTable, summary: PublishedTable, service: str, base: str
                ) -> list[tuple[str, str]]:
    """The summary's key figures as (label, value), each a published cell: users, the base and users
    per 100 of it (the segment table's Total row), and the records matched (the run summary)."""
    total = seg.frame[seg.frame["segment_code"] == "Total"].iloc[0]
    noun = base if base in ("households", "residents", "adults") else "people in the base"
    out = [("Users matched", count_text(total["service_count"])),
           (noun.capitalize(), count_text(total["base_count"])),
           (f"Users per 100 {noun}", str(total["penetration_pct"]))]
    row = summary.frame[summary.frame["service"] == service]
    if len(row):
        r = row.iloc[0]
        out.append(("Records matched", f"{r['match_rate_pct']}% of {count_text(r['rows_read'])}"))
    return out


def count_text(value) -> str:
    """A published count as the summary shows it: digits grouped, a suppression symbol as it is."""
    return f"{int(value):,}" if str(value).isdigit() else str(value)


def quality_line(summary: PublishedTable, service: str) -> list[Headline]:
    """Data quality in one line, from the published run summary."""
    f = summary.frame
    row = f[f["service"] == service]
    if row.empty:
        return []
    r = row.iloc[0]
    shown = {c: count_text(r[c]) for c in ("rows_read", "matched", "rejected")}
    return [Headline(
        f"Data quality: {shown['matched']} of {shown['rows_read']} records matched "
        f"({r['match_rate_pct']}%); {shown['rejected']} rejected, each with a reason (see the match report).",
        "run_summary", [service])]


def suggestions(views: dict[str, PublishedTable], area: str) -> list[Headline]:
    """Options for the service lead, each with its number."""
    out = []
    targets = views.get("targets_ward")
    if targets is not None and len(targets.frame):
        top = targets.frame.head(2)
        segs = top["target_segments"].iloc[0].replace("; ", ", ")
        wards = " and ".join(f"{r['segment_name']} ({int(r['base_count']):,} households)"
                             for _, r in top.iterrows())
        out.append(Headline(f"Consider targeting segments {segs} in {wards}: the wards with the most "
                            f"households in the under-represented segments.", "targets_ward",
                            [str(c) for c in top["segment_code"]]))
    for h in wards_below(views["ward"], area)[:1]:
        out.append(Headline(f"Consider outreach in the wards where use is lowest: "
                            f"{h.text.split(' rate in ', 1)[1]}", "ward", h.codes))
    for h in channel_shift(views.get("channels"))[:1]:
        out.append(Headline("Consider helping these segments to self-serve online, and check they are "
                            "not at risk of digital exclusion first: " + h.text.split(": ", 1)[1],
                            "channels", h.codes))
    for h in equality_under(views)[:2]:
        out.append(Headline("Consider, with the equality impact assessment, why the service reaches "
                            "fewer of these groups than the census predicts: " + h.text.split(": ", 1)[1],
                            h.view, h.codes))
    return out


OUTCOME_WORSE = "worse served"
#: outcome views by the breakdowns they hold (`outcome_<name>_<dimension>`)
OUTCOME_AREAS = ("segment", "group", "subgroup", "ward")


def outcome_views(views: dict[str, PublishedTable]) -> dict[str, dict[str, PublishedTable]]:
    """{outcome name: {dimension: table}} of the published outcome views, in publication order."""
    out: dict[str, dict[str, PublishedTable]] = {}
    for view, t in views.items():
        if view.startswith("outcome_") and "outcome" in t.frame and len(t.frame):
            name = str(t.frame["outcome"].iloc[0])
            out.setdefault(name, {})[view.removeprefix(f"outcome_{name}_")] = t
    return out


def _primary(t: PublishedTable) -> tuple[str, str]:
    """(value column, difference column) of an outcome table: the rate, else the mean."""
    return ("rate_pct", "diff_pct") if "rate_pct" in t.frame else ("mean", "mean_diff")


def worse_served(t: PublishedTable) -> pd.DataFrame:
    """Rows significantly worse served than the service, published, the furthest from it first."""
    f = t.frame
    shown = ~t.hidden["significance"].to_numpy() & (f["segment_code"] != "Total").to_numpy()
    vis = f[shown & (f["significance"] == OUTCOME_WORSE).to_numpy()]
    _, diff = _primary(t)
    vis = vis[vis[diff] != ""]
    return vis.assign(_d=vis[diff].astype(float).abs()).sort_values(["_d", "segment_code"],
                                                                       ascending=[False, True])


def _value(t: PublishedTable, row) -> str:
    col, _ = _primary(t)
    return f"{row[col]}%" if col == "rate_pct" else f"mean {row[col]}"


def _named(code, name) -> str:
    """'7 Older singles in social housing'; a name that already starts with its code (a decile's
    '1 (most deprived 10%)') is not given the code twice."""
    code, name = str(code), str(name or "")
    return name if name == code or name.startswith(f"{code} ") else f"{code} {name}".strip()


def who_benefits(views: dict[str, PublishedTable], labels: dict[str, str]) -> list[Headline]:
    """Per outcome: the segments, then per equality characteristic the groups, significantly worse
    served than the service as a whole, the furthest from it first, each with its published rate
    (or mean) and the service's (the table's Total row). One sentence per table."""
    out = []
    for name, dims in outcome_views(views).items():
        label = labels.get(name, name.replace("_", " "))
        # segments, then the equality groups, then deprivation (its gradient has its own summary
        # line): the report's summary keeps the first few
        order = sorted(dims, key=lambda d: (d != "segment", d.startswith("deprivation")))
        for dim, t in ((d, dims[d]) for d in order):
            if dim in OUTCOME_AREAS and dim != "segment":
                continue
            worst = worse_served(t)
            if worst.empty:
                continue
            total = t.frame[t.frame["segment_code"] == "Total"]
            overall = "" if total.empty else f"the service's {_value(t, total.iloc[0])} "
            rows = [f"{_named(r['segment_code'], r['segment_name'])} ({_value(t, r)})"
                    for _, r in worst.head(3).iterrows()]
            listed = rows[0] if len(rows) == 1 else ", ".join(rows[:-1]) + " and " + rows[-1]
            what = "segment" if dim == "segment" else dim.replace("_", " ")
            out.append(Headline(f"Who benefits least ({label}) by {what}: significantly worse than "
                                f"{overall}for {listed}.", f"outcome_{name}_{dim}",
                                ["Total", *(str(c) for c in worst["segment_code"].head(3))]))
    return out
