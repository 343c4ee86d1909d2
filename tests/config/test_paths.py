"""One list of what a run reads (pipeline/paths.py): the config checks at load time and the
ownership checks when a run claims its folders refuse the same inputs inside the outputs folder,
segmentation files, service points and ONSUD included."""

import pytest

from pipeline import paths
from pipeline.config import PointsFile, UprnLookup
from pipeline.ownership import NotOwnedError, check_layout
from tests.helpers import tiny_config

SERVICE = {"name": "svc", "label": "S", "file": "x.csv",
           "columns": {"record_id": "Ref", "postcode": "Postcode"}}


def _set(cfg, where, path):
    if where == "segmentation.names":
        cfg.segmentation.names = path
    elif where == "access.points.clinics":
        cfg.access.points["clinics"] = PointsFile(path=path)
    else:
        cfg.geography.uprn_lookup = UprnLookup(path=str(path.parent / "ONSUD_*.csv"))


@pytest.mark.parametrize(("where", "name"), [("segmentation.names", "names.csv"),
                                             ("access.points.clinics", "clinics.csv"),
                                             ("geography.uprn_lookup.path", "ONSUD_TEST.csv")])
def test_an_input_inside_the_outputs_folder_is_refused_by_every_check(tmp_path, where, name):
    cfg = tiny_config(tmp_path, [SERVICE])
    cfg.outputs.mkdir(parents=True)
    inside = cfg.outputs / name
    inside.write_text("x\n", encoding="utf-8")
    _set(cfg, where, inside)
    assert any(k.startswith(where) for k in paths.inputs(cfg))
    assert any(p.startswith(where) and "inside outputs_dir" in p for p in paths.folder_problems(cfg))
    with pytest.raises(NotOwnedError, match=where.replace(".", r"\.")):
        check_layout(cfg)


def test_the_reference_database_is_protected_but_not_an_input(tmp_path):
    cfg = tiny_config(tmp_path, [SERVICE])
    cfg.geography.postcode_directory.reference_db = cfg.outputs / "onspd.duckdb"
    assert "geography.postcode_directory.reference_db" in paths.protected(cfg)
    assert "geography.postcode_directory.reference_db" not in paths.inputs(cfg)
    with pytest.raises(NotOwnedError, match="reference_db"):
        check_layout(cfg)


# --- relative paths are read from the config file's folder, whatever the working folder ----------


def _project_config(tmp_path, raw_folder=None):
    """The demo config written to tmp_path/project/config/run.yaml, its inputs named relative to
    that folder (`../inputs/...`, or the session's demo borough through a relative path), private
    and outputs folders absolute under tmp_path; and an unrelated working folder."""
    import os

    import yaml

    from tests.helpers import relocated_raw

    folder = tmp_path / "project" / "config"
    folder.mkdir(parents=True)
    raw = relocated_raw(__import__("pathlib").Path("config/demo.yaml"), {})
    if raw_folder is not None:
        text = yaml.safe_dump(raw, sort_keys=False).replace(
            str(paths.REPO_ROOT / "data" / "demo" / "raw"), os.path.relpath(raw_folder, folder))
        raw = yaml.safe_load(text)
    raw["private_dir"], raw["outputs_dir"] = str(tmp_path / "data"), str(tmp_path / "outputs")
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    return path, raw, elsewhere


def test_relative_paths_are_read_from_the_config_folder(tmp_path, monkeypatch):
    from pipeline.config import load_config

    folder = tmp_path / "project" / "config"
    folder.mkdir(parents=True)
    (folder / "run.yaml").write_text(
        "run: r\narea_name: A\nprivate_dir: data/r\noutputs_dir: outputs/r\n"
        "geography:\n  oa_boundaries: {path: ../inputs/oa.gpkg, code_column: c}\n"
        f"  wards: {{path: '{tmp_path / 'abs' / 'wards.gpkg'}', code_column: c}}\n"
        "  postcode_directory: {path: pc.csv, reference_db: ../reference/pc.duckdb}\n"
        "  uprn_lookup: {path: '../onsud/ONSUD_*.csv'}\n"
        "census: {dir: ../inputs/census}\n"
        "segmentation: {names: names.csv}\n"
        "services:\n  - {name: s, label: S, file: ./extracts/s.csv, columns: {postcode: P}}\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cfg = load_config("project/config/run.yaml", check_files=False)
    project = tmp_path / "project"
    g = cfg.geography
    assert g.oa_boundaries.path == project / "inputs" / "oa.gpkg"
    assert g.wards.path == tmp_path / "abs" / "wards.gpkg"  # absolute: as written
    assert g.postcode_directory.path == folder / "pc.csv"
    assert g.postcode_directory.reference_db == project / "reference" / "pc.duckdb"
    assert g.uprn_lookup.path == str(project / "onsud" / "ONSUD_*.csv")  # a glob, anchored too
    assert cfg.census.dir == project / "inputs" / "census"
    assert cfg.segmentation.names == folder / "names.csv"
    assert cfg.services[0].file == folder / "extracts" / "s.csv"
    # the folders a run writes are the working folder's, as the defaults and --out are
    assert (cfg.private, cfg.outputs) == (paths.Path("data/r"), paths.Path("outputs/r"))
    monkeypatch.chdir(folder)  # the same config from its own folder: the same inputs
    assert load_config("run.yaml", check_files=False).census.dir == project / "inputs" / "census"


def test_validate_finds_the_inputs_from_another_working_folder(demo_data, tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    path, _, elsewhere = _project_config(tmp_path, demo_data[0])
    assert "../" in path.read_text(encoding="utf-8")  # the inputs are named relatively
    monkeypatch.chdir(elsewhere)
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert "valid (5 services" in capsys.readouterr().out


def test_a_missing_census_folder_is_one_problem_naming_the_resolved_path(demo_data, tmp_path,
                                                                         monkeypatch, capsys):
    import yaml

    from pipeline.cli import main

    path, raw, elsewhere = _project_config(tmp_path, demo_data[0])
    raw["census"]["dir"] = "census2021"  # not beside the config
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    assert main(["validate", str(path)]) == 2
    problems = [line for line in capsys.readouterr().err.splitlines() if line.startswith("  - ")]
    assert problems == [f"  - census.dir: no such file or folder: {path.parent / 'census2021'}. Fix: "
                        "correct the path (a relative path is read from the config file's folder), or "
                        "create it"]


def test_a_run_from_another_working_folder_reads_the_config_folder_inputs(demo_data, tmp_path, monkeypatch):
    import yaml

    from pipeline.config import load_config
    from pipeline.run import run_all

    path, raw, elsewhere = _project_config(tmp_path, demo_data[0])
    raw["services"] = [s for s in raw["services"] if s["name"] == "council_tax_dd"]
    raw["access"] = {}
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    result = run_all(load_config(path), until="geocode", progress=False)
    rows = result.summary.set_index("service").loc["council_tax_dd"]
    assert rows["rows_read"] > 0 and rows["matched"] > 0.9 * rows["rows_read"]
    # in the working folder, only the installation's secret key (pipeline.secret: data/ there)
    assert [p.relative_to(elsewhere) for p in elsewhere.rglob("*") if p.is_file()] == \
        [paths.Path("data/.insight-secret")]


def test_insight_area_writes_paths_from_the_config_folder(tmp_path, monkeypatch):
    from pipeline.area.writeconfig import written

    monkeypatch.chdir(tmp_path)
    config = paths.Path("config/areas/x.yaml")
    assert written(tmp_path / "data" / "areas" / "x" / "oa.gpkg", config) == "../../data/areas/x/oa.gpkg"
    assert written(paths.Path("data/reference/onspd.duckdb"), config) == "../../data/reference/onspd.duckdb"
    outside = tmp_path.parent / "elsewhere.csv"  # not under the working folder: absolute
    assert written(outside, config) == str(outside.resolve())
