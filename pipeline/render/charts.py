"""Charts as deterministic PNGs (matplotlib, Agg): the index chart of a profile.

Bars are centred on 100: each segment's bar runs from 100 to its index, so over-use points
right and under-use left. Whiskers show the 95% interval of the index when the profile has
``index_lower``/``index_upper``; bars are coloured by ``significance`` when present
(over-represented / under-represented / no clear difference), else by direction only.
Colours are ColorBrewer RdBu ends and a neutral grey (colour-blind safe). Suppressed rows get
no bar, only the suppression symbol, and their values are never passed to matplotlib.

PNG metadata carries no timestamp or software version, so the same profile gives the same
bytes.

Every label, title and cell text goes through :func:`pipeline.escape.mathtext_safe` and the
charts are drawn with ``text.usetex`` off, so a service label or segment name holding ``$...$``
is shown as typed, never parsed as mathtext (which could fail to draw the chart at all).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.escape import mathtext_safe  # noqa: E402
from segments.naming import short_label

logger = logging.getLogger(__name__)

OVER, UNDER, NEUTRAL = "#b2182b", "#2166ac", "#9e9e9e"
SIGNIFICANCE_COLOURS = {
    "over-represented": OVER,
    "under-represented": UNDER,
    "no clear difference": NEUTRAL,
}
_LABEL_MAX = 48


@dataclass
class Chart:
    """A written chart: its file, alt text, and the values actually plotted (for checks)."""

    path: Path
    alt: str
    plotted: dict[str, float] = field(default_factory=dict)


def _float(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(f) else f


def _label(code: str, name: str) -> str:
    """``code name`` fitted to the axis, never cut mid-word (segments.naming.short_label)."""
    return mathtext_safe(short_label(code, name if name != code else "", _LABEL_MAX))


#: Text is never sent to TeX (matplotlib's default, enforced here whatever the user's rc).
_PLAIN_TEXT = {"text.usetex": False}


def save_chart(fig, out_png: Path) -> Path:
    """Write a chart as PNG with no timestamp or software tag (same bytes every run) and close it."""
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    # fig.tight_layout() has already placed the axes once, but leaves a placeholder layout engine
    # that makes savefig draw the whole figure twice (once unseen): the chart's largest cost.
    with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    fig.savefig(out_png, format="png", metadata={"Software": None})
    plt.close(fig)
    return out_png


#: Inches a labelled bar chart keeps around its axes (placed by `place_axes`): above, for a 10 pt
#: title; below, for the x tick labels and a 10 pt axis label; right, for a value label past the
#: last bar; and beside the measured y labels, for the ticks, their padding and the figure's edge.
ABOVE, BELOW, RIGHT, BESIDE = 0.42, 0.62, 0.2, 0.22


def place_axes(fig, ax, y_labels: list[str], size: float, strip: float = 0.0, above: float = ABOVE,
               below: float = BELOW) -> None:
    """Put `ax` so that its y tick labels (at `size` points, measured), a title above it (`above`
    inches), its x axis below it (`below` inches) and a strip of `strip` inches under that (a
    legend's) fit the figure.

    What ``fig.tight_layout()`` works out by laying every artist out once more before the figure
    is drawn, from one measurement of the longest y label: a third of a chart's cost."""
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()
    prop = FontProperties(size=size)
    label = max((renderer.get_text_width_height_descent(t, prop, ismath=False)[0] for t in y_labels),
                default=0.0) / fig.dpi
    width, height = fig.get_figwidth(), fig.get_figheight()
    left = (label + BESIDE) / width
    fig.subplots_adjust(left=left, right=1 - RIGHT / width, top=1 - above / height,
                        bottom=(below + strip) / height)


INDEX_LABEL = "Index (100 = as many users as the households predict)"


@matplotlib.rc_context(_PLAIN_TEXT)
def index_chart(profile: pd.DataFrame, hidden: pd.Series, out_png: Path, title: str,
                symbol: str = "#", what: str = "segment", xlabel: str = INDEX_LABEL) -> Chart:
    """Write the index chart of *profile* (numeric frame, Total row ignored) to *out_png*.

    *hidden* marks suppressed rows (same index as *profile*); they are drawn as the symbol.
    """
    body = profile[profile["segment_code"] != "Total"]
    hidden = hidden.reindex(body.index).fillna(True).astype(bool)
    n = len(body)
    fig, ax = plt.subplots(figsize=(8.0, max(2.4, 0.42 * n + 1.2)), dpi=100)
    has_sig = "significance" in body.columns
    has_ci = "index_lower" in body.columns and "index_upper" in body.columns
    plotted: dict[str, float] = {}
    labels = []
    bars: list[tuple[int, float, str]] = []  # (row, index, colour): drawn in one call, not a call a row
    whiskers: list[tuple[int, float, float, float]] = []  # (row, index, below, above)
    for y, (i, row) in enumerate(body.iterrows()):
        code, name = str(row["segment_code"]), str(row.get("segment_name") or "")
        labels.append(_label(code, name))
        value = None if hidden.loc[i] else _float(row["index"])
        if value is None:
            ax.text(100, y, mathtext_safe(f" {symbol} suppressed") if hidden.loc[i] else " no data",
                    va="center", ha="left", fontsize=8, color="#444444")
            continue
        plotted[code] = value
        colour = (SIGNIFICANCE_COLOURS.get(str(row["significance"]), NEUTRAL) if has_sig
                  else (OVER if value >= 100 else UNDER))
        bars.append((y, value, colour))
        end = value  # the value label sits beyond the bar and its whisker, never on them
        if has_ci:
            lo, hi = _float(row["index_lower"]), _float(row["index_upper"])
            if lo is not None and hi is not None:
                whiskers.append((y, value, max(value - lo, 0), max(hi - value, 0)))
                end = max(value, hi) if value >= 100 else min(value, lo)
        right = value >= 100
        ax.text(end, y, f"  {value:.0f}" if right else f"{value:.0f}  ", va="center",
                ha="left" if right else "right", fontsize=8)
    if bars:
        ys, values, colours = zip(*bars, strict=True)
        ax.barh(ys, [v - 100 for v in values], left=100, color=colours, height=0.7, edgecolor="none")
    if whiskers:
        ys, values, below, above = zip(*whiskers, strict=True)
        ax.errorbar(values, ys, xerr=[below, above], fmt="none", ecolor="#222222", elinewidth=1, capsize=3)
    ax.axvline(100, color="#222222", linewidth=1)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(mathtext_safe(xlabel))
    ax.set_title(mathtext_safe(title), fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    xs = list(plotted.values()) + [100.0]
    if has_ci:
        xs += [v for c in ("index_lower", "index_upper") for v in map(_float, body[c]) if v is not None]
    lo, hi = min(xs), max(xs)
    pad = max(15.0, 0.14 * (hi - lo))  # room for the value labels beyond the whiskers
    ax.set_xlim(max(0.0, lo - pad), hi + pad)
    handles = _legend_handles(has_sig)
    # in a strip of 0.3 inch under the axis label, so it never covers a bar
    fig.legend(handles=handles, fontsize=7, loc="lower center", ncol=len(handles), frameon=False)
    place_axes(fig, ax, labels, 8, strip=0.3)  # the legend's strip under the axis label
    out_png = save_chart(fig, out_png)
    return Chart(out_png, _alt_text(title, plotted, int(hidden.sum()), has_ci, what), plotted)


def _legend_handles(has_sig: bool):
    from matplotlib.patches import Patch

    if has_sig:
        return [Patch(color=c, label=k) for k, c in SIGNIFICANCE_COLOURS.items()]
    return [Patch(color=OVER, label="more users than expected"),
            Patch(color=UNDER, label="fewer users than expected")]


def _alt_text(title: str, plotted: dict[str, float], n_hidden: int, has_ci: bool, what: str) -> str:
    if not plotted:
        return f"{title}: no {what} has enough users to show."
    top = max(plotted, key=plotted.get)
    low = min(plotted, key=plotted.get)
    text = (f"{title}. Bar chart of the index by {what}, centred on 100. Highest: {what} {top} "
            f"(index {plotted[top]:.0f}); lowest: {what} {low} (index {plotted[low]:.0f}).")
    if n_hidden:
        text += f" {n_hidden} {what}(s) suppressed (too few users to show)."
    if not has_ci:
        text += " Intervals not available."
    return text


@matplotlib.rc_context(_PLAIN_TEXT)
def channel_chart(profile: pd.DataFrame, hidden: pd.Series, out_png: Path, title: str,
                  symbol: str = "#") -> Chart:
    """Heat map of the channel index: a row per segment, a column per channel (unknown and the
    Total rows left out), coloured from blue (index 50 or less) through white (100) to red (150 or
    more), the index written in each cell, in bold where the difference is significant. Hidden
    cells are grey and show only the symbol. `plotted` maps 'segment|channel' to the index."""
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm

    body = profile[(profile["segment_code"] != "Total") & (profile["channel"] != "unknown")]
    hidden = hidden.reindex(body.index).fillna(True).astype(bool)
    segs = list(dict.fromkeys(body["segment_code"].astype(str)))
    chans = list(dict.fromkeys(body["channel"].astype(str)))
    grid = np.full((len(segs), len(chans)), np.nan)
    plotted: dict[str, float] = {}
    fig, ax = plt.subplots(figsize=(1.3 * len(chans) + 4.2, 0.42 * len(segs) + 1.6), dpi=100)
    for i, row in body.iterrows():
        y, x = segs.index(str(row["segment_code"])), chans.index(str(row["channel"]))
        value = None if hidden.loc[i] else _float(row["index"])
        if value is None:
            ax.text(x, y, mathtext_safe(symbol) if hidden.loc[i] else "", ha="center", va="center",
                    fontsize=8, color="#444444")
            continue
        grid[y, x] = value
        plotted[f"{row['segment_code']}|{row['channel']}"] = value
        bold = str(row.get("significance", "")) in ("over-represented", "under-represented")
        ax.text(x, y, f"{value:.0f}", ha="center", va="center", fontsize=8,
                fontweight="bold" if bold else "normal",
                color="white" if abs(value - 100) >= 30 else "black")  # legible on the dark ends
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#e0e0e0")
    image = ax.imshow(np.clip(grid, 50, 150), cmap=cmap, norm=TwoSlopeNorm(100, 50, 150), aspect="auto")
    names = dict(zip(body["segment_code"].astype(str), body.get("segment_name", body["segment_code"]),
                     strict=False))
    ax.set_yticks(range(len(segs)), [_label(s, str(names.get(s) or "")) for s in segs], fontsize=8)
    ax.set_xticks(range(len(chans)), [mathtext_safe(c) for c in chans], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_title(mathtext_safe(title), fontsize=10, loc="left", pad=24)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("Index (100 = the borough's channel mix; bold: significant)", fontsize=8)
    fig.tight_layout()
    out_png = save_chart(fig, out_png)
    if plotted:
        top, low = max(plotted, key=plotted.get), min(plotted, key=plotted.get)
        alt = (f"{title}. Heat map of the index by segment and channel, 100 = the borough's mix. "
               f"Highest: {top.replace('|', ', ')} (index {plotted[top]:.0f}); lowest: "
               f"{low.replace('|', ', ')} (index {plotted[low]:.0f}).")
    else:
        alt = f"{title}: no segment and channel has enough contacts to show."
    if int(hidden.sum()):
        alt += f" {int(hidden.sum())} cell(s) suppressed (too few to show)."
    return Chart(out_png, alt, plotted)


OUTCOME_COLOURS = {"worse served": UNDER, "better served": OVER, "no clear difference": NEUTRAL}


@matplotlib.rc_context(_PLAIN_TEXT)
def outcome_chart(shown: pd.DataFrame, hidden: pd.Series, out_png: Path, title: str, measure: str,
                  overall: float | None, xlabel: str, symbol: str = "#", what: str = "segment") -> Chart:
    """Dot-and-whisker chart of an outcome by row (a published outcome table, Total left out):
    the rate or mean (`measure`: 'rate_pct' or 'mean') with its 95% interval, a line at the
    service's overall value, dots coloured by the call (worse served / better served / no clear
    difference). Hidden rows show the symbol; their values never reach matplotlib."""
    body = shown[shown["segment_code"] != "Total"]
    hidden = hidden.reindex(body.index).fillna(True).astype(bool)
    lo_col, hi_col = ("rate_lower", "rate_upper") if measure == "rate_pct" else ("mean_lower", "mean_upper")
    n = len(body)
    fig, ax = plt.subplots(figsize=(8.0, max(2.4, 0.42 * n + 1.2)), dpi=100)
    plotted: dict[str, float] = {}
    labels, xs = [], [] if overall is None else [overall]
    for y, (i, row) in enumerate(body.iterrows()):
        code = str(row["segment_code"])
        labels.append(_label(code, str(row.get("segment_name") or "")))
        value = None if hidden.loc[i] else _float(row[measure])
        if value is None:
            note = mathtext_safe(f" {symbol} suppressed") if hidden.loc[i] else " no outcome recorded"
            ax.text(0.01, y, note, va="center", ha="left", fontsize=8, color="#444444",
                    transform=ax.get_yaxis_transform())
            continue
        plotted[code] = value
        lo, hi = _float(row[lo_col]), _float(row[hi_col])
        colour = OUTCOME_COLOURS.get(str(row.get("significance")), NEUTRAL)
        if lo is not None and hi is not None:
            ax.errorbar(value, y, xerr=[[max(value - lo, 0)], [max(hi - value, 0)]], fmt="none",
                        ecolor="#222222", elinewidth=1, capsize=3)
            xs += [lo, hi]
        ax.plot([value], [y], "o", color=colour, markersize=7)
        xs.append(value)
    if overall is not None:
        ax.axvline(overall, color="#222222", linewidth=1, linestyle="--")
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.invert_yaxis()
    if xs:
        pad = max(0.05 * (max(xs) - min(xs)), 0.5 if measure == "mean" else 2.0)
        ax.set_xlim(min(xs) - pad, max(xs) + pad)
    ax.set_xlabel(mathtext_safe(xlabel))
    ax.set_title(mathtext_safe(title), fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=k) for k, c in OUTCOME_COLOURS.items()]
    handles.append(Line2D([], [], color="#222222", linestyle="--", label="service overall"))
    fig.legend(handles=handles, fontsize=7, loc="lower center", ncol=len(handles), frameon=False)
    place_axes(fig, ax, labels, 8, strip=0.3)
    out_png = save_chart(fig, out_png)
    if plotted:
        top, low = max(plotted, key=plotted.get), min(plotted, key=plotted.get)
        alt = (f"{title}. Dot chart of the {xlabel.lower()} by {what} with 95% intervals. Highest: {what} "
               f"{top} ({plotted[top]:g}); lowest: {what} {low} ({plotted[low]:g}).")
    else:
        alt = f"{title}: no {what} has enough outcomes to show."
    if hidden.any():
        alt += f" {int(hidden.sum())} {what}(s) suppressed."
    return Chart(out_png, alt, plotted)
