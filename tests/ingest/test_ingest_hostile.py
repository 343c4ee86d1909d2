"""Ingest of hostile and broken extracts (issue 10): every row counted where a reader counts it,
every failure a clear IngestError naming file, row and fix without quoting a record, and nothing
kept or changed on disk."""

import hashlib
import zipfile

import duckdb
import openpyxl
import pytest
from openpyxl import Workbook

from pipeline import ingest
from pipeline.geocode import geocode_service, write_rejects
from pipeline.ingest import IngestError, ingest_service
from tests.helpers import make_ref_postcodes, tiny_config

SECRET = "Jane Secretname"  # record content that must never reach an error message


def _cfg(tmp_path, path, **service):
    svc = {"name": "svc", "label": "Svc", "file": str(path),
           "columns": {"postcode": "Postcode", "record_id": "Ref"}} | service
    return tiny_config(tmp_path, [svc])


def _ingest(tmp_path, path, **service):
    cfg = _cfg(tmp_path, path, **service)
    con = duckdb.connect()
    return con, ingest_service(con, cfg, cfg.services[0])


def _error(tmp_path, path, **service) -> str:
    with pytest.raises(IngestError) as err:
        _ingest(tmp_path, path, **service)
    msg = str(err.value)
    assert path.name in msg and SECRET not in msg and "Original Line" not in msg
    return msg


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _geocode(con, cfg):
    """Geocode the ingested `svc` against a directory holding DM4 7QX; return row_number -> outcome."""
    make_ref_postcodes(con, [("DM4 7QX", "E00900001", "E05900001", True)])
    con.execute("CREATE TABLE ref_oa AS SELECT 'E00900001' AS oa21cd, 'E05900001' AS ward_code")
    geocode_service(con, cfg.services[0])
    return dict(con.execute("SELECT row_number, coalesce(match_level, reject_reason) FROM geocode_svc")
                .fetchall())


def test_empty_line_is_a_blank_row_and_later_row_numbers_hold(tmp_path):
    lines = ["Ref,Postcode,Name"] + [f"R{i},DM4 7QX,{SECRET}" for i in range(1, 2001)]
    lines[700] = ""                      # data line 700 is empty
    lines[1500] = f"R1500,NOT A PC,{SECRET}"
    path = tmp_path / "blank.csv"
    path.write_text("\n".join(lines) + "\n")
    cfg = _cfg(tmp_path, path)
    con = duckdb.connect()
    res = ingest_service(con, cfg, cfg.services[0])
    assert res.rows == 2000              # every data line, the empty one included
    got = con.execute("SELECT row_number, row_blank, record_id FROM ingest_svc ORDER BY 1").fetchall()
    assert [r[0] for r in got] == list(range(1, 2001))
    assert [r[0] for r in got if r[1]] == [700]
    assert all(ref == f"R{n}" for n, blank, ref in got if not blank)
    outcomes = _geocode(con, cfg)
    assert outcomes[700] == "blank_row" and outcomes[1500] == "invalid_postcode"
    assert sum(o == "postcode_live" for o in outcomes.values()) == 1998
    rejects = write_rejects(con, cfg.services[0], cfg.private).read_text().splitlines()
    assert rejects[1:] == ["700,blank_row,,", "1500,invalid_postcode,NOT A PC,"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_bom_read_as_such(tmp_path, encoding):
    text = "Ref,Postcode,Street\r\nR1,DM4 7QX,Zoë Café\r\nR2,dm4 7qx,Siân\r\n"
    path = tmp_path / "wide.csv"
    path.write_bytes("\ufeff".encode(encoding) + text.encode(encoding))
    before = _digest(path)
    cfg = _cfg(tmp_path, path, columns={"postcode": "Postcode", "record_id": "Ref", "address_1": "Street"})
    con = duckdb.connect()
    res = ingest_service(con, cfg, cfg.services[0])
    assert res.rows == 2 and res.encoding == encoding and not res.notes
    got = con.execute("SELECT record_id, postcode, address_1 FROM ingest_svc ORDER BY row_number").fetchall()
    assert got == [("R1", "DM4 7QX", "Zoë Café"), ("R2", "dm4 7qx", "Siân")]
    assert _geocode(con, cfg) == {1: "postcode_live", 2: "postcode_live"}
    assert _digest(path) == before and not (cfg.private / "interim").exists()


def test_bom_contradicting_the_declared_encoding_is_refused(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes("\ufeffRef,Postcode\nR1,DM4 7QX\n".encode("utf-16"))
    assert "UTF-16" in _error(tmp_path, path, encoding="cp1252")
    assert "not an encoding" in _error(tmp_path, path, encoding="utf-9")


def test_cp1252_extract_is_decoded_without_a_copy_on_disk(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_bytes(f"Ref,Postcode,Name\nR1,DM4 7QX,{SECRET} caf\xe9\n".encode("cp1252"))
    before = _digest(path)
    con, res = _ingest(tmp_path, path)
    assert res.rows == 1 and res.encoding == "cp1252" and res.not_read == ["Name"]
    assert list(tmp_path.rglob("*")) == [path]  # no interim copy: nothing written at all
    assert con.execute("SELECT record_id, postcode FROM ingest_svc").fetchall() == [("R1", "DM4 7QX")]
    # and when the load fails part-way (no such column), still nothing is written
    msg = _error(tmp_path, path, columns={"postcode": "Postcode", "record_id": "Reference"})
    assert "'record_id'" in msg
    assert list(tmp_path.rglob("*")) == [path]
    assert _digest(path) == before


def test_line_over_128_kb_in_the_first_lines(tmp_path):
    note = "n" * 300_000
    path = tmp_path / "long.csv"
    path.write_text("Extract notes: " + "t" * 200_000 + "\nRef,Postcode,Note\n"
                    f"R1,DM4 7QX,{note}\nR2,DM4 7QX,short\n")
    con, res = _ingest(tmp_path, path)
    assert res.rows == 2
    assert con.execute("SELECT row_number, record_id FROM ingest_svc ORDER BY 1").fetchall() == [
        (1, "R1"), (2, "R2")]


def test_line_breaks_inside_quoted_fields(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_bytes(b'Ref,Postcode,Address 1\r\nR1,DM4 7QX,"Flat 2\r\n\r\n5 Oak Road"\r\n'
                     b'R2,DM4 7QX,"6 Oak Road"\r\n\r\nR3,DM4 7QX,"7 ""The Oaks"""\r\n')
    con, res = _ingest(tmp_path, path, columns={"postcode": "Postcode", "record_id": "Ref",
                                                "address_1": "Address 1"})
    assert res.rows == 4                 # three records and one empty line; not 6 lines
    assert con.execute("SELECT row_number, row_blank, record_id, address_1 FROM ingest_svc ORDER BY 1"
                       ).fetchall() == [(1, False, "R1", "Flat 2\r\n\r\n5 Oak Road"),
                                        (2, False, "R2", "6 Oak Road"), (3, True, None, None),
                                        (4, False, "R3", '7 "The Oaks"')]


def test_unclosed_quote_far_down_names_row_and_line_not_content(tmp_path):
    rows = [f"R{i},DM4 7QX,ok" for i in range(1, 5001)]
    path = tmp_path / "quote.csv"
    tail = f'R5001,DM4 7QX,"{SECRET}\nR5002,DM4 7QX,ok\n'
    path.write_text("Ref,Postcode,Name\n" + "\n".join(rows) + "\n" + tail)
    msg = _error(tmp_path, path)
    assert "row 5001 (line 5002)" in msg and "never closed" in msg and "Fix:" in msg


def test_unclosed_quote_near_the_top_and_text_after_a_quote(tmp_path):
    path = tmp_path / "sniff.csv"
    path.write_text(f'Ref,Postcode,Name\nR1,DM4 7QX,ok\nR2,DM4 7QX,"{SECRET}\nR3,DM4 7QX,ok\n')
    msg = _error(tmp_path, path)
    assert "row 2 (line 3)" in msg and "never closed" in msg and "Error when sniffing" not in msg
    path.write_text(f'Ref,Postcode,Name\nR1,DM4 7QX,"{SECRET}"x\nR2,DM4 7QX,ok\nR3,DM4 7QX,"a"b\n')
    msg = _error(tmp_path, path)
    assert "row 1 (line 2)" in msg and "row 3 (line 4)" in msg and "closing" in msg  # both listed


def test_overlong_line_reported_without_its_content(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(f"Ref,Postcode,Name\nR1,DM4 7QX,ok\nR2,DM4 7QX,{SECRET}" + "z" * 2_500_000 + "\n")
    msg = _error(tmp_path, path)
    assert "line 3" in msg and "bytes" in msg and "zzzz" not in msg and len(msg) < 1000


def test_duckdb_read_error_gives_its_cause_and_line_without_content(tmp_path):
    rows = "".join(f"R{i},DM4 7QX,ok\n" for i in range(1, 30001))  # past DuckDB's 20,480-row sample
    path = tmp_path / "wide.csv"
    path.write_text(f"Ref,Postcode,Name\n{rows}R30001,DM4 7QX,{SECRET},Flat 2\n")
    msg = _error(tmp_path, path)
    assert "line 30002 has 4 fields where the rows above have 3" in msg and "quotes" in msg
    assert "Flat 2" not in msg


def test_header_far_down_gets_a_header_row_hint(tmp_path):
    path = tmp_path / "deep.csv"
    titles = [f"Report line {i}" for i in range(1, 26)]
    path.write_text("\n".join(titles + ["Ref;Postcode;Name", f"R1;DM4 7QX;{SECRET}", "R2;DM4 7QX;x"]) + "\n")
    msg = _error(tmp_path, path)
    assert "header_row: 26" in msg and "line 26" in msg
    con, res = _ingest(tmp_path, path, header_row=26)  # the hint works, delimiter detected on line 26
    assert res.rows == 2
    assert con.execute("SELECT record_id, postcode FROM ingest_svc ORDER BY row_number").fetchall() == [
        ("R1", "DM4 7QX"), ("R2", "DM4 7QX")]
    assert "only 28 lines" in _error(tmp_path, path, header_row=40)


def test_record_read_as_header_is_not_quoted(tmp_path):
    path = tmp_path / "noheader.csv"
    path.write_text(f"R1,DM4 7QX,{SECRET}\nR2,DM4 7QX,x\n")
    assert "looks like a record" in _error(tmp_path, path)


def _workbook(path, rows):
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def test_csv_named_xlsx(tmp_path):
    path = tmp_path / "renamed.xlsx"
    path.write_text(f"Ref,Postcode\nR1,{SECRET}\n")
    msg = _error(tmp_path, path)
    assert "not an Excel workbook" in msg and "rename it .csv" in msg


def test_truncated_and_damaged_workbooks(tmp_path):
    good = _workbook(tmp_path / "good.xlsx", [["Ref", "Postcode"], ["R1", SECRET]])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert "damaged or incomplete" in _error(tmp_path, cut)
    broken = tmp_path / "broken.xlsx"  # a sound zip whose worksheet XML is cut short
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    assert "damaged" in _error(tmp_path, broken)


@pytest.mark.parametrize("name", ["old.xls", "old_renamed.xlsx", "old_renamed.csv"])
def test_real_xls_says_how_to_convert(tmp_path, name):
    path = tmp_path / name  # an OLE2 compound file, the container of every .xls (what is detected)
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + SECRET.encode())
    msg = _error(tmp_path, path)
    assert ".xls" in msg and "LibreOffice" in msg and "save it as an Excel Workbook (.xlsx)" in msg
    assert "CSV" in msg


def test_formulas_without_saved_values_give_a_note(tmp_path):
    path = _workbook(tmp_path / "calc.xlsx", [["Ref", "Postcode", "Raw"], ["R1", '=C2', "DM4 7QX"],
                                              ["R2", '=UPPER(C3)', "dm4 7qx"], ["R3", "DM4 7QX", "x"]])
    con, res = _ingest(tmp_path, path)
    assert res.rows == 3 and len(res.notes) == 1
    assert "calc.xlsx" in res.notes[0] and "2 formula cell(s)" in res.notes[0] and "B2, B3" in res.notes[0]
    assert con.execute("SELECT postcode FROM ingest_svc ORDER BY row_number").fetchall() == [
        (None,), (None,), ("DM4 7QX",)]
    plain = _workbook(tmp_path / "plain.xlsx", [["Ref", "Postcode"], ["R1", "DM4 7QX"]])
    assert _ingest(tmp_path, plain)[1].notes == []


def test_xlsx_expanded_size_capped_before_parsing(tmp_path, monkeypatch):
    rows = [["Ref", "Postcode"]] + [[f"R{i}", "A" * 300] for i in range(8000)]
    path = _workbook(tmp_path / "bomb.xlsx", rows)
    assert path.stat().st_size < 1_000_000
    assert _ingest(tmp_path, path)[1].rows == 8000  # under the default cap (200 MB) it loads

    def never(*args, **kwargs):
        raise AssertionError("the workbook was parsed before its size was checked")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    msg = _error(tmp_path, path, max_xlsx_mb=1)
    assert "expands to 3 MB" in msg and "1 MB limit" in msg and "raise services.svc.max_xlsx_mb" in msg


def test_service_file_that_is_a_folder(tmp_path):
    folder = tmp_path / "extracts"
    folder.mkdir()
    (folder / "march.csv").write_text("Ref,Postcode\n")
    msg = _error(tmp_path, folder)
    assert "is a folder, not a file" in msg and "march.csv" in msg


def test_run_lists_every_service_problem_at_once(tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    quote = tmp_path / "q.csv"
    quote.write_text(f'Ref,Postcode\nR1,"{SECRET}\n')
    good = tmp_path / "good.csv"
    good.write_text("Ref,Postcode\nR1,DM4 7QX\n")
    cols = {"postcode": "Postcode", "record_id": "Ref"}
    cfg = tiny_config(tmp_path, [{"name": n, "label": n, "file": str(f), "columns": cols}
                                 for n, f in (("a", folder), ("b", quote), ("c", good))])
    with pytest.raises(IngestError) as err:
        ingest.run(duckdb.connect(), cfg)
    assert len(err.value.problems) == 2
    assert "dir" in err.value.problems[0] and "q.csv" in err.value.problems[1]
    assert SECRET not in str(err.value)


# --- rows and headers far wider than any export (issue 23) ----------------------------------------

WIDE = """
import resource, sys
import duckdb
from pipeline.ingest import IngestError, ingest_service
from tests.helpers import tiny_config
from pathlib import Path
tmp = Path(sys.argv[1])
cfg = tiny_config(tmp, [{"name": "svc", "label": "Svc", "file": sys.argv[2],
                         "columns": {"postcode": "Postcode", "record_id": "Ref"}}])
try:
    ingest_service(duckdb.connect(), cfg, cfg.services[0])
    print("read")
except IngestError as exc:
    print(exc)
print("peak", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _wide(tmp_path, text: str) -> tuple[str, int]:
    """(the message, peak memory in bytes) of ingesting `text` in a process of its own."""
    import subprocess
    import sys

    from tests.conftest import REPO

    path = tmp_path / "wide.csv"
    path.write_text(text)
    done = subprocess.run([sys.executable, "-c", WIDE, str(tmp_path), str(path)], capture_output=True,
                          text=True, cwd=REPO, timeout=120, check=True)
    *message, peak = done.stdout.splitlines()
    return "\n".join(message), int(peak.split()[1])


def test_a_row_of_200000_delimiters_is_a_clear_error_in_bounded_memory(tmp_path):
    """It took 17 GB and ended in 'Max expression depth limit of 1000 exceeded': DuckDB sniffed
    200,000 columns. The columns are now the header's, so the row is one too wide."""
    rows = "".join(f"R{i},DM4 7QX,ok\n" for i in range(1, 50))
    message, peak = _wide(tmp_path, f"Ref,Postcode,Name\n{rows}R50,{SECRET}," + "x," * 200_000 + "\n")
    assert "line 51 has 200,003 fields where the rows above have 3" in message and SECRET not in message
    assert peak < 1 << 30


def test_a_header_of_200000_columns_is_a_clear_error_in_bounded_memory(tmp_path):
    message, peak = _wide(tmp_path, "Ref,Postcode" + ",x" * 200_000 + "\nR1,DM4 7QX" + "," * 200_000 + "\n")
    assert "the header row (line 1) has 200,002 columns, over the limit of 16,384" in message
    assert "delimiter" in message and peak < 1 << 30


def test_validate_names_a_header_wider_than_the_limit(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("Ref,Postcode" + ",x" * 20_000 + "\nR1,DM4 7QX\n")
    problems = ingest.check(_cfg(tmp_path, path))
    assert len(problems) == 1 and "20,002 columns, over the limit of 16,384" in problems[0]
    assert problems[0].startswith("services[0] (svc): ") and "Fix: " in problems[0]


def test_a_row_wider_than_the_header_is_named_not_read_into_a_nameless_column(tmp_path):
    """The extra value had no header: DuckDB made a column for it and the value was never seen."""
    path = tmp_path / "extra.csv"
    path.write_text(f"Ref,Postcode,Name\nR1,DM4 7QX,ok\nR2,DM4 7QX,{SECRET},Flat 2\n")
    assert "line 3 has 4 fields where the rows above have 3" in _error(tmp_path, path)


def test_an_undecodable_byte_is_named_by_its_place_in_the_file(tmp_path):
    """Issue 23: the byte offset was no longer named (the error knew only its place in a chunk)."""
    path = tmp_path / "cp.csv"
    path.write_bytes(b"Ref,Postcode,Name\nR1,DM4 7QX,ok\nR2,DM4 7QX,caf\x81\n")  # 0x81: no cp1252 letter
    msg = _error(tmp_path, path, encoding="cp1252")
    assert "cannot be read as cp1252 at byte 46 (line 3)" in msg


def test_a_mapped_header_written_twice_is_named(tmp_path):
    """Issue 23: with Postcode twice, a reader took the first copy (junk here) and nobody was told."""
    path = tmp_path / "twice.csv"
    path.write_text("Ref,Postcode,Name,postcode\nR1,n/a,ok,DM4 7QX\n")
    msg = _error(tmp_path, path)
    assert "the header 'Postcode' (mapped to 'postcode') is in columns 2, 4" in msg and "fix:" in msg
    problems = ingest.check(_cfg(tmp_path, path))
    assert len(problems) == 1 and "is in columns 2, 4" in problems[0]


def test_merged_cells_below_the_header_are_a_note(tmp_path):
    """Issue 23: the cells a merge empties were read as empty without a word."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Ref", "Postcode", "Name"])
    ws.append(["R1", "DM4 7QX", "ok"])
    ws.append(["R2", "DM4 7QX", "ok"])
    ws.merge_cells("B2:B3")
    ws.merge_cells("A5:C5")
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    _, result = _ingest(tmp_path, path)
    notes = [n for n in result.notes if "merged" in n]
    assert len(notes) == 1 and "2 merged cell range(s) below the header (first: B2:B3, A5:C5)" in notes[0]
