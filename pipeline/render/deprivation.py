"""Render take-up by deprivation (pipeline/profiles/deprivation.py) from the published tables: the
report's one summary line on the gradient, the chart of penetration by national IMD decile with
its 95% intervals and the fitted slope, and the report section.

Only published values are read: a withheld decile is drawn as the symbol and leaves no bar; the
gradient row is withheld (the symbol) when any decile count is, and then no line is written.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.escape import mathtext_safe, spreadsheet_frame  # noqa: E402
from pipeline.publish.tables import PublishedTable  # noqa: E402
from pipeline.render.charts import Chart, save_chart  # noqa: E402
from pipeline.render.headlines import Headline  # noqa: E402

logger = logging.getLogger(__name__)

GRADIENT = "deprivation_gradient"
DECILES = "deprivation_imd"
ACCESS = "deprivation_access"
#: views shown in the report's deprivation section, not in the appendix's generic profiles
BODY = (DECILES, GRADIENT, ACCESS)


def _row(gradient: PublishedTable | None) -> dict | None:
    """The published gradient row as shown (text); None when absent, withheld or not computed."""
    if gradient is None or gradient.frame.empty or bool(gradient.hidden.iloc[0].any()):
        return None
    row = gradient.frame.iloc[0]
    if row.get("sii", "") in ("", None):
        return None
    return {k: str(v) for k, v in row.items()}


def summary_line(gradient: PublishedTable | None) -> str:
    """'Use is 5.84 times as high in the most deprived neighbourhoods as in the least ...; slope
    index of inequality -22.1 percentage points ...', every number as the gradient table publishes
    it ('' when there is none to state)."""
    row = _row(gradient)
    if row is None:
        return ""
    if float(row["times_most_deprived"]) >= 1:
        ratio = (f"{row['times_most_deprived']} times as high in the most deprived neighbourhoods as in "
                 "the least")
        ci = f"{row['times_lower']} to {row['times_upper']}"
    else:  # the RII: least over most deprived
        ratio = f"{row['rii']} times as high in the least deprived neighbourhoods as in the most"
        ci = f"{row['rii_lower']} to {row['rii_upper']}"
    return (f"Use is {ratio} (fitted across the national IMD deciles, 95% interval {ci}); slope index of "
            f"inequality {row['sii']} percentage points from the most to the least deprived end "
            f"(95% interval {row['sii_lower']} to {row['sii_upper']}).")


def headline(views: dict[str, PublishedTable]) -> list[Headline]:
    text = summary_line(views.get(GRADIENT))
    return [Headline(text, GRADIENT, ["imd_decile"])] if text else []


@matplotlib.rc_context({"text.usetex": False})
def decile_chart(deciles: PublishedTable, gradient: PublishedTable | None, out_png: Path,
                 title: str) -> Chart:
    """Penetration % by national IMD decile (1 = most deprived) with its 95% Wilson interval, and
    the fitted line of the slope index where it is published."""
    f = deciles.frame
    body = [i for i in f.index if f.at[i, "segment_code"] != "Total"]
    fig, ax = plt.subplots(figsize=(8.0, 4.2), dpi=100)
    plotted: dict[str, float] = {}
    for x, i in enumerate(body):
        code = str(f.at[i, "segment_code"])
        v = deciles.value(i, "penetration_pct")
        if v is None:
            ax.text(x, 0, mathtext_safe(f"{deciles.symbol}"), ha="center", va="bottom", fontsize=9)
            continue
        plotted[code] = v
        ax.bar(x, v, color="#3b6ea5", width=0.7)
        lo, hi = deciles.value(i, "penetration_lower"), deciles.value(i, "penetration_upper")
        if lo is not None and hi is not None:
            ax.errorbar(x, v, yerr=[[max(v - lo, 0)], [max(hi - v, 0)]], fmt="none", ecolor="#222222",
                        elinewidth=1, capsize=3)
    row = _row(gradient)
    if row is not None and len(plotted) == len(body):  # the fitted line: intercept = mean - SII x mean rank
        households = [deciles.value(i, "base_count") or 0 for i in body]
        total = sum(households)
        ranks = [(sum(households[:k]) + households[k] / 2) / total for k in range(len(body))]
        mean = sum(v * h for v, h in zip(plotted.values(), households, strict=True)) / total
        sii = float(row["sii"])
        y0 = mean - sii * sum(r * h for r, h in zip(ranks, households, strict=True)) / total
        xs = list(range(len(body)))
        ax.plot(xs, [y0 + sii * r for r in ranks], color="#c0392b", linestyle="--", linewidth=1.6,
                label=mathtext_safe(f"slope index {row['sii']} points"))
        ax.legend(fontsize=8, frameon=False, loc="best")
    ax.set_xticks(range(len(body)), [mathtext_safe(str(f.at[i, "segment_code"])) for i in body])
    ax.set_xlabel("National IMD decile (1 = most deprived 10% of neighbourhoods)")
    ax.set_ylabel("Penetration %")
    ax.set_title(mathtext_safe(title), fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    save_chart(fig, out_png)
    alt = (f"{title}. Bar chart of penetration % by national IMD decile with 95% intervals ("
           + "; ".join(f"decile {c} {v:g}%" for c, v in plotted.items()) + ").")
    if len(plotted) < len(body):
        alt += f" {len(body) - len(plotted)} decile(s) suppressed (too few to show)."
    return Chart(Path(out_png), alt, plotted)


def section(views: dict[str, PublishedTable], folder: Path, name: str, label: str) -> Chart | None:
    """The chart of the report's deprivation section (None for a run without deprivation)."""
    deciles = views.get(DECILES)
    if deciles is None:
        return None
    return decile_chart(deciles, views.get(GRADIENT), folder / "charts" / f"{name}_deprivation_decile.png",
                        f"{label}: penetration by deprivation decile")


SHARES = "segment_deprivation"
SHARE_COLUMNS = ["pct_households_most_deprived_10pc_national", "pct_households_most_deprived_20pc_national",
                 "pct_households_most_deprived_10pc_local", "pct_households_most_deprived_20pc_local"]


def portrait_line(shares: PublishedTable | None, code: str, area: str) -> str:
    """The pen portrait's sentence on deprivation for segment `code` ('' without deprivation)."""
    if shares is None:
        return ""
    f = shares.frame[shares.frame["segment"] == str(code)]
    if f.empty:
        return ""
    r = f.iloc[0]
    n10, n20, l10, l20 = (r[c] for c in SHARE_COLUMNS)
    return (f"{n10}% of its households live in the most deprived 10% of neighbourhoods (LSOAs) nationally "
            f"({n20}% in the most deprived 20%); {l10}% in the most deprived 10% of {area}'s own "
            f"neighbourhoods ({l20}% in its most deprived 20%).")


def add_to_pen_portraits(path: Path, shares: PublishedTable | None) -> Path | None:
    """pen_portraits.csv (written by the segments stage this run) with the four share columns,
    matched on level and segment; None when either is missing."""
    if shares is None or not path.exists():
        return None
    portraits = pd.read_csv(path, dtype=str, keep_default_na=False)
    portraits = portraits.drop(columns=[c for c in SHARE_COLUMNS if c in portraits.columns])
    cols = ["level", "segment", *SHARE_COLUMNS]
    merged = portraits.merge(shares.frame[cols], on=["level", "segment"], how="left").fillna("")
    spreadsheet_frame(merged).to_csv(path, index=False, encoding="utf-8")
    return path


def access_table(t: PublishedTable) -> tuple[list[str], list[list[str]]]:
    """Distance to the nearest service point by IMD decile: readable headers and the published rows."""
    names = {"segment_code": "Decile", "segment_name": "", "households": "Households",
             "mean_distance_km": "Mean distance (km)"}
    cols = [names.get(c, c.replace("households_pct ", "% of households ")) for c in t.frame.columns]
    return cols, [[str(v) for v in row] for row in t.frame.itertuples(index=False)]
