"""Load the council's address gazetteer into the warehouse as `ref_gazetteer`, each address with its OA.

The gazetteer's points (easting/northing, EPSG:27700) are put in Output Areas by point in polygon
(geopandas sjoin over an STRtree); only addresses inside the area's OAs are kept, since only they
can be profiled. UPRNs are keyed by the one UPRN rule (`pipeline.address.uprn`). Columns: uprn,
saon, paon, street, locality, town, postcode, pc_key, x, y, oa21cd, ward_code, class_code (the
AddressBase classification; NULL when the gazetteer has none), residential (the class code is
residential, R..., or dual use, X...: `published.install`'s gaz_residential; NULL without a code),
parent_uprn.

The file is the flat CSV under the configured columns, or a published layout recognised by its
content and flattened to the same form (`pipeline.address.published`: AddressBase Plus, Core,
Premium, an LLPG export in DTF 8.1, OS Open UPRN; zipped or not).
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd

from pipeline.address import postcode, published, uprn
from pipeline.checks import Problem, need_columns
from pipeline.config import BNG, RunConfig
from pipeline.config.geography import GazetteerColumns
from pipeline.errors import GeographyError
from pipeline.warehouse import execute, ident

#: The columns of the gazetteer CSV (its bound path)
COLUMNS = "DESCRIBE SELECT * FROM read_csv(?, header = true)"

logger = logging.getLogger(__name__)
FIELDS = published.FLAT_COLUMNS


def _flat_columns(cfg: RunConfig) -> dict[str, str | None]:
    return cfg.geography.gazetteer.columns.model_dump()


def read_gazetteer(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> pd.DataFrame:
    """The gazetteer in the one form (`published.FLAT_COLUMNS`, text): the flat CSV under its
    configured columns, or a published layout recognised by its content."""
    spec = cfg.geography.gazetteer
    cols = _flat_columns(cfg)
    sniffed = published.sniff(Path(spec.path), tuple(c for c in cols.values() if c))
    if sniffed.layout is None:
        have = published._fields(published.first_line(Path(spec.path)))
        missing = [f"{spec.path}: no column {c!r} (configured as the gazetteer's {f} column); the file has "
                   f"{have[:30]}" for f, c in cols.items() if c is not None and c not in have]
        raise GeographyError(missing + [
            "fix: set geography.gazetteer.columns in the run config, or give the gazetteer as published "
            "(AddressBase Plus, Core or Premium, a DTF 8.1 LLPG export, OS Open UPRN; docs/geocoding.md)"])
    try:
        with published.local_files(Path(spec.path)) as paths:
            flat = published.flatten(con, paths, sniffed, str(spec.path), cols)
    except published.LayoutError as exc:
        raise GeographyError(exc.problems) from None
    for note in flat.notes:
        logger.warning("Gazetteer: %s", note)
    if flat.layout != "flat" and cols != GazetteerColumns().model_dump():
        logger.warning("Gazetteer: geography.gazetteer.columns is not used: %s is read as %s, by its own "
                       "layout; remove the columns block", spec.path, published.LAYOUT_NAMES[flat.layout])
    if flat.layout != "flat":
        logger.info("Gazetteer: %s read as %s (%d addresses)", spec.path, published.LAYOUT_NAMES[flat.layout],
                    flat.rows)
    df = execute(con, "gazetteer_read", gazetteer_read_sql(), fetch="df")
    execute(con, "gazetteer_drop_flat", "DROP TABLE IF EXISTS scratch_gazetteer_flat")
    return df


def gazetteer_read_sql() -> str:
    """The flattened gazetteer (`scratch_gazetteer_flat`) under the standard column names."""
    return f"SELECT {', '.join(ident(f) for f in FIELDS)} FROM scratch_gazetteer_flat"


def load(con: duckdb.DuckDBPyConnection, cfg: RunConfig, oas: gpd.GeoDataFrame) -> int:
    """Create `ref_gazetteer` (in-area addresses with their OA and ward); return its row count."""
    gaz = read_gazetteer(con, cfg)
    gaz["uprn"] = uprn.keys(gaz["uprn"])  # the one UPRN rule: a column saved by Excel matches too
    x, y = pd.to_numeric(gaz["x"], errors="coerce"), pd.to_numeric(gaz["y"], errors="coerce")
    bad = int((x.isna() | y.isna() | gaz["uprn"].fillna("").eq("")).sum())
    if bad:
        logger.warning("Gazetteer: %d address(es) without a UPRN or coordinates are left out", bad)
    keep = x.notna() & y.notna() & gaz["uprn"].fillna("").ne("")
    gaz, x, y = gaz[keep].reset_index(drop=True), x[keep].to_numpy(), y[keep].to_numpy()
    pts = gpd.GeoDataFrame(gaz[["uprn"]], geometry=gpd.points_from_xy(x, y), crs=BNG)
    hit = gpd.sjoin(pts, oas[["code", "geometry"]], how="left", predicate="within")
    hit = hit.sort_values("code", kind="stable")  # a point on a shared edge: the first OA by code
    hit = hit[~hit.index.duplicated(keep="first")].sort_index()
    gaz["x"], gaz["y"], gaz["oa21cd"] = x, y, hit["code"].reindex(gaz.index).to_numpy()
    dups = int(gaz["uprn"].duplicated().sum())
    if dups:
        raise GeographyError([f"{cfg.geography.gazetteer.path}: {dups} UPRN(s) appear more than once (e.g. "
                              f"{_masked(gaz.loc[gaz['uprn'].duplicated(), 'uprn'].iloc[0])}); a gazetteer "
                              "holds each address once. Fix: export one current address per UPRN (or give "
                              "the gazetteer as published, whose approved current address is taken)"])
    postcode.install(con)
    uprn.install(con)
    published.install(con)
    con.register("gaz_df", gaz)
    execute(con, "gazetteer_table",
        """CREATE OR REPLACE TABLE ref_gazetteer AS
           SELECT g.uprn, g.saon, g.paon, g.street, g.locality, g.town,
                  upper(regexp_replace(trim(g.postcode), '\\s+', ' ', 'g')) AS postcode,
                  pc_key(g.postcode) AS pc_key, g.x, g.y, g.oa21cd, o.ward_code,
                  upper(g.class_code) AS class_code, gaz_residential(g.class_code) AS residential,
                  uprn_key(g.parent_uprn) AS parent_uprn
           FROM gaz_df g JOIN ref_oa o USING (oa21cd) ORDER BY g.uprn"""
    )
    con.unregister("gaz_df")
    n = execute(con, "gazetteer_count", "SELECT count(*) FROM ref_gazetteer", fetch="value")
    logger.info("Gazetteer: %d addresses in the area (of %d read)", n, len(gaz) + bad)
    return n


def _masked(value: str) -> str:
    """A UPRN shown with all but its last three digits hidden."""
    v = str(value)
    return "*" * max(len(v) - 3, 0) + v[-3:]


def check(cfg: RunConfig) -> list[Problem]:
    """The gazetteer has its configured columns (as `read_gazetteer` reads it), or is a published
    layout with the columns its flattening reads (record-structured layouts are checked as read)."""
    spec = cfg.geography.gazetteer
    if spec is None or not Path(spec.path).is_file():
        return []
    cols = _flat_columns(cfg)
    try:
        sniffed = published.sniff(Path(spec.path), tuple(c for c in cols.values() if c))
    except (OSError, ValueError) as exc:
        return [f"geography.gazetteer.path: {spec.path} cannot be read ({exc}). Fix: give the gazetteer as a "
                "CSV, or a zip of CSVs, as exported or published"]
    if sniffed.layout in published.USED_COLUMNS and sniffed.header:
        have = {c.upper() for c in published._fields(published.first_line(Path(spec.path)))}
        lacking = sorted(published.USED_COLUMNS[sniffed.layout] - have)
        name = published.LAYOUT_NAMES[sniffed.layout]
        return [f"geography.gazetteer.path: {spec.path} looks like {name} but has no column "
                f"{', '.join(lacking)}. Fix: export the product's full column set with its header row, "
                "as published"] if lacking else []
    if sniffed.layout not in (None, "flat"):
        return []
    if Path(spec.path).suffix.lower() == ".zip":
        return [f"geography.gazetteer.path: {spec.path} is a zip whose first CSV is not a gazetteer layout "
                "this pipeline knows. Fix: unzip it and name the gazetteer CSV"]
    con = duckdb.connect()
    try:
        have = [r[0] for r in execute(con, "gazetteer_columns", COLUMNS, [str(spec.path)], fetch="all")]
    except duckdb.Error as exc:
        return [f"geography.gazetteer.path: {spec.path} cannot be read as CSV "
                f"({str(exc).splitlines()[0]}). Fix: export the gazetteer as CSV"]
    finally:
        con.close()
    return need_columns("geography.gazetteer.columns", Path(spec.path), have, cols)
