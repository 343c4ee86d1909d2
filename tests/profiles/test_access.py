"""Access to service points (pipeline/profiles/access.py): distances and centres by hand, bands that
add up, a deterministic candidate ranking, reading points files, and suppression of the access
counts in the demo run."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.config import CentroidFile, PointsFile, Suppression, UserError
from pipeline.profiles import access
from pipeline.profiles.service import ServiceProfile, _level_views
from pipeline.publish.display import display
from pipeline.publish.stage import _flagged
from pipeline.publish.suppression import Disclosure
from tests.publish.test_disclosure import _recoverable, _system, _tables

NAMES = {"1": "One", "2": "Two"}


def _geo(rows):
    """A small area frame: (oa, ward, segment, households)."""
    g = pd.DataFrame(rows, columns=["oa21cd", "ward_code", "segment", "households"])
    g["ward_name"] = "Ward " + g["ward_code"]
    g["base"] = g["households"]
    return g


GEO = _geo([("A", "W1", "1", 100), ("B", "W1", "2", 120), ("C", "W2", "1", 90), ("D", "W2", "2", 110),
            ("E", "W2", "2", 130)])
CENTRES = pd.DataFrame({"oa21cd": list("ABCDE"), "x": [0.0, 300.0, 4000.0, 1500.0, 9000.0],
                        "y": [0.0, 400.0, 3000.0, 0.0, 0.0], "centre": "test"})
POINTS = pd.DataFrame({"name": ["Zeta Clinic", "Alpha Clinic"], "type": "clinic",
                       "x": [0.0, 3000.0], "y": [0.0, 0.0]})
USERS = pd.Series({"A": 30, "B": 3, "C": 12, "D": 20, "E": 9})


def _frames(**kw):
    args = dict(geo=GEO, users=USERS, seg_names=NAMES, centres=CENTRES, points=POINTS, edges=[1.0, 2.0, 5.0],
                within_km=2.0, targets=["2"], candidates=None, top=20)
    return access.access_frames(**(args | kw))


def test_distances_and_nearest_points_by_hand():
    oa = _frames()["access_oa"].set_index("oa21cd")
    # A at the Zeta clinic; B: sqrt(300^2 + 400^2) = 500 m from Zeta (Alpha is 2,731 m away)
    # C: to Zeta sqrt(4000^2 + 3000^2) = 5,000 m, to Alpha sqrt(1000^2 + 3000^2) = 3,162.3 m
    # D: 1,500 m from each: a tie, which goes to the alphabetically first name (Alpha)
    # E: 6,000 m from Alpha
    expect = {"A": (0.0, "Zeta Clinic"), "B": (0.5, "Zeta Clinic"),
              "C": (math.hypot(1000, 3000) / 1000, "Alpha Clinic"), "D": (1.5, "Alpha Clinic"),
              "E": (6.0, "Alpha Clinic")}
    for code, (km, name) in expect.items():
        assert oa.at[code, "distance_km"] == pytest.approx(round(km, 2)), code
        assert oa.at[code, "nearest_point"] == name, code
    assert list(oa["band"]) == ["under 1 km", "under 1 km", "2-5 km", "1-2 km", "5 km and over"]
    # the band's lower edge is inclusive: exactly 1 km is in 1-2 km, exactly 5 km in 5 km and over
    assert list(access.band_of(np.array([0.999, 1.0, 4.999, 5.0]), [1, 2, 5])) == [0, 1, 2, 3]


def test_bands_and_band_segment_cells_add_up_to_the_base_and_users():
    f = _frames()
    band = f["access_band"]
    body = band.iloc[:-1]
    assert list(body["segment_code"]) == access.band_labels([1, 2, 5])
    assert body["base_count"].sum() == band["base_count"].iloc[-1] == GEO["households"].sum()
    assert body["service_count"].sum() == band["service_count"].iloc[-1] == USERS.sum()
    assert list(body["service_count"]) == [33, 20, 12, 9]  # A+B, D, C, E
    cells = f["access_band_segment"].iloc[:-1]
    for b, part in cells.groupby("band"):
        row = body[body["segment_code"] == b].iloc[0]
        assert part["service_count"].sum() == row["service_count"]
        assert part["base_count"].sum() == row["base_count"]
    for s, part in cells.groupby("segment"):
        assert part["base_count"].sum() == GEO.loc[GEO["segment"] == s, "households"].sum()
    # the catchments: each OA once, households summing to the area's
    pts = f["access_points"].set_index("name")
    assert pts["oas"].sum() == 5 and pts["households"].sum() == GEO["households"].sum()
    assert pts.at["Zeta Clinic", "households"] == 220


def test_relations_are_registered_in_the_count_graph():
    b = ServiceProfile()
    _level_views(b, GEO, USERS, [("segment", "segment")], {"segment": NAMES})
    access.register(b, _frames())
    g = b.graph
    bands = [("access_band", lab) for lab in access.band_labels([1, 2, 5])]
    assert (("total",), bands) in g.relations
    for total, parts in g.relations:
        assert g.counts[total] == sum(g.counts[p] for p in parts)
    assert sum(1 for t, _ in g.relations if t[0] == "access_band") == 4
    assert sum(1 for t, ps in g.relations if t[0] == "segment" and ps[0][0] == "access_bs") == 2


def test_candidate_gain_by_hand_and_ranking_deterministic():
    # target segment 2 beyond 2 km: only E (130 households, at (9000, 0))
    cands = pd.DataFrame({"name": ["North", "Beta", "Alpha", "Far"], "type": "venue",
                          "x": [9000.0, 8000.0, 10000.0, 20000.0], "y": [1500.0, 0.0, 0.0, 0.0]})
    f = _frames(candidates=cands)
    t = f["access_targets"]
    assert list(t["oa21cd"]) == ["E"] and int(t["households"].iloc[0]) == 130
    ranked = f["access_candidates"]
    # North, Beta and Alpha all bring E within 2 km (130 households each): ties by name; Far none
    assert list(ranked["name"]) == ["Alpha", "Beta", "North"]
    assert list(ranked["rank"]) == [1, 2, 3] and set(ranked["target_households"]) == {130}
    again = _frames(candidates=cands.iloc[::-1].reset_index(drop=True))["access_candidates"]
    pd.testing.assert_frame_equal(ranked, again)
    gain, oas = access.candidate_gains(np.array([[0.0, 0.0], [0.0, 1000.0], [5000.0, 0.0]]),
                                       np.array([10.0, 20.0, 40.0]),
                                       np.array([[0.0, 500.0], [5000.0, 0.0]]), 1000.0)
    assert list(gain) == [30.0, 40.0] and list(oas) == [2, 1]


def test_random_ranking_is_reproducible_and_sorted():
    rng = np.random.default_rng(7)
    n = 400
    geo = _geo([(f"O{i:04d}", f"W{i % 9}", str(1 + i % 2), int(rng.integers(80, 200))) for i in range(n)])
    centres = pd.DataFrame({"oa21cd": geo["oa21cd"], "x": rng.uniform(0, 20000, n),
                            "y": rng.uniform(0, 20000, n)})
    pts = pd.DataFrame({"name": ["P1", "P2", "P3"], "type": "", "x": [2000.0, 10000.0, 15000.0],
                        "y": [2000.0, 9000.0, 3000.0]})
    users = pd.Series(rng.integers(0, 30, n), index=geo["oa21cd"])
    one = _frames(geo=geo, centres=centres, points=pts, users=users)["access_candidates"]
    two = _frames(geo=geo, centres=centres.sample(frac=1, random_state=1), points=pts,
                  users=users)["access_candidates"]
    pd.testing.assert_frame_equal(one, two)
    keys = list(zip(-one["target_households"], one["name"], strict=True))
    assert keys == sorted(keys) and len(one) == 20


def _con(gazetteer: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""CREATE TABLE ref_postcodes AS SELECT * FROM (VALUES
        ('AA11AA', 'AA1 1AA', 'A', 1000.0, 2000.0, true, false, false),
        ('AA11AB', 'AA1 1AB', 'A', 1300.0, 2600.0, true, false, false),
        ('AA11AD', 'AA1 1AD', 'A', 9000.0, 9000.0, false, false, false),
        ('AA11AE', 'AA1 1AE', 'A', 9000.0, 9000.0, true, false, true),
        ('AA11AF', 'AA1 1AF', 'B', 5000.0, 5000.0, true, false, false))
        t(pc_key, pcds, oa21cd, easting, northing, is_live, non_geographic, large_user)""")
    con.execute("CREATE TABLE ref_oa AS SELECT * FROM (VALUES ('A', 1.0, 1.0), ('B', 2.0, 2.0), "
                "('C', 7.0, 8.0)) t(oa21cd, x, y)")
    if gazetteer:  # 1 address at AA1 1AA, 2 at AA1 1AB
        con.execute("CREATE TABLE ref_gazetteer AS SELECT * FROM (VALUES ('AA11AA'), ('AA11AB'), "
                    "('AA11AB')) t(pc_key)")
    return con




def test_oa_centres_household_weighted_then_centroids_first(tmp_path):
    # A: (1 x (1000, 2000) + 2 x (1300, 2600)) / 3 = (1200, 2400); terminated and large-user
    # postcodes left out; C has no postcode: the point in its polygon
    c = access.oa_centres(_con(True), None, ["A", "B", "C"]).set_index("oa21cd")
    assert (c.at["A", "x"], c.at["A", "y"]) == pytest.approx((1200.0, 2400.0))
    # B's postcode has no address in the gazetteer: its postcodes alike
    assert (c.at["B", "x"], c.at["C", "x"], c.at["C", "y"]) == (5000.0, 7.0, 8.0)
    assert list(c["centre"]) == ["household-weighted postcodes", "postcodes (equal weights)",
                                 "point in polygon"]
    # no gazetteer: every postcode alike, (1150, 2300)
    c = access.oa_centres(_con(False), None, ["A"]).set_index("oa21cd")
    assert (c.at["A", "x"], c.at["A", "y"]) == pytest.approx((1150.0, 2300.0))
    pwc = tmp_path / "pwc.csv"
    pwc.write_text("OA21CD,x,y\nB,4321.5,1234.5\n", encoding="utf-8")
    c = access.oa_centres(_con(True), CentroidFile(path=pwc), ["A", "B"]).set_index("oa21cd")
    assert (c.at["B", "x"], c.at["B", "y"], c.at["B", "centre"]) == (4321.5, 1234.5,
                                                                     "population-weighted centroid")
    assert c.at["A", "x"] == pytest.approx(1200.0)


def test_points_placed_by_grid_reference_or_postcode(tmp_path):
    f = tmp_path / "points.csv"
    f.write_text("name,type,postcode,easting,northing\nHub,library,,100,200\nClinic,clinic,aa1 1ab,,\n"
                 "Hub,library,,300,400\nShop,shop,AA1 1AA,,\n", encoding="utf-8")
    pts = access.read_points(_con(False), PointsFile(path=f), types=["library", "clinic"])
    assert list(pts["name"]) == ["Hub", "Clinic", "Hub (2)"]
    assert list(pts["x"]) == [100.0, 1300.0, 300.0] and list(pts["y"]) == [200.0, 2600.0, 400.0]
    f.write_text("name,postcode\nNowhere,ZZ9 9ZZ\n", encoding="utf-8")
    with pytest.raises(UserError, match="could not be placed"):
        access.read_points(_con(False), PointsFile(path=f))


def test_suppression_of_a_small_band_holds():
    users = pd.Series({"A": 30, "B": 3, "C": 2, "D": 20, "E": 1})  # bands 33, 20, 2, 1
    b = ServiceProfile()
    _level_views(b, GEO, users, [("segment", "segment")], {"segment": NAMES})
    access.register(b, _frames(users=users))
    rule = Suppression()
    d = Disclosure(b.graph, rule)
    hidden = d.hidden()
    assert ("access_band", "2-5 km") in hidden and ("access_band", "5 km and over") in hidden
    assert not d.pinned(hidden)
    for total, parts in b.graph.relations:
        assert sum(k in hidden for k in [total, *parts]) != 1
    flagged = _flagged(b, hidden)
    for view in ("access_band", "access_band_segment"):
        shown = display(view, flagged[view], rule)
        counts = pd.to_numeric(shown["service_count"].replace(rule.symbol, np.nan)).dropna()
        assert not ((counts > 0) & (counts < 5)).any(), view
        hid = shown["service_count"] == rule.symbol
        assert hid.any()
        for col in ("penetration_pct", "index", "service_pct", "penetration_lower", "shortfall"):
            assert shown.loc[hid, col].isin([rule.symbol, ""]).all(), (view, col)


def test_demo_access_views_add_up_and_publish_safely(demo_run):
    cfg, result, raw, _ = demo_run
    with_points = [s.name for s in cfg.services if s.access is not None]
    assert {"stop_smoking", "library"} <= set(with_points)
    assert all((raw / "points" / f).exists() for f in ("stop_smoking_clinics.csv", "libraries.csv"))
    tables = _tables(cfg)
    seg = pd.read_csv(cfg.outputs / "segments" / "segments_oa.csv", dtype=str)
    nested = {}
    for parent, child in (("segment", "group"), ("group", "subgroup")):
        if {parent, child} <= set(seg.columns):
            nested[(parent, child)] = seg[[parent, child]].drop_duplicates().groupby(parent)[child].apply(
                list).to_dict()
    sym = cfg.suppression.symbol
    for name in with_points:
        prof = result.profiles[name]
        band = prof["access_band"]
        assert band["base_count"].iloc[:-1].sum() == band["base_count"].iloc[-1] == \
            prof["segment"]["base_count"].iloc[-1]
        assert band["service_count"].iloc[:-1].sum() == prof["segment"]["service_count"].iloc[-1]
        oa = prof["access_oa"]
        assert set(oa["centre"]) == {"population-weighted centroid"}
        assert (oa["distance_km"] >= 0).all()
        assert oa["nearest_point"].isin(prof["access_points"]["name"]).all()
        views = tables[name]
        for view in ("access_band", "access_band_segment"):
            t = views[view]
            shown = pd.to_numeric(t.loc[t["service_count"] != sym, "service_count"])
            assert not ((shown > 0) & (shown < 5)).any(), (name, view)
        # the band, band x segment, segment and ward tables together pin no hidden count down
        val, eqs = _system(views, nested)

        def cell(key, shown, val=val):
            val[key] = None if shown == sym else int(shown)
            return key

        bt = views["access_band"]
        bkeys = [cell(("ab", c), v) for c, v in zip(bt["segment_code"], bt["service_count"], strict=True)
                 if c != "Total"]
        eqs.append((("total",), bkeys))
        cells = views["access_band_segment"]
        cells = cells[cells["segment_code"] != "Total"]
        for r in cells.itertuples():
            cell(("abs", r.band, r.segment), r.service_count)
        for b, part in cells.groupby("band"):
            eqs.append((("ab", b), [("abs", b, s) for s in part["segment"]]))
        for s, part in cells.groupby("segment"):
            eqs.append((("segment", s), [("abs", b, s) for b in part["band"]]))
        assert not _recoverable(val, eqs), name
    # the report and the map carry the access views
    html = (cfg.outputs / "library" / "library_report.html").read_text(encoding="utf-8")
    assert "Where a new point would reach most of the under-served" in html
    assert "Service points" in (cfg.outputs / "library" / "library_ward_map.html").read_text(encoding="utf-8")
    ranked = views["access_candidates"]
    assert list(ranked["rank"].astype(int)) == list(range(1, len(ranked) + 1)) and len(ranked)
