"""The walking skeleton end to end on the generated demo borough (the `make demo` path)."""

import re
import zipfile

import duckdb
import pandas as pd
import pytest

SERVICES = ["stop_smoking", "council_tax_dd", "garden_waste", "library", "contact_centre"]
ADDRESS_SERVICES = ["stop_smoking", "library"]


@pytest.fixture(scope="session")
def demo(demo_run):
    return demo_run


def test_outputs_written_for_every_service(demo):
    cfg, *_ = demo
    for s in SERVICES:
        folder = cfg.outputs / s
        for suffix in ("_profile_segment.csv", "_profile_ward.csv", "_profile.xlsx", "_ward_map.html"):
            assert (folder / f"{s}{suffix}").stat().st_size > 0, f"{s}{suffix}"
    assert (cfg.outputs / "run_summary.csv").exists()
    assert (cfg.private / "warehouse.duckdb").exists()


def test_every_row_accounted_for(demo):
    cfg, result, raw, truth = demo
    summ = result.summary.set_index("service")
    for s in SERVICES:
        planted = pd.read_csv(truth / f"{s}_truth.csv")
        assert summ.loc[s, "rows_read"] == len(planted), s
        assert summ.loc[s, "rows_read"] == summ.loc[s, "matched"] + summ.loc[s, "rejected"]
        counts = planted["planted"].value_counts()
        # planted blank and duplicate rows are each found as such, exactly
        assert summ.loc[s, "blank_row"] == counts.get("blank_row", 0), s
        assert summ.loc[s, "duplicate_row"] == counts.get("duplicate", 0), s
        assert summ.loc[s, "out_of_area"] == counts.get("out_of_area", 0), s
        # every planted O/0, I/1 typo is corrected (and flagged), and nothing else is
        assert summ.loc[s, "postcodes_corrected"] == counts.get("typo_o0", 0) > 0, s
        # the postcode's own verdict finds every planted partial and terminated postcode, even where
        # the record's UPRN or address then placed it better (address services)
        con = duckdb.connect(str(cfg.warehouse), read_only=True)
        verdict = dict(con.execute(
            f"SELECT postcode_outcome, count(*) FROM geocode_{s} GROUP BY ALL").fetchall())
        misplaced = con.execute(
            f"""SELECT count(*) FROM geocode_{s} WHERE postcode_outcome = 'partial_postcode'
                AND coalesce(reject_reason, '') <> 'partial_postcode'
                AND coalesce(match_level, '') NOT IN ('uprn', 'address_exact', 'address_fuzzy')"""
        ).fetchall()[0][0]
        con.close()
        assert misplaced == 0, s
        assert verdict.get("partial_postcode", 0) == counts.get("partial", 0), s
        assert verdict.get("postcode_terminated", 0) == counts.get("terminated", 0), s
        if s not in ADDRESS_SERVICES:  # postcode only: the verdict is the outcome
            assert summ.loc[s, "partial_postcode"] == counts.get("partial", 0), s
            assert summ.loc[s, "postcode_terminated"] == counts.get("terminated", 0), s
    written = pd.read_csv(cfg.outputs / "run_summary.csv")
    assert list(written["service"]) == SERVICES


def test_geocoded_oa_is_the_true_oa(demo):
    """Records with a clean, live postcode land in the OA the generator put them in, whether the
    UPRN, the address (gazetteer point in polygon) or the postcode placed them."""
    import duckdb

    cfg, _, _, truth = demo
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    t = pd.read_csv(truth / "stop_smoking_truth.csv", dtype=str)
    con.register("truth", t)
    agree, n = con.execute(
        """SELECT count(*) FILTER (g.oa21cd = t.true_oa21cd), count(*)
           FROM geocode_stop_smoking g JOIN truth t ON g.row_number = CAST(t.row_number AS BIGINT)
           WHERE g.match_level IN ('uprn', 'address_exact', 'address_fuzzy', 'postcode_live')
             AND t.planted IN ('clean', 'lowercase', 'unspaced')"""
    ).fetchall()[0]
    con.close()
    assert n > 1000 and agree == n


def test_planted_signal_recovered(demo):
    """The segment whose households carry the highest planted stop-smoking propensity
    (household-weighted mean) has the highest index."""
    cfg, result, _, truth = demo
    types = pd.read_csv(truth / "oa_types.csv", dtype={"OA21CD": str})
    prop = pd.read_csv(truth / "propensity.csv")
    p = prop[prop["service"] == "stop_smoking"].set_index("type")["propensity"]
    seg = pd.read_csv(cfg.outputs / "segments" / "segments_oa.csv", dtype=str)
    oa = types.merge(seg, left_on="OA21CD", right_on="oa21cd")
    oa["w"] = oa["type"].map(p) * oa["households"]
    planted = oa.groupby("segment")["w"].sum() / oa.groupby("segment")["households"].sum()
    prof = result.profiles["stop_smoking"]["segment"]
    prof = prof[prof["segment_code"] != "Total"].set_index("segment_code")
    index = prof["index"].astype(float)
    assert planted.idxmax() == index.idxmax()
    assert index.max() > 150


def test_no_personal_data_in_outputs(demo):
    cfg, _, raw, truth = demo
    households = pd.read_csv(truth / "households.csv", dtype=str)
    gaz = pd.read_csv(raw / "gazetteer" / "demo_llpg.csv", dtype=str)
    ids = set()
    for name, col in [("stop_smoking_attendees.csv", "Client ID"),
                      ("library_members.csv", "Member No"),
                      ("contact_centre_log.csv", "Contact ID")]:
        ids |= set(pd.read_csv(raw / "extracts" / name, dtype=str)[col].dropna())
    tokens = set(households["uprn"].dropna()) | ids
    streets = {s for s in gaz["STREET"].dropna() if len(s) >= 6}
    texts = []
    for f in cfg.outputs.rglob("*"):
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                texts.append(" ".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist()))
        elif f.is_file() and f.suffix in (".csv", ".html", ".txt", ".md", ".json"):
            texts.append(f.read_text(encoding="utf-8", errors="ignore"))
    blob = "\n".join(texts)
    assert len(tokens) > 10_000 and len(streets) > 100
    words = set(re.findall(r"[A-Za-z0-9]+", blob))
    leaked = sorted(tokens & words)
    # a street name can be in the text only if each of its words is: only those are searched for
    leaked += [s for s in streets if set(re.findall(r"[A-Za-z0-9]+", s)) <= words and s in blob]
    assert not leaked, leaked[:10]


def test_shareable_counts_suppressed(demo):
    cfg, *_ = demo
    for f in cfg.outputs.glob("*/*_profile_*.csv"):
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "service_count" not in t:  # target lists and the cross-service matrix carry no counts
            continue
        counts = t.loc[t["segment_code"] != "Total", "service_count"]
        shown = pd.to_numeric(counts[counts != "#"])
        assert not ((shown > 0) & (shown < cfg.suppression.threshold)).any(), f
