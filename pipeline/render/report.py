"""The insight report of each (sub-)service, the run index page and a pen portrait per segment.

HTML from the Jinja2 templates in ``pipeline/render/templates/``. Each report sits beside its
service's outputs: the index chart as a PNG file in ``charts/`` (also handy for Word and
Excel users), the ward map in an iframe pointing at the self-contained map file. Nothing is
fetched from the network, and the pages print to PDF with headless Chromium
(:func:`pipeline.render.screenshots.print_pdf`).

Only the published tables are read (:class:`pipeline.publish.Publication`); headline numbers
come from those tables (see :mod:`pipeline.render.headlines`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from pipeline.config import RunConfig
from pipeline.escape import file_stem
from pipeline.publish.notes import DEFINITIONS
from pipeline.publish.tables import PROFILE_COLUMNS, Publication, PublishedTable
from pipeline.render import access as access_render
from pipeline.render import deprivation as deprivation_render
from pipeline.render import findings
from pipeline.render.charts import Chart, channel_chart, index_chart, outcome_chart
from pipeline.render.headlines import Headline, headlines
from pipeline.render.tables import METHOD

logger = logging.getLogger(__name__)

HEADERS = {
    "segment_code": "Code", "segment_name": "Name", "service_count": "Users", "service_pct": "Users %",
    "base_count": "Households", "base_pct": "Households %", "penetration_pct": "Penetration %",
    "index": "Index",
}
PORTRAIT_COLUMNS = ("service_count", "base_count", "penetration_pct", "index")
INTERVAL_HEADER = "Index 95% interval"

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    trim_blocks=False, keep_trailing_newline=True,
)


def _guide_href(cfg: RunConfig) -> str | None:
    """The segment guide, from a service's folder, when the run wrote one."""
    guide = cfg.outputs / "segments" / "segment_guide.html"
    return "../segments/segment_guide.html" if guide.exists() else None


def report_env() -> jinja2.Environment:
    """The Jinja2 environment of every HTML page render writes (autoescaping on)."""
    return _ENV


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Extra:
    title: str
    table: Table
    what: str
    chart: dict | None = None
    wide: bool = False


@dataclass
class ServiceReport:
    """What was written for one (sub-)service."""

    name: str
    path: Path
    headlines: list[Headline]
    charts: list[Chart] = field(default_factory=list)


def display_table(t: PublishedTable) -> Table:
    """A published profile table with readable headers and the index interval."""
    return _view_table(t, HEADERS)


def _match(summary: PublishedTable, service: str) -> list[tuple[str, str]]:
    frame = summary.frame
    row = frame[frame["service"] == service]
    if row.empty:
        return [("Match report", "not available")]
    out = []
    for k, v in row.iloc[0].items():
        if k == "service" or (k not in ("rows_read", "matched", "rejected") and str(v) in ("0", "")):
            continue
        out.append((str(k).replace("_", " ").capitalize(), findings.count_text(v)))
    return out


def _view_table(t: PublishedTable, headers: dict[str, str]) -> Table:
    """The published values of `t` under readable `headers`, the index interval ('lower–upper',
    or the symbol where withheld) inserted after the Index column."""
    shown = t.frame
    at = list(headers).index("index") + 1
    columns = list(headers.values())
    has_interval = {"index_lower", "index_upper"} <= set(shown.columns)
    if has_interval:
        columns.insert(at, INTERVAL_HEADER)
    rows = []
    for i in shown.index:
        row = [str(shown.at[i, c]) for c in headers]
        if has_interval:
            lo, hi = shown.at[i, "index_lower"], shown.at[i, "index_upper"]
            row.insert(at, lo if t.hidden.at[i, "index_lower"] else (f"{lo}–{hi}" if lo and hi else ""))
        rows.append(row)
    return Table(columns, rows)


VIEW_TITLES = {"ward_segment": "Profile by ward and segment", "trends": "Trends: take-up by period"}
EQUALITY_HEADERS = {
    "segment_code": "Group", "service_count": "Users", "service_pct": "Users %",
    "population": "Census population", "population_pct": "Census %", "index": "Index",
    "significance": "Difference", "note": "Note",
}


def equality_section(cfg: RunConfig, name: str, view: str, t: PublishedTable, folder: Path,
                     label: str) -> tuple[Extra, Chart | None]:
    """An equality view (users by age band, sex, ethnicity, disability, religion ... against the
    census): its published table, marked when incomplete, and the index chart of the groups with an
    index (none for a view reported as shares only, such as sexual orientation)."""
    field_name = view.removeprefix("equality_").replace("_", " ")
    frame, hidden = t.frame, t.rows_hidden
    comparable = (frame["population_pct"] != "") & (frame["segment_code"] != "Total")
    title = f"Equality: {field_name}" + (" (incomplete: too many codes not recognised)" if t.incomplete
                                         else "")
    table = _view_table(t, EQUALITY_HEADERS)
    if not comparable.any():
        return Extra(title, table, field_name), None
    chart = index_chart(frame[comparable], hidden[comparable],
                        folder / "charts" / f"{name}_{view}_index.png",
                        f"{label}: index by {field_name} (against the census)", cfg.suppression.symbol,
                        what=field_name, xlabel="Index (100 = users in proportion to the census population)")
    return Extra(title, table, field_name, {"href": f"charts/{chart.path.name}", "alt": chart.alt}), chart


CHANNEL_HEADERS = {
    "segment_code": "Code", "segment_name": "Name", "channel": "Channel", "service_count": "Contacts",
    "segment_pct": "Segment's mix %", "borough_pct": "Borough's mix %", "index": "Index",
    "significance": "Difference", "channel_shift_candidate": "Channel-shift candidate",
}


def channel_section(cfg: RunConfig, name: str, t: PublishedTable, folder: Path,
                    label: str) -> tuple[Extra, Chart]:
    """The channel view: each segment's channel mix against the borough's, as a heat map and a
    table (candidates for channel shift: significantly more face-to-face or telephone)."""
    chart = channel_chart(t.frame, t.rows_hidden, folder / "charts" / f"{name}_channels_index.png",
                          f"{label}: channel mix by segment", cfg.suppression.symbol)
    table = _view_table(t, CHANNEL_HEADERS)
    extra = Extra("Channels: how each segment contacts the council", table, "channels",
                  {"href": f"charts/{chart.path.name}", "alt": chart.alt})
    return extra, chart


OUTCOME_HEADERS = {
    "segment_code": "Code", "segment_name": "Name", "with_outcome": "With an outcome",
    "successes": "Achieved", "no_outcome": "No outcome recorded", "dont_know": "Don't know",
    "rate_pct": "Rate %", "rate_ci": "Rate 95% interval", "diff_pct": "Difference (points)",
    "diff_ci": "Difference 95% interval", "mean": "Mean", "mean_ci": "Mean 95% interval (t)",
    "mean_diff": "Mean difference", "significance": "Call", "holm": "Holm",
}


def _outcome_labels(cfg: RunConfig, service: str) -> dict[str, str]:
    spec = next((s for s in cfg.services if s.name == service), None)
    return {} if spec is None else {o.name: o.label or o.name.replace("_", " ") for o in spec.outcomes}


def outcome_table(t: PublishedTable) -> Table:
    """A published outcome table under readable headers, each interval as 'lower–upper' (the
    symbol where withheld)."""
    f, hid = t.frame, t.hidden
    cols = [c for c in OUTCOME_HEADERS if c in f or (c.endswith("_ci") and f"{c[:-3]}_lower" in f)]
    rows = []
    for i in f.index:
        row = []
        for c in cols:
            if c.endswith("_ci"):  # rate_ci -> rate_lower, rate_upper
                lo, hi = f.at[i, f"{c[:-3]}_lower"], f.at[i, f"{c[:-3]}_upper"]
                row.append(lo if hid.at[i, f"{c[:-3]}_lower"] else (f"{lo}–{hi}" if lo else ""))
            else:
                row.append(str(f.at[i, c]))
        rows.append(row)
    return Table([OUTCOME_HEADERS[c] for c in cols], rows)


def outcome_sections(cfg: RunConfig, name: str, views: dict[str, PublishedTable], folder: Path,
                     labels: dict[str, str]) -> list[tuple[Extra, list[Extra], Chart | None]]:
    """Per outcome: the 'who benefits' section (the chart and table by segment, then a table per
    equality group) and the appendix tables (group, subgroup, ward)."""
    out = []
    for outcome, dims in findings.outcome_views(views).items():
        seg = dims.get("segment")
        if seg is None:
            continue
        label = labels.get(outcome, outcome.replace("_", " "))
        rate = "rate_pct" in seg.frame
        measure = "rate_pct" if rate else "mean"
        total = seg.frame[seg.frame["segment_code"] == "Total"]
        overall = seg.value(total.index[0], measure) if len(total) else None
        chart = outcome_chart(seg.frame, seg.hidden["significance"], folder / "charts" /
                              f"{name}_outcome_{outcome}.png", f"{label}: by segment", measure, overall,
                              "Rate % (share with the outcome)" if rate else "Mean", cfg.suppression.symbol)
        worse = findings.worse_served(seg)
        what = (f"Segments significantly worse served: {', '.join(worse['segment_code'])}." if len(worse)
                else "No segment is significantly worse served than the service as a whole.")
        extra = Extra(f"Who benefits: {label}", outcome_table(seg), f"{label} by segment. {what}",
                      {"href": f"charts/{chart.path.name}", "alt": chart.alt}, wide=True)
        more = []
        for dim, t in dims.items():
            if dim == "segment":
                continue
            title = f"{label} by {dim.replace('_', ' ')}"
            more.append(Extra(title, outcome_table(t), title, wide=True))
        out.append((extra, more, chart))
    return out


def report_path(cfg: RunConfig, name: str) -> Path:
    return cfg.outputs / name.split("__")[0] / f"{name}_report.html"


#: findings of each kind in the summary at most (the sections hold the rest)
SUMMARY_EQUALITY, SUMMARY_OUTCOMES = 2, 2


def definition_rows(lines: list[str]) -> list[tuple[str, str]]:
    """The definitions as (term, meaning) rows of the report's table: 'Index: service % / ...' gives
    ('Index', 'Service % / ...'); a line without a short term first (a note on the line above)
    gets an empty term."""
    rows = []
    for line in lines:
        term, sep, meaning = line.partition(": ")
        short = sep and len(term) <= 32 and "." not in term
        rows.append((term, meaning[:1].upper() + meaning[1:]) if short else ("", line))
    return rows


def write_service_report(cfg: RunConfig, pub: Publication, name: str, label: str,
                         map_note: str = "") -> ServiceReport:
    """Write ``outputs/<run>/<service>/<name>_report.html`` and its charts. *map_note*: the
    sentence saying the maps are drawn above Output Areas and where that detail is
    (``maps.level.level_note``; empty for a borough)."""
    service = name.split("__")[0]
    folder = cfg.outputs / service
    symbol = pub.symbol
    views = pub.services[name]
    seg, ward = views["segment"], views["ward"]
    seg_table, ward_table = display_table(seg), display_table(ward)
    ward_table.columns[:2] = ["Ward code", "Ward"]
    found = headlines(seg.frame, seg.rows_hidden, ward.frame, ward.rows_hidden,
                      cfg.area_name, what=f"the {label.lower()}" if label else "the service")
    found += findings.biggest_gap(seg, cfg.area_name) + findings.wards_below(ward, cfg.area_name)
    complete = {v: t for v, t in views.items() if not t.incomplete}  # incomplete views: no headlines
    # the summary stays short: two equality findings (broad groups) and two outcome findings at most;
    # the rest are in their sections
    broad = {v: t for v, t in complete.items() if not v.endswith("_detailed")}
    found += findings.equality_under(broad)[:SUMMARY_EQUALITY] + findings.channel_shift(views.get("channels"))
    outcome_labels = _outcome_labels(cfg, service)
    found += findings.who_benefits(views, outcome_labels)[:SUMMARY_OUTCOMES]
    found += access_render.headline(views.get("access_band"), cfg.area_name)
    found += deprivation_render.headline(views)
    found += findings.quality_line(pub.run["run_summary"], service)
    chart = index_chart(seg.frame, seg.rows_hidden, folder / "charts" / f"{name}_index.png",
                        f"{label}: index by segment", symbol)
    charts = [chart]
    extras, appendix = [], []
    for view, t in views.items():
        if view.startswith(("outcome_", "access_")) or view in deprivation_render.BODY:  # sections below
            continue
        if view.startswith("equality_") or view == "channels":
            extra, c = (equality_section(cfg, name, view, t, folder, label) if view != "channels"
                        else channel_section(cfg, name, t, folder, label))
            (appendix if view.endswith("_detailed") else extras).append(extra)  # detailed: reference
            charts += [c] if c is not None else []
            continue
        if view in ("segment", "ward") or not set(PROFILE_COLUMNS) <= set(t.frame.columns):
            if view not in ("segment", "ward"):
                logger.info("%s: view %r is not a profile table; not shown in the report", name, view)
            continue
        if view.startswith("deprivation_"):  # local and domain tables: no chart each (the decile one above)
            appendix.append(Extra(f"Take-up by {view.removeprefix('deprivation_').replace('_', ' ')} "
                                  f"{'quintile' if view == 'deprivation_local' else 'decile'}",
                                  display_table(t), view))
            continue
        c = index_chart(t.frame, t.rows_hidden, folder / "charts" / f"{name}_{view}_index.png",
                        f"{label}: index by {view}", symbol, what=view)
        charts.append(c)
        title = VIEW_TITLES.get(view, f"Profile by {view.replace('_', ' ')}")
        appendix.append(Extra(title, display_table(t), view, {"href": f"charts/{c.path.name}", "alt": c.alt},
                              wide=view == "ward_segment"))
    for extra, more, c in outcome_sections(cfg, name, views, folder, outcome_labels):
        extras.append(extra)
        appendix += more
        charts += [c] if c is not None else []
    access, more, access_charts = access_render.sections(views, folder, name, label)
    for i, (title, cols, rows, what, c, wide) in enumerate(access):
        table = display_table(views["access_band"]) if cols is None else Table(cols, rows)
        # the first (take-up by distance) in the body; the target and candidate lists for reference
        (extras if i == 0 else appendix).append(
            Extra(title, table, what, c and {"href": f"charts/{c.path.name}", "alt": c.alt}, wide))
    if access:
        appendix.append(Extra("Profile by distance band and segment",
                              display_table(views["access_band_segment"]), "access_band_segment", wide=True))
    appendix += [Extra(t, Table(cols, rows), what, wide=wide) for t, cols, rows, what, _, wide in more]
    charts += access_charts
    dep_chart = deprivation_render.section(views, folder, name, label)
    if dep_chart is not None:  # take-up by national IMD decile (the gradient's line is in the summary)
        appendix.insert(0, Extra("Take-up by deprivation", display_table(views[deprivation_render.DECILES]),
                                 deprivation_render.DECILES, {"href": f"charts/{dep_chart.path.name}",
                                                              "alt": dep_chart.alt}))
        charts.append(dep_chart)
    if deprivation_render.ACCESS in views:
        cols, rows = deprivation_render.access_table(views[deprivation_render.ACCESS])
        appendix.insert(1, Extra("Distance to the nearest service point by deprivation decile",
                                 Table(cols, rows), deprivation_render.ACCESS))
    has_ci = {"index_lower", "index_upper"} <= set(seg.frame.columns)
    html = _ENV.get_template("service.html.j2").render(
        title=f"{label}: customer insight report, {cfg.area_name}", label=label, area=cfg.area_name,
        headlines=found, suggestions=findings.suggestions(complete, cfg.area_name), appendix=appendix,
        guide_href=_guide_href(cfg), chart={"href": f"charts/{chart.path.name}", "alt": chart.alt},
        interval_note=("Whiskers: 95% interval of the index." if has_ci
                       else "Interval not available for this profile."),
        segment_table=seg_table, ward_table=ward_table, extras=extras,
        map_href=f"{name}_ward_map.html", workbook_href=f"{name}_profile.xlsx", map_note=map_note,
        match=_match(pub.run["run_summary"], service), warnings=pub.warnings,
        key_figures=findings.key_figures(seg, pub.run["run_summary"], service,
                                         next(s.base for s in cfg.services if s.name == service)),
        method=[*METHOD[1:], *pub.notes,
                *dict.fromkeys(n for t in views.values() for n in t.notes if n not in pub.notes)],
        definitions=[*definition_rows(DEFINITIONS), ("Sources and attribution", cfg.attribution)],
    )
    path = report_path(cfg, name)
    path.write_text(html, encoding="utf-8")
    logger.info("Wrote report %s", path)
    return ServiceReport(name, path, found, charts)


#: each service's tables linked from the run index (the deprivation ones when the run has them)
INDEX_CSVS = ("segment", "ward", "deprivation_imd", "deprivation_gradient")


def write_run_index(cfg: RunConfig, names: dict[str, str], segment_names: pd.DataFrame | None,
                    oa_segments: pd.DataFrame | None, extra_links: list[tuple[str, str]],
                    warnings: list[str] = ()) -> Path:
    """``outputs/<run>/index.html``: links to every service's outputs and the run's maps."""
    services = []
    for name, label in names.items():
        service = name.split("__")[0]
        folder = cfg.outputs / service
        services.append({
            "label": label, "report": f"{service}/{name}_report.html",
            "map": f"{service}/{name}_ward_map.html", "workbook": f"{service}/{name}_profile.xlsx",
            "csvs": [f"{service}/{name}_profile_{v}.csv" for v in INDEX_CSVS
                     if v in ("segment", "ward") or (folder / f"{name}_profile_{v}.csv").is_file()],
        })
    segments = []
    if segment_names is not None and oa_segments is not None:
        n = oa_segments["segment"].value_counts()
        segments = [{**r, "n_oas": int(n.get(r["segment"], 0)), "file": file_stem(r["segment"])}
                    for r in segment_names.to_dict("records")]
    surveys = [(f"surveys/{s.name}/{s.name}_report.html", f"Survey: {s.label}") for s in cfg.surveys
               if (cfg.outputs / "surveys" / s.name / f"{s.name}_report.html").is_file()]  # docs/surveys.md
    html = _ENV.get_template("index.html.j2").render(
        title=f"Customer insight: {cfg.area_name}", run=cfg.run, services=services,
        links=[*surveys, *extra_links],
        segments=segments, attribution=cfg.attribution, warnings=list(warnings))
    path = cfg.outputs / "index.html"
    path.write_text(html, encoding="utf-8")
    return path


def write_pen_portraits(cfg: RunConfig, segment_names: pd.DataFrame, oa_segments: pd.DataFrame,
                        portraits: dict[str, str], pub: Publication, labels: dict[str, str]) -> list[Path]:
    """One page per segment: its description or pen portrait and every service's published row."""
    folder = cfg.outputs / "segments" / "portraits"
    folder.mkdir(parents=True, exist_ok=True)
    shown = {name: views["segment"].frame.set_index("segment_code") for name, views in pub.services.items()}
    n = oa_segments["segment"].value_counts()
    written = []
    for seg in segment_names.to_dict("records"):
        code = seg["segment"]
        rows = []
        for name, table in shown.items():
            if code in table.index:
                r = table.loc[code]
                rows.append({"name": name, "label": labels.get(name, name),
                             "report": report_path(cfg, name).relative_to(cfg.outputs).as_posix(),
                             **{c: r[c] for c in PORTRAIT_COLUMNS}})
        html = _ENV.get_template("portrait.html.j2").render(
            title=f"Segment {code}: {seg['segment_name']}", seg=seg, area=cfg.area_name,
            n_oas=int(n.get(code, 0)), portrait=portraits.get(code) or seg.get("description") or "",
            deprivation=deprivation_render.portrait_line(pub.run.get(deprivation_render.SHARES), code,
                                                         cfg.area_name),
            services=rows, symbol=pub.symbol, attribution=cfg.attribution)
        path = folder / f"segment_{file_stem(code)}.html"
        path.write_text(html, encoding="utf-8")
        written.append(path)
    return written
