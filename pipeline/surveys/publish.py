"""A survey's shareable tables: respondent counts through the run's one suppression rule
(`pipeline.publish.suppression.Disclosure` over a `CountGraph`: a table's rows add up to its total),
estimates not shown where the respondents are hidden or fewer than `min_respondents`, written to
outputs/<run>/surveys/<name>/ as CSV (cells a spreadsheet would run neutralised)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import RunConfig
from pipeline.config.survey import Survey
from pipeline.escape import spreadsheet_frame
from pipeline.profiles.cells import CountGraph
from pipeline.publish.suppression import Disclosure, round_count, rounding

#: the columns of an estimate (shown or hidden together)
ESTIMATE_COLUMNS = ("weighted", "n_eff", "estimate", "lower", "upper", "vs_area", "direct", "D",
                    "direct_lower", "direct_upper")


def hidden_counts(cfg: RunConfig, tables: dict[str, tuple[list, list[int], int]]) -> set:
    """The hidden keys of one survey's count tables: name -> (keys, counts, total)."""
    graph = CountGraph()
    for name, (keys, counts, total) in tables.items():
        graph.add(("total", name), total)
        for k, c in zip(keys, counts, strict=True):
            graph.add((name, k), c)
        if sum(counts) == total:
            graph.relate(("total", name), [(name, k) for k in keys])
    return Disclosure(graph, cfg.suppression).hidden()


def shown(frame: pd.DataFrame, name: str, key: str, count: str, hidden: set, cfg: RunConfig, survey: Survey,
          percent: bool) -> pd.DataFrame:
    """The frame as published: counts rounded by the rule; a hidden count as the symbol; the direct
    estimate of a hidden count or of fewer than `min_respondents` respondents as the symbol (a ward's
    model estimate is shown for every ward of the area: it leans on the census where the ward's
    respondents are few); estimates as percentages (one decimal) or numbers (two)."""
    symbol = cfg.suppression.symbol
    base = rounding(cfg.suppression)
    ward = name.endswith("_ward")
    direct = ("n_eff", "weighted", "direct", "D", "direct_lower", "direct_upper") if ward \
        else ESTIMATE_COLUMNS
    out = frame.copy().astype(object)
    for i, row in frame.iterrows():
        k = str(row[key])
        is_hidden = (name, k) in hidden or (k == "All" and ("total", name) in hidden)
        out.at[i, count] = symbol if is_hidden else round_count(int(row[count]), base)
        small = is_hidden or int(row[count]) < survey.min_respondents
        for c in frame.columns:
            v = row[c]
            if c in direct and small:
                out.at[i, c] = symbol
            elif c != count and isinstance(v, float | np.floating):
                out.at[i, c] = "" if np.isnan(v) else fmt(c, float(v), percent)
    return out


def fmt(column: str, value: float, percent: bool) -> str:
    if column in ("gamma",):
        return f"{value:.2f}"
    if column in ("weighted", "n_eff"):
        return f"{value:.0f}"
    if column in ("D", "mse"):
        return f"{value * (1e4 if percent else 1):.4g}"
    return f"{100 * value:.1f}" if percent else f"{value:.2f}"


def write_tables(cfg: RunConfig, survey: Survey, result) -> object:
    """Write every table of the survey (and a summary of its accounting and weighting)."""
    from pathlib import Path

    folder = Path(cfg.outputs) / "surveys" / survey.name
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, frame in result.tables.items():
        if name == "weighting":
            for m, part in frame.groupby("margin", sort=False):
                counts[f"weighting:{m}"] = ([str(c) for c in part["category"]],
                                            part["respondents"].astype(int).tolist(), result.placed)
            continue
        key = "ward" if name.endswith("_ward") else "domain"
        body = frame[frame[key].astype(str) != "All"]
        total = frame.loc[frame[key].astype(str) == "All", "respondents"]
        counts[name] = ([str(k) for k in body[key]], body["respondents"].astype(int).tolist(),
                        int(total.iloc[0]) if len(total) else int(body["respondents"].sum()))
    hidden = hidden_counts(cfg, counts)
    questions = {q.name: q for q in survey.questions}
    written = []
    for name, frame in result.tables.items():
        if name == "weighting":
            out = frame.copy().astype(object)
            base = rounding(cfg.suppression)
            for i, row in frame.iterrows():
                if (f"weighting:{row['margin']}", str(row["category"])) in hidden:
                    out.at[i, "respondents"] = cfg.suppression.symbol
                    out.at[i, "respondent_share"] = cfg.suppression.symbol
                else:
                    out.at[i, "respondents"] = round_count(int(row["respondents"]), base)
            out["census_adults"] = ["" if pd.isna(v) else f"{float(v):.0f}" for v in frame["census_adults"]]
            for c in ("census_share", "respondent_share", "weighted_share"):
                out[c] = [v if isinstance(v, str) else "" if pd.isna(v) else f"{100 * float(v):.1f}"
                          for v in out[c]]
        else:
            q = next(q for n, q in sorted(questions.items(), key=lambda x: -len(x[0]))
                     if name.startswith(n + "_"))
            key = "ward" if name.endswith("_ward") else "domain"
            out = shown(frame, name, key, "respondents", hidden, cfg, survey, q.kind != "numeric")
        path = folder / f"{survey.name}_{name}.csv"
        spreadsheet_frame(out).to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    w = result.weights
    summary = pd.DataFrame([
        {"measure": "respondents read", "value": result.read},
        {"measure": "respondents placed in the area", "value": result.placed},
        {"measure": "respondents not placed", "value": result.read - result.placed},
        {"measure": "design effect of weighting (Kish)", "value": f"{w.deff:.2f}"},
        {"measure": "effective sample size", "value": f"{w.n_eff:.0f}"},
        {"measure": "weights trimmed", "value": w.trimmed},
        {"measure": "largest gap to a census margin (%)", "value": f"{100 * w.margin_gap:.2f}"},
        {"measure": "adults in the area (census)", "value": f"{w.population:.0f}"},
        *({"measure": f"{q.name}: {kind} estimate for the area",
           "value": fmt("estimate", v, q.kind != "numeric")}
          for q in survey.questions if q.name in result.effects
          for kind, v in zip(("unweighted", "weighted"), result.effects[q.name], strict=True)),
    ])
    spreadsheet_frame(summary).to_csv(folder / f"{survey.name}_summary.csv", index=False, lineterminator="\n")
    (folder / f"{survey.name}_notes.txt").write_text("\n".join(result.notes) + "\n", encoding="utf-8")
    return folder
