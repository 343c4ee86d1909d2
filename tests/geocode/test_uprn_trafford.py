"""Real UPRNs on a real borough: Trafford Council's property list (UPRNs exported as '100012797623.0')
geocoded through a UPRN lookup in the ONSUD layout, over Trafford's real ONS geography."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from pyproj import Transformer

from pipeline import geocode, geography, ingest
from pipeline.config import load_config
from pipeline.warehouse import connect
from tests.conftest import SHARED, TRAFFORD
from tests.helpers import relocated_raw

pytestmark = pytest.mark.skipif(not TRAFFORD.exists(), reason="../shared/ons/trafford is absent")
ASSETS = TRAFFORD / "addresses" / "trafford_land_and_building_assets_2023-09.csv"


def _onsud_from_assets(path: Path) -> pd.DataFrame:
    """An ONSUD-layout file for the assets' UPRNs: their points in British National Grid and the OA
    holding each (ONSUD assigns UPRNs to OAs by point in polygon too)."""
    a = pd.read_csv(ASSETS, dtype=str).dropna(subset=["UPRN", "GeoX", "GeoY"])
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        a["GeoX"].astype(float).to_numpy(), a["GeoY"].astype(float).to_numpy())
    pcds = a["PostCode"].str.replace(" O", " 0").to_numpy()  # ONSUD has 'M32 0XZ'; the council typed an O
    pts = gpd.GeoDataFrame({"UPRN": a["UPRN"].str.removesuffix(".0").to_numpy(), "PCDS": pcds},
                           geometry=gpd.points_from_xy(e, n), crs="EPSG:27700")
    oas = gpd.read_file(TRAFFORD / "boundaries" / "oa21_bgc.geojson").to_crs("EPSG:27700")
    hit = gpd.sjoin(pts, oas[["area_code", "geometry"]], how="left", predicate="within")
    hit = hit[~hit.index.duplicated()]
    out = pd.DataFrame({"UPRN": hit["UPRN"], "GRIDGB1E": e.round(), "GRIDGB1N": n.round(),
                        "PCDS": hit["PCDS"], "LAD25CD": "E08000009", "OA21CD": hit["area_code"]})
    out = out.drop_duplicates("UPRN")
    out.to_csv(path, index=False)
    return out


def test_trafford_property_uprns_placed_through_onsud(tmp_path):
    onsud = _onsud_from_assets(tmp_path / "ONSUD_TRAFFORD.csv")
    raw = relocated_raw("config/examples/trafford.yaml", {"../shared": str(SHARED)})
    raw["geography"]["postcode_directory"].pop("reference_db")
    raw["geography"]["uprn_lookup"] = {"path": str(tmp_path / "ONSUD_*.csv")}
    raw["services"] = [{"name": "assets", "label": "Council property", "file": str(ASSETS),  # read only
                        "columns": {"record_id": "AssetCode", "uprn": "UPRN", "postcode": "PostCode"}}]
    raw["private_dir"], raw["outputs_dir"] = str(tmp_path / "data"), str(tmp_path / "out")
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(raw))
    cfg = load_config(tmp_path / "run.yaml")

    con = connect(cfg, fresh=True)
    geography.run(con, cfg)
    rows = ingest.run(con, cfg)["assets"].rows
    counts = geocode.run(con, cfg)["assets"]
    got = con.execute("""SELECT i.uprn AS uprn_raw, p.pc_key, g.match_level, g.oa21cd, g.uprn_source,
                                g.uprn_given, g.postcode_outcome
                         FROM geocode_assets g JOIN ingest_assets i USING (row_number)
                         JOIN geocode_pc_assets p USING (row_number) ORDER BY row_number""").df()
    con.close()

    assert rows == len(pd.read_csv(ASSETS)) == sum(counts.values())  # every row accounted for
    lookup = onsud.dropna(subset=["OA21CD"]).set_index("UPRN")
    given = got["uprn_raw"].fillna("").str.removesuffix(".0")
    known = got[given.isin(lookup.index)]
    ons = lookup.loc[given[known.index]]
    # a known UPRN is used unless its postcode contradicts a usable postcode on the record: the same
    # UPRN is listed under two postcodes in the council's file (74 Princess Road, M41 5SQ / M41 7FS)
    same_pc = known["pc_key"].to_numpy() == ons["PCDS"].str.replace(" ", "").to_numpy()
    unusable = known["postcode_outcome"].isin(["partial_postcode", "missing_postcode", "invalid_postcode",
                                               "postcode_not_found", "postcode_terminated"]).to_numpy()
    used = known[same_pc | unusable]
    assert (used["match_level"] == "uprn").all() and (used["uprn_source"] == "uprn_lookup").all()
    assert (used["oa21cd"].to_numpy() == ons.loc[same_pc | unusable, "OA21CD"].to_numpy()).all()
    refused = known[~(same_pc | unusable)]
    assert len(refused) > 0 and (refused["uprn_given"] == "contradicts_record").all()
    assert (refused["match_level"] != "uprn").all()
    assert counts["uprn"] == len(used) > 200
    # UPRNs the lookup lacks (outside the area, or without coordinates) are not used
    unknown = got[given.ne("") & ~given.isin(lookup.index)]
    assert len(unknown) > 0 and (unknown["uprn_given"] == "not_found").all()
