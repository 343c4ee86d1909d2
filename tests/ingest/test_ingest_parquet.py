"""Parquet extracts: the same rows as the CSV they came from give the same `ingest_<service>` (row
numbers, blank flags, row kinds, hashes, age bands, outcomes); a file that is not Parquet, a folder of
parts and a mapped column of a floating-point type are errors naming the file and the fix, at
`insight validate` as in the stage."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.ingest import IngestError, ingest_service
from pipeline.ingest.validation import check, extract_columns
from pipeline.privacy import AgeRule
from tests.extract_samples import COLUMNS, config, write_csv, write_parquet


def _table(tmp_path, path, **service):
    cfg = config(tmp_path, path, **service)
    con = duckdb.connect()
    result = ingest_service(con, cfg, cfg.services[0], AgeRule.of(cfg))
    return con.execute(f"SELECT {COLUMNS} FROM ingest_svc ORDER BY row_number").fetchall(), result


def test_a_parquet_extract_and_the_same_csv_give_the_same_table(tmp_path):
    from_csv, csv_result = _table(tmp_path, write_csv(tmp_path))
    from_parquet, parquet_result = _table(tmp_path, write_parquet(tmp_path))
    assert from_parquet == from_csv
    assert [r[0] for r in from_csv] == list(range(1, 11))
    assert from_csv[1][1] and from_csv[2][2] == "header_repeat" and from_csv[9][2] == "footer_row"
    assert from_csv[4][-1] == 1  # the duplicate of row 1
    assert from_csv[1][-1] == from_csv[5][-1] == from_csv[8][-1] == 2  # an empty line hashes as empty cells
    assert parquet_result.encoding == "parquet"
    for got in ("rows", "dob_counts", "read", "not_read"):
        assert getattr(parquet_result, got) == getattr(csv_result, got), got
    assert parquet_result.outcome_values == csv_result.outcome_values


def test_typed_columns_are_read_as_text_and_floats_refused(tmp_path):
    path = tmp_path / "typed.parquet"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * FROM (VALUES (100012345678::BIGINT, 'DM4 7QX', DATE '1980-02-01', 'Yes',
                                                 TIMESTAMP '2024-01-02 03:04:05', 1.5::DOUBLE),
                                                (NULL, 'DM1 1AB', NULL, NULL, NULL, NULL))
                         t(Ref, Postcode, DOB, Quit, Seen, Score))
                    TO '{path.as_posix()}' (FORMAT parquet)""")
    rows, result = _table(tmp_path, path, columns={"record_id": "Ref", "postcode": "Postcode",
                                                   "date_of_birth": "DOB", "date": "Seen"})
    assert [r[:5] for r in rows] == [(1, False, None, "100012345678", "DM4 7QX"),
                                     (2, False, None, None, "DM1 1AB")]
    assert rows[0][7] is not None and result.dob_counts["ok"] == 1  # the DATE read by the date rule
    assert result.not_read == ["Score"]

    with pytest.raises(IngestError, match=r"'Score' \(mapped to 'address_1'\) is of Parquet type DOUBLE"):
        _table(tmp_path, path, columns={"postcode": "Postcode", "address_1": "Score"})
    found = check(config(tmp_path, path, columns={"postcode": "Postcode", "address_1": "Score"}))
    assert len(found) == 1 and "DOUBLE" in found[0] and "fix: write the column as text" in found[0]


def test_not_parquet_missing_columns_and_folders_are_clear_errors(tmp_path):
    fake = tmp_path / "fake.parquet"
    fake.write_text("Ref,Postcode\nA1,DM4 7QX\n")
    found = check(config(tmp_path, fake))
    assert len(found) == 1 and "fake.parquet" in found[0] and "not a Parquet file" in found[0]
    assert "rename it .csv" in found[0]
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(write_parquet(tmp_path).read_bytes()[:-20])
    with pytest.raises(IngestError, match="incomplete"):
        _table(tmp_path, cut)

    # a missing mapped column: the same problem as the CSV's, naming field, file and columns
    wrong = {"columns": {"postcode": "Postcode", "record_id": "Client"}}
    from_parquet = check(config(tmp_path, write_parquet(tmp_path), **wrong))
    from_csv = check(config(tmp_path, write_csv(tmp_path), **wrong))
    assert len(from_parquet) == 1 and "maps field 'record_id' to ['Client']" in from_parquet[0]
    assert from_parquet[0].split("but the file")[1] == from_csv[0].split("but the file")[1]

    parts = tmp_path / "parts"
    parts.mkdir()
    write_parquet(parts, "part-0.parquet")
    with pytest.raises(IngestError, match="folder of Parquet parts.*one Parquet file"):
        _table(tmp_path, parts)


def test_validate_reads_a_parquet_extracts_values(tmp_path):
    cfg = config(tmp_path, write_parquet(tmp_path))
    fields = ["outcome_quit", "date_of_birth"]
    got = extract_columns(cfg.services[0], fields)
    want = extract_columns(config(tmp_path, write_csv(tmp_path)).services[0], fields)
    assert got.to_dict("list") == want.to_dict("list") and len(got) == 7  # blank rows left out
