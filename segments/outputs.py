"""Write the classification to outputs/<run>/segments/ (area aggregates only: shareable).

`write_segments` (every run):

=========================  ===================================================================
segments_oa.csv            oa21cd, segment, supergroup[, group, subgroup]
segment_names.csv          level, segment, segment_name, description, colour
pen_portraits.csv          level, segment, segment_name, households, oas, distinctive,
                           description (the pen portrait), colour, automatic_name
grand_index.csv            level, segment, variable, name, index (100 = as in the area)
portrait_chart.csv         level, segment, rank, variable, label, index, score: the data of a
                           grand-index chart per segment (its ten most distinctive variables)
centres.csv                level, segment, one column per variable (standardised space)
oa_fit.csv                 oa21cd, supergroup, distance, weak (worst-fitting 5%)
names_template.csv         code, level, name, description (the names and portraits in use):
                           copy, edit and set as ``segmentation.names``
lookup_accounting.csv      lookups only: rows of the lookup file by outcome
=========================  ===================================================================

`write_diagnostics` (``make segments``) adds choose_k.csv / choose_k.png (WCSS, silhouette,
Calinski-Harabasz for k = 2..15), clustergram.png, stability_seeds.csv and
stability_bootstrap.csv (every tier: groups and subgroups resampled within their parent), and
each segment's stability to segment_names.csv and pen_portraits.csv (a caution in a weak one's
portrait).  Above 40,000 OAs choosing k, the clustergram and the
bootstrap use a seeded sample of 20,000 OAs (the ``oas`` and ``sample_oas`` columns say so);
the seed check rebuilds the supergroups of every OA.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import RunConfig
from pipeline.escape import spreadsheet_frame
from segments.build import SegmentResult
from segments.describe import levels_of, names_template
from segments.diagnostics import k_diagnostics, plot_choose_k, plot_clustergram
from segments.fit import (
    WEAK_JACCARD,
    bootstrap_stability,
    bootstrap_within,
    flag_weak,
    jaccard_text,
    seed_agreement,
    seed_line,
)

log = logging.getLogger(__name__)


def segments_folder(cfg: RunConfig) -> Path:
    folder = cfg.outputs / "segments"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _csv(frame: pd.DataFrame, path: Path) -> None:
    """Write *frame* with every text cell a spreadsheet would run as a formula neutralised
    (segment names and descriptions come from a names file or a lookup, so they are data)."""
    spreadsheet_frame(frame).to_csv(path, index=False, lineterminator="\n", float_format="%.6g")


def write_segments(cfg: RunConfig, result: SegmentResult) -> Path:
    """The classification tables (see the module docstring); returns the folder."""
    folder = segments_folder(cfg)
    a = result.assignments
    _csv(a[["oa21cd", "segment", *levels_of(a)]], folder / "segments_oa.csv")
    _csv(result.names, folder / "segment_names.csv")
    _csv(result.pen_portraits, folder / "pen_portraits.csv")
    _csv(names_template(result.names), folder / "names_template.csv")
    if len(result.grand_index):
        gi = result.grand_index.copy()
        gi.insert(3, "name", gi["variable"].map(result.labels))
        _csv(gi, folder / "grand_index.csv")
    if len(result.portrait_chart):
        _csv(result.portrait_chart, folder / "portrait_chart.csv")
    if result.level_centres:
        frames = [c.reset_index().assign(level=lv) for lv, c in result.level_centres.items()]
        centres = pd.concat(frames, ignore_index=True)
        _csv(centres[["level", "segment", *result.variables.columns]], folder / "centres.csv")
    if len(result.fit):
        _csv(result.fit, folder / "oa_fit.csv")
    if len(result.accounting):
        _csv(result.accounting, folder / "lookup_accounting.csv")
    if len(result.restarts):
        _csv(result.restarts, folder / "restarts.csv")
    return folder


#: Above twice this many OAs, choosing k and the bootstrap run on a seeded sample of this many.
DIAGNOSTIC_SAMPLE = 20_000


def diagnostic_rows(n: int, seed: int, sample: int = DIAGNOSTIC_SAMPLE) -> np.ndarray:
    """Row positions the k and bootstrap diagnostics use: all, or a seeded sample at national
    scale (more than twice `sample` OAs)."""
    if n <= 2 * sample:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))


def write_diagnostics(cfg: RunConfig, result: SegmentResult, seeds: int = 5,
                      resamples: int = 20, progress: bool = False) -> Path:
    """Choosing-k table and figures, clustergram, stability across seeds and by bootstrap."""
    folder = segments_folder(cfg)
    matrix = result.variables
    if matrix.empty:
        log.warning("no census variables: the diagnostics need the census tables")
        return folder
    seg = cfg.segmentation
    n_init = min(seg.n_init, 20)
    matrix = matrix.loc[result.assignments["oa21cd"]]
    sg = result.assignments["supergroup"].reset_index(drop=True)
    rows = diagnostic_rows(len(matrix), cfg.seed)
    if len(rows) < len(matrix):
        log.info("choosing k and the bootstrap on a seeded sample of %d of the %d OAs (stated "
                 "in choose_k.csv and stability_bootstrap.csv); the seed check on them all",
                 len(rows), len(matrix))
    sample = matrix.iloc[rows]
    table, labels = k_diagnostics(sample, n_init=n_init, seed=cfg.seed, progress=progress)
    table["oas"] = len(sample)
    _csv(table, folder / "choose_k.csv")
    k = result.assignments["supergroup"].nunique()
    plot_choose_k(table, folder / "choose_k.png", chosen=k)
    plot_clustergram(sample, labels, folder / "clustergram.png")
    lab = sg.astype(int).to_numpy() - 1 if sg.str.isdigit().all() else pd.factorize(sg)[0]
    seeds_table = seed_agreement(matrix, lab, k, seg.n_init, cfg.seed, seeds, progress=progress)
    _csv(seeds_table, folder / "stability_seeds.csv")
    result.seeds = seeds_table
    boot = bootstrap_stability(sample, sg.iloc[rows].reset_index(drop=True), k, n_init=n_init,
                               seed=cfg.seed, resamples=resamples, progress=progress)
    boot.insert(0, "level", "supergroup")
    tiers = [lv for lv in ("group", "subgroup") if lv in result.assignments]
    codes = result.assignments.iloc[rows].reset_index(drop=True)
    for parent, level in zip(["supergroup", *tiers], tiers, strict=False):
        boot = pd.concat([boot, bootstrap_within(sample, codes, level, parent, n_init=n_init,
                                                 seed=cfg.seed, resamples=resamples)],
                         ignore_index=True)
    boot["sample_oas"] = len(sample)
    _csv(boot, folder / "stability_bootstrap.csv")
    result.names = flag_weak(result.names, boot, resamples)
    result.pen_portraits = flag_weak(result.pen_portraits, boot, resamples)
    _csv(result.names, folder / "segment_names.csv")
    _csv(result.pen_portraits, folder / "pen_portraits.csv")
    weak = boot[boot["stability"] == "weak"]
    for row in weak.itertuples(index=False):
        log.warning("%s %s is weak: bootstrap Jaccard %s (below %.1f); its pen portrait says so",
                    row.level, row.segment, jaccard_text(row.jaccard), WEAK_JACCARD)
    if seed_line(seeds_table):
        log.warning("seed check: %s", seed_line(seeds_table))
    return folder
