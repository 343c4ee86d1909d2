"""Gazetteers as their publishers issue them: each layout recognised by content and read into the
matcher's one form.

A council holds its addresses in one of these layouts, none of which the matcher reads as it is:

=====================  ====================================================================
layout                 how it is recognised (the first line; zipped or not, national or cut)
=====================  ====================================================================
``flat``               a header with the configured columns (default ``UPRN, SAON, PAON, STREET,
                       LOCALITY, TOWN, POSTCODE, X, Y``): today's export
``addressbase_plus``   OS AddressBase Plus: the fixed 77-column CSV (``ABP_PLUS_COLUMNS``), with its
                       header row or without it (OS ships the header as a separate file): a first
                       row of 77 fields whose first is a UPRN
``addressbase_core``   OS AddressBase Core: a flat CSV with ``UPRN``, ``SINGLE_LINE_ADDRESS``,
                       ``CLASSIFICATION_CODE``, ``EASTING``, ``NORTHING`` ...
``addressbase_premium``  OS AddressBase Premium: one CSV of many record types, no header row; each
                       line starts with its record identifier (10 header, 11 street, 15 street
                       descriptor, 21 BLPU, 23 cross reference, 24 LPI, 28 delivery point, 29
                       metadata, 30 successor, 31 organisation, 32 classification, 99 trailer)
``dtf81``              an LLPG export in the GeoPlace Data Transfer Format 8.1: the same record
                       structure, told from Premium by its header record's VERSION (``8.1``) or,
                       with no header record, by the postcode its LPI records carry (Premium's
                       LPI has 26 fields and its postcode is the BLPU's POSTCODE_LOCATOR)
``open_uprn``          OS Open UPRN: ``UPRN, X_COORDINATE, Y_COORDINATE, LATITUDE, LONGITUDE``:
                       UPRNs placed by point, with no address (UPRN matching only)
=====================  ====================================================================

**The one form** (`FLAT_COLUMNS`): ``uprn, saon, paon, street, locality, town, postcode, x, y,
class_code, parent_uprn`` as text. For the record-structured layouts (Premium, DTF 8.1, Plus):

* only the **approved, current** address of each UPRN: BLPU ``LOGICAL_STATUS = 1``, its LPI with
  ``LOGICAL_STATUS = 1``, no ``END_DATE``, in English (``LANGUAGE = 'ENG'``; Welsh-language LPIs of
  a bilingual gazetteer are alternatives of the same UPRN) and the street descriptor in English;
* ``saon`` and ``paon`` assembled as BS 7666 writes them and as the matcher reads them: the text,
  then the number range, ``aon(text, start, start suffix, end, end suffix)`` =
  ``text␠start‹suffix›[-end‹suffix›]`` (``FLAT 2``, ``92-92A``, ``ROSE COTTAGE``, ``5A``);
* ``street``, ``locality``, ``town`` from the street descriptor (record 15) by USRN;
  ``postcode`` from the BLPU's ``POSTCODE_LOCATOR`` (Premium) or the LPI's ``POSTCODE`` (DTF 8.1);
* ``class_code`` from the current classification record (32; ``CLASS`` in Plus,
  ``CLASSIFICATION_CODE`` in Core): the AddressBase classification, ``R...`` residential;
* ``parent_uprn`` from the BLPU (a flat's building).

A file that looks like one of these layouts but lacks what the flattening needs (a record type,
a column) is refused naming what is missing and the fix (`problems`); so is a change-only update
or a set of files from more than one supply date ("mixed epochs"). A UPRN with more than one
approved current LPI keeps one (the latest by ``LAST_UPDATE_DATE``, then ``LPI_KEY``) and the
number kept so is reported (`Flattened.duplicates`), never kept twice.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.executor import execute, ident, literal

#: The matcher's one form, every layout's output
FLAT_COLUMNS = (
    "uprn",
    "saon",
    "paon",
    "street",
    "locality",
    "town",
    "postcode",
    "x",
    "y",
    "class_code",
    "parent_uprn",
)

#: OS AddressBase Plus, CSV: the 77 columns in order (AddressBase Plus technical specification;
#: the header row ships as a separate file, addressbase-plus-header.csv)
ABP_PLUS_COLUMNS = (
    "UPRN",
    "UDPRN",
    "CHANGE_TYPE",
    "STATE",
    "STATE_DATE",
    "CLASS",
    "PARENT_UPRN",
    "X_COORDINATE",
    "Y_COORDINATE",
    "LATITUDE",
    "LONGITUDE",
    "RPC",
    "LOCAL_CUSTODIAN_CODE",
    "COUNTRY",
    "LA_START_DATE",
    "LAST_UPDATE_DATE",
    "ENTRY_DATE",
    "RM_ORGANISATION_NAME",
    "LA_ORGANISATION",
    "DEPARTMENT_NAME",
    "LEGAL_NAME",
    "SUB_BUILDING_NAME",
    "BUILDING_NAME",
    "BUILDING_NUMBER",
    "SAO_START_NUMBER",
    "SAO_START_SUFFIX",
    "SAO_END_NUMBER",
    "SAO_END_SUFFIX",
    "SAO_TEXT",
    "ALT_LANGUAGE_SAO_TEXT",
    "PAO_START_NUMBER",
    "PAO_START_SUFFIX",
    "PAO_END_NUMBER",
    "PAO_END_SUFFIX",
    "PAO_TEXT",
    "ALT_LANGUAGE_PAO_TEXT",
    "USRN",
    "USRN_MATCH_INDICATOR",
    "AREA_NAME",
    "LEVEL",
    "OFFICIAL_FLAG",
    "OS_ADDRESS_TOID",
    "OS_ADDRESS_TOID_VERSION",
    "OS_ROADLINK_TOID",
    "OS_ROADLINK_TOID_VERSION",
    "OS_TOPO_TOID",
    "OS_TOPO_TOID_VERSION",
    "VOA_CT_RECORD",
    "VOA_NDR_RECORD",
    "STREET_DESCRIPTION",
    "ALT_LANGUAGE_STREET_DESCRIPTION",
    "DEPENDENT_THOROUGHFARE",
    "THOROUGHFARE",
    "WELSH_DEPENDENT_THOROUGHFARE",
    "WELSH_THOROUGHFARE",
    "DOUBLE_DEPENDENT_LOCALITY",
    "DEPENDENT_LOCALITY",
    "LOCALITY",
    "WELSH_DEPENDENT_LOCALITY",
    "WELSH_DOUBLE_DEPENDENT_LOCALITY",
    "TOWN_NAME",
    "ADMINISTRATIVE_AREA",
    "POST_TOWN",
    "WELSH_POST_TOWN",
    "POSTCODE",
    "POSTCODE_LOCATOR",
    "POSTCODE_TYPE",
    "DELIVERY_POINT_SUFFIX",
    "ADDRESSBASE_POSTAL",
    "PO_BOX_NUMBER",
    "WARD_CODE",
    "PARISH_CODE",
    "RM_START_DATE",
    "MULTI_OCC_COUNT",
    "VOA_NDR_P_DESC_CODE",
    "VOA_NDR_SCAT_CODE",
    "ALT_LANGUAGE",
)

#: OS AddressBase Core, CSV (with its header row)
ABP_CORE_COLUMNS = (
    "UPRN",
    "PARENT_UPRN",
    "UDPRN",
    "USRN",
    "TOID",
    "CLASSIFICATION_CODE",
    "EASTING",
    "NORTHING",
    "LATITUDE",
    "LONGITUDE",
    "RPC",
    "LAST_UPDATE_DATE",
    "SINGLE_LINE_ADDRESS",
    "PO_BOX",
    "ORGANISATION",
    "SUB_BUILDING",
    "BUILDING_NAME",
    "BUILDING_NUMBER",
    "STREET_NAME",
    "LOCALITY",
    "TOWN_NAME",
    "POST_TOWN",
    "ISLAND",
    "POSTCODE",
    "DELIVERY_POINT_SUFFIX",
    "GSS_CODE",
    "CHANGE_CODE",
)

#: OS Open UPRN, CSV (with its header row)
OPEN_UPRN_COLUMNS = ("UPRN", "X_COORDINATE", "Y_COORDINATE", "LATITUDE", "LONGITUDE")

_HEADER = (
    "RECORD_IDENTIFIER",
    "CUSTODIAN_NAME",
    "LOCAL_CUSTODIAN_CODE",
    "PROCESS_DATE",
    "VOLUME_NUMBER",
    "ENTRY_DATE",
    "TIME_STAMP",
    "VERSION",
    "FILE_TYPE",
)
_STREET = (
    "RECORD_IDENTIFIER",
    "CHANGE_TYPE",
    "PRO_ORDER",
    "USRN",
    "RECORD_TYPE",
    "SWA_ORG_REF_NAMING",
    "STATE",
    "STATE_DATE",
    "STREET_SURFACE",
    "STREET_CLASSIFICATION",
    "VERSION",
    "STREET_START_DATE",
    "STREET_END_DATE",
    "LAST_UPDATE_DATE",
    "RECORD_ENTRY_DATE",
    "STREET_START_X",
    "STREET_START_Y",
    "STREET_START_LAT",
    "STREET_START_LONG",
    "STREET_END_X",
    "STREET_END_Y",
    "STREET_END_LAT",
    "STREET_END_LONG",
    "STREET_TOLERANCE",
)
_DESCRIPTOR = (
    "RECORD_IDENTIFIER",
    "CHANGE_TYPE",
    "PRO_ORDER",
    "USRN",
    "STREET_DESCRIPTION",
    "LOCALITY",
    "TOWN_NAME",
    "ADMINISTRATIVE_AREA",
    "LANGUAGE",
    "START_DATE",
    "END_DATE",
    "LAST_UPDATE_DATE",
    "ENTRY_DATE",
)
_BLPU_COMMON = (
    "RECORD_IDENTIFIER",
    "CHANGE_TYPE",
    "PRO_ORDER",
    "UPRN",
    "LOGICAL_STATUS",
    "BLPU_STATE",
    "BLPU_STATE_DATE",
    "PARENT_UPRN",
    "X_COORDINATE",
    "Y_COORDINATE",
    "LATITUDE",
    "LONGITUDE",
    "RPC",
    "LOCAL_CUSTODIAN_CODE",
    "COUNTRY",
    "START_DATE",
    "END_DATE",
    "LAST_UPDATE_DATE",
    "ENTRY_DATE",
)
_LPI_COMMON = (
    "RECORD_IDENTIFIER",
    "CHANGE_TYPE",
    "PRO_ORDER",
    "UPRN",
    "LPI_KEY",
    "LANGUAGE",
    "LOGICAL_STATUS",
    "START_DATE",
    "END_DATE",
    "LAST_UPDATE_DATE",
    "ENTRY_DATE",
    "SAO_START_NUMBER",
    "SAO_START_SUFFIX",
    "SAO_END_NUMBER",
    "SAO_END_SUFFIX",
    "SAO_TEXT",
    "PAO_START_NUMBER",
    "PAO_START_SUFFIX",
    "PAO_END_NUMBER",
    "PAO_END_SUFFIX",
    "PAO_TEXT",
    "USRN",
    "USRN_MATCH_INDICATOR",
    "AREA_NAME",
    "LEVEL",
    "OFFICIAL_FLAG",
)
_CLASSIFICATION = (
    "RECORD_IDENTIFIER",
    "CHANGE_TYPE",
    "PRO_ORDER",
    "UPRN",
    "CLASS_KEY",
    "CLASSIFICATION_CODE",
    "CLASS_SCHEME",
    "SCHEME_VERSION",
    "START_DATE",
    "END_DATE",
    "LAST_UPDATE_DATE",
    "ENTRY_DATE",
)
_DPA = (
    "RECORD_IDENTIFIER",
    "CHANGE_TYPE",
    "PRO_ORDER",
    "UPRN",
    "UDPRN",
    "ORGANISATION_NAME",
    "DEPARTMENT_NAME",
    "SUB_BUILDING_NAME",
    "BUILDING_NAME",
    "BUILDING_NUMBER",
    "DEPENDENT_THOROUGHFARE",
    "THOROUGHFARE",
    "DOUBLE_DEPENDENT_LOCALITY",
    "DEPENDENT_LOCALITY",
    "POST_TOWN",
    "POSTCODE",
    "POSTCODE_TYPE",
    "DELIVERY_POINT_SUFFIX",
    "WELSH_DEPENDENT_THOROUGHFARE",
    "WELSH_THOROUGHFARE",
    "WELSH_DOUBLE_DEPENDENT_LOCALITY",
    "WELSH_DEPENDENT_LOCALITY",
    "WELSH_POST_TOWN",
    "PO_BOX_NUMBER",
    "PROCESS_DATE",
    "START_DATE",
    "END_DATE",
    "LAST_UPDATE_DATE",
    "ENTRY_DATE",
)

#: AddressBase Premium (CSV), the record types read, their fields in order (AddressBase Premium
#: technical specification): BLPU ends with ADDRESSBASE_POSTAL, POSTCODE_LOCATOR, MULTI_OCC_COUNT
ABP_PREMIUM_RECORDS: dict[str, tuple[str, ...]] = {
    "10": _HEADER,
    "11": _STREET,
    "15": _DESCRIPTOR,
    "21": _BLPU_COMMON + ("ADDRESSBASE_POSTAL", "POSTCODE_LOCATOR", "MULTI_OCC_COUNT"),
    "24": _LPI_COMMON,
    "28": _DPA,
    "32": _CLASSIFICATION,
}
#: NLPG/LLPG Data Transfer Format 8.1: the LPI carries its own postal flag, postcode and post town.
#: The BLPU and LPI field order is Premium's with those three appended: GeoPlace's DTF 8.1 text was
#: not at hand to check it (docs/geocoding.md says so); only the fields named in records_flat_sql are read
DTF81_RECORDS: dict[str, tuple[str, ...]] = {
    "10": _HEADER,
    "11": _STREET,
    "15": _DESCRIPTOR,
    "21": _BLPU_COMMON,
    "24": _LPI_COMMON + ("POSTAL_ADDRESS", "POSTCODE", "POST_TOWN"),
    "32": _CLASSIFICATION,
}
#: What each record-structured layout must hold to be flattened (record type -> its name)
NEEDED_RECORDS = {"15": "street descriptor", "21": "BLPU", "24": "LPI"}
RECORD_NAMES = {
    "10": "header",
    "11": "street",
    "15": "street descriptor",
    "21": "BLPU",
    "23": "application cross reference",
    "24": "LPI",
    "28": "delivery point address",
    "29": "metadata",
    "30": "successor",
    "31": "organisation",
    "32": "classification",
    "99": "trailer",
}
#: Width of the positional read of a record-structured file (the widest record, DPA, has 29 fields)
RECORD_WIDTH = 30

LAYOUT_NAMES = {
    "flat": "flat gazetteer CSV",
    "addressbase_plus": "OS AddressBase Plus",
    "addressbase_core": "OS AddressBase Core",
    "addressbase_premium": "OS AddressBase Premium",
    "dtf81": "LLPG export in the NLPG Data Transfer Format (DTF 8.1)",
    "open_uprn": "OS Open UPRN",
    "records": "AddressBase Premium or DTF 8.1 (told apart when read)",
}

_UPRN = re.compile(r"^\d{1,12}(\.0+)?$|^\d(\.\d+)?[eE]\+?\d{1,2}$")
_RECORD_TYPE = re.compile(r'^"?(10|11|15|21|23|24|28|29|30|31|32|99)"?$')


@dataclass(frozen=True)
class Sniffed:
    """What a gazetteer file's first line says it is: a layout of `LAYOUT_NAMES` (or None) and,
    for the CSVs with a header row, whether it has one; `version` the header record's VERSION."""

    layout: str | None
    header: bool = True
    version: str | None = None


def _fields(line: str) -> list[str]:
    return [c.strip() for c in next(csv.reader(io.StringIO(line)), [])] if line else []


def sniff_line(line: str, flat_columns: tuple[str, ...] = ()) -> Sniffed:
    """The layout a file is in, from its first line (decoded, without its line end). `flat_columns`:
    the configured columns of the flat layout (a header holding all of them is `flat`)."""
    fields = _fields(line.lstrip("\ufeff"))
    upper = [f.upper() for f in fields]
    if not fields:
        return Sniffed(None)
    if flat_columns and set(flat_columns) <= set(fields):
        return Sniffed("flat")
    if {"UPRN", "UDPRN", "CLASS"} <= set(upper) and len(set(upper) & set(ABP_PLUS_COLUMNS)) >= 20:
        return Sniffed("addressbase_plus")
    if {"UPRN", "CLASSIFICATION_CODE"} <= set(upper) and len(set(upper) & set(ABP_CORE_COLUMNS)) >= 10:
        return Sniffed("addressbase_core")
    if upper[:3] == ["UPRN", "X_COORDINATE", "Y_COORDINATE"] and len(upper) <= len(OPEN_UPRN_COLUMNS) + 1:
        return Sniffed("open_uprn")
    if len(fields) == len(ABP_PLUS_COLUMNS) and _UPRN.match(fields[0]):
        return Sniffed("addressbase_plus", header=False)
    if _RECORD_TYPE.match(fields[0]) and len(fields) >= 4:
        if fields[0].strip('"') == "10" and len(fields) >= 8:
            version = fields[7].strip()
            return Sniffed("dtf81" if version.startswith("8") else "addressbase_premium", False, version)
        return Sniffed("records", header=False)
    return Sniffed(None)


# --- reading ---------------------------------------------------------------------------------------


@contextmanager
def local_files(path: Path, max_bytes: int = 64 << 30) -> Iterator[list[Path]]:
    """Paths DuckDB can read for a gazetteer `path`: the file itself, or the CSV members of a zip
    copied out of it into a temporary folder (deleted afterwards), each stopped at its declared
    size and all together at `max_bytes`. Members outside the zip's own folder tree are refused."""
    path = Path(path)
    if path.suffix.lower() != ".zip":
        yield [path]
        return
    tmp = Path(tempfile.mkdtemp(prefix=".gazetteer-"))
    try:
        out: list[Path] = []
        total = 0
        with zipfile.ZipFile(path) as z:
            members = sorted(
                (i for i in z.infolist() if not i.is_dir() and i.filename.lower().endswith((".csv", ".txt"))),
                key=lambda i: i.filename,
            )
            for i, info in enumerate(members):
                total += info.file_size
                if total > max_bytes:
                    raise ValueError(f"{path}: its CSV members hold more than {max_bytes:,} bytes")
                target = tmp / f"{i:05d}.csv"
                with z.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                out.append(target)
        yield out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def first_line(path: Path) -> str:
    """The first line of a gazetteer file (of the first CSV member of a zip), decoded."""
    path = Path(path)
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as z:
            names = sorted(i.filename for i in z.infolist() if i.filename.lower().endswith((".csv", ".txt")))
            if not names:
                return ""
            with z.open(names[0]) as f:
                raw = f.readline(1 << 20)
    else:
        with open(path, "rb") as f:
            raw = f.readline(1 << 20)
    return decoded_line(raw)


def decoded_line(raw: bytes) -> str:
    """A file's first line as text: UTF-8 (its BOM dropped), else Windows-1252 as Excel saves;
    '' if neither reads it. The one reading of a first line for sniffing a product or layout."""
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc).rstrip("\r\n")
        except UnicodeDecodeError:
            continue
    return ""


def sniff(path: Path, flat_columns: tuple[str, ...] = ()) -> Sniffed:
    """The layout of the gazetteer file (or zip) at `path`, from its first line."""
    return sniff_line(first_line(path), flat_columns)


def _files(paths: list[Path]) -> str:
    return "[" + ", ".join(literal(str(p)) for p in paths) + "]"


def read_named_sql(paths: list[Path], names: tuple[str, ...] | None) -> str:
    """A `read_csv` of `paths`, every value text: with the header row (names None) or, for a file
    without one, under `names`."""
    if names is None:
        return f"read_csv({_files(paths)}, header = true, all_varchar = true)"
    columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
    return (
        f"read_csv({_files(paths)}, header = false, auto_detect = false, columns = {columns}, "
        "delim = ',', quote = '\"', escape = '\"')"
    )


def read_records_sql(paths: list[Path]) -> str:
    """A positional `read_csv` of record-structured files: column00 .. column29, rows of any width
    up to RECORD_WIDTH (shorter ones padded with NULL), every value text."""
    names = tuple(f"column{i:02d}" for i in range(RECORD_WIDTH))
    columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
    return (
        f"read_csv({_files(paths)}, header = false, auto_detect = false, columns = {columns}, "
        "delim = ',', quote = '\"', escape = '\"', null_padding = true)"
    )


MACROS = """
CREATE OR REPLACE TEMP MACRO gaz_residential(code) AS CASE WHEN nullif(trim(code), '') IS NULL THEN NULL
    ELSE upper(left(trim(code), 1)) IN ('R', 'X') END;
CREATE OR REPLACE TEMP MACRO gaz_text(s) AS nullif(trim(CAST(s AS VARCHAR)), '');
CREATE OR REPLACE TEMP MACRO gaz_aon(txt, sn, ss, en, es) AS nullif(concat_ws(' ', gaz_text(txt),
    CASE WHEN gaz_text(sn) IS NULL THEN NULL ELSE gaz_text(sn) || coalesce(gaz_text(ss), '')
         || CASE WHEN gaz_text(en) IS NULL THEN '' ELSE '-' || gaz_text(en) || coalesce(gaz_text(es), '') END
    END), '');
"""


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Define the macros the flattening uses (idempotent): gaz_text (trimmed text or NULL),
    gaz_aon (an addressable object from its text and number range, as BS 7666 writes it) and
    gaz_residential (the one rule for a residential class code: an AddressBase classification
    starting R, residential, or X, dual use; NULL when there is no code)."""
    execute(con, "gazetteer_layout_macros", MACROS)


def record_view_sql(records: dict[str, tuple[str, ...]], rtype: str) -> str:
    """The rows of one record type of `scratch_gaz_records`, under the layout's field names."""
    cols = ", ".join(f"gaz_text(column{i:02d}) AS {ident(n)}" for i, n in enumerate(records[rtype]))
    return f"SELECT {cols} FROM scratch_gaz_records WHERE trim(column00) = {literal(rtype)}"


def records_flat_sql(records: dict[str, tuple[str, ...]], postcode_from_lpi: bool) -> str:
    """The approved, current address of each UPRN of `scratch_gaz_records` in the one form, with
    `n_lpi` (how many approved current LPIs the UPRN has; one kept: the latest)."""
    views = {t: record_view_sql(records, t) for t in ("15", "21", "24", "32")}
    postcode = "l.POSTCODE" if postcode_from_lpi else "b.POSTCODE_LOCATOR"
    return f"""
WITH descriptor AS (
    SELECT * FROM ({views["15"]}) d WHERE d.END_DATE IS NULL
    QUALIFY row_number() OVER (PARTITION BY d.USRN ORDER BY (d.LANGUAGE = 'ENG') DESC,
                                   d.LAST_UPDATE_DATE DESC NULLS LAST, d.STREET_DESCRIPTION) = 1),
blpu AS (
    SELECT * FROM ({views["21"]}) b WHERE b.LOGICAL_STATUS = '1' AND b.END_DATE IS NULL),
lpi AS (
    SELECT *, count(*) OVER (PARTITION BY l.UPRN) AS n_lpi FROM ({views["24"]}) l
    WHERE l.LOGICAL_STATUS = '1' AND l.END_DATE IS NULL AND coalesce(l.LANGUAGE, 'ENG') = 'ENG'
    QUALIFY row_number() OVER (PARTITION BY l.UPRN ORDER BY l.LAST_UPDATE_DATE DESC NULLS LAST,
                                   l.LPI_KEY DESC) = 1),
class AS (
    SELECT c.UPRN, c.CLASSIFICATION_CODE FROM ({views["32"]}) c WHERE c.END_DATE IS NULL
    QUALIFY row_number() OVER (PARTITION BY c.UPRN ORDER BY c.LAST_UPDATE_DATE DESC NULLS LAST,
                                   c.CLASS_KEY DESC) = 1)
SELECT b.UPRN AS uprn,
       gaz_aon(l.SAO_TEXT, l.SAO_START_NUMBER, l.SAO_START_SUFFIX, l.SAO_END_NUMBER,
               l.SAO_END_SUFFIX) AS saon,
       gaz_aon(l.PAO_TEXT, l.PAO_START_NUMBER, l.PAO_START_SUFFIX, l.PAO_END_NUMBER,
               l.PAO_END_SUFFIX) AS paon,
       d.STREET_DESCRIPTION AS street, d.LOCALITY AS locality, d.TOWN_NAME AS town, {postcode} AS postcode,
       b.X_COORDINATE AS x, b.Y_COORDINATE AS y, c.CLASSIFICATION_CODE AS class_code,
       b.PARENT_UPRN AS parent_uprn, l.n_lpi
FROM blpu b JOIN lpi l USING (UPRN) LEFT JOIN descriptor d ON d.USRN = l.USRN
LEFT JOIN class c ON c.UPRN = b.UPRN"""


def plus_flat_sql(source: str) -> str:
    """AddressBase Plus (one row per UPRN) in the one form: the geographic (LPI) address."""
    return f"""SELECT gaz_text(UPRN) AS uprn,
       gaz_aon(SAO_TEXT, SAO_START_NUMBER, SAO_START_SUFFIX, SAO_END_NUMBER, SAO_END_SUFFIX) AS saon,
       gaz_aon(PAO_TEXT, PAO_START_NUMBER, PAO_START_SUFFIX, PAO_END_NUMBER, PAO_END_SUFFIX) AS paon,
       gaz_text(STREET_DESCRIPTION) AS street, gaz_text(LOCALITY) AS locality, gaz_text(TOWN_NAME) AS town,
       gaz_text(POSTCODE_LOCATOR) AS postcode, gaz_text(X_COORDINATE) AS x, gaz_text(Y_COORDINATE) AS y,
       gaz_text(CLASS) AS class_code, gaz_text(PARENT_UPRN) AS parent_uprn, 1 AS n_lpi
FROM {source}"""


def core_flat_sql(source: str) -> str:
    """AddressBase Core in the one form: the building's name then its number as the PAON."""
    return f"""SELECT gaz_text(UPRN) AS uprn, gaz_text(SUB_BUILDING) AS saon,
       nullif(concat_ws(' ', gaz_text(BUILDING_NAME), gaz_text(BUILDING_NUMBER)), '') AS paon,
       gaz_text(STREET_NAME) AS street, gaz_text(LOCALITY) AS locality, gaz_text(TOWN_NAME) AS town,
       gaz_text(POSTCODE) AS postcode, gaz_text(EASTING) AS x, gaz_text(NORTHING) AS y,
       gaz_text(CLASSIFICATION_CODE) AS class_code, gaz_text(PARENT_UPRN) AS parent_uprn, 1 AS n_lpi
FROM {source}"""


def open_uprn_flat_sql(source: str) -> str:
    """OS Open UPRN in the one form: a UPRN and its point, no address."""
    nulls = ", ".join(
        f"CAST(NULL AS VARCHAR) AS {c}" for c in ("saon", "paon", "street", "locality", "town", "postcode")
    )
    return f"""SELECT gaz_text(UPRN) AS uprn, {nulls},
       gaz_text(X_COORDINATE) AS x, gaz_text(Y_COORDINATE) AS y,
       CAST(NULL AS VARCHAR) AS class_code, CAST(NULL AS VARCHAR) AS parent_uprn, 1 AS n_lpi
FROM {source}"""


def flat_flat_sql(source: str, cols: dict[str, str | None]) -> str:
    """Today's flat CSV in the one form, under its configured columns (field -> column or None)."""
    sel = ", ".join(
        (f"gaz_text({ident(cols[f])}) AS {f}" if cols.get(f) else f"CAST(NULL AS VARCHAR) AS {f}")
        for f in FLAT_COLUMNS
    )
    return f"SELECT {sel}, 1 AS n_lpi FROM {source}"


def records_table_sql(source: str) -> str:
    return f"CREATE OR REPLACE TEMP TABLE scratch_gaz_records AS SELECT * FROM {source}"


RECORD_SUMMARY = """SELECT trim(column00) AS rtype, count(*) AS n,
       count(*) FILTER (WHERE column26 IS NOT NULL OR column27 IS NOT NULL) AS wide,
       list(DISTINCT trim(column03)) FILTER (WHERE trim(column00) = '10') AS process_dates,
       list(DISTINCT trim(column08)) FILTER (WHERE trim(column00) = '10') AS file_types,
       list(DISTINCT trim(column07)) FILTER (WHERE trim(column00) = '10') AS versions
FROM scratch_gaz_records GROUP BY 1 ORDER BY 1"""


@dataclass
class Flattened:
    """A gazetteer read into `scratch_gazetteer_flat` (the one form, plus n_lpi): its layout, rows,
    the UPRNs that had more than one approved current LPI (one kept), and notes."""

    layout: str
    rows: int = 0
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)


class LayoutError(ValueError):
    """A gazetteer that looks like a published layout but lacks what it needs: `problems` name what
    is missing and the fix."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def record_problems(label: str, layout: str, summary: list[tuple]) -> list[str]:
    """What a record-structured file lacks (record types), or a change-only or mixed-epoch supply."""
    have = {r[0]: r for r in summary}
    name = LAYOUT_NAMES[layout]
    problems = []
    missing = [f"{t} ({n})" for t, n in NEEDED_RECORDS.items() if t not in have]
    if missing:
        found = ", ".join(f"{t} ({RECORD_NAMES.get(t, '?')}): {have[t][1]:,}" for t in sorted(have)) or "none"
        problems.append(
            f"{label} looks like {name} but has no record of type {', '.join(missing)}; "
            f"its record types are {found}. Fix: export the full supply with the street descriptor (15), "
            "BLPU (21) and LPI (24) records (and classification, 32) in one CSV, or all of the "
            "supply's CSVs in one zip"
        )
    header = have.get("10")
    if header:
        dates = sorted(d for d in (header[3] or []) if d)
        if len(dates) > 1:
            problems.append(
                f"{label}: mixed epochs: its header records (type 10) give {len(dates)} "
                f"supply dates ({', '.join(dates[:5])}). Fix: use the files of one supply only (one epoch), "
                "not chunks of different releases"
            )
        types = sorted(t for t in (header[4] or []) if t)
        if any(t.upper().startswith("C") for t in types):
            problems.append(
                f"{label} is a change-only update (FILE_TYPE {types}); it holds only the changes "
                "since the last supply. Fix: order or export a full supply (FILE_TYPE F)"
            )
    return problems


def flatten(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    sniffed: Sniffed,
    label: str,
    flat_columns: dict[str, str | None] | None = None,
) -> Flattened:
    """Read the gazetteer files `paths` (one layout, `sniffed`) into the temp table
    `scratch_gazetteer_flat` in the one form. Raise LayoutError naming what is missing, or why the
    file cannot be read as CSV."""
    try:
        return _flatten(con, paths, sniffed, label, flat_columns)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0][:300]
        raise LayoutError([f"{label} cannot be read as a CSV of its layout ({first}). Fix: give the file as "
                           "published or exported, as comma-separated UTF-8 text"]) from None


def _flatten(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    sniffed: Sniffed,
    label: str,
    flat_columns: dict[str, str | None] | None,
) -> Flattened:
    install(con)
    layout = sniffed.layout
    if layout is None:
        raise LayoutError(
            [
                f"{label} is not a gazetteer layout this pipeline knows (its first line is "
                "neither the configured columns nor a published layout). Fix: set "
                "geography.gazetteer.columns, or give the gazetteer as published "
                "(docs/geocoding.md, 'Gazetteers as published')"
            ]
        )
    if layout in ("addressbase_premium", "dtf81", "records"):
        execute(con, "gazetteer_records", records_table_sql(read_records_sql(paths)))
        summary = execute(con, "gazetteer_record_summary", RECORD_SUMMARY, fetch="all")
        if layout == "records":
            lpi = next((r for r in summary if r[0] == "24"), None)
            layout = "dtf81" if lpi and lpi[2] else "addressbase_premium"
        problems = record_problems(label, layout, summary)
        if problems:
            raise LayoutError(problems)
        records = DTF81_RECORDS if layout == "dtf81" else ABP_PREMIUM_RECORDS
        select = records_flat_sql(records, postcode_from_lpi=layout == "dtf81")
    else:
        names = None if sniffed.header else ABP_PLUS_COLUMNS
        source = read_named_sql(paths, names)
        have = {
            r[0].upper() for r in execute(con, "gazetteer_layout_columns", describe_sql(source), fetch="all")
        }
        if layout == "flat":
            need = [c for c in (flat_columns or {}).values() if c]
            have = {r[0] for r in execute(con, "gazetteer_layout_columns", describe_sql(source), fetch="all")}
        else:
            need = sorted(USED_COLUMNS[layout])
        lacking = [c for c in need if c not in have]
        if lacking:
            raise LayoutError(
                [
                    f"{label} looks like {LAYOUT_NAMES[layout]} but has no column "
                    f"{', '.join(lacking)}; its columns are {sorted(have)}. Fix: export the "
                    "product's full column set with its header row, as published"
                    + ("" if layout != "flat" else " (or set geography.gazetteer.columns)")
                ]
            )
        select = {
            "addressbase_plus": lambda: plus_flat_sql(source),
            "addressbase_core": lambda: core_flat_sql(source),
            "open_uprn": lambda: open_uprn_flat_sql(source),
            "flat": lambda: flat_flat_sql(source, flat_columns or {}),
        }[layout]()
    n = execute(con, "gazetteer_flatten", flat_table_sql(select))
    execute(con, "gazetteer_drop_records", "DROP TABLE IF EXISTS scratch_gaz_records")
    dups = execute(
        con,
        "gazetteer_flat_duplicates",
        "SELECT count(*) FROM scratch_gazetteer_flat WHERE n_lpi > 1",
        fetch="value",
    )
    out = Flattened(layout, int(n or 0), int(dups or 0))
    if out.duplicates:
        out.notes.append(
            f"{label}: {out.duplicates:,} UPRN(s) have more than one approved, current LPI in "
            "English; each keeps one (the latest by LAST_UPDATE_DATE), never two"
        )
    return out


#: The columns each header-bearing layout's flattening reads (a file lacking another is still read)
USED_COLUMNS = {
    "addressbase_plus": {
        "UPRN",
        "SAO_TEXT",
        "SAO_START_NUMBER",
        "SAO_START_SUFFIX",
        "SAO_END_NUMBER",
        "SAO_END_SUFFIX",
        "PAO_TEXT",
        "PAO_START_NUMBER",
        "PAO_START_SUFFIX",
        "PAO_END_NUMBER",
        "PAO_END_SUFFIX",
        "STREET_DESCRIPTION",
        "LOCALITY",
        "TOWN_NAME",
        "POSTCODE_LOCATOR",
        "X_COORDINATE",
        "Y_COORDINATE",
        "CLASS",
        "PARENT_UPRN",
    },
    "addressbase_core": {
        "UPRN",
        "SUB_BUILDING",
        "BUILDING_NAME",
        "BUILDING_NUMBER",
        "STREET_NAME",
        "LOCALITY",
        "TOWN_NAME",
        "POSTCODE",
        "EASTING",
        "NORTHING",
        "CLASSIFICATION_CODE",
        "PARENT_UPRN",
    },
    "open_uprn": {"UPRN", "X_COORDINATE", "Y_COORDINATE"},
}


def describe_sql(source: str) -> str:
    return f"DESCRIBE SELECT * FROM {source}"


def flat_table_sql(select: str) -> str:
    return f"CREATE OR REPLACE TEMP TABLE scratch_gazetteer_flat AS {select}"
