"""Profiles of the demo borough: planted take-up recovered, every view present, contracts kept."""

import pandas as pd
from scipy.stats import spearmanr

from pipeline.profiles.table import INTERVAL_COLUMNS, PROFILE_COLUMNS


def test_planted_take_up_rank_matches_the_index(demo_profiles):
    """For each service with >= 1,000 users: Spearman >= 0.9 between the planted take-up per
    segment (household-weighted over its OAs' neighbourhood types) and the estimated index."""
    cfg, profiles, truth = demo_profiles
    types = pd.read_csv(truth / "oa_types.csv", dtype={"OA21CD": str})
    prop = pd.read_csv(truth / "propensity.csv")
    seg = pd.read_csv(cfg.outputs / "segments" / "segments_oa.csv", dtype=str)
    oa = types.merge(seg, left_on="OA21CD", right_on="oa21cd")
    checked = {}
    for service in prop["service"].unique():
        if service not in profiles:
            continue
        prof = profiles[service]["segment"]
        body = prof[prof["segment_code"] != "Total"].set_index("segment_code")
        if body["service_count"].sum() < 1000:
            continue
        p = prop[prop["service"] == service].set_index("type")["propensity"]
        w = oa["type"].map(p) * oa["households"]
        planted = w.groupby(oa["segment"]).sum() / oa.groupby("segment")["households"].sum()
        index = body["index"].astype(float).reindex(planted.index)
        checked[service] = spearmanr(planted, index).statistic
    print(checked)
    assert len(checked) == 5
    assert all(r >= 0.9 for r in checked.values()), checked


def test_views_and_columns_contract(demo_profiles):
    cfg, profiles, _ = demo_profiles
    for name, views in profiles.items():
        for view in ("segment", "ward", "ward_segment"):
            frame = views[view]
            assert list(frame.columns[:8]) == PROFILE_COLUMNS, (name, view)
            assert set(INTERVAL_COLUMNS) <= set(frame.columns) and "suppressed" not in frame
            assert (cfg.outputs / name.split("__")[0] / f"{name}_profile_{view}.csv").exists()
            assert (cfg.private / "profiles" / f"{name}_profile_{view}.csv").exists()
        body = views["segment"].iloc[:-1]
        lower, upper = body["index_lower"], body["index_upper"]
        idx = body["index"].astype(float)
        assert ((lower <= idx) & (idx <= upper)).all(), name
        # ward x segment cells add up to the ward and the segment counts
        ws = views["ward_segment"].iloc[:-1]
        by_seg = ws.groupby("segment")["service_count"].sum()
        assert by_seg.to_dict() == body.set_index("segment_code")["service_count"].to_dict()
        wards = views["ward"].iloc[:-1].set_index("segment_code")["service_count"]
        assert ws.groupby("ward_code")["service_count"].sum().to_dict() == wards.to_dict()
    assert {"equality_age_band", "equality_sex", "equality_disability", "equality_ethnicity",
            "trends"} <= set(profiles["stop_smoking"])
    assert "channels" in profiles["library"] and "channels" in profiles["contact_centre"]
    assert "garden_waste__garden_waste_collection" in profiles
    matrix = pd.read_csv(cfg.outputs / "cross_service" / "cross_service_profile_segment.csv", dtype=str)
    assert set(matrix["service"]) == {*(s.name for s in cfg.services), "any_service"}
    assert (cfg.outputs / "cross_service" / "cross_service_summary.xlsx").stat().st_size > 0


def test_channel_shift_candidates_are_assisted_and_significant(demo_profiles):
    _, profiles, _ = demo_profiles
    ch = profiles["contact_centre"]["channels"]
    flagged = ch[ch["channel_shift_candidate"]]
    assert len(flagged) > 0
    assert set(flagged["channel"]) <= {"face-to-face", "telephone"}
    assert (flagged["index_lower"] > 100).all()
    # each segment's known-channel shares add up to 100
    body = ch[(ch["segment_code"] != "Total") & (ch["channel"] != "unknown")]
    assert body.groupby("segment_code")["segment_pct"].sum().round(6).eq(100).all()


def test_targets_rank_non_users_of_under_represented_segments(demo_profiles):
    _, profiles, _ = demo_profiles
    views = profiles["stop_smoking"]
    seg = views["segment"]
    under = set(seg.loc[seg["significance"] == "under-represented", "segment_code"])
    oas = views["targets_oa"]
    assert set(oas["segment_code"]) == under
    assert (oas["non_users"] == oas["base_count"] - oas["service_count"]).all()
    assert oas["non_users"].is_monotonic_decreasing  # ranked by non-users (private copy)
    assert list(oas["rank"]) == list(range(1, len(oas) + 1))
