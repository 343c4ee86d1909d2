"""The segment guide: one page to hand round, every supergroup and its groups with their name,
colour, pen portrait, a grand-index chart and a thumbnail map.

Written to ``outputs/<run>/segments/segment_guide.html`` with its pictures in
``segments/guide/``, from the shareable segment outputs (census aggregates, no service counts):
``segment_names.csv`` (names and portraits of every tier), ``portrait_chart.csv`` (each segment's
ten most distinctive variables with their grand index) and ``segments_oa.csv``.

Grand index of a variable for a segment = the segment's share / the area's share x 100 (100 = as
the area); the chart diverges around 100, bars above to the right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from pipeline.config import RunConfig  # noqa: E402
from pipeline.escape import file_stem, mathtext_safe  # noqa: E402
from pipeline.render.charts import OVER, UNDER, place_axes, save_chart  # noqa: E402
from pipeline.render.segment_info import segment_colours  # noqa: E402
from segments.fit import WEAK_JACCARD, jaccard_text, seed_line  # noqa: E402

logger = logging.getLogger(__name__)

GUIDE = "segment_guide.html"
CHART_VARIABLES = 10
THUMB_SIMPLIFY_M = 20


@dataclass
class GuideEntry:
    code: str
    level: str
    name: str
    colour: str
    portrait: str
    chart: str = ""
    chart_alt: str = ""
    thumb: str = ""
    weak: str = ""
    households: str = ""
    share: str = ""
    oas: str = ""
    children: list[GuideEntry] = field(default_factory=list)


def anchor(code: str) -> str:
    """The guide's anchor for a segment code (links from reports and the segment map)."""
    return f"segment-{file_stem(code)}"


def _chart(rows: pd.DataFrame, out: Path, title: str) -> str:
    """Grand-index bar chart (diverging around 100) of a segment's most distinctive variables;
    returns its text alternative."""
    rows = rows.sort_values("rank").head(CHART_VARIABLES)
    fig, ax = plt.subplots(figsize=(4.6, 0.22 * len(rows) + 0.6), dpi=100)
    values = rows["index"].astype(float).tolist()
    ax.barh(range(len(values)), [v - 100 for v in values], left=100, height=0.7,
            color=[OVER if v >= 100 else UNDER for v in values])  # one call, not one a bar
    for y, v in enumerate(values):
        ax.text(v, y, f"  {v:.0f}" if v >= 100 else f"{v:.0f}  ", va="center",
                ha="left" if v >= 100 else "right", fontsize=7)
    ax.axvline(100, color="#222222", linewidth=0.8)
    labels = [mathtext_safe(s) for s in rows["label"]]
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    lo, hi = min([*values, 100.0]), max([*values, 100.0])
    pad = max(20.0, 0.18 * (hi - lo))
    ax.set_xlim(max(0.0, lo - pad), hi + pad)
    ax.set_xlabel("Index (100 = as the area)", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    place_axes(fig, ax, labels, 7, above=0.1, below=0.42)  # no title; 7 pt ticks and axis label
    save_chart(fig, out)
    parts = [f"{label} {v:.0f}" for label, v in zip(rows["label"], values, strict=True)]
    return (f"{title}. Grand index of its most distinctive characteristics (100 = as the area): "
            f"{'; '.join(parts)}.")


def area_paths(geometry: gpd.GeoSeries) -> list[MplPath]:
    """Each area's outline as one matplotlib path (every part and hole), made once for all the
    guide's maps: drawing a GeoDataFrame builds them again on every call, the maps' largest cost."""
    def path(shape) -> MplPath:
        rings = [ring for part in getattr(shape, "geoms", [shape])
                 for ring in (part.exterior, *part.interiors)]
        return MplPath.make_compound_path(*(MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in rings))

    return [path(shape) for shape in geometry]


def _area_map(paths: list[MplPath], colours: list[str], size: float, out: Path) -> None:
    """The areas of `paths` filled in `colours`, no outlines, equal scales, the figure filled but
    for a 0.1 inch margin."""
    fig = plt.figure(figsize=(size, size), dpi=100)
    ax = fig.add_axes((0.1 / size, 0.1 / size, 1 - 0.2 / size, 1 - 0.2 / size))
    ax.add_collection(PathCollection(paths, facecolors=colours, edgecolors="none", linewidths=0))
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_axis_off()
    save_chart(fig, out)


def _thumb(paths: list[MplPath], mask: pd.Series, colour: str, out: Path) -> None:
    """A small map of the area with the segment's Output Areas in its colour."""
    _area_map(paths, [colour if m else "#E6E6E6" for m in mask.to_numpy()], 2.2, out)


def _overview(base: gpd.GeoDataFrame, paths: list[MplPath], colours: dict[str, str], out: Path) -> None:
    """The area's map with every Output Area in its supergroup's colour (the guide's first page)."""
    _area_map(paths, base["supergroup"].map(colours).fillna("#777777").tolist(), 4.2, out)


def _weak_note(row) -> str:
    """A short flag for a segment the bootstrap found weak (`segments.fit.flag_weak` columns, written
    by `python -m segments`); its portrait ends with the caution in full."""
    if row.get("stability", "") != "weak":
        return ""
    return (f"Weak segment (bootstrap Jaccard {jaccard_text(row['bootstrap_jaccard'])}, below "
            f"{WEAK_JACCARD}): read the caution at the end of its portrait.")


def _sizes(seg_dir: Path) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(level, code) -> households, share of the area's households and Output Areas, as shown."""
    path = seg_dir / "pen_portraits.csv"
    if not path.exists():
        return {}
    pens = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"households", "oas"} <= set(pens.columns):
        return {}
    out = {}
    for level, rows in pens.groupby("level"):
        hh = pd.to_numeric(rows["households"], errors="coerce")
        total = hh.sum()
        for r, h in zip(rows.itertuples(), hh, strict=True):
            out[(level, r.segment)] = ("" if pd.isna(h) else f"{int(h):,}",
                                       "" if pd.isna(h) or not total else f"{100 * h / total:.1f}%",
                                       f"{int(r.oas):,}" if str(r.oas).isdigit() else "")
    return out


def _entries(seg_dir: Path, oas: gpd.GeoDataFrame | None) -> tuple[list[GuideEntry], str]:
    """The guide's supergroups with their groups, and the overview map's path ('' without polygons)."""
    names = pd.read_csv(seg_dir / "segment_names.csv", dtype=str, keep_default_na=False)
    oa = pd.read_csv(seg_dir / "segments_oa.csv", dtype=str, keep_default_na=False)
    chart_path = seg_dir / "portrait_chart.csv"
    charts = pd.read_csv(chart_path, dtype=str, keep_default_na=False) if chart_path.exists() else None
    if "level" not in names:
        names["level"] = "supergroup"
    top = names[names["level"] == "supergroup"] if (names["level"] == "supergroup").any() else names
    colours = segment_colours(names, oa)  # the one palette, as the segment map and workbook
    base, paths = None, []
    if oas is not None:
        base = oas.rename(columns={"code": "oa21cd"})[["oa21cd", "geometry"]].merge(oa, on="oa21cd")
        base["geometry"] = base.geometry.simplify(THUMB_SIMPLIFY_M)
        paths = area_paths(base.geometry)
    folder = seg_dir / "guide"
    sizes = _sizes(seg_dir)

    def entry(row) -> GuideEntry:
        code, level = row["segment"], row["level"]
        colour = colours.get(code, "#777777")
        e = GuideEntry(code, level, row["segment_name"], colour, row.get("description", ""),
                       weak=_weak_note(row))
        e.households, e.share, e.oas = sizes.get((level, code), ("", "", ""))
        stem = file_stem(code)
        if charts is not None:
            rows = charts[(charts["level"] == level) & (charts["segment"] == code)]
            if len(rows):
                ranked = rows.assign(rank=rows["rank"].astype(int))
                e.chart_alt = _chart(ranked, folder / f"index_{stem}.png", f"{code} {row['segment_name']}")
                e.chart = f"guide/index_{stem}.png"
        if base is not None and level in base.columns:
            _thumb(paths, base[level] == code, colour, folder / f"map_{stem}.png")
            e.thumb = f"guide/map_{stem}.png"
        return e

    entries = []
    for _, row in top.iterrows():
        e = entry(row)
        kids = names[(names["level"] == "group") & names["segment"].str.startswith(e.code)]
        kids = kids[kids["segment"].map(lambda c, p=e.code: c[len(p):len(p) + 1].isalpha())]
        e.children = [entry(k) for _, k in kids.iterrows()]
        for child in e.children:
            child.colour = e.colour
        entries.append(e)
    overview = ""
    if base is not None and "supergroup" in base.columns:
        _overview(base, paths, {e.code: e.colour for e in entries}, folder / "overview.png")
        overview = "guide/overview.png"
    return entries, overview


def _notes(seg_dir: Path) -> list[str]:
    """What a reader of the whole classification should know first: the Output Areas of communal
    establishments (oa_fit.csv), other seeds' supergroups that disagree with this run's
    (stability_seeds.csv, `segments.fit.seed_line`)."""
    notes = []
    fit = seg_dir / "oa_fit.csv"
    if fit.exists():
        table = pd.read_csv(fit, dtype=str, keep_default_na=False)
        flagged = sorted(table.loc[table["communal"].str.lower() == "true", "oa21cd"]) \
            if "communal" in table.columns else []
        if flagged:
            notes.append(f"{len(flagged)} Output Area{'s are' if len(flagged) > 1 else ' is'} mostly "
                         "residents of communal establishments (halls, care homes, boarding schools, "
                         f"prisons, barracks): {', '.join(flagged[:10])}"
                         f"{' ...' if len(flagged) > 10 else ''}. "
                         "They did not shape the segments; each is counted in its nearest segment and "
                         "flagged in oa_fit.csv and on the segment map.")
    seeds = seg_dir / "stability_seeds.csv"
    if seeds.exists():
        line = seed_line(pd.read_csv(seeds))
        if line:
            notes.append(f"Seed check: {line}.")
    return notes


def write_segment_guide(cfg: RunConfig, env, oas: gpd.GeoDataFrame | None, map_note: str = "") -> Path | None:
    """Write the guide (and its pictures) from outputs/<run>/segments/; None without names.
    *map_note*: which level the segment map is drawn at and where the Output Area detail is
    (``maps.level.level_note``; empty for a borough)."""
    seg_dir = cfg.outputs / "segments"
    if not (seg_dir / "segment_names.csv").exists() or not (seg_dir / "segments_oa.csv").exists():
        return None
    entries, overview = _entries(seg_dir, oas)
    html = env.get_template("guide.html.j2").render(
        title=f"Segment guide: {cfg.area_name}", area=cfg.area_name, entries=entries,
        overview=overview, attribution=cfg.attribution, anchor=anchor,
        notes=[*_notes(seg_dir), *([map_note] if map_note else [])])
    path = seg_dir / GUIDE
    path.write_text(html, encoding="utf-8")
    logger.info("Wrote segment guide %s (%d supergroups)", path, len(entries))
    return path
