"""The classification for any area (issue 16): the area is what the config says, errors say the
fix, and `python -m segments` validates as `insight run` does."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.cli import main as insight
from pipeline.config import load_config
from segments.__main__ import main as segments_main
from segments.build import AreaError, build_segments
from tests.conftest import TRAFFORD

needs_trafford = pytest.mark.skipif(not (TRAFFORD / "census2021").is_dir(),
                                    reason="real Trafford data (../shared) not present")
PATTERN = "census2021-{table}-oa-trafford.csv"


def _config(tmp: Path, census_dir: Path | None = None, boundaries: Path | str | None = None,
            **segmentation) -> dict:
    cfg = {"run": "s16", "area_name": "Trafford", "outputs_dir": str(tmp / "outputs"),
           "private_dir": str(tmp / "data"),
           "census": {"dir": str(census_dir or TRAFFORD / "census2021"), "pattern": PATTERN},
           "segmentation": {"k": 8, **segmentation}}
    if boundaries is not None:
        cfg["geography"] = {
            "oa_boundaries": {"path": str(boundaries), "code_column": "area_code"},
            "wards": {"path": str(TRAFFORD / "boundaries" / "wards_2023_bgc.geojson"),
                      "code_column": "area_code", "name_column": "area_name"},
            "postcode_directory": {
                "path": str(TRAFFORD / "postcodes" / "onspd_2025_02_trafford_with_oa21_DERIVED.csv"),
                "columns": {"postcode": "postcode", "oa": "oa21cd_pip", "ward": "ward_code",
                            "lad": "la_code", "easting": "easting", "northing": "northing",
                            "terminated": None, "live_flag": "in_codepoint_open_2025_10",
                            "grid_quality": None, "user_type": None}}}
    return cfg


def _write(cfg: dict, tmp: Path) -> Path:
    path = tmp / "run.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def _segments(capsys, cfg: dict, tmp: Path) -> tuple[int, str, str]:
    code = segments_main([str(_write(cfg, tmp)), "--no-diagnostics"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _problems(err: str) -> list[str]:
    lines = err.splitlines()
    assert sum(line.startswith("error:") for line in lines) == 1, err
    return [line[4:] for line in lines if line.startswith("  - ")]


# ---------------------------------------------------------------- the area is what the config says


@needs_trafford
def test_missing_boundary_file_is_an_error(tmp_path, capsys):
    missing = tmp_path / "no_such_oa21.geojson"
    cfg = _config(tmp_path, boundaries=missing)
    code, out, err = _segments(capsys, cfg, tmp_path)
    assert code == 2 and out == ""
    assert _problems(err) == [f"geography.oa_boundaries.path: no such file or folder: {missing}. Fix: "
                              "correct the path, or create it"]
    assert not (tmp_path / "outputs").exists()
    # the build itself refuses too (a caller that skipped validation)
    with pytest.raises(AreaError, match="segmentation.scope: census"):
        build_segments(load_config(_write(cfg, tmp_path), check_files=False))


@needs_trafford
def test_no_oa_of_the_area_in_the_census_names_file_codes_and_scope_census(tmp_path, capsys):
    lsoas = TRAFFORD / "boundaries" / "lsoa21_bgc.geojson"  # the LSOA layer given as the OA layer
    cfg = _config(tmp_path, boundaries=lsoas)
    code, _, err = _segments(capsys, cfg, tmp_path)
    assert code == 2
    (problem,) = _problems(err)
    assert problem.startswith(f"geography.oa_boundaries: none of the 139 OA codes in {lsoas} (column "
                              "'area_code': E01006074, ")
    assert "among the 738 area codes of the census tables" in problem and "E00030771" in problem
    assert "do not look like Output Area codes" in problem
    assert problem.endswith("set segmentation.scope: census")
    with pytest.raises(AreaError, match="none of the 139 OA codes"):
        build_segments(load_config(_write(cfg, tmp_path), check_files=False))
    # the alternative the message offers works
    cfg["segmentation"]["scope"] = "census"
    code, out, _ = _segments(capsys, cfg, tmp_path)
    assert code == 0 and "scope census" in out and "738 OAs" in out


@needs_trafford
def test_scope_and_census_oas_printed_at_the_start(tmp_path, capsys):
    cfg = _config(tmp_path, boundaries=TRAFFORD / "boundaries" / "oa21_bgc.geojson", n_init=5,
                  k_groups=None)
    code, out, _ = _segments(capsys, cfg, tmp_path)
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("s16: scope area: classifying the OAs of ") and "738 of its 738 OAs" in first


@needs_trafford
def test_census_only_config_validates_and_builds(tmp_path, capsys):
    cfg = _config(tmp_path, scope="census", n_init=5, k_groups=None)
    path = _write(cfg, tmp_path)
    assert load_config(path).census_only
    assert insight(["validate", str(path)]) == 0
    assert "valid" in capsys.readouterr().out
    code, out, _ = _segments(capsys, cfg, tmp_path)
    assert code == 0 and "scope census: classifying every OA in the census tables" in out
    assert (tmp_path / "outputs" / "segments" / "segments_oa.csv").read_text().count("\n") == 739
    # insight run needs the geography; scope area without geography is refused by the schema
    assert insight(["run", str(path), "--quiet"]) == 2
    assert "python -m segments" in capsys.readouterr().err
    cfg["segmentation"]["scope"] = "area"
    code, _, err = _segments(capsys, cfg, tmp_path)
    assert code == 2 and _problems(err)[0].startswith("geography: Field required")


# ---------------------------------------------------------------- errors with the fix


@needs_trafford
def test_missing_census_tables_give_the_variables_and_a_drop_line(tmp_path, capsys):
    census = tmp_path / "census"
    census.mkdir()
    for f in (TRAFFORD / "census2021").glob("census2021-*.csv"):
        if not any(t in f.name for t in ("ts044", "ts062", "ts067")):
            (census / f.name).symlink_to(f)
    cfg = _config(tmp_path, census_dir=census, scope="census", drop=["v01"], n_init=5,
                  k_groups=None)
    code, _, err = _segments(capsys, cfg, tmp_path)
    assert code == 2
    (problem,) = _problems(err)  # the three tables are one problem, the folder listed once
    assert err.count("census2021-ts041-oa-trafford.csv") == 1
    assert "census tables ts044, ts062, ts067 not found" in problem
    for var in ("v35 (Detached)", "v38 (Lives in a flat)", "v47 (L15 Full-time students)",
                "v60 (Level 4 qualifications or above)"):
        assert var in problem
    line = re.search(r"^ +drop: \[.*\]$", err, re.MULTILINE)
    assert line, err
    drop = yaml.safe_load(line[0].strip())["drop"]
    assert drop[0] == "v01" and "v35" in drop and "v60" in drop and len(drop) == len(set(drop))
    cfg["segmentation"]["drop"] = drop
    code, out, err = _segments(capsys, cfg, tmp_path)
    assert code == 0, err
    assert "738 OAs" in out


# ---------------------------------------------------------------- honest labels


def test_v33_says_what_it_measures_and_how_the_official_sir_differs():
    from segments.naming import vocabulary
    from segments.variables import load_spec

    spec = load_spec().set_index("variable")
    assert spec.at["v33", "name"] == "Disabled under the Equality Act"
    assert spec.at["v33", "numerator"] == "Disabled under the Equality Act"
    notes = spec.at["v33", "notes"]
    assert "Standardised Illness Ratio" in notes and "not age-standardised" in notes
    assert vocabulary(spec.reset_index()).at["v33", "what"] == "disabled residents"


@pytest.mark.parametrize(("label", "what"), [
    ("Lone parents", "lone parents"), ("2. Professional occupations", "professional occupations"),
    ("Africa", "Africa"), ("Europe: Non-EU countries", "Europe: Non-EU countries"),
    ("Level 1, Level 2 or Apprenticeship", "Level 1, Level 2 or Apprenticeship"),
    ("UK born", "UK born"), ("Economically active: Unemployed", "Economically active: Unemployed"),
    ("Disabled under the Equality Act", "disabled under the Equality Act"),
])
def test_short_labels_keep_census_capitals_and_proper_nouns(label, what):
    from segments.naming import vocabulary

    spec = pd.DataFrame({"variable": ["x1"], "name": [label], "short_label": ["with many"]})
    assert vocabulary(spec).at["x1", "what"] == what
