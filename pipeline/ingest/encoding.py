"""What a CSV extract is encoded in: the byte-order marks of UTF-16 and UTF-32, UTF-8 told from
Windows-1252 by its bytes, a declared `encoding:` checked against the file, and the error for a
byte the encoding cannot decode."""

from __future__ import annotations

import codecs
from pathlib import Path

from pipeline.ingest.errors import IngestError

#: Byte-order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def bom_encoding(path: Path) -> str | None:
    """The UTF-16 or UTF-32 encoding a file's byte-order mark declares, or None."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), None)


def first_undecodable(path: Path, encoding: str) -> tuple[int, int] | None:
    """(byte offset, line number) of the first byte `encoding` cannot decode, or None. Lines are
    counted by LF bytes (the line ends of every 8-bit encoding and of UTF-8)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, line = 0, 1
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                pos = max(exc.start, 0)
                return offset + pos, line + chunk[:pos].count(b"\n")
            offset += len(chunk)
            line += chunk.count(b"\n")
    return None


def first_bad_utf8(path: Path) -> tuple[int, int] | None:
    """(byte offset, line number) of the first byte that is not valid UTF-8, or None."""
    return first_undecodable(path, "utf-8")


def _squash(encoding: str) -> str:
    return encoding.lower().replace("-", "").replace("_", "")


def is_utf8(encoding: str) -> bool:
    """True for encodings DuckDB reads as they are (UTF-8 and its ASCII subset)."""
    return _squash(encoding) in ("utf8", "utf8sig", "ascii", "usascii")


def _check_declared(path: Path, declared: str, bom: str | None) -> None:
    """Raise IngestError when the declared encoding is unknown, or contradicted by the file's BOM or bytes."""
    fix = "fix: remove the service's `encoding:` to have it detected, or set it to the file's real one"
    try:
        codecs.lookup(declared)
    except LookupError:
        raise IngestError([f"{path}: the service's `encoding:` {declared!r} is not an encoding Python "
                           f"knows (e.g. utf-8, cp1252, utf-16); {fix}"]) from None
    if bom and _squash(declared) not in (_squash(bom), _squash(bom)[:5]):
        raise IngestError([f"{path}: declared {declared} but the file starts with a {bom.upper()} "
                           f"byte-order mark; {fix}"])
    if not bom and _squash(declared) in ("utf8", "utf8sig") and (bad := first_bad_utf8(path)):
        raise IngestError(
            [f"{path}: declared UTF-8 but byte {bad[0]} (line {bad[1]}) is not UTF-8; fix: set "
             f"the service's `encoding:` to the file's real one (often cp1252), or remove it "
             f"to have it detected"]
        )


def detect_encoding(path: Path, declared: str | None) -> str:
    """The encoding to read `path` with: the declared one (checked), else the one a UTF-16/UTF-32
    byte-order mark names, else UTF-8 if every byte decodes, else cp1252."""
    bom = bom_encoding(path)
    if declared:
        _check_declared(path, declared, bom)
        return declared
    if bom:
        return bom
    return "utf-8" if first_bad_utf8(path) is None else "cp1252"


def decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> IngestError:
    """The file, the encoding, and the byte and line where decoding stopped (found again from the
    start of the file: the error itself knows only its place in the chunk being read)."""
    at = first_undecodable(path, encoding)
    where = f" at byte {at[0]:,} (line {at[1]:,})" if at else ""
    return IngestError([f"{path}: the file cannot be read as {encoding}{where} ({exc.reason}); "
                        f"fix: set the service's `encoding:` to the file's real encoding"])
