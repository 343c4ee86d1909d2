"""Step 1: find the national products in a folder, as their publishers issue them.

Every file under the folder is looked at, and every file inside each zip (no zip is unpacked to
be looked at: a CSV's first line is read through the zip, a boundary layer's field names through
GDAL's /vsizip/). A file is recognised by its header, not its name: the catalogue
(`products.yaml`) gives each product the columns it must have, as patterns, and the file-name
patterns only break ties and name what was expected. Census tables are the one product known by
name (`census2021-tsNNN[-oa].csv`, the Nomis bulk names; their header must still be the Nomis
one). Code-Point Open's data files have no header: they are known by their folder (`Data/CSV/`)
and by a first row that is a postcode with a grid reference.

The folder is not trusted (`guard`): links out of it, special files and the installation's secret
key are not read, zip members are checked against the size and expansion-ratio limits before a
byte is read from them, and a header that is too long, too wide or holds a NUL byte makes its file
unusable, reported with its product (`Sources.wrong`). A file not recognised is described by its
size and kind, never by its contents.

A file of a product in an older layout (Output Areas of 2011, a postcode directory without the
2021 Output Areas, ward boundaries of another year than the lookup) is not used: it is reported
with the release to fetch instead (`Sources.wrong`).
"""

from __future__ import annotations

import csv
import fnmatch
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from pipeline.address import published
from pipeline.area.guard import READ_SUFFIXES, Limits, describe, header_problem, member_problem, zip_problem
from pipeline.area.guard import files as readable_files
from pipeline.area.sources import Product, product

logger = logging.getLogger(__name__)

#: Suffixes of boundary layers GDAL reads
GEO_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
#: A census bulk file: table id and geography level
CENSUS_NAME = re.compile(r"^census2021-(ts\d{3}[a-z]?)(?:-([a-z]+))?(?:-[^.]*)?\.(csv|zip)$", re.IGNORECASE)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_RELEASE = re.compile(r"(?<![A-Z])(" + "|".join(_MONTHS) + r")[A-Z]*[_ -]?(\d{4})", re.IGNORECASE)
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$")
#: Header-classified CSV products, most specific first (a gazetteer has a UPRN and a street, ONSUD
#: a UPRN; a postcode directory and ONSUD both carry ward and LAD columns, as the lookup does)
CSV_PRODUCTS = ("iod_england", "wimd", "gazetteer", "onsud", "postcode_directory", "oa_ward_lookup",
                "codepoint_open")


@dataclass(frozen=True)
class Entry:
    """One file: on disk, or a member of a zip on disk."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return PurePosixPath(self.member).name if self.member else self.path.name

    @property
    def inner(self) -> str:
        """The path inside the zip (or the file name)."""
        return self.member or self.path.name

    def label(self) -> str:
        return f"{self.path} ({self.member})" if self.member else str(self.path)

    def size(self) -> int:
        if self.member:
            with zipfile.ZipFile(self.path) as z:
                return z.getinfo(self.member).file_size
        return self.path.stat().st_size

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """A binary stream of the file's bytes (through the zip when it is a member)."""
        if self.member:
            with zipfile.ZipFile(self.path) as z, z.open(self.member) as f:
                yield f
        else:
            with open(self.path, "rb") as f:
                yield f

    def folder(self) -> tuple[Path, str]:
        """Where the file sits: (the file or zip on disk's folder or zip, the folder inside it)."""
        if self.member:
            return self.path, str(PurePosixPath(self.member).parent)
        return self.path.parent, ""

    def raw_first_line(self, limit: int = 1 << 20) -> bytes:
        """The first line's bytes, at most `limit` of them."""
        with self.open() as f:
            return f.readline(limit)

    def first_line(self) -> str:
        return published.decoded_line(self.raw_first_line())

    def header(self) -> list[str]:
        line = self.first_line()
        return [c.strip() for c in next(csv.reader(io.StringIO(line)), [])] if line else []

    def gdal_path(self) -> str:
        return f"/vsizip/{self.path}/{self.member}" if self.member else str(self.path)


@dataclass
class Found:
    """A product found: its files, their columns (header key -> column name) and release."""

    product: Product
    entries: list[Entry]
    columns: dict[str, str]
    header: list[str]
    release: str | None = None
    layer: str | None = None
    vintage: str | None = None  # two-digit year of the ward codes (WD23CD -> '23')
    #: a gazetteer in a published layout (`pipeline.address.published`: addressbase_plus, ...)
    layout: str | None = None
    header_row: bool = True

    def label(self) -> str:
        first = self.entries[0].label()
        n = len(self.entries) - 1
        return first + (f" and {n} more file(s) of the same layout" if n else "")


@dataclass
class Sources:
    folder: Path
    found: dict[str, Found] = field(default_factory=dict)
    census: dict[str, Entry] = field(default_factory=dict)  # table -> its OA file
    census_lad: dict[str, Entry] = field(default_factory=dict)  # table -> its LAD (ltla) file
    #: (product id, problem): files of a product in the wrong vintage or layout, with the fix
    wrong: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: zip members of a product's kind refused before extraction (over the size or ratio limit)
    refused: list[str] = field(default_factory=list)
    #: files not read at all: links out of the folder, special files, the secret key (`guard.files`)
    skipped: list[str] = field(default_factory=list)


def release_of(*names: str) -> str | None:
    """'February 2025' from a name such as ONSPD_FEB_2025_UK.csv; None when it names none."""
    full = {m[:3]: m for m in ("January", "February", "March", "April", "May", "June", "July", "August",
                               "September", "October", "November", "December")}
    for name in names:
        m = _RELEASE.search(name or "")
        if m:
            return f"{full[m.group(1)[:3].title()[:3]]} {m.group(2)}"
    return None


def entries(folder: Path, src: Sources | None = None, limits: Limits | None = None) -> list[Entry]:
    """Every file under `folder` that may be read (`guard.files`) and every file inside each zip
    there whose declared sizes are within `limits`, in name order. What was skipped goes to
    `src.skipped` and `src.notes`, a refused member of a product's kind to `src.refused`."""
    limits = limits or Limits()
    src = src if src is not None else Sources(Path(folder))
    paths, skipped = readable_files(Path(folder))
    src.skipped += skipped
    out: list[Entry] = []
    for path in paths:
        if path.suffix.lower() == ".zip":
            too_many = zip_problem(path, limits)
            if too_many:
                src.refused.append(too_many)
                continue
            try:
                with zipfile.ZipFile(path) as z:
                    infos = [i for i in z.infolist() if not i.is_dir()]
            except (zipfile.BadZipFile, OSError):
                logger.warning("%s is not a readable zip; skipped", path)
                src.notes.append(f"{path} is not a readable zip ({describe(Entry(path))}); skipped")
                continue
            for info in infos:
                problem = member_problem(path, info, limits)
                if problem is None:
                    out.append(Entry(path, info.filename))
                elif PurePosixPath(info.filename).suffix.lower() in READ_SUFFIXES:
                    src.refused.append(problem)
                else:
                    src.notes.append(problem)
            continue
        out.append(Entry(path))
    return out


def _header_check(e: Entry, limits: Limits) -> tuple[str | None, list[str]]:
    """(the problem with `e`'s first line as a header or None, the header as far as it can be read,
    NUL bytes dropped and cut at the column limit, to say which product it was meant to be)."""
    raw = e.raw_first_line(limits.max_line_bytes + 1)
    columns = raw.count(b",") + 1 if raw else 0
    problem = header_problem(e, raw, columns, limits)
    if problem is None:
        return None, e.header()
    text = raw[:limits.max_line_bytes].replace(b"\0", b"").decode("utf-8", "replace").rstrip("\r\n")
    cut = ",".join(text.split(",", limits.max_columns)[:limits.max_columns])
    return problem, [c.strip() for c in next(csv.reader(io.StringIO(cut)), [])]


def _name_matches(p: Product, e: Entry) -> bool:
    return any(fnmatch.fnmatch(e.name.lower(), pat.lower()) or fnmatch.fnmatch(e.inner.lower(), pat.lower())
               or fnmatch.fnmatch(e.path.name.lower(), pat.lower()) for pat in p.files)


def _codepoint_row(e: Entry) -> bool:
    """A header-less Code-Point Open data file: its first row a postcode with a grid reference."""
    row = next(csv.reader(io.StringIO(e.first_line())), [])
    return (len(row) == 10 and bool(_POSTCODE.match(row[0].strip().upper()))
            and row[2].strip().isdigit() and row[3].strip().isdigit())


def _csv_kind(e: Entry, header: list[str]) -> str | None:
    for pid in CSV_PRODUCTS:
        if product(pid).matches(header):
            return pid
    return None


def _old_vintage(e: Entry, header: list[str]) -> tuple[str, str] | None:
    """The problem with a file that is a known product in a layout before the 2021 Output Areas."""
    low = {h.lower() for h in header}
    imd_rank = "index of multiple deprivation (imd) rank"
    if "lsoa code (2011)" in low and any(h.startswith(imd_rank) for h in low):
        p = product("iod_england")
        return p.id, (f"{p.name}: {e.label()} is keyed by the 2011 LSOAs ('LSOA code (2011)': the IoD 2019 "
                      "or earlier), not the 2021 ones of the Census 2021 geography. Fix: download "
                      f"\"{p.title}\" from {p.page}")
    if "pcds" in low and not {"oa21", "oa21cd"} & low and {"oa11", "oa11cd"} & low:
        p = product("postcode_directory")
        return p.id, (f"{p.name}: {e.label()} has no 2021 Output Area column (oa21), only 2011 ones: it is a "
                f"release from before the Census 2021 areas were added (2022). Fix: download the "
                f"{p.tested_release.split(' (')[0]} release or later from {p.page}")
    if "oa11cd" in low and "oa21cd" not in low and any(re.fullmatch(r"(wd|lad)\d\dcd", h) for h in low):
        p = product("oa_ward_lookup")
        return p.id, (f"{p.name}: {e.label()} is keyed by the 2011 Output Areas (OA11CD), not the 2021 ones. "
                f"Fix: download \"{p.title}\" from {p.page}")
    return None


def _geo_layers(e: Entry) -> list[tuple[str | None, list[str]]]:
    import pyogrio

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(e.gdal_path())]
    except Exception as exc:  # not a layer GDAL reads
        logger.info("%s is not a boundary layer GDAL reads (%s)", e.label(), str(exc).splitlines()[0])
        return []
    out = []
    for layer in layers:
        try:
            info = pyogrio.read_info(e.gdal_path(), layer=layer if len(layers) > 1 else None)
        except Exception:  # noqa: BLE001 - a layer that cannot be read is simply not a product
            continue
        out.append((layer if len(layers) > 1 else None, [str(f) for f in info["fields"]]))
    return out


def find(folder: Path, tables: list[str], limits: Limits | None = None) -> Sources:
    """The products in `folder`; census tables only those in `tables` (lower-case ids); zips and
    headers held to `limits` (default `guard.Limits()`)."""
    folder = Path(folder)
    limits = limits or Limits()
    src = Sources(folder)
    wanted = {t.lower() for t in tables}
    csvs: dict[str, list[tuple[Entry, list[str]]]] = {}
    codepoint_rows: list[Entry] = []
    wards: list[Found] = []
    oas: list[Found] = []
    gazetteers: list[tuple[Entry, published.Sniffed]] = []
    for e in entries(folder, src, limits):
        suffix = PurePosixPath(e.name).suffix.lower()
        m = CENSUS_NAME.match(e.name)
        if m and suffix == ".csv":
            table, level = m.group(1).lower(), (m.group(2) or "oa").lower()
            if table not in wanted:
                continue
            bad, header = _header_check(e, limits)
            if bad:
                src.wrong.append(("census", f"census table {table}: {bad}"))
                continue
            if level == "oa":
                if product("census").matches(header):
                    if table in src.census:
                        src.notes.append(f"census {table}: {e.label()} not used; "
                                         f"{src.census[table].label()} was found first")
                    else:
                        src.census[table] = e
                else:
                    src.wrong.append(("census", f"census table {table}: {e.label()} ({describe(e)}) is not "
                                              "in the Nomis bulk layout (its header lacks date, geography, "
                                              "geography code). Fix: download census2021-"
                                              f"{table}.zip from {product('census').page}"))
            elif level == "ltla":
                src.census_lad.setdefault(table, e)
            continue
        if suffix in (".csv", ".txt"):
            bad, header = _header_check(e, limits)
            kind = _csv_kind(e, header)
            if bad:
                if kind is not None:
                    src.wrong.append((kind, f"{product(kind).name}: {bad}"))
                else:
                    src.notes.append(f"not used: {bad}")
                continue
            if kind is not None:
                csvs.setdefault(kind, []).append((e, header))
                continue
            old = _old_vintage(e, header)
            sniffed = published.sniff_line(e.first_line())
            if old:
                src.wrong.append(old)
            elif sniffed.layout not in (None, "flat"):
                gazetteers.append((e, sniffed))
            elif "/data/csv/" in f"/{e.inner.lower()}" and _codepoint_row(e):
                codepoint_rows.append(e)
            continue
        if suffix in GEO_SUFFIXES:
            for layer, fields in _geo_layers(e):
                low = [f.lower() for f in fields]
                oa_p, ward_p = product("oa_boundaries"), product("wards")
                if oa_p.matches(fields):
                    oas.append(Found(oa_p, [e], oa_p.resolve(fields), fields, layer=layer))
                elif "oa11cd" in low:
                    src.wrong.append((oa_p.id, f"{oa_p.name}: {e.label()} holds the 2011 Output Areas "
                                                f"(OA11CD). Fix: download \"{oa_p.title}\" from {oa_p.page}"))
                elif ward_p.matches(fields):
                    cols = ward_p.resolve(fields)
                    wards.append(Found(ward_p, [e], cols, fields, layer=layer, vintage=cols["code"][2:4]))
    _pick_csv_products(src, csvs)
    _pick_published_gazetteer(src, gazetteers)
    _pick_codepoint(src, codepoint_rows)
    _pick_layers(src, oas, wards)
    return src


def _pick_csv_products(src: Sources, csvs: dict[str, list[tuple[Entry, list[str]]]]) -> None:
    for pid, found in csvs.items():
        p = product(pid)
        found = sorted(found, key=lambda eh: (not _name_matches(p, eh[0]), eh[0].path, eh[0].inner))
        first, header = found[0]
        group = [first]
        if pid in ("postcode_directory", "onsud"):
            # one national CSV, or the per-area / per-region CSVs of one release side by side
            parts = [e for e, h in found if e.folder() == first.folder() and h == header]
            whole = [e for e, h in found if h == header and "multi_csv" not in e.inner.lower()
                     and e.path == first.path]
            if pid == "postcode_directory" and whole:
                group = whole[:1]  # the ONSPD zip holds the national file and its parts: one is enough
            else:
                group = parts
        others = [e for e, _ in found if e not in group]
        if others:
            src.notes.append(f"{p.name}: using {group[0].label()}; also seen and not used: "
                             + ", ".join(e.label() for e in others[:5]) + (" ..." if len(others) > 5 else ""))
        cols = p.resolve(header)
        src.found[pid] = Found(p, group, cols, header, release=release_of(first.inner, first.path.name))


#: Published gazetteer layouts, the one used first when a folder holds several
LAYOUT_ORDER = ("dtf81", "addressbase_premium", "records", "addressbase_plus", "addressbase_core",
                "open_uprn")


def _pick_published_gazetteer(src: Sources, found: list[tuple[Entry, published.Sniffed]]) -> None:
    """A gazetteer in a published layout (AddressBase Plus, Core, Premium, a DTF 8.1 LLPG export, OS
    Open UPRN), recognised by content; a council's own flat export, when found, is used first. The
    files of one layout in one folder (or zip) are the chunks of one supply, read together."""
    if not found:
        return
    found = sorted(found, key=lambda es: (LAYOUT_ORDER.index(es[1].layout), es[0].path, es[0].inner))
    first, sniffed = found[0]
    kind = "records" if sniffed.layout in ("dtf81", "addressbase_premium", "records") else sniffed.layout
    group = [e for e, s in found if e.folder() == first.folder()
             and ("records" if s.layout in ("dtf81", "addressbase_premium", "records") else s.layout) == kind
             and s.header == sniffed.header]
    others = [e for e, _ in found if e not in group]
    p = product("gazetteer")
    if "gazetteer" in src.found:
        src.notes.append(f"{p.name}: using {src.found['gazetteer'].label()}; also seen, in a published "
                         "layout, and not used: " + ", ".join(e.label() for e, _ in found[:5]))
        return
    if others:
        src.notes.append(f"{p.name}: using {first.label()} ({published.LAYOUT_NAMES[sniffed.layout]}); also "
                         "seen and not used: " + ", ".join(e.label() for e in others[:5]))
    src.found["gazetteer"] = Found(p, group, {}, [], release=release_of(first.inner, first.path.name),
                                   layout=sniffed.layout, header_row=sniffed.header)


def _pick_codepoint(src: Sources, rows: list[Entry]) -> None:
    if not rows or "codepoint_open" in src.found:
        return
    p = product("codepoint_open")
    first = rows[0]
    group = [e for e in rows if e.path == first.path and PurePosixPath(e.inner).parent ==
             PurePosixPath(first.inner).parent]
    cols = p.resolve(list(p.columns))
    src.found["codepoint_open"] = Found(p, group, cols, list(p.columns),
                                        release=release_of(first.inner, first.path.name))


def _pick_layers(src: Sources, oas: list[Found], wards: list[Found]) -> None:
    if oas:
        oas = sorted(oas, key=lambda f: ("bgc" not in f.entries[0].label().lower(), f.entries[0].label()))
        src.found["oa_boundaries"] = oas[0]
        if len(oas) > 1:
            src.notes.append(f"Output Area boundaries: using {oas[0].label()}; also seen: "
                             + ", ".join(f.label() for f in oas[1:]))
    if not wards:
        return
    lookup = src.found.get("oa_ward_lookup")
    year = lookup.columns["ward"][2:4] if lookup else None
    fitting = [w for w in wards if w.vintage == year] if year else wards
    if not fitting:
        p, lk = product("wards"), src.found["oa_ward_lookup"]
        have = ", ".join(f"{w.label()} (20{w.vintage} wards, {w.columns['code']})" for w in wards)
        src.wrong.append((p.id,
            f"{p.name}: the OA to ward lookup {lk.label()} gives May 20{year} wards ({lk.columns['ward']}), "
            f"but the ward boundaries found are of another year: {have}. Fix: download Wards (May 20{year}) "
            f"Boundaries UK BGC from {p.page}, or the Output Area (2021) to ward lookup of the boundaries' "
            "year; the two must be of the same year"))
        return
    fitting = sorted(fitting, key=lambda f: ("bgc" not in f.entries[0].label().lower(), f.entries[0].label()))
    src.found["wards"] = fitting[0]
    rest = [w for w in wards if w is not fitting[0]]
    if rest:
        src.notes.append(f"ward boundaries: using {fitting[0].label()}; also seen: "
                         + ", ".join(w.label() for w in rest))
