"""Step 2: cut each national product to the area's local authorities.

Tables are cut in DuckDB file to file: `read_csv` with the file's own columns given explicitly
(every one VARCHAR, so each value is written back exactly as read, and nothing is sniffed), a
filter on the area's codes, `COPY ... TO` a CSV. A file inside a zip is first copied out of it,
as a stream, into the workspace (DuckDB reads no zip), and deleted once cut; the copy is held to
`guard.Limits` and stopped at the member's declared size, and DuckDB reads strictly with a line
limit (a row of the wrong width is an error naming its line, `guard.csv_problem`). Boundary layers are
read through GDAL with an attribute filter (`OA21CD IN (...)`), so only the area's polygons are
parsed into memory, and written as GeoPackage in their own CRS.

The Output Areas of the area are those the OA -> ward -> LAD best-fit lookup gives the chosen
local authorities; everything else is cut to them (census tables, OA boundaries, ONSUD) or to
their wards (ward boundaries). The postcode directory is kept national, in a reusable
reference database (`boundaries.reference`), so a record's postcode in another authority is
named `out_of_area` rather than `postcode_not_found`.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import shutil
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.area import AreaError
from pipeline.area.find import Entry, Found
from pipeline.area.guard import Limits, copy_member
from pipeline.warehouse import execute, ident, literal

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LAD_CODE = re.compile(r"^[ENSWL]\d{8}$")
#: The pipeline's postcode directory columns (run config defaults), by header key
DIRECTORY_NAMES = {"postcode": "pcds", "oa": "oa21cd", "ward": "osward", "lad": "oslaua",
                   "easting": "oseast1m", "northing": "osnrth1m", "terminated": "doterm",
                   "grid_quality": "osgrdind", "user_type": "usertype"}
#: ONSUD columns kept, under the run config's uprn_lookup defaults
ONSUD_NAMES = {"uprn": "UPRN", "oa": "OA21CD", "easting": "GRIDGB1E", "northing": "GRIDGB1N",
               "postcode": "PCDS"}


lit = literal  # file paths and column names inside read_csv(): `columns` must be a constant struct


def sql(name: str, **parts: str) -> str:
    """The SQL file `name` beside this module with its {placeholders} filled in."""
    return (HERE / name).read_text(encoding="utf-8").format(**parts)


def read_csv_sql(paths: list[Path], names: list[str], header: bool = True,
                 max_line: int = Limits().max_line_bytes) -> str:
    """A `read_csv` of `paths` with the columns `names` given explicitly, every one VARCHAR, read
    strictly (a row of another width is an error) with lines of at most `max_line` bytes."""
    columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
    files = "[" + ", ".join(lit(str(p)) for p in paths) + "]"
    return (f"read_csv({files}, header = {'true' if header else 'false'}, auto_detect = false, "
            f"columns = {columns}, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            f"max_line_size = {int(max_line)})")


class Workspace:
    """A DuckDB connection and a scratch folder (inside the output tree, not /tmp, so the copies
    of zipped national files land on the same disk) for one `insight area` build."""

    def __init__(self, root: Path, memory_limit: str = "3GB", limits: Limits | None = None):
        self.limits = limits or Limits()
        root.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=".area-work-", dir=root))
        self.con = duckdb.connect()
        execute(self.con, "area_temp_directory", "SET temp_directory = ?", [str(self.dir / "duckdb")])
        execute(self.con, "area_memory_limit", "SET memory_limit = ?", [memory_limit])
        execute(self.con, "area_settings", "SET preserve_insertion_order = true")
        self._copies: dict[Entry, Path] = {}

    def local(self, entry: Entry) -> Path:
        """A path DuckDB can read for `entry`: the file itself, or its copy out of the zip."""
        if entry.member is None:
            return entry.path
        if entry not in self._copies:
            target = self.dir / f"{len(self._copies):04d}-{entry.name}"
            copy_member(entry, target, self.limits)  # within the limits, stopped at its declared size
            self._copies[entry] = target
        return self._copies[entry]

    def labels(self) -> dict[str, str]:
        """Each path DuckDB is reading for a national file (a copy out of a zip) -> the file's label."""
        return {str(path): entry.label() for entry, path in self._copies.items()}

    def release(self, entry: Entry) -> None:
        """Delete the copy of `entry` once it is cut."""
        path = self._copies.pop(entry, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def codes(self, table: str, values: list[str]) -> None:
        """A one-column table `code` of `values`."""
        execute(self.con, f"area_codes_{table}", codes_sql(table), [list(values)])

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def codes_sql(table: str) -> str:
    """A one-column table `code` of the bound list $1."""
    return f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS SELECT unnest($1::VARCHAR[]) AS code"


def _count(con: duckdb.DuckDBPyConnection, name: str, statement: str) -> int:
    row = execute(con, name, statement, fetch="one")
    return int(row[0]) if row else 0


def lookup_national_sql(src: str) -> str:
    return f"CREATE OR REPLACE TEMP TABLE lookup_national AS SELECT * FROM {src}"


def known_lads_sql(lad: str, lad_name: str | None) -> str:
    """Every LAD code of the national lookup with its name (NULL when the lookup has none)."""
    name = ident(lad_name) if lad_name else "NULL"
    return (f"SELECT trim({ident(lad)}) AS lad, min({name}) AS lad_name FROM lookup_national "
            "GROUP BY 1 ORDER BY 1")


def area_rows_sql(c: dict[str, str]) -> str:
    """The lookup rows of the area's LADs (table area_lads): oa, ward, ward_name, lad, lad_name."""
    ward_name = ident(c["ward_name"]) if "ward_name" in c else "NULL"
    lad_name = ident(c["lad_name"]) if "lad_name" in c else "NULL"
    return f"""SELECT trim({ident(c['oa'])}) AS oa, trim({ident(c['ward'])}) AS ward,
                   {ward_name} AS ward_name, trim({ident(c['lad'])}) AS lad, {lad_name} AS lad_name
            FROM lookup_national WHERE trim({ident(c['lad'])}) IN (SELECT code FROM area_lads)"""


def households_sql(value: str, source: str) -> str:
    """The sum of one census value column (thousands separators allowed) over `source`."""
    return f"SELECT sum(TRY_CAST(replace({ident(value)}, ',', '') AS BIGINT)) FROM {source}"


def attach_sql(db: Path) -> str:
    """Attach a postcode reference read-only as `pcref` (its path a quoted literal)."""
    return f"ATTACH {literal(db)} AS pcref (READ_ONLY)"


def area_postcodes_sql(where: str) -> str:
    """National postcodes of `pcref`, those in the area (`where`, a constant of this module) and live."""
    return f"""SELECT count(*), count(*) FILTER ({where}), count(*) FILTER ({where} AND is_live)
                FROM pcref.postcodes"""


def copy_sql(source: str, target: Path) -> str:
    """Write `source` to the CSV `target` (a path the pipeline made, as a quoted literal)."""
    return f"COPY (SELECT * FROM {source}) TO {literal(target)} (HEADER, DELIMITER ',')"


def count_rows_sql(source: str) -> str:
    return f"SELECT count(*) FROM {source}"


# --- the lookup: which OAs and wards the area has -------------------------------------------------


def _lad_problem(code: str, known: pd.DataFrame, found: Found) -> str:
    year = found.columns["lad"][3:5]
    names = dict(zip(known["lad"], known["lad_name"], strict=True))
    fix = (f"Fix: give your council's local authority district code as the lookup has it (codes of 20{year}, "
           f"as in ONS \"Local Authority Districts (May 20{year}) Names and Codes in the UK\"; e.g. "
           f"{known['lad'].iloc[0]} for {known['lad_name'].iloc[0]}). A council created or recoded after "
           f"20{year} needs a lookup of a later year")
    by_name = [c for c, n in names.items() if n and n.strip().lower() == code.strip().lower()]
    if by_name:
        return (f"{code!r} is a name, not a code: the Output Area to ward to LAD lookup {found.label()} "
                f"gives it the code {by_name[0]}. Fix: run `insight area {by_name[0]} ...`")
    close = difflib.get_close_matches(code.upper(), list(names), n=3, cutoff=0.7)
    near = (" Did you mean " + " or ".join(f"{c} ({names[c]})" for c in close) + "?") if close else ""
    shape = "" if LAD_CODE.match(code) else " (a LAD code is a letter and eight digits, e.g. E08000009)"
    return (f"{code!r} is not a local authority district of the Output Area to ward to LAD lookup "
            f"{found.label()}{shape}, which lists {len(names)} LADs of 20{year}.{near} {fix}")


def cut_lookup(ws: Workspace, found: Found, lads: list[str], target: Path) -> pd.DataFrame:
    """Write the area's rows of the OA -> ward -> LAD lookup to `target` (national layout) and make the
    workspace tables `area_lads` and `area_oas`. Return the area's rows (oa, ward, ward_name, lad,
    lad_name). Raise AreaError for a LAD code the lookup does not have or a lookup that is not
    best fit."""
    c = found.columns
    src = read_csv_sql([ws.local(found.entries[0])], found.header)
    execute(ws.con, "area_lookup_national", lookup_national_sql(src))
    known = execute(ws.con, "area_known_lads", known_lads_sql(c["lad"], c.get("lad_name")), fetch="df")
    problems = [_lad_problem(code, known, found) for code in lads if code not in set(known["lad"])]
    if problems:
        raise AreaError(f"{len(problems)} local authority code(s) not found:", problems)
    ws.codes("area_lads", lads)
    ws.release(found.entries[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    execute(ws.con, "area_cut_lookup", sql("cut_rows.sql", source="lookup_national", key=ident(c["lad"]),
                                           codes="area_lads", target=literal(target)))
    rows = execute(ws.con, "area_lookup_rows", area_rows_sql(c), fetch="df")
    dups = rows.loc[rows["oa"].duplicated(), "oa"].unique().tolist()
    if dups:
        raise AreaError("the Output Area to ward lookup is not a best-fit lookup:", [
            f"{found.label()} lists {len(dups)} Output Area(s) under more than one ward (e.g. {dups[:5]}). "
            "Fix: download the best-fit lookup (one ward per Output Area), \"Output Area (2021) to Electoral "
            "Ward to Local Authority District Best Fit Lookup in England and Wales\""])
    ws.codes("area_oas", sorted(rows["oa"]))
    ws.codes("area_wards", sorted(rows["ward"].unique()))
    execute(ws.con, "area_drop_lookup_national", "DROP TABLE lookup_national")
    return rows


# --- census tables ---------------------------------------------------------------------------------


def cut_census(ws: Workspace, census: dict[str, Entry], out_dir: Path, n_oas: int) -> tuple[dict[str, int],
                                                                                          list[str]]:
    """Cut each table's national OA file to the area's OAs, as `census2021-<table>-oa.csv` in
    `out_dir`. Return rows written per table and the problems (a table missing some of the area's
    Output Areas)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, problems = {}, []
    for table, entry in sorted(census.items()):
        target = out_dir / f"census2021-{table}-oa.csv"
        source = read_csv_sql([ws.local(entry)], entry.header())
        rows[table] = _count(ws.con, f"area_cut_{table}", sql("cut_rows.sql", source=source,
                                                              key=ident("geography code"), codes="area_oas",
                                                              target=literal(target)))
        ws.release(entry)
        if rows[table] != n_oas:
            problems.append(
                f"census table {table}: {entry.label()} holds {rows[table]} of the area's {n_oas} "
                "Output Areas (Census 2021 OA codes). Fix: download the Nomis bulk file census2021-"
                f"{table}.zip of Census 2021 (its census2021-{table}-oa.csv lists every 2021 Output Area)")
    return rows, problems


def households(ws: Workspace, ts041: Path) -> int:
    """Households of the area: the sum of TS041's one value column in the cut file."""
    names = Entry(ts041).header()
    value = next(n for n in names if n not in ("date", "geography", "geography code"))
    return _count(ws.con, "area_households", households_sql(value, read_csv_sql([ts041], names)))


def lad_households(ws: Workspace, entry: Entry) -> tuple[int, int]:
    """(LADs found, households) of the area's LADs in the census's own LAD file of TS041."""
    names = entry.header()
    value = next(n for n in names if n not in ("date", "geography", "geography code"))
    check = sql("lad_check.sql", value=ident(value), codes="area_lads",
                source=read_csv_sql([ws.local(entry)], names))
    row = execute(ws.con, "area_lad_households", check, fetch="one")
    ws.release(entry)
    return int(row[0] or 0), int(row[1] or 0)


# --- boundaries ------------------------------------------------------------------------------------


def layer_filter(column: str, codes: list[str]) -> str:
    """The OGR SQL filter (GDAL's, not DuckDB's: pyogrio binds no parameter) keeping the features
    whose `column` is one of `codes`, each a quoted literal."""
    return f"{ident(column)} IN ({', '.join(literal(c) for c in codes)})"


def cut_layer(found: Found, codes: list[str], target: Path, layer: str, what: str) -> tuple[int, list[str]]:
    """Write the features of `found` whose code is one of `codes` to the GeoPackage `target` (in the
    layer's own CRS and columns). Return the features written and the problems (codes missing)."""
    import pyogrio

    col = found.columns["code"]
    where = layer_filter(col, codes)
    gdf = pyogrio.read_dataframe(found.entries[0].gdal_path(), layer=found.layer, where=where)
    gdf[col] = gdf[col].astype(str).str.strip()
    missing = sorted(set(codes) - set(gdf[col]))
    problems = []
    if missing:
        p = found.product
        problems.append(f"{p.name}: {found.label()} lacks {len(missing)} of the area's {len(codes)} {what} "
                        f"(e.g. {missing[:5]}). Fix: download \"{p.title}\" ({p.tested_release}) from "
                        f"{p.page}; the boundaries must be of the same vintage as the lookup")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    gdf.sort_values(col, kind="stable").to_file(target, driver="GPKG", layer=layer)
    return len(gdf), problems


# --- the postcode directory ------------------------------------------------------------------------


def _fingerprint(found: Found) -> str:
    files = sorted({(str(e.path.resolve()), e.path.stat().st_size, e.path.stat().st_mtime_ns)
                    for e in found.entries})
    return json.dumps({"product": found.product.id, "files": files,
                       "members": sorted(e.inner for e in found.entries), "columns": found.columns,
                       "sql": (HERE / "postcodes_national.sql").read_text(encoding="utf-8")}, sort_keys=True)


def directory_stem(found: Found) -> str:
    """File stem of the national directory in the reference folder, e.g. onspd_february_2025."""
    first = found.entries[0]
    names = f"{first.path.name} {first.inner}".lower()
    kind = ("onspd" if "onspd" in names else "nspl" if "nspl" in names
            else "codepoint_open" if found.product.id == "codepoint_open" else "postcodes")
    release = (found.release or "").lower().replace(" ", "_")
    if not release:
        import hashlib
        release = hashlib.sha256(_fingerprint(found).encode()).hexdigest()[:10]
    return f"{kind}_{release}"


def national_postcodes(ws: Workspace, found: Found, folder: Path) -> tuple[Path, dict[str, str | None], bool]:
    """The national directory reduced to the pipeline's columns, as `<folder>/<stem>.csv` (reused
    when already made from the same files). Return its path, the run config's `columns` for it
    and whether it was reused."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{directory_stem(found)}.csv"
    stamp = target.with_name(target.name + ".source.json")
    c = found.columns
    columns: dict[str, str | None] = {k: (DIRECTORY_NAMES[k] if k in c else None) for k in DIRECTORY_NAMES}
    if found.product.id == "codepoint_open":
        columns.update(oa=None, terminated=None, grid_quality=None, user_type=None)
    columns["live_flag"] = None
    fingerprint = _fingerprint(found)
    if target.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        logger.info("National postcode directory %s is current; reused", target)
        return target, columns, True
    header = found.product.id != "codepoint_open" or found.header != list(found.product.columns)
    paths = [ws.local(e) for e in found.entries]
    if found.product.id == "codepoint_open" and not header:
        names = list(found.product.columns)
    else:
        names = found.header
    select = ", ".join(f"{ident(c[k])} AS {DIRECTORY_NAMES[k]}" for k in DIRECTORY_NAMES if k in c)
    tmp = target.with_name(f".{target.name}.part")
    stamp.unlink(missing_ok=True)
    execute(ws.con, "area_national_postcodes", sql("postcodes_national.sql", select=select,
                                                   postcode=ident(c["postcode"]),
                                                   source=read_csv_sql(paths, names, header=header),
                                                   target=literal(tmp)))
    for e in found.entries:
        ws.release(e)
    tmp.replace(target)
    stamp.write_text(fingerprint, encoding="utf-8")
    return target, columns, False


def area_postcodes(ws: Workspace, db: Path, by_oa: bool) -> dict[str, int]:
    """Postcodes of the reference database `db`: national, and in the area (by its Output Areas, or
    by its LADs for a directory without OAs), live among them."""
    execute(ws.con, "area_attach_reference", attach_sql(db))
    try:
        where = ("oa21cd IN (SELECT code FROM area_oas)" if by_oa
                 else "lad_code IN (SELECT code FROM area_lads)")
        national, area, live = execute(ws.con, "area_postcodes", area_postcodes_sql(where), fetch="one")
    finally:
        execute(ws.con, "area_detach_reference", "DETACH pcref")
    return {"national": int(national), "area": int(area), "area_live": int(live)}


# --- optional products -----------------------------------------------------------------------------


def cut_onsud(ws: Workspace, found: Found, target: Path) -> int:
    """The area's UPRNs from ONSUD's regional CSVs, one region at a time, under the run config's
    uprn_lookup default column names."""
    c = found.columns
    select = ", ".join(f"{ident(c[k])} AS {ONSUD_NAMES[k]}" for k in ONSUD_NAMES if k in c)
    parts = []
    for i, entry in enumerate(found.entries):
        part = ws.dir / f"onsud-part-{i:03d}.csv"
        execute(ws.con, "area_onsud_part", sql("onsud_area.sql", select=select, oa=ident(c["oa"]),
                                               codes="area_oas",
                                               source=read_csv_sql([ws.local(entry)], entry.header()),
                                               target=literal(part)))
        ws.release(entry)
        parts.append(part)
    target.parent.mkdir(parents=True, exist_ok=True)
    names = [ONSUD_NAMES[k] for k in ONSUD_NAMES if k in c]
    n = _count(ws.con, "area_onsud", copy_sql(read_csv_sql(parts, names), target))
    for part in parts:
        part.unlink(missing_ok=True)
    return n


def cut_gazetteer(ws: Workspace, found: Found, db: Path, by_oa: bool, target: Path) -> tuple[int, int]:
    """The council gazetteer's addresses of the area (their postcode in the area's Output Areas, or
    LADs), as a CSV of its own columns. Return (addresses kept, addresses read)."""
    from pipeline.address import postcode

    postcode.install(ws.con)
    entry = found.entries[0]
    source = read_csv_sql([ws.local(entry)], found.header)
    area = "oa21cd IN (SELECT code FROM area_oas)" if by_oa else "lad_code IN (SELECT code FROM area_lads)"
    target.parent.mkdir(parents=True, exist_ok=True)
    execute(ws.con, "area_attach_reference", attach_sql(db))
    try:
        kept = _count(ws.con, "area_gazetteer", sql("gazetteer_area.sql", source=source, area=area,
                                                    postcode=ident(found.columns["postcode"]),
                                                    target=literal(target)))
        total = _count(ws.con, "area_gazetteer_rows", count_rows_sql(source))
    finally:
        execute(ws.con, "area_detach_reference", "DETACH pcref")
    ws.release(entry)
    return kept, total


# --- a gazetteer as published ----------------------------------------------------------------------

#: The flat gazetteer `insight area` writes (from any published layout), and the run config's columns
GAZETTEER_HEADER = ("UPRN", "SAON", "PAON", "STREET", "LOCALITY", "TOWN", "POSTCODE", "X", "Y", "CLASS",
                    "PARENT_UPRN")
GAZETTEER_COLUMNS = dict(zip(("uprn", "saon", "paon", "street", "locality", "town", "postcode", "x", "y",
                              "class_code", "parent_uprn"), GAZETTEER_HEADER, strict=True))


def national_gazetteer_sql(target: Path) -> str:
    """Write the flattened gazetteer (`scratch_gazetteer_flat`) to the CSV `target` under GAZETTEER_HEADER."""
    from pipeline.address.published import FLAT_COLUMNS

    cols = ", ".join(f"{ident(f)} AS {ident(h)}" for f, h in zip(FLAT_COLUMNS, GAZETTEER_HEADER, strict=True))
    return f"COPY (SELECT {cols} FROM scratch_gazetteer_flat ORDER BY uprn) TO {literal(target)} (HEADER)"


def national_gazetteer(ws: Workspace, found: Found, folder: Path) -> tuple[Path, list[str], bool]:
    """A gazetteer in a published layout flattened to the one form (`pipeline.address.published`),
    as `<folder>/gazetteer_<layout>_<fingerprint>.csv` (private, 0600), reused while its files are
    unchanged, like the postcode reference. Return its path, the notes (UPRNs with two approved
    LPIs, one kept) and whether it was reused. Raise AreaError naming what the files lack."""
    import hashlib

    from pipeline.address import published

    files = sorted({(str(e.path.resolve()), e.path.stat().st_size, e.path.stat().st_mtime_ns)
                    for e in found.entries})
    reader = hashlib.sha256(Path(published.__file__).read_bytes()).hexdigest()
    fingerprint = json.dumps({"layout": found.layout, "files": files, "reader": reader,
                              "members": sorted(e.inner for e in found.entries)}, sort_keys=True)
    stem = f"gazetteer_{found.layout}_{hashlib.sha256(fingerprint.encode()).hexdigest()[:10]}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}.csv"
    stamp = target.with_name(target.name + ".source.json")
    if target.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        logger.info("Gazetteer %s is current; reused", target)
        return target, [], True
    paths = [ws.local(e) for e in found.entries]
    try:
        sniffed = published.Sniffed(found.layout, found.header_row)
        flat = published.flatten(ws.con, paths, sniffed, found.label())
    except published.LayoutError as exc:
        raise AreaError("the gazetteer cannot be read:", exc.problems) from None
    for e in found.entries:
        ws.release(e)
    tmp = target.with_name(f".{target.name}.part")
    stamp.unlink(missing_ok=True)
    execute(ws.con, "area_national_gazetteer", national_gazetteer_sql(tmp))
    execute(ws.con, "area_drop_gazetteer_flat", "DROP TABLE IF EXISTS scratch_gazetteer_flat")
    tmp.chmod(0o600)  # addresses: private
    tmp.replace(target)
    stamp.write_text(fingerprint, encoding="utf-8")
    return target, flat.notes, False


def published_gazetteer_area_sql(source: str, area: str, bbox: tuple[float, float, float, float] | None,
                                 target: Path) -> str:
    """The flat gazetteer's addresses of the area: their postcode among the area's (`area`, a
    constant of this module), or, with no postcode (OS Open UPRN), their point in the area's extent."""
    box = ("FALSE" if bbox is None else
           "(g.POSTCODE IS NULL AND TRY_CAST(g.X AS DOUBLE) BETWEEN {0} AND {2} AND "
           "TRY_CAST(g.Y AS DOUBLE) BETWEEN {1} AND {3})".format(*(float(v) for v in bbox)))
    return f"""COPY (SELECT g.* FROM {source} AS g
        WHERE pc_key(g.POSTCODE) IN (SELECT pc_key FROM pcref.postcodes WHERE {area}) OR {box}
    ) TO {literal(target)} (HEADER, DELIMITER ',')"""


def cut_published_gazetteer(ws: Workspace, found: Found, db: Path, by_oa: bool, target: Path,
                            bbox: tuple[float, float, float, float] | None
                            ) -> tuple[int, int, list[str], bool]:
    """A published gazetteer's addresses of the area, flat (GAZETTEER_HEADER), from its national
    flattening cached beside the postcode reference. Return (kept, read, notes, reused)."""
    from pipeline.address import postcode

    national, notes, reused = national_gazetteer(ws, found, db.parent)
    postcode.install(ws.con)
    source = read_csv_sql([national], list(GAZETTEER_HEADER))
    area = "oa21cd IN (SELECT code FROM area_oas)" if by_oa else "lad_code IN (SELECT code FROM area_lads)"
    target.parent.mkdir(parents=True, exist_ok=True)
    execute(ws.con, "area_attach_reference", attach_sql(db))
    try:
        kept = _count(ws.con, "area_gazetteer", published_gazetteer_area_sql(source, area, bbox, target))
        total = _count(ws.con, "area_gazetteer_rows", count_rows_sql(source))
    finally:
        execute(ws.con, "area_detach_reference", "DETACH pcref")
    return kept, total, notes, reused
