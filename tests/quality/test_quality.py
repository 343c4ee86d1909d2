"""The match report: counts and shares by outcome, corrections, and the below-the-borough test."""

import duckdb

from pipeline.geocode import geocode_service
from pipeline.ingest import ingest_service
from pipeline.profiles.cells import CountGraph
from pipeline.publish import quality as published
from pipeline.publish.quality import register
from pipeline.publish.suppression import Disclosure
from pipeline.quality import below, run
from pipeline.summary import account
from tests.helpers import make_ref_postcodes, tiny_config


def test_below_needs_both_a_gap_and_significance():
    assert below(80.0, 95.0, 200)[1] is True  # 15 points under, z far below -3
    assert below(80.0, 95.0, 10)[1] is False  # too few records to tell
    assert below(93.0, 95.0, 5000)[1] is False  # significant but a small gap
    z, _ = below(95.0, 95.0, 100)
    assert z == 0.0


def test_report_written_with_corrections_and_suppression(tmp_path):
    rows = ["Ref,Postcode"] + [f"R{i},DM4 7QX" for i in range(20)] + ["X1,dm4 oqx", "X2,DM4 7", "X3,"]
    path = tmp_path / "svc.csv"
    path.write_text("\n".join(rows) + "\n")
    cfg = tiny_config(tmp_path, [{"name": "svc", "label": "S", "file": str(path),
                                  "columns": {"record_id": "Ref", "postcode": "Postcode"}}])
    con = duckdb.connect()
    make_ref_postcodes(con, [("DM4 7QX", "E00900001", "E05900001", True),
                             ("DM4 0QX", "E00900002", "E05900001", True)])
    con.execute("""CREATE TABLE ref_oa AS SELECT * FROM (VALUES
        ('E00900001', 'E05900001', 'Ward A'), ('E00900002', 'E05900001', 'Ward A'))
        t(oa21cd, ward_code, ward_name)""")
    con.execute("CREATE TABLE segments_oa AS SELECT * FROM (VALUES ('E00900001', '1'), ('E00900002', '1')) "
                "t(oa21cd, segment)")
    ingest_service(con, cfg, cfg.services[0])
    counts = geocode_service(con, cfg.services[0])
    # 'dm4 oqx': the inward code starts with a digit, so the letter O can only be a zero: DM4 0QX
    assert counts["postcode_live"] == 21
    assert counts["partial_postcode"] == 1 and counts["missing_postcode"] == 1
    fixed = con.execute("SELECT postcode, postcode_corrected FROM geocode_svc WHERE row_number = 21")
    fixed = fixed.fetchall()
    assert fixed == [("DM4 0QX", True)]
    report = run(con, cfg)
    assert not (cfg.outputs / "quality").exists()  # nothing shared before publication
    raw = report.match_levels.set_index("outcome")
    assert raw.loc["postcode_live", "records"] == 21 and raw.loc["partial_postcode", "records"] == 1
    assert int(report.extras.loc[0, "postcodes_corrected"]) == 1
    summ = account({"svc": 23}, {"svc": counts}).merge(report.extras, on="service")
    graph = CountGraph()
    register(graph, "svc", report, summ)
    hidden = {"svc": Disclosure(graph, cfg.suppression).hidden()}
    levels = published.match_levels(report, hidden, cfg.suppression).set_index("outcome")
    assert levels.loc["postcode_live", "records"] == 21
    assert levels.loc["partial_postcode", "records"] == "#"  # 1 record: suppressed
    corr = published.corrections(report, hidden, cfg.suppression)
    assert corr.loc[0, "postcodes_corrected"] == "#"
    shown_summary = published.summary(summ, hidden, cfg.suppression)
    assert shown_summary.loc[0, "postcodes_corrected"] == "#"
    assert shown_summary.loc[0, "partial_postcode"] == "#"
    ward = published.match_by(report.match_by_ward, "ward_code", "ward", hidden, cfg.suppression)
    # the partial postcode DM4 7 is placed by its sector, so the ward has 22 records (21 + the partial)
    assert float(ward.loc[0, "records"]) == 22 and ward.loc[0, "matched"] == 21
    assert not ward.loc[0, "below_borough"]
