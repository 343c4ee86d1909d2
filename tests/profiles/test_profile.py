"""The profile maths: the real Mosaic seed profile is reproduced from its counts alone."""

import pandas as pd
import pytest

from pipeline.config import Suppression
from pipeline.profiles import PROFILE_COLUMNS, format_profile, profile_table
from pipeline.profiles.cells import CountGraph
from pipeline.profiles.table import DERIVED_COLUMNS
from pipeline.publish.suppression import Disclosure, mask


@pytest.fixture
def seed(shared_dir):
    return pd.read_csv(
        shared_dir / "fixtures" / "seed_profile_stop_smoking.csv", dtype=str, keep_default_na=False
    )


def test_seed_profile_reproduced_exactly(seed):
    body = seed[seed["segment_code"] != "Total"]
    counts = body[["segment_code", "segment_name", "service_count", "base_count"]].assign(
        service_count=lambda d: d["service_count"].astype(int),
        base_count=lambda d: d["base_count"].astype(int),
    )
    got = format_profile(profile_table(counts))
    assert list(got.columns) == PROFILE_COLUMNS == list(seed.columns)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), seed.reset_index(drop=True))


def test_index_is_ratio_of_shares():
    counts = pd.DataFrame(
        {"segment_code": ["1", "2"], "segment_name": ["a", "b"],
         "service_count": [30, 10], "base_count": [100, 300]}
    )
    p = profile_table(counts)
    # 30/40 of users vs 100/400 of households: 75% / 25% -> index 300; 25% / 75% -> 33.3
    assert float(p.loc[0, "index"]) == 300
    assert format_profile(p).loc[1, "index"] == "33"
    assert format_profile(p).loc[2, "penetration_pct"] == "10.00"


def test_rounding_is_half_up_not_bankers():
    counts = pd.DataFrame(
        {"segment_code": ["1", "2"], "segment_name": ["", ""],
         "service_count": [1, 7], "base_count": [8, 8]}
    )
    # penetration 1/8 = 12.5% exactly -> '12.50'; 7/8 = 87.5 -> '87.50'; share 1/8 = 12.50
    f = format_profile(profile_table(counts))
    assert f.loc[0, "penetration_pct"] == "12.50"
    counts["base_count"] = [200, 200]
    # 1/200 = 0.5% exactly: rounds half up at 0 dp for the index (index of 1/8 vs 1/2 = 25)
    assert format_profile(profile_table(counts)).loc[0, "penetration_pct"] == "0.50"
    # the values above round the same half up and half to even; 1/800 = 0.125% tells them apart:
    # half up gives 0.13, half to even (bankers') 0.12
    counts["base_count"] = [800, 800]
    assert format_profile(profile_table(counts)).loc[0, "penetration_pct"] == "0.13"


def test_small_counts_suppressed_with_secondary():
    counts = pd.DataFrame(
        {"segment_code": list("ABCD"), "segment_name": list("abcd"),
         "service_count": [3, 40, 12, 0], "base_count": [100, 200, 300, 50]}
    )
    p = profile_table(counts)
    g = CountGraph()
    g.table(list("ABCD"), p["service_count"].iloc[:-1], "Total", p["service_count"].iloc[-1])
    hidden = Disclosure(g, Suppression(threshold=5)).hidden()
    flags = pd.Series([k in hidden for k in [*"ABCD", "Total"]])
    out = mask(format_profile(p), flags, "#", ["service_count"], DERIVED_COLUMNS)
    assert out.loc[0, "service_count"] == "#" and out.loc[0, "index"] == "#"
    # one hidden cell could be recovered from the total, so the next smallest (12) is hidden
    assert out.loc[2, "service_count"] == "#"
    assert out.loc[1, "service_count"] == "40" and out.loc[3, "service_count"] == "0"
    assert out.loc[4, "service_count"] == "55"
