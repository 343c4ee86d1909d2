"""What kind of file an extract is, told by its first bytes (a CSV or other text, an .xlsx, an old
.xls or encrypted workbook, a web page, a zip, a Parquet file), and the checks on the service's `file:` before
anything is read: missing, a folder, empty, or not the kind its name says."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Service
from pipeline.ingest.errors import IngestError

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls workbooks and password-protected .xlsx
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"  # a Parquet file starts and ends with it
#: The names an extract of each kind may have
PARQUET_SUFFIXES = (".parquet",)
#: The fix for a file the pipeline cannot read as it is: save it again as .xlsx or CSV UTF-8
CONVERT_FIX = ("open it in Excel or LibreOffice Calc and save it as an Excel Workbook (.xlsx) or as "
               "CSV UTF-8 (.csv), then point the service's `file:` at the new file")


def is_parquet(path: Path) -> bool:
    """Whether the service's file is named as a Parquet extract (.parquet)."""
    return path.suffix.lower() in PARQUET_SUFFIXES


def _file_kind(path: Path) -> str:
    """'ole' (old .xls, or an encrypted workbook), 'zip' (.xlsx), 'parquet' (PAR1 at both ends),
    'parquet_cut' (PAR1 at the start only: a truncated copy), 'html', or 'text' (anything else)."""
    with open(path, "rb") as fh:
        head = fh.read(512)
        if head.startswith(_PARQUET_MAGIC):
            fh.seek(-4, 2)
            return "parquet" if fh.read(4) == _PARQUET_MAGIC and fh.tell() >= 12 else "parquet_cut"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith((_ZIP_MAGIC, b"PK\x05\x06")):
        return "zip"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "html" if start.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) else "text"


def _kind_problem(path: Path) -> str | None:
    """Why this file cannot be read as the extract its name says, or None."""
    kind, suffix = _file_kind(path), path.suffix.lower()
    workbook = suffix in (".xlsx", ".xlsm")
    if suffix in PARQUET_SUFFIXES:
        if kind == "parquet":
            return None
        if kind == "parquet_cut":
            return (f"{path}: the Parquet file is incomplete (it does not end with the bytes PAR1 a Parquet "
                    f"file ends with: a copy cut short); fix: copy or export it again")
        return (f"{path}: named {suffix} but it is not a Parquet file (a Parquet file starts and ends "
                f"with the bytes PAR1; this one does not); fix: export the extract again as Parquet, or, "
                f"if it is a CSV or workbook, rename it .csv or .xlsx")
    if kind in ("parquet", "parquet_cut"):
        return (f"{path}: this is a Parquet file, not a CSV or workbook; fix: rename it with the .parquet "
                f"ending and point the service's `file:` at it")
    if kind == "ole":
        return (f"{path}: this is an old-format Excel workbook (.xls), or a password-protected one, which "
                f"the pipeline cannot read; fix: {CONVERT_FIX} (without a password)")
    if kind == "html":
        return f"{path}: this is a web page or XML document (it starts with `<`), not a CSV or workbook; " \
               f"fix: {CONVERT_FIX}"
    if suffix in (".xls", ".xlsb", ".ods", ".numbers"):
        hint = " (its content is text: if it is a CSV, rename it .csv)" if kind == "text" else ""
        return f"{path}: {suffix} files cannot be read{hint}; fix: {CONVERT_FIX}"
    if workbook and kind != "zip":
        return (f"{path}: named {suffix} but it is not an Excel workbook (an .xlsx is a zip archive; this "
                f"is not); fix: if it is a CSV, rename it .csv; otherwise {CONVERT_FIX}")
    if kind == "zip" and not workbook:
        return (f"{path}: this is a zip archive (an Excel .xlsx workbook, or a compressed extract), not a "
                f"CSV; fix: if it is a workbook, rename it .xlsx; if a zip, extract the CSV from it")
    return None


def check_path(path: Path, service: Service) -> None:
    """Raise IngestError if the service's file is missing, a folder, empty or of the wrong kind."""
    where = f"services.{service.name}.file"
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir()
                        if p.suffix.lower() in (".csv", ".xlsx", ".txt", *PARQUET_SUFFIXES))
        found = f"; files there: {inside[:5]}" if inside else ""
        if any(is_parquet(Path(name)) for name in inside):  # a dataset of parts: no row order to number by
            raise IngestError([f"{path}: {where} is a folder of Parquet parts; an extract is one file, "
                               f"because its row numbers are the file's row order and the parts of a "
                               f"folder have no order every reader agrees on; fix: write the extract as "
                               f"one Parquet file (from Spark, coalesce(1) before writing it) and set "
                               f"`file:` to it"])
        raise IngestError([f"{path}: {where} is a folder, not a file{found}; fix: set it to the extract's "
                           f"file path"])
    if not path.is_file():
        raise IngestError([f"{path}: no such file ({where}); fix: correct the path"])
    if path.stat().st_size == 0:
        raise IngestError([f"{path}: the file is empty (0 bytes); export the extract again"])
    if problem := _kind_problem(path):
        raise IngestError([problem])
