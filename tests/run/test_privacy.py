"""Privacy by design (issue 15, item 3): only mapped columns are read, a date of birth is kept only
as its age band, names, phones and emails cannot be mapped, every run leaves a privacy manifest,
and `insight purge` removes record-level data past its retention while keeping the aggregates."""

import csv
import hashlib
import io
import json
import os
import random
import re
import shutil
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from pydantic import ValidationError

from pipeline import ingest
from pipeline.cli import main
from pipeline.config import DEFAULT_AGE_BANDS, RunConfig, identifier_kind, load_config
from pipeline.ingest import ingest_service, privacy_warnings
from pipeline.privacy import MANIFEST_JSON, MANIFEST_MD, AgeRule, is_record_level, purge
from tests.helpers import relocated_raw, tiny_config

# Values that must never reach a table or an output: fictional names (checked absent from the demo
# borough's own files below), emails at example.org and phones in Ofcom's drama range 07700 900xxx.
FORENAMES = ["Ottoline", "Cuthbertina", "Perpetua", "Ebenezra", "Theodosius", "Wilhelmina"]
SURNAMES = ["Quillfeather", "Brackenridge-Oyelaran", "Fennimore-Quist", "Thistlewaite"]
TOKENS = FORENAMES + SURNAMES + ["example.org", "07700 9"]
DATE_RX = re.compile(r"\d{2}/\d{2}/\d{4}|\d{4}-\d{2}-\d{2}")


# --- names, phones and emails cannot be mapped ---------------------------------------------------


def _service(**over) -> dict:
    return {"name": "svc", "label": "Svc", "file": "x.csv", "columns": {"postcode": "Postcode"}} | over


def _config_error(tmp_path, **over) -> str:
    with pytest.raises(ValidationError) as err:
        tiny_config(tmp_path, [_service(**over)])
    return str(err.value)


@pytest.mark.parametrize("header, kind", [
    ("Forename", "name"), ("Surname", "name"), ("Client Name", "name"), ("Full name", "name"),
    ("Known As", "name"), ("Tel No", "phone number"), ("Telephone", "phone number"),
    ("Mobile", "phone number"), ("Home Phone", "phone number"), ("Contact Number", "phone number"),
    ("E-mail", "email address"), ("Email Address", "email address"),
    ("Street Name", None), ("Ward name", None), ("Building Name", None), ("Preferred contact", None),
    ("Contact Date", None), ("Post Code", None), ("Mail Address", None), ("Date of Birth", None),
])
def test_identifier_kind(header, kind):
    assert identifier_kind(header) == kind


@pytest.mark.parametrize("field", ["name", "forename", "surname", "phone", "telephone", "mobile", "email"])
def test_identifier_fields_cannot_be_mapped_and_the_message_says_why(tmp_path, field):
    msg = _config_error(tmp_path, columns={"postcode": "Postcode", field: "Whatever"})
    assert f"['{field}']" in msg and "identify a person directly" in msg
    assert "data minimisation" in msg and "Fix: remove the mapping" in msg


def test_a_standard_field_or_option_cannot_read_a_name_phone_or_email_column(tmp_path):
    msg = _config_error(tmp_path, columns={"postcode": "Postcode", "record_id": "Email Address"})
    assert "['Email Address']" in msg and "email address" in msg
    msg = _config_error(tmp_path, columns={"postcode": "Postcode", "address_1": ["Addr1", "Surname"]})
    assert "['Surname']" in msg and "names" in msg
    msg = _config_error(tmp_path, options=["Mobile"])
    assert "option column(s) ['Mobile']" in msg and "phone number" in msg
    # a house or street name is an address, not a person's name
    cfg = tiny_config(tmp_path, [_service(columns={"postcode": "Postcode", "address_1": "Building Name"})])
    assert cfg.services[0].columns["address_1"] == "Building Name"


def test_date_of_birth_and_age_band_are_not_both_mapped(tmp_path):
    msg = _config_error(tmp_path, columns={"postcode": "P", "age_band": "Age", "date_of_birth": "DOB"})
    assert "map only one of them" in msg
    svc = tiny_config(tmp_path, [_service(columns={"postcode": "P", "date_of_birth": "DOB"})]).services[0]
    assert svc.stored_fields == {"postcode", "age_band"}


@pytest.mark.parametrize("bands", [{}, {"Adults": 18}, {"Young": 0, "Old": 0}, {"A": 0, "B": 40, "C": 40}])
def test_age_bands_must_start_at_0_and_rise(tmp_path, bands):
    with pytest.raises(ValidationError, match="age_bands must name each band"):
        tiny_config(tmp_path, [_service()], privacy={"age_bands": bands})


def test_age_bands_are_read_in_age_order(tmp_path):
    """A config re-saved with its keys sorted still gives the bands youngest first."""
    cfg = tiny_config(tmp_path, [_service()], privacy={"age_bands": {"A": 0, "C": 60, "B": 40}})
    assert list(cfg.privacy.age_bands.items()) == [("A", 0), ("B", 40), ("C", 60)]


def test_privacy_defaults(tmp_path):
    cfg = tiny_config(tmp_path, [_service()])
    assert cfg.privacy.retention_days == 90 and cfg.privacy.age_reference_date is None
    assert list(cfg.privacy.age_bands) == ["Under 18", "18-24", "25-44", "45-64", "65-74", "75+"]


# --- dates of birth become age bands -------------------------------------------------------------


def test_age_band_sql_agrees_with_whole_years_on_the_reference_day():
    rule = AgeRule(DEFAULT_AGE_BANDS, None, date(2025, 6, 30))
    con = duckdb.connect()
    rule.install(con)
    cases = [  # (date of birth text, record date text, expected band)
        ("15/03/2007", "14/03/2025", "Under 18"),   # the day before the 18th birthday
        ("15/03/2007", "15/03/2025", "18-24"),      # the birthday itself
        ("2000-01-01", "31/12/2024", "18-24"),      # 24 on the last day of the year
        ("1981-01-01", "01/01/2025", "25-44"),      # 44 ...
        ("1980-01-01", "01/01/2025", "45-64"),      # ... and 45 on the day
        ("29/02/2008", "28/02/2026", "Under 18"),   # a leap-day birthday: 18 on 1 March
        ("29/02/2008", "01/03/2026", "18-24"),
        ("01/01/1950", "", "75+"),                   # no record date: the run's date (2025-06-30)
        ("01/07/1950", "not a date", "65-74"),      # 74 on the run's date
        ("1999-07-14 00:00:00", "2025-07-13 00:00:00", "25-44"),  # Excel cells
        ("12.05.1990", "12/05/2025", "25-44"),
        ("31/12/2030", "01/01/2025", None),          # born after the reference day
        ("01/01/1880", "01/01/2025", None),          # over 125: a wrong date
        ("unknown", "01/01/2025", None), ("", "01/01/2025", None), (None, None, None),
    ]
    got = [con.execute(f"SELECT {rule.sql('?', '?')}", [dob, day]).fetchall()[0][0]
           for dob, day, _ in cases]
    assert got == [want for _, _, want in cases]


def test_a_configured_reference_date_applies_to_every_record():
    rule = AgeRule(DEFAULT_AGE_BANDS, date(2020, 1, 1), date(2025, 6, 30))
    con = duckdb.connect()
    rule.install(con)
    # 17 on 1 January 2020, whatever the record's own date says
    sql = rule.sql("?", "'01/01/2025'")
    assert "01/01/2025" not in sql and "DATE '2020-01-01'" in sql
    assert con.execute(f"SELECT {sql}", ["02/01/2002"]).fetchall() == [("Under 18",)]
    assert rule.age_band(date(2002, 1, 2), date(2020, 1, 1)) == "Under 18"


# --- only the mapped columns are ever read ------------------------------------------------------

SECRET_NAME, SECRET_EMAIL, SECRET_PHONE = "Ottoline Quillfeather", "o.quill@example.org", "07700 900461"
COLUMNS = {"record_id": "Ref", "postcode": "Postcode", "date_of_birth": "DOB", "date": "Seen"}


def _rows() -> list[list[str]]:
    head = ["Ref", "Forename", "Surname", "Email", "Mobile", "DOB", "Postcode", "Seen", "Notes"]
    return [head,
            ["R1", *SECRET_NAME.split(), SECRET_EMAIL, SECRET_PHONE, "17/03/1961", "DM4 7QX", "01/04/2024",
             "café"],
            ["R2", "Perpetua", "Thistlewaite", "p.t@example.org", "07700 900462", "02/11/2008", "DM1 1AB",
             "02/11/2026", ""],
            ["R3", "", "", "", "", "not known", "DM1 1AB", "", ""]]


def _write(path: Path, rows, fmt: str) -> None:
    if fmt == "xlsx":
        wb = openpyxl.Workbook()
        for r in rows:
            wb.active.append(r)
        wb.save(path)
        return
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode({"utf8": "utf-8", "cp1252": "cp1252", "utf16": "utf-16"}[fmt]))


@pytest.mark.parametrize("fmt", ["utf8", "cp1252", "utf16", "xlsx"])
def test_only_mapped_columns_reach_any_table_and_dob_becomes_a_band(tmp_path, monkeypatch, fmt):
    path = tmp_path / f"extract.{'xlsx' if fmt == 'xlsx' else 'csv'}"
    _write(path, _rows(), fmt)
    cfg = tiny_config(tmp_path, [_service(file=str(path), columns=COLUMNS)])
    seen = {}
    real = ingest.store_rows

    def spy(con, service, *args):  # the scratch table as the numbering step receives it
        seen["raw"] = [r[0] for r in con.execute(f"DESCRIBE {ingest.raw_table(service)}").fetchall()]
        seen["raw_rows"] = con.execute(f"SELECT * FROM {ingest.raw_table(service)}").fetchall()
        return real(con, service, *args)

    monkeypatch.setattr(ingest, "store_rows", spy)
    con = duckdb.connect()
    res = ingest_service(con, cfg, cfg.services[0], AgeRule.of(cfg, run_date=date(2025, 6, 30)))
    # the mapped fields, the date of birth as its band, and flags computed as the row was read
    assert [c for c in seen["raw"] if not c.startswith("__")] == ["record_id", "postcode", "age_band", "date"]
    assert {c for c in seen["raw"] if c.startswith("__")} <= {"__row_blank", "__row_kind", "__row_hash",
                                                               "__dob_status"}
    text = str(seen["raw_rows"]) + str(con.execute("SELECT * FROM ingest_svc").fetchall())
    for secret in (*SECRET_NAME.split(), SECRET_EMAIL, SECRET_PHONE, "Thistlewaite", "17/03/1961", "1961",
                   "café"):
        assert secret not in text
    # every table and view the connection holds, temporary ones included
    columns = {c for (c,) in con.execute("SELECT DISTINCT column_name FROM duckdb_columns()").fetchall()}
    assert not columns & {"DOB", "Email", "Mobile", "Forename", "Surname", "Notes", "date_of_birth"}
    got = con.execute("SELECT record_id, age_band FROM ingest_svc ORDER BY row_number").fetchall()
    # 63 on 1 April 2024; 18 on their record's date; no readable date of birth
    assert got == [("R1", "45-64"), ("R2", "18-24"), ("R3", None)]
    assert res.read == {"record_id": "Ref", "postcode": "Postcode", "date_of_birth": "DOB", "date": "Seen"}
    assert res.not_read == ["Forename", "Surname", "Email", "Mobile", "Notes"]
    assert res.identifiers == ["Forename", "Surname", "Email", "Mobile"]
    assert res.dob_unreadable == 1 and any("1 cannot be read as a date" in n for n in res.notes)
    assert res.dob_counts == {"ok": 2, "unreadable": 1, "future": 0, "too_old": 0, "given": 3}
    assert list(tmp_path.rglob("*")) == [path]  # no copy of the extract anywhere


def test_a_non_utf8_extract_keeps_its_row_numbers_blank_and_duplicate_rows(tmp_path):
    lines = ["Ref;Postcode;Surname"] + [f"R{i};DM4 7QX;Brontë" for i in range(1, 120_001)]
    lines[50_000] = ""                  # an empty line: data row 50,000, in the first batch
    lines[70_000] = lines[69_999]       # row 70,000 repeats row 69,999, in the second batch
    path = tmp_path / "big.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    columns = {"postcode": "Postcode", "record_id": "Ref"}
    cfg = tiny_config(tmp_path, [_service(file=str(path), columns=columns)])
    con = duckdb.connect()
    res = ingest_service(con, cfg, cfg.services[0])
    assert res.rows == 120_000 and res.encoding == "cp1252"
    assert con.execute("SELECT row_number FROM ingest_svc WHERE row_blank").fetchall() == [(50_000,)]
    hashes = con.execute("SELECT row_number FROM ingest_svc WHERE row_hash IN (SELECT row_hash FROM "
                         "ingest_svc GROUP BY 1 HAVING count(*) > 1) ORDER BY 1").fetchall()
    assert hashes == [(69_999,), (70_000,)]
    assert con.execute("SELECT max(row_number), count(*) FROM ingest_svc").fetchall() == [(120_000, 120_000)]


def test_validate_warns_of_name_phone_and_email_columns(tmp_path, capsys):
    path = tmp_path / "extract.csv"
    _write(path, _rows(), "utf8")
    cfg = tiny_config(tmp_path, [_service(file=str(path), columns=COLUMNS)])
    warnings = privacy_warnings(cfg)
    assert len(warnings) == 1
    assert "['Forename', 'Surname', 'Email', 'Mobile']" in warnings[0] and "not read" in warnings[0]
    assert "holding names or phone numbers or email addresses [" in warnings[0]
    assert SECRET_NAME not in warnings[0]  # header names only, never a record's content


# --- a whole run on demo-like extracts carrying names, emails, phones and dates of birth ---------


def _dob(rng: random.Random, band: str, on: date) -> date:
    """A date of birth giving an age in the extract's own band on the record's date."""
    low, _, high = band.replace("+", "-").partition("-")
    low = int(low) if low.isdigit() else 16
    high = int(high) if high.isdigit() else low + 15
    age = rng.randint(low, high)
    return on - timedelta(days=365 * age + rng.randint(0, 364) + age // 4)


def _day(value) -> date:
    """The day a record's date cell gives its age on (the run's date when it gives none)."""
    if isinstance(value, datetime):
        return value.date()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(str(value or "").strip(), fmt).date()
        except ValueError:
            pass
    return date.today()


def _identify(raw: Path, out: Path) -> dict:
    """Copies of three demo extracts (UTF-8 CSV, Windows-1252 CSV, workbook) with names, emails,
    phones and dates of birth added; returns the dates of birth by (service, row)."""
    rng = random.Random(15)
    ext = raw / "extracts"
    person = lambda i: (FORENAMES[i % len(FORENAMES)], SURNAMES[i % len(SURNAMES)])  # noqa: E731
    dobs: dict = {}
    # stop smoking: UTF-8, date of birth instead of the age band
    with open(ext / "stop_smoking_attendees.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    a, d = head.index("Age Band"), head.index("Referral Date")
    body = []
    for i, r in enumerate(rows[1:], start=1):
        first, last = person(i)
        seen = _day(r[d])
        dob = _dob(rng, r[a], seen)
        text = dob.strftime("%d/%m/%Y") if i % 50 else ("" if i % 100 else "n/k")
        if text and text != "n/k":
            dobs["stop_smoking", i] = (dob, seen)
        body.append([first, last, f"{first}.{last}{i}@example.org".lower(), f"07700 9{i % 100000:05d}",
                     text] + [c for j, c in enumerate(r) if j != a])
    with open(out / "stop_smoking.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["Forename", "Surname", "Email", "Mobile", "Date of Birth"]
                                  + [h for j, h in enumerate(head) if j != a]] + body)
    # council tax: Windows-1252, a title, names and a telephone number
    with open(ext / "council_tax_direct_debit.csv", encoding="cp1252", newline="") as fh:
        rows = list(csv.reader(fh))
    body = [r + ["Mx", *person(i), f"07700 9{i % 100000:05d}"] for i, r in enumerate(rows[1:], start=1)]
    with open(out / "council_tax.csv", "w", encoding="cp1252", newline="") as fh:
        csv.writer(fh).writerows([rows[0] + ["Title", "Forename", "Surname", "Telephone"]] + body)
    # garden waste: a workbook with a full name, an email and a date of birth as Excel dates
    wb = openpyxl.load_workbook(ext / "garden_waste_subscribers.xlsx")
    ws = wb["Subscribers"]
    ws.cell(1, 6, "Full Name"), ws.cell(1, 7, "Email Address"), ws.cell(1, 8, "DOB")
    for i in range(2, ws.max_row + 1):
        first, last = person(i)
        start = _day(ws.cell(i, 5).value)
        dob = _dob(rng, "25-74", start)
        ws.cell(i, 6, f"{first} {last}"), ws.cell(i, 7, f"{last}{i}@example.org")
        ws.cell(i, 8, datetime(dob.year, dob.month, dob.day))
        dobs["garden_waste", i - 1] = (dob, start)
    wb.save(out / "garden_waste.xlsx")
    return dobs


#: a whole run of its own, on identifying extracts (make test-slow; CI runs it)
SLOW = pytest.mark.slow


@pytest.fixture(scope="module")
def identified_run(demo_data, tmp_path_factory):
    """The pipeline run on the three identifying extracts: (config path, cfg, dates of birth)."""
    from pipeline.run import run_all

    raw, _ = demo_data
    tmp = tmp_path_factory.mktemp("privacy_run")
    extracts = tmp / "extracts"
    extracts.mkdir()
    dobs = _identify(raw, extracts)
    for path in [*raw.rglob("*.csv"), *raw.rglob("*.gpkg")]:  # the tokens are not demo data already
        text = path.read_bytes().decode("latin-1")
        assert not [t for t in TOKENS if t in text], path
    cfg = relocated_raw(Path("config/demo.yaml"), {"data/demo/raw": str(raw)})
    cfg |= {"private_dir": str(tmp / "data"), "outputs_dir": str(tmp / "outputs"),
            "privacy": {"retention_days": 30}}
    cfg["segmentation"]["n_init"] = 5
    smoking = cfg["services"][0]
    del smoking["columns"]["age_band"]
    smoking |= {"file": str(extracts / "stop_smoking.csv"),
                "columns": smoking["columns"] | {"date_of_birth": "Date of Birth"}}
    ctax = cfg["services"][1] | {"file": str(extracts / "council_tax.csv")}
    garden = cfg["services"][2] | {"file": str(extracts / "garden_waste.xlsx")}
    garden["columns"] = garden["columns"] | {"date_of_birth": "DOB"}
    cfg["services"] = [smoking, ctax, garden]
    path = tmp / "identified.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    config = load_config(path)
    run_all(config, progress=False)
    return path, config, dobs


def _warehouse_text(warehouse: Path) -> str:
    """Every distinct value of every column of every table in the warehouse, as text."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cols = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = 'main'").fetchall()
        parts = [f"{t}.{c}" for t, c in cols]
        for table, column in cols:
            parts.append(con.execute(f'SELECT string_agg(DISTINCT CAST("{column}" AS VARCHAR), chr(10)) '
                                     f'FROM "{table}"').fetchall()[0][0] or "")
    finally:
        con.close()
    return "\n".join(parts)


def _file_text(path: Path) -> str:
    """A file's text; a zip's (workbook's) members unzipped."""
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(path) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    return data.decode("utf-8", "replace")


def _leaks(text: str, dobs: dict) -> list[str]:
    """The forbidden values found in `text`: name, email and phone tokens, and dates of birth."""
    found = [t for t in TOKENS if t in text]
    births = {d.strftime(f) for d, _ in dobs.values() for f in ("%d/%m/%Y", "%Y-%m-%d")}
    return found + sorted(set(DATE_RX.findall(text)) & births)[:5]


@SLOW
def test_no_name_email_phone_or_date_of_birth_in_the_warehouse_or_outputs(identified_run):
    _, cfg, dobs = identified_run
    text = _warehouse_text(cfg.warehouse)
    assert "geocode_stop_smoking" in text and "assign_garden_waste.age_band" in text  # the scan saw them
    assert _leaks(text, dobs) == []
    assert not re.search(r"date_of_birth|\.dob\b", text, re.IGNORECASE)
    outputs = [p for p in Path(cfg.outputs).rglob("*") if p.is_file()]
    private = [p for p in Path(cfg.private).rglob("*") if p.is_file() and p.name != "warehouse.duckdb"]
    assert len(outputs) > 20 and any(p.suffix == ".xlsx" for p in outputs)
    for path in outputs + private:
        assert _leaks(_file_text(path), dobs) == [], path


@SLOW
def test_the_stored_age_band_is_the_age_on_the_records_date(identified_run):
    _, cfg, dobs = identified_run
    rule = AgeRule.of(cfg)
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        for service in ("stop_smoking", "garden_waste"):
            got = dict(con.execute(f"SELECT row_number, age_band FROM assign_{service}").fetchall())
            want = {row: rule.age_band(dob, day) for (s, row), (dob, day) in dobs.items()
                    if s == service and row in got}
            assert len(want) > 1000 and {r: got[r] for r in want} == want
            assert set(got.values()) <= set(DEFAULT_AGE_BANDS) | {None}
    finally:
        con.close()


@SLOW
def test_the_manifest_says_what_was_read_kept_for_how_long_and_what_is_shared(identified_run):
    _, cfg, dobs = identified_run
    private = Path(cfg.private)
    m = json.loads((private / MANIFEST_JSON).read_text(encoding="utf-8"))
    assert oct((private / MANIFEST_JSON).stat().st_mode & 0o777) == "0o600"
    assert m["run"] == "demo" and m["status"] == "completed up to stage render"
    assert m["retention_days"] == 30
    made = datetime.fromisoformat(m["created"])
    assert abs(datetime.now(UTC) - made) < timedelta(hours=1)
    assert datetime.fromisoformat(m["purge_due"]) - made == timedelta(days=30)
    services = {s["service"]: s for s in m["services"]}
    smoking = services["stop_smoking"]
    read = {f["field"]: f["header"] for f in smoking["fields_read"]}
    assert {"record_id", "address_1", "postcode", "sex", "ethnicity", "date", "date_of_birth"} <= set(read)
    assert read["date_of_birth"] == "Date of Birth"
    assert not [h for h in read.values() if identifier_kind(h)]
    assert smoking["identifier_columns_not_read"] == ["Forename", "Surname", "Email", "Mobile"]
    unreadable = sum(1 for i in range(1, smoking["rows_read"] + 1) if i % 100 == 50)
    assert smoking["date_of_birth"]["stored_as"] == "age_band"
    assert smoking["date_of_birth"]["dates_not_read"] == unreadable
    assert "record's own date" in smoking["date_of_birth"]["reference"]
    assert services["council_tax_dd"]["identifier_columns_not_read"] == ["Forename", "Surname", "Telephone"]
    assert services["garden_waste"]["identifier_columns_not_read"] == ["Full Name", "Email Address"]
    tables = {t["table"]: t for t in m["warehouse_tables"]}
    assert {t for t, v in tables.items() if v["record_level"]} == {
        f"{kind}_{s}" for kind in ("geocode", "assign") for s in services} | {
        t for s in cfg.surveys for t in (f"geocode_survey_{s.name}", f"survey_{s.name}_weights")}
    assert cfg.surveys  # the demo's resident survey: its respondents are record-level too
    assert "ref_postcodes" in tables and not tables["segments_oa"]["record_level"]
    assert "age_band" in tables["assign_stop_smoking"]["columns"]
    columns = [c.lower() for t in tables.values() for c in t["columns"]]
    assert not [c for c in columns if "dob" in c or "birth" in c]
    files = {f["path"]: f for f in m["private_files"]}
    assert files["rejects/"]["removed_by_purge"] and not files["profiles/"]["removed_by_purge"]
    assert m["outputs"]["aggregates_only"] and m["outputs"]["folder"] == str(cfg.outputs)
    shared = Path(cfg.outputs)
    assert set(m["outputs"]["files"]) == {str(p.relative_to(shared)) for p in shared.rglob("*")
                                          if p.is_file() and not p.name.startswith(".")}
    md = (private / MANIFEST_MD).read_text(encoding="utf-8")
    assert "**30 days**" in md and "| `assign_stop_smoking` |" in md and "Forename, Surname" in md


def _digests(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def _tables(warehouse: Path) -> set[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                          "WHERE table_schema = 'main'").fetchall()}
    finally:
        con.close()


def _purge_copy(identified_run, tmp_path, days_old: float) -> tuple[Path, RunConfig]:
    """A copy of the run's private folder whose manifest is `days_old` days old, and its config."""
    path, cfg, _ = identified_run
    private = tmp_path / "data"
    shutil.copytree(cfg.private, private)
    m = json.loads((private / MANIFEST_JSON).read_text(encoding="utf-8"))
    m["created"] = (datetime.now(UTC) - timedelta(days=days_old)).replace(microsecond=0).isoformat()
    (private / MANIFEST_JSON).write_text(json.dumps(m), encoding="utf-8")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) | {"private_dir": str(private)}
    copy = tmp_path / "purge.yaml"
    copy.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return copy, load_config(copy, check_files=False)


@SLOW
def test_purge_removes_record_level_data_past_retention_and_keeps_aggregates(identified_run, tmp_path,
                                                                              capsys):
    config, cfg = _purge_copy(identified_run, tmp_path, days_old=31)
    private, outputs = Path(cfg.private), Path(cfg.outputs)
    before_tables = _tables(cfg.warehouse)
    aggregates = {n: _digests(private / n) for n in ("profiles", "quality")}
    summary = (private / "run_summary.csv").read_bytes()
    shared = _digests(outputs)
    assert any(t.startswith("assign_") for t in before_tables) and (private / "rejects").is_dir()

    assert main(["purge", str(config), "--dry-run"]) == 0
    assert "removed record-level data" in capsys.readouterr().out
    assert _tables(cfg.warehouse) == before_tables and (private / "rejects").is_dir()

    assert main(["purge", str(config)]) == 0
    out = capsys.readouterr().out
    assert "assign_stop_smoking" in out and "rejects" in out and "kept" in out
    after = _tables(cfg.warehouse)
    assert after == {t for t in before_tables if not is_record_level(t)}
    assert {"ref_postcodes", "ref_oa", "segments_oa", "insight_warehouse"} <= after
    assert not any(t.startswith(("assign_", "geocode_")) for t in after)
    assert not (private / "rejects").exists()
    assert {n: _digests(private / n) for n in ("profiles", "quality")} == aggregates
    assert (private / "run_summary.csv").read_bytes() == summary and _digests(outputs) == shared
    m = json.loads((private / MANIFEST_JSON).read_text(encoding="utf-8"))
    assert len(m["purges"]) == 1
    assert "warehouse.duckdb: assign_garden_waste" in m["purges"][0]["tables_removed"]
    assert not any(t["record_level"] for t in m["warehouse_tables"])
    assert "## Purges" in (private / MANIFEST_MD).read_text(encoding="utf-8")
    # a second purge finds nothing left to remove
    assert main(["purge", str(config)]) == 0
    assert "none left" in capsys.readouterr().out


@SLOW
def test_purge_within_retention_removes_nothing(identified_run, tmp_path, capsys):
    config, cfg = _purge_copy(identified_run, tmp_path, days_old=29)
    before = _digests(Path(cfg.private))
    assert main(["purge", str(config)]) == 0
    assert "not due yet, nothing removed" in capsys.readouterr().out
    assert _digests(Path(cfg.private)) == before


@SLOW
def test_purge_without_a_manifest_goes_by_the_files_age(identified_run, tmp_path):
    _, cfg = _purge_copy(identified_run, tmp_path, days_old=0)
    private = Path(cfg.private)
    (private / MANIFEST_JSON).unlink()
    old = (datetime.now() - timedelta(days=40)).timestamp()
    for p in [cfg.warehouse, *(private / "rejects").iterdir(), private / "rejects"]:
        os.utime(p, (old, old))
    report = purge(cfg)
    assert report.done and not (private / "rejects").exists()
    assert not any(t.startswith("assign_") for t in _tables(cfg.warehouse))
    assert json.loads((private / MANIFEST_JSON).read_text(encoding="utf-8"))["purges"]


@SLOW
def test_purge_refuses_a_private_folder_of_another_run(identified_run, tmp_path, capsys):
    config, cfg = _purge_copy(identified_run, tmp_path, days_old=100)
    (Path(cfg.private) / ".insight-private").write_text("made by insight\nrun: other\n", encoding="utf-8")
    before = _digests(Path(cfg.private))
    assert main(["purge", str(config)]) == 2
    assert "not marked as run 'demo'" in capsys.readouterr().err
    assert _digests(Path(cfg.private)) == before
