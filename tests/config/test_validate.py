"""`insight validate` finds every problem with a config and its files before any stage runs, and
`insight run` / `validate` report user errors as `error:` lines with exit status 2, no traceback."""

import os
import zipfile
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from tests.conftest import REPO, SHARED, TRAFFORD
from tests.helpers import relocated_raw

EXTRACT = "stop_smoking_attendees.csv"


@pytest.fixture
def demo(demo_data, tmp_path):
    """The demo config as a dict, pointing at the session's demo borough, folders under tmp_path."""
    raw, _ = demo_data
    cfg = relocated_raw(Path("config/demo.yaml"), {"data/demo/raw": str(raw)})
    cfg["private_dir"], cfg["outputs_dir"] = str(tmp_path / "data"), str(tmp_path / "outputs")
    return cfg, raw, tmp_path


def run_cli(capsys, cfg: dict, tmp_path: Path, command: str = "validate") -> tuple[int, str, list[str]]:
    """(exit status, stdout, problem lines) of `insight <command>` on `cfg` written to tmp_path."""
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    argv = [command, str(path)] + (["--quiet"] if command == "run" else [])
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    problems = [line[4:] for line in err.splitlines() if line.startswith("  - ")]
    if code:
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, err
    return code, out, problems


def only_problem(capsys, cfg, tmp_path) -> str:
    """The one problem validate reports (exit status 2)."""
    code, _, problems = run_cli(capsys, cfg, tmp_path)
    assert code == 2
    assert len(problems) == 1, problems
    return problems[0]


def service(cfg: dict, name: str = "stop_smoking") -> dict:
    return next(s for s in cfg["services"] if s["name"] == name)


# --- the configs that must validate -----------------------------------------------------------


def test_demo_config_validates(demo, capsys):
    cfg, _, tmp = demo
    code, out, problems = run_cli(capsys, cfg, tmp)
    assert code == 0 and problems == []
    assert "valid (5 services, run 'demo')" in out
    assert not (tmp / "outputs").exists() and not (tmp / "data").exists()  # validate writes nothing


def test_trafford_example_validates(tmp_path, capsys):
    """config/examples/trafford.yaml with the real ONS files of ../shared and synthetic extracts."""
    if not TRAFFORD.exists():
        pytest.skip("../shared/ons/trafford is absent")
    from pipeline.synth.extracts import generate_for_real_area

    generate_for_real_area(
        postcodes_csv=TRAFFORD / "postcodes" / "onspd_2025_02_trafford_with_oa21_DERIVED.csv",
        postcode_col="postcode", oa_col="oa21cd_pip", live_col="in_codepoint_open_2025_10",
        households_csv_ts041=TRAFFORD / "census2021" / "census2021-ts041-oa-trafford.csv",
        types_csv=TRAFFORD / "oac2021" / "trafford_oac2021_assignment.csv",
        out_dir=tmp_path / "extracts", truth_dir=tmp_path / "truth", seed=2021,
    )
    cfg = relocated_raw(Path("config/examples/trafford.yaml"), {
        "data/trafford/raw/extracts": str(tmp_path / "extracts"), "../shared": str(SHARED),
        "data/reference": str(tmp_path / "reference")})
    cfg["private_dir"], cfg["outputs_dir"] = str(tmp_path / "data"), str(tmp_path / "outputs")
    code, out, problems = run_cli(capsys, cfg, tmp_path)
    assert (code, problems) == (0, [])
    assert "run 'trafford'" in out


# --- drop / weights: caught before any stage ----------------------------------------------------


def test_unknown_dropped_variable_caught_by_validate(demo, capsys):
    cfg, _, tmp = demo
    cfg["segmentation"]["drop"] = ["no_such_variable"]
    problem = only_problem(capsys, cfg, tmp)
    assert problem.startswith("segmentation.drop: no variable 'no_such_variable' in the spec ")
    assert "oac2021_variables.csv; " in problem
    assert "the variable ids are ['v01'," in problem and "Fix: use variable ids" in problem


def test_unknown_dropped_variable_stops_run_before_any_stage(demo, capsys):
    cfg, _, tmp = demo
    cfg["segmentation"]["drop"] = ["no_such_variable"]
    code, _, problems = run_cli(capsys, cfg, tmp, command="run")
    assert code == 2 and any("'no_such_variable'" in p for p in problems)
    assert not (tmp / "outputs").exists() and not (tmp / "data").exists()  # no stage ran


def test_unknown_weighted_variable(demo, capsys):
    cfg, _, tmp = demo
    cfg["segmentation"]["weights"] = {"v01": 2.0, "v999": 1.5}
    problem = only_problem(capsys, cfg, tmp)
    assert "segmentation.weights: no variable 'v999' in the spec" in problem and "Fix:" in problem


def test_spec_category_missing_from_census_table(demo, capsys):
    cfg, _, tmp = demo
    extra = tmp / "extra.csv"
    extra.write_text("variable,name,table,numerator,denominator,short_label\n"
                     "x1,Yurts,ts044,Yurt or tent,Total,in yurts\n", encoding="utf-8")
    cfg["segmentation"]["add_variables"] = str(extra)
    problem = only_problem(capsys, cfg, tmp)
    assert problem.startswith("census: variable x1 (Yurts): numerator - table ts044 has no ")
    assert "'Yurt or tent'; available categories: 'Total: All households'; 'Detached';" in problem
    assert problem.endswith("Fix: name categories the table has in the variable spec "
                            "(segmentation.variables, add_variables), or point census.dir and "
                            "census.pattern at the Nomis bulk CSVs it needs")


# --- k against the area's Output Areas -----------------------------------------------------------


def _small_area(raw: Path, tmp: Path, n: int) -> str:
    """A copy of the demo OA layer holding its first `n` OAs."""
    import geopandas as gpd

    oas = gpd.read_file(raw / "boundaries" / "demo_oa21.gpkg").sort_values("OA21CD").head(n)
    out = tmp / "small_oa21.gpkg"
    oas.to_file(out)
    return str(out)


def test_k_larger_than_the_area_oas(demo, capsys):
    cfg, raw, tmp = demo
    cfg["geography"]["oa_boundaries"]["path"] = _small_area(raw, tmp, 6)
    problem = only_problem(capsys, cfg, tmp)
    assert problem == ("segmentation.k: 8 supergroups cannot be made from the 6 Output Areas of the area; "
                       "k must be from 2 to 6. Fix: lower segmentation.k")


def test_lower_tiers_larger_than_the_area_oas(demo, capsys):
    cfg, _, tmp = demo
    cfg["segmentation"].update(k=8, k_groups=30, k_subgroups={"1a": 2, "9z": 3})
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2
    assert ("segmentation.k_subgroups: 480 subgroups in all cannot be made from the 400 Output Areas of "
            "the area. Fix: lower segmentation.k_subgroups, or set it to null for no subgroup tier"
            ) in problems
    assert any(p.startswith("segmentation.k_subgroups: ['9z'] are not group codes") for p in problems)


# --- service extracts --------------------------------------------------------------------------


def test_service_file_that_is_a_folder(demo, capsys):
    cfg, _, tmp = demo
    (tmp / "extracts").mkdir()
    service(cfg)["file"] = str(tmp / "extracts")
    (tmp / "extracts" / "members.csv").write_text("a\n")
    problem = only_problem(capsys, cfg, tmp)
    assert problem == (f"services[0] (stop_smoking): {tmp / 'extracts'}: services.stop_smoking.file is a "
                       "folder, not a file; files there: ['members.csv']; fix: set it to the extract's "
                       "file path")


def test_mapped_column_missing_from_the_header(demo, capsys):
    cfg, raw, tmp = demo
    service(cfg)["columns"]["record_id"] = "Client Ref"
    problem = only_problem(capsys, cfg, tmp)
    assert problem.startswith(f"services[0] (stop_smoking): {raw / 'extracts' / EXTRACT} (header row 1)")
    assert "maps field 'record_id' to ['Client Ref']" in problem
    assert "columns found: ['Client ID', 'Address Line 1'" in problem and "Fix: set" in problem


def test_header_below_the_rows_searched_needs_header_row(demo, capsys):
    cfg, raw, tmp = demo
    lines = (raw / "extracts" / EXTRACT).read_text(encoding="utf-8").splitlines(keepends=True)
    moved = tmp / "late_header.csv"
    moved.write_text("".join([f"Report line {i}\n" for i in range(25)] + lines[:50]), encoding="utf-8")
    service(cfg)["file"] = str(moved)
    problem = only_problem(capsys, cfg, tmp)
    assert problem.startswith(f"services[0] (stop_smoking): {moved}: none of the headers configured for "
                              "service 'stop_smoking' is in the first 20 lines")
    assert "but line 26 holds them. Fix: set services.stop_smoking.header_row: 26" in problem
    service(cfg)["header_row"] = 26
    assert run_cli(capsys, cfg, tmp)[0] == 0


def test_long_cell_and_quoted_line_break_in_the_head_are_fine(demo, capsys):
    cfg, raw, tmp = demo
    lines = (raw / "extracts" / EXTRACT).read_text(encoding="utf-8").splitlines(keepends=True)
    odd = tmp / "odd.csv"
    odd.write_text(lines[0] + 'SS1,"Flat 1\nHigh St",x,y,DM1 1AA,,,,,\n' + "SS2," + "a" * 200_000
                   + ",x,y,DM1 1AA,,,,,\n" + "".join(lines[1:30]), encoding="utf-8")
    service(cfg)["file"] = str(odd)
    assert run_cli(capsys, cfg, tmp)[:2] == (0, f"{tmp / 'run.yaml'}: valid (5 services, run 'demo'): "
                                                "every file and column it names checked\n")


def test_utf16_extract_header_is_read(demo, capsys):
    cfg, raw, tmp = demo
    text = (raw / "extracts" / EXTRACT).read_text(encoding="utf-8")
    wide = tmp / "wide.csv"
    wide.write_bytes(text.encode("utf-16"))  # with its BOM
    service(cfg)["file"] = str(wide)
    assert run_cli(capsys, cfg, tmp)[0] == 0


def test_unknown_encoding_and_bad_delimiter(demo, capsys):
    cfg, _, tmp = demo
    service(cfg)["encoding"] = "latin-9x"
    service(cfg, "library")["delimiter"] = ";;"
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2 and len(problems) == 2
    assert "the service's `encoding:` 'latin-9x' is not an encoding Python knows" in problems[0]
    assert "fix: remove the service's `encoding:`" in problems[0]
    assert problems[1].startswith("services[3] (library): ")
    assert "delimiter ';;' must be one character" in problems[1]


def test_empty_and_xls_extracts(demo, capsys):
    cfg, _, tmp = demo
    (tmp / "empty.csv").write_bytes(b"")
    (tmp / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # OLE header
    service(cfg)["file"] = str(tmp / "empty.csv")
    service(cfg, "library")["file"] = str(tmp / "old.xls")
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2
    assert problems[0] == (f"services[0] (stop_smoking): {tmp / 'empty.csv'} is empty (0 bytes). Fix: "
                           "export the extract again")
    assert problems[1].startswith(f"services[3] (library): {tmp / 'old.xls'}: this is an old-format Excel "
                                  "workbook (.xls)")
    assert "fix: open it in Excel or LibreOffice Calc and save it as an Excel Workbook (.xlsx)" in problems[1]


def test_workbook_sheet_and_columns(demo, capsys):
    cfg, _, tmp = demo
    garden = service(cfg, "garden_waste")
    garden["sheet"] = "Subscribers 2025"
    problem = only_problem(capsys, cfg, tmp)
    assert problem.endswith("garden_waste_subscribers.xlsx: no sheet 'Subscribers 2025'; sheets are "
                            "['Subscribers', 'Notes']. Fix: set services.garden_waste.sheet to one of the "
                            "sheets listed")
    garden["sheet"] = "Subscribers"
    garden["columns"]["record_id"] = "Subscription Ref"
    problem = only_problem(capsys, cfg, tmp)
    assert "garden_waste_subscribers.xlsx (header row " in problem and "'Subscription Ref'" in problem
    assert "'Post code'" in problem  # the columns the sheet has


def test_csv_renamed_xlsx_and_truncated_workbook(demo, capsys):
    cfg, raw, tmp = demo
    fake = tmp / "renamed.xlsx"
    fake.write_bytes((raw / "extracts" / EXTRACT).read_bytes())
    cut = tmp / "truncated.xlsx"
    cut.write_bytes((raw / "extracts" / "garden_waste_subscribers.xlsx").read_bytes()[:3000])
    service(cfg)["file"] = str(fake)
    service(cfg, "garden_waste")["file"] = str(cut)
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2 and len(problems) == 2
    assert problems[0].startswith(f"services[0] (stop_smoking): {fake}: named .xlsx but it is not an Excel "
                                  "workbook")
    assert problems[1].startswith(f"services[2] (garden_waste): {cut}: the workbook is damaged or "
                                  "incomplete (truncated)")
    assert all("fix: " in p for p in problems)


def test_workbook_expanding_past_the_cap(demo, capsys):
    cfg, _, tmp = demo
    big = tmp / "big.xlsx"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/sharedStrings.xml", "<sst>" + "x" * 3_000_000 + "</sst>")
    garden = service(cfg, "garden_waste")
    garden["file"] = str(big)
    garden["max_xlsx_mb"] = 2
    problem = only_problem(capsys, cfg, tmp)
    assert big.stat().st_size < 100_000
    assert "the workbook expands to 3 MB when unzipped, over the 2 MB limit" in problem and "fix:" in problem


# --- geography files -----------------------------------------------------------------------------


def test_postcode_directory_column_missing(demo, capsys):
    cfg, raw, tmp = demo
    cfg["geography"]["postcode_directory"]["columns"]["oa"] = "oa11cd"
    problem = only_problem(capsys, cfg, tmp)
    directory = raw / "postcodes" / "ONSPD_DEMO_2025.csv"
    assert problem.startswith(f"geography.postcode_directory.columns: {directory}: no column 'oa11cd' "
                              "(configured as the OA column); the file has [")
    assert "'oa21cd'" in problem and "Fix: set geography.postcode_directory.columns" in problem


def test_boundary_and_lookup_columns_missing(demo, capsys):
    cfg, _, tmp = demo
    cfg["geography"]["wards"]["name_column"] = "WD22NM"
    cfg["geography"]["oa_to_ward"]["ward_column"] = "WD22CD"
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2
    assert any(p.startswith("geography.wards.name_column: ") and "no column 'WD22NM'" in p
               and "'WD23NM'" in p and "Fix: set geography.wards.name_column" in p for p in problems)
    assert any(p.startswith("geography.oa_to_ward.ward_column: ") and "'WD23CD'" in p for p in problems)


def test_unreadable_boundary_file_and_missing_layer(demo, capsys):
    cfg, raw, tmp = demo
    not_polygons = tmp / "wards.geojson"
    not_polygons.write_text("ward,name\nE05000001,Somewhere\n", encoding="utf-8")
    cfg["geography"]["wards"]["path"] = str(not_polygons)
    cfg["geography"]["oa_boundaries"]["layer"] = "oa_2011"
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2
    assert problems[0] == (f"geography.oa_boundaries.layer: {raw / 'boundaries' / 'demo_oa21.gpkg'} has no "
                           "layer 'oa_2011'; its layers are ['demo_oa21']. Fix: set "
                           "geography.oa_boundaries.layer to one of them")
    assert problems[1].startswith(f"geography.wards.path: {not_polygons} cannot be read as a polygon layer")
    assert problems[1].endswith("Fix: name a GeoJSON, GeoPackage or shapefile")


def test_gazetteer_and_uprn_lookup_columns(demo, capsys):
    cfg, _, tmp = demo
    cfg["geography"]["gazetteer"]["columns"]["street"] = "STREET_NAME"
    onsud = tmp / "ONSUD_DEMO.csv"
    onsud.write_text("UPRN,OA21CD,GRIDGB1E,GRIDGB1N\n1,E00900001,1,2\n", encoding="utf-8")
    cfg["geography"]["uprn_lookup"] = {"path": str(tmp / "ONSUD_*.csv")}
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2 and len(problems) == 2
    assert problems[0].startswith("geography.gazetteer.columns.street: ") and "'STREET_NAME'" in problems[0]
    assert "no column 'PCDS' (configured as the UPRN lookup's postcode column)" in problems[1]
    assert "Fix: set geography.uprn_lookup.columns" in problems[1]


def test_existing_file_as_reference_db_is_refused_and_untouched(demo, capsys):
    cfg, _, tmp = demo
    notes = tmp / "notes.duckdb"
    notes.write_text("my notes")
    cfg["geography"]["postcode_directory"]["reference_db"] = str(notes)
    problem = only_problem(capsys, cfg, tmp)
    assert "exists and is not a DuckDB database; building the reference would replace it" in problem
    code, _, _ = run_cli(capsys, cfg, tmp, command="run")
    assert code == 2 and notes.read_text() == "my notes"


def test_reference_db_equal_to_the_directory_is_refused(demo, capsys):
    cfg, raw, tmp = demo
    directory = raw / "postcodes" / "ONSPD_DEMO_2025.csv"
    before = directory.read_bytes()
    cfg["geography"]["postcode_directory"]["reference_db"] = str(directory)
    code, _, problems = run_cli(capsys, cfg, tmp, command="run")
    assert code == 2 and any("is also an input of this run" in p for p in problems)
    assert directory.read_bytes() == before


# --- bases, names, output folders -----------------------------------------------------------------


def test_census_bases(demo, capsys):
    cfg, _, tmp = demo
    service(cfg)["base"] = "census:ts999:Anything"
    service(cfg, "library")["base"] = "census:ts041:No such column"
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2 and len(problems) == 2
    assert problems[0].startswith("services[0].base (stop_smoking): table ts999: no file matching")
    assert problems[1].startswith("services[3].base (library): base 'census:ts041:No such column': census "
                                  "table ts041 has no column(s) ['No such column']")
    assert "'Number of households'" in problems[1] and "Fix:" in problems[1]


def test_names_file_without_code_and_name(demo, capsys):
    cfg, _, tmp = demo
    names = tmp / "names.csv"
    names.write_text("segment,label\n1,Rural\n", encoding="utf-8")
    cfg["segmentation"]["names"] = str(names)
    problem = only_problem(capsys, cfg, tmp)
    assert problem.startswith(f"segmentation.names: {names}: a segment names file needs the columns "
                              "code,name")
    assert "['segment', 'label']" in problem and "Fix: give" in problem


def test_outputs_folder_holding_other_files(demo, capsys):
    cfg, _, tmp = demo
    (tmp / "outputs").mkdir()
    (tmp / "outputs" / "board_paper.docx").write_text("keep me")
    problem = only_problem(capsys, cfg, tmp)
    assert problem.startswith(f"outputs_dir: {tmp / 'outputs'} holds files the pipeline did not write")
    assert main(["run", str(tmp / "run.yaml"), "--quiet"]) == 2
    assert (tmp / "outputs" / "board_paper.docx").read_text() == "keep me"


def test_symlinked_outputs_and_a_file_in_the_way(demo, capsys):
    cfg, _, tmp = demo
    (tmp / "real").mkdir()
    (tmp / "link").symlink_to(tmp / "real")
    (tmp / "blocker").write_text("x")
    cfg["outputs_dir"], cfg["private_dir"] = str(tmp / "link"), str(tmp / "blocker" / "data")
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2
    assert problems == [
        f"outputs_dir: {tmp / 'link'} is a symbolic link (to {tmp / 'real'}). Fix: set outputs_dir to the "
        "real folder",
        f"private_dir: {tmp / 'blocker' / 'data'} cannot be made, because {tmp / 'blocker'} is a file. "
        "Fix: choose another folder",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write a read-only folder")
def test_read_only_outputs_parent(demo, capsys):
    cfg, _, tmp = demo
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        cfg["outputs_dir"] = str(locked / "outputs")
        problem = only_problem(capsys, cfg, tmp)
        assert "cannot be written" in problem and "Fix:" in problem
    finally:
        locked.chmod(0o755)


# --- one error type, every problem at once, tracebacks only for bugs ------------------------------


def test_every_problem_listed_at_once(demo, capsys):
    cfg, _, tmp = demo
    cfg["segmentation"]["drop"] = ["nope"]
    service(cfg)["columns"]["record_id"] = "ID?"
    cfg["geography"]["postcode_directory"]["columns"]["ward"] = "ward?"
    cfg["geography"]["gazetteer"]["path"] = str(tmp / "missing.csv")
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2 and len(problems) == 4
    err_line = f"error: {tmp / 'run.yaml'}: 4 problem(s) in the run config:"
    main(["validate", str(tmp / "run.yaml")])
    assert capsys.readouterr().err.splitlines()[0] == err_line


def test_run_stops_on_a_small_threshold_and_warns_when_allowed(demo, capsys):
    cfg, _, tmp = demo
    cfg["suppression"] = {"threshold": 2}
    problem = only_problem(capsys, cfg, tmp)
    assert problem.startswith("suppression: threshold 2 would publish counts from 2 to 4")
    cfg["suppression"]["allow_small_threshold"] = True
    path = tmp / "run.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert "WARNING: small-number suppression was lowered to a threshold of 2" in capsys.readouterr().err


def test_user_errors_from_segments_are_reported_not_traced(tmp_path, capsys, monkeypatch):
    from pipeline import cli
    from segments.describe import read_names

    bad = tmp_path / "names.csv"
    bad.write_text("a,b\n1,x\n")
    with pytest.raises(ValueError) as err:
        read_names(bad)
    assert cli._is_user_error(err.value)
    with pytest.raises(ValueError) as err:
        int("not a number")
    assert not cli._is_user_error(err.value)

    def stage_fails(_):
        read_names(bad)

    monkeypatch.setattr("pipeline.validate.validate_config", stage_fails)
    assert cli.main(["validate", "whatever.yaml"]) == 2
    err_text = capsys.readouterr().err
    assert err_text.startswith(f"error: {bad}: a segment names file needs the columns code,name")


def test_internal_errors_still_raise(monkeypatch):
    from pipeline import cli

    def bug(_):
        raise KeyError("a bug")

    monkeypatch.setattr("pipeline.validate.validate_config", bug)
    with pytest.raises(KeyError):
        cli.main(["validate", "whatever.yaml"])


def test_problem_list_errors_are_formatted_one_per_line():
    from pipeline.cli import format_error
    from pipeline.ingest import IngestError

    text = format_error(IngestError(["a.csv: first. Fix: one", "b.csv: second. Fix: two"]))
    assert text.splitlines() == ["error: 2 problem(s):", "  - a.csv: first. Fix: one",
                                 "  - b.csv: second. Fix: two"]


def test_lookup_classification_columns_and_link(demo, capsys):
    cfg, _, tmp = demo
    table = tmp / "oac.csv"
    table.write_text("Geography_Code,Supergroup\nE00900001,1\n", encoding="utf-8")
    cfg["segmentation"] = {"method": "lookup", "lookup": {"path": str(table), "key": "uprn",
                                                          "key_column": "UPRN", "code_column": "Supergroup"}}
    code, _, problems = run_cli(capsys, cfg, tmp)
    assert code == 2
    assert problems == [
        "segmentation.lookup.to_oa: a UPRN-keyed lookup needs to_oa (a CSV linking each UPRN to its Output "
        "Area). Fix: add to_oa: {path, key_column, oa_column}",
        f"segmentation.lookup.key_column: {table} has no column 'UPRN'; its columns are ['Geography_Code', "
        "'Supergroup']. Fix: set segmentation.lookup.key_column to one of them",
    ]
    cfg["segmentation"]["lookup"].update(key="oa", key_column="Geography_Code")
    assert run_cli(capsys, cfg, tmp)[0] == 0


def test_missing_names_file_reported_with_the_others(demo, capsys):
    cfg, _, tmp = demo
    cfg["segmentation"]["names"] = str(tmp / "no_names.csv")
    problem = only_problem(capsys, cfg, tmp)
    assert problem == (f"segmentation.names: no such file or folder: {tmp / 'no_names.csv'}. Fix: correct "
                       "the path (a relative path is read from the config file's folder), or create it")


STARTUP = """
import sys
from pipeline.cli import main
code = main(["run", sys.argv[1], "--until", "geocode", "--quiet"])
heavy = ("sklearn", "scipy.stats", "pipeline.profiles.service", "pipeline.quality", "matplotlib", "folium")
print("imported:", code, *sorted(m for m in heavy if m in sys.modules))
"""


def test_checking_and_geocoding_load_no_clustering_profile_or_render_code(demo_data, tmp_path):
    """`insight run --until geocode` (validation included) imports only what those stages use: the
    start-up cost of every run stays small (bench/bench_geocode.py measures it)."""
    import subprocess
    import sys

    from pipeline.config import EQUALITY_FIELDS
    from tests.helpers import relocated_config

    raw, _ = demo_data
    relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp_path)
    path = tmp_path / "demo.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["services"] = [s for s in cfg["services"] if not set(s["columns"]) & set(EQUALITY_FIELDS)]
    assert len(cfg["services"]) >= 2  # postcode-only services remain
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", STARTUP, str(path)], capture_output=True, text=True,
                          cwd=REPO, check=False)
    assert done.stdout.splitlines()[-1] == "imported: 0", done.stdout + done.stderr
