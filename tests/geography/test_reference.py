"""The reusable postcode reference: built once, reused while current, rebuilt when the file changes;
the ONSPD flags for non-geographic and large-user postcodes come through."""

import os

import duckdb

from boundaries.reference import attach_reference, ensure_reference, is_current
from pipeline.config import PostcodeDirectory

HEADER = "pcds,oa21cd,osward,oslaua,oseast1m,osnrth1m,doterm,osgrdind,usertype"
ROWS = [
    "DM4 7QX,E00900001,E05900001,E06009999,380000,390000,,1,0",
    "DM1 2AB,E00900002,E05900001,E06009999,380100,390100,201901,1,0",
    "DM9 1ZX,,,E06009999,,,,9,0",  # a PO box: no grid reference
    "DM4 7LU,E00900001,E05900001,E06009999,380010,390010,,1,1",  # a large user
]


def _write(path, rows):
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")


def test_reference_built_once_and_rebuilt_when_the_directory_changes(tmp_path):
    csv, db = tmp_path / "onspd.csv", tmp_path / "ref" / "onspd.duckdb"
    _write(csv, ROWS)
    spec = PostcodeDirectory(path=csv, reference_db=db)
    assert not is_current(spec, db)
    assert ensure_reference(spec, db) is True
    assert is_current(spec, db)
    assert ensure_reference(spec, db) is False  # current: reused, not parsed again

    con = duckdb.connect()
    attach_reference(con, db)
    got = con.execute(
        "SELECT pc_key, is_live, non_geographic, large_user FROM ref_postcodes ORDER BY pc_key"
    ).fetchall()
    con.close()
    assert got == [("DM12AB", False, False, False), ("DM47LU", True, False, True),
                   ("DM47QX", True, False, False), ("DM91ZX", True, True, False)]

    _write(csv, ROWS + ["DM4 7QY,E00900001,E05900001,E06009999,380020,390020,,1,0"])
    os.utime(csv, ns=(1, 1))  # a new file: size and time differ
    assert not is_current(spec, db)
    assert ensure_reference(spec, db) is True
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM postcodes").fetchall()[0][0] == 5
    con.close()


def test_reference_rebuilt_when_the_columns_change(tmp_path):
    csv, db = tmp_path / "onspd.csv", tmp_path / "onspd.duckdb"
    _write(csv, ROWS)
    ensure_reference(PostcodeDirectory(path=csv, reference_db=db), db)
    other = PostcodeDirectory.model_validate(
        {"path": csv, "reference_db": db, "columns": {"user_type": None}})
    assert not is_current(other, db)
    ensure_reference(other, db)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FILTER (large_user) FROM postcodes").fetchall()[0][0] == 0
    con.close()


def test_directory_without_oas_placed_by_point_through_the_reference(tmp_path):
    """Code-Point Open has no OA column: each run places the reference's points in its own OAs."""
    import geopandas as gpd
    from shapely.geometry import box

    from pipeline.geography import load_postcodes

    csv = tmp_path / "codepoint.csv"
    csv.write_text("Postcode,Eastings,Northings\nDM4 7QX,380050,390050\nDN1 1AA,480000,490000\n"
                   "DM9 9ZZ,0,0\n", encoding="utf-8")
    spec = PostcodeDirectory.model_validate({"path": csv, "reference_db": tmp_path / "cp.duckdb", "columns": {
        "postcode": "Postcode", "oa": None, "ward": None, "lad": None, "easting": "Eastings",
        "northing": "Northings", "terminated": None, "grid_quality": None, "user_type": None}})
    oas = gpd.GeoDataFrame({"code": ["E00900001"]}, geometry=[box(380000, 390000, 380100, 390100)],
                           crs="EPSG:27700")
    con = duckdb.connect()
    load_postcodes(con, spec, oas)
    got = con.execute("SELECT pc_key, oa21cd, easting FROM ref_postcodes ORDER BY pc_key").fetchall()
    con.close()
    assert got == [("DM47QX", "E00900001", 380050.0), ("DM99ZZ", None, None), ("DN11AA", None, 480000.0)]
