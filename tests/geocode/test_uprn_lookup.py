"""UPRNs placed through a UPRN -> OA lookup in the ONSUD layout, with the gazetteer taking precedence."""

import duckdb
import pytest

from boundaries.loaders import GeographyError
from pipeline.address import uprn_lookup
from pipeline.config import UprnLookup
from pipeline.geocode import EMPTY_GAZETTEER, geocode_service
from pipeline.ingest import ingest_service
from pipeline.secret import keyed_hash
from tests.helpers import make_ref_postcodes, tiny_config

ONSUD = """UPRN,GRIDGB1E,GRIDGB1N,PCDS,CTY25CD,LAD25CD,WD25CD,OA21CD,LSOA21CD
100012345678,380000,390000,DM4 7QX,E99999999,E06009999,E05900001,E00900001,E01900001
100012345679,380100,390100,DM4 7QX,E99999999,E06009999,E05900002,E00900002,E01900001
100099999999,480000,490000,DN1 1AA,E99999999,E06009998,E05990001,E00990001,E01990001
"""

RECORDS = [  # (UPRN as exported, postcode, outcome, OA, uprn_given)
    ("100012345679.0", "DM4 7QX", "uprn", "E00900002", "used"),  # the UPRN's own OA, not the postcode's
    ("100012345678", "DM1 2AB", "uprn", "E00900001", "used"),  # a terminated postcode does not contradict
    ("100012345678", "DM4 7LU", "postcode_live", "E00900003", "contradicts_record"),
    ("555", "DM4 7QX", "postcode_live", "E00900001", "not_found"),
    ("100099999999", "", "missing_postcode", None, "not_found"),  # outside the area: not loaded
    ("", "DM4 7QX", "postcode_live", "E00900001", None),
]


@pytest.fixture()
def warehouse(tmp_path):
    onsud = tmp_path / "ONSUD_TEST_EE.csv"
    onsud.write_text(ONSUD, encoding="utf-8")
    extract = tmp_path / "svc.csv"
    extract.write_text("Ref,UPRN,Postcode\n" + "".join(
        f"R{i},{u},{p}\n" for i, (u, p, *_) in enumerate(RECORDS)), encoding="utf-8")
    cfg = tiny_config(tmp_path, [{"name": "svc", "label": "S", "file": str(extract),
                                  "columns": {"record_id": "Ref", "uprn": "UPRN", "postcode": "Postcode"}}])
    cfg.geography.uprn_lookup = UprnLookup(path=str(tmp_path / "ONSUD_*.csv"))
    con = duckdb.connect()
    make_ref_postcodes(con, [("DM4 7QX", "E00900001", "E05900001", True),
                             ("DM1 2AB", "E00900002", "E05900001", False),
                             ("DM4 7LU", "E00900003", "E05900002", True)])
    con.execute("""CREATE TABLE ref_oa AS SELECT * FROM (VALUES ('E00900001', 'E05900001'),
        ('E00900002', 'E05900002'), ('E00900003', 'E05900002')) t(oa21cd, ward_code)""")
    con.execute(EMPTY_GAZETTEER)
    yield cfg, con
    con.close()


def test_records_placed_by_their_uprn_through_onsud(warehouse):
    cfg, con = warehouse
    assert uprn_lookup.load(con, cfg) == {"uprn_lookup": 2}  # the out-of-area UPRN is left out
    ingest_service(con, cfg, cfg.services[0])
    counts = geocode_service(con, cfg.services[0])
    got = con.execute(
        """SELECT coalesce(match_level, reject_reason), oa21cd, uprn_given FROM geocode_svc
           ORDER BY row_number""").fetchall()
    assert got == [(o, oa, given) for _, _, o, oa, given in RECORDS]
    assert counts["uprn"] == 2
    placed = con.execute(
        "SELECT uprn, uprn_source, household_key, easting, ward_code FROM geocode_svc WHERE row_number = 1"
    ).fetchall()
    # the household key is the UPRN keyed by the installation's secret (pipeline.secret), not the UPRN
    assert placed == [("100012345679", "uprn_lookup", "uprn:" + keyed_hash("uprn|100012345679"), 380100.0,
                       "E05900002")]


def test_gazetteer_takes_precedence_over_the_lookup(warehouse):
    cfg, con = warehouse
    con.execute("""INSERT INTO ref_gazetteer (uprn, postcode, pc_key, x, y, oa21cd, ward_code)
                   VALUES ('100012345678', 'DM4 7QX', 'DM47QX', 380001, 390001, 'E00900001', 'E05900001')""")
    assert uprn_lookup.load(con, cfg) == {"gazetteer": 1, "uprn_lookup": 1}
    src = con.execute("SELECT uprn, source, x FROM ref_uprn ORDER BY uprn").fetchall()
    assert src == [("100012345678", "gazetteer", 380001.0), ("100012345679", "uprn_lookup", 380100.0)]


def test_lookup_missing_a_column_names_it(warehouse, tmp_path):
    cfg, con = warehouse
    bad = tmp_path / "onsud_bad.csv"
    bad.write_text(ONSUD.replace("OA21CD", "OA11CD"), encoding="utf-8")
    cfg.geography.uprn_lookup = UprnLookup(path=str(bad))
    with pytest.raises(GeographyError) as err:
        uprn_lookup.load(con, cfg)
    msg = str(err.value)
    assert "'OA21CD'" in msg and "OA11CD" in msg and "geography.uprn_lookup.columns" in msg


def test_uprn_rule_reads_the_forms_a_spreadsheet_gives():
    """The one UPRN rule (pipeline.address.uprn): Excel's scientific notation, a trailing '.0',
    leading zeros and spaces give the digits; a blank or a non-number gives no UPRN."""
    import pandas as pd

    from pipeline.address import uprn

    given = pd.Series(["1.00023336956E11", "100023336956", "100023336956.0", "000100023336956",
                       " 100023336956 ", "", None, "abc", "1,234"], index=range(10, 19))
    got = uprn.keys(given)
    assert got.tolist() == ["100023336956"] * 5 + [None] * 4 and got.index.tolist() == list(range(10, 19))


def test_gazetteer_saved_from_excel_matches_its_own_uprns(warehouse, tmp_path):
    """A gazetteer whose UPRN column Excel saved in scientific notation ('1.00012345678E11') keys
    its UPRNs by the same rule as the records and ONSUD, so a record's '100012345678' matches it
    (the gazetteer's own path once left the Excel form as it was, and nothing matched)."""
    import geopandas as gpd
    from shapely.geometry import box

    from boundaries.loaders import BNG
    from pipeline.address import gazetteer
    from pipeline.config import Gazetteer

    cfg, con = warehouse
    path = tmp_path / "llpg.csv"
    path.write_text("UPRN,SAON,PAON,STREET,LOCALITY,TOWN,POSTCODE,X,Y\n"
                    "1.00012345678E11,,5,HIGH STREET,,DEMOTON,DM4 7QX,380000,390000\n"
                    "00100012345679,,7,HIGH STREET,,DEMOTON,DM4 7QX,380100,390100\n", encoding="utf-8")
    cfg.geography.gazetteer = Gazetteer(path=path)
    oas = gpd.GeoDataFrame({"code": ["E00900001", "E00900002"]},
                           geometry=[box(379950, 389950, 380050, 390050),
                                     box(380050, 390050, 380150, 390150)],
                           crs=BNG)
    assert gazetteer.load(con, cfg, oas) == 2
    assert con.execute("SELECT uprn FROM ref_gazetteer ORDER BY 1").fetchall() == [
        ("100012345678",), ("100012345679",)]
    assert uprn_lookup.load(con, cfg) == {"gazetteer": 2}  # ONSUD adds nothing the gazetteer has
    ingest_service(con, cfg, cfg.services[0])
    geocode_service(con, cfg.services[0])
    got = con.execute("SELECT match_level, uprn_source FROM geocode_svc WHERE row_number = 2").fetchall()
    assert got == [("uprn", "gazetteer")]
