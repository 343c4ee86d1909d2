"""The level the maps are drawn at (issue 25, national scale): the rule on its boundaries, the
config setting, maps above the Output Area level holding only their areas, and the GeoPackage
keeping every Output Area."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from pydantic import ValidationError

from pipeline.config import RunConfig, load_config
from pipeline.geography import ward_lookup_problems
from pipeline.render.areas import area_segments, oa_lads, run_level, segment_area_layer
from pipeline.render.maps.geometry import LEVEL_GEOMETRY, level_geometry
from pipeline.render.maps.level import OA_MAX, WARD_MAX, level_note, map_level

_ADD = re.compile(r"geo_json_\d+_add\((\{.*?\})\);\n", re.S)


def layers(html: Path) -> list[dict]:
    """Every GeoJSON layer folium wrote into a map page."""
    return [json.loads(m) for m in _ADD.findall(html.read_text(encoding="utf-8"))]


def test_level_rule_on_its_boundaries(caplog):
    assert map_level(OA_MAX, WARD_MAX + 1, has_lad=False) == "oa"
    assert map_level(OA_MAX + 1, WARD_MAX, has_lad=True) == "ward"
    assert map_level(OA_MAX + 1, WARD_MAX + 1, has_lad=True) == "lad"
    with caplog.at_level(logging.WARNING):
        assert map_level(OA_MAX + 1, WARD_MAX + 1, has_lad=False) == "ward"  # no LADs: wards, warned
    assert "lad_column" in caplog.text
    assert map_level(10, 2, has_lad=False, setting="ward") == "ward"
    assert map_level(10**6, 10**4, has_lad=True, setting="oa") == "oa"
    with pytest.raises(ValueError, match="lad_column"):
        map_level(10, 2, has_lad=False, setting="lad")
    assert level_note("oa", "x.gpkg") == ""
    assert "x.gpkg" in level_note("ward", "x.gpkg") and "output_areas" in level_note("lad", "x.gpkg")


def test_simplification_scales_with_the_level():
    assert level_geometry("oa", 5.0, 6) == (5.0, 6)  # each map keeps its own at oa
    assert level_geometry("oa", 5.0, 5) == (5.0, 5)
    (ward_m, ward_d), (lad_m, lad_d) = LEVEL_GEOMETRY["ward"], LEVEL_GEOMETRY["lad"]
    assert 5.0 < ward_m < lad_m and 6 > ward_d >= lad_d


def _config(**render) -> dict:
    cfg = load_config(Path("config/demo.yaml"), check_files=False)
    return {**cfg.model_dump(), "render": {**cfg.render.model_dump(), **render}}


def test_map_level_setting_validated():
    assert RunConfig.model_validate(_config()).render.map_level == "auto"
    with pytest.raises(ValidationError, match="map_level"):
        RunConfig.model_validate(_config(map_level="county"))
    with pytest.raises(ValidationError, match="lad_column"):
        RunConfig.model_validate(_config(map_level="lad"))  # the demo lookup names no LAD column
    raw = _config(map_level="lad")
    raw["geography"]["oa_to_ward"]["lad_column"] = "LAD23CD"
    assert RunConfig.model_validate(raw).render.map_level == "lad"


def test_lad_column_read_and_checked(tmp_path):
    lookup = tmp_path / "lookup.csv"
    lookup.write_text("OA21CD,WD23CD,LAD23CD\nE1,W1,L1\nE2,W1, L1\nE3,W2,L2\n", encoding="utf-8")
    raw = _config()
    raw["geography"]["oa_to_ward"] = {"path": str(lookup), "oa_column": "OA21CD", "ward_column": "WD23CD",
                                      "lad_column": "LAD23CD"}
    cfg = RunConfig.model_validate(raw)
    assert oa_lads(cfg).to_dict() == {"E1": "L1", "E2": "L1", "E3": "L2"}
    assert ward_lookup_problems(cfg) == []  # checked with the lookup's other columns
    raw["geography"]["oa_to_ward"]["lad_column"] = "LAD22CD"
    problems = ward_lookup_problems(RunConfig.model_validate(raw))
    assert len(problems) == 1 and "lad_column" in problems[0] and "LAD23CD" in problems[0]


def test_most_common_segment_by_households():
    oa_segments = pd.DataFrame({"oa21cd": ["a", "b", "c", "d", "e"], "segment": ["2", "1", "1", "3", "4"]})
    area = pd.Series({"a": "W1", "b": "W1", "c": "W1", "d": "W2", "e": "W2"})
    households = pd.Series({"a": 300, "b": 100, "c": 150, "d": 50, "e": 50})
    top = area_segments(oa_segments, area, households)
    assert top["code"].tolist() == ["W1", "W2"]
    assert top["segment"].tolist() == ["2", "3"]  # 300 beats 100 + 150; a tie goes to the first code
    assert top["share"].round(1).tolist() == [54.5, 50.0] and top["oas"].tolist() == [3, 2]


@pytest.fixture(scope="module")
def demo(demo_run, tmp_path_factory):
    """The demo run's config (outputs in a new folder with the run's segment outputs), publication,
    polygons and OA lookup."""
    from pipeline import geography
    from pipeline.render.segment_info import load_segments

    cfg, result, _, _ = demo_run
    out = tmp_path_factory.mktemp("map_level")
    oas, wards = geography.load_areas(cfg)
    oa_segments, names = load_segments(cfg.outputs / "segments")
    ref = geography.area_ref_oa(cfg, oas, wards)
    return (cfg.model_copy(update={"outputs_dir": out}), result.publication, oas, wards, ref,
            oa_segments, names)


def test_demo_maps_stay_at_output_areas(demo):
    cfg, _, oas, wards, *_ = demo
    assert run_level(cfg, oas, wards, None) == "oa"  # the default leaves a borough's maps as they were


def test_service_map_forced_to_wards_holds_only_wards(demo):
    from pipeline.render.visuals import write_service_map

    cfg, pub, oas, wards, *_ = demo
    name = next(n for n, v in pub.services.items() if v.get("targets_oa") is not None
                and not v["targets_oa"].frame.empty)
    at_oa = layers(write_service_map(cfg, pub, name, wards, "Test", oas=oas, level="oa"))
    assert any("oa21cd" in f["properties"] for layer in at_oa for f in layer["features"])  # targets drawn
    page = write_service_map(cfg, pub, name, wards, "Test", oas=oas, level="ward")
    drawn = layers(page)
    codes = {f["properties"]["ward_code"] for layer in drawn for f in layer["features"] if f["properties"]}
    assert codes == set(wards["code"])
    assert not any("oa21cd" in f["properties"] for layer in drawn for f in layer["features"])
    assert sum(len(json.dumps(x)) for x in drawn) < sum(len(json.dumps(x)) for x in at_oa)  # coarser


def test_segment_map_by_ward_and_by_local_authority(demo):
    from pipeline.render.visuals import write_segment_map

    cfg, _, oas, wards, ref, oa_segments, names = demo
    layer = segment_area_layer("ward", wards, ref, None, oa_segments, names)
    drawn = layers(write_segment_map(cfg, oas, oa_segments, names, "ward", layer))
    features = [f for x in drawn for f in x["features"] if f["properties"]]
    assert {f["properties"]["code"] for f in features} == set(wards["code"])
    assert not any("oa21cd" in f["properties"] for f in features)
    # two made-up local authorities: the wards split by their code
    halves = sorted(wards["code"])
    lad_of_ward = {w: ("L1" if i < len(halves) // 2 else "L2") for i, w in enumerate(halves)}
    lads = pd.Series(ref["ward_code"].map(lad_of_ward).to_numpy(), index=ref["oa21cd"].to_numpy())
    layer = segment_area_layer("lad", wards, ref, lads, oa_segments, names)
    page = write_segment_map(cfg, oas, oa_segments, names, "lad", layer)
    features = [f for x in layers(page) for f in x["features"] if f["properties"]]
    assert sorted(f["properties"]["code"] for f in features) == ["L1", "L2"]
    assert "by local authority" in page.read_text(encoding="utf-8")


def test_geopackage_keeps_every_output_area(demo_run):
    from pipeline import geography

    cfg, *_ = demo_run
    oas, _ = geography.load_areas(cfg)
    gpkg = cfg.outputs / f"{cfg.run}_insight.gpkg"
    info = pyogrio.read_info(gpkg, layer="output_areas")
    assert info["features"] == len(oas)
    stored = pyogrio.read_dataframe(gpkg, layer="output_areas")
    assert set(stored["oa21cd"]) == set(oas["code"])
    # unsimplified: as many vertices as the boundaries read
    import shapely

    assert shapely.get_num_coordinates(stored.geometry.values).sum() == \
        shapely.get_num_coordinates(oas.geometry.values).sum()


def test_report_says_the_level_and_where_the_output_areas_are(demo, demo_run):
    from pipeline.render.report import report_path, write_service_report

    cfg, pub, *_ = demo
    name = min(pub.services, key=lambda n: len(pub.services[n]))  # the fewest views: the fewest charts
    note = level_note("ward", f"{cfg.run}_insight.gpkg")
    html = write_service_report(cfg, pub, name, "Test", map_note=note).path.read_text(encoding="utf-8")
    assert "drawn by ward" in html and f"{cfg.run}_insight.gpkg" in html and "output_areas" in html
    plain = report_path(demo_run[0], name).read_text(encoding="utf-8")  # the demo run's own report
    assert "drawn by" not in plain and "output_areas" not in plain  # a borough's report as before


@pytest.mark.parametrize("level", ["oa", "ward"])
def test_lad_column_without_effect_refused(level):
    raw = _config(map_level=level)
    raw["geography"]["oa_to_ward"]["lad_column"] = "LAD23CD"
    with pytest.raises(ValidationError, match=r"lad_column: 'LAD23CD' has no effect with render.map_level"):
        RunConfig.model_validate(raw)
    raw["render"]["map_level"] = "auto"  # read when the area is past the ward budget: it may have an effect
    assert RunConfig.model_validate(raw).geography.oa_to_ward.lad_column == "LAD23CD"


@pytest.mark.parametrize("level", ["oa", "ward"])
def test_wards_prepared_once_give_the_same_service_map(demo, level):
    from pipeline.render.maps.geometry import level_geometry as geometry_of
    from pipeline.render.visuals import service_map_wards, ward_layer, write_service_map

    cfg, pub, oas, wards, *_ = demo
    name = next(iter(pub.services))
    prepared = service_map_wards(wards, level)
    layer = ward_layer(wards, pub.services[name]["ward"])
    tolerance, decimals = geometry_of(level)
    assert prepared.layer(layer, "ward_code", tolerance, decimals) is not None  # used, not prepared again
    assert prepared.layer(layer.iloc[1:], "ward_code", tolerance, decimals) is None  # a ward left out
    assert prepared.layer(layer, "ward_code", tolerance + 1, decimals) is None  # another simplification
    own = write_service_map(cfg, pub, name, wards, "Test", oas=oas, level=level).read_bytes()
    given = write_service_map(cfg, pub, name, wards, "Test", oas=oas, level=level, prepared=prepared)
    assert given.read_bytes() == own
