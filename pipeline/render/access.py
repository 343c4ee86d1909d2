"""Render the access views of a service (pipeline/profiles/access.py) from the published tables:
the take-up-by-distance chart (one line per segment: the model-free view), the report sections,
the headline and the map layers of the points and their catchments.

Only published values are read: a hidden band x segment cell is a gap in its segment's line and
the symbol in the tables; the point, OA, target and candidate tables hold no user count.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pipeline.config import BNG  # noqa: E402
from pipeline.escape import mathtext_safe  # noqa: E402
from pipeline.publish.notes import UNDER  # noqa: E402
from pipeline.publish.tables import PublishedTable  # noqa: E402
from pipeline.render.charts import Chart, save_chart  # noqa: E402
from pipeline.render.headlines import Headline  # noqa: E402

logger = logging.getLogger(__name__)

_PLAIN = {"text.usetex": False}


def bands(band: PublishedTable) -> list[str]:
    return [c for c in band.frame["segment_code"] if c != "Total"]


def decay_table(cells: PublishedTable, order: list[str]) -> tuple[list[str], list[list[str]]]:
    """Segments (rows) by band (columns) of the published penetration % of each band x segment cell
    (the symbol where withheld): how take-up changes with distance in each segment."""
    f = cells.frame[cells.frame["segment_code"] != "Total"]
    rows = []
    for seg, part in f.groupby("segment", sort=False):
        name = str(part["segment_name"].iloc[0]).split(" / ", 1)[-1]
        by = {b: (cells.frame.at[i, "penetration_pct"] if not cells.hidden.at[i, "penetration_pct"]
                  else cells.symbol) for i, b in zip(part.index, part["band"], strict=True)}
        rows.append([str(seg), name, *(str(by.get(b, "")) for b in order)])
    return ["Segment", "Name", *(f"{b} penetration %" for b in order)], rows


@matplotlib.rc_context(_PLAIN)
def decay_chart(band: PublishedTable, cells: PublishedTable, out_png: Path, title: str) -> Chart:
    """Penetration % by distance band, one line per segment and the service overall (dashed):
    published values only; a withheld cell is a gap in its line."""
    order = bands(band)
    fig, ax = plt.subplots(figsize=(8.0, 4.2), dpi=100)
    x = list(range(len(order)))
    plotted: dict[str, float] = {}
    f = cells.frame[cells.frame["segment_code"] != "Total"]
    cmap = plt.get_cmap("tab10")
    gaps = 0
    for k, (seg, part) in enumerate(f.groupby("segment", sort=False)):
        ys = []
        for b in order:
            row = part[part["band"] == b]
            v = None if row.empty else cells.value(row.index[0], "penetration_pct")
            gaps += bool(not row.empty and cells.hidden.at[row.index[0], "penetration_pct"])
            ys.append(float("nan") if v is None else v)
        ax.plot(x, ys, marker="o", color=cmap(k % 10), linewidth=1.4, label=mathtext_safe(f"segment {seg}"))
        plotted[str(seg)] = ys[0]
    overall = [band.value(i, "penetration_pct") for i in band.frame.index if band.frame.at[i, "segment_code"]
               != "Total"]
    ax.plot(x, [float("nan") if v is None else v for v in overall], color="#222222", linestyle="--",
            linewidth=2, label="all segments")
    ax.set_xticks(x, [mathtext_safe(b) for b in order])
    ax.set_xlabel("Distance from the OA's centre to the nearest service point")
    ax.set_ylabel("Penetration %")
    ax.set_title(mathtext_safe(title), fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, ncol=2, frameon=False, loc="best")
    fig.tight_layout()
    out_png = save_chart(fig, out_png)
    shown = [f"{b} {v:g}%" for b, v in zip(order, overall, strict=True) if v is not None]
    alt = (f"{title}. Line chart of penetration % by distance band, one line per segment and a dashed "
           f"line for all segments ({'; '.join(shown)}).")
    if gaps:
        alt += f" {gaps} cell(s) suppressed (too few to show) are gaps in their lines."
    return Chart(out_png, alt, plotted)


def headline(band: PublishedTable | None, area: str) -> list[Headline]:
    """Penetration in the nearest and the furthest band with users shown, and whether the furthest
    is significantly below the area's rate (published cells of `access_band`)."""
    if band is None:
        return []
    f = band.frame
    vis = f[(f["segment_code"] != "Total") & ~band.rows_hidden.to_numpy() & (f["penetration_pct"] != "")]
    if len(vis) < 2:
        return []
    near, far = vis.iloc[0], vis.iloc[-1]
    below = (f" (significantly below the {area} rate)" if far["significance"] == UNDER else "")
    return [Headline(f"By distance to the nearest service point, penetration is {near['penetration_pct']}% "
                     f"{near['segment_code']} and {far['penetration_pct']}% {far['segment_code']}{below}.",
                     "access_band", [str(near["segment_code"]), str(far["segment_code"])])]


def targets_summary(targets: PublishedTable) -> str:
    """'N households of the target segments in M OAs live more than D km from ...' (a sum of the
    published households column)."""
    f = targets.frame
    if f.empty:
        return "No Output Area of the target segments lies beyond the distance chosen."
    n = sum(int(v) for v in f["households"])
    return (f"{n:,} households of the target segments, in {len(f):,} Output Areas, live more than "
            f"{f['beyond_km'].iloc[0]} km from the nearest service point.")


def simple_table(t: PublishedTable, headers: dict[str, str], limit: int | None = None):
    f = t.frame if limit is None else t.frame.head(limit)
    cols = [c for c in headers if c in f]
    return [headers[c] for c in cols], [[str(f.at[i, c]) for c in cols] for i in f.index]


TARGET_HEADERS = {"rank": "Rank", "oa21cd": "Output Area", "ward_name": "Ward", "segment": "Segment",
                  "segment_name": "Segment name", "households": "Households",
                  "nearest_point": "Nearest point", "distance_km": "Distance (km)"}
CANDIDATE_HEADERS = {"rank": "Rank", "name": "Candidate", "type": "Type", "easting": "Easting",
                     "northing": "Northing", "target_households": "Target households brought within reach",
                     "target_oas": "Output Areas"}
POINT_HEADERS = {"name": "Service point", "type": "Type", "easting": "Easting", "northing": "Northing",
                 "oas": "Output Areas nearest (catchment)", "households": "Households in catchment"}


def points_layer(points: PublishedTable | None) -> gpd.GeoDataFrame | None:
    """The published service points as EPSG:27700 points with a label."""
    if points is None or points.frame.empty:
        return None
    f = points.frame
    layer = gpd.GeoDataFrame(
        {"name": f["name"].astype(str), "label": [f"{n} ({t}): catchment {o} OAs, {h} households"
                                                  for n, t, o, h in zip(f["name"], f["type"], f["oas"],
                                                                        f["households"], strict=True)]},
        geometry=gpd.points_from_xy(f["easting"].astype(float), f["northing"].astype(float)),
        crs=BNG)
    return layer


def catchments_layer(oa_table: PublishedTable | None,
                     oas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Each point's catchment: the union of the OA polygons nearest to it (published access_oa)."""
    if oa_table is None or oas is None or oa_table.frame.empty:
        return None
    f = oa_table.frame[["oa21cd", "nearest_point"]]
    polys = oas.rename(columns={"code": "oa21cd"})[["oa21cd", "geometry"]].merge(f, on="oa21cd", how="inner")
    if polys.empty:
        return None
    out = polys.dissolve(by="nearest_point", as_index=False)[["nearest_point", "geometry"]]
    out["label"] = [f"Catchment of {n}" for n in out["nearest_point"]]
    return out.rename(columns={"nearest_point": "name"})


def sections(views: dict[str, PublishedTable], folder: Path, name: str, label: str):
    """The report's access sections as (title, columns, rows, what, chart or None, wide) and the
    appendix tables, and the charts written."""
    band, cells = views.get("access_band"), views.get("access_band_segment")
    if band is None or cells is None:
        return [], [], []
    order = bands(band)
    chart = decay_chart(band, cells, folder / "charts" / f"{name}_access.png",
                        f"{label}: penetration by distance to the nearest service point")
    cols, rows = decay_table(cells, order)
    out = [("Access: take-up by distance to the nearest service point", None, None,
            "Penetration by distance band (distance from each Output Area's population-weighted centre "
            "to the nearest service point, straight line).", chart, False),
           ("Access by segment: how take-up changes with distance", cols, rows,
            "Penetration % of each segment in each distance band, read across: no curve is fitted.",
            None, True)]
    targets = views.get("access_targets")
    if targets is not None:
        c, r = simple_table(targets, TARGET_HEADERS, 15)
        out.append(("Under-served and far from a service point", c, r,
                    targets_summary(targets) + " The furthest first; the full list is in the workbook.",
                    None, True))
    cands = views.get("access_candidates")
    if cands is not None:
        c, r = simple_table(cands, CANDIDATE_HEADERS)
        within = cands.frame["within_km"].iloc[0] if len(cands.frame) else ""
        what = (f"Candidate locations for a new point, ranked by the households of the target segments "
                f"beyond {within} km today that would be within {within} km of it (each candidate on its "
                "own; ties by name)." if len(cands.frame) else "No candidate location would bring target "
                                                          "households within reach.")
        out.append(("Where a new point would reach most of the under-served", c, r, what, None, True))
    appendix = []
    points = views.get("access_points")
    if points is not None:
        c, r = simple_table(points, POINT_HEADERS)
        appendix.append(("Service points and their catchments", c, r, "access_points", None, True))
    return out, appendix, [chart]
