"""The classification method piece by piece: k-means, transform, hierarchy, description,
palette, fit, diagnostics, config variables and deterministic outputs (no real data needed)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from pipeline.config import RunConfig, Segmentation
from segments.build import variable_spec
from segments.describe import describe, grand_index, read_names
from segments.diagnostics import k_diagnostics, plot_choose_k, plot_clustergram
from segments.fit import bootstrap_stability, fit_table
from segments.hierarchy import build_hierarchy, code_key
from segments.kmeans import _single, fit_kmeans, wcss
from segments.outputs import write_segments
from segments.palette import OKABE_ITO, supergroup_colours
from segments.synthetic import national_values
from segments.transform import reference_ranges, standardise
from segments.variables import SpecError


def _blobs(n_per: int, centres: np.ndarray, sd: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(centres)), n_per)
    return centres[truth] + rng.normal(0, sd, (len(truth), centres.shape[1])), truth


def test_kmeans_labels_by_size_and_deterministic():
    centres = np.array([[0, 0], [5, 5], [10, 0]], dtype=float)
    x, truth = _blobs(50, centres, 0.5, 1)
    x = np.vstack([x, x[truth == 1][:20] + 0.01])  # cluster 1 is now the largest
    one, two = fit_kmeans(x, 3, n_init=10, seed=3), fit_kmeans(x, 3, n_init=10, seed=3)
    assert np.array_equal(one.labels, two.labels)
    assert list(np.bincount(one.labels)) == [70, 50, 50]
    assert np.allclose(one.centres[0], [5, 5], atol=0.3)
    assert one.wcss == pytest.approx(wcss(x, one.labels))
    with pytest.raises(ValueError, match="cannot make 3 clusters from 2 rows"):
        fit_kmeans(x[:2], 3)


def test_kmeans_subsample_route_reaches_the_best_single_start():
    """The two-stage route (starts on a subsample, refine on all rows) matches the best of many
    full-data single starts on an input with many local optima."""
    from threadpoolctl import threadpool_limits

    v = national_values(n=6_000, p=12, seed=5)
    x = standardise(v).to_numpy()
    with threadpool_limits(1):
        fit = fit_kmeans(x, 8, n_init=30, seed=1, sample_size=2_000)
        singles = [_single(x, 8, s).inertia_ for s in range(30)]
    assert fit.sampled
    best = min(singles)
    assert max(singles) > best * 1.001  # there are worse local optima to avoid
    assert fit.wcss <= best * (1 + 1e-4)


def test_standardise_asinh_range_reference_and_weights():
    values = pd.DataFrame({"a": [0.0, 10.0, 100.0], "b": [5.0, 5.0, 5.0]})
    z = standardise(values)
    assert z["a"].tolist() == pytest.approx(
        [0.0, np.arcsinh(10) / np.arcsinh(100), 1.0])
    assert (z["b"] == 0).all()  # a constant column becomes 0
    same = standardise(values, reference=reference_ranges(values))
    pd.testing.assert_frame_equal(z, same)
    wider = pd.DataFrame({"min": [0.0, 0.0], "max": [1000.0, 10.0]}, index=["a", "b"])
    zr = standardise(values * [1, 1] + [0, 0], reference=wider)
    assert zr.loc[2, "a"] == pytest.approx(np.arcsinh(100) / np.arcsinh(1000))
    narrow = pd.DataFrame({"min": [0.0, 0.0], "max": [10.0, 10.0]}, index=["a", "b"])
    assert standardise(values, reference=narrow)["a"].max() == 1.0  # clipped
    w = standardise(values, weights=pd.Series({"a": 2.0}))
    assert w["a"].max() == 2.0
    with pytest.raises(ValueError, match=r"\['b'\]"):
        standardise(values, reference=wider.loc[["a"]])


def _matrix(seed: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    values = national_values(n=600, p=12, seed=seed)
    return values, standardise(values)


def test_hierarchy_codes_nest_and_follow_the_oac_pattern():
    values, matrix = _matrix()
    codes, centres, total = build_hierarchy(matrix, 4, 3, {"1a": 3}, n_init=10, seed=1)
    codes = codes.set_index("oa21cd")
    assert set(codes["supergroup"]) == {"1", "2", "3", "4"}
    assert (codes.apply(lambda r: r["group"].startswith(r["supergroup"]), axis=1)).all()
    assert (codes.apply(lambda r: r["subgroup"].startswith(r["group"]), axis=1)).all()
    assert set(codes.loc[codes["supergroup"] == "1", "group"]) == {"1a", "1b", "1c"}
    assert set(codes.loc[codes["group"] == "1a", "subgroup"]) == {"1a1", "1a2", "1a3"}
    assert set(codes.loc[codes["group"] == "1b", "subgroup"]) == {"1b1", "1b2"}  # default 2
    sizes = codes["supergroup"].value_counts()
    assert list(sizes.loc[["1", "2", "3", "4"]]) == sorted(sizes, reverse=True)
    assert centres["group"].shape == (12, 12) and list(centres) == ["supergroup", "group",
                                                                      "subgroup"]
    assert total == pytest.approx(wcss(matrix.to_numpy(), codes["supergroup"].to_numpy()))
    assert sorted(["1a1", "10", "2", "1", "1b", "1a"], key=code_key) == \
        ["1", "1a", "1a1", "1b", "2", "10"]


def test_describe_grand_index_names_file_colours_and_portraits(tmp_path):
    values, matrix = _matrix()
    codes, _, _ = build_hierarchy(matrix, 3, 2, None, n_init=5, seed=2)
    codes = codes.sort_values("oa21cd").reset_index(drop=True)
    gi = grand_index(codes, values).set_index(["level", "segment", "variable"])["index"]
    members = codes.loc[codes["supergroup"] == "2", "oa21cd"]
    expected = 100 * values.loc[members, "v03"].mean() / values["v03"].mean()
    assert gi[("supergroup", "2", "v03")] == pytest.approx(expected, abs=0.05)
    names_file = tmp_path / "names.csv"
    names_file.write_text("code,name,description\n1,Family suburbs,Mostly semis.\n1b,Newer "
                          "estates,\n")
    hh = pd.Series(100, index=values.index)
    named, pens = describe(codes, matrix, values, {v: f"Var {v}" for v in values.columns},
                           read_names(names_file), hh)
    assert list(named.columns) == ["level", "segment", "segment_name", "description", "colour"]
    assert named.groupby("level").size().to_dict() == {"group": 6, "supergroup": 3}
    by = named.set_index("segment")
    assert by.loc["1", "segment_name"] == "Family suburbs"
    assert by.loc["1", "description"] == "Mostly semis."
    assert by.loc["1b", "segment_name"] == "Newer estates"
    assert by.loc["2", "segment_name"] == "Segment 2"  # the vocabulary has no words for "Var v.."
    assert by.loc["1a", "colour"] == by.loc["1b", "colour"] == by.loc["1", "colour"] == \
        OKABE_ITO[0]
    p = pens.set_index("segment")
    n1 = int((codes["supergroup"] == "1").sum())
    assert p.loc["1", "oas"] == n1 and p.loc["1", "households"] == 100 * n1
    # supergroups against the area, groups against their supergroup, each index against the same
    assert p.loc["2", "distinctive"].startswith("Against the area: over-represented: Var ")
    assert "(index " in p.loc["2", "distinctive"]
    assert p.loc["1a", "distinctive"].startswith("Against its parent (supergroup 1): ")
    (tmp_path / "dup.csv").write_text("code,name\n1,a\n1,b\n")
    with pytest.raises(ValueError, match="more than once"):
        read_names(tmp_path / "dup.csv")


def test_palette_fixed_and_colour_blind_safe():
    colours = supergroup_colours(["3", "1", "2"])
    assert colours == {"1": "#E69F00", "2": "#56B4E9", "3": "#009E73"}
    assert supergroup_colours([str(i) for i in range(1, 9)])["8"] == "#999999"
    assert len(set(supergroup_colours([str(i) for i in range(1, 16)]).values())) == 15


def test_fit_flags_the_worst_five_percent_and_bootstrap_is_high_on_clear_clusters():
    centres = np.array([[0, 0], [6, 6], [12, 0]], dtype=float)
    x, truth = _blobs(100, centres, 0.7, 2)
    matrix = pd.DataFrame(x, index=[f"E{i:08d}" for i in range(len(x))], columns=["a", "b"])
    fit = fit_kmeans(x, 3, n_init=5, seed=1)
    codes = pd.DataFrame({"oa21cd": matrix.index, "supergroup": (fit.labels + 1).astype(str)})
    cents = pd.DataFrame(fit.centres, index=["1", "2", "3"], columns=["a", "b"])
    table = fit_table(codes, matrix, cents)
    assert table["weak"].sum() == 15
    assert table.loc[table["weak"], "distance"].min() >= table.loc[~table["weak"],
                                                                   "distance"].max()
    boot = bootstrap_stability(matrix, codes["supergroup"], 3, n_init=3, resamples=5)
    assert (boot["jaccard"] > 0.95).all() and boot["oas"].sum() == 300
    noise = pd.DataFrame(np.random.default_rng(0).random((300, 2)), columns=["a", "b"])
    weak = bootstrap_stability(noise, pd.Series(np.repeat(["1", "2", "3", "4", "5", "6"], 50)),
                               6, n_init=3, resamples=5)
    assert weak["jaccard"].mean() < 0.5  # labels with no structure behind them are unstable


def test_diagnostics_table_and_figures_are_deterministic(tmp_path):
    _, matrix = _matrix()
    table, labels = k_diagnostics(matrix, ks=range(2, 7), n_init=5, seed=1)
    assert list(table["k"]) == [2, 3, 4, 5, 6]
    assert table["wcss"].is_monotonic_decreasing
    assert ((table["silhouette"] > -1) & (table["silhouette"] < 1)).all()
    digests = []
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        plot_choose_k(table, folder / "choose_k.png", chosen=4)
        plot_clustergram(matrix, labels, folder / "clustergram.png")
        digests.append([hashlib.sha256((folder / f).read_bytes()).hexdigest()
                        for f in ("choose_k.png", "clustergram.png")])
    assert digests[0] == digests[1]
    assert (tmp_path / "a" / "choose_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_config_add_drop_reweight(tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text("variable,name,table,numerator,denominator,short_label\n"
                     "x01,Lone parents,ts003,Single family household: Lone parent family,Total,"
                     "lone parents\n")
    spec = variable_spec(Segmentation(add_variables=extra, drop=["v01", "v02"],
                                      weights={"v10": 2.5}))
    assert len(spec) == 59 and "x01" in set(spec["variable"])
    assert not {"v01", "v02"} & set(spec["variable"])
    assert spec.set_index("variable").loc["v10", "weight"] == 2.5
    with pytest.raises(SpecError) as err:
        variable_spec(Segmentation(drop=["v99"], weights={"zz": 2}))
    assert len([p for p in err.value.problems if "v99" in p or "'zz'" in p]) == 2


def test_written_tables_are_byte_identical(tmp_path):
    from segments.build import _finish

    values, matrix = _matrix()
    files = {}
    for run in ("one", "two"):
        codes, centres, total = build_hierarchy(matrix, 3, 2, 2, n_init=5, seed=9)
        result = _finish(codes, matrix, values, {}, centres, total, Segmentation(), None,
                         "kmeans", None)
        cfg = RunConfig.model_validate({
            "run": run, "area_name": "x", "outputs_dir": str(tmp_path / run),
            "geography": {"oa_boundaries": {"path": "x", "code_column": "c"},
                          "wards": {"path": "w", "code_column": "c"},
                          "postcode_directory": {"path": "p"}},
            "census": {"dir": "c"}, "services": []})
        folder = write_segments(cfg, result)
        files[run] = {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}
    assert files["one"] == files["two"]
    assert {"segments_oa.csv", "segment_names.csv", "pen_portraits.csv", "grand_index.csv",
            "centres.csv", "oa_fit.csv", "names_template.csv"} <= set(files["one"])
    oa = pd.read_csv(tmp_path / "one" / "segments" / "segments_oa.csv", dtype=str)
    assert list(oa.columns) == ["oa21cd", "segment", "supergroup", "group", "subgroup"]
    assert (oa["segment"] == oa["supergroup"]).all()
    assert adjusted_rand_score(oa["segment"], oa["supergroup"]) == 1.0


# ---------------------------------------------------------------- small and unusual areas (issue 27)


def test_no_segment_below_the_minimum_size_and_the_notes_say_why():
    from segments.hierarchy import MinSize

    centres = np.array([[0, 0], [6, 6], [12, 0]], dtype=float)
    x, _ = _blobs(20, centres, 0.5, 4)
    x = np.vstack([x, [[30.0, 30.0]]])  # one outlying OA: k-means gives it a supergroup alone
    matrix = pd.DataFrame(x, index=[f"E{i:08d}" for i in range(len(x))], columns=["a", "b"])
    codes, _, _ = build_hierarchy(matrix, 4, None, None, n_init=5, seed=1)
    assert codes["supergroup"].value_counts().min() == 1
    notes: list[str] = []
    codes, centres_, _ = build_hierarchy(matrix, 4, 3, None, n_init=5, seed=1,
                                         size=MinSize(oas=3), notes=notes)
    assert codes["supergroup"].nunique() == 3 and codes["supergroup"].value_counts().min() >= 3
    assert codes["group"].value_counts().min() >= 3
    assert notes[0] == ("supergroups: the area made into 3, not 4: with 4 one would have had 1 "
                        "Output Area, fewer than segmentation.min_oas 3")
    # households count too
    hh = np.full(len(x), 10.0)
    notes = []
    codes, _, _ = build_hierarchy(matrix, 3, 3, None, n_init=5, seed=1,
                                  size=MinSize(1, 75, hh), notes=notes)
    sizes = pd.Series(hh).groupby(codes["group"].to_numpy()).sum()
    assert sizes.min() >= 75 and any("segmentation.min_households 75" in n for n in notes)


def test_communal_oas_are_recognised_assigned_to_their_nearest_segment_and_flagged(tmp_path):
    from pipeline.config import Census
    from segments.build import assign_nearest, communal_oas

    census = tmp_path / "census"
    census.mkdir()
    (census / "census2021-ts001-oa.csv").write_text(
        "date,geography,geography code,Residence type: Total; measures: Value,Residence type: Lives "
        "in a household; measures: Value,Residence type: Lives in a communal establishment; "
        "measures: Value\n2021,E00000001,E00000001,468,162,306\n"
        "2021,E00000002,E00000002,300,290,10\n2021,E00000003,E00000003,0,0,0\n")
    cfg = Census(dir=census, pattern="census2021-{table}-oa.csv")
    oas = pd.Index(["E00000001", "E00000002", "E00000003", "E00000004"])
    # a boarding school: 306 of 468 residents in a communal establishment (65%)
    assert list(communal_oas(cfg, oas, 50.0)) == [True, False, False, False]
    assert not communal_oas(cfg, oas, None).any()
    codes = pd.DataFrame({"oa21cd": ["a", "b", "c", "d"], "supergroup": ["1", "1", "2", "2"],
                          "group": ["1a", "1b", "2a", "2b"]})
    centres = {"supergroup": pd.DataFrame([[0.0], [10.0]], index=["1", "2"]),
               "group": pd.DataFrame([[-1.0], [1.0], [9.0], [11.0]],
                                     index=["1a", "1b", "2a", "2b"])}
    extra = assign_nearest(codes, centres, pd.DataFrame([[4.0], [8.5]], index=["x", "y"]))
    # nearest supergroup first, then the nearest group within it (2a is nearer 4.0 overall)
    assert extra.values.tolist() == [["x", "1", "1b"], ["y", "2", "2a"]]
    fit = fit_table(pd.concat([codes, extra], ignore_index=True),
                    pd.DataFrame([[0.0], [0.0], [10.0], [10.0], [4.0], [8.5]],
                                 index=["a", "b", "c", "d", "x", "y"]),
                    centres["supergroup"], pd.Index(["x", "y"]))
    assert fit.loc[fit["communal"], "oa21cd"].tolist() == ["x", "y"]


def test_guide_and_map_flag_communal_oas_and_a_disagreeing_seed(tmp_path):
    from pipeline.render.guide import _notes
    from pipeline.render.visuals import COMMUNAL_NOTE, communal_oas, segment_layer

    pd.DataFrame({"oa21cd": ["E1", "E2"], "supergroup": ["1", "1"], "distance": [0.1, 0.2],
                  "weak": [False, True], "communal": [False, True]}).to_csv(
        tmp_path / "oa_fit.csv", index=False)
    pd.DataFrame({"seed": [2022, 2023], "wcss": [1.0, 1.1], "ari": [0.97, 0.69],
                  "starts": [50, 50], "hits": [3, 3]}).to_csv(tmp_path / "stability_seeds.csv",
                                                              index=False)
    notes = _notes(tmp_path)
    assert notes[0].startswith("1 Output Area is mostly residents of communal establishments")
    assert "E2" in notes[0] and "1 of 2 other seeds" in notes[1] and "0.69" in notes[1]
    assert communal_oas(tmp_path) == {"E2"}
    import geopandas as gpd
    from shapely.geometry import box

    oas = gpd.GeoDataFrame({"code": ["E1", "E2"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
                           crs=27700)
    names = pd.DataFrame({"segment": ["1"], "segment_name": ["Older couples"], "colour": ["#000"],
                          "supergroup": ["1"], "supergroup_name": ["Older couples"]})
    layer = segment_layer(oas, pd.DataFrame({"oa21cd": ["E1", "E2"], "segment": ["1", "1"]}),
                          names, {"E2"})
    assert layer["note"].tolist() == ["", COMMUNAL_NOTE]


def test_stability_rounding_agrees_with_its_threshold_and_every_tier_is_judged():
    from segments.fit import bootstrap_within, flag_weak, jaccard_text, weak_sentence

    assert jaccard_text(0.599) == "0.59" and jaccard_text(0.6) == "0.60"
    assert "Jaccard 0.59; below 60%" in weak_sentence(0.599, 20)
    centres = np.array([[0, 0], [8, 8]], dtype=float)
    x, truth = _blobs(30, centres, 0.6, 2)
    matrix = pd.DataFrame(x, columns=["a", "b"])
    codes, _, _ = build_hierarchy(matrix, 2, 2, None, n_init=3, seed=2)
    boot = bootstrap_within(matrix, codes, "group", "supergroup", n_init=2, resamples=3)
    assert set(boot["segment"]) == set(codes["group"]) and (boot["level"] == "group").all()
    names = pd.DataFrame({"level": ["supergroup", "group"], "segment": ["1", "1a"],
                          "description": ["A.", "B."]})
    boot = pd.DataFrame({"level": ["supergroup", "group"], "segment": ["1", "1a"],
                         "jaccard": [0.9, 0.599], "oas": [30, 15]})
    out = flag_weak(names, boot, 20)
    assert list(out["stability"]) == ["stable", "weak"]
    assert "Jaccard 0.59" in out.at[1, "description"]
