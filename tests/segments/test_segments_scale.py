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
from segments.build import AreaError, build_segments, restarts_line
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
                              "correct the path (a relative path is read from the config file's folder), "
                              "or create it"]
    assert not (tmp_path / "outputs").exists()
    # the build itself refuses too (a caller that skipped validation)
    with pytest.raises(AreaError, match="segmentation.scope: census"):
        build_segments(load_config(_write(cfg, tmp_path), check_files=False))


@needs_trafford
@pytest.mark.slow  # classification builds of Trafford's census (make test-slow; CI runs it)
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
@pytest.mark.slow  # classification builds of Trafford's census (make test-slow; CI runs it)
def test_scope_and_census_oas_printed_at_the_start(tmp_path, capsys):
    cfg = _config(tmp_path, boundaries=TRAFFORD / "boundaries" / "oa21_bgc.geojson", n_init=5,
                  k_groups=None)
    code, out, _ = _segments(capsys, cfg, tmp_path)
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("s16: scope area: classifying the OAs of ") and "738 of its 738 OAs" in first


@needs_trafford
@pytest.mark.slow  # classification builds of Trafford's census (make test-slow; CI runs it)
def test_census_only_config_validates_and_builds(tmp_path, capsys):
    cfg = _config(tmp_path, scope="census", n_init=5, k_subgroups=None)
    path = _write(cfg, tmp_path)
    assert load_config(path).census_only
    assert insight(["validate", str(path)]) == 0
    assert "valid" in capsys.readouterr().out
    code, out, _ = _segments(capsys, cfg, tmp_path)
    assert code == 0 and "scope census: classifying every OA in the census tables" in out
    folder = tmp_path / "outputs" / "segments"
    assert (folder / "segments_oa.csv").read_text().count("\n") == 739
    # the name rule holds for the census-only build's names as written (segments.naming)
    from segments.build import census_profile, variable_spec
    from segments.census import households
    from segments.naming import name_rule_failures, vocabulary

    run = load_config(path)
    values, _, _ = census_profile(run.census, run.segmentation)
    codes = pd.read_csv(folder / "segments_oa.csv", dtype=str)
    pens = pd.read_csv(folder / "pen_portraits.csv", dtype={"segment": str}, keep_default_na=False)
    assert name_rule_failures(pens, "automatic_name", codes, values,
                              vocabulary(variable_spec(run.segmentation)),
                              households(run.census)) == []
    # insight run needs the geography; scope area without geography is refused by the schema
    assert insight(["run", str(path), "--quiet"]) == 2
    assert "python -m segments" in capsys.readouterr().err
    cfg["segmentation"]["scope"] = "area"
    code, _, err = _segments(capsys, cfg, tmp_path)
    assert code == 2 and _problems(err)[0].startswith("geography: Field required")


# ---------------------------------------------------------------- errors with the fix


@needs_trafford
@pytest.mark.slow  # classification builds of Trafford's census (make test-slow; CI runs it)
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


# ---------------------------------------------------------------- restarts that reach the optimum


@pytest.fixture(scope="module")
def rural(tmp_path_factory) -> Path:
    """A rural-district-sized area: every other Trafford OA (369), as an OA boundary file."""
    import geopandas as gpd

    oas = gpd.read_file(TRAFFORD / "boundaries" / "oa21_bgc.geojson").sort_values("area_code")
    path = tmp_path_factory.mktemp("rural") / "rural_oa21.gpkg"
    oas.iloc[::2].to_file(path)
    return path


@needs_trafford
@pytest.mark.slow  # classification builds of a rural district (make test-slow; CI runs it)
def test_rural_district_supergroups_equal_the_best_of_500_single_starts(rural, tmp_path, capsys):
    import numpy as np
    from threadpoolctl import threadpool_limits

    from segments.kmeans import _single

    cfg = _config(tmp_path, boundaries=rural)
    code, out, err = _segments(capsys, cfg, tmp_path)  # default settings, no diagnostics
    assert code == 0, err
    assert "369 of its 369 OAs" in out.splitlines()[0]
    folder = tmp_path / "outputs" / "segments"
    restarts = pd.read_csv(folder / "restarts.csv")
    top = restarts.iloc[0]
    assert top["level"] == "supergroup" and top["oas"] == 369 and top["starts"] >= 50
    assert top["hits"] >= 1 and top["stopped"] in ("hits", "best stood", "max starts")
    # group, sub-, supergroup splits kept: supergroup 7 is kept whole (with 2 groups one would have
    # had 2 OAs, under segmentation.min_oas 3), so 7 group splits and 22 groups, 3 of them kept
    # whole too; the closing lines say why each tier has fewer segments than asked
    assert list(restarts["level"].value_counts().sort_index()) == [7, 19, 1]
    fewer = [line for line in out.splitlines() if line.startswith("fewer segments: ")]
    assert len(fewer) == 4 and "groups: supergroup 7 kept whole, not split into 3" in fewer[0]
    assert "22 groups, 41 subgroups" in out
    centres = pd.read_csv(folder / "centres.csv")
    variables = [c for c in centres.columns if c not in ("level", "segment")]
    result = build_segments(load_config(_write(cfg, tmp_path)))
    x = result.variables[variables].to_numpy()
    with threadpool_limits(1):
        singles = [_single(x, 8, s, tol=0).inertia_ for s in range(500)]
    best = min(singles)
    print(f"\nrural district (369 OAs): build {result.wcss:.4f} in {int(top['starts'])} starts "
          f"(best reached by {int(top['hits'])}); best of 500 single starts {best:.4f}")
    assert result.wcss <= best * (1 + 1e-9)
    assert np.isclose(result.wcss, top["wcss"], rtol=1e-5)  # the CSV keeps 6 significant digits


def test_weak_segments_are_flagged_in_words():
    from segments.fit import flag_weak, stability_word

    names = pd.DataFrame({"level": ["supergroup", "supergroup", "group"], "segment": ["1", "2", "1a"],
                          "description": ["Mostly flats.", "Mostly houses.", "Flats by the park."]})
    boot = pd.DataFrame({"segment": ["1", "2"], "jaccard": [0.42, 0.81], "oas": [10, 20]})
    out = flag_weak(names, boot, resamples=20)
    assert list(out["stability"]) == ["weak", "stable", ""]
    assert out.at[0, "description"].startswith("Mostly flats. Caution: a weak segment. Rebuilt from 20 "
                                               "resamples")
    assert "overlapped it by only 42% on average" in out.at[0, "description"]
    assert out.at[1, "description"] == "Mostly houses." and out.at[2, "description"] == "Flats by the park."
    assert [stability_word(j) for j in (0.59, 0.6, 0.75)] == ["weak", "fairly stable", "stable"]


@needs_trafford
@pytest.mark.slow  # classification builds of a rural district (make test-slow; CI runs it)
def test_diagnostics_flag_weak_supergroups_in_the_outputs(rural, tmp_path, capsys):
    cfg = _config(tmp_path, boundaries=rural, k_subgroups=None)
    code = segments_main([str(_write(cfg, tmp_path)), "--seeds", "1", "--resamples", "5"])
    assert code == 0, capsys.readouterr().err
    folder = tmp_path / "outputs" / "segments"
    boot = pd.read_csv(folder / "stability_bootstrap.csv", dtype={"segment": str})
    names = pd.read_csv(folder / "segment_names.csv", dtype={"segment": str}, keep_default_na=False)
    pens = pd.read_csv(folder / "pen_portraits.csv", dtype={"segment": str}, keep_default_na=False)
    assert set(boot["level"]) == {"supergroup", "group"}  # every tier is judged
    for frame in (names, pens):
        every = frame.set_index(["level", "segment"])
        for row in boot.dropna(subset=["jaccard"]).itertuples():
            weak = row.jaccard < 0.6
            assert (every.at[(row.level, row.segment), "stability"] == "weak") == weak
            assert ("Caution: a weak segment" in every.at[(row.level, row.segment),
                                                          "description"]) == weak
    # the segment guide flags each weak supergroup by its heading and in its contents row
    from pipeline.config import RunConfig
    from pipeline.render.guide import write_segment_guide
    from pipeline.render.report import report_env
    from segments.fit import jaccard_text

    guide = write_segment_guide(RunConfig.model_validate(cfg), report_env(), None).read_text(encoding="utf-8")
    flags = re.findall(r"Weak segment \(bootstrap Jaccard (\d\.\d\d), below 0\.6\)", guide)
    weak = boot[boot["jaccard"] < 0.6]
    assert sorted(flags) == sorted(jaccard_text(j) for j in weak["jaccard"])  # rounded down
    assert guide.count(" (weak)</td>") == (weak["level"] == "supergroup").sum()


# ---------------------------------------------------------------- diagnostics at national scale


def test_national_diagnostics_use_a_stated_seeded_sample_and_chunked_distances():
    import numpy as np

    from segments.fit import nearest
    from segments.outputs import diagnostic_rows

    assert list(diagnostic_rows(1_000, 7)) == list(range(1_000))  # a district: every OA
    rows = diagnostic_rows(190_000, 7)
    assert len(rows) == 20_000 and len(set(rows)) == 20_000 and list(rows) == sorted(rows)
    assert np.array_equal(rows, diagnostic_rows(190_000, 7))
    rng = np.random.default_rng(1)
    x, c = rng.random((1_234, 5)), rng.random((4, 5))
    brute = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    assert np.array_equal(nearest(x, c, chunk=100), brute)


def test_restarts_line_states_the_gap_in_words_a_reader_can_use():
    from segments.kmeans import REPORT_COLUMNS

    def line(gap):
        row = dict.fromkeys(REPORT_COLUMNS) | {"level": "supergroup", "oas": 738, "k": 8, "starts": 120,
                                               "hits": 3, "wcss": 854.76, "gap_pct": gap, "stopped": "hits"}
        return restarts_line(pd.DataFrame([row], columns=REPORT_COLUMNS))

    assert "the next-best distinct solution found is 0.126% higher" in line(0.126)
    assert "under 0.001% higher" in line(2.7e-05) and "0%" not in line(2.7e-05)
    assert "every start reached it" in line(None)
    assert line(0.126).startswith("supergroups: 120 k-means starts (") and "reached by 3" in line(0.126)


@needs_trafford
def test_classification_only_config_needs_no_service_extracts(tmp_path):
    """`python -m segments` checks the files the build reads, never a service extract."""
    from pipeline.config import ConfigError
    from pipeline.validate import validate_config

    cfg = _config(tmp_path, boundaries=TRAFFORD / "boundaries" / "oa21_bgc.geojson", k_groups=None)
    cfg["services"] = [{"name": "library", "label": "Library", "columns": {"postcode": "Postcode"},
                        "file": str(tmp_path / "no_such_extract.csv")}]
    path = _write(cfg, tmp_path)
    with pytest.raises(ConfigError, match="no_such_extract"):
        validate_config(path)  # insight validate / run read the extract
    assert validate_config(path, segments_only=True).run == "s16"
    cfg["census"]["dir"] = str(tmp_path / "no_census")  # what the build reads is still checked
    with pytest.raises(ConfigError, match="census.dir: no such file"):
        validate_config(_write(cfg, tmp_path), segments_only=True)
