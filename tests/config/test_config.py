"""The run config: every problem is reported at once, naming where it is and what is allowed."""

import subprocess
import sys

import pytest

from pipeline.config import ConfigError, load_config


def test_demo_and_trafford_configs_parse():
    assert load_config("config/demo.yaml", check_files=False).run == "demo"
    cfg = load_config("config/examples/trafford.yaml", check_files=False)
    assert cfg.geography.postcode_directory.columns.live_flag == "in_codepoint_open_2025_10"


def test_all_problems_reported_together(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "run: 'my run'\narea_name: X\ngeography: {}\ncensus: {dir: nowhere}\n"
        "segmentation: {k: 1}\nservices:\n"
        "  - {name: Bad-Name, label: x, file: f.csv, columns: {postcod: PC}}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    msg = str(err.value)
    for fragment in ("run:", "geography.oa_boundaries", "geography.wards", "segmentation.k",
                     "services[0].name", "services[0].columns", "'postcod'", "allowed fields"):
        assert fragment in msg, fragment
    assert len(err.value.problems) >= 7


def test_missing_files_listed_together(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config("config/demo.yaml") if not __import__("pathlib").Path(
            "data/demo/raw/.complete").exists() else load_config(_moved(tmp_path))
    assert sum("no such file" in p for p in err.value.problems) >= 5


def _moved(tmp_path):
    text = open("config/demo.yaml").read().replace("../data/demo/raw", str(tmp_path / "none"))
    p = tmp_path / "moved.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("sub", ["validate", "run", "demo-data", "synth-extracts"])
def test_every_subcommand_has_help(sub):
    out = subprocess.run([sys.executable, "-m", "pipeline", sub, "--help"],
                         capture_output=True, text=True, check=True)
    assert "usage: insight " + sub in out.stdout


def test_cli_reports_config_error_without_traceback(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("run: x\n")
    out = subprocess.run([sys.executable, "-m", "pipeline", "validate", str(p)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "area_name" in out.stderr


def test_directory_without_oas_needs_its_points():
    import pydantic

    from pipeline.config import PostcodeColumns

    with pytest.raises(pydantic.ValidationError, match="needs its easting and northing"):
        PostcodeColumns(oa=None, easting=None)
    assert PostcodeColumns(oa=None).easting == "oseast1m"


# --- strictness: repeated keys, suppression, where a run writes (issue 10) ----------------------

BASE_YAML = """\
run: strict
area_name: Testshire
geography:
  oa_boundaries: {path: oa.gpkg, code_column: OA21CD}
  wards: {path: wards.gpkg, code_column: WD23CD}
  postcode_directory: {path: onspd.csv}
census: {dir: census}
services:
  - {name: s, label: S, file: s.csv, columns: {postcode: Postcode}}
"""


def _write(tmp_path, text: str, name: str = "c.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _problems(path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(path, check_files=False)
    return err.value.problems


def test_repeated_top_level_key_is_an_error_naming_key_and_lines(tmp_path):
    p = _write(tmp_path, BASE_YAML + "suppression: {threshold: 5}\nsuppression: {threshold: 10}\n")
    (problem,) = _problems(p)
    assert problem.startswith("suppression: the key 'suppression' appears twice (lines 10 and 11)")
    assert "Fix:" in problem


def test_repeated_nested_key_is_named_by_its_path(tmp_path):
    text = BASE_YAML.replace("columns: {postcode: Postcode}", "columns: {postcode: A, postcode: B}")
    text = text.replace("census: {dir: census}", "census:\n  dir: census\n  dir: other")
    problems = _problems(_write(tmp_path, text))
    assert any(p.startswith("services[0].columns.postcode: the key 'postcode' appears twice")
               for p in problems)
    assert any(p.startswith("census.dir: the key 'dir' appears twice (lines 8 and 9)") for p in problems)


def test_yaml_merge_keys_are_not_repeats(tmp_path):
    text = BASE_YAML + "suppression: &s {threshold: 6}\nrender: {tiles_attribution: x}\n"
    text = text.replace("  - {name: s,", "  - {<<: {label: Old}, name: s,")
    assert load_config(_write(tmp_path, text), check_files=False).services[0].label == "S"


def test_alias_bomb_still_fails_fast(tmp_path):
    import time

    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    text = "\n".join(levels) + "\n" + BASE_YAML.replace("area_name: Testshire", "area_name: *i")
    p = _write(tmp_path, text)
    t0 = time.perf_counter()
    problems = _problems(p)
    assert time.perf_counter() - t0 < 5
    assert "area_name: Input should be a valid string" in problems
    assert sum(len(x) for x in problems) < 5000


def test_small_threshold_needs_explicit_consent(tmp_path):
    (problem,) = _problems(_write(tmp_path, BASE_YAML + "suppression: {threshold: 3}\n"))
    assert problem.startswith("suppression: ")
    assert "threshold 3 would publish counts from 3 to 4" in problem
    assert "allow_small_threshold: true" in problem and "Fix:" in problem


def test_allowed_small_threshold_carries_a_warning(tmp_path):
    p = _write(tmp_path, BASE_YAML + "suppression: {threshold: 2, allow_small_threshold: true}\n")
    s = load_config(p, check_files=False).suppression
    assert s.threshold == 2 and s.small
    assert s.warning.startswith("WARNING:") and "counts of 2 to 4 are published" in s.warning


def test_default_and_ons_suppression_have_no_warning(tmp_path):
    from pipeline.config import Suppression

    assert Suppression().warning is None and Suppression(threshold=10).warning is None
    assert Suppression(rule="ons", threshold=1).warning is None  # the ONS rule ignores threshold


@pytest.mark.parametrize("symbol", ["", "  ", "0", "5"])
def test_suppression_symbol_must_not_read_as_a_count(symbol, tmp_path):
    (problem,) = _problems(_write(tmp_path, BASE_YAML + f"suppression: {{symbol: '{symbol}'}}\n"))
    assert problem.startswith("suppression.symbol:") and "Fix:" in problem


def _folders(tmp_path, outputs=None, private=None, extra: str = "") -> list[str]:
    text = BASE_YAML + extra
    if outputs is not None:
        text += f"outputs_dir: '{outputs}'\n"
    if private is not None:
        text += f"private_dir: '{private}'\n"
    try:
        load_config(_write(tmp_path, text), check_files=False)
    except ConfigError as err:
        return err.problems
    return []


def test_output_and_private_folders_must_be_apart(tmp_path):
    same = _folders(tmp_path, tmp_path / "x", tmp_path / "x")
    assert len(same) == 1 and "are the same folder" in same[0] and "Fix:" in same[0]
    (inner,) = _folders(tmp_path, tmp_path / "out", tmp_path / "out" / "private")
    assert inner.startswith(f"private_dir {tmp_path / 'out' / 'private'} is inside outputs_dir")
    (outer,) = _folders(tmp_path, tmp_path / "priv" / "out", tmp_path / "priv")
    assert outer.startswith(f"outputs_dir {tmp_path / 'priv' / 'out'} is inside private_dir")
    assert _folders(tmp_path, tmp_path / "out", tmp_path / "priv") == []


def test_private_folder_never_in_the_shareable_tree(tmp_path):
    in_default_outputs, in_shareable_tree = _folders(tmp_path, None, "outputs/strict/private")
    assert "is inside outputs_dir" in in_default_outputs  # outputs/strict, the default
    assert "inside outputs/, the shareable tree" in in_shareable_tree
    assert "Fix: put it under data/" in in_shareable_tree
    (problem,) = _folders(tmp_path, None, "outputs/other")
    assert "inside outputs/, the shareable tree" in problem
    in_private, in_data = _folders(tmp_path, "data/strict/shared", None)
    assert "inside private_dir" in in_private  # data/strict is the default private_dir
    assert "is inside data/, the private tree" in in_data
    (problem,) = _folders(tmp_path, "data/elsewhere", None)
    assert "is inside data/, the private tree" in problem


def test_run_folders_are_never_the_repository_or_a_file(tmp_path):
    assert any("is the repository or a folder holding it" in p for p in _folders(tmp_path, ".", None))
    assert any("is the repository or a folder holding it" in p for p in _folders(tmp_path, "..", None))
    assert any("outputs/ itself" in p for p in _folders(tmp_path, "outputs", None))
    assert any("data/ itself" in p for p in _folders(tmp_path, None, "data"))
    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    assert any("holds a config/ or .git folder" in p for p in _folders(tmp_path, project, None))
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    (problem,) = _folders(tmp_path, a_file, None)
    assert problem == f"outputs_dir: {a_file} is an existing file, not a folder. Fix: name a folder"
    assert a_file.read_text() == "keep"


def test_every_folder_problem_reported_together(tmp_path):
    problems = _folders(tmp_path, "outputs", "outputs/x")
    assert len(problems) >= 3  # private inside outputs_dir, inside outputs/, outputs/ itself


def test_inputs_inside_the_outputs_folder_are_refused(tmp_path):
    out = tmp_path / "out"
    text = BASE_YAML.replace("file: s.csv", f"file: '{out / 's.csv'}'") + f"outputs_dir: '{out}'\n"
    (problem,) = _problems(_write(tmp_path, text))
    assert problem.startswith("services[0].file (s): ") and "emptied at the start of every run" in problem


@pytest.mark.parametrize("target", ["onspd.csv", "s.csv", "oa.gpkg", "census/census2021-ts041-oa.csv"])
def test_reference_db_may_not_be_an_input(tmp_path, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "census").mkdir()
    for name in ("onspd.csv", "s.csv", "oa.gpkg", "census/census2021-ts041-oa.csv"):
        (tmp_path / name).write_text("precious\n")
    text = BASE_YAML.replace("{path: onspd.csv}", f"{{path: onspd.csv, reference_db: {target}}}")
    (problem,) = _problems(_write(tmp_path, text))
    assert problem.startswith("geography.postcode_directory.reference_db: ")
    assert "is also an input of this run" in problem and "Fix: name a new file" in problem
    assert (tmp_path / target).read_text() == "precious\n"


def test_reference_db_may_not_be_a_folder_or_the_warehouse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ref").mkdir()
    text = BASE_YAML.replace("{path: onspd.csv}", "{path: onspd.csv, reference_db: ref}")
    (problem,) = _problems(_write(tmp_path, text))
    assert "is an existing folder, not a file" in problem and "ref/onspd.duckdb" in problem
    text = BASE_YAML.replace("{path: onspd.csv}",
                             "{path: onspd.csv, reference_db: data/strict/warehouse.duckdb}")
    (problem,) = _problems(_write(tmp_path, text))
    assert "is the run's warehouse" in problem


LOOKUP_BLOCK = "  lookup: {path: oac.csv, key: oa, key_column: OA, code_column: Supergroup}\n"


@pytest.mark.parametrize("setting", ["k: 10", "n_init: 5", "k_groups: 4", "k_subgroups: null"])
def test_kmeans_settings_with_a_lookup_are_refused(setting, tmp_path):
    (problem,) = _problems(_write(tmp_path, BASE_YAML + f"segmentation:\n  method: lookup\n  {setting}\n"
                                  + LOOKUP_BLOCK))
    name = setting.split(":")[0]
    assert problem.startswith("segmentation") and f"{name}:" in problem
    assert "does nothing with method: lookup" in problem and "Fix:" in problem


def test_a_lookup_block_with_kmeans_is_refused(tmp_path):
    (problem,) = _problems(_write(tmp_path, BASE_YAML + "segmentation:\n  method: kmeans\n" + LOOKUP_BLOCK))
    assert "segmentation.lookup does nothing with method: kmeans" in problem


def test_variable_settings_with_a_lookup_only_describe_and_are_warned(tmp_path):
    cfg = load_config(_write(tmp_path, BASE_YAML + "segmentation:\n  method: lookup\n  drop: [v33]\n"
                             + LOOKUP_BLOCK), check_files=False)
    (warning,) = cfg.segmentation.warnings
    assert warning.startswith("segmentation.drop with method: lookup") and "described" in warning
    plain = load_config(_write(tmp_path, BASE_YAML + "segmentation:\n  method: lookup\n  k: 8\n"
                               + LOOKUP_BLOCK), check_files=False)  # the default, written out
    assert plain.segmentation.warnings == []
