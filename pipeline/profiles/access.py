"""Access to service points: take-up by straight-line distance to the nearest point, by segment
within each distance band, and where a new point would reach most of the under-served.

Inputs (config `access` and `services[].access`):

* service points: a CSV or XLSX per named file (name, type, postcode or easting/northing); a
  point is placed at its easting/northing (EPSG:27700) when both are given, else at its
  postcode's grid reference in the run's postcode directory (a point that can be placed neither
  way is an error naming it). A grid reference is checked as it is read (`grid_references`, and
  `points_problems` for `insight validate`): a number, finite, not (0, 0), within Great Britain
  (GB_EXTENT) or `access.extent`, else refused naming the file, row, values and fix; longitude
  and latitude given as easting/northing are converted (pyproj, EPSG:4326 -> 27700) with a note.
  A service may keep only some `types` of a shared file. Points
  outside the area count: residents may use the next borough's library.
* OA centres: the ONS population-weighted centroids when `access.centroids` names them; else the
  household-weighted mean of the OA's postcode points

      c_o = sum_p w_p (e_p, n_p) / sum_p w_p

  over the live, geographic, small-user postcodes p of the OA in the postcode directory, with
  w_p = the addresses at p in the council's gazetteer when the run loads one (an OA none of whose
  postcodes has an address there, or a run with no gazetteer: w_p = 1, every postcode alike); an OA
  with no such postcode keeps the point inside its polygon (`ref_oa`).

For each OA o with centre c_o the distance to the nearest point is

      d_o = min_j sqrt((x_o - x_j)^2 + (y_o - y_j)^2)         (metres, EPSG:27700; scipy cKDTree)

with the point's name (equal distances: the first name in alphabetical order). The OA falls in
band k when e_{k-1} <= d_o / 1000 < e_k for the band edges e (`access.bands_km`, default 1, 2, 5:
under 1 km, 1-2 km, 2-5 km, 5 km and over). Views (main services only):

* `access_band`: the profile (users, households, penetration, index with intervals; see
  table.py) by band: the bands add up to the Total;
* `access_band_segment`: band x segment cells (index against the borough rate), which add up to
  their band and to their segment; read across the bands of a segment, their penetration is the
  model-free view of how take-up falls with distance in that segment (no curve is fitted);
* `access_points`: each point with its type, grid reference, the OAs nearest to it (its
  catchment) and their census households;
* `access_oa`: each OA's centre, nearest point, distance and band (geography and census
  households only);
* `access_targets`: the OAs of the target segments (gaps.target_segments: the under-served)
  whose centre lies beyond D = `within_km` of every point, furthest first (ties by OA code),
  with their households;
* `access_candidates`: candidate locations (a file, or every OA centre) ranked by the target
  households they would bring within D:

      gain(c) = sum of h_o over target OAs o with d_o > D and |c_o - c| <= D

  largest first, ties by name (then easting, northing), each candidate scored on its own (not
  as a set). h_o: the OA's census households.

The user counts (bands and band x segment cells) are registered in the service's count graph
with the relations above, so publication suppresses them like every other count; the other
views hold only geography and census households (no user count) and are never masked.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from pipeline.address.postcode import keys as postcode_keys
from pipeline.config import BNG, WGS84, CentroidFile, PointColumns, PointsFile, RunConfig, UserError
from pipeline.ingest.values import NUMBER_PATTERN
from pipeline.profiles import gaps, levels
from pipeline.profiles.table import profile_table, with_uncertainty
from pipeline.warehouse import execute, table_exists

logger = logging.getLogger(__name__)

TOTAL = ("total",)
OA_CENTRE = "OA centre"


def band_labels(edges: list[float]) -> list[str]:
    """'under 1 km', '1-2 km', '2-5 km', '5 km and over' for edges [1, 2, 5]."""
    e = [f"{v:g}" for v in edges]
    return [f"under {e[0]} km", *(f"{a}-{b} km" for a, b in zip(e, e[1:], strict=False)),
            f"{e[-1]} km and over"]


def band_of(distance_km: np.ndarray, edges: list[float]) -> np.ndarray:
    """Band index per distance: k where e_{k-1} <= d < e_k (lower edge inclusive)."""
    return np.searchsorted(np.asarray(edges, dtype=float), np.asarray(distance_km, dtype=float),
                           side="right")


# --- where a service point is: a grid reference checked as it is read ------------------------------

#: Great Britain on the British National Grid (EPSG:27700), metres: (easting min, northing min,
#: easting max, northing max). A point outside it, or outside `access.extent` when set, is refused.
GB_EXTENT = (0.0, 0.0, 700_000.0, 1_300_000.0)
#: The UK's longitudes and latitudes (WGS84, degrees): an easting and northing that both fall in
#: them (either way round) were given in degrees, and are converted to the grid with a note.
UK_LONGITUDE = (-9.0, 2.5)
UK_LATITUDE = (49.0, 61.0)


def _number(text: str) -> float | None:
    """The number a cell gives by the ingest stage's rule for numbers (NUMBER_PATTERN: digits,
    commas between groups of three, a decimal point, an exponent), or None."""
    t = str(text).strip().lower()
    if not re.fullmatch(NUMBER_PATTERN, t):
        return None
    return float(t.replace(",", ""))


def _cut(text: str, width: int = 40) -> str:
    """A cell as shown in a message: quoted, cut to `width` characters ('...' when cut)."""
    return repr(text[:width]) + ("..." if len(text) > width else "")


def _within(v: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= v <= bounds[1]


def grid_references(raw: pd.DataFrame, c: PointColumns, where: str,
                    extent: tuple[float, float, float, float] | None = None
                    ) -> tuple[pd.Series, pd.Series, list[str], list[str]]:
    """(x, y, problems, notes) of a points file's rows (`raw`, text cells) from their easting and
    northing: NaN where either is blank (the postcode places the point); a point given in degrees
    (longitude, latitude either way round, within the UK's) converted to EPSG:27700 with a note;
    a cell that is not a number, a point that is not finite, at (0, 0), or outside `extent`
    (default GB_EXTENT) is a problem naming the file, the row, the values and the fix."""
    xmin, ymin, xmax, ymax = extent or GB_EXTENT
    x = pd.Series(np.nan, index=raw.index, dtype=float)
    y = pd.Series(np.nan, index=raw.index, dtype=float)
    if c.easting not in raw or c.northing not in raw:
        return x, y, [], []
    problems, degrees = [], []
    shown_extent = f"easting {xmin:,.0f} to {xmax:,.0f}, northing {ymin:,.0f} to {ymax:,.0f}"
    for row, (i, e_txt, n_txt) in enumerate(zip(raw.index, raw[c.easting], raw[c.northing], strict=True), 1):
        e_txt, n_txt = str(e_txt).strip(), str(n_txt).strip()
        if not e_txt or not n_txt:
            continue
        name = str(raw.at[i, c.name]).strip() if c.name in raw else ""
        at = (f"{where}, row {row} below the header ({name[:40]!r}): easting {_cut(e_txt)}, "
              f"northing {_cut(n_txt)}")
        e, n = _number(e_txt), _number(n_txt)
        if e is None or n is None or not (np.isfinite(e) and np.isfinite(n)):
            problems.append(f"{at}: not a finite number; allowed: metres on the British National Grid "
                            f"(EPSG:27700), {shown_extent}. Fix: correct the grid reference, or leave "
                            "easting and northing blank to place the point by its postcode")
            continue
        if e == 0 and n == 0:
            problems.append(f"{at}: (0, 0) is a placeholder, not a place (it lies in the sea off the Isles "
                            "of Scilly). Fix: give the point's grid reference, or leave both blank to place "
                            "it by its postcode")
            continue
        lonlat = ((e, n) if _within(e, UK_LONGITUDE) and _within(n, UK_LATITUDE)
                  else (n, e) if _within(n, UK_LONGITUDE) and _within(e, UK_LATITUDE) else None)
        if lonlat is not None:
            degrees.append((i, lonlat))
            continue
        if not (xmin <= e <= xmax and ymin <= n <= ymax):
            area = "access.extent" if extent else "Great Britain"
            problems.append(f"{at}: outside {area} ({shown_extent}, metres on the British National Grid, "
                            "EPSG:27700). Fix: correct the grid "
                            "reference (easting first), or leave both blank to place the point by its "
                            "postcode")
            continue
        x[i], y[i] = e, n
    notes = []
    if degrees:
        from pyproj import Transformer

        to_grid = Transformer.from_crs(WGS84, BNG, always_xy=True)
        lon = np.array([d[1][0] for d in degrees])
        lat = np.array([d[1][1] for d in degrees])
        gx, gy = to_grid.transform(lon, lat)
        for (i, _), px, py in zip(degrees, gx, gy, strict=True):
            if np.isfinite(px) and np.isfinite(py) and xmin <= px <= xmax and ymin <= py <= ymax:
                x[i], y[i] = float(px), float(py)
            else:
                problems.append(f"{where}: {raw.at[i, c.name]!r} read as longitude/latitude lies outside "
                                f"{shown_extent}. Fix: give its grid reference in EPSG:27700")
        notes.append(f"{where}: {len(degrees)} point(s) had an easting and northing that are longitude and "
                     "latitude in degrees (WGS84, EPSG:4326); converted to the British National Grid "
                     "(EPSG:27700) with pyproj. Give grid references to be sure of them")
    return x, y, problems, notes


def _read_table(spec: PointsFile, wanted: list[str]) -> pd.DataFrame:
    path = Path(spec.path)
    if not path.exists():
        raise UserError(f"service points file {path} not found", [f"{path}: no such file"])
    use = lambda c: c in wanted  # noqa: E731 (only the mapped columns are read)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        frame = pd.read_excel(path, sheet_name=spec.sheet or 0, dtype=str, usecols=use)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=use, encoding="utf-8-sig")
    missing = [c for c in wanted[:1] if c not in frame.columns]
    if missing:
        raise UserError(f"service points file {path}",
                        [f"{path}: no column {missing[0]!r} (the name column)"])
    return frame.fillna("")


def read_points(con: duckdb.DuckDBPyConnection, spec: PointsFile, types: list[str] | None = None,
                kind: str = "service point",
                extent: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
    """The points of a file as name, type, x, y (EPSG:27700), in file order, names made unique
    (unique_names). Easting/northing first (checked: `grid_references`; `extent`: the configured
    `access.extent`, else Great Britain), else the postcode's grid reference. The notes of points
    converted from degrees are in `attrs['notes']`."""
    c = spec.columns
    cols = [col for col in (c.name, c.type, c.postcode, c.easting, c.northing) if col]
    raw = _read_table(spec, cols)
    out = pd.DataFrame({"name": raw[c.name].str.strip(),
                        "type": raw[c.type].str.strip() if c.type in raw else ""})
    x, y, problems, notes = grid_references(raw, c, str(spec.path), extent)
    if problems:
        raise UserError(f"{spec.path}: {len(problems)} {kind}(s) with a grid reference that cannot be used",
                        problems)
    for note in notes:
        logger.warning("%s", note)
    need = x.isna() | y.isna()
    if need.any() and c.postcode in raw:
        k = postcode_keys(raw.loc[need, c.postcode])
        con.register("access_pc_df", pd.DataFrame({"k": k.to_numpy()}).drop_duplicates())
        found = execute(con, "access_point_postcodes", """SELECT p.pc_key, p.easting, p.northing
                               FROM ref_postcodes p JOIN access_pc_df d ON p.pc_key = d.k
                               WHERE p.easting IS NOT NULL AND p.northing IS NOT NULL""", fetch="df")
        con.unregister("access_pc_df")
        at = found.drop_duplicates("pc_key").set_index("pc_key")
        x.loc[need] = k.map(at["easting"]).to_numpy()
        y.loc[need] = k.map(at["northing"]).to_numpy()
    out["x"], out["y"] = x.astype(float), y.astype(float)
    out = out[out["name"] != ""]
    if types:
        want = {t.strip().lower() for t in types}
        out = out[out["type"].str.lower().isin(want)]
    lost = out.loc[out["x"].isna() | out["y"].isna(), "name"].tolist()
    if lost:
        raise UserError(f"{spec.path}: {len(lost)} {kind}(s) could not be placed",
                        [f"{n!r}: no easting/northing and no postcode found in the postcode directory"
                         for n in lost[:10]] + ["Fix: give the point's easting and northing (EPSG:27700) "
                                                "or a live postcode"])
    out = unique_names(out)
    out.attrs["notes"] = notes
    return out


def unique_names(points: pd.DataFrame) -> pd.DataFrame:
    """The same points with each repeated name made unique: 'Name', 'Name (2)', ... in order."""
    seen: dict[str, int] = {}
    names = []
    for n in points["name"]:
        seen[n] = seen.get(n, 0) + 1
        names.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return points.assign(name=names).reset_index(drop=True)


def postcode_centres_sql(weighted: bool) -> str:
    """Each OA's centre as the mean point of its live, geographic, ordinary postcodes, weighted by the
    gazetteer's addresses per postcode when `weighted`."""
    join, w = ("JOIN (SELECT pc_key, count(*) AS w FROM ref_gazetteer GROUP BY 1) g USING (pc_key)", "g.w") \
        if weighted else ("", "1")
    return f"""SELECT p.oa21cd, sum({w} * p.easting) / sum({w}) AS x, sum({w} * p.northing) / sum({w}) AS y
                FROM ref_postcodes p {join}
                WHERE p.is_live AND NOT coalesce(p.non_geographic, false)
                  AND NOT coalesce(p.large_user, false)
                  AND p.easting IS NOT NULL AND p.northing IS NOT NULL AND p.oa21cd IS NOT NULL
                GROUP BY 1"""


def oa_centres(con: duckdb.DuckDBPyConnection, spec: CentroidFile | None, oas: list[str]) -> pd.DataFrame:
    """oa21cd, x, y and `centre` (how it was found) for each OA of `oas` (module docstring); `spec`:
    the population-weighted centroids file, if any."""
    codes = pd.Series(oas, dtype=object)
    x, y = np.full(len(codes), np.nan), np.full(len(codes), np.nan)
    centre = np.full(len(codes), "", dtype=object)

    def fill(source: pd.DataFrame, how: str) -> None:
        todo = np.isnan(x)
        x[todo] = codes[todo].map(source["x"]).to_numpy(dtype=float)
        y[todo] = codes[todo].map(source["y"]).to_numpy(dtype=float)
        centre[todo & ~np.isnan(x)] = how

    if spec is not None:
        pwc = pd.read_csv(spec.path, dtype={spec.code_column: str},
                          usecols=[spec.code_column, spec.x_column, spec.y_column])
        pwc = pwc.drop_duplicates(spec.code_column).set_index(spec.code_column)
        fill(pwc.rename(columns={spec.x_column: "x", spec.y_column: "y"}), "population-weighted centroid")
    weights = [True] if table_exists(con, "ref_gazetteer") else []
    for weighted, how in [*((w, "household-weighted postcodes") for w in weights),
                          (False, "postcodes (equal weights)")]:
        if not np.isnan(x).any():
            break
        found = execute(con, "access_oa_centres", postcode_centres_sql(weighted), fetch="df")
        fill(found.set_index("oa21cd"), how)
    if np.isnan(x).any():
        found = execute(con, "access_oa_points", "SELECT oa21cd, x, y FROM ref_oa", fetch="df")
        fill(found.set_index("oa21cd"), "point in polygon")
    return pd.DataFrame({"oa21cd": codes.to_numpy(), "x": x, "y": y, "centre": centre})


def nearest(xy: np.ndarray, points: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) from each row of `xy` to the nearest of `points`, and that point's index; a tie
    goes to the alphabetically first name."""
    tree = cKDTree(points)
    k = min(2, len(points))
    d, i = tree.query(xy, k=k, workers=-1)
    if k == 1:
        return d, i
    d0, i0 = d[:, 0], i[:, 0]
    nm = np.asarray(names, dtype=object)
    tie = (d[:, 1] == d0) & (nm[i[:, 1]] < nm[i0])
    return d0, np.where(tie, i[:, 1], i0)


def candidate_gains(target_xy: np.ndarray, target_hh: np.ndarray, cand_xy: np.ndarray,
                    within_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: the households of the under-served target OAs within `within_m` of it, and
    how many such OAs (the pairs found with a cKDTree ball query)."""
    gain = np.zeros(len(cand_xy))
    oas = np.zeros(len(cand_xy), dtype=np.int64)
    if len(target_xy) == 0 or len(cand_xy) == 0:
        return gain, oas
    tree = cKDTree(cand_xy)
    hits = tree.query_ball_point(target_xy, r=within_m, workers=-1, return_sorted=False)
    lens = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    if lens.sum() == 0:
        return gain, oas
    idx = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits if len(h)])
    gain = np.bincount(idx, weights=np.repeat(np.asarray(target_hh, dtype=float), lens),
                       minlength=len(cand_xy))
    oas = np.bincount(idx, minlength=len(cand_xy))
    return gain, oas


def rank_candidates(cands: pd.DataFrame, gain: np.ndarray, oas: np.ndarray, top: int) -> pd.DataFrame:
    """Candidates by gain, largest first, ties by name then easting and northing; the first `top`
    with a gain (rank 1, 2, ...)."""
    f = cands.assign(target_households=np.round(gain).astype(np.int64), target_oas=oas)
    f = f[f["target_households"] > 0]
    f = f.assign(_k=-f["target_households"]).sort_values(["_k", "name", "x", "y"], kind="mergesort")
    f = f.drop(columns="_k").head(top).reset_index(drop=True)
    f.insert(0, "rank", range(1, len(f) + 1))
    return f


def _km(metres) -> np.ndarray:
    return np.round(np.asarray(metres, dtype=float) / 1000, 2)


def access_frames(geo: pd.DataFrame, users: pd.Series, seg_names: dict[str, str], centres: pd.DataFrame,
                  points: pd.DataFrame, edges: list[float], within_km: float, targets: list[str],
                  candidates: pd.DataFrame | None, top: int) -> dict[str, pd.DataFrame]:
    """Every access view of a service (numeric, unsuppressed) from its area frame `geo` (oa21cd,
    ward, segment, households, base), users per OA, the OA centres and the points."""
    labels = band_labels(edges)
    c = centres.set_index("oa21cd").reindex(geo["oa21cd"])
    xy = c[["x", "y"]].to_numpy(dtype=float)
    dist, idx = nearest(xy, points[["x", "y"]].to_numpy(dtype=float), list(points["name"]))
    band = band_of(dist / 1000, edges)
    g = geo.assign(band=np.asarray(labels, dtype=object)[band], users=levels.aligned(geo, users))
    by_band = g.groupby("band", sort=False).agg(service_count=("users", "sum"), base_count=("base", "sum"))
    by_band = by_band.reindex(labels).fillna(0).astype(np.int64).reset_index()
    counts = by_band.rename(columns={"band": "segment_code"}).assign(segment_name="")
    out = {"access_band": with_uncertainty(profile_table(counts[["segment_code", "segment_name",
                                                                 "service_count", "base_count"]]))}
    segs = levels.order_codes(g["segment"].unique())
    cells = g.groupby(["band", "segment"], sort=False).agg(service_count=("users", "sum"),
                                                            base_count=("base", "sum"))
    full = pd.MultiIndex.from_product([labels, segs], names=["band", "segment"])
    cells = cells.reindex(full).fillna(0).astype(np.int64).reset_index()
    bs = with_uncertainty(profile_table(pd.DataFrame({
        "segment_code": cells["band"] + "/" + cells["segment"],
        "segment_name": cells["band"] + " / " + cells["segment"].map(seg_names).fillna(""),
        "service_count": cells["service_count"], "base_count": cells["base_count"]})))
    bs["band"] = [*cells["band"], ""]
    bs["segment"] = [*cells["segment"], ""]
    out["access_band_segment"] = bs
    nearest_name = points["name"].to_numpy(dtype=object)[idx]
    oa = pd.DataFrame({
        "oa21cd": geo["oa21cd"].to_numpy(), "ward_code": geo["ward_code"].to_numpy(),
        "ward_name": geo["ward_name"].to_numpy(), "segment": geo["segment"].to_numpy(),
        "households": geo["households"].to_numpy(dtype=np.int64),
        "easting": np.round(xy[:, 0], 1), "northing": np.round(xy[:, 1], 1),
        "centre": c["centre"].to_numpy() if "centre" in c else "",
        "nearest_point": nearest_name, "distance_km": _km(dist), "band": g["band"].to_numpy()})
    out["access_oa"] = oa
    catch = oa.groupby("nearest_point").agg(oas=("oa21cd", "size"), households=("households", "sum"))
    pts = points.rename(columns={"x": "easting", "y": "northing"}).copy()
    pts["oas"] = pts["name"].map(catch["oas"]).fillna(0).astype(np.int64)
    pts["households"] = pts["name"].map(catch["households"]).fillna(0).astype(np.int64)
    out["access_points"] = pts[["name", "type", "easting", "northing", "oas", "households"]]
    within_m = within_km * 1000
    far = (dist > within_m) & geo["segment"].isin(targets).to_numpy()
    t = oa[far].assign(segment_name=lambda f: f["segment"].map(seg_names).fillna(""))
    t = t.assign(_d=-t["distance_km"]).sort_values(["_d", "oa21cd"], kind="mergesort").drop(columns="_d")
    t = t[["oa21cd", "ward_code", "ward_name", "segment", "segment_name", "households", "nearest_point",
           "distance_km"]].reset_index(drop=True)
    t.insert(0, "rank", range(1, len(t) + 1))
    t["beyond_km"] = f"{within_km:g}"
    out["access_targets"] = t
    if candidates is None:
        cands = pd.DataFrame({"name": geo["oa21cd"].to_numpy(), "type": OA_CENTRE,
                              "x": xy[:, 0], "y": xy[:, 1]})
    else:
        cands = candidates[["name", "type", "x", "y"]]
    gain, n_oas = candidate_gains(xy[far], geo["households"].to_numpy(dtype=float)[far],
                                  cands[["x", "y"]].to_numpy(dtype=float), within_m)
    ranked = rank_candidates(cands, gain, n_oas, top)
    ranked = ranked.rename(columns={"x": "easting", "y": "northing"})
    ranked["easting"], ranked["northing"] = ranked["easting"].round(1), ranked["northing"].round(1)
    ranked["within_km"] = f"{within_km:g}"
    out["access_candidates"] = ranked
    return out


def register(b, frames: dict[str, pd.DataFrame]) -> None:
    """Put the access views into the ServiceProfile `b` and their user counts into its graph: the
    bands add up to the Total, the band x segment cells to their band and to their segment."""
    band = frames["access_band"]
    b.profile_view("access_band", band, [("access_band", c) for c in band["segment_code"].iloc[:-1]])
    bs = frames["access_band_segment"]
    body = bs.iloc[:-1]
    keys = [("access_bs", bd, s) for bd, s in zip(body["band"], body["segment"], strict=True)]
    b.profile_view("access_band_segment", bs, keys)
    for bd in band["segment_code"].iloc[:-1]:
        b.graph.relate(("access_band", bd), [k for k in keys if k[1] == bd])
    for s in body["segment"].unique():
        b.graph.relate(("segment", s), [k for k in keys if k[2] == s])
    for view in ("access_points", "access_oa", "access_targets", "access_candidates"):
        b.views[view] = frames[view]
        b.derived[view] = None  # geography and census households only: no user count to hide


def access_views(b, con: duckdb.DuckDBPyConnection, cfg: RunConfig, service, geo: pd.DataFrame,
                 users: pd.Series, seg_names: dict[str, str]) -> None:
    """Build and register a service's access views when it names service points."""
    spec = getattr(service, "access", None)
    if spec is None:
        return
    extent = cfg.access.extent
    parts = [read_points(con, cfg.access.points[n], spec.types, extent=extent) for n in spec.points]
    notes = list(dict.fromkeys(n for p in parts for n in p.attrs.get("notes", [])))
    # a point in two named files is one point; two points sharing a name stay apart
    points = unique_names(pd.concat(parts, ignore_index=True).drop_duplicates(["name", "x", "y"]))
    if points.empty:
        raise UserError(f"service {service.name!r}: no service points",
                        [f"access.points {spec.points} hold no point of types {spec.types}"])
    edges = list(cfg.access.bands_km)
    within = spec.within_km or next((e for e in edges if e > 1), edges[-1])
    cands = None if spec.candidates is None else read_points(con, spec.candidates, kind="candidate location",
                                                             extent=extent)
    notes += [] if cands is None else cands.attrs.get("notes", [])
    centres = oa_centres(con, cfg.access.centroids, list(geo["oa21cd"]))
    targets = gaps.target_segments(b.views["segment"])
    frames = access_frames(geo, users, seg_names, centres, points, edges, within, targets, cands, spec.top)
    register(b, frames)
    if notes:
        b.notes.setdefault("access_points", []).extend(notes)


def points_problems(cfg: RunConfig) -> list[str]:
    """The access stage's check of its files, for `insight validate`: every named service-points file
    and candidates file that exists is read (only its mapped columns) and each grid reference checked
    by `grid_references`, as the run will; points given in degrees are logged, to be converted.
    Postcodes are left to the run (the directory is not read here)."""
    files = {f"access.points.{name}": spec for name, spec in cfg.access.points.items()}
    files |= {f"services[{i}].access.candidates": s.access.candidates for i, s in enumerate(cfg.services)
              if s.access is not None and s.access.candidates is not None}
    problems = []
    for where, spec in files.items():
        if not Path(spec.path).is_file():
            continue  # config.missing_files names it
        c = spec.columns
        try:
            raw = _read_table(spec, [col for col in (c.name, c.type, c.postcode, c.easting, c.northing)
                                     if col])
        except UserError as exc:
            problems += [f"{where}: {p}" for p in exc.problems]
            continue
        except (OSError, ValueError, UnicodeError) as exc:
            problems.append(f"{where}: {spec.path} could not be read ({type(exc).__name__}). Fix: give a CSV "
                            "(UTF-8) or XLSX with a header row")
            continue
        _, _, found, notes = grid_references(raw, c, f"{where} ({spec.path})", cfg.access.extent)
        problems += found
        for note in notes:
            logger.warning("%s", note)
    return problems
