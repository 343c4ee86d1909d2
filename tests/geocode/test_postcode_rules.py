"""Postcodes as a person reads them: the one key rule, the letter-position rules, corrections that
count only when the directory holds the corrected postcode, and district or sector alone.

Valid and invalid forms: the six format examples of the Wikipedia article "Postcodes in the United
Kingdom" (section Formatting, CC BY-SA 4.0: EC1A 1BB, W1A 0AX, M1 1AE, B33 8TH, CR2 6XH, DN55 1PT),
and one invalid form per rule of its section Validation (first letter never Q, V, X; second never
I, J, Z; third of A9A only ABCDEFGHJKPSTUW; fourth of AA9A only ABEHMNPRVWXY; inward letters never
C, I, K, M, O, V). The corrections are the ones reported in issue 14.
"""

import duckdb
import pandas as pd
import pytest

from boundaries.loaders import check_postcode_directory, postcode_directory_sql
from pipeline.address import postcode
from pipeline.config import PostcodeDirectory
from pipeline.geocode import geocode_service
from pipeline.ingest import ingest_service
from segments.lookup import match_key
from tests.helpers import make_ref_postcodes, tiny_config

VALID = ["EC1A 1BB", "W1A 0AX", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "GIR 0AA", "M33 2UX",
         "SW1A 2AA", "BT1 1AA", "E1W 1AA", "N1P 1AA"]
INVALID = [
    "Q1A 9AA", "V1 1AA", "X1 1AA", "QA1 1AA",  # Q, V, X never first
    "AI1 1AA", "AJ1 1AA", "AZ1 1AA",  # I, J, Z never second
    "W1I 0AX", "W1L 0AX", "W1Z 0AX",  # third of A9A
    "EC1C 1BB", "EC1D 1BB", "EC1I 1BB",  # fourth of AA9A
    "M1 1CA", "M1 1AI", "M1 1AK", "M1 1MA", "M1 1AO", "M1 1VA",  # inward letters
    "M1 AAA", "11 1AA", "M 1AA", "MMM1 1AA", "M1A1 1AA", "GIR 1AA", "12345", "M1 1AAA",
]
MESSY = ["M33 2UX.", "M33 2UX,", "M33-2UX", "(M33 2UX)", "M33 2UX;", '"M33 2UX"', "'M33 2UX'",
         "M33\u200b2UX", "M33 \u2013 2UX", "M33\u20142UX", "M33\u00a02UX", "M33\t2UX", "\ufeffM33 2UX",
         "m33 2ux", "[M33 2UX]", "M33/2UX", "M33_2UX", "M33 2UX*", "M33\u00ad2UX", "M.33.2.U.X",
         "\uff2d\uff13\uff13 \uff12\uff35\uff38",  # full-width
         "\u041c33 2UX",  # Cyrillic capital EM
         "M33 2U\u03a7",  # Greek capital CHI
         " M33   2UX ", "M33 2UX\u200d", "\u00abM33 2UX\u00bb", "M33 2\u00dcX"]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    postcode.install(c)
    yield c
    c.close()


def _key(con, value):
    return con.execute("SELECT pc_key(?), pc_valid(pc_key(?))", [value, value]).fetchall()[0]


@pytest.mark.parametrize("messy", MESSY)
def test_every_messy_form_reads_as_the_postcode(con, messy):
    assert _key(con, messy) == ("M332UX", True)


@pytest.mark.parametrize("pc", VALID)
def test_valid_forms(con, pc):
    assert postcode.is_valid(pc.replace(" ", ""))
    assert _key(con, pc)[1] is True


@pytest.mark.parametrize("pc", INVALID)
def test_invalid_forms(con, pc):
    assert not postcode.is_valid(pc.replace(" ", ""))
    assert _key(con, pc)[1] is False


@pytest.mark.parametrize("given, reading", [
    ("BIIILL", "B111LL"),  # B11 1LL: the only legal reading
    ("BIOOJP", "B100JP"),  # B10 0JP
    ("BBIIIDJ", "BB111DJ"),  # BB11 1DJ (not the impossible BB1I 1DJ)
    ("G1ROAA", "GIR0AA"),  # not the impossible G1R 0AA
    ("DM4OQX", "DM40QX"),
    ("M33ZUX", "M332UX"),  # Z for 2
    ("5W1A1AA", "SW1A1AA"),  # 5 for S
    ("M332U1", "M332UL"),  # 1 for L in a unit letter
    ("BS5OAA", "BS50AA"),  # fewest changes: not B55 0AA
    ("1M11AA", None),  # IM1 or LM1: two readings, no guess
    ("BSS1AA", None),  # BS5 1AA or B5S 1AA
    ("Q1A9AA", None),  # nothing to correct: Q is never first
    ("M332UX", None),  # already valid
])
def test_corrections_only_where_one_reading_is_legal(given, reading):
    assert postcode.reading(given) == reading
    if reading:
        assert postcode.is_valid(reading)


def test_corrections_count_only_when_the_directory_holds_them(tmp_path):
    rows = [  # (postcode as given, outcome, corrected, attempted)
        ("BIIILL", "postcode_live", True, None),
        ("BIOOJP", "postcode_not_found", False, "B100JP"),  # legal, but no such postcode
        ("G1R OAA", "postcode_not_found", False, "GIR0AA"),
        ("GIR 0AA", "postcode_not_found", False, None),  # valid, not in this directory
        ("Q1A 9AA", "invalid_postcode", False, None),
        ("M33 2UX.", "postcode_live", False, None),
        ("(m33-2ux)", "postcode_live", False, None),
        ("M33 ZUX", "postcode_live", True, None),
        ("AB 10", "partial_postcode", False, None),
        ("M41", "partial_postcode", False, None),
        ("M41 7", "partial_postcode", False, None),
        ("M41-7", "partial_postcode", False, None),
        ("..", "missing_postcode", False, None),
        ("\u200b", "missing_postcode", False, None),
    ]
    path = tmp_path / "svc.csv"
    path.write_text("Ref,Postcode\n" + "".join(f'R{i},"{p}"\n' for i, (p, *_) in enumerate(rows)),
                    encoding="utf-8")
    cfg = tiny_config(tmp_path, [{"name": "svc", "label": "S", "file": str(path),
                                  "columns": {"record_id": "Ref", "postcode": "Postcode"}}])
    con = duckdb.connect()
    make_ref_postcodes(con, [("B11 1LL", "E00900001", "E05900001", True),
                             ("M33 2UX", "E00900001", "E05900001", True)])
    con.execute("CREATE TABLE ref_oa AS SELECT 'E00900001' AS oa21cd, 'E05900001' AS ward_code")
    ingest_service(con, cfg, cfg.services[0])
    counts = geocode_service(con, cfg.services[0])
    got = con.execute("""SELECT coalesce(match_level, reject_reason), postcode_corrected, postcode_attempted
                         FROM geocode_svc ORDER BY row_number""").fetchall()
    assert got == [(o, c, a) for _, o, c, a in rows]
    assert counts["postcode_live"] == 4 and counts["postcode_not_found"] == 3
    assert con.execute("SELECT postcode FROM geocode_svc WHERE row_number = 1").fetchall() == [("B11 1LL",)]


def test_one_key_rule_for_directory_and_lookups(tmp_path):
    directory = tmp_path / "pcd.csv"
    directory.write_text('pcds,oa21cd\n"m33\u00a02ux",E00900001\n"(M41 7AB)",E00900002\n,E00900003\n',
                         encoding="utf-8")
    spec = PostcodeDirectory(path=directory, columns={"postcode": "pcds", "oa": "oa21cd", "ward": None,
                                                      "lad": None, "easting": None, "northing": None,
                                                      "terminated": None, "grid_quality": None,
                                                      "user_type": None})
    con = duckdb.connect()
    check_postcode_directory(con, spec)  # defines the macro the directory SQL uses
    keys = con.execute(f"SELECT pc_key FROM ({postcode_directory_sql(spec)}) ORDER BY 1").fetchall()
    assert keys == [("M332UX",), ("M417AB",)]  # a row with no postcode is dropped
    looked_up = match_key(pd.Series(["m33\u00a02ux", "M33-2UX.", None], index=[5, 6, 7]), "postcode")
    assert looked_up.tolist() == ["M332UX", "M332UX", ""] and looked_up.index.tolist() == [5, 6, 7]


def test_ascii_shortcut_gives_the_full_rules_key():
    """pc_key's shortcut for printable ASCII equals the whole rule (pc_key_full) on 5,000 seeded
    random strings of postcode-like and punctuation characters, and on the empty and NULL values."""
    import random

    import duckdb

    from pipeline.address.postcode import install

    rng = random.Random(7)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-()'\"/;:!?&"
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(5_000)]
    con = duckdb.connect()
    install(con)
    con.execute("CREATE TABLE v AS SELECT unnest(?) AS s", [values + [""]])
    con.execute("INSERT INTO v VALUES (NULL)")
    differ = con.execute("SELECT count(*) FROM v WHERE pc_key(s) IS DISTINCT FROM pc_key_full(s)")
    assert differ.fetchone()[0] == 0
    keys = con.execute("SELECT pc_key('(m33-2ux.)'), pc_key('M33\u200b2UX')").fetchone()
    assert keys == ("M332UX", "M332UX")
