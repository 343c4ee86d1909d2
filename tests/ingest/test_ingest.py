"""Ingest: encodings, header mapping and the clear errors for bad extracts."""

import duckdb
import pytest
from openpyxl import Workbook

from pipeline.ingest import IngestError, detect_encoding, ingest_service
from tests.helpers import tiny_config


def _ingest(tmp_path, path, **service):
    svc = {"name": "svc", "label": "Svc", "file": str(path),
           "columns": {"postcode": "Postcode", "record_id": "Ref"}} | service
    cfg = tiny_config(tmp_path, [svc])
    con = duckdb.connect()
    res = ingest_service(con, cfg, cfg.services[0])
    return con, res


def test_utf8_with_bom_and_row_numbers(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes("\ufeffRef,Postcode\nA1,dm4 7qx\n,\nA2, DM1 1AB \n".encode())
    con, res = _ingest(tmp_path, p)
    rows = con.execute("SELECT row_number, row_blank, record_id, postcode FROM ingest_svc").fetchall()
    assert rows == [(1, False, "A1", "dm4 7qx"), (2, True, None, None), (3, False, "A2", "DM1 1AB")]
    assert res.rows == 3


def test_windows_1252_detected_and_read(tmp_path):
    p = tmp_path / "cp.csv"
    p.write_bytes("Ref;Postcode;Note\nA1;DM4 7QX;£5 caf\xe9\n".encode("cp1252"))
    assert detect_encoding(p, None) == "cp1252"
    raw_before = p.read_bytes()
    con, res = _ingest(tmp_path, p)
    assert res.encoding == "cp1252" and res.notes
    assert con.execute("SELECT postcode FROM ingest_svc").fetchall()[0][0] == "DM4 7QX"
    assert p.read_bytes() == raw_before  # the raw extract is never modified


def test_missing_column_names_file_field_and_columns(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("Reference,Zip Code\nA1,DM4 7QX\n")
    with pytest.raises(IngestError) as err:
        _ingest(tmp_path, p)
    msg = str(err.value)
    assert "bad.csv" in msg and "'postcode'" in msg and "Zip Code" in msg and "'record_id'" in msg


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(IngestError, match="empty"):
        _ingest(tmp_path, empty)
    header = tmp_path / "header.csv"
    header.write_text("Ref,Postcode\n")
    with pytest.raises(IngestError, match="no data rows"):
        _ingest(tmp_path, header)


def test_xlsx_sheets_and_title_rows(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws.append(["exported by the CRM"])
    ws2 = wb.create_sheet("Records")
    ws2.append(["Garden waste subscribers, March"])
    ws2.append([])
    ws2.append(["Ref", "Postcode", "Garden waste"])
    ws2.append(["G1", "DM4 7QX", "YES"])
    ws2.append(["G2", "dm47qx", "NO"])
    p = tmp_path / "g.xlsx"
    wb.save(p)
    with pytest.raises(IngestError, match=r"2 sheets \['Notes', 'Records'\]"):
        _ingest(tmp_path, p)
    con, res = _ingest(tmp_path, p, sheet="Records", options=["Garden waste"])
    assert res.rows == 2
    assert con.execute(
        "SELECT record_id, option_garden_waste FROM ingest_svc ORDER BY row_number"
    ).fetchall() == [("G1", "YES"), ("G2", "NO")]


def test_usual_council_header_names_recognised(tmp_path):
    p = tmp_path / "names.csv"
    p.write_text("REF,PCODE,Address Line 1,UPRN\nA1,DM4 7QX,5 Oak Road,990000000001\n")
    con, _ = _ingest(tmp_path, p, columns={"record_id": "Ref", "postcode": "Post Code",
                                            "address_1": "Address1", "uprn": "Property UPRN"})
    assert con.execute("SELECT record_id, postcode, address_1, uprn FROM ingest_svc").fetchall() == [
        ("A1", "DM4 7QX", "5 Oak Road", "990000000001")]


@pytest.mark.parametrize("delim", [",", "\t", ";", "|"])
def test_csv_title_rows_and_delimiter_detected(tmp_path, delim):
    p = tmp_path / "titled.csv"
    body = [f"Stop smoking attendees{delim}exported 01/04/2025", "", delim.join(["Ref", "Postcode", "Note"]),
            delim.join(["A1", "DM4 7QX", "first"]), delim.join(["A2", "DM1 1AB", "second"])]
    p.write_text("\n".join(body) + "\n")
    con, res = _ingest(tmp_path, p)
    assert res.rows == 2
    assert con.execute("SELECT row_number, record_id, postcode FROM ingest_svc ORDER BY 1").fetchall() == [
        (1, "A1", "DM4 7QX"), (2, "A2", "DM1 1AB")]


def test_declared_utf8_that_is_not_names_byte_and_line(tmp_path):
    p = tmp_path / "lies.csv"
    p.write_bytes("Ref,Postcode\nA1,DM4 7QX\nA2 caf\xe9,DM1 1AB\n".encode("cp1252"))
    with pytest.raises(IngestError) as err:
        _ingest(tmp_path, p, encoding="utf-8")
    msg = str(err.value)
    assert "lies.csv" in msg and "line 3" in msg and "encoding" in msg and "cp1252" in msg
