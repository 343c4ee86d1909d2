"""Equality monitoring on the demo borough: its stop-smoking extract records age, sex and ethnicity
in the council guidance's categories, with take-up planted by age band and ethnic group; the
profile recognises every code, compares each group with the census population of exactly its
ages or group, and recovers the planted order."""

import copy
from fractions import Fraction

import pandas as pd
import pytest
from scipy.stats import spearmanr

from pipeline.profiles import equality
from segments.census import load_table

GUIDANCE_BANDS = ["Under 18", "19-24", "25-44", "45-64", "65-74", "75+"]
TABLES = {"sex": "ts008", "disability": "ts038", "ethnicity": "ts021", "ethnicity_detailed": "ts021"}


def _oas(cfg) -> list[str]:
    return pd.read_csv(cfg.outputs / "segments" / "segments_oa.csv", dtype=str)["oa21cd"].tolist()


def _truth(truth_dir, field: str) -> pd.Series:
    """Planted relative take-up per resident, by the profile's category for each extract code."""
    t = pd.read_csv(truth_dir / "equality_truth.csv")
    t = t[t["field"] == field]
    view = "ethnicity_detailed" if field == "ethnicity" else field
    codes = [equality.map_code(view, c) for c in t["category"]]
    return pd.Series(t["planted_takeup"].to_numpy(), index=codes)


def test_demo_views_are_the_guidance_categories(demo_profiles):
    cfg, profiles, _ = demo_profiles
    views = profiles["stop_smoking"]
    fields = ("age_band", "sex", "disability", "ethnicity", "ethnicity_detailed")
    assert {f"equality_{f}" for f in fields} <= set(views)
    records = views["segment"]["service_count"].iloc[-1]
    age = views["equality_age_band"]
    assert list(age["segment_code"]) == [*GUIDANCE_BANDS, *equality.REPORTED_ONLY, "Total"]
    sex = views["equality_sex"].set_index("segment_code")
    assert list(sex.index[:3]) == ["Female", "Male", "Other"] and sex.at["Other", "service_count"] > 0
    assert pd.isna(sex.at["Other", "index"]) and sex.at[equality.PREFER_NOT, "service_count"] > 0
    for view, t in views.items():
        if not view.startswith("equality_"):
            continue
        body = t[t["segment_code"] != "Total"].set_index("segment_code")
        # every code recognised; every user counted once, in a group or a reported-only row
        assert body.at[equality.UNKNOWN, "service_count"] == 0, view
        assert body["service_count"].sum() == t["service_count"].iloc[-1] == records, view
        assert not t["note"].iloc[-1].startswith("Incomplete"), view
        # 'Prefer not to say', missing and the like are never a denominator
        reported = body.loc[[*equality.REPORTED_ONLY]]
        assert reported["population"].isna().all() and reported["service_pct"].isna().all(), view
        groups = body.drop(index=[*equality.REPORTED_ONLY, equality.BROAD_ONLY], errors="ignore")
        assert groups["service_pct"].sum() == pytest.approx(100), view


def test_demo_census_populations(demo_profiles):
    """Sex, disability and ethnic groups add up to their census tables' totals; age bands to the
    TS007A total less the residents aged 18 (1/5 of 15-19), whom the guidance's bands leave out."""
    cfg, profiles, _ = demo_profiles
    views, oas = profiles["stop_smoking"], _oas(cfg)
    for view, table in TABLES.items():
        t = views[f"equality_{view}"]
        area = load_table(cfg.census, table).reindex(oas).iloc[:, 0].sum()
        compared = t[t["population"].notna() & (t["segment_code"] != "Total")]
        assert compared["population"].sum() == area == t["population"].iloc[-1], view
        assert compared["population_pct"].sum() == pytest.approx(100), view
    ts007a = load_table(cfg.census, "ts007a").reindex(oas).sum()
    age = views["equality_age_band"].set_index("segment_code")
    y15 = Fraction(int(ts007a["Aged 15 to 19 years"]))
    assert age.at["19-24", "population"] == int(y15 / 5 + int(ts007a["Aged 20 to 24 years"]) + Fraction(1, 2))
    assert abs(age.at["Total", "population"] - float(int(ts007a["Total"]) - y15 / 5)) <= 3
    for band in GUIDANCE_BANDS:
        assert age.at[band, "note"].startswith("Estimate") == (band in ("Under 18", "19-24")), band


def test_demo_recovers_the_planted_order(demo_profiles):
    """Planted take-up per resident by age band and by ethnic group (the generator's truth): the
    profile's index puts the groups in the same order (Spearman >= 0.9), over every group the
    profile gives an index (those with at least 5 users expected)."""
    _, profiles, truth_dir = demo_profiles
    views = profiles["stop_smoking"]
    for field, view in (("age_band", "equality_age_band"), ("ethnicity", "equality_ethnicity_detailed")):
        planted = _truth(truth_dir, field)
        t = views[view].set_index("segment_code")
        t = t[t["index"].notna() & t.index.isin(planted.index)]
        assert len(t) >= (6 if field == "age_band" else 15), field
        rho = spearmanr(t["index"], planted[t.index]).statistic
        assert rho >= 0.9, (field, rho)


def test_demo_broad_groups_match_the_planted_detail(demo_profiles):
    """Each broad group's index is the planted take-up of its detailed groups weighted by their
    census residents, relative to the area's: within the 95% interval (widened by half)."""
    cfg, profiles, truth_dir = demo_profiles
    planted = _truth(truth_dir, "ethnicity")
    residents = load_table(cfg.census, "ts021").reindex(_oas(cfg)).sum()
    cats = equality.categories("ethnicity_detailed").set_index("category")
    R = pd.Series({g: float(residents[cats.at[g, "census_columns"]]) for g in planted.index})
    parent = cats.loc[planted.index, "parent"]
    overall = (planted * R).sum() / R.sum()
    expected = 100 * ((planted * R).groupby(parent).sum() / R.groupby(parent).sum()) / overall
    t = profiles["stop_smoking"]["equality_ethnicity"].set_index("segment_code")
    for group, want in expected.items():
        lo, hi = t.at[group, "index_lower"], t.at[group, "index_upper"]
        slack = (hi - lo) / 2
        assert lo - slack <= want <= hi + slack, (group, want, t.at[group, "index"])


def test_incomplete_views_stay_out_of_the_headlines(demo_run, tmp_path):
    """The demo's age view has significant findings; marked incomplete, it keeps its table (with the
    mark in its title) but no headline or suggestion is drawn from it."""
    from pipeline.render.report import write_service_report

    cfg, result, _, _ = demo_run
    local = cfg.model_copy(update={"outputs_dir": tmp_path})
    (tmp_path / "stop_smoking").mkdir()
    before = write_service_report(local, result.publication, "stop_smoking", "Stop smoking")
    assert any(h.view == "equality_age_band" for h in before.headlines)
    pub = copy.deepcopy(result.publication)
    pub.services["stop_smoking"]["equality_age_band"].incomplete = True
    after = write_service_report(local, pub, "stop_smoking", "Stop smoking")
    assert not any(h.view == "equality_age_band" for h in after.headlines)
    html = after.path.read_text(encoding="utf-8")
    assert "Equality: age band (incomplete: too many codes not recognised)" in html
    assert "Under 18" in html and "Estimate from Census 2021 TS007A" in html


def test_published_equality_notes_travel_with_the_tables(demo_run):
    cfg, result, _, _ = demo_run
    published = result.publication.services["stop_smoking"]
    age = published["equality_age_band"]
    assert any("no band covers age(s) 18" in n for n in age.notes)
    assert any("Under 18, 19-24: estimates" in n for n in age.notes)
    assert not any(t.incomplete for t in published.values())
    csv = pd.read_csv(cfg.outputs / "stop_smoking" / "stop_smoking_profile_equality_age_band.csv", dtype=str,
                      keep_default_na=False).set_index("segment_code")
    assert csv.at["19-24", "note"].startswith("Estimate from Census 2021 TS007A: ages 1/5 of 15-19")
