"""A postcode directory without OAs: OS Code-Point Open for Trafford, each postcode placed in an OA
by point in polygon, checked against the OAs of the ONS Postcode Directory extract."""

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from shapely.geometry import Point

from pipeline import geocode, geography, ingest
from pipeline.config import load_config
from pipeline.warehouse import connect
from tests.conftest import SHARED, TRAFFORD
from tests.helpers import relocated_raw

pytestmark = pytest.mark.skipif(not TRAFFORD.exists(), reason="../shared/ons/trafford is absent")
CODEPOINT = TRAFFORD / "postcodes" / "codepoint_open_2025_10_trafford.csv"
ONSPD = TRAFFORD / "postcodes" / "onspd_2025_02_trafford_with_oa21_DERIVED.csv"
EXTRA = [  # appended to a copy: a point in Westminster, and a postcode without coordinates
    "SW1A 1AA,10,529090,179645,E92000001,,,,E09000033,E05013806",
    "M15 9QZ,90,0,0,E92000001,,,,E08000009,",
]


@pytest.fixture(scope="module")
def placed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("codepoint")
    directory = tmp / "codepoint.csv"
    directory.write_text(CODEPOINT.read_text(encoding="utf-8").rstrip("\n") + "\n" + "\n".join(EXTRA) + "\n",
                         encoding="utf-8")
    onspd = pd.read_csv(ONSPD, dtype=str)
    terminated = onspd.loc[onspd["in_codepoint_open_2025_10"] == "False", "postcode"].iloc[0]
    live = pd.read_csv(CODEPOINT, dtype=str)["Postcode"].iloc[:3].tolist()
    extract = tmp / "svc.csv"
    extract.write_text("Ref,Postcode\n" + "".join(
        f"R{i},{p}\n" for i, p in enumerate([*live, "SW1A 1AA", "M15 9QZ", terminated])))
    raw = relocated_raw("config/examples/trafford.yaml", {"../shared": str(SHARED)})
    raw["geography"]["postcode_directory"] = {"path": str(directory), "columns": {
        "postcode": "Postcode", "oa": None, "ward": None, "lad": "Admin_district_code",
        "easting": "Eastings", "northing": "Northings", "terminated": None, "live_flag": None,
        "grid_quality": None, "user_type": None}}
    raw["services"] = [{"name": "svc", "label": "S", "file": str(extract),
                        "columns": {"record_id": "Ref", "postcode": "Postcode"}}]
    raw["private_dir"], raw["outputs_dir"] = str(tmp / "data"), str(tmp / "out")
    (tmp / "run.yaml").write_text(yaml.safe_dump(raw))
    cfg = load_config(tmp / "run.yaml")
    con = connect(cfg, fresh=True)
    geography.run(con, cfg)
    ingest.run(con, cfg)
    counts = geocode.run(con, cfg)["svc"]
    pcs = con.execute("SELECT pcds, oa21cd, easting, northing FROM ref_postcodes ORDER BY pc_key").df()
    outcomes = con.execute(
        "SELECT coalesce(match_level, reject_reason), oa21cd FROM geocode_svc ORDER BY row_number").fetchall()
    con.close()
    return pcs, outcomes, counts, onspd


def test_codepoint_postcodes_take_the_oa_of_their_point(placed):
    pcs, _, _, onspd = placed
    both = pcs.merge(onspd[["postcode", "oa21cd_pip"]], left_on="pcds", right_on="postcode")
    assert len(both) == 6472  # Code-Point postcodes also in the ONSPD extract
    agree = (both["oa21cd"] == both["oa21cd_pip"]).mean()
    assert agree > 0.99, agree  # the two products' points differ for a few postcodes (up to 3 km)
    # where both products give the same point, the OAs differ only for points on an OA edge
    pts = onspd[["postcode", "easting", "northing"]].astype({"easting": float, "northing": float})
    same = both.merge(pts, on="postcode", suffixes=("", "_onspd"))
    same = same[(same["easting"] == same["easting_onspd"]) & (same["northing"] == same["northing_onspd"])]
    differ = same[same["oa21cd"] != same["oa21cd_pip"]]
    assert len(same) > 5000 and len(differ) < 0.001 * len(same)
    oas = gpd.read_file(TRAFFORD / "boundaries" / "oa21_bgc.geojson").to_crs("EPSG:27700")
    oas = oas.set_index("area_code")
    for r in differ.itertuples():
        assert oas.loc[r.oa21cd, "geometry"].boundary.distance(Point(r.easting, r.northing)) < 1.0, r.pcds
    assert pcs.loc[pcs["pcds"] == "SW1A 1AA", "oa21cd"].isna().all()


def test_codepoint_outcomes(placed):
    pcs, outcomes, counts, _ = placed
    oa = dict(zip(pcs["pcds"], pcs["oa21cd"], strict=True))
    live = outcomes[:3]
    assert all(level == "postcode_live" and code is not None for level, code in live)
    assert [o[0] for o in outcomes[3:]] == ["out_of_area", "postcode_no_oa", "postcode_not_found"]
    assert sum(counts.values()) == len(outcomes) == 6
    assert {code for _, code in live} <= set(oa.values())
