"""One index (pipeline.profiles.stats.index, 100 * O / E = users % / base % x 100): the segment
profile's exact index, the channel index and the equality index are the same number for the same
counts."""

from fractions import Fraction

import pandas as pd
import pytest

from pipeline.profiles import stats
from pipeline.profiles.channels import channel_profile
from pipeline.profiles.equality import Group, profile_frame
from pipeline.profiles.table import profile_table

USERS = [37, 120, 9, 64]
BASE = [400, 1800, 150, 2000]  # every equality group expects at least 5 users


def _exact():
    counts = pd.DataFrame({"segment_code": ["1", "2", "3", "4"], "segment_name": "",
                           "service_count": USERS, "base_count": BASE})
    return profile_table(counts).set_index("segment_code")["index"]


def test_profile_index_is_stats_index_exactly():
    exact = _exact()
    S, B = sum(USERS), sum(BASE)
    for code, u, b in zip("1234", USERS, BASE, strict=True):
        assert exact[code] == stats.index(u, Fraction(S * b, B)) == Fraction(100 * u * B, S * b)
    assert stats.index(5, 0) is None and stats.index(5, Fraction(0)) is None


def test_channel_and_equality_index_equal_the_profile_index():
    """A channel's index of a segment is the profile of the channel's contacts against the
    segment's contacts; an equality group's is the profile of its users against its census
    population: the same counts give the same index as profile_table's."""
    exact = _exact()
    # channel 'web' holds USERS of each segment; 'telephone' the rest of BASE
    cells = pd.DataFrame([(s, ch, n) for s, u, b in zip("1234", USERS, BASE, strict=True)
                          for ch, n in (("web", u), ("telephone", b - u))],
                         columns=["segment", "channel", "users"])
    ch = channel_profile(cells, {})
    web = ch[(ch["channel"] == "web") & (ch["segment_code"] != "Total")].set_index("segment_code")["index"]
    eq, _ = profile_frame("sex", [Group(c, u, b) for c, u, b in zip("1234", USERS, BASE, strict=True)], {},
                          sum(USERS), unknown=0)
    eq_index = eq[eq["segment_code"].isin(list("1234"))].set_index("segment_code")["index"]
    for code in "1234":
        assert web[code] == pytest.approx(float(exact[code]), rel=1e-12)
        assert eq_index[code] == pytest.approx(float(exact[code]), rel=1e-12)
