"""Stage 6, publish: the one place where suppression is decided.

Input: the run's unsuppressed tables (each (sub-)service's profile views and count graph, the
households using any service, the match report, the run summary). For each (sub-)service the
match report and run summary counts join its count graph (:mod:`pipeline.publish.quality`), the
graph is solved once (:class:`pipeline.publish.suppression.Disclosure`: primary, secondary and the
linear-algebra audit), and every table is turned into display values with the hidden cells as the
symbol (and counts rounded under the ONS rule). Output: a :class:`Publication`, which is all that
render may read. The unsuppressed tables are written to the private folder only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pipeline.config import RunConfig, Suppression
from pipeline.escape import spreadsheet_frame
from pipeline.paths import private_folder, private_writes
from pipeline.profiles import crossservice, deprivation, gaps, outcomes
from pipeline.profiles.service import ProfileRun, ServiceProfile
from pipeline.profiles.table import round_half_up
from pipeline.publish import quality as pub_quality
from pipeline.publish.display import display
from pipeline.publish.notes import run_notes, warnings
from pipeline.publish.suppression import Disclosure, round_count, rounding
from pipeline.publish.tables import Publication, PublishedTable

logger = logging.getLogger(__name__)


def _flags(prof: ServiceProfile, view: str, hidden: set) -> list[bool]:
    """Per row of a view: is its count withheld."""
    if view in prof.derived:
        parts = prof.derived[view]
        rows = len(prof.views[view])
        return [True] * rows if parts is None else [any(k in hidden for k in ks) for ks in parts]
    flags = [k in hidden for k in prof.keys[view]]
    if view in prof.previous:
        flags = [f or (p is not None and p in hidden)
                 for f, p in zip(flags, prof.previous[view], strict=True)]
    return flags


def _flagged(prof: ServiceProfile, hidden: set) -> dict[str, pd.DataFrame]:
    """Every view with its `suppressed` column (target lists ranked on what is published)."""
    out = {}
    for view, frame in prof.views.items():
        frame = frame.assign(suppressed=_flags(prof, view, hidden))
        if view == "targets_ward":
            frame = gaps.rank(frame, frame["suppressed"])[0]
        out[view] = frame
    return out


def _cells_shown(frame: pd.DataFrame, cells: dict[str, list], hidden: set, rule: Suppression) -> pd.DataFrame:
    """An outcome view's display strings, masked cell by cell: a count shows the symbol where its
    key is hidden, a rate, mean, interval or call where any count it derives from is
    (outcomes.DERIVED). Under the ONS rule counts are rounded and the rates recomputed from them."""
    base = rounding(rule)
    if base > 1:
        frame = outcomes.rounded(frame, base)
    shown = outcomes.format_frame(frame.drop(columns="suppressed"))
    masks = {col: pd.Series([k in hidden for k in keys]) for col, keys in cells.items()}
    for col, sources in outcomes.DERIVED.items():
        if col in shown:
            masks[col] = pd.concat([masks[s] for s in sources if s in masks], axis=1).any(axis=1)
    for col, m in masks.items():
        shown[col] = shown[col].astype(object).where(~m.to_numpy(), rule.symbol)
    return shown


def _text(v) -> str:
    """A display value as text ('' for a missing one: None, NaN or NA)."""
    if isinstance(v, str):
        return v
    return "" if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) else str(v)


def table(shown: pd.DataFrame, rows_hidden: pd.Series | None, path: str, rule: Suppression,
          notes: list[str]) -> PublishedTable:
    """A PublishedTable from display strings: a cell is hidden where it shows the symbol on a
    withheld row (or anywhere, for tables masked cell by cell)."""
    shown = shown.reset_index(drop=True)
    for col in shown.columns:
        shown[col] = shown[col].map(_text)
    is_symbol = shown.eq(rule.symbol)
    if rows_hidden is not None:
        is_symbol = is_symbol & pd.DataFrame({c: rows_hidden.to_numpy(dtype=bool) for c in shown.columns})
    return PublishedTable(shown, is_symbol, path, rule.symbol, list(notes))


def publish(cfg: RunConfig, profiles: ProfileRun, report, summary: pd.DataFrame) -> Publication:
    """Decide suppression once, across every shareable table of the run."""
    rule = cfg.suppression
    notes = run_notes(cfg)
    main = {s.name for s in cfg.services}
    services: dict[str, dict[str, PublishedTable]] = {}
    hidden_by_service: dict[str, set] = {}
    segments: dict[str, pd.DataFrame] = {}
    for name, prof in profiles.services.items():
        if name in main:
            pub_quality.register(prof.graph, name, report, summary)
        hidden = Disclosure(prof.graph, rule).hidden()
        if name in main:
            hidden_by_service[name] = hidden
        folder = name.split("__")[0]
        services[name] = {}
        for view, frame in _flagged(prof, hidden).items():
            if view == deprivation.GRADIENT and rounding(rule) > 1:  # ONS rule: from the rounded counts
                frame = rounded_gradient(prof.views["deprivation_imd"], rounding(rule), frame)
            if view in prof.cells:  # masked cell by cell (outcomes)
                services[name][view] = table(_cells_shown(frame, prof.cells[view], hidden, rule), None,
                                             f"{folder}/{name}_profile_{view}.csv", rule,
                                             [*notes, outcomes.MULTIPLE_COMPARISONS_NOTE])
                continue
            shown = display(view, frame, rule)
            services[name][view] = table(shown, frame["suppressed"].reset_index(drop=True),
                                         f"{folder}/{name}_profile_{view}.csv", rule,
                                         [*notes, *prof.notes.get(view, [])])
            services[name][view].incomplete = view in prof.incomplete
            if view == "segment" and name in main:
                segments[name] = frame
    any_hidden = Disclosure(profiles.any_service.graph, rule).hidden()
    segments["any_service"] = _flagged(profiles.any_service, any_hidden)["segment"]
    matrix = crossservice.matrix(segments)
    run = {"cross_service": table(display("cross_service", matrix, rule), matrix["suppressed"],
                                  "cross_service/cross_service_profile_segment.csv", rule, notes)}
    run |= _quality_tables(report, summary, hidden_by_service, rule, notes)
    if profiles.segment_deprivation is not None:  # census households only: nothing to hide (issue 28)
        run["segment_deprivation"] = table(shares_shown(profiles.segment_deprivation), None,
                                           "segments/segment_deprivation.csv", rule, notes)
    return Publication(services, run, rule.symbol, notes, warnings(cfg))


def rounded_gradient(deciles: pd.DataFrame, base: int, frame: pd.DataFrame) -> pd.DataFrame:
    """The gradient recomputed from the decile counts as the ONS rule publishes them (rounded to
    `base`), so it reveals nothing finer than the published counts; `suppressed` kept."""
    body = deciles[deciles["segment_code"] != "Total"]
    counts = body.assign(service_count=[round_count(v, base) for v in body["service_count"]])
    return deprivation.gradient_frame(counts).assign(suppressed=frame["suppressed"].to_numpy())


def shares_shown(shares: pd.DataFrame) -> pd.DataFrame:
    """The segments' shares of households in the most deprived LSOAs as display strings (2 dp)."""
    out = shares.astype(object).copy()
    for col in [c for c in out.columns if c.startswith("pct_")]:
        out[col] = [round_half_up(v, 2) for v in shares[col]]
    out["households"] = shares["households"].map(str)
    return out


def _quality_tables(report, summary, hidden, rule, notes) -> dict[str, PublishedTable]:
    frames = {
        "match_levels": pub_quality.match_levels(report, hidden, rule),
        "corrections": pub_quality.corrections(report, hidden, rule),
        "match_by_ward": pub_quality.match_by(report.match_by_ward, "ward_code", "ward", hidden, rule),
        "match_by_segment": pub_quality.match_by(report.match_by_segment, "segment", "segment", hidden, rule),
    }
    out = {name: table(f, None, f"quality/{name}.csv", rule, notes) for name, f in frames.items()}
    out["run_summary"] = table(pub_quality.summary(summary, hidden, rule), None, "run_summary.csv", rule,
                               notes)
    return out


def write_private(cfg: RunConfig, profiles: ProfileRun, report, summary: pd.DataFrame) -> Path:
    """The unsuppressed tables, for the analyst, in data/<run>/ (never shared)."""
    folder = private_folder(cfg.private / "profiles")
    quality = private_folder(cfg.private / "quality")
    with private_writes(folder, quality):  # 0600 files in 0700 folders, whatever the umask
        for name, prof in {**profiles.services, "any_service": profiles.any_service}.items():
            for view, frame in prof.views.items():
                shown = outcomes.format_frame(frame) if view in prof.cells else display(view, frame, None)
                spreadsheet_frame(shown).to_csv(folder / f"{name}_profile_{view}.csv",
                                              index=False)
        for name, frame in report.tables().items():
            spreadsheet_frame(frame).to_csv(quality / f"{name}.csv", index=False)
    return folder
