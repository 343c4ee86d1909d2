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
    text = open("config/demo.yaml").read().replace("data/demo/raw", str(tmp_path / "none"))
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


def test_outputs_folder_not_made_by_us_is_never_emptied(tmp_path):
    from pipeline.run import clear_outputs

    precious = tmp_path / "reports"
    precious.mkdir()
    (precious / "board_paper.docx").write_text("keep me")
    with pytest.raises(FileExistsError, match="did not write"):
        clear_outputs(precious)
    assert (precious / "board_paper.docx").exists()
    ours = tmp_path / "ours"
    clear_outputs(ours)
    (ours / "stale.csv").write_text("old")
    clear_outputs(ours)
    assert not (ours / "stale.csv").exists()


def test_directory_without_oas_needs_its_points():
    import pydantic

    from pipeline.config import PostcodeColumns

    with pytest.raises(pydantic.ValidationError, match="needs its easting and northing"):
        PostcodeColumns(oa=None, easting=None)
    assert PostcodeColumns(oa=None).easting == "oseast1m"
