"""Issue 24: the geocode stage made cheaper per record gives every record the same outcome, reason,
household key, place and flags as before, and the same rejects file.

A generated extract (every kind of row the stage judges: live, terminated, corrected, partial,
invalid, missing, unknown, non-geographic, no-OA and out-of-area postcodes; UPRNs used, contradicting
the record or unknown; addresses matched to a small gazetteer exactly and fuzzily, or giving an
address key; copies, blank lines, repeated headers and footers) is geocoded under a fixed secret,
and a digest of every column of `geocode_<service>` in row order, and of the rejects CSV, is
compared with the digest the code before issue 24 gave.

How EXPECTED was made: `git worktree add /tmp/old d2033f0` (the commit before issue 24's changes),
then `cd /tmp/old && /work/main/.venv/bin/python -c "import sys; sys.path.insert(0, '.');
sys.path.insert(0, '/work/main'); from tests.test_geocode_equal import digests; print(digests(...))"`
with this file's `digests` run against the old commit's `pipeline` package (PYTHONPATH=/tmp/old first),
once, on 2026-12-06 (with empty_lines True and False: the same digests).
"""

import hashlib
import random

import duckdb
import pandas as pd
import pytest

from pipeline import secret
from pipeline.address.matcher import GazetteerIndex
from pipeline.geocode import geocode_service, write_rejects
from pipeline.ingest import ingest_service
from tests.helpers import make_ref_postcodes, tiny_config

HEADER = "Ref,Address 1,Address 2,UPRN,Postcode"
ROWS = 6000
#: (geocode_<service> digest, rejects CSV digest), from the code of d2033f0 (see the module docstring)
EXPECTED = ("15112a498476c1cc546388afbf7b4ae92c7a7f436c14f6a5066864221cb71907",
            "e553cf2f358a4a11ef25bdfc1d5f3f6d40b9e3eb4c8e8542469cf7b9b052a31c")

#: the columns of geocode_<service> and their types, as the code of d2033f0 made them
TYPES = [("row_number", "BIGINT"), ("match_level", "VARCHAR"), ("reject_reason", "VARCHAR"),
         ("postcode", "VARCHAR"), ("oa21cd", "VARCHAR"), ("ward_code", "VARCHAR"), ("easting", "DOUBLE"),
         ("northing", "DOUBLE"), ("household_key", "VARCHAR"), ("uprn", "VARCHAR"),
         ("uprn_source", "VARCHAR"), ("match_score", "DOUBLE"), ("postcode_corrected", "BOOLEAN"),
         ("postcode_attempted", "VARCHAR"), ("postcode_terminated", "BOOLEAN"),
         ("postcode_large_user", "BOOLEAN"), ("postcode_outcome", "VARCHAR"), ("uprn_given", "VARCHAR")]

POSTCODES = [  # (pcds, oa, ward, live, non_geographic, large_user)
    ("DM4 7QX", "E00900001", "E05900001", True, False, False),
    ("DM4 7QY", "E00900002", "E05900001", True, False, False),
    ("DM4 7RA", "E00900003", "E05900002", True, False, False),
    ("DM1 2AB", "E00900002", "E05900001", False, False, False),
    ("DM0 5AB", "E00900003", "E05900002", True, False, False),  # reads DMO 5AB -> DM0 5AB
    ("DN1 1AA", "E00990001", "E05990001", True, False, False),
    ("DM2 3AB", None, None, True, False, False),
    ("DM9 1ZX", "E00900001", "E05900001", True, True, False),
    ("DM4 7LU", "E00900001", "E05900001", True, False, True),
]
GAZETTEER = [  # uprn, saon, paon, street, postcode, oa
    ("100000000001", "", "5", "HIGH STREET", "DM4 7QX", "E00900001"),
    ("100000000002", "", "7", "HIGH STREET", "DM4 7QX", "E00900001"),
    ("100000000003", "FLAT 2", "9", "LOW ROAD", "DM4 7QY", "E00900002"),
    ("100000000004", "", "11", "MILL LANE", "DM4 7RA", "E00900003"),
    ("100000000005", "", "3", "CHURCH WALK", "DM1 2AB", "E00900002"),
]
ADDRESSES = ["5 High Street", "7 HIGH STREET", "Flat 2, 9 Low Road", "11 Mill Lane", "3 Church Walk",
             "5 Hihg Street", "11 Mill Lne", "22 Nowhere Close", "Flat 9, 40 Some Road", ""]
RAW_POSTCODES = ["DM4 7QX", "dm47qx", " DM4  7QY ", "DM4 7RA", "DM1 2AB", "DMO 5AB", "DN1 1AA", "DM2 3AB",
                 "DM9 1ZX", "DM4 7LU", "DM4 7", "DM4", "12345", "DM4 7QC", "DM9 9ZZ", "", "N/A", "DM4-7QX",
                 "DM4 7QX."]
UPRNS = ["", "", "", "", "100000000001", "100000000004", "100000000009", "100000000003 ", "abc"]


def extract_lines(n: int = ROWS, seed: int = 24, empty_lines: bool = True) -> list[str]:
    """`n` data lines of a dirty extract, the same for every run of the test; without
    `empty_lines`, a blank row is a row of empty cells, never an empty line (ingest then numbers
    the rows as read, without the blank-line step)."""
    rng = random.Random(seed)
    lines: list[str] = []
    for i in range(n):
        u = rng.random()
        if u < 0.01 and lines:
            lines.append(rng.choice(lines))  # an exact copy of an earlier row
        elif u < 0.015:
            lines.append("" if empty_lines else ",,,,")  # a blank line
        elif u < 0.017:
            lines.append(",,,,")  # a row of empty cells
        elif u < 0.019:
            lines.append(HEADER)  # the header again
        elif u < 0.021:
            footers = ["Total,,,,", "End of report,,,,", "Page 3 of 9,,,,", "Total,,,,DM4 7QX"]
            lines.append(rng.choice(footers))
        else:
            addr = rng.choice(ADDRESSES)
            a1, _, a2 = addr.partition(", ") if rng.random() < 0.5 else (addr.replace(",", ""), "", "")
            lines.append(f"R{i},{a1},{a2},{rng.choice(UPRNS)},{rng.choice(RAW_POSTCODES)}")
    return lines


def setup(con) -> None:
    make_ref_postcodes(con, [(p, oa, w, live, ng, lu) for p, oa, w, live, ng, lu in POSTCODES])
    con.execute("""CREATE TABLE ref_oa AS SELECT * FROM (VALUES ('E00900001', 'E05900001'),
        ('E00900002', 'E05900001'), ('E00900003', 'E05900002')) t(oa21cd, ward_code)""")
    gaz = pd.DataFrame([{"uprn": u, "saon": s, "paon": p, "street": st, "locality": "", "town": "DENBY",
                         "postcode": pc, "pc_key": pc.replace(" ", ""), "x": 1.0 + k, "y": 2.0 + k,
                         "oa21cd": oa, "ward_code": "E05900001"}
                        for k, (u, s, p, st, pc, oa) in enumerate(GAZETTEER)])
    con.register("gaz_frame", gaz)
    con.execute("CREATE TABLE ref_gazetteer AS SELECT * FROM gaz_frame")
    con.execute("""CREATE TABLE ref_uprn AS SELECT uprn, postcode, pc_key, oa21cd, ward_code, x, y,
                   'gazetteer' AS source FROM gaz_frame""")
    con.unregister("gaz_frame")


def digests(tmp_path, types: list | None = None, empty_lines: bool = True) -> tuple[str, str]:
    """(digest of geocode_svc, digest of its rejects CSV) for the generated extract; `types`, if
    given, gets the table's (column, type) pairs."""
    path = tmp_path / "svc.csv"
    path.write_text("\n".join([HEADER, *extract_lines(empty_lines=empty_lines)]) + "\n", encoding="utf-8")
    cfg = tiny_config(tmp_path, [{"name": "svc", "label": "S", "file": str(path),
                                  "columns": {"record_id": "Ref", "address_1": "Address 1",
                                              "address_2": "Address 2", "uprn": "UPRN",
                                              "postcode": "Postcode"}}])
    con = duckdb.connect()
    secret.install(con, key=bytes(range(32)))  # a fixed secret: the same keys on every machine
    setup(con)
    gaz = con.execute("SELECT uprn, saon, paon, street, locality, town, postcode, pc_key FROM ref_gazetteer "
                      "ORDER BY uprn").df()
    service = cfg.services[0]
    ingest_service(con, cfg, service)
    geocode_service(con, service, GazetteerIndex(gaz, 70.0, 5.0))
    rejects = write_rejects(con, service, tmp_path / "private")
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE geocode_svc").fetchall()]
    cols = [c for c, _ in described]
    if types is not None:
        types.extend(described)
    text = "\n".join("|".join("" if v is None else str(v) for v in row) for row in con.execute(
        f"SELECT {', '.join(cols)} FROM geocode_svc ORDER BY row_number").fetchall())
    con.close()
    return (hashlib.sha256(("|".join(cols) + "\n" + text).encode()).hexdigest(),
            hashlib.sha256(rejects.read_bytes()).hexdigest())


@pytest.mark.parametrize("empty_lines", [True, False])
def test_geocode_outcomes_and_keys_unchanged(tmp_path, monkeypatch, empty_lines):
    """With empty lines (ingest's numbering around them) and without (rows numbered as read): an
    empty line is a blank row hashed as a row of empty cells, so the code of d2033f0 gave both
    extracts the same digests."""
    monkeypatch.setenv(secret.SECRET_ENV, str(tmp_path / "keys" / ".insight-secret"))
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / ".insight-secret").write_text(bytes(range(32)).hex() + "\n", encoding="ascii")
    (tmp_path / "keys" / ".insight-secret").chmod(0o600)
    types: list = []
    assert digests(tmp_path, types, empty_lines) == EXPECTED
    assert types == TYPES


def test_engine_bounded_by_the_machine_or_the_environment(tmp_path, monkeypatch):
    """A run's DuckDB has a memory limit and threads (60% of the machine's memory and its CPUs by
    default, INSIGHT_MEMORY_LIMIT and INSIGHT_THREADS override) and spills into the private folder."""
    from pipeline import warehouse

    monkeypatch.delenv(warehouse.MEMORY_ENV, raising=False)
    monkeypatch.delenv(warehouse.THREADS_ENV, raising=False)
    got = warehouse.engine_settings()
    mb = int(str(got["memory_limit"]).removesuffix("MB"))
    assert abs(mb * 2**20 - warehouse.machine_memory() * warehouse.MEMORY_SHARE) < 2**21
    assert got["threads"] >= 1
    monkeypatch.setenv(warehouse.MEMORY_ENV, "1GB")
    monkeypatch.setenv(warehouse.THREADS_ENV, "1")
    monkeypatch.setenv(secret.SECRET_ENV, str(tmp_path / "keys" / ".insight-secret"))
    cfg = tiny_config(tmp_path, [{"name": "svc", "label": "S", "file": "x.csv",
                                  "columns": {"record_id": "Ref", "postcode": "Postcode"}}])
    con = warehouse.connect(cfg, fresh=True)
    settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                "('memory_limit', 'threads', 'temp_directory')").fetchall())
    con.close()
    assert settings["threads"] == "1"
    assert settings["memory_limit"].replace(" ", "") in ("953.6MiB", "1.0GiB", "1GB", "1000.0MB")
    spill = tmp_path / "private" / warehouse.TEMP_DIR
    assert settings["temp_directory"] == str(spill) and spill.is_dir()
    assert oct(spill.stat().st_mode & 0o777) == "0o700"
    monkeypatch.setenv(warehouse.MEMORY_ENV, "150%")
    try:
        warehouse.engine_settings()
    except ValueError as exc:
        assert "INSIGHT_MEMORY_LIMIT" in str(exc)
    else:
        raise AssertionError("a share over 100% is refused")
