"""Stage 0, geography: load the area's reference tables into the warehouse.

Writes `ref_oa` (oa21cd, ward_code, ward_name, households, x, y), `ref_wards`
(ward_code, ward_name, households) and `ref_postcodes` (the postcode directory under
standard column names, see `boundaries.loaders.postcode_directory_sql`; a view of the reusable
reference database of `boundaries.reference` when the config names one).

**Area cache.** Parsing and reprojecting the boundary files is the fixed cost of a run, so the area
geography (OA and ward polygons in EPSG:27700, and `ref_oa`: the OA->ward lookup and census
households joined) is kept in `data/<run>/.insight-geography.duckdb`, a private file of open data
only, which is never written to the outputs. Each part is stored with the fingerprint of what it
was made from (`areas_fingerprint`, `ref_oa_fingerprint`: every input file's path, size and
modification time, the config settings that read it, and a hash of the loader code with the
versions of the geometry libraries), and is used only while that fingerprint is unchanged: a
changed file, setting or loader rebuilds it. The cache is written only into a private folder
marked as the run's (`pipeline.ownership`) and only over a cache this module made; anywhere else
the tables are computed each time. Within one process the parts are also kept in memory (keyed by
the same fingerprints), so the stages that need the polygons (geography, the gazetteer, render)
read them once per run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd

from boundaries.loaders import (
    BNG,
    GeographyError,
    check_postcode_directory,
    load_oa_ward_lookup,
    load_polygons,
    unique_postcodes_sql,
    wards_by_centroid,
)
from boundaries.reference import attach_reference, ensure_reference
from pipeline.checks import Problem, csv_columns, need_columns, with_fix
from pipeline.config import BoundaryFile, PostcodeDirectory, RunConfig
from pipeline.ownership import PRIVATE_MARKER, marker_run
from pipeline.paths import private_writes
from pipeline.warehouse import execute, ident, literal, store_frame
from segments.census import CensusError, find_table_file
from segments.census import households as census_households

logger = logging.getLogger(__name__)

#: The area cache, in the run's private folder
CACHE_NAME = ".insight-geography.duckdb"
#: The table that marks a cache file as made by this module
CACHE_MARKER = "insight_geography_cache"
#: Parts kept in memory in one process: (part, fingerprint) -> frames
_MEMO: OrderedDict[tuple[str, str], tuple] = OrderedDict()
_MEMO_SIZE = 4
#: Shapefile components whose change changes the layer
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


# --- fingerprints ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def loader_version() -> str:
    """A hash of the code that makes the cached tables (this module, `boundaries.loaders`,
    `segments.census`) and of the versions of the libraries that parse and reproject them."""
    import pyogrio
    import pyproj
    import shapely

    from boundaries import loaders
    from segments import census

    h = hashlib.sha256()
    for module in (loaders, census):
        h.update(Path(module.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    for v in (gpd.__version__, shapely.__version__, pyproj.__version__, pyproj.proj_version_str,
              pyogrio.__version__, pyogrio.__gdal_version_string__, pd.__version__):
        h.update(str(v).encode())
    return h.hexdigest()


def _files(path: Path) -> list[Path]:
    """The files a layer or table is read from: the file itself, a shapefile's components, or
    every file of a folder."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if path.suffix.lower() == ".shp":
        return [p for ext in _SHAPEFILE_PARTS for p in (path.with_suffix(ext), path.with_suffix(ext.upper()))
                if p.exists()]
    return [path]


def file_stat(path: Path) -> list[list]:
    """(path, size, modification time in ns) of each file `path` is read from."""
    out = []
    for f in _files(path):
        st = f.stat()
        out.append([str(f.resolve()), st.st_size, st.st_mtime_ns])
    return out


def areas_fingerprint(cfg: RunConfig) -> str:
    """What the polygons are made from: both boundary layers (files and settings) and the loader."""
    g = cfg.geography
    return json.dumps({"oa": [g.oa_boundaries.model_dump(mode="json"), file_stat(g.oa_boundaries.path)],
                       "wards": [g.wards.model_dump(mode="json"), file_stat(g.wards.path)],
                       "loader": loader_version()}, sort_keys=True)


def ref_oa_fingerprint(cfg: RunConfig) -> str:
    """What `ref_oa` is made from: the polygons, the OA->ward lookup (if any) and the census
    households table. Raises OSError or CensusError when a file is missing (the build reports it)."""
    g, c = cfg.geography, cfg.census
    lookup = [g.oa_to_ward.model_dump(mode="json"), file_stat(g.oa_to_ward.path)] if g.oa_to_ward else None
    census = {"table": c.households_table, "file": file_stat(find_table_file(c, c.households_table))}
    return json.dumps({"areas": areas_fingerprint(cfg), "lookup": lookup, "households": census},
                      sort_keys=True)


# --- the cache file --------------------------------------------------------------------------------


def cache_path(cfg: RunConfig) -> Path | None:
    """The run's area cache, or None when the private folder is not marked as this run's (nothing is
    written where the run does not own) or the cache's place holds a folder or a link."""
    private = Path(cfg.private)
    if marker_run(private / PRIVATE_MARKER) != cfg.run:
        return None
    path = private / CACHE_NAME
    if path.is_symlink() or (path.exists() and not path.is_file()):
        logger.warning("%s is not a file the pipeline made; the area cache is not used", path)
        return None
    return path


_ALIAS = "insight_geography_cache"


@contextmanager
def _opened(path: Path | None, write: bool, con: duckdb.DuckDBPyConnection | None):
    """Yield a connection with the cache attached as `_ALIAS` (to `con` when given: attaching to an
    open connection costs far less than opening a database), or None when it cannot be used:
    another process has it open, it is not a DuckDB database, or (to write) it exists without this
    module's marker. A new cache file gets the marker."""
    if path is None or (not write and not path.is_file()):
        yield None
        return
    own = con is None
    con = duckdb.connect() if own else con
    try:
        with private_writes(path) if write else nullcontext():  # in the private folder: 0600
            execute(con, "area_cache_attach", attach_sql(path, _ALIAS, read_only=not write))
    except duckdb.Error as exc:
        logger.info("Area cache %s not used (%s)", path, str(exc).splitlines()[0])
        if own:
            con.close()
        yield None
        return
    try:
        tables = {r[0] for r in execute(con, "area_cache_tables", "SELECT table_name FROM "
                                        "information_schema.tables WHERE table_catalog = ?", [_ALIAS],
                                        fetch="all")}
        if CACHE_MARKER not in tables and write and not tables:  # a new file
            execute(con, "area_cache_marker", cache_marker_sql(_ALIAS, CACHE_MARKER))
            execute(con, "area_cache_source", cache_source_sql(_ALIAS))
            tables.add(CACHE_MARKER)
        if CACHE_MARKER in tables:
            yield con
        else:
            logger.warning("%s is not an area cache the pipeline made; it is left as it is and not used",
                           path)
            yield None
    finally:
        execute(con, "area_cache_detach", detach_sql(_ALIAS))
        if own:
            con.close()


def _read_part(path: Path | None, part: str, fingerprint: str, tables: tuple[str, ...],
               con: duckdb.DuckDBPyConnection | None = None) -> list | None:
    """The cached tables of `part` when their fingerprint is `fingerprint`, else None."""
    with _opened(path, False, con) as db:
        if db is None:
            return None
        try:
            found = execute(db, "area_cache_fingerprint", cache_fingerprint_sql(_ALIAS), [part], fetch="all")
            if not found or found[0][0] != fingerprint:
                return None
            return [execute(db, f"area_cache_read_{t}", cache_part_sql(_ALIAS, t), fetch="df")
                    for t in tables]
        except duckdb.Error as exc:
            logger.info("Area cache %s not read (%s)", path, str(exc).splitlines()[0])
            return None


def _write_part(path: Path | None, part: str, fingerprint: str, frames: dict[str, pd.DataFrame],
                invalidates: tuple[str, ...] = (), con: duckdb.DuckDBPyConnection | None = None) -> bool:
    """Store `frames` (table name -> frame, kept in row order) as `part`, in one transaction;
    forget the parts `invalidates` (made from this one). Return whether it was written."""
    with _opened(path, True, con) as db:
        if db is None:
            return False
        try:
            execute(db, "area_cache_begin", "BEGIN")
            for name, frame in frames.items():
                store_frame(db, f"area_cache_write_{name}", name,
                            frame.reset_index(drop=True).rename_axis("ord").reset_index(), temp=False,
                            schema=_ALIAS)
            execute(db, "area_cache_forget", cache_forget_sql(_ALIAS), [part, list(invalidates)])
            execute(db, "area_cache_remember", cache_remember_sql(_ALIAS), [part, fingerprint])
            execute(db, "area_cache_commit", "COMMIT")
        except duckdb.Error as exc:
            logger.warning("Area cache %s not written (%s)", path, str(exc).splitlines()[0])
            execute(db, "area_cache_rollback", "ROLLBACK")
            return False
    return True


def attach_sql(path: Path, alias: str, read_only: bool) -> str:
    """Attach a DuckDB file (the area cache's path, one the pipeline chose, as a quoted literal)."""
    return f"ATTACH {literal(path)} AS {ident(alias)}" + (" (READ_ONLY)" if read_only else "")


def detach_sql(alias: str) -> str:
    return f"DETACH {ident(alias)}"


def cache_marker_sql(alias: str, marker: str) -> str:
    """The table marking a file as the pipeline's area cache."""
    return (f"CREATE TABLE {ident(alias)}.{ident(marker)} AS SELECT 'area geography cache' AS kind, "
            "current_timestamp AS made")


def cache_source_sql(alias: str) -> str:
    """The cache's parts and the fingerprint of the inputs each was made from."""
    return f"CREATE TABLE {ident(alias)}.source (part VARCHAR PRIMARY KEY, fingerprint VARCHAR)"


def cache_fingerprint_sql(alias: str) -> str:
    return f"SELECT fingerprint FROM {ident(alias)}.source WHERE part = ?"


def cache_part_sql(alias: str, table: str) -> str:
    """A cached table in the row order it was stored in."""
    return f"SELECT * EXCLUDE (ord) FROM {ident(alias)}.{ident(table)} ORDER BY ord"


def cache_forget_sql(alias: str) -> str:
    """Forget a part ($1) and the parts made from it (the list $2)."""
    return f"DELETE FROM {ident(alias)}.source WHERE part = ? OR list_contains(?, part)"


def cache_remember_sql(alias: str) -> str:
    return f"INSERT INTO {ident(alias)}.source VALUES (?, ?)"


def _remember(key: tuple[str, str], value: tuple) -> None:
    _MEMO[key] = value
    _MEMO.move_to_end(key)
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)


def _polygons_frame(gdf: gpd.GeoDataFrame, spec: BoundaryFile) -> pd.DataFrame:
    out = pd.DataFrame({"code": gdf["code"].to_numpy()})
    if spec.name_column:
        out["name"] = gdf["name"].to_numpy()
    out["geometry"] = gdf.geometry.to_wkb().to_numpy()
    return out


def _polygons_from(frame: pd.DataFrame, spec: BoundaryFile) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame({"code": frame["code"].astype(str)},
                           geometry=gpd.GeoSeries.from_wkb([bytes(b) for b in frame["geometry"]], crs=BNG))
    if spec.name_column:
        out["name"] = frame["name"].astype(str)
    return out


# --- the area tables -------------------------------------------------------------------------------


def load_areas(cfg: RunConfig, con: duckdb.DuckDBPyConnection | None = None
               ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """OA and ward polygons in EPSG:27700 (columns code, [name], geometry): from memory or the area
    cache when their files, settings and loader are unchanged, else parsed and reprojected (and
    cached). Each call returns its own copies. `con`: an open connection to attach the cache to."""
    g = cfg.geography
    fp = areas_fingerprint(cfg)
    key = ("areas", fp)
    if key not in _MEMO:
        path = cache_path(cfg)
        cached = _read_part(path, "areas", fp, ("oas", "wards"), con)
        if cached is not None:
            logger.info("Area geography: OA and ward polygons from the cache %s", path)
            value = (_polygons_from(cached[0], g.oa_boundaries), _polygons_from(cached[1], g.wards))
        else:
            value = (load_polygons(g.oa_boundaries, "OA"), load_polygons(g.wards, "ward"))
            _write_part(path, "areas", fp, {"oas": _polygons_frame(value[0], g.oa_boundaries),
                                            "wards": _polygons_frame(value[1], g.wards)},
                        invalidates=("ref_oa",), con=con)
        _remember(key, value)
    oas, wards = _MEMO[key]
    return oas.copy(), wards.copy()


def area_ref_oa(cfg: RunConfig, oas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame,
                con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """`build_ref_oa`, from memory or the area cache when its inputs are unchanged."""
    try:
        fp = ref_oa_fingerprint(cfg)
    except (OSError, CensusError):  # a file is missing: the build says which
        return build_ref_oa(cfg, oas, wards)
    key = ("ref_oa", fp)
    if key not in _MEMO:
        path = cache_path(cfg)
        cached = _read_part(path, "ref_oa", fp, ("ref_oa",), con)
        if cached is not None:
            logger.info("Area geography: OA lookup and households from the cache %s", path)
            ref = cached[0]
        else:
            ref = build_ref_oa(cfg, oas, wards).reset_index(drop=True)
            _write_part(path, "ref_oa", fp, {"ref_oa": ref}, con=con)
        _remember(key, (ref,))
    return _MEMO[key][0].copy()


def build_ref_oa(cfg: RunConfig, oas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per OA of the area: its ward, census households and centroid."""
    g = cfg.geography
    lookup = load_oa_ward_lookup(g.oa_to_ward) if g.oa_to_ward else wards_by_centroid(oas, wards)
    ward_names = dict(zip(wards["code"], wards.get("name", wards["code"]), strict=True))
    hh = census_households(cfg.census).rename("households")
    ref = pd.DataFrame({"oa21cd": oas["code"]})
    pts = oas.representative_point()
    ref["x"], ref["y"] = pts.x.round(1).to_numpy(), pts.y.round(1).to_numpy()
    ref = ref.merge(lookup, on="oa21cd", how="left")
    ref["ward_name"] = ref["ward_name"].where(ref["ward_name"].notna(), ref["ward_code"].map(ward_names))
    ref = ref.merge(hh, left_on="oa21cd", right_index=True, how="left")

    problems = []
    no_ward = ref.loc[ref["ward_code"].isna(), "oa21cd"].tolist()
    if no_ward:
        problems.append(f"{len(no_ward)} OA(s) have no ward in the OA->ward lookup: {no_ward[:10]}")
    unknown_ward = sorted(set(ref["ward_code"].dropna()) - set(wards["code"]))
    if unknown_ward:
        problems.append(f"ward codes in the lookup are missing from the ward boundaries: {unknown_ward[:10]}")
    no_hh = ref.loc[ref["households"].isna(), "oa21cd"].tolist()
    if no_hh:
        problems.append(
            f"{len(no_hh)} OA(s) of the boundaries have no households in census table "
            f"{cfg.census.households_table}: {no_hh[:10]} (are the census files for the same area?)"
        )
    if problems:
        raise GeographyError(problems)
    ref["households"] = ref["households"].astype("int64")
    return ref[["oa21cd", "ward_code", "ward_name", "households", "x", "y"]].sort_values("oa21cd")


def load_postcodes(con: duckdb.DuckDBPyConnection, spec: PostcodeDirectory, oas: gpd.GeoDataFrame) -> None:
    """Make `ref_postcodes`: a view of the reusable reference database when `reference_db` is set
    (built once, rebuilt when the directory file changes), else a table of this run's warehouse.
    A directory without OAs (Code-Point Open) is read as `ref_postcodes_directory`, and
    `ref_postcodes` is a view giving each postcode the OA of `oas` that holds its point."""
    base = "ref_postcodes" if spec.columns.oa else "ref_postcodes_directory"
    if spec.reference_db is not None:
        ensure_reference(spec, spec.reference_db)
        attach_reference(con, spec.reference_db, view=base)
    else:
        check_postcode_directory(con, spec)
        execute(con, "postcode_directory", directory_table_sql(base, spec))
    if spec.columns.oa is None:
        place_postcodes_by_point(con, base, oas)


def directory_table_sql(table: str, spec: PostcodeDirectory) -> str:
    """`table`: the postcode directory as `postcode_directory_sql` reads it, one row per postcode key
    (a live row before a terminated one)."""
    return f"CREATE OR REPLACE TABLE {ident(table)} AS {unique_postcodes_sql(spec)}"


def points_in_box_sql(table: str) -> str:
    """The postcode points of `table` inside a box (bound: min x, max x, min y, max y)."""
    return f"""SELECT pc_key, easting, northing FROM {ident(table)}
            WHERE easting BETWEEN ? AND ? AND northing BETWEEN ? AND ? ORDER BY pc_key"""


def placed_view_sql(table: str, columns: list[str] | None = None) -> str:
    """The view `ref_postcodes`: the directory `table` with the OAs found by point (`ref_postcode_oa`).
    `columns`: the directory's columns, each named (for Spark, which has no `* REPLACE`)."""
    placed = "coalesce(d.oa21cd, p.oa21cd) AS oa21cd"
    select = (f"d.* REPLACE ({placed})" if columns is None else
              ", ".join(placed if c == "oa21cd" else f"d.{ident(c)}" for c in columns))
    return f"""CREATE OR REPLACE TEMP VIEW ref_postcodes AS
            SELECT {select}
            FROM {ident(table)} d LEFT JOIN ref_postcode_oa p USING (pc_key)"""


def place_postcodes_by_point(con: duckdb.DuckDBPyConnection, base: str, oas: gpd.GeoDataFrame) -> int:
    """`ref_postcode_oa` (pc_key, oa21cd): the area's OA holding each postcode point of `base`
    (points in the area's bounding box only; geopandas sjoin, EPSG:27700), and the view
    `ref_postcodes` with those OAs filled in. Return the number of postcodes placed."""
    minx, miny, maxx, maxy = oas.total_bounds
    pts = execute(con, "postcode_points_in_area", points_in_box_sql(base),
                  [float(minx), float(maxx), float(miny), float(maxy)], fetch="df")
    points = gpd.GeoDataFrame(pts[["pc_key"]], geometry=gpd.points_from_xy(pts["easting"], pts["northing"]),
                              crs=oas.crs)
    hit = gpd.sjoin(points, oas[["code", "geometry"]], how="inner", predicate="within")
    hit = hit.sort_values("code", kind="stable")  # a point on a shared edge: the first OA by code
    hit = hit[~hit.index.duplicated(keep="first")].sort_index()
    placed = pd.DataFrame({"pc_key": hit["pc_key"].to_numpy(), "oa21cd": hit["code"].to_numpy()})
    store_frame(con, "postcode_oa_by_point", "ref_postcode_oa", placed, temp=False, order_by="pc_key")
    execute(con, "postcode_view_by_point", placed_view_sql(base))
    logger.info("Postcode directory without OAs: %d postcode points placed in the area's OAs", len(placed))
    return len(placed)


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict:
    """Load the reference tables; return counts for the run summary."""
    oas, wards = load_areas(cfg, con)
    ref_oa = area_ref_oa(cfg, oas, wards, con)
    store_frame(con, "ref_oa", "ref_oa", ref_oa, temp=False, order_by="oa21cd")
    execute(con, "ref_wards",
        """CREATE OR REPLACE TABLE ref_wards AS
           SELECT ward_code, any_value(ward_name) AS ward_name, sum(households) AS households,
                  count(*) AS n_oas
           FROM ref_oa GROUP BY ward_code ORDER BY ward_code"""
    )
    load_postcodes(con, cfg.geography.postcode_directory, oas)
    n_pc, n_live = execute(con, "postcode_counts", "SELECT count(*), count(*) FILTER (is_live) "
                           "FROM ref_postcodes", fetch="one")
    summary = {
        "oas": len(ref_oa),
        "wards": int(ref_oa["ward_code"].nunique()),
        "households": int(ref_oa["households"].sum()),
        "postcodes": n_pc,
        "live_postcodes": n_live,
    }
    logger.info(
        "Geography: %(oas)d OAs, %(wards)d wards, %(households)d households, "
        "%(postcodes)d postcodes (%(live_postcodes)d live)",
        summary,
    )
    return summary


# --- check: what `insight validate` asks of this stage's files ------------------------------------


def _polygon_problems(key: str, spec: BoundaryFile, kind: str) -> list[Problem]:
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


def oa_boundary_problems(cfg: RunConfig) -> list[Problem]:
    """The OA boundary layer's problems (also asked by the classification's check, which counts
    the area's Output Areas in it)."""
    return _polygon_problems("geography.oa_boundaries", cfg.geography.oa_boundaries, "OA")


def ward_lookup_problems(cfg: RunConfig) -> list[Problem]:
    spec = cfg.geography.oa_to_ward
    if spec is None or not Path(spec.path).is_file():
        return []
    have = csv_columns(Path(spec.path))  # as boundaries.loaders.load_oa_ward_lookup reads it
    need = {"oa_column": spec.oa_column, "ward_column": spec.ward_column,
            "ward_name_column": spec.ward_name_column}
    if spec.lad_column is not None:  # read by render (pipeline.render.areas.oa_lads) for maps by LAD
        need["lad_column"] = spec.lad_column
    return need_columns("geography.oa_to_ward", Path(spec.path), have, need)


def _directory_problems(cfg: RunConfig) -> list[Problem]:
    """The postcode directory has its configured columns (checked as `load_postcodes` does)."""
    spec = cfg.geography.postcode_directory
    key = "geography.postcode_directory"
    if not Path(spec.path).is_file():
        return [f"{key}.path: {spec.path} is a folder, not a file. Fix: name the directory CSV"] \
            if Path(spec.path).is_dir() else []
    con = duckdb.connect()
    try:
        check_postcode_directory(con, spec)
    except GeographyError as exc:
        return with_fix(exc.problems, f"set {key}.columns", f"{key}.columns")
    except duckdb.Error as exc:
        return [f"{key}.path: {spec.path} cannot be read as CSV ({str(exc).splitlines()[0]}). Fix: name "
                "the ONSPD / NSPL / Code-Point CSV"]
    finally:
        con.close()
    return []


def _reference_file_problems(cfg: RunConfig) -> list[Problem]:
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


def check(cfg: RunConfig) -> list[Problem]:
    """Boundary layers, the OA->ward lookup, the postcode directory and its reference database."""
    g = cfg.geography
    if g is None:  # a census-only classification (the schema allows it only then)
        return []
    return (oa_boundary_problems(cfg) + _polygon_problems("geography.wards", g.wards, "ward")
            + ward_lookup_problems(cfg) + _directory_problems(cfg) + _reference_file_problems(cfg))
