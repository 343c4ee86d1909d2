"""Take-up by deprivation on the demo run (the session's `demo_run`, no run of its own): the planted
gradient recovered, the decile tables adding up to the service totals, suppression over the new
tables, the report's line and chart; and, on small values, the gradient withheld with any decile."""

import pandas as pd
import pytest

from pipeline.profiles import deprivation
from pipeline.profiles.service import ServiceProfile
from pipeline.publish.display import DEPRIVATION_TABLES
from pipeline.publish.stage import _flags

SYMBOL = "#"


def _truth(truth) -> pd.DataFrame:
    return pd.read_csv(truth / "deprivation_gradient_truth.csv").set_index("service")


def test_the_demo_recovers_its_planted_gradient(demo_run):
    cfg, result, _, truth = demo_run
    t = _truth(truth)
    checked = 0
    for s in cfg.services:
        g = result.publication.services[s.name]["deprivation_gradient"].frame.iloc[0]
        if g["sii"] == SYMBOL:
            continue
        sii, lo, hi = float(g["sii"]), float(g["sii_lower"]), float(g["sii_upper"])
        want = t.at[s.name, "sii"]
        assert (sii > 0) == (want > 0), s.name  # the sign
        assert lo <= want <= hi, (s.name, want, lo, hi)  # the size, within its interval
        assert float(g["rii_lower"]) <= t.at[s.name, "rii_all"] <= float(g["rii_upper"]), s.name
        checked += 1
    assert checked >= 4
    # stop smoking: used most in the most deprived tenth (planted by type), several times as much
    g = result.publication.services["stop_smoking"]["deprivation_gradient"].frame.iloc[0]
    assert float(g["sii"]) < -10 and float(g["times_most_deprived"]) > 3


def test_every_deprivation_table_adds_up_to_the_service_total(demo_run):
    cfg, result, _, _ = demo_run
    for name, views in result.profiles.items():
        total = int(views["segment"]["service_count"].iloc[-1])
        households = int(views["segment"]["base_count"].iloc[-1])
        dep = [v for v in views if v.startswith("deprivation_") and v not in DEPRIVATION_TABLES]
        assert {"deprivation_imd", "deprivation_local", "deprivation_income"} <= set(dep), name
        for view in dep:
            f = views[view]
            body = f[f["segment_code"] != "Total"]
            assert int(body["service_count"].sum()) == int(f["service_count"].iloc[-1]) == total, (name, view)
            assert int(body["base_count"].sum()) == households, (name, view)
        local = views["deprivation_local"]
        assert list(local["segment_code"].iloc[:-1]) == ["1", "2", "3", "4", "5"]


def test_suppression_holds_over_the_deprivation_tables(demo_run):
    cfg, result, _, _ = demo_run
    thr = cfg.suppression.threshold
    for name, views in result.publication.services.items():
        for view, t in views.items():
            if not view.startswith("deprivation_") or view in DEPRIVATION_TABLES:
                continue
            f = t.frame
            counts = pd.to_numeric(f.loc[f["service_count"] != SYMBOL, "service_count"])
            assert not ((counts > 0) & (counts < thr)).any(), (name, view)
            hidden = f["service_count"] == SYMBOL
            for col in ("service_pct", "penetration_pct", "index", "penetration_lower", "index_upper"):
                assert f.loc[hidden, col].isin([SYMBOL, ""]).all(), (name, view, col)
        gradient = views["deprivation_gradient"].frame.iloc[0]
        any_decile_hidden = (views["deprivation_imd"].frame["service_count"] == SYMBOL).any()
        assert (gradient["sii"] == SYMBOL) == bool(any_decile_hidden), name
    # the demo's deciles are large (no decile count under the threshold): the small values of
    # test_a_small_decile_is_hidden_with_everything_derived_from_it make these checks bite


def test_the_report_states_the_gradient_and_draws_penetration_by_decile(demo_run):
    cfg, _, _, _ = demo_run
    html = (cfg.outputs / "stop_smoking" / "stop_smoking_report.html").read_text(encoding="utf-8")
    assert "times as high in the most deprived neighbourhoods as in the least" in html
    assert "slope index of inequality" in html
    chart = cfg.outputs / "stop_smoking" / "charts" / "stop_smoking_deprivation_decile.png"
    assert chart.stat().st_size > 5000
    assert (cfg.outputs / "stop_smoking" / "stop_smoking_profile_deprivation_imd.csv").exists()


def _small_profile() -> ServiceProfile:
    geo = pd.DataFrame({"oa21cd": [f"E00{i}" for i in range(6)], "base": [100] * 6})
    index = pd.DataFrame({"oa21cd": geo["oa21cd"], "lsoa21cd": [f"E01{i}" for i in range(6)],
                          "nation": "england",
                          "imd_rank": [1, 4000, 8000, 12000, 16000, 30000],
                          "imd_decile": [1, 2, 3, 4, 5, 9], "imd_local_quintile": [1, 1, 2, 3, 4, 5]})
    users = pd.Series([40, 30, 3, 20, 15, 10], index=geo["oa21cd"])
    b = ServiceProfile()
    deprivation.deprivation_views(b, geo, users, (index, []))
    return b


def test_the_gradient_is_withheld_when_any_decile_is():
    b = _small_profile()
    assert list(b.views["deprivation_imd"]["segment_code"]) == ["1", "2", "3", "4", "5", "9", "Total"]
    g = b.views["deprivation_gradient"].iloc[0]
    assert g["sii"] < 0 and g["deciles"] == 6
    assert _flags(b, "deprivation_gradient", set()) == [False]
    assert _flags(b, "deprivation_gradient", {("deprivation_imd", "3")}) == [True]
    assert _flags(b, "deprivation_gradient", {("deprivation_local", "2")}) == [False]


def test_fewer_than_five_deciles_give_no_gradient_and_say_why():
    two = pd.DataFrame({"segment_code": ["1", "2", "Total"], "service_count": [5, 6, 11],
                        "base_count": [50, 60, 110]})
    row = deprivation.gradient_frame(two).iloc[0]
    assert row["sii"] is None and "at least 5" in row["note"]


@pytest.mark.parametrize("code,name", [("1", "1 (most deprived 10%)"), ("10", "10 (least deprived 10%)"),
                                       ("4", "4")])
def test_decile_names(code, name):
    assert deprivation.decile_name(int(code)) == name


def test_the_segment_guide_gives_each_segments_share_in_the_most_deprived_lsoas(demo_run):
    cfg, result, _, _ = demo_run
    shares = result.publication.run["segment_deprivation"].frame
    imd = result.profiles["stop_smoking"]["deprivation_imd"].set_index("segment_code")["base_count"]
    top = shares[shares["level"] == "supergroup"]
    hh = top["households"].astype(int)
    in_first = (hh * top["pct_households_most_deprived_10pc_national"].astype(float) / 100).sum()
    assert in_first == pytest.approx(int(imd["1"]), abs=1)  # the decile-1 households, segment by segment
    in_two = (hh * top["pct_households_most_deprived_20pc_national"].astype(float) / 100).sum()
    assert in_two == pytest.approx(int(imd["1"]) + int(imd["2"]), abs=1)
    pen = pd.read_csv(cfg.outputs / "segments" / "pen_portraits.csv", dtype=str, keep_default_na=False)
    assert (pen["pct_households_most_deprived_10pc_local"] != "").all()
    page = next((cfg.outputs / "segments" / "portraits").glob("segment_*.html")).read_text(encoding="utf-8")
    assert "of its households live in the most deprived 10% of neighbourhoods" in page


def test_under_the_ons_rule_the_gradient_comes_from_the_rounded_counts():
    from pipeline.publish.stage import rounded_gradient

    b = _small_profile()
    flagged = b.views["deprivation_gradient"].assign(suppressed=[False])
    again = rounded_gradient(b.views["deprivation_imd"], 5, flagged).iloc[0]
    by_hand = deprivation.gradient_frame(pd.DataFrame({  # 40, 30, 3, 20, 15, 10 rounded to 5
        "segment_code": ["1", "2", "3", "4", "5", "9"], "service_count": [40, 30, 5, 20, 15, 10],
        "base_count": [100] * 6})).iloc[0]
    assert again["sii"] == pytest.approx(by_hand["sii"])
    assert again["sii"] != b.views["deprivation_gradient"].iloc[0]["sii"]
    assert not again["suppressed"]


def test_a_small_decile_is_hidden_with_everything_derived_from_it():
    from pipeline.config import Suppression
    from pipeline.publish.display import display
    from pipeline.publish.suppression import Disclosure

    b = _small_profile()  # decile 3 has 3 users
    hidden = Disclosure(b.graph, Suppression()).hidden()
    assert ("deprivation_imd", "3") in hidden
    shown = display("deprivation_imd", b.views["deprivation_imd"].assign(
        suppressed=_flags(b, "deprivation_imd", hidden)), Suppression())
    row = shown[shown["segment_code"] == "3"].iloc[0]
    assert row["service_count"] == SYMBOL and row["penetration_pct"] == SYMBOL and row["index"] == SYMBOL
    assert shown["service_count"].eq(SYMBOL).sum() >= 2  # a second row hidden: no total minus the rest
    assert _flags(b, "deprivation_gradient", hidden) == [True]


def test_the_summary_line_quotes_the_published_gradient_as_shown():
    import re

    from pipeline.config import Suppression
    from pipeline.publish.display import display
    from pipeline.publish.stage import table
    from pipeline.render.deprivation import summary_line

    b = _small_profile()
    frame = b.views["deprivation_gradient"].assign(suppressed=[False])
    shown = display("deprivation_gradient", frame, Suppression())
    t = table(shown, frame["suppressed"], "x.csv", Suppression(), [])
    line = summary_line(t)
    assert line.startswith("Use is ") and "slope index of inequality" in line
    cells = {v.lstrip("-") for v in t.frame.iloc[0].astype(str)}
    assert all(n in cells for n in re.findall(r"\d+(?:\.\d+)?", line.replace("95% interval", ""))), line
    withheld = table(display("deprivation_gradient", frame.assign(suppressed=[True]), Suppression()),
                     pd.Series([True]), "x.csv", Suppression(), [])
    assert summary_line(withheld) == ""
