"""The Spark reference cache (pipeline.spark.reference), its DuckDB side: written once per
fingerprint, partitioned by postcode area, private, rebuilt (never read) when stale, and never
written over a folder the pipeline did not make. No SparkSession: the Spark side is read in
test_spark_same_answer.py (the one file sharing the session)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import duckdb
import pytest

from pipeline.address import postcode
from pipeline.spark import reference


def _directory(con) -> str:
    con.execute("CREATE TABLE d AS SELECT * FROM (VALUES ('M332UX', 'M33 2UX'), ('WA145AB', 'WA14 5AB'), "
                "('GIR0AA', 'GIR 0AA'), ('M11AA', 'M1 1AA')) t(pc_key, pcds)")
    return reference.table_sql("d")


def test_pc_area_is_the_letters_of_the_outward_code():
    con = duckdb.connect()
    postcode.install(con)
    got = con.execute("SELECT k, pc_area(k) FROM (VALUES ('M332UX'), ('WA145AB'), ('EC1A1BB'), ('GIR0AA'), "
                      "(''), (NULL)) t(k)").fetchall()
    assert got == [("M332UX", "M"), ("WA145AB", "WA"), ("EC1A1BB", "EC"), ("GIR0AA", None), ("", None),
                   (None, None)]


def test_written_once_partitioned_by_area_private(tmp_path):
    con = duckdb.connect()
    query = _directory(con)
    where = tmp_path / "cache"
    path, written = reference.ensure(con, where, "postcodes", '{"release": 1}', query)
    assert written and path.parent == where and (where / reference.MARKER).is_file()
    assert sorted(p.name for p in path.iterdir() if p.is_dir()) == [
        "pc_area=M", "pc_area=WA", "pc_area=__HIVE_DEFAULT_PARTITION__"]
    assert (path / reference.FINGERPRINT_FILE).read_text() == '{"release": 1}'
    for p in [where, *where.rglob("*")]:
        if p.name != ".lock":
            assert os.stat(p).st_mode & 0o777 == (0o700 if p.is_dir() else 0o600), p
    rows = con.execute(f"SELECT pc_key, pcds, pc_area FROM read_parquet('{path}/*/*.parquet', "
                       "hive_partitioning = true) ORDER BY pc_key").fetchall()
    assert rows == [("GIR0AA", "GIR 0AA", None), ("M11AA", "M1 1AA", "M"), ("M332UX", "M33 2UX", "M"),
                    ("WA145AB", "WA14 5AB", "WA")]
    # a second run reads it: nothing written
    stamp = (path / reference.FINGERPRINT_FILE).stat().st_mtime_ns
    assert reference.ensure(con, where, "postcodes", '{"release": 1}', "SELECT error('not read')") == (
        path, False)
    assert (path / reference.FINGERPRINT_FILE).stat().st_mtime_ns == stamp


def test_a_stale_dataset_is_rebuilt_and_removed(tmp_path):
    con = duckdb.connect()
    query = _directory(con)
    where = tmp_path / "cache"
    old, _ = reference.ensure(con, where, "postcodes", '{"release": 1}', query)
    new, written = reference.ensure(con, where, "postcodes", '{"release": 2}', query)
    assert written and new != old and not old.exists()
    assert reference.is_current(new, '{"release": 2}') and not reference.is_current(new, '{"release": 1}')
    # an unfinished dataset (no fingerprint file: a killed build) is not current, and is rewritten
    (new / reference.FINGERPRINT_FILE).unlink()
    assert reference.ensure(con, where, "postcodes", '{"release": 2}', query) == (new, True)


def test_a_folder_not_made_by_the_pipeline_is_refused(tmp_path):
    con = duckdb.connect()
    where = tmp_path / "theirs"
    where.mkdir()
    (where / "notes.txt").write_text("keep")
    with pytest.raises(reference.ReferenceCacheError, match="not a reference cache the pipeline made"):
        reference.ensure(con, where, "postcodes", "{}", _directory(con))
    assert [p.name for p in where.iterdir()] == ["notes.txt"]
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "cache")
    assert "is a link" in reference.refusal(link)


def test_where_the_cache_lives(tmp_path):
    from pipeline.config.engine import Spark

    cfg = SimpleNamespace(engine="spark", spark=None, private=tmp_path / "data", outputs=tmp_path / "outputs")
    assert reference.folder(cfg) == tmp_path / "data" / "spark" / "reference"
    assert reference.problems(cfg) == []
    shared = tmp_path / "reference" / "spark"
    assert reference.folder(SimpleNamespace(**vars(cfg) | {"spark": Spark(reference_cache=shared)})) == shared
    in_outputs = SimpleNamespace(**vars(cfg) | {"spark": Spark(reference_cache=tmp_path / "outputs" / "c")})
    assert ["inside outputs_dir" in p for p in reference.problems(in_outputs)] == [True]
    assert reference.problems(SimpleNamespace(**vars(in_outputs) | {"engine": "duckdb"})) == []


ONSUD = """UPRN,GRIDGB1E,GRIDGB1N,PCDS,OA21CD
100012345678,380000,390000,DM4 7QX,E00900001
100012345679.0,380100,390100,dm4  7qx,E00900002
100099999999,480000,490000,DN1 1AA,E00990001
,1,2,GIR 0AA,E00900001
"""


def _lookup_config(tmp_path, text=ONSUD):
    from pipeline.config import UprnLookup
    from tests.helpers import tiny_config

    (tmp_path / "ONSUD_TEST_EE.csv").write_text(text, encoding="utf-8")
    cfg = tiny_config(tmp_path, [], engine="spark")
    cfg.geography.uprn_lookup = UprnLookup(path=str(tmp_path / "ONSUD_*.csv"))
    return cfg


def test_the_uprn_lookup_is_cached_keyed_and_national(tmp_path):
    cfg = _lookup_config(tmp_path)
    con = duckdb.connect()
    path, written = reference.uprns(con, cfg)
    assert written and path.parent == reference.folder(cfg) and path.name.startswith("uprn-")
    rows = con.execute(f"SELECT uprn, postcode, pc_key, oa21cd, x, pc_area FROM read_parquet("
                       f"'{path}/*/*.parquet', hive_partitioning = true) ORDER BY uprn NULLS LAST").fetchall()
    assert rows == [("100012345678", "DM4 7QX", "DM47QX", "E00900001", 380000.0, "DM"),
                    ("100012345679", "DM4 7QX", "DM47QX", "E00900002", 380100.0, "DM"),  # the UPRN rule
                    ("100099999999", "DN1 1AA", "DN11AA", "E00990001", 480000.0, "DN"),  # every area's
                    (None, "GIR 0AA", "GIR0AA", "E00900001", 1.0, None)]
    assert reference.uprns(con, cfg) == (path, False)
    # a changed file is another release: rebuilt, the stale dataset removed
    (tmp_path / "ONSUD_TEST_EE.csv").write_text(ONSUD + "100000000001,1,2,DM4 7QX,E00900001\n")
    new, written = reference.uprns(con, cfg)
    assert written and new != path and not path.exists()


def test_a_uprn_listed_twice_is_refused_and_nothing_kept(tmp_path):
    from pipeline.errors import GeographyError

    cfg = _lookup_config(tmp_path, ONSUD + "100012345678,1,2,DM4 7QX,E00900003\n")
    with pytest.raises(GeographyError, match=r"listed more than once: \['100012345678'\]"):
        reference.uprns(duckdb.connect(), cfg)
    assert [p.name for p in reference.folder(cfg).iterdir() if p.is_dir()] == []


def test_the_duckdb_path_keeps_the_area_rows_as_before(tmp_path):
    """uprn_lookup.load (the DuckDB path) reads the same keyed rows, the area's only."""
    from pipeline.address import uprn_lookup
    from pipeline.geocode import EMPTY_GAZETTEER

    cfg = _lookup_config(tmp_path)
    con = duckdb.connect()
    con.execute("CREATE TABLE ref_oa AS SELECT * FROM (VALUES ('E00900001', 'W1'), ('E00900002', 'W2')) "
                "t(oa21cd, ward_code)")
    con.execute(EMPTY_GAZETTEER)
    assert uprn_lookup.load(con, cfg) == {"uprn_lookup": 2}
    assert uprn_lookup.load(con, cfg, lookup=False) == {}
