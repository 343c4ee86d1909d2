"""The match hierarchy on the demo borough, scored against the generator's labelled addresses.

Bar: on the records whose address as written names one gazetteer entry, precision >= 99.5% and
recall >= 97% (per service); an address the gazetteer lacks is never given a UPRN; every row has
exactly one outcome.
"""

import duckdb
import pandas as pd
import pytest

from pipeline.geocode import MATCH_LEVELS, REJECT_REASONS

ADDRESS_SERVICES = ["stop_smoking", "library"]


@pytest.fixture(scope="module")
def geocoded(demo_run):
    cfg, result, _, truth = demo_run
    return cfg, result, truth


def _scored(cfg, truth, service) -> pd.DataFrame:
    t = pd.read_csv(truth / f"{service}_address_truth.csv", dtype=str, keep_default_na=False)
    planted = pd.read_csv(truth / f"{service}_truth.csv", dtype=str, keep_default_na=False)["planted"]
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    g = con.execute(f"SELECT row_number, match_level, uprn FROM geocode_{service} ORDER BY row_number").df()
    con.close()
    t["planted"] = planted
    return t.assign(row_number=t["row_number"].astype(int)).merge(g, on="row_number", validate="1:1")


@pytest.mark.parametrize("service", ADDRESS_SERVICES)
def test_address_precision_and_recall(geocoded, service):
    cfg, _, truth = geocoded
    t = _scored(cfg, truth, service)
    by_address = t[t["match_level"].isin(["address_exact", "address_fuzzy"])]
    correct = (by_address["uprn"] == by_address["expected_uprn"]).sum()
    precision = correct / len(by_address)
    # labelled: the address names one gazetteer entry, the row is not a blank or duplicate row, and
    # the record's own UPRN did not already place it
    eligible = t[t["expected_uprn"].ne("") & ~t["planted"].isin(["blank_row", "duplicate"])
                 & t["match_level"].ne("uprn")]
    recall = (eligible["uprn"] == eligible["expected_uprn"]).sum() / len(eligible)
    print(f"{service}: precision {precision:.4f} recall {recall:.4f} n={len(eligible)}")
    assert len(eligible) > 5000
    assert precision >= 0.995, precision
    assert recall >= 0.97, recall


@pytest.mark.parametrize("service", ADDRESS_SERVICES)
def test_unknown_and_ambiguous_addresses_get_no_uprn(geocoded, service):
    cfg, _, truth = geocoded
    t = _scored(cfg, truth, service)
    unknown = t[t["address_status"].eq("not_in_gazetteer")]
    assert len(unknown) > 100
    assert unknown["uprn"].isna().all()
    flat_missing = t[t["address_status"].eq("flat_missing") & t["match_level"].ne("uprn")]
    assert len(flat_missing) > 100
    wrong = flat_missing["uprn"].notna() & flat_missing["uprn"].ne(flat_missing["true_uprn"])
    assert not wrong.any()


def test_uprn_column_used_and_mistyped_uprn_falls_through(geocoded):
    cfg, _, truth = geocoded
    t = _scored(cfg, truth, "library")
    given = t[t["uprn_given"].ne("") & ~t["planted"].isin(["blank_row", "duplicate"])]
    good = given[given["uprn_given"] == given["true_uprn"]]
    bad = given[given["uprn_given"] != given["true_uprn"]]
    assert len(good) > 3000 and len(bad) > 20
    assert (good["match_level"] == "uprn").mean() > 0.99
    assert (good["uprn"] == good["true_uprn"]).mean() > 0.999
    # a mistyped UPRN is often another real one: it is refused when it contradicts the record, so
    # almost all of them fall through to the address, which finds the right one
    assert (bad["match_level"] == "uprn").mean() < 0.1
    assert (bad["uprn"] == bad["true_uprn"]).mean() > 0.85


def test_every_row_one_outcome(geocoded):
    cfg, result, _ = geocoded
    summ = result.summary.set_index("service")
    outcome_cols = list(MATCH_LEVELS + REJECT_REASONS)
    assert (summ[outcome_cols].sum(axis=1) == summ["rows_read"]).all()
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    for s in summ.index:
        both, neither = con.execute(
            f"""SELECT count(*) FILTER (match_level IS NOT NULL AND reject_reason IS NOT NULL),
                       count(*) FILTER (match_level IS NULL AND reject_reason IS NULL) FROM geocode_{s}"""
        ).fetchall()[0]
        assert both == neither == 0, s
    con.close()
