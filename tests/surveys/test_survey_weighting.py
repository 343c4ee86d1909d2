"""Raking to census margins (pipeline/surveys/weighting.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.surveys.weighting import NOT_KNOWN, MarginError, kish_n_eff, rake

# The worked example of Wikipedia's 'Iterative proportional fitting' article (section 'Example'),
# printed to six significant figures in the documentation of ProportionalFitting.jl
# (github.com/vankesteren/ProportionalFitting.jl, docs/src/index.md, 'Getting started'): the table X
# raked to row totals [150, 300, 400, 150] and column totals [200, 300, 400, 100].
SEED = np.array([[40, 30, 20, 10], [35, 50, 100, 75], [30, 80, 70, 120], [20, 30, 40, 50]])
PRINTED = np.array([[64.5585, 46.2325, 35.3843, 3.82473],
                    [49.9679, 68.1594, 156.499, 25.3742],
                    [56.7219, 144.428, 145.082, 53.7673],
                    [28.7516, 41.18, 63.0347, 17.0337]])
ROWS = {"1": 150, "2": 300, "3": 400, "4": 150}
COLS = {"1": 200, "2": 300, "3": 400, "4": 100}


def _respondents(table: np.ndarray) -> pd.DataFrame:
    """One respondent per unit of the seed table: cell (i, j) holds X_ij respondents."""
    rows, cols = np.nonzero(np.ones_like(table))
    reps = table[rows, cols]
    return pd.DataFrame({"row": np.repeat(rows + 1, reps).astype(str),
                         "col": np.repeat(cols + 1, reps).astype(str)})


def test_reproduces_the_published_raking_example_to_its_printed_precision():
    frame = _respondents(SEED)
    w = rake(frame, {"row": ROWS, "col": COLS})
    fitted = frame.assign(w=w.weight).pivot_table(index="row", columns="col", values="w", aggfunc="sum")
    got = np.array([[float(f"{v:.6g}") for v in r] for r in fitted.to_numpy()])
    np.testing.assert_array_equal(got, PRINTED)
    assert w.weight.sum() == pytest.approx(1000)


def test_design_weights_are_the_starting_weights():
    # the same table as one respondent a cell carrying the cell's count as design weight
    rows, cols = np.nonzero(np.ones_like(SEED))
    frame = pd.DataFrame({"row": (rows + 1).astype(str), "col": (cols + 1).astype(str)})
    w = rake(frame, {"row": ROWS, "col": COLS}, design=SEED[rows, cols])
    np.testing.assert_allclose(w.weight.reshape(4, 4), PRINTED, rtol=5e-6)


def test_kish_design_effect_and_effective_sample_size():
    w = np.array([1.0, 1.0, 2.0, 4.0])
    assert kish_n_eff(w) == pytest.approx(64 / 22)
    frame = pd.DataFrame({"sex": ["Female", "Female", "Male", "Male"]})
    out = rake(frame, {"sex": {"Female": 30, "Male": 70}})
    assert out.weight.tolist() == pytest.approx([15, 15, 35, 35])
    assert out.deff == pytest.approx(4 * (2 * 15**2 + 2 * 35**2) / 100**2)
    assert out.n_eff == pytest.approx(4 / out.deff)


def test_a_census_category_with_no_respondent_is_a_clear_error():
    frame = pd.DataFrame({"age_band": ["16-24", "25-34"] * 5})
    with pytest.raises(MarginError) as exc:
        rake(frame, {"age_band": {"16-24": 100, "25-34": 100, "75+": 50}}, survey="residents")
    text = str(exc.value)
    assert "no respondent in ['75+']" in text and "50 people" in text and "Fix:" in text


def test_a_category_the_census_lacks_is_a_clear_error():
    frame = pd.DataFrame({"sex": ["Female", "Male", "Other"]})
    with pytest.raises(MarginError, match=r"respondents give \['Other'\], which the census lacks"):
        rake(frame, {"sex": {"Female": 10, "Male": 10}})


def test_respondents_with_no_value_keep_their_share_and_no_weight_is_dropped():
    frame = pd.DataFrame({"sex": ["Female", "Female", "Male", None]})
    w = rake(frame, {"sex": {"Female": 50, "Male": 50}})
    assert len(w.weight) == 4 and np.all(w.weight > 0)
    assert w.weight[3] == pytest.approx(25)  # a quarter of the sample: a quarter of the population
    assert w.weight[0] + w.weight[1] == pytest.approx(w.weight[2])  # the known ones at the census split
    assert any(NOT_KNOWN in n for n in w.notes)


def test_trimming_caps_weights_and_reports_the_margin_gap():
    frame = pd.DataFrame({"g": ["a"] * 99 + ["b"]})
    w = rake(frame, {"g": {"a": 50, "b": 50}}, trim=3.0)
    assert w.weight.max() <= 3.0 * w.weight.mean() * 1.001
    assert w.trimmed == 1 and w.margin_gap > 0.5
    assert any("trimming" in n for n in w.notes)
