"""What `insight area` will read from a sources folder, and how much: hostile and broken downloads.

A downloads folder is not trusted. This module holds the limits and the checks `find` and `cut`
apply before any byte of a national file reaches DuckDB:

- **Links and special files.** The folder is walked without following links to folders; a link to
  a file is followed only when it ends at a regular file inside the folder. Devices, pipes and
  sockets are skipped, and so is the installation's secret key file (`pipeline.secret`, or any
  link or hard link to it): only the key code reads it. What was skipped is said in a note,
  never by its contents.
- **Zips.** A zip whose central directory lists more than `max_members` files (default 100,000;
  a national product's zip holds a few hundred at most) or spans over 32 MB is not opened (its
  listing alone would fill memory). Every member is checked before anything is read from it: its
  declared size against `max_unzipped_bytes` (default 4 GB; the largest real member, the ONSPD
  national CSV, is about 1.5 GB) and, for a member declaring more than 100 MB, its expansion
  ratio (declared size over compressed size) against `max_ratio` (default 200; national CSVs
  deflate 5 to 15 times, a zip bomb of zeros about 1,000 times). A member is copied out in
  blocks and the copy stops as soon as it passes its declared size (zipfile also stops there and
  checks the CRC), so a zip that lies about a size costs no more than the size it declares.
- **CSV shape.** A header is read up to `max_line_bytes` (default 1 MB) and may hold at most
  `max_columns` columns (default 1,000; the widest product read, a Nomis census table, has about
  105) and no NUL byte; DuckDB is given the same line limit (`max_line_size`) and reads strictly,
  so a row of the wrong width or an over-long line is an error naming the file, the line and the
  limit (:func:`csv_problem`), not a traceback or a memory blow-up.

A file that is not recognised is described by its size and kind (:func:`describe`), never by a
line of it.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.area import AreaError

if TYPE_CHECKING:
    from pipeline.area.find import Entry

GB = 10**9
#: A member declaring less than this is not held to the ratio (documents, shapefile .dbf padding)
RATIO_FLOOR = 100 * 10**6
#: The largest central directory of a zip that is opened (it is read whole, as every member's entry)
MAX_DIRECTORY = 32 * 10**6
#: Suffixes of the files a product can be (a refused member of another kind is only noted)
READ_SUFFIXES = (".csv", ".txt", ".gpkg", ".geojson", ".json", ".shp", ".dbf", ".shx", ".prj", ".cpg")


@dataclass(frozen=True)
class Limits:
    """How much `insight area` reads (options of the command; see the module docstring)."""

    max_unzipped_bytes: int = 4 * GB
    max_ratio: float = 200.0
    max_columns: int = 1000
    max_line_bytes: int = 1 << 20
    max_members: int = 100_000

    @classmethod
    def of(cls, max_unzipped_gb: float | None = None, max_ratio: float | None = None,
           max_columns: int | None = None) -> Limits:
        """The limits with any given option in place of its default."""
        base = cls()
        return cls(max_unzipped_bytes=int(max_unzipped_gb * GB) if max_unzipped_gb is not None
                   else base.max_unzipped_bytes,
                   max_ratio=max_ratio if max_ratio is not None else base.max_ratio,
                   max_columns=max_columns if max_columns is not None else base.max_columns)


def size_text(n: int) -> str:
    """Bytes in decimal units: '512 bytes', '1.2 kB', '5.3 MB', '2.16 GB'."""
    if n < 1000:
        return f"{n} bytes"
    for unit, scale in (("kB", 10**3), ("MB", 10**6), ("GB", 10**9), ("TB", 10**12)):
        if n < scale * 1000 or unit == "TB":
            value = n / scale
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


# --- the folder: links, special files, the secret -------------------------------------------------


def _secret_id() -> tuple[int, int] | None:
    """(device, inode) of the installation's secret file, when there is one (its metadata only)."""
    from pipeline.secret import secret_path

    try:
        st = os.stat(secret_path())
    except OSError:
        return None
    return st.st_dev, st.st_ino


def files(folder: Path) -> tuple[list[Path], list[str]]:
    """The regular files under `folder` that may be read, in name order, and a note per file
    skipped (a link out of the folder or to no regular file, a special file, the secret key)."""
    root = Path(os.path.realpath(folder))
    secret = _secret_id()
    out: list[Path] = []
    notes: list[str] = []
    for here, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for d in dirs:
            if os.path.islink(os.path.join(here, d)):
                notes.append(f"{Path(here) / d} is a link to a folder; not followed (only the sources folder "
                             "itself is read). Fix: move or copy the files into the sources folder")
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(here) / name
            try:
                st, lst = os.stat(path), os.lstat(path)
            except OSError:
                notes.append(f"{path} is a link to nothing (or cannot be read); skipped")
                continue
            if secret is not None and (st.st_dev, st.st_ino) == secret:
                notes.append(f"{path} is the installation's secret key file (or a link to it); never read. "
                             "Fix: remove it from the sources folder")
                continue
            if not stat.S_ISREG(st.st_mode):
                notes.append(f"{path} is not a regular file (a device, pipe or socket); skipped")
                continue
            if stat.S_ISLNK(lst.st_mode):
                target = Path(os.path.realpath(path))
                if not target.is_relative_to(root):
                    notes.append(f"{path} is a link to a file outside the sources folder; not followed. "
                                 "Fix: move or copy the file itself into the sources folder")
                    continue
            out.append(path)
    return out, notes


# --- zips ------------------------------------------------------------------------------------------


def zip_problem(path: Path, limits: Limits) -> str | None:
    """Why the zip `path` is not opened at all (too many files listed), or None; read from its end
    record alone, before zipfile reads the central directory."""
    try:
        with open(path, "rb") as f:
            end = zipfile._EndRecData(f)  # the end record (zip64 too): entries and directory size
    except OSError:
        return None
    if not end:
        return None  # not a zip: opening it says so
    n, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if n <= limits.max_members and size <= MAX_DIRECTORY:
        return None
    return (f"{path}: the zip lists {n:,} files in a directory of {size_text(size)}, over the limit of "
            f"{limits.max_members:,} files and {size_text(MAX_DIRECTORY)} (a national product's zip holds a "
            "few hundred at most); nothing was read from it. Fix: delete it, or unpack the files you need "
            "into the sources folder")


def member_problem(path: Path, info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """Why the zip member `info` of `path` is not read (its declared size or expansion ratio), or None."""
    declared, packed = info.file_size, info.compress_size
    sizes = (f"it declares {size_text(declared)} unzipped from {size_text(packed)} in the zip "
             f"(a ratio of {declared / max(packed, 1):,.0f} to 1)")
    fix = ("Fix: delete the zip and download the product again from its publisher (`insight sources` "
           "says where); if it is genuine, raise the limit")
    if declared > limits.max_unzipped_bytes:
        limit = size_text(limits.max_unzipped_bytes)
        return (f"{path} ({info.filename}): {sizes}, over the limit of {limit} per file; nothing was "
                f"unzipped. {fix} with --max-unzipped-gb {max(1, -(-declared // GB))}")
    if declared > RATIO_FLOOR and declared > limits.max_ratio * max(packed, 1):
        return (f"{path} ({info.filename}): {sizes}, over the limit of {limits.max_ratio:,.0f} to 1 for a "
                f"file of more than {size_text(RATIO_FLOOR)} (national CSVs compress 5 to 15 times; a zip "
                f"bomb about 1,000 times); nothing was unzipped. {fix} with --max-zip-ratio")
    return None


def copy_member(entry: Entry, target: Path, limits: Limits) -> None:
    """Copy the zip member `entry` (a CSV) to `target` in blocks, stopping as soon as it passes its
    declared size or runs a line past the line limit (a stream of zeros is stopped within a block
    of its start, not after gigabytes); raise AreaError for a member over the limits or whose
    content is not what the zip says."""
    assert entry.member is not None
    try:
        with zipfile.ZipFile(entry.path) as z:
            info = z.getinfo(entry.member)
            problem = member_problem(entry.path, info, limits)
            if problem:
                raise AreaError("a zip in the sources folder is refused:", [problem])
            written, run = 0, 0  # bytes copied, bytes since the last newline (no line count: it costs)
            with z.open(info) as src, open(target, "wb") as out:
                while block := src.read(1 << 22):
                    written += len(block)
                    if written > info.file_size:
                        raise zipfile.BadZipFile("more bytes than declared")
                    first, last = block.find(b"\n"), block.rfind(b"\n")
                    if run + (len(block) if first < 0 else first) > limits.max_line_bytes:
                        target.unlink(missing_ok=True)
                        raise AreaError("a zipped national file cannot be read:", [
                            _long_line(entry, written - len(block) - run, limits)])
                    run = run + len(block) if first < 0 else len(block) - last - 1
                    out.write(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        target.unlink(missing_ok=True)
        raise AreaError("a zip in the sources folder is damaged:", [
            f"{entry.path} ({entry.member}): its content does not match what the zip declares for it "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unreadable'}); the copy "
            "was stopped and deleted. Fix: delete the zip and download it again from its publisher",
        ]) from None


def _long_line(entry: Entry, start: int, limits: Limits) -> str:
    return (f"{entry.path} ({entry.member}): the line starting at byte {start:,} is longer than the "
            f"limit of {size_text(limits.max_line_bytes)} (a row of a national product is under 2 kB); "
            "the copy out of the zip was stopped and deleted. Fix: delete the zip and download the "
            "product again from its publisher")


# --- what a file is, without its contents -----------------------------------------------------------


def describe(entry: Entry) -> str:
    """'a 1.2 kB text file' / 'a 3 MB binary file' / 'an empty file': the file's size and kind, never
    a byte of its contents."""
    try:
        size = entry.size()
        with entry.open() as f:
            head = f.read(4096)
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError):
        return "a file that cannot be read"
    if size == 0:
        return "an empty file"
    text = b"\0" not in head
    if text:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:  # cut mid-character at the end of the block is still text
            text = exc.start >= len(head) - 3
    return f"a {size_text(size)} {'text' if text else 'binary'} file"


# --- the header and the rows ------------------------------------------------------------------------


def header_problem(entry: Entry, raw: bytes, columns: int, limits: Limits) -> str | None:
    """Why the first line `raw` (read up to the line limit + 1) of `entry` cannot be a header: too
    long, too many columns, a NUL byte; None when it can."""
    what = f"{entry.label()} ({describe(entry)})"
    if len(raw) > limits.max_line_bytes and not raw.endswith(b"\n"):
        return (f"{what}: its first line (the header) is longer than the limit of "
                f"{size_text(limits.max_line_bytes)}; it is not a CSV of a national product. Fix: delete "
                "it, or download the product again from its publisher")
    if b"\0" in raw:
        col = raw[:raw.index(b"\0")].count(b",") + 1
        return (f"{what}: its header holds a NUL byte (column {col}); a national product's header is plain "
                "text, so the file is damaged or not a CSV. Fix: download the product again from its "
                "publisher (`insight sources` says where)")
    if columns > limits.max_columns:
        return (f"{what}: its header has {columns:,} columns, over the limit of {limits.max_columns:,} (the "
                "widest national product read has about 100). Fix: download the product again from its "
                "publisher; if it is genuine, raise the limit with --max-columns")
    return None


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_WIDTH = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_LONG = re.compile(r"Maximum line size of (\d+) bytes exceeded")
_FILE = re.compile(r"^\s*file = (.*)$", re.MULTILINE)


def csv_problem(exc: Exception, labels: dict[str, str], limits: Limits) -> str | None:
    """The problem a DuckDB CSV error `exc` reports (a row of the wrong width, an over-long line, a
    file not UTF-8, an unterminated quote), naming the national file (`labels`: a path read -> what
    to call it), the line and the limit, without the line's contents; None when `exc` is not a
    CSV error."""
    text = str(exc)
    line, width, long = _CSV_LINE.search(text), _WIDTH.search(text), _LONG.search(text)
    path = _FILE.search(text)
    if not line:
        return None
    name = path.group(1).strip() if path else ""
    label = labels.get(name) or name or "a national CSV"
    where = f"{label}, line {int(line.group(1)):,}"
    fix = ("Fix: download the product again from its publisher (`insight sources` says where); a file "
           "edited by hand must keep every row the width of its header")
    if width:
        expected, found = int(width.group(1)), int(width.group(2))
        has = f"more than {expected}" if found > expected else f"{found}"
        return f"{where}: the row has {has} columns; every row must have the header's {expected}. {fix}"
    if long:
        return (f"{where}: the line is longer than the limit of {size_text(limits.max_line_bytes)} (a row "
                f"of a national product is under 2 kB). {fix}")
    if "not utf-8" in text.lower():
        return (f"{where}: the file is not UTF-8 encoded (the publishers' files are). Fix: download the "
                "product again, or save the file as UTF-8 (Excel: CSV UTF-8)")
    if "unterminated quote" in text.lower():
        return f"{where}: a value opens a double quote it does not close. {fix}"
    return f"{where}: it is not a well-formed CSV there (DuckDB's CSV reader stopped). {fix}"
