"""The area cache (`pipeline.geography`): a warm run reuses the OA and ward polygons, the OA->ward
lookup and the census households without reading their files, and gives the same tables; a changed
file, setting or loader rebuilds it; nothing is written where the run does not own."""

import os
import shutil

import duckdb
import pandas as pd
import pytest
import yaml
from geopandas.testing import assert_geodataframe_equal

from boundaries import loaders
from pipeline import geography
from pipeline.config import load_config
from pipeline.warehouse import connect
from segments import census
from tests.conftest import SHARED, TRAFFORD
from tests.helpers import relocated_raw

pytestmark = pytest.mark.skipif(not TRAFFORD.exists(), reason="../shared/ons/trafford is absent")
TS041 = "census2021-ts041-oa-trafford.csv"


@pytest.fixture
def area(tmp_path):
    """A Trafford config whose boundary, lookup and households files are copies in `tmp_path`
    (so a test may change them), with a private folder of its own."""
    files = tmp_path / "files"
    (files / "census").mkdir(parents=True)
    for name in ("oa21_bgc.geojson", "wards_2023_bgc.geojson"):
        shutil.copy(TRAFFORD / "boundaries" / name, files / name)
    shutil.copy(TRAFFORD / "lookups" / "oa21_to_ward_bestfit_DERIVED.csv", files / "lookup.csv")
    shutil.copy(TRAFFORD / "census2021" / TS041, files / "census" / TS041)
    raw = relocated_raw("config/examples/trafford.yaml", {"../shared": str(SHARED)})
    g = raw["geography"]
    g["oa_boundaries"]["path"] = str(files / "oa21_bgc.geojson")
    g["wards"]["path"] = str(files / "wards_2023_bgc.geojson")
    g["oa_to_ward"]["path"] = str(files / "lookup.csv")
    g["postcode_directory"].pop("reference_db")  # the borough's directory, loaded into the warehouse
    raw["census"]["dir"] = str(files / "census")
    (files / "svc.csv").write_text("Ref,Postcode\nR1,M33 2UX\n", encoding="utf-8")
    raw["services"] = [{"name": "svc", "label": "S", "file": str(files / "svc.csv"),
                        "columns": {"record_id": "Ref", "postcode": "Postcode"}}]
    raw["private_dir"], raw["outputs_dir"] = str(tmp_path / "data"), str(tmp_path / "out")
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(raw))
    geography._MEMO.clear()  # each test starts as a new process would
    yield load_config(tmp_path / "run.yaml"), files
    geography._MEMO.clear()


@pytest.fixture
def calls(monkeypatch):
    """Count the calls of the loaders that parse the area's files."""
    counts = {"polygons": 0, "lookup": 0, "households": 0}

    def spy(name, real):
        def wrapped(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(geography, "load_polygons", spy("polygons", loaders.load_polygons))
    monkeypatch.setattr(geography, "load_oa_ward_lookup", spy("lookup", loaders.load_oa_ward_lookup))
    monkeypatch.setattr(geography, "census_households", spy("households", census.households))
    return counts


def _geography_stage(cfg) -> dict[str, pd.DataFrame]:
    """Run the geography stage into a fresh warehouse, as a run does; return its area tables."""
    con = connect(cfg, fresh=True)
    try:
        geography.run(con, cfg)
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").df() for t in ("ref_oa", "ref_wards")}
    finally:
        con.close()


def _new_process() -> None:
    geography._MEMO.clear()


def test_a_warm_run_reads_no_area_file_and_gives_identical_tables(area, calls):
    cfg, _ = area
    cold = _geography_stage(cfg)
    assert calls == {"polygons": 2, "lookup": 1, "households": 1}
    assert len(cold["ref_oa"]) == 738 and cold["ref_oa"]["households"].sum() == 96271
    cache = cfg.private / geography.CACHE_NAME
    assert cache.is_file()
    g = cfg.geography
    parsed = loaders.load_polygons(g.oa_boundaries, "OA"), loaders.load_polygons(g.wards, "ward")
    _new_process()
    warm = _geography_stage(cfg)
    assert calls == {"polygons": 2, "lookup": 1, "households": 1}  # not called again
    for name in cold:
        pd.testing.assert_frame_equal(cold[name], warm[name])
    oas, wards = geography.load_areas(cfg)
    for got, want in zip((oas, wards), parsed, strict=True):
        assert_geodataframe_equal(got, want)
        assert list(got.columns) == list(want.columns) and got.crs == want.crs
        assert all(a.equals_exact(b, 0) for a, b in zip(got.geometry, want.geometry, strict=True))
    assert not cfg.outputs.exists() or not [p for p in cfg.outputs.rglob("*") if "geography" in p.name]


def test_polygons_are_read_once_per_process_and_each_caller_gets_its_own_copy(area, calls):
    cfg, _ = area
    first, _ = geography.load_areas(cfg)
    first["code"] = "changed by a caller"
    second, wards = geography.load_areas(cfg)
    assert calls["polygons"] == 2  # OA and ward layers, once
    assert second["code"].str.startswith("E00").all() and len(wards) == 21


def test_a_changed_lookup_rebuilds_the_lookup_but_not_the_polygons(area, calls):
    cfg, files = area
    _geography_stage(cfg)
    lookup = pd.read_csv(files / "lookup.csv", dtype=str, keep_default_na=False)
    ward = lookup["wd23cd"].iloc[0]
    lookup.loc[lookup["wd23cd"] == ward, "wd23nm"] = "Renamed Ward"
    lookup.to_csv(files / "lookup.csv", index=False)
    _new_process()
    warm = _geography_stage(cfg)
    assert calls == {"polygons": 2, "lookup": 2, "households": 2}
    assert warm["ref_wards"].set_index("ward_code").loc[ward, "ward_name"] == "Renamed Ward"


def test_a_changed_boundary_file_rebuilds_the_polygons_and_what_is_made_from_them(area, calls):
    cfg, files = area
    cold = _geography_stage(cfg)
    path = files / "wards_2023_bgc.geojson"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # saved again, same content
    _new_process()
    warm = _geography_stage(cfg)
    assert calls == {"polygons": 4, "lookup": 2, "households": 2}
    pd.testing.assert_frame_equal(cold["ref_oa"], warm["ref_oa"])
    _new_process()
    _geography_stage(cfg)  # and the rebuilt cache is current again
    assert calls == {"polygons": 4, "lookup": 2, "households": 2}


def test_a_changed_census_table_or_loader_rebuilds_the_cache(area, calls, monkeypatch):
    cfg, files = area
    _geography_stage(cfg)
    table = pd.read_csv(files / "census" / TS041, dtype=str)
    oa = table["geography code"].iloc[0]
    table.iloc[0, 3] = "999"
    table.to_csv(files / "census" / TS041, index=False)
    _new_process()
    warm = _geography_stage(cfg)
    assert calls["households"] == 2 and calls["polygons"] == 2
    assert warm["ref_oa"].set_index("oa21cd").loc[oa, "households"] == 999
    monkeypatch.setattr(geography, "loader_version", lambda: "a newer loader")
    _new_process()
    _geography_stage(cfg)
    assert calls == {"polygons": 4, "lookup": 3, "households": 3}


def test_no_cache_where_the_run_does_not_own_the_private_folder(area, calls):
    cfg, _ = area
    cfg.private.mkdir(parents=True)  # exists, but not marked as this run's
    oas, _ = geography.load_areas(cfg)
    assert len(oas) == 738 and list(cfg.private.iterdir()) == []
    _new_process()
    geography.load_areas(cfg)
    assert calls["polygons"] == 4


def test_a_file_the_pipeline_did_not_make_is_never_replaced(area, calls):
    cfg, _ = area
    con = connect(cfg, fresh=True)
    con.close()
    foreign = cfg.private / geography.CACHE_NAME
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE notes AS SELECT 'keep me' AS text")
    con.close()
    before = foreign.read_bytes()
    for _ in range(2):
        _new_process()
        tables = _geography_stage(cfg)
        assert len(tables["ref_oa"]) == 738
    assert calls["polygons"] == 4 and foreign.read_bytes() == before
