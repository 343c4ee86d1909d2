"""Gazetteers as published: the demo gazetteer written in each published layout (AddressBase Plus with
and without its header row, Core, Premium, an LLPG export in DTF 8.1, OS Open UPRN, zipped or not,
and the flat CSV with an Excel-float UPRN column) loads back as the same UPRNs and addresses, and
the demo's address matching gives identical results from each.

The writers lay the demo's fictional addresses out in the products' record structures
(`pipeline.address.published`: the 77 AddressBase Plus columns, the Premium and DTF 8.1 record
types 10, 11, 15, 21, 24, 28, 32, 99 with their fields in order), and add what a real supply
holds besides the approved current address: historic and Welsh-language LPIs, a provisional BLPU,
a delivery point record. The flattening must leave those out.
"""

from __future__ import annotations

import csv
import functools
import re
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.address import published, uprn
from pipeline.address.matcher import GazetteerIndex, match_frame
from pipeline.address.normalise import ascii_postcode_key

FIELDS = ["uprn", "saon", "paon", "street", "locality", "town", "postcode", "x", "y"]
#: a number range at the end of an addressable object: text, start, suffix, end, suffix
AON = re.compile(r"^(.*?)\s*(\d+)([A-Za-z]?)(?:-(\d+)([A-Za-z]?))?$")
N_ADDRESSES = 3000


def aon(value: str) -> tuple[str, str, str, str, str]:
    """(text, start number, start suffix, end number, end suffix) of a SAON or PAON, as BS 7666 holds it."""
    m = AON.match(value or "")
    if not m:
        return (value or "", "", "", "", "")
    return (m.group(1), m.group(2), m.group(3) or "", m.group(4) or "", m.group(5) or "")


def class_of(i: int) -> str:
    """Every 50th address commercial (CO01, offices), the rest dwellings (RD04)."""
    return "CO01" if i % 50 == 7 else "RD04"


def parents(gaz: pd.DataFrame) -> dict[str, str]:
    """A flat's parent UPRN: one fictional building UPRN per building (PAON, street, postcode) holding
    flats (a SAON); houses have none."""
    flats = gaz[gaz["saon"] != ""]
    keys = sorted(set(zip(flats["paon"], flats["street"], flats["postcode"], strict=True)))
    building = {k: str(970000000000 + i) for i, k in enumerate(keys)}
    return {r.uprn: building[(r.paon, r.street, r.postcode)] for r in flats.itertuples()}


@pytest.fixture(scope="module")
def gazetteer(demo_data) -> pd.DataFrame:
    """The first N_ADDRESSES addresses of the demo gazetteer (by postcode), as text."""
    raw, _ = demo_data
    gaz = pd.read_csv(raw / "gazetteer" / "demo_llpg.csv", dtype=str, keep_default_na=False)
    gaz = gaz.sort_values(["POSTCODE", "UPRN"]).head(N_ADDRESSES).reset_index(drop=True)
    gaz.columns = [c.lower() for c in gaz.columns]
    return gaz


def _streets(gaz: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    keys = sorted(set(zip(gaz["street"], gaz["locality"], gaz["town"], strict=True)))
    return {k: str(8000000 + i) for i, k in enumerate(keys)}


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


def write_flat(gaz: pd.DataFrame, path: Path, excel_uprn: bool = False) -> Path:
    rows = [["UPRN", "SAON", "PAON", "STREET", "LOCALITY", "TOWN", "POSTCODE", "X", "Y"]]
    for r in gaz.itertuples():
        u = f"{float(r.uprn):.11E}" if excel_uprn else r.uprn  # as Excel saves it: 9.90000000001E+11
        rows.append([u, r.saon, r.paon, r.street, r.locality, r.town, r.postcode, r.x, r.y])
    return _write(path, rows)


def write_plus(gaz: pd.DataFrame, path: Path, header: bool = True) -> Path:
    cols = published.ABP_PLUS_COLUMNS
    usrn, parent = _streets(gaz), parents(gaz)
    rows = [list(cols)] if header else []
    for i, r in enumerate(gaz.itertuples()):
        s, p = aon(r.saon), aon(r.paon)
        v = dict.fromkeys(cols, "")
        v.update(
            UPRN=r.uprn,
            PARENT_UPRN=parent.get(r.uprn, ""),
            UDPRN=str(50000000 + i),
            CHANGE_TYPE="I",
            STATE="2",
            CLASS=class_of(i),
            X_COORDINATE=r.x,
            Y_COORDINATE=r.y,
            RPC="1",
            LOCAL_CUSTODIAN_CODE="9999",
            COUNTRY="E",
            SAO_TEXT=s[0],
            SAO_START_NUMBER=s[1],
            SAO_START_SUFFIX=s[2],
            SAO_END_NUMBER=s[3],
            SAO_END_SUFFIX=s[4],
            PAO_TEXT=p[0],
            PAO_START_NUMBER=p[1],
            PAO_START_SUFFIX=p[2],
            PAO_END_NUMBER=p[3],
            PAO_END_SUFFIX=p[4],
            USRN=usrn[(r.street, r.locality, r.town)],
            STREET_DESCRIPTION=r.street,
            LOCALITY=r.locality,
            TOWN_NAME=r.town,
            POST_TOWN=r.town.upper(),
            POSTCODE=r.postcode,
            POSTCODE_LOCATOR=r.postcode,
            LANGUAGE="ENG",
            ALT_LANGUAGE="",
        )
        rows.append([v[c] for c in cols])
    return _write(path, rows)


def write_core(gaz: pd.DataFrame, path: Path) -> Path:
    cols = published.ABP_CORE_COLUMNS
    rows, parent = [list(cols)], parents(gaz)
    for i, r in enumerate(gaz.itertuples()):
        p = aon(r.paon)
        number = r.paon[len(p[0]) :].strip() if p[1] else ""
        v = dict.fromkeys(cols, "")
        v.update(
            UPRN=r.uprn,
            PARENT_UPRN=parent.get(r.uprn, ""),
            CLASSIFICATION_CODE=class_of(i),
            EASTING=r.x,
            NORTHING=r.y,
            SINGLE_LINE_ADDRESS=", ".join(x for x in (r.saon, r.paon, r.street, r.postcode) if x),
            SUB_BUILDING=r.saon,
            BUILDING_NAME=p[0],
            BUILDING_NUMBER=number,
            STREET_NAME=r.street,
            LOCALITY=r.locality,
            TOWN_NAME=r.town,
            POST_TOWN=r.town.upper(),
            POSTCODE=r.postcode,
        )
        rows.append([v[c] for c in cols])
    return _write(path, rows)


def write_open_uprn(gaz: pd.DataFrame, path: Path) -> Path:
    rows = [list(published.OPEN_UPRN_COLUMNS)]
    rows += [[r.uprn, r.x, r.y, "53.4", "-2.3"] for r in gaz.itertuples()]
    return _write(path, rows)


def _record(fields: tuple[str, ...], **values: str) -> list[str]:
    return [values.get(f, "") for f in fields]


def write_records(
    gaz: pd.DataFrame,
    path: Path,
    dtf: bool,
    header: bool = True,
    process_date: str = "2025-11-03",
    file_type: str = "F",
) -> Path:
    """AddressBase Premium (dtf False) or an LLPG DTF 8.1 export: every record type the flattening
    reads, plus the records it must leave out."""
    rec = published.DTF81_RECORDS if dtf else published.ABP_PREMIUM_RECORDS
    usrn, parent = _streets(gaz), parents(gaz)
    rows: list[list[str]] = []
    if header:
        rows.append(
            _record(
                rec["10"],
                RECORD_IDENTIFIER="10",
                CUSTODIAN_NAME="Demo Borough Council",
                LOCAL_CUSTODIAN_CODE="9999",
                PROCESS_DATE=process_date,
                VOLUME_NUMBER="0",
                ENTRY_DATE=process_date,
                TIME_STAMP="10:00:00",
                VERSION="8.1" if dtf else "2.0",
                FILE_TYPE=file_type,
            )
        )
    for (street, loc, town), u in usrn.items():
        rows.append(
            _record(
                rec["11"],
                RECORD_IDENTIFIER="11",
                CHANGE_TYPE="I",
                PRO_ORDER="1",
                USRN=u,
                RECORD_TYPE="1",
                SWA_ORG_REF_NAMING="9999",
                VERSION="1",
                STREET_START_DATE="2001-01-01",
                LAST_UPDATE_DATE="2020-01-01",
                RECORD_ENTRY_DATE="2001-01-01",
                STREET_TOLERANCE="10",
            )
        )
        for lang, text in (("ENG", street), ("CYM", f"Heol {street}")):
            rows.append(
                _record(
                    rec["15"],
                    RECORD_IDENTIFIER="15",
                    CHANGE_TYPE="I",
                    PRO_ORDER="2",
                    USRN=u,
                    STREET_DESCRIPTION=text,
                    LOCALITY=loc,
                    TOWN_NAME=town,
                    ADMINISTRATIVE_AREA="DEMO BOROUGH",
                    LANGUAGE=lang,
                    START_DATE="2001-01-01",
                    LAST_UPDATE_DATE="2020-01-01",
                    ENTRY_DATE="2001-01-01",
                )
            )
    for i, r in enumerate(gaz.itertuples()):
        blpu = dict(
            RECORD_IDENTIFIER="21",
            CHANGE_TYPE="I",
            PRO_ORDER="3",
            UPRN=r.uprn,
            LOGICAL_STATUS="1",
            BLPU_STATE="2",
            PARENT_UPRN=parent.get(r.uprn, ""),
            X_COORDINATE=r.x,
            Y_COORDINATE=r.y,
            RPC="1",
            LOCAL_CUSTODIAN_CODE="9999",
            COUNTRY="E",
            START_DATE="2001-01-01",
            LAST_UPDATE_DATE="2020-01-01",
            ENTRY_DATE="2001-01-01",
            ADDRESSBASE_POSTAL="D",
            POSTCODE_LOCATOR=r.postcode,
            MULTI_OCC_COUNT="0",
        )
        rows.append(_record(rec["21"], **blpu))
        s, p = aon(r.saon), aon(r.paon)
        lpi = dict(
            RECORD_IDENTIFIER="24",
            CHANGE_TYPE="I",
            PRO_ORDER="4",
            UPRN=r.uprn,
            LPI_KEY=f"9999L{i:09d}",
            LANGUAGE="ENG",
            LOGICAL_STATUS="1",
            START_DATE="2001-01-01",
            LAST_UPDATE_DATE="2020-01-01",
            ENTRY_DATE="2001-01-01",
            SAO_START_NUMBER=s[1],
            SAO_START_SUFFIX=s[2],
            SAO_END_NUMBER=s[3],
            SAO_END_SUFFIX=s[4],
            SAO_TEXT=s[0],
            PAO_START_NUMBER=p[1],
            PAO_START_SUFFIX=p[2],
            PAO_END_NUMBER=p[3],
            PAO_END_SUFFIX=p[4],
            PAO_TEXT=p[0],
            USRN=usrn[(r.street, r.locality, r.town)],
            USRN_MATCH_INDICATOR="1",
            OFFICIAL_FLAG="Y",
            POSTAL_ADDRESS="Y",
            POSTCODE=r.postcode,
            POST_TOWN=r.town.upper(),
        )
        rows.append(_record(rec["24"], **lpi))
        if i % 10 == 0:  # a historic address of the same UPRN, closed
            rows.append(
                _record(
                    rec["24"],
                    **(
                        lpi
                        | dict(
                            LPI_KEY=f"9999H{i:09d}",
                            LOGICAL_STATUS="8",
                            END_DATE="2010-01-01",
                            PAO_TEXT="Old Name",
                        )
                    ),
                )
            )
        if i % 17 == 0:  # its Welsh-language alternative
            rows.append(
                _record(
                    rec["24"],
                    **(lpi | dict(LPI_KEY=f"9999W{i:09d}", LANGUAGE="CYM", PAO_TEXT=f"Ty {p[0]}".strip())),
                )
            )
        if not dtf:
            rows.append(
                _record(
                    rec["28"],
                    RECORD_IDENTIFIER="28",
                    CHANGE_TYPE="I",
                    PRO_ORDER="5",
                    UPRN=r.uprn,
                    UDPRN=str(50000000 + i),
                    SUB_BUILDING_NAME=r.saon.upper(),
                    THOROUGHFARE=r.street.upper(),
                    POST_TOWN=r.town.upper(),
                    POSTCODE=r.postcode,
                    POSTCODE_TYPE="S",
                    DELIVERY_POINT_SUFFIX="1A",
                    PROCESS_DATE="2020-01-01",
                    START_DATE="2001-01-01",
                    LAST_UPDATE_DATE="2020-01-01",
                    ENTRY_DATE="2001-01-01",
                )
            )
        rows.append(
            _record(
                rec["32"],
                RECORD_IDENTIFIER="32",
                CHANGE_TYPE="I",
                PRO_ORDER="6",
                UPRN=r.uprn,
                CLASS_KEY=f"9999C{i:09d}",
                CLASSIFICATION_CODE=class_of(i),
                CLASS_SCHEME="AddressBase Premium Classification Scheme",
                SCHEME_VERSION="1.0",
                START_DATE="2001-01-01",
                LAST_UPDATE_DATE="2020-01-01",
                ENTRY_DATE="2001-01-01",
            )
        )
    # a provisional BLPU (a plot not yet built) and its LPI: not an address yet
    rows.append(
        _record(
            rec["21"],
            RECORD_IDENTIFIER="21",
            CHANGE_TYPE="I",
            PRO_ORDER="7",
            UPRN="990099999999",
            LOGICAL_STATUS="6",
            X_COORDINATE="428000",
            Y_COORDINATE="396000",
            RPC="1",
            POSTCODE_LOCATOR=gaz["postcode"].iloc[0],
        )
    )
    rows.append(
        _record(
            rec["24"],
            RECORD_IDENTIFIER="24",
            CHANGE_TYPE="I",
            PRO_ORDER="7",
            UPRN="990099999999",
            LPI_KEY="9999P000000001",
            LANGUAGE="ENG",
            LOGICAL_STATUS="6",
            PAO_TEXT="Plot 1",
            USRN=next(iter(usrn.values())),
            POSTCODE=gaz["postcode"].iloc[0],
        )
    )
    rows.append(["99", "0", str(len(rows)), process_date, "10:00:00"])
    return _write(path, rows)


@functools.cache
def load(path: Path, flat_columns: tuple | None = None) -> tuple[str, pd.DataFrame]:
    """(layout, the gazetteer in the one form) as the run reads it (once per file)."""
    cols = dict(flat_columns or ()) or {
        "uprn": "UPRN",
        "saon": "SAON",
        "paon": "PAON",
        "street": "STREET",
        "locality": "LOCALITY",
        "town": "TOWN",
        "postcode": "POSTCODE",
        "x": "X",
        "y": "Y",
    }
    sniffed = published.sniff(path, tuple(cols.values()))
    con = duckdb.connect()
    with published.local_files(path) as paths:
        flat = published.flatten(con, paths, sniffed, str(path), cols)
    uprn.install(con)
    df = con.execute(
        "SELECT uprn_key(uprn) AS uprn, * EXCLUDE (uprn) FROM scratch_gazetteer_flat ORDER BY 1"
    ).df()
    con.close()
    return flat.layout, df


def canonical(df: pd.DataFrame) -> pd.DataFrame:
    out = df[FIELDS].copy().fillna("")
    out["x"] = out["x"].astype(float).round(1)
    out["y"] = out["y"].astype(float).round(1)
    return out.sort_values("uprn").reset_index(drop=True)


@pytest.fixture(scope="module")
def written(gazetteer, tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("published")
    files = {
        "flat": write_flat(gazetteer, tmp / "demo_llpg.csv"),
        "flat_excel": write_flat(gazetteer, tmp / "demo_llpg_excel.csv", excel_uprn=True),
        "plus": write_plus(gazetteer, tmp / "AddressBasePlus_demo.csv"),
        "plus_no_header": write_plus(
            gazetteer, tmp / "AddressBasePlus_FULL_2025-11-03_001.csv", header=False
        ),
        "core": write_core(gazetteer, tmp / "AddressBaseCore_demo.csv"),
        "premium": write_records(gazetteer, tmp / "AddressBasePremium_FULL_2025-11-03_001.csv", dtf=False),
        "premium_no_header": write_records(gazetteer, tmp / "abp_cut.csv", dtf=False, header=False),
        "dtf81": write_records(gazetteer, tmp / "llpg_dtf81.csv", dtf=True),
        "dtf81_no_header": write_records(gazetteer, tmp / "llpg_dtf81_cut.csv", dtf=True, header=False),
    }
    zipped = tmp / "AB76GB_CSV.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(files["premium"], "data/AddressBasePremium_FULL_2025-11-03_001.csv")
    files["premium_zip"] = zipped
    return files


EXPECTED_LAYOUT = {
    "flat": "flat",
    "flat_excel": "flat",
    "plus": "addressbase_plus",
    "plus_no_header": "addressbase_plus",
    "core": "addressbase_core",
    "premium": "addressbase_premium",
    "premium_no_header": "addressbase_premium",
    "premium_zip": "addressbase_premium",
    "dtf81": "dtf81",
    "dtf81_no_header": "dtf81",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_LAYOUT))
def test_each_layout_loads_the_same_uprns_and_addresses(kind, written, gazetteer):
    layout, df = load(written[kind])
    assert layout == EXPECTED_LAYOUT[kind]
    want = canonical(gazetteer.assign(uprn=gazetteer["uprn"].str.lstrip("0")))
    got = canonical(df)
    assert len(got) == len(want) == N_ADDRESSES  # no historic, Welsh or provisional address kept
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("kind", ["plus", "core", "premium", "dtf81"])
def test_class_codes_are_kept(kind, written, gazetteer):
    _, df = load(written[kind])
    by_uprn = dict(zip(df["uprn"], df["class_code"], strict=True))
    want = {u.lstrip("0"): class_of(i) for i, u in enumerate(gazetteer["uprn"])}
    assert by_uprn == want
    assert sum(not c.startswith("R") for c in by_uprn.values()) == N_ADDRESSES // 50


def test_open_uprn_places_uprns_with_no_address(written, gazetteer, tmp_path):
    path = write_open_uprn(gazetteer, tmp_path / "osopenuprn_202511.csv")
    layout, df = load(path)
    assert layout == "open_uprn"
    assert sorted(df["uprn"]) == sorted(gazetteer["uprn"].str.lstrip("0"))
    assert df["street"].isna().all() and df["x"].notna().all()


def test_demo_matching_is_identical_from_every_layout(written, gazetteer, demo_data):
    """The demo's stop smoking records whose postcode is in the sample, matched to each layout's load."""
    raw, _ = demo_data
    ext = pd.read_csv(raw / "extracts" / "stop_smoking_attendees.csv", dtype=str, keep_default_na=False)
    address = ext[["Address Line 1", "Address Line 2", "Address Line 3"]].agg(" ".join, axis=1).str.strip()
    records = pd.DataFrame(
        {
            "row_number": range(len(ext)),
            "address": address,
            "postcode": [ascii_postcode_key(p) for p in ext["Post Code"]],
            "widen": False,
        }
    )
    keys = {ascii_postcode_key(p) for p in gazetteer["postcode"]}
    records = records[records["postcode"].isin(keys) & records["address"].ne("")].reset_index(drop=True)
    assert len(records) > 50
    results = {}
    for kind in ("flat", "flat_excel", "plus", "premium", "dtf81"):
        _, df = load(written[kind])
        results[kind] = match_frame(GazetteerIndex(df[FIELDS]), records)
    assert len(results["flat"]) > 0.5 * len(records)  # most of the sample matches by address
    for kind, got in results.items():
        pd.testing.assert_frame_equal(got, results["flat"], obj=kind)


def test_missing_record_type_is_named_with_the_fix(written, tmp_path):
    lines = written["premium"].read_text(encoding="utf-8").splitlines()
    cut = tmp_path / "abp_no_street_descriptors.csv"
    cut.write_text("\n".join(line for line in lines if not line.startswith("15,")) + "\n", encoding="utf-8")
    with pytest.raises(published.LayoutError) as err:
        load(cut)
    assert "no record of type 15 (street descriptor)" in str(err.value) and "Fix:" in str(err.value)


def test_plus_lacking_a_needed_column_is_named(written, tmp_path):
    df = pd.read_csv(written["plus"], dtype=str, keep_default_na=False).drop(columns=["POSTCODE_LOCATOR"])
    path = tmp_path / "plus_cut.csv"
    df.to_csv(path, index=False)
    with pytest.raises(published.LayoutError, match="no column POSTCODE_LOCATOR"):
        load(path)


def test_mixed_epochs_and_change_only_supplies_are_refused(gazetteer, tmp_path):
    a = write_records(gazetteer.head(20), tmp_path / "a.csv", dtf=False, process_date="2025-05-01")
    b = write_records(gazetteer.iloc[20:40], tmp_path / "b.csv", dtf=False, process_date="2025-11-03")
    zipped = tmp_path / "mixed.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.write(a, "a.csv")
        z.write(b, "b.csv")
    with pytest.raises(published.LayoutError, match="mixed epochs"):
        load(zipped)
    cou = write_records(gazetteer.head(20), tmp_path / "cou.csv", dtf=False, file_type="C")
    with pytest.raises(published.LayoutError, match="change-only update"):
        load(cou)


def test_a_uprn_with_two_approved_lpis_is_kept_once_and_reported(gazetteer, tmp_path):
    path = write_records(gazetteer.head(30), tmp_path / "dup.csv", dtf=True)
    lines = path.read_text(encoding="utf-8").splitlines()
    lpi = next(line for line in lines if line.startswith("24,"))
    again = lpi.replace("9999L", "9999X", 1).replace("2020-01-01", "2021-06-01", 1)
    path.write_text("\n".join(lines + [again]) + "\n", encoding="utf-8")
    sniffed = published.sniff(path)
    con = duckdb.connect()
    flat = published.flatten(con, [path], sniffed, "dup.csv")
    n, distinct = con.execute("SELECT count(*), count(DISTINCT uprn) FROM scratch_gazetteer_flat").fetchone()
    assert (flat.duplicates, n, distinct) == (1, 30, 30)
    assert "more than one approved, current LPI" in flat.notes[0]


@pytest.mark.parametrize(
    "line, layout, header",
    [
        ("UPRN,SAON,PAON,STREET,LOCALITY,TOWN,POSTCODE,X,Y", "flat", True),
        (",".join(published.ABP_PLUS_COLUMNS), "addressbase_plus", True),
        ("1.00023336956E11" + "," * 76, "addressbase_plus", False),
        (",".join(published.ABP_CORE_COLUMNS), "addressbase_core", True),
        ("UPRN,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE", "open_uprn", True),
        (
            '10,"ORDNANCE SURVEY",7655,2025-11-03,0,2025-11-03,10:00:00,"2.0","F"',
            "addressbase_premium",
            False,
        ),
        ('10,"DEMO COUNCIL",9999,2025-11-03,0,2025-11-03,10:00:00,"8.1","F"', "dtf81", False),
        ("21,I,1,100,1,2,,,428000,396000", "records", False),
        ("Name,Address,Postcode", None, True),
    ],
)
def test_sniff_by_content(line, layout, header):
    got = published.sniff_line(
        line, ("UPRN", "SAON", "PAON", "STREET", "LOCALITY", "TOWN", "POSTCODE", "X", "Y")
    )
    assert (got.layout, got.header if layout else header) == (layout, header)


@pytest.mark.parametrize("kind", ["plus", "core", "premium", "dtf81"])
def test_parent_uprns_of_flats_are_kept(kind, written, gazetteer):
    _, df = load(written[kind])
    got = {u: p for u, p in zip(df["uprn"], df["parent_uprn"], strict=True) if isinstance(p, str)}
    want = parents(gazetteer)
    assert got == want and len(want) > 100  # every flat, and only the flats, has its building
