"""Run every stage for one config, in the order of the stage queue `STAGES`:

geography -> ingest -> geocode -> segments -> assign -> quality -> profile -> surveys -> publish -> render

Each `Stage` names its step, the function that runs it over the typed `RunContext` (the
warehouse connection, the config and what the earlier stages made), and the function that checks,
before anything runs, what the stage will read (`check(cfg) -> list[Problem]`, kept beside the
stage's own code; `insight validate` runs them in queue order). `--until` and the progress bar
read the queue; nothing else lists the stages.

Record-level tables stay in the private warehouse (data/<run>/warehouse.duckdb); only
aggregates are written to outputs/<run>/.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from tqdm import tqdm

from pipeline import geocode, geography, ingest, privacy, summary
from pipeline.checks import Problem
from pipeline.config import RunConfig
from pipeline.ownership import claim
from pipeline.paths import make_private
from pipeline.warehouse import connect

if TYPE_CHECKING:  # the stages' results; their modules are imported when their stage is reached
    import duckdb

    from pipeline.ingest import IngestResult
    from pipeline.profiles.service import ProfileRun
    from pipeline.publish.tables import Publication
    from pipeline.quality import MatchReport
    from segments.build import SegmentResult

logger = logging.getLogger(__name__)


@dataclass
class RunContext:
    """What one run carries from stage to stage. Record-level data stays in the warehouse behind
    `con`; the fields hold the row accounting, the area classification and aggregates."""

    con: duckdb.DuckDBPyConnection
    cfg: RunConfig  # outputs_dir is the temporary folder the run builds its outputs in
    shared: Path | None = None  # where the outputs end up (pipeline.ownership.claim)
    notes: list[str] = field(default_factory=list)  # printed after the run's accounting
    ingested: dict[str, IngestResult] = field(default_factory=dict)  # service -> rows read, notes
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows read/matched/rejected (private)
    segments: SegmentResult | None = None  # the OA classification, codes and names
    report: MatchReport | None = None  # the match report (unsuppressed)
    computed: ProfileRun | None = None  # every profile view, unsuppressed (private)
    published: Publication | None = None  # what was shared, suppressed once
    reached: str | None = None  # the stage running, or the last one run
    spark: object | None = None  # engine: spark: the run's Spark side (pipeline.spark.stages.SparkRun)


@dataclass(frozen=True)
class Stage:
    """One step of the run: `run(ctx)` does it; `check(cfg)` lists the problems with what it will
    read, found before any stage runs (None: the stage reads nothing the config names)."""

    name: str
    run: Callable[[RunContext], None]
    check: Callable[[RunConfig], list[Problem]] | None = None


# --- the stages: each runs its module over the context --------------------------------------------


def _geography(ctx: RunContext) -> None:
    geography.run(ctx.con, ctx.cfg)


def _ingest(ctx: RunContext) -> None:
    if ctx.spark:  # engine: spark: CSV and Parquet extracts read by Spark (pipeline.spark.ingest)
        from pipeline.spark.ingest import run as spark_ingest

        ctx.ingested = spark_ingest(ctx.spark)
    else:
        ctx.ingested = ingest.run(ctx.con, ctx.cfg)
    ctx.notes += [n for r in ctx.ingested.values() for n in r.notes]


def _geocode(ctx: RunContext) -> None:
    outcomes = ctx.spark.geocode() if ctx.spark else geocode.run(ctx.con, ctx.cfg)
    ctx.summary = summary.account({k: r.rows for k, r in ctx.ingested.items()}, outcomes)
    summary.write(ctx.summary, ctx.cfg.private)
    ctx.notes += summary.unmatched_warnings(ctx.summary)


def _segments(ctx: RunContext) -> None:
    from segments.build import build_segments
    from segments.outputs import write_segments

    ctx.segments = build_segments(ctx.cfg)
    write_segments(ctx.cfg, ctx.segments)  # the OA classification is an area-level aggregate: shareable


def _assign(ctx: RunContext) -> None:
    from pipeline import assign  # imported when reached (a faster --until geocode)

    assign.store_segments(ctx.con, ctx.segments.assignments, ctx.segments.names)
    if ctx.spark:
        ctx.spark.assign()
    else:
        assign.run(ctx.con, ctx.cfg)


def _quality(ctx: RunContext) -> None:
    from pipeline import quality

    ctx.report = quality.run(ctx.con, ctx.cfg)
    ctx.summary = ctx.summary.merge(ctx.report.extras, on="service", how="left")
    summary.write(ctx.summary, ctx.cfg.private)


def _profile(ctx: RunContext) -> None:
    from pipeline import profiles

    ctx.computed = profiles.run(ctx.con, ctx.cfg)


def _surveys(ctx: RunContext) -> None:
    from pipeline.surveys import stage  # resident surveys: read, geocoded, weighted, estimated, published

    for result in stage.run(ctx.con, ctx.cfg).values():
        ctx.notes += [f"survey {result.name}: {n}" for n in result.notes]
        ctx.ingested[f"survey_{result.name}"] = result.ingest  # what was read: the privacy manifest


def _publish(ctx: RunContext) -> None:
    from pipeline.publish import publish, write_private

    write_private(ctx.cfg, ctx.computed, ctx.report, ctx.summary)
    ctx.published = publish(ctx.cfg, ctx.computed, ctx.report, ctx.summary)


def _render(ctx: RunContext) -> None:
    render(ctx.cfg, ctx.published)


# --- the checks: imported when `insight validate` asks, so validating stays light ------------------


def _check_geography(cfg: RunConfig) -> list[Problem]:
    return geography.check(cfg)


def _check_ingest(cfg: RunConfig) -> list[Problem]:
    return ingest.check(cfg)


def _check_geocode(cfg: RunConfig) -> list[Problem]:
    from pipeline.spark.session import problems

    return geocode.check(cfg) + problems(cfg)


def _check_segments(cfg: RunConfig) -> list[Problem]:
    from segments.check import check

    return check(cfg)


def _check_profile(cfg: RunConfig) -> list[Problem]:
    from pipeline.profiles.check import check

    return check(cfg)


def _check_surveys(cfg: RunConfig) -> list[Problem]:
    from pipeline.surveys.stage import check

    return check(cfg)


#: The stage queue: the order a run takes, and the order `insight validate` checks in.
STAGES: tuple[Stage, ...] = (
    Stage("geography", _geography, _check_geography),
    Stage("ingest", _ingest, _check_ingest),
    Stage("geocode", _geocode, _check_geocode),
    Stage("segments", _segments, _check_segments),
    Stage("assign", _assign),
    Stage("quality", _quality),
    Stage("profile", _profile, _check_profile),
    Stage("surveys", _surveys, _check_surveys),
    Stage("publish", _publish),
    Stage("render", _render),
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)


def stages_until(until: str) -> tuple[Stage, ...]:
    """The queue up to and including the stage named `until`."""
    if until not in STAGE_NAMES:
        from pipeline.config import UserError

        raise UserError(f"--until {until!r} is not a stage; the stages are {', '.join(STAGE_NAMES)}. "
                        "Fix: name one of them")
    return STAGES[: STAGE_NAMES.index(until) + 1]


@dataclass
class RunResult:
    summary: pd.DataFrame  # unsuppressed: for the terminal and the private folder
    profiles: dict  # (sub-)service -> view -> unsuppressed numeric frame (private)
    publication: Publication | None  # what was shared
    notes: list[str]
    computed: ProfileRun | None = None  # what publication took
    report: MatchReport | None = None  # unsuppressed
    segments: SegmentResult | None = None  # the area classification the run built or loaded


def run_all(cfg: RunConfig, until: str = "render", progress: bool = True, spark=None) -> RunResult:
    """Run the stages up to and including `until`; return the accounting and profiles.

    The run holds the locks of its folders throughout, refuses folders it does not own, and
    writes its outputs to a temporary folder that replaces outputs/<run>/ only when every stage
    has finished; a failed run leaves the previous outputs as they were (pipeline.ownership).
    `spark`: with engine: spark, a SparkSession to use (a notebook's) instead of one built from the
    config's spark block."""
    queue = stages_until(until)
    with claim(cfg) as work:  # `work`: cfg with outputs_dir set to the temporary folder
        return _run_stages(work, queue, progress, shared=Path(cfg.outputs), spark=spark)


def _spark_side(ctx: RunContext, given):
    """engine: spark: the run's Spark side (a session built from the config unless one is given);
    what would stop Spark is a UserError naming the fix before any JVM starts."""
    from pipeline.spark.session import problems, session
    from pipeline.spark.stages import SparkRun

    found = [] if given is not None else problems(ctx.cfg)
    if found:
        from pipeline.config import UserError

        raise UserError("; ".join(found))
    return SparkRun(session(ctx.cfg, given), ctx.con, ctx.cfg)


def _run_stages(cfg: RunConfig, queue: tuple[Stage, ...], progress: bool,
                shared: Path | None = None, spark=None) -> RunResult:
    """Run the queue; at the end, even a failed run's, write the privacy manifest (what was read,
    what the warehouse keeps and for how long) into the private folder."""
    ctx = RunContext(con=connect(cfg, fresh=True), cfg=cfg, shared=shared)
    bar = tqdm(queue, desc=f"{cfg.run}", unit="stage", disable=not progress, leave=False)
    try:
        changed = privacy.secret_record(cfg.private).get("warning")  # keys not comparable with the last run's
        if changed:
            logger.warning("%s", changed)
            ctx.notes.append(changed)
        if cfg.engine == "spark":
            ctx.spark = _spark_side(ctx, spark)
        for stage in bar:
            ctx.reached = stage.name
            bar.set_postfix_str(stage.name)
            logger.debug("stage %s", stage.name)
            stage.run(ctx)
    finally:
        try:
            privacy.record_run(ctx.con, cfg, ctx.ingested, ctx.reached,
                               failed=sys.exc_info()[0] is not None, shared=shared)
        finally:
            ctx.con.close()
            try:  # what DuckDB remade after a checkpoint (its .wal) too: 0600 / 0700
                make_private(cfg.private)
            except OSError as exc:  # never hides the run's own error
                logger.warning("Could not make every file of %s private (%s)", cfg.private, exc)
    views = {n: p.views for n, p in ctx.computed.services.items()} if ctx.computed else {}
    return RunResult(ctx.summary, views, ctx.published, ctx.notes, ctx.computed, ctx.report, ctx.segments)


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
