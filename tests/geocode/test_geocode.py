"""Geocode by postcode: every row gets exactly one outcome, with the right reason."""

import duckdb

from pipeline.geocode import MATCH_LEVELS, REJECT_REASONS, geocode_service
from pipeline.ingest import ingest_service
from tests.helpers import make_ref_postcodes, tiny_config

ROWS = [
    ("R1", "DM4 7QX", "postcode_live"),
    ("R2", "dm47qx", "postcode_live"),            # lower case, unspaced
    ("R3", "  DM4   7QX ", "postcode_live"),       # extra spaces
    ("R4", "DM1 2AB", "postcode_terminated"),
    ("R5", "", "missing_postcode"),
    ("R6", "DM4 7", "partial_postcode"),          # the sector alone
    ("R7", "12345", "invalid_postcode"),
    ("R8", "DM4 7QC", "invalid_postcode"),         # C is not a legal inward letter
    ("R9", "DM9 9ZZ", "postcode_not_found"),
    ("R10", "DN1 1AA", "out_of_area"),
    ("R11", "DM2 3AB", "postcode_no_oa"),
    ("R12", "DM9 1ZX", "postcode_non_geographic"),  # a PO box: no grid reference in the directory
    ("R13", "DM4 7LU", "postcode_live"),            # a large user's postcode: matched and flagged
    ("R14", " dm4 ", "partial_postcode"),          # the district alone
    ("R1", "DM4 7QX", "duplicate_row"),            # exact copy of the first row
]


def test_every_row_gets_exactly_one_outcome(tmp_path):
    lines = ["Ref,Postcode"] + [f"{r},{p}" for r, p, _ in ROWS] + [","]
    path = tmp_path / "svc.csv"
    path.write_text("\n".join(lines) + "\n")
    cfg = tiny_config(tmp_path, [{"name": "svc", "label": "S", "file": str(path),
                                  "columns": {"record_id": "Ref", "postcode": "Postcode"}}])
    con = duckdb.connect()
    make_ref_postcodes(con, [
        ("DM4 7QX", "E00900001", "E05900001", True),
        ("DM1 2AB", "E00900002", "E05900001", False),
        ("DN1 1AA", "E00990001", "E05990001", True),
        ("DM2 3AB", None, None, True),
        ("DM9 1ZX", "E00900001", "E05900001", True, True),  # non-geographic
        ("DM4 7LU", "E00900001", "E05900001", True, False, True),  # large user
    ])
    con.execute("""CREATE TABLE ref_oa AS SELECT * FROM (VALUES
        ('E00900001', 'E05900001'), ('E00900002', 'E05900001')) t(oa21cd, ward_code)""")
    res = ingest_service(con, cfg, cfg.services[0])
    counts = geocode_service(con, cfg.services[0])

    got = dict(con.execute(
        "SELECT row_number, coalesce(match_level, reject_reason) FROM geocode_svc").fetchall())
    expected = {i + 1: outcome for i, (_, _, outcome) in enumerate(ROWS)} | {len(ROWS) + 1: "blank_row"}
    assert got == expected
    assert sum(counts.values()) == res.rows == len(ROWS) + 1
    assert set(counts) == set(MATCH_LEVELS + REJECT_REASONS)
    # matched rows carry the directory's OA and ward; rejected rows carry none
    oas = dict(con.execute("SELECT row_number, oa21cd FROM geocode_svc").fetchall())
    assert oas[2] == "E00900001" and oas[4] == "E00900002" and oas[10] is None
    flagged = con.execute("SELECT row_number FROM geocode_svc WHERE postcode_large_user").fetchall()
    assert flagged == [(13,)]
