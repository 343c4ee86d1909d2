"""Run every stage for one config: geography -> ingest -> geocode -> segments/assign -> profile ->
publish -> render.

Record-level tables stay in the private warehouse (data/<run>/warehouse.duckdb); only
aggregates are written to outputs/<run>/.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from pipeline import geocode, geography, ingest, privacy, summary
from pipeline.config import RunConfig
from pipeline.ownership import claim
from pipeline.warehouse import connect

logger = logging.getLogger(__name__)

STAGES = ("geography", "ingest", "geocode", "segments", "assign", "profile", "publish", "render")


@dataclass
class RunResult:
    summary: pd.DataFrame  # unsuppressed: for the terminal and the private folder
    profiles: dict  # (sub-)service -> view -> unsuppressed numeric frame (private)
    publication: object | None  # pipeline.publish.Publication: what was shared
    notes: list[str]
    computed: object | None = None  # pipeline.profiles.ProfileRun: what publication took
    report: object | None = None  # pipeline.quality.MatchReport (unsuppressed)


def build_segments(cfg: RunConfig):
    from segments.build import build_segments as build

    return build(cfg)


def write_segments(cfg: RunConfig, result) -> None:
    """The OA classification is an area-level aggregate: shareable (segments.outputs)."""
    from segments.outputs import write_segments as write

    write(cfg, result)


def run_all(cfg: RunConfig, until: str = "render", progress: bool = True) -> RunResult:
    """Run the stages up to and including `until`; return the accounting and profiles.

    The run holds the locks of its folders throughout, refuses folders it does not own, and
    writes its outputs to a temporary folder that replaces outputs/<run>/ only when every stage
    has finished; a failed run leaves the previous outputs as they were (pipeline.ownership)."""
    with claim(cfg) as work:  # `work`: cfg with outputs_dir set to the temporary folder
        return _run_stages(work, until, progress, shared=Path(cfg.outputs))


def _run_stages(cfg: RunConfig, until: str, progress: bool, shared: Path | None = None) -> RunResult:
    """Run the stages; at the end, even a failed run's, write the privacy manifest (what was read,
    what the warehouse keeps and for how long) into the private folder. `shared`: where the
    outputs end up (cfg.outputs is the temporary folder they are built in)."""
    con = connect(cfg, fresh=True)
    stages = STAGES[: STAGES.index(until) + 1]
    bar = tqdm(stages, desc=f"{cfg.run}", unit="stage", disable=not progress, leave=False)
    notes: list[str] = []
    published = computed = None
    summ = pd.DataFrame()
    ingested: dict = {}
    reached = None
    try:
        for stage in bar:
            reached = stage
            bar.set_postfix_str(stage)
            if stage == "geography":
                geography.run(con, cfg)
            elif stage == "ingest":
                ingested = ingest.run(con, cfg)
                notes += [n for r in ingested.values() for n in r.notes]
            elif stage == "geocode":
                outcomes = geocode.run(con, cfg)
                summ = summary.account({k: r.rows for k, r in ingested.items()}, outcomes)
                summary.write(summ, cfg.private)
                notes += summary.unmatched_warnings(summ)
            elif stage == "segments":
                seg = build_segments(cfg)
                write_segments(cfg, seg)
            elif stage == "assign":
                from pipeline import assign, quality  # imported when reached (faster --until geocode)

                assign.store_segments(con, seg.assignments, seg.names)
                assign.run(con, cfg)
                report = quality.run(con, cfg)  # the match report
                summ = summ.merge(report.extras, on="service", how="left")
                summary.write(summ, cfg.private)
            elif stage == "profile":
                from pipeline import profiles

                computed = profiles.run(con, cfg)
            elif stage == "publish":
                from pipeline.publish import publish, write_private

                write_private(cfg, computed, report, summ)
                published = publish(cfg, computed, report, summ)
            elif stage == "render":
                render(cfg, published)
    finally:
        try:
            privacy.record_run(con, cfg, ingested, reached, failed=sys.exc_info()[0] is not None,
                               shared=shared)
        finally:
            con.close()
    views = {n: p.views for n, p in computed.services.items()} if computed else {}
    return RunResult(summ, views, published, notes, computed, report if computed else None)


def labels(cfg: RunConfig) -> dict[str, str]:
    """The label of every (sub-)service: 'Garden waste (Recycling bags)' for an option."""
    out = {s.name: s.label for s in cfg.services}
    for s in cfg.services:
        for opt in s.options:
            out[f"{s.name}__{ingest.option_column(opt).removeprefix('option_')}"] = f"{s.label} ({opt})"
    return out


def render(cfg: RunConfig, published) -> list:
    """The render stage: every shareable file of the run from its Publication."""
    from pipeline.render.stage import run as render_stage

    oas, wards = geography.load_areas(cfg)
    return render_stage(cfg, published, wards, labels(cfg), oas=oas)
