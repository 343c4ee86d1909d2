"""The match report and the run summary as published tables.

Their counts join the service's count graph (:func:`register`), so the same disclosure control
that hides a profile count hides it here, and a count hidden in one file is hidden in every file:

* the run summary's outcome counts and the match report's ``match_levels`` rows share a key per
  outcome; rows_read = matched + rejected, matched = sum of the match levels, rejected = sum of the
  reasons;
* ``postcodes_corrected`` is one key in ``corrections`` and in the summary;
* the summary's ``matched`` is the profile's Total where the two are the same count (the profile
  counts records), and a ward's or segment's ``matched`` in the match report is its profile count
  where they are equal.

``match_by_ward`` / ``match_by_segment`` also carry ``records`` (estimated, in tenths: rejected
records are spread over the OAs of their postcode sector): shown only from the threshold up. Rates
and shares are recomputed from the published (rounded) counts and hidden with them.
"""

from __future__ import annotations

import pandas as pd

from pipeline.config import Suppression
from pipeline.geocode import MATCH_LEVELS, REJECT_REASONS
from pipeline.profiles.cells import CountGraph
from pipeline.publish.suppression import round_count, rounding

CORRECTION_COUNTS = ["postcodes_corrected", "terminated_postcodes", "large_user_postcodes", "uprns_used",
                     "uprns_contradicting_record", "uprns_not_found", "fuzzy_address_matches",
                     "non_residential_matches"]
TOTAL = ("total",)


def summary_key(col: str):
    if col in CORRECTION_COUNTS:
        return ("correction", col)
    if col in (*MATCH_LEVELS, *REJECT_REASONS):
        return ("outcome", col)
    return ("summary", col)


def register(graph: CountGraph, service: str, report, summary: pd.DataFrame) -> None:
    """Add one service's match-report and run-summary counts (and their relations) to its graph."""
    row = summary[summary["service"] == service].iloc[0]
    for col in ("rows_read", "matched", "rejected", *MATCH_LEVELS, *REJECT_REASONS):
        graph.add(summary_key(col), int(row[col]))
    graph.relate(summary_key("rows_read"), [summary_key("matched"), summary_key("rejected")])
    graph.relate(summary_key("matched"), [summary_key(m) for m in MATCH_LEVELS])
    graph.relate(summary_key("rejected"), [summary_key(r) for r in REJECT_REASONS])
    levels = report.match_levels[report.match_levels["service"] == service]
    for o, n in zip(levels["outcome"], levels["records"], strict=True):
        if int(n) != graph.counts[summary_key(o)]:
            graph.add(("match_level", o), int(n))  # a different count: its own cell
    corrections = report.corrections[report.corrections["service"] == service].iloc[0]
    for col in CORRECTION_COUNTS:
        graph.add(summary_key(col), int(corrections[col]))
    # matched records (the profile's Total) stay shown: a small rejected count hides rows_read
    graph.keep.add(summary_key("matched"))
    if graph.counts.get(TOTAL) == graph.counts[summary_key("matched")]:
        graph.relate(TOTAL, [summary_key("matched")])
        graph.keep.add(TOTAL)
    for frame, col, prefix in ((report.match_by_ward, "ward_code", "ward"),
                               (report.match_by_segment, "segment", "segment")):
        part = frame[frame["service"] == service]
        for code, n in zip(part[col].astype(str), part["matched"], strict=True):
            key = (f"match_{prefix}", code)
            graph.add(key, int(n))
            if graph.counts.get((prefix, code)) == int(n):
                graph.relate((prefix, code), [key])


def _shown(n, hidden: bool, rule: Suppression):
    return rule.symbol if hidden else round_count(n, rounding(rule))


def _rate(num, den) -> str:
    """100 * num / den to two decimals ('' when either is withheld or den is 0)."""
    if not (isinstance(num, int | float) and isinstance(den, int | float) and den):
        return ""
    return f"{100 * num / den:.2f}"


def match_levels(report, hidden: dict[str, set], rule: Suppression) -> pd.DataFrame:
    rows = []
    for service, part in report.match_levels.groupby("service", sort=False):
        hid = hidden[service]
        shown = [_shown(n, ("match_level", o) in hid or ("outcome", o) in hid, rule)
                 for o, n in zip(part["outcome"], part["records"], strict=True)]
        total = sum(v for v in shown if isinstance(v, int))
        rows.append(part.assign(records=shown, share_pct=[
            rule.symbol if v == rule.symbol else (_rate(v, total) or "0.00") for v in shown]))
    return pd.concat(rows, ignore_index=True)


def corrections(report, hidden: dict[str, set], rule: Suppression) -> pd.DataFrame:
    out = report.corrections.astype(object).copy()
    for i, service in out["service"].items():
        for col in CORRECTION_COUNTS:
            out.at[i, col] = _shown(out.at[i, col], summary_key(col) in hidden[service], rule)
    return out


def match_by(frame: pd.DataFrame, code_col: str, prefix: str, hidden: dict[str, set],
             rule: Suppression) -> pd.DataFrame:
    """A match-rate table by ward or segment: counts hidden where the graph hides `matched` or
    where the estimated records are below the threshold; rates recomputed from what is shown."""
    out = frame.astype(object).copy()
    limit, base = rule.min_shown, rounding(rule)
    rate_cols = [c for c in ("match_rate_pct", "z_match", "below_borough", "address_rate_pct",
                             "z_address", "below_borough_address") if c in out]
    for i in out.index:
        records, matched = float(frame.at[i, "records"]), int(frame.at[i, "matched"])
        hide = (0 < records < limit
                or (f"match_{prefix}", str(frame.at[i, code_col])) in hidden[frame.at[i, "service"]])
        address = frame.at[i, "address_level"] if "address_level" in frame else None
        hide_address = address is not None and not pd.isna(address) and 0 < int(address) < limit
        if hide:
            for c in ("records", "matched", "address_level", *rate_cols):
                if c in out:
                    out.at[i, c] = rule.symbol
            continue
        if base > 1:
            out.at[i, "records"] = round_count(round(records), base)
            out.at[i, "matched"] = round_count(matched, base)
            out.at[i, "match_rate_pct"] = _rate(out.at[i, "matched"], out.at[i, "records"])
        if "address_level" in out and address is not None and not pd.isna(address):
            if hide_address:
                for c in ("address_level", "address_rate_pct", "z_address", "below_borough_address"):
                    out.at[i, c] = rule.symbol
            elif base > 1:
                out.at[i, "address_level"] = round_count(int(address), base)
                out.at[i, "address_rate_pct"] = _rate(out.at[i, "address_level"], out.at[i, "matched"])
    return out


def summary(summ: pd.DataFrame, hidden: dict[str, set], rule: Suppression) -> pd.DataFrame:
    """The run summary with each count shown under the rule (hidden ones as the symbol)."""
    out = summ.astype(object).copy()
    counts = [c for c in ("rows_read", "matched", "rejected", *MATCH_LEVELS, *REJECT_REASONS,
                          *CORRECTION_COUNTS) if c in out]
    for i, service in out["service"].items():
        for col in counts:
            out.at[i, col] = _shown(int(summ.at[i, col]), summary_key(col) in hidden[service], rule)
        shown = (out.at[i, "matched"], out.at[i, "rows_read"])
        out.at[i, "match_rate_pct"] = rule.symbol if rule.symbol in shown else (_rate(*shown) or "0.00")
    return out
