"""`insight area LAD [LAD ...] --sources DIR`: find the national products, cut them to the local
authorities (several make one area), write `data/areas/<name>/` and `config/areas/<name>.yaml`,
validate the config and say what was found, what was cut and what to run next.

Nothing is half written: the area's files are made in a workspace and moved into
`data/areas/<name>/` only when every product was cut without a problem, and the config is moved
into place only once it validates. A config that exists is kept (the user maps services in it)
unless `force` is given.

The sources folder is not trusted (`pipeline.area.guard`): a zip member over the size or
expansion-ratio limits, a header too long, too wide or holding a NUL byte, and a row of the wrong
width or an over-long line are `error:` lines naming the file, the line and the limit (the
`limits` of `build_area`, options of the command), never a traceback.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

import duckdb
import pandas as pd

import pipeline
import segments
from boundaries.reference import ensure_reference
from pipeline.address import published
from pipeline.area import AreaError
from pipeline.area import cut as cutting
from pipeline.area.find import Found, Sources, find
from pipeline.area.guard import Limits, csv_problem
from pipeline.area.ranges import RANGES_FILE, national_ranges
from pipeline.area.sources import missing_text, product
from pipeline.area.writeconfig import AreaFiles, config_text, shown, write_config
from pipeline.config import RUN_NAME, PostcodeColumns, PostcodeDirectory

logger = logging.getLogger(__name__)

SPEC_DIR = Path(segments.__file__).resolve().parent / "spec"
#: The classification's variable spec: the build's default (segments.variables.DEFAULT_SPEC)
CLASSIFICATION_SPEC = SPEC_DIR / "oac2021_variables.csv"
EQUALITY_CATEGORIES = Path(pipeline.__file__).resolve().parent / "profiles" / "equality_categories.csv"
#: Tables every profile needs: households (the default base), residents and adults (other bases)
PROFILE_TABLES = {"ts041": "households, the base of every profile", "ts001": "residents base",
                  "ts007a": "adults base and the age equality view"}
#: Used when present (single years of age: the equality view's exact age bands), never required
OPTIONAL_TABLES = {"ts007": "single years of age for the age equality view (else five-year bands)"}
#: The file that marks a folder of data/areas as made by `insight area`
MANIFEST = "area.json"


def spec_tables(path: Path) -> dict[str, list[str]]:
    """table -> the variable ids of a spec that use it (as numerator or denominator)."""
    out: dict[str, list[str]] = {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            for t in {row.get("table", ""), row.get("denominator_table", "")}:
                if t and t.strip():
                    out.setdefault(t.strip().lower(), []).append(row["variable"].strip())
    return out


def needed_tables() -> dict[str, str]:
    """Each census table the area needs, with why: the variable specs of segments/spec/ (the
    classification's and the quick core set), the profile bases and the equality views."""
    why: dict[str, list[str]] = {}
    for spec in sorted(SPEC_DIR.glob("*variables*.csv")):
        for table, variables in spec_tables(spec).items():
            why.setdefault(table, []).append(f"{spec.stem} {', '.join(variables[:4])}"
                                             + (" ..." if len(variables) > 4 else ""))
    for table, reason in PROFILE_TABLES.items():
        why.setdefault(table, []).append(reason)
    with open(EQUALITY_CATEGORIES, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            t = (row.get("census_table") or "").strip().lower()
            if t:
                reason = f"{row['field']} equality view"
                if reason not in why.setdefault(t, []):
                    why[t].append(reason)
    return {t: "; ".join(r) for t, r in sorted(why.items())}


def slug(names: list[str]) -> str:
    text = "-".join(re.sub(r"[^a-z0-9]+", "_", n.lower()).strip("_") for n in names)
    return text[:60].strip("-_") or "area"


@dataclass
class AreaResult:
    name: str
    lads: dict[str, str]
    data_dir: Path
    config: Path
    found: list[tuple[str, str]] = field(default_factory=list)
    cut: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def text(self) -> str:
        area = " + ".join(f"{n} ({c})" for c, n in self.lads.items())
        width = max(len(k) for k, _ in self.found + self.cut) + 2
        lines = [f"Area '{self.name}': {area}", "", "Found:"]
        lines += [f"  {k:<{width}}{v}" for k, v in self.found]
        lines += ["", "Cut:"] + [f"  {k:<{width}}{v}" for k, v in self.cut]
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        lines += ["", f"Wrote {shown(self.data_dir)}/ and {shown(self.config)} (valid) in "
                      f"{self.seconds:.1f} s.",
                  f"Next: map your service extracts in the services: block of {shown(self.config)}, then",
                  f"  .venv/bin/insight run {shown(self.config)}"]
        return "\n".join(lines)


def _problems(src: Sources, tables: dict[str, str]) -> list[str]:
    """Required products missing (or only of the wrong vintage), each with the catalogue's text."""
    problems = []
    wrong = {}
    for pid, message in src.wrong:
        wrong.setdefault(pid, []).append(message)
    for pid in ("postcode_directory", "oa_boundaries", "wards", "oa_ward_lookup"):
        if pid in src.found or (pid == "postcode_directory" and "codepoint_open" in src.found):
            continue
        problems += wrong.get(pid) or [missing_text(product(pid), src.folder)]
    if "ts041" not in src.census:
        census_wrong = [m for m in wrong.get("census", []) if "ts041" in m]
        problems += census_wrong or [
            "census table ts041 (households, the base of every profile): "
            + missing_text(product("census"), src.folder).replace(
                "Fix: download it from", "Fix: download census2021-ts041.zip from")]
    problems += src.refused
    if problems:  # what was not read may be why a product is missing
        problems += src.skipped
    return problems


def _missing_table_notes(src: Sources, tables: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(variables dropped from the classification -> their table, notes) for tables not found."""
    missing = [t for t in tables if t not in src.census]
    classification = spec_tables(CLASSIFICATION_SPEC)
    drop = {v: t for t in missing for v in classification.get(t, [])}
    notes = [m for pid, m in src.wrong if pid == "census" and not m.startswith("census table ts041:")]
    if missing:
        p = product("census")
        notes.append(f"census tables not found: {', '.join(missing)} (needed for: "
                     + "; ".join(f"{t}: {tables[t]}" for t in missing)
                     + f"). Fetch census2021-<table>.zip from {p.page}"
                     + (f"; the classification leaves out {len(drop)} variable(s) until then "
                        f"(segmentation.drop: {', '.join(drop)})" if drop else ""))
    return drop, notes


def _describe(f: Found) -> str:
    release = f" {f.release}" if f.release else ""
    short = f.product.short
    if f.product.id == "postcode_directory":
        short = {"onspd": "ONSPD", "nspl": "NSPL"}.get(cutting.directory_stem(f).split("_")[0], short)
    return f"{short}{release}: {f.label()}"


def build_area(lads: list[str], sources: Path, *, name: str | None = None,
               data_root: Path = Path("data/areas"), config_root: Path = Path("config/areas"),
               reference_dir: Path = Path("data/reference"), force: bool = False,
               command: str | None = None, ranges: bool = False, limits: Limits | None = None) -> AreaResult:
    """Make the area of `lads` from the national products in `sources` (see the module docstring);
    `ranges`: also standardise its classification on the national census files' ranges
    (`pipeline.area.ranges`); `limits`: what is read of zips and CSVs (`guard.Limits`)."""
    limits = limits or Limits()
    t0 = time.perf_counter()
    lads = list(dict.fromkeys(code.strip().upper() if cutting.LAD_CODE.match(code.strip().upper()) else
                              code.strip() for code in lads))
    sources = Path(sources)
    if not sources.is_dir():
        raise AreaError(f"the sources folder {sources} does not exist", [
            f"--sources {sources}: no such folder. Fix: save the national products (see `insight sources`) "
            "in one folder and name it"])
    tables = needed_tables()
    src = find(sources, [*tables, *OPTIONAL_TABLES], limits)
    problems = _problems(src, tables)
    if problems:
        raise AreaError(f"{len(problems)} national product(s) missing or unusable in {sources}:", problems)
    ws = cutting.Workspace(Path(data_root), limits=limits)
    try:
        return _build(ws, lads, src, tables, name, Path(data_root), Path(config_root), Path(reference_dir),
                      force, command or f"insight area {' '.join(lads)} --sources {sources}", t0, ranges)
    except duckdb.InvalidInputException as exc:  # a national CSV DuckDB cannot read: which file, line, limit
        problem = csv_problem(exc, ws.labels(), limits)
        if problem is None:
            raise
        raise AreaError(f"a national file in {sources} cannot be read:", [problem]) from None
    finally:
        ws.close()


def _area_name_and_paths(rows, lads: list[str], name: str | None, data_root: Path, config_root: Path,
                         force: bool) -> tuple[dict[str, str], str, Path, Path]:
    """The LADs' names, the area's name, its folder and config; refuse a config that exists (unless
    `force`) or a folder `insight area` did not make."""
    lad_names = {}
    for code in lads:
        named = rows.loc[rows["lad"] == code, "lad_name"].dropna()
        lad_names[code] = str(named.iloc[0]) if len(named) else code
    name = name or slug(list(lad_names.values()))
    if not RUN_NAME.fullmatch(name):  # the area's name is its run's
        raise AreaError("the area name cannot be used", [
            f"--name {name!r}: a name may hold only letters, digits, '-' and '_' (it names "
            "data/areas/<name> and the run). Fix: e.g. --name greater_manchester"])
    data_dir, config_path = data_root / name, config_root / f"{name}.yaml"
    if config_path.exists() and not force:
        raise AreaError(f"{config_path} exists", [
            f"{config_path} is already there, perhaps with your services mapped in it, so it is not "
            "replaced. Fix: give another --name, or add --force to replace it (copy its services: block "
            "first)"])
    if data_dir.exists() and any(data_dir.iterdir()) and not (data_dir / MANIFEST).is_file():
        raise AreaError(f"{data_dir} holds files insight area did not make", [
            f"{data_dir} exists without {MANIFEST}, so it is not a folder `insight area` made and is left "
            "as it is. Fix: give another --name, or move that folder away"])
    return lad_names, name, data_dir, config_path


def _households_check(ws: cutting.Workspace, src: Sources, lads: list[str], hh: int) -> str:
    """How the area's TS041 households compare with the census's own LAD totals."""
    entry = src.census_lad.get("ts041")
    if entry is None:
        return "; no census2021-ts041-ltla.csv beside the OA file, so not checked against the LAD total"
    n_lads, lad_hh = cutting.lad_households(ws, entry)
    if n_lads != len(lads):
        return f"; {entry.label()} lists {n_lads} of the {len(lads)} LADs, so not checked"
    whose = "these LADs" if len(lads) > 1 else lads[0]
    if lad_hh == hh:
        return f"; the census's own total for {whose}: {lad_hh:,} (agrees)"
    return (f"; the census's own total for {whose}: {lad_hh:,} (differs by {hh - lad_hh:+,}: Census 2021 "
            "perturbs small counts, so Output Areas need not add up to the authority's own figure)")


def _build(ws: cutting.Workspace, lads: list[str], src: Sources, tables: dict[str, str], name: str | None,
           data_root: Path, config_root: Path, reference_dir: Path, force: bool, command: str,
           t0: float, ranges: bool) -> AreaResult:
    stage = ws.dir / "area"
    lk = src.found["oa_ward_lookup"]
    lookup_name = f"oa21_{lk.columns['ward'].lower()}_{lk.columns['lad'].lower()}_lookup.csv"
    rows = cutting.cut_lookup(ws, lk, lads, stage / "lookups" / lookup_name)
    lad_names, name, data_dir, config_path = _area_name_and_paths(rows, lads, name, data_root, config_root,
                                                                  force)
    result = AreaResult(name, lad_names, data_dir, config_path)
    n_oas, area_wards = len(rows), sorted(rows["ward"].unique())

    # census tables, and the households checked against the census's own LAD figure
    census_rows, problems = cutting.cut_census(ws, src.census, stage / "census2021", n_oas)
    drop, notes = _missing_table_notes(src, tables)
    result.notes += notes
    ts041 = stage / "census2021" / "census2021-ts041-oa.csv"
    hh = cutting.households(ws, ts041) if census_rows.get("ts041") else 0
    hh_check = _households_check(ws, src, lads, hh)
    national_oas, n_ranges = (national_ranges(ws, src.census, list(drop), stage / "census2021" / RANGES_FILE)
                              if ranges else (0, 0))

    # boundaries
    oa_f, ward_f = src.found["oa_boundaries"], src.found["wards"]
    oa_path = stage / "boundaries" / "oa21.gpkg"
    ward_path = stage / "boundaries" / f"wards{ward_f.vintage}.gpkg"
    n_oa_polys, found = cutting.cut_layer(oa_f, sorted(rows["oa"]), oa_path, "oa21", "Output Areas")
    problems += found
    n_ward_polys, found = cutting.cut_layer(ward_f, area_wards, ward_path, ward_path.stem, "wards")
    problems += found
    if problems:
        raise AreaError(f"{len(problems)} problem(s) cutting the national products to {', '.join(lads)}:",
                        problems)

    # the postcode directory: national, in the reusable reference
    pc = src.found.get("postcode_directory") or src.found["codepoint_open"]
    if pc.product.id == "codepoint_open":
        result.notes.append(
            "no ONSPD or NSPL was found, so OS Code-Point Open is the postcode directory: postcodes are "
            "placed in Output Areas by their points, and it lists live postcodes only (a terminated one is "
            "postcode_not_found). " + missing_text(product("postcode_directory"), src.folder).split(
                ". Without it")[0])
    directory, columns, reused = cutting.national_postcodes(ws, pc, reference_dir)
    db = directory.with_suffix(".duckdb")
    spec = PostcodeDirectory(path=directory, columns=PostcodeColumns(**columns), reference_db=db)
    ensure_reference(spec, db)
    pcs = cutting.area_postcodes(ws, db, by_oa=columns["oa"] is not None)

    files = AreaFiles(
        oa_boundaries=data_dir / "boundaries" / oa_path.name, oa_code=oa_f.columns["code"],
        wards=data_dir / "boundaries" / ward_path.name, ward_code=ward_f.columns["code"],
        ward_name=ward_f.columns.get("name"), lookup=data_dir / "lookups" / lookup_name,
        lookup_oa=lk.columns["oa"], lookup_ward=lk.columns["ward"],
        lookup_ward_name=lk.columns.get("ward_name"), directory=directory, directory_columns=columns,
        reference_db=db, directory_note=f"{_describe(pc)} (national, reduced to the columns the pipeline "
                                         "reads)",
        census_dir=data_dir / "census2021",
        ranges=data_dir / "census2021" / RANGES_FILE if ranges else None)
    missing_notes, optional_cut = _optional_products(ws, src, files, stage, db, columns["oa"] is not None,
                                                     result)
    result.notes += missing_notes + src.skipped + src.notes

    # move the area into place, then write and validate the config
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    counts = {"oas": n_oas, "wards": len(area_wards), "households": hh, "postcodes": pcs["area"],
              "postcodes_live": pcs["area_live"], "postcodes_national": pcs["national"],
              "census_tables": len(census_rows), "national_ranges_oas": national_oas}
    manifest = {
        "made_by": command, "made": datetime.now().isoformat(timespec="seconds"), "lads": lad_names,
        "sources": {pid: [e.label() for e in f.entries] for pid, f in src.found.items()},
        "census": {t: e.label() for t, e in sorted(src.census.items())},
        "counts": counts, "postcode_reference": str(db),
    }
    (stage / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    shutil.move(str(stage), str(data_dir))
    used = [src.found[p].product for p in ("postcode_directory", "codepoint_open", "oa_boundaries", "wards",
                                           "oa_ward_lookup", "onsud", "iod_england", "wimd")
            if p in src.found]
    attribution = " ".join(dict.fromkeys(s for p in [*used, product("census")]
                                         for s in _sentences(p.attribution)))
    write_config(config_path, config_text(
        name=name, config=shown(config_path), area_name=" and ".join(lad_names.values()), lads=lad_names,
        files=files, command=command, drop=drop, missing_notes=missing_notes, attribution=attribution))

    n_needed = len(tables) + sum(t in src.census for t in OPTIONAL_TABLES)
    result.found = [
        ("postcode directory", _describe(pc)),
        ("census tables", f"{len(src.census)} of {n_needed} needed ({', '.join(sorted(src.census))})"),
        ("OA boundaries", _describe(oa_f)),
        ("ward boundaries", f"{_describe(ward_f)} (20{ward_f.vintage} wards)"),
        ("OA-ward-LAD lookup", _describe(lk)),
        *((p, _describe(src.found[pid]) if pid in src.found else "not found (optional)")
          for p, pid in (("ONSUD", "onsud"), ("gazetteer", "gazetteer"))),
    ]
    result.cut = [
        ("Output Areas", f"{n_oas:,} ({n_oa_polys:,} polygons)"),
        ("wards", f"{len(area_wards):,} ({n_ward_polys:,} polygons)"),
        ("postcodes", f"{pcs['area']:,} in the area ({pcs['area_live']:,} live) of {pcs['national']:,} in "
                      f"the national directory, kept whole in {shown(db)}" + (" (reused)" if reused else "")),
        ("households (TS041)", f"{hh:,}{hh_check}"),
        ("census tables", f"{len(census_rows)} files of {n_oas:,} rows in {shown(data_dir / 'census2021')}/"),
        *([("national ranges", f"{n_ranges} variables over {national_oas:,} Output Areas of the national "
                               f"census files, in {shown(files.ranges)} (segmentation.reference)")]
          if ranges else []),
        *optional_cut,
    ]
    result.counts = counts
    result.seconds = time.perf_counter() - t0
    return result


def _extent(gpkg: Path) -> tuple[float, float, float, float] | None:
    """The extent (minx, miny, maxx, maxy) of the area's cut Output Areas, in their CRS (British
    National Grid, as the gazetteers' coordinates), or None when it cannot be read."""
    import pyogrio

    try:
        bounds = pyogrio.read_info(gpkg, force_total_bounds=True)["total_bounds"]
    except Exception:  # noqa: BLE001 - no extent: addresses without a postcode are then not kept
        return None
    return tuple(float(v) for v in bounds) if bounds is not None else None


def _optional_products(ws: cutting.Workspace, src: Sources, files: AreaFiles, stage: Path, db: Path,
                       by_oa: bool, result: AreaResult) -> tuple[list[str], list[tuple[str, str]]]:
    """Cut ONSUD and the gazetteer when found (into `files`); return the notes on what is missing
    and the lines of what was cut."""
    missing, cut = [], []
    if "onsud" in src.found:
        n = cutting.cut_onsud(ws, src.found["onsud"], stage / "onsud.csv")
        files.onsud = result.data_dir / "onsud.csv"
        cut.append(("UPRNs (ONSUD)", f"{n:,} of the area's Output Areas"))
    else:
        missing.append(f"ONSUD (optional): without it {product('onsud').without}")
    kept = 0
    if "gazetteer" in src.found:
        gz = src.found["gazetteer"]
        if gz.layout:  # a published layout: flattened once (cached beside the postcode reference), then cut
            bbox = _extent(stage / "boundaries" / "oa21.gpkg")
            kept, n_read, notes, reused = cutting.cut_published_gazetteer(ws, gz, db, by_oa,
                                                                          stage / "gazetteer.csv", bbox)
            result.notes += notes
            columns = dict(cutting.GAZETTEER_COLUMNS)
            what = f"{published.LAYOUT_NAMES[gz.layout]}, flattened" + (" (reused)" if reused else "")
        else:
            kept, n_read = cutting.cut_gazetteer(ws, gz, db, by_oa, stage / "gazetteer.csv")
            keys = ("uprn", "saon", "paon", "street", "locality", "town", "postcode", "x", "y")
            columns, what = {k: gz.columns.get(k) for k in keys}, "the export"
        if kept:
            files.gazetteer = result.data_dir / "gazetteer.csv"
            files.gazetteer_columns = columns
            cut.append(("gazetteer", f"{kept:,} addresses of the area (of {n_read:,} in {what})"))
        else:
            (stage / "gazetteer.csv").unlink(missing_ok=True)
            result.notes.append(f"the gazetteer {gz.label()} has no address with a postcode of this area "
                                f"({n_read:,} read), so it is not used: it is another council's")
    if not kept:
        missing.append(f"gazetteer (optional): without it {product('gazetteer').without}")
    for pid, nation in (("iod_england", "england"), ("wimd", "wales")):
        if pid in src.found:
            n, total, name = cut_deprivation(src.found[pid], list(result.lads), stage / "deprivation")
            cut.append((product(pid).short, f"{n:,} LSOAs of {total:,} in {name}"))
            files.deprivation[nation] = result.data_dir / "deprivation" / name
    return missing, cut


def cut_deprivation(found, lads: list[str], folder: Path) -> tuple[int, int, str]:
    """The rows of the area's local authorities of an Indices of Deprivation file (a small national
    table of LSOAs: read whole), headers and deciles as published; the whole file when it names no
    authority code of the area (WIMD names authorities by name only; IoD 2025 by 2024 codes)."""
    e = found.entries[0]
    with e.open() as f:
        frame = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    lad = found.columns.get("lad")
    kept = frame[frame[lad].isin(lads)] if lad else frame
    if kept.empty:
        kept = frame
    folder.mkdir(parents=True, exist_ok=True)
    name = PurePosixPath(e.inner or e.path.name).name
    kept.to_csv(folder / name, index=False, lineterminator="\n")
    return len(kept), len(frame), name


def _sentences(text: str) -> list[str]:
    return [s.strip() + ("" if s.strip().endswith(".") else ".") for s in re.split(r"(?<=\.)\s+", text)
            if s.strip()]
