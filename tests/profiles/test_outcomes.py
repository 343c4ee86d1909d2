"""Outcomes and satisfaction (pipeline/profiles/outcomes.py): the arithmetic by hand, the parsing of
outcome values, interval coverage in a seeded simulation, planted differences recovered from the
demo, the report's 'who benefits' headline and suppression of the outcome counts."""

from __future__ import annotations

import html
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from pipeline.config import Outcome, Suppression
from pipeline.profiles import outcomes
from pipeline.profiles.stats import wilson

BINARY = Outcome(name="quit", column="Quit", kind="binary")
ORDINAL = Outcome(name="sat", column="Sat", kind="ordinal", scale=["1", "2", "3", "4", "5"])
NUMERIC = Outcome(name="days", column="Days", kind="numeric", better="lower")


def _counts(n, k, none=None, s1=None, s2=None):
    n, k = np.asarray(n), np.asarray(k)
    return pd.DataFrame({"n": n, "k": k, "none": none if none is not None else np.zeros_like(n),
                         "dk": np.zeros_like(n), "s1": k if s1 is None else s1,
                         "s2": k if s2 is None else s2})


def test_rates_differences_and_calls_by_hand():
    frame = outcome_frame = outcomes.outcome_table(BINARY, ["a", "b", "c"], ["", "", ""],
                                                   _counts([200, 300, 0], [40, 150, 0], none=[7, 3, 2]))
    a = frame.iloc[0]
    assert a["rate_pct"] == pytest.approx(20.0)
    lo, hi = wilson(40, 200)
    assert (a["rate_lower"], a["rate_upper"]) == pytest.approx((100 * lo, 100 * hi))
    overall = 190 / 500
    assert a["diff_pct"] == pytest.approx(100 * (0.2 - overall))
    # (1 - w) x Newcombe's interval for p_a - p_rest, w = 200 / 500
    lr, ur = wilson(150, 300)
    theta = 0.2 - 0.5
    L = theta - np.sqrt((0.2 - lo) ** 2 + (ur - 0.5) ** 2)
    U = theta + np.sqrt((hi - 0.2) ** 2 + (0.5 - lr) ** 2)
    assert (a["diff_lower"], a["diff_upper"]) == pytest.approx((100 * 0.6 * L, 100 * 0.6 * U))
    assert a["significance"] == outcomes.WORSE and a["holm"] == "yes"
    assert frame.iloc[1]["significance"] == outcomes.BETTER
    # a row with no outcome recorded is not compared; its records are reported, not failures
    c = frame.iloc[2]
    assert c["significance"] == "" and c["no_outcome"] == 2 and c["not_achieved"] == 0
    total = outcome_frame.iloc[-1]
    assert (total["with_outcome"], total["successes"], total["not_achieved"], total["no_outcome"]) == (
        500, 190, 310, 12)


def test_lower_is_better_flips_the_call_and_means_use_t_intervals():
    values = {"a": [1.0, 2.0, 3.0, 4.0], "b": [8.0, 9.0, 10.0, 11.0, 12.0]}
    n = [len(v) for v in values.values()]
    s1 = [sum(v) for v in values.values()]
    s2 = [sum(x * x for x in v) for v in values.values()]
    frame = outcomes.outcome_table(NUMERIC, ["a", "b"], ["", ""], _counts(n, [0, 0], s1=s1, s2=s2))
    a = frame.iloc[0]
    sd = np.std(values["a"], ddof=1)
    from scipy.stats import t

    half = t.ppf(0.975, 3) * sd / 2
    assert (a["mean"], a["mean_lower"], a["mean_upper"]) == pytest.approx((2.5, 2.5 - half, 2.5 + half))
    allv = values["a"] + values["b"]
    assert a["mean_diff"] == pytest.approx(2.5 - np.mean(allv))
    # fewer days is better: the low row is better served, the high one worse
    assert (a["significance"], frame.iloc[1]["significance"]) == (outcomes.BETTER, outcomes.WORSE)
    assert "successes" not in frame and "rate_pct" not in frame


def test_values_parsed_no_outcome_and_dont_know_kept_apart():
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        ('A', 'Yes', '5', '3'), ('A', ' no ', 'Don\u2019t know', '4.5'), ('A', NULL, '4', 'soon'),
        ('B', 'Not known', '2', NULL), ('B', 'Y', 'dont know', '1,200'), ('B', 'maybe', '6', '-'))
        AS v(g, outcome_quit, outcome_sat, outcome_days)""")
    c = outcomes.counts_by(con, "t", [BINARY, ORDINAL, NUMERIC], "g").set_index("code")
    assert c.loc["A", ["n__quit", "k__quit", "none__quit"]].tolist() == [2, 1, 1]
    assert c.loc["B", ["n__quit", "k__quit", "none__quit"]].tolist() == [1, 1, 2]
    # ordinal: 1-5, top half (4, 5) satisfied; don't know apart; '6' is off the scale
    assert c.loc["A", ["n__sat", "k__sat", "dk__sat", "none__sat", "s1__sat"]].tolist() == [2, 2, 1, 0, 9]
    assert c.loc["B", ["n__sat", "k__sat", "dk__sat", "none__sat"]].tolist() == [1, 0, 1, 1]
    assert c.loc["A", ["n__days", "s1__days"]].tolist() == [2, 7.5]
    assert c.loc["B", ["n__days", "s1__days"]].tolist() == [1, 1200.0]


def test_rate_interval_coverage_in_a_seeded_simulation():
    """1,000 draws of a service with 8 segments (true quit rates 0.2-0.6, 60-900 outcomes each):
    the Wilson intervals of the rate hold the true rate 93-97% of the time; the interval of the
    difference from the service's overall rate holds the true difference at least 93%."""
    rng = np.random.default_rng(15)
    p = np.array([0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6])
    n = np.array([60, 120, 200, 300, 450, 600, 750, 900])
    hits = diff_hits = total = 0
    for _ in range(1000):
        k = rng.binomial(n, p)
        frame = outcomes.outcome_table(BINARY, list("abcdefgh"), [""] * 8, _counts(n, k)).iloc[:-1]
        lo, hi = frame["rate_lower"] / 100, frame["rate_upper"] / 100
        hits += int(((lo <= p) & (p <= hi)).sum())
        true_diff = p - (n * p).sum() / n.sum()
        dl, du = frame["diff_lower"] / 100, frame["diff_upper"] / 100
        diff_hits += int(((dl <= true_diff) & (true_diff <= du)).sum())
        total += len(p)
    coverage, diff_coverage = hits / total, diff_hits / total
    print(f"rate coverage {coverage:.4f}, difference coverage {diff_coverage:.4f}")
    assert 0.93 <= coverage <= 0.97
    assert 0.93 <= diff_coverage <= 0.99


# --- the demo ------------------------------------------------------------------------------------


def _planted_by_segment(cfg, truth, service: str, column: str) -> pd.Series:
    rows = pd.read_csv(truth / f"{service}_truth.csv", dtype={"true_oa21cd": str})
    planted = pd.read_csv(truth / f"{service}_outcome_truth.csv")
    seg = pd.read_csv(cfg.outputs / "segments" / "segments_oa.csv", dtype=str)
    rows = rows.merge(planted, on="row_number").merge(seg, left_on="true_oa21cd", right_on="oa21cd")
    rows = rows[rows["planted"] != "blank_row"]
    return rows.groupby("segment")[column].mean()


CHECKS = [("stop_smoking", "quit_4wk", "p_quit_4wk", "rate_pct"),
          ("contact_centre", "satisfaction", "p_satisfied", "rate_pct"),
          ("contact_centre", "days_to_resolve", "mean_days", "mean")]


def test_planted_outcomes_recovered_by_segment(demo_profiles):
    """Spearman >= 0.9 between the planted and estimated outcome by segment, for every demo
    outcome with >= 1,000 recorded outcomes."""
    cfg, profiles, truth = demo_profiles
    checked = {}
    for service, name, column, measure in CHECKS:
        frame = profiles[service][f"outcome_{name}_segment"]
        body = frame[frame["segment_code"] != "Total"].set_index("segment_code")
        if body["with_outcome"].sum() < 1000:
            continue
        planted = _planted_by_segment(cfg, truth, service, column)
        checked[name] = spearmanr(planted, body[measure].reindex(planted.index)).statistic
    print(checked)
    assert set(checked) == {"quit_4wk", "satisfaction", "days_to_resolve"}
    assert all(r >= 0.9 for r in checked.values()), checked


def test_report_names_the_planted_worst_served_segment_and_group(demo_profiles):
    cfg, profiles, truth = demo_profiles
    from pipeline.profiles.equality import map_code

    for service, name, column, _measure in CHECKS[:2]:
        planted = _planted_by_segment(cfg, truth, service, column)
        worst_segment = planted.idxmin()
        rows = pd.read_csv(truth / f"{service}_outcome_truth.csv")
        ages = pd.read_csv(cfg.services[[s.name for s in cfg.services].index(service)].file, dtype=str,
                           keep_default_na=False, skip_blank_lines=False)["Age Band"]
        by_group = rows[column].groupby(ages.map(lambda a: map_code("age_band", a)).to_numpy()).mean()
        reported_only = ["Missing", "Prefer not to say", "Not recognised"]
        worst_group = by_group.drop(reported_only, errors="ignore").idxmin()
        text = html.unescape((cfg.outputs / service / f"{service}_report.html").read_text(encoding="utf-8"))
        label = "Quit" if name == "quit_4wk" else "Satisfied"
        lines = [m for m in re.findall(r"Who benefits least[^<]*", text) if f"({label}" in m]
        by_segment = next(m for m in lines if ") by segment:" in m)
        by_age = next(m for m in lines if ") by age band:" in m)
        # the worst is named first
        assert re.search(rf"than the service's [0-9.]+% for {worst_segment} ", by_segment), by_segment
        assert re.search(rf"than the service's [0-9.]+% for {re.escape(worst_group)} \(", by_age), by_age


def test_outcome_counts_suppressed_with_what_derives_from_them(demo_run):
    """With a threshold of 50, every outcome count shown is 0 or at least 50, a rate is never shown
    beside a hidden count it derives from, and no row leaves exactly one of n = achieved + not
    achieved hidden."""
    from pipeline import profiles
    from pipeline.publish.stage import _cells_shown, _flagged
    from pipeline.publish.suppression import Disclosure

    cfg, _, _, _ = demo_run
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        computed = profiles.run(con, cfg)
    finally:
        con.close()
    rule = Suppression(threshold=50, symbol="#")
    prof = computed.services["stop_smoking"]
    hidden = Disclosure(prof.graph, rule).hidden()
    frames = _flagged(prof, hidden)
    seen_hidden = 0
    for view, cells in prof.cells.items():
        shown = _cells_shown(frames[view], cells, hidden, rule)
        for col in outcomes.COUNT_COLUMNS:
            if col in shown:
                vals = shown.loc[shown[col] != "#", col].astype(int)
                assert ((vals == 0) | (vals >= 50)).all(), (view, col)
                seen_hidden += int((shown[col] == "#").sum())
        hid = shown["with_outcome"].eq("#") | shown["successes"].eq("#") | shown["not_achieved"].eq("#")
        assert shown.loc[hid, "rate_pct"].eq("#").all() and shown.loc[hid, "significance"].eq("#").all()
        three = shown[["with_outcome", "successes", "not_achieved"]].eq("#").sum(axis=1)
        assert not (three == 1).any(), view
    assert seen_hidden > 0
