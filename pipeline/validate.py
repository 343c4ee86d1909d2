"""`insight validate` (and the start of `insight run`): every problem with a run config and the
files it names, found before any stage runs and reported together in one ConfigError.

`pipeline.config.load_config` checks the schema, repeated keys, where the run writes and that
every input exists. This module then reads what each stage will read, the header rows only where
it can: each service extract (a file, not a folder; its header holds the mapped columns), the
polygon layers, the OA->ward lookup, the postcode directory, gazetteer and UPRN lookup columns,
the census tables a classification and each service's base need, the variable ids of
`segmentation.drop` / `weights`, `k` of every tier against the area's Output Areas, the names,
reference-range and lookup files, and whether the output folders can be written. The rules are
those of the stages themselves, imported from them, so validate and run cannot disagree.

Each problem names the file (and row or column), repeats the bad value, lists what is allowed
and says the fix.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import ConfigError, RunConfig, Service, load_config, missing_files

logger = logging.getLogger(__name__)

#: Bytes read from the top of a CSV extract to find its header (the ingest stage searches the first
#: 20 lines, and the next 1,000 only to suggest a header_row).
HEAD_BYTES = 4 << 20


_FIX = re.compile(r"\bfix:", re.IGNORECASE)


class Unreadable(Exception):
    """A setting under which a file cannot be read; the message says why and the fix."""


def validate_config(path: Path | str) -> RunConfig:
    """The run config at `path`, checked with every file it names; raise ConfigError listing
    every problem found (the schema's alone when the config itself is malformed)."""
    path = Path(path)
    cfg = load_config(path, check_files=False)
    problems = missing_files(cfg)
    for check in CHECKS:
        problems += check(cfg)
    problems = list(dict.fromkeys(problems))  # each problem once, however many checks meet it
    if problems:
        raise ConfigError(path, problems)
    for line in equality_code_report(cfg):  # to the terminal only: codes are private
        logger.warning(line)
    logger.debug("%s: valid", path)
    return cfg


def _with_fix(problems: list[str], fix: str, where: str = "") -> list[str]:
    """Problems from a stage's own checks, each led by `where` (the config key) and given a fix
    unless it says one already: the stage's closing 'fix: ...' line when it has one, else `fix`."""
    fixes = [p for p in problems if p.lower().startswith("fix:")]
    if fixes:
        fix = fixes[0][4:].strip()
    lead = f"{where}: " if where else ""
    return [lead + (p if _FIX.search(p) else f"{p.rstrip('. ')}. Fix: {fix}")
            for p in problems if p not in fixes]


# --- service extracts -------------------------------------------------------------------------


def _decoded_lines(path: Path, encoding: str) -> list[str]:
    """The first lines of a text file decoded in memory (at most HEAD_BYTES read; a line cut off at
    that point left out), split as the ingest stage splits them (\\n, \\r\\n or \\r)."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
        at_end = not fh.read(1)
    lines = io.StringIO(head.decode(encoding, errors="replace").lstrip("\ufeff"), newline="").readlines()
    return lines if at_end or len(lines) < 2 else lines[:-1]


def csv_header(path: Path, service: Service) -> tuple[int, list[str]]:
    """(1-based line, cells) of a CSV extract's header, found as the ingest stage finds it: in the
    encoding it detects (a declared one checked), on the line and delimiter it sniffs."""
    from pipeline.ingest import _is_utf8, detect_encoding, sniff_csv

    encoding = detect_encoding(path, service.encoding)
    if service.delimiter is not None and len(service.delimiter) != 1:
        raise Unreadable(f"delimiter {service.delimiter!r} must be one character, such as ',', ';', "
                         "'|' or a tab ('\\t'). Fix: set `delimiter:` to the one the file uses")
    readable = "utf-8-sig" if _is_utf8(encoding) else encoding
    line, delim = sniff_csv(path, service, encoding=readable)  # the stage's rule, read in memory
    lines = _decoded_lines(path, readable)
    cells = next(csv.reader([lines[line]], delimiter=delim), []) if line < len(lines) else []
    return line + 1, cells


def xlsx_header(path: Path, service: Service) -> tuple[int, list[str]]:
    """(1-based row, cells) of a workbook extract's header, reading only the rows the ingest stage
    searches for it (read-only; size, kind and sheet checked by the stage's own rules)."""
    from openpyxl import load_workbook

    from pipeline.ingest import HINT_LINES, SNIFF_LINES, IngestError, _check_xlsx_size, _pick_sheet
    from pipeline.ingest import _xlsx_header as header_index

    _check_xlsx_size(path, service)
    damaged = IngestError([f"{path}: the workbook is damaged or not a real .xlsx; fix: export it again, "
                           "or open it in Excel and save it as .xlsx or as CSV UTF-8"])
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged workbook
        raise damaged from None
    try:
        try:
            ws = _pick_sheet(wb, path, service)
        except IngestError as exc:
            raise IngestError(_with_fix(exc.problems, f"set services.{service.name}.sheet to one of "
                                                      "the sheets listed")) from None
        last = max(service.header_row or 0, SNIFF_LINES + HINT_LINES)
        rows = [["" if v is None else str(v) for v in r]
                for r in ws.iter_rows(max_row=last, values_only=True)]
    except IngestError:
        raise
    except Exception:
        raise damaged from None
    finally:
        wb.close()
    if not rows:
        raise IngestError([f"{path}: the sheet is empty; fix: export the extract again"])
    row = header_index(rows, path, service)
    return row + 1, rows[row]


def _extract_problems(where: str, service: Service) -> list[str]:
    """Problems with one extract: its kind, encoding, sheet and the header's mapped columns."""
    from pipeline.ingest import IngestError, _check_path, map_headers

    path = Path(service.file)
    if path.is_file() and path.stat().st_size == 0:
        return [f"{where}: {path} is empty (0 bytes). Fix: export the extract again"]
    try:
        _check_path(path, service)
        read = xlsx_header if path.suffix.lower() in (".xlsx", ".xlsm") else csv_header
        number, cells = read(path, service)
    except IngestError as exc:
        return _with_fix(exc.problems, f"correct {where}'s encoding, delimiter, sheet or header_row, or "
                                       "export the extract again", where)
    except Unreadable as exc:
        return [f"{where}: {path}: {exc}"]
    except OSError as exc:
        return [f"{where}: {path} could not be read ({exc.strerror or type(exc).__name__}). Fix: check the "
                "file's permissions"]
    _, problems = map_headers(service, cells, f"{path} (header row {number})")
    return _with_fix(problems, f"set {where}.columns and options to headers of the file", where)


def service_problems(cfg: RunConfig) -> list[str]:
    """Each extract is a readable file whose header holds the mapped columns."""
    return [p for i, s in enumerate(cfg.services) if Path(s.file).exists()  # else missing_files says so
            for p in _extract_problems(f"services[{i}] ({s.name})", s)]


def privacy_warnings(cfg: RunConfig) -> list[str]:
    """One warning per extract whose header has columns that look like names, phone numbers or email
    addresses. They are never read (only mapped columns are, and such columns cannot be mapped),
    but the extract would be better without them. Extracts that cannot be read are left to
    `service_problems`."""
    from pipeline.config import identifier_kind, identifier_kinds
    from pipeline.ingest import IngestError

    warnings = []
    for i, s in enumerate(cfg.services):
        path = Path(s.file)
        if not path.is_file() or path.stat().st_size == 0:
            continue
        read = xlsx_header if path.suffix.lower() in (".xlsx", ".xlsm") else csv_header
        try:
            _, cells = read(path, s)
        except (IngestError, Unreadable, OSError):
            continue
        found = [c for c in cells if identifier_kind(c)]
        if found:
            warnings.append(f"services[{i}] ({s.name}): {path} has column(s) holding "
                            f"{identifier_kinds(found)} {found}; they are not read (only mapped columns "
                            "reach the warehouse). "
                            "Ask the service to leave them out of the extract")
    return warnings


# --- geography --------------------------------------------------------------------------------


def _polygon_problems(key: str, spec, kind: str) -> list[str]:
    """A polygon layer is readable, has a CRS and the configured code (and name) columns."""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    path = Path(spec.path)
    if not path.exists():
        return []
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        if spec.layer is not None and spec.layer not in layers:
            return [f"{key}.layer: {path} has no layer {spec.layer!r}; its layers are {layers}. Fix: set "
                    f"{key}.layer to one of them"]
        info = pyogrio.read_info(path, layer=spec.layer)
    except (DataSourceError, DataLayerError, OSError) as exc:
        return [f"{key}.path: {path} cannot be read as a polygon layer ({exc}). Fix: name a GeoJSON, "
                "GeoPackage or shapefile"]
    fields = [str(f) for f in info["fields"]]
    problems = [f"{key}.{role}_column: {path} has no column {col!r} (the {kind} {role} column); its "
                f"columns are {fields}. Fix: set {key}.{role}_column to one of them"
                for role, col in (("code", spec.code_column), ("name", spec.name_column))
                if col is not None and col not in fields]
    if info["crs"] is None:
        problems.append(f"{key}.path: {path} has no CRS. Fix: save it with one (EPSG:27700 or 4326)")
    return problems


def _csv_columns(path: Path, encoding: str | None = None, strip: bool = False) -> list[str]:
    """The header of a plain CSV as pandas reads it (header row only)."""
    columns = [str(c) for c in pd.read_csv(path, nrows=0, dtype=str, encoding=encoding).columns]
    return [c.strip() for c in columns] if strip else columns


def _need(key: str, path: Path, have: list[str], need: dict[str, str | None]) -> list[str]:
    """One problem per configured column (config key -> column) the file lacks."""
    return [f"{key}.{field}: {path} has no column {col!r}; its columns are {have}. Fix: set "
            f"{key}.{field} to one of them" for field, col in need.items() if col and col not in have]


def _ward_lookup_problems(cfg: RunConfig) -> list[str]:
    spec = cfg.geography.oa_to_ward
    if spec is None or not Path(spec.path).is_file():
        return []
    have = _csv_columns(Path(spec.path))  # as boundaries.loaders.load_oa_ward_lookup reads it
    need = {"oa_column": spec.oa_column, "ward_column": spec.ward_column,
            "ward_name_column": spec.ward_name_column}
    return _need("geography.oa_to_ward", Path(spec.path), have, need)


def _duckdb_columns(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]


def _sql_path(path: Path | str) -> str:
    return str(path).replace("'", "''")


def _directory_problems(cfg: RunConfig) -> list[str]:
    """The postcode directory has its configured columns (checked as the geography stage does)."""
    from boundaries.loaders import GeographyError, check_postcode_directory

    spec = cfg.geography.postcode_directory
    key = "geography.postcode_directory"
    if not Path(spec.path).is_file():
        return [f"{key}.path: {spec.path} is a folder, not a file. Fix: name the directory CSV"] \
            if Path(spec.path).is_dir() else []
    con = duckdb.connect()
    try:
        check_postcode_directory(con, spec)
    except GeographyError as exc:
        return _with_fix(exc.problems, f"set {key}.columns", f"{key}.columns")
    except duckdb.Error as exc:
        return [f"{key}.path: {spec.path} cannot be read as CSV ({str(exc).splitlines()[0]}). Fix: name "
                "the ONSPD / NSPL / Code-Point CSV"]
    finally:
        con.close()
    return []


def _reference_file_problems(cfg: RunConfig) -> list[str]:
    """An existing reference_db must be a DuckDB database (one the pipeline built), never another
    file the build would replace."""
    ref = cfg.geography.postcode_directory.reference_db
    if ref is None or not Path(ref).is_file():
        return []
    with open(ref, "rb") as fh:
        magic = fh.read(12)[8:12]
    if magic == b"DUCK":
        return []
    return [f"geography.postcode_directory.reference_db: {ref} exists and is not a DuckDB database; "
            "building the reference would replace it. Fix: name a new file, such as "
            "data/reference/onspd.duckdb"]


def _gazetteer_problems(cfg: RunConfig) -> list[str]:
    """The gazetteer has its configured columns (as pipeline.address.gazetteer reads them)."""
    spec = cfg.geography.gazetteer
    if spec is None or not Path(spec.path).is_file():
        return []
    con = duckdb.connect()
    try:
        have = _duckdb_columns(con, f"read_csv('{_sql_path(spec.path)}', header = true)")
    except duckdb.Error as exc:
        return [f"geography.gazetteer.path: {spec.path} cannot be read as CSV "
                f"({str(exc).splitlines()[0]}). Fix: export the gazetteer as CSV"]
    finally:
        con.close()
    return _need("geography.gazetteer.columns", Path(spec.path), have, spec.columns.model_dump())


def _uprn_lookup_problems(cfg: RunConfig) -> list[str]:
    """The UPRN lookup files (ONSUD) have their configured columns (the stage's own check)."""
    import glob

    from boundaries.loaders import GeographyError
    from pipeline.address.uprn_lookup import _lookup_parts

    if cfg.geography.uprn_lookup is None or not glob.glob(cfg.geography.uprn_lookup.path):
        return []
    con = duckdb.connect()
    try:
        _lookup_parts(con, cfg)
    except GeographyError as exc:
        return _with_fix(exc.problems, "set geography.uprn_lookup.columns", "geography.uprn_lookup.columns")
    except duckdb.Error as exc:
        return [f"geography.uprn_lookup.path: {cfg.geography.uprn_lookup.path} cannot be read as CSV "
                f"({str(exc).splitlines()[0]}). Fix: name the ONSUD CSV files"]
    finally:
        con.close()
    return []


def geography_problems(cfg: RunConfig) -> list[str]:
    """Boundary layers, OA->ward lookup, postcode directory, reference DB, gazetteer and ONSUD."""
    g = cfg.geography
    if g is None:  # a census-only classification (the schema allows it only then)
        return []
    return (_polygon_problems("geography.oa_boundaries", g.oa_boundaries, "OA")
            + _polygon_problems("geography.wards", g.wards, "ward")
            + _ward_lookup_problems(cfg) + _directory_problems(cfg) + _reference_file_problems(cfg)
            + _gazetteer_problems(cfg) + _uprn_lookup_problems(cfg))


# --- census, classification and bases ---------------------------------------------------------


def _spec_problems(exc) -> list[str]:
    """A SpecError's problems, located in the spec file; an unknown drop/weights id is given the
    list of the spec's ids; each with a fix."""
    ids = [p for p in exc.problems if p.startswith("the variable ids are")]
    known = f"; {ids[0]}" if ids else ""
    located = [p.replace(" in the spec", f" in the spec {exc.path}", 1) + known if " in the spec" in p
               else f"{exc.path}: {p}" for p in exc.problems if p not in ids]
    return _with_fix(located, "use variable ids of the spec in segmentation.drop and weights, or "
                              "correct the spec file")


def _area_oa_count(cfg: RunConfig, census_oas: pd.Index) -> int | None:
    """The Output Areas the build will classify: the area's (in the census tables) or every OA of
    the census tables (`scope: census`); None when the boundary file cannot say."""
    from segments.build import area_oas

    if cfg.segmentation.scope == "census":
        return len(census_oas)
    spec = cfg.geography.oa_boundaries
    if not Path(spec.path).exists() or _polygon_problems("geography.oa_boundaries", spec, "OA"):
        return None  # reported by the geography checks
    return len(census_oas.intersection(area_oas(cfg)))


def _tier_sizes(seg) -> list[tuple[str, int, list[str]]]:
    """(tier, clusters in all, mapping keys naming no parent) of the group and subgroup tiers, with
    the codes and defaults of segments.hierarchy."""
    from segments.hierarchy import _k_for, _suffix

    parents, out = [str(i + 1) for i in range(seg.k)], []
    for tier, k in (("group", seg.k_groups), ("subgroup", seg.k_subgroups)):
        if k is None:
            break
        default = k if isinstance(k, int) else 2
        unknown = sorted(set(k) - set(parents)) if isinstance(k, dict) else []
        parents = [p + _suffix(tier, j) for p in parents for j in range(_k_for(k, p, default))]
        out.append((tier, len(parents), unknown))
    return out


def tier_problems(seg, n: int | None) -> list[str]:
    """`k` of every tier against the `n` Output Areas classified (None: not known): no tier can
    have more clusters than OAs; a per-parent mapping names only codes the tier above makes."""
    if n is not None and seg.k > n:
        return [f"segmentation.k: {seg.k} supergroups cannot be made from the {n} Output Areas of the "
                f"area; k must be from 2 to {min(n, 30)}. Fix: lower segmentation.k"]
    problems = []
    for tier, total, unknown in _tier_sizes(seg):
        key, parent = f"segmentation.k_{tier}s", "supergroup" if tier == "group" else "group"
        if unknown:
            problems.append(f"{key}: {unknown} are not {parent} codes this build makes (k={seg.k}). "
                            f"Fix: key the mapping by {parent} codes, such as "
                            f"{'1, 2' if tier == 'group' else '1a, 1b'}")
        if n is not None and total > n:
            problems.append(f"{key}: {total} {tier}s in all cannot be made from the {n} Output Areas of "
                            f"the area. Fix: lower {key}, or set it to null for no {tier} tier")
    return problems


def classification_problems(cfg: RunConfig) -> list[str]:
    """The variable spec with the config's drop/weights, the census categories it needs, and k."""
    from segments.build import area_mismatch, area_oas, variable_spec
    from segments.census import CensusError
    from segments.variables import SpecError, compute_percentages

    seg = cfg.segmentation
    if seg.method != "kmeans" or any(p is not None and not Path(p).exists()
                                     for p in (seg.variables, seg.add_variables)):
        return []  # a missing spec file is reported by missing_files
    try:
        values = compute_percentages(cfg.census, variable_spec(seg), dropped=seg.drop)
    except SpecError as exc:
        return _spec_problems(exc) + tier_problems(seg, None)
    except CensusError as exc:
        fix = "name categories the table has in the variable spec (segmentation.variables, " \
              "add_variables), or point census.dir and census.pattern at the Nomis bulk CSVs it needs"
        return _with_fix(exc.problems, fix, "census") + tier_problems(seg, None)
    n = _area_oa_count(cfg, values.index)
    if n == 0:
        return [area_mismatch(cfg, values.index, area_oas(cfg))]
    return tier_problems(seg, n)


def census_problems(cfg: RunConfig) -> list[str]:
    """The households table, and the census table and columns of each service's base."""
    from segments.census import CensusError, households

    problems = []
    try:
        households(cfg.census)
    except CensusError as exc:
        problems += _with_fix(exc.problems, "set census.households_table to the Nomis TS041 table, or "
                              "fix census.dir and census.pattern", "census.households_table")
    for i, service in enumerate(cfg.services):
        if service.base == "households":
            continue
        from pipeline.profiles.levels import _census_base  # the profile stage's own reading

        where = f"services[{i}].base ({service.name})"
        try:
            _census_base(cfg, service.base)
        except CensusError as exc:
            problems += _with_fix(exc.problems, "add the table to census.dir, or choose another base", where)
        except (ValueError, IndexError, KeyError) as exc:
            fix = "name columns the table has (census:<table>:<column>|<column>), or use households, " \
                  "residents or adults"
            problems += _with_fix([str(exc)], fix, where)
    return problems


# --- segmentation files -------------------------------------------------------------------------


def _names_problems(key: str, path: Path | None) -> list[str]:
    """A names file reads as segments.describe reads it: columns code,name[,description]."""
    from segments.describe import read_names

    if path is None or not Path(path).exists():
        return []
    try:
        read_names(path)
    except (ValueError, UnicodeDecodeError, IsADirectoryError) as exc:
        return _with_fix([f"{key}: {exc}"], f"give {path} a header row code,name (description "
                         "optional) and one row per segment code")
    return []


def _lookup_problems(cfg: RunConfig) -> list[str]:
    """An external classification's file (and key -> OA link) has the configured columns."""
    lk = cfg.segmentation.lookup
    if lk is None:
        return []
    problems = []
    if lk.key == "uprn" and lk.to_oa is None:
        problems.append("segmentation.lookup.to_oa: a UPRN-keyed lookup needs to_oa (a CSV linking each "
                        "UPRN to its Output Area). Fix: add to_oa: {path, key_column, oa_column}")
    if Path(lk.path).is_file():
        have = _csv_columns(Path(lk.path), "utf-8-sig", strip=True)  # as segments.lookup reads it
        problems += _need("segmentation.lookup", Path(lk.path), have,
                          {"key_column": lk.key_column, "code_column": lk.code_column,
                           "group_column": lk.group_column, "subgroup_column": lk.subgroup_column})
    if lk.to_oa is not None and Path(lk.to_oa.path).is_file():
        have = _csv_columns(Path(lk.to_oa.path), "utf-8-sig", strip=True)
        problems += _need("segmentation.lookup.to_oa", Path(lk.to_oa.path), have,
                          {"key_column": lk.to_oa.key_column, "oa_column": lk.to_oa.oa_column})
    return problems + _names_problems("segmentation.lookup.names", lk.names)


def segmentation_file_problems(cfg: RunConfig) -> list[str]:
    """Names, reference-range and lookup files."""
    from segments.transform import read_reference

    seg = cfg.segmentation
    problems = _names_problems("segmentation.names", seg.names) + _lookup_problems(cfg)
    if seg.reference is not None:
        try:
            read_reference(seg.reference)
        except (ValueError, FileNotFoundError, IsADirectoryError) as exc:
            problems += _with_fix([f"segmentation.reference: {exc}"],
                                  "give the file the columns variable,min,max with numbers for min and max")
    return problems


# --- output folders -----------------------------------------------------------------------------


def _nearest_existing(folder: Path) -> Path:
    folder = folder.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def writable_problems(cfg: RunConfig) -> list[str]:
    """Each run folder can be made and written, the outputs folder is a real folder (not a link)
    and holds nothing the pipeline did not write (the run would refuse to empty it)."""
    from pipeline.ownership import OUTPUTS_MARKER

    problems = []
    for key, folder in (("outputs_dir", Path(cfg.outputs)), ("private_dir", Path(cfg.private))):
        if folder.is_symlink():
            problems.append(f"{key}: {folder} is a symbolic link (to {folder.resolve()}). Fix: set {key} "
                            "to the real folder")
            continue
        base = _nearest_existing(folder)
        if not base.is_dir():
            problems.append(f"{key}: {folder} cannot be made, because {base} is a file. Fix: choose "
                            "another folder")
        elif not os.access(base, os.W_OK | os.X_OK):
            problems.append(f"{key}: {folder} cannot be written ({base} is read-only for this user). "
                            "Fix: choose a folder you can write, or ask for write access")
    out = Path(cfg.outputs)
    if out.is_dir() and not out.is_symlink() and any(out.iterdir()) and not (out / OUTPUTS_MARKER).exists():
        problems.append(f"outputs_dir: {out} holds files the pipeline did not write, and a run empties "
                        "its outputs folder. Fix: set outputs_dir to a new or empty folder")
    return problems


# --- equality codes -----------------------------------------------------------------------------


def equality_map_problems(cfg: RunConfig) -> list[str]:
    """Each `equality.codes` entry maps to a category (or age band) the profile recognises, and each
    `equality.age_bands` entry is an age band."""
    if not any(s.equality.codes or s.equality.age_bands for s in cfg.services):
        return []
    from pipeline.profiles.equality import parse_band, target_problem  # (the profile stage: heavy)

    problems = []
    for i, s in enumerate(cfg.services):
        where = f"services[{i}] ({s.name}).equality"
        for field, codes in s.equality.codes.items():
            for code, target in codes.items():
                why = target_problem(field, target)
                if why:
                    problems.append(f"{where}.codes.{field}: {code!r} maps to {why}. Fix: map it to one "
                                    "of those")
        problems += [f"{where}.age_bands: {b!r} is not an age band. Fix: write it as e.g. 'Under 18', "
                     "'25-44' or '75+'" for b in s.equality.age_bands if parse_band(b) is None]
    return problems


def _csv_columns_of(path: Path, service: Service, fields: list[str]) -> dict[str, list[str]]:
    """The cells of the mapped `fields` in every non-blank record of a CSV extract, read in memory in
    the encoding, from the header line and with the delimiter the ingest stage would use."""
    from pipeline.ingest import _is_utf8, detect_encoding, map_headers, sniff_csv

    encoding = detect_encoding(path, service.encoding)
    readable = "utf-8-sig" if _is_utf8(encoding) else encoding
    line, delim = sniff_csv(path, service, encoding=readable)
    with open(path, encoding=readable, errors="replace", newline="") as fh:
        for _ in range(line):
            fh.readline()
        reader = csv.reader(fh, delimiter=delim)
        header = next(reader, [])
        mapping, _ = map_headers(service, header, str(path))
        at = {f: header.index(mapping[f]) for f in fields if f in mapping}
        out: dict[str, list[str]] = {f: [] for f in at}
        for r in reader:
            if any(c.strip() for c in r):
                for f, i in at.items():
                    out[f].append(r[i].strip() if i < len(r) else "")
    return out


def _extract_values(service: Service) -> pd.DataFrame:
    """The extract's equality columns, one row per non-blank record (values trimmed, '' if blank)."""
    from pipeline.config import EQUALITY_FIELDS
    from pipeline.ingest import _read_xlsx, map_headers

    path = Path(service.file)
    fields = [f for f in EQUALITY_FIELDS if f in service.columns]
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return pd.DataFrame(_csv_columns_of(path, service, fields), dtype=object)
    frame = _read_xlsx(path, service, []).dropna(how="all")
    mapping, _ = map_headers(service, [str(c) for c in frame.columns], str(path))
    return pd.DataFrame({f: frame[mapping[f]].fillna("").astype(str).str.strip().to_numpy(dtype=object)
                         for f in fields if f in mapping})


def equality_code_report(cfg: RunConfig) -> list[str]:
    """Per service and characteristic: the distinct codes the profile will not recognise, with their
    records, and whether the view will be marked incomplete. Read from the extracts themselves; the
    lines name codes, so they go to the terminal (private), never to the shareable outputs."""
    from pipeline.config import EQUALITY_FIELDS

    if not any(f in s.columns for s in cfg.services for f in EQUALITY_FIELDS):
        return []
    from pipeline.ingest import IngestError
    from pipeline.profiles import equality

    lines = []
    for i, s in enumerate(cfg.services):
        if not any(f in s.columns for f in equality.FIELDS) or not Path(s.file).is_file():
            continue
        try:
            values = _extract_values(s)
        except (IngestError, Unreadable, OSError, UnicodeError, csv.Error, KeyError) as exc:
            logger.debug("%s: equality codes not listed: %s", s.name, exc)
            continue
        options = equality.Options.of(s)
        views = [f for f in equality.FIELDS if f in values] + (["ethnicity_detailed"] if "ethnicity" in values
                                                                else [])
        for view in views:
            field = "ethnicity" if view == "ethnicity_detailed" else view
            col = values[field]
            if view == "disability_type" and "disability" in values:
                disabled = equality.CodeMap("disability", options.codes.get("disability"))
                col = col[[disabled(d) == "Disabled" for d in values["disability"]]]
            counts = col[col != ""].value_counts().to_dict()
            bad = equality.unrecognised(view, counts, options.codes.get(field))
            if not bad:
                continue
            n, total = sum(bad.values()), len(col)
            share = n / total if total else 0.0
            limit = options.incomplete_share
            status = (f"more than {limit * 100:g}%: the view will be marked incomplete" if share > limit
                      else f"within the {limit * 100:g}% allowed")
            what = ("code(s) whose broad group is recognised but not the detailed group"
                    if view == "ethnicity_detailed" else "code(s) not recognised")
            shown = ", ".join(f"{c!r} ({k:,})" for c, k in list(bad.items())[:20])
            more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
            lines.append(f"services[{i}] ({s.name}) {view}: {len(bad)} distinct {what}, in {n:,} of "
                         f"{total:,} records ({share:.1%}; {status}): {shown}{more}. Fix: map them under "
                         f"services[{i}].equality.codes.{field}, e.g. {next(iter(bad))!r}: <category>")
    return lines


#: Every check, in the order the stages read the files.
CHECKS: tuple[Callable[[RunConfig], list[str]], ...] = (
    writable_problems, geography_problems, service_problems, census_problems,
    classification_problems, segmentation_file_problems, equality_map_problems,
)
