"""Build an open-data geodemographic classification of Output Areas (the ONS/UCL OAC method),
or load an existing one, and describe it.

Steps of the build, for the OAs being classified (the area's, or every OA in the census tables
with ``scope: census``):

1. values x (percentages of each variable's denominator; density in persons per hectare) from
   the census tables and the variable spec (`segments.variables`; config ``variables``,
   ``add_variables``, ``drop``, ``weights``);
2. asinh and range standardisation to 0..1 (`segments.transform`), times the variable weights;
3. supergroups by k-means minimising WCSS = sum_i ||z_i - c_{k(i)}||^2 with many starts
   (`segments.kmeans`), then groups within each supergroup and subgroups within each group
   (`segments.hierarchy`), coded ``1``, ``1a``, ``1a1``;
4. names, descriptions, colours and pen portraits (`segments.describe`, `segments.naming`,
   `segments.palette`), with the wards of the run's OA -> ward lookup; each OA's fit to its
   supergroup (`segments.fit`).

``method: lookup`` loads an existing classification (`segments.lookup`) and returns the same
`SegmentResult`, described on the census variables when the tables are there.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import Census, PostcodeDirectory, RunConfig, Segmentation
from pipeline.errors import UserValueError
from segments.census import CensusError, communal_share, households
from segments.describe import describe, grand_index, portrait_chart, read_names
from segments.fit import fit_table
from segments.hierarchy import LEVELS, MinSize, build_hierarchy, code_key
from segments.kmeans import REPORT_COLUMNS
from segments.lookup import load_lookup
from segments.naming import descriptor_problems, vocabulary
from segments.transform import fill_missing, read_reference, standardise
from segments.variables import SpecError, compute_percentages, load_spec

log = logging.getLogger(__name__)


@dataclass
class SegmentResult:
    """A classification of OAs and what describes it.

    assignments: oa21cd, supergroup ('1'..), group ('1a'..), subgroup ('1a1'..) where the tier
        exists, and ``segment`` (= supergroup, the default profiling level); one row per OA.
    names: level, segment, segment_name, description, colour; one row per code per level.
    centres: supergroup x variable centres in the standardised space (`level_centres`: all).
    variables: OA x variable, the standardised (asinh, 0..1, weighted) matrix clustered.
    wcss: supergroup within-cluster sum of squares in that space.
    values: OA x variable, the untransformed values (percentages, density).
    pen_portraits: level, segment, segment_name, households, oas, distinctive, description,
        colour, automatic_name.  grand_index: level, segment, variable, index.
        portrait_chart: each segment's ten most distinctive variables (`describe.CHART_COLUMNS`).
        fit: oa21cd, supergroup, distance, weak.  accounting: lookup rows by outcome (lookups
        only).  restarts: how each k-means fit reached its WCSS (`segments.kmeans.REPORT_COLUMNS`:
        starts, how many reached the best, the next-best distinct solution's gap).
    """

    assignments: pd.DataFrame
    names: pd.DataFrame
    centres: pd.DataFrame
    variables: pd.DataFrame
    wcss: float
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    method: str = "kmeans"
    level_centres: dict[str, pd.DataFrame] = field(default_factory=dict)
    pen_portraits: pd.DataFrame = field(default_factory=pd.DataFrame)
    grand_index: pd.DataFrame = field(default_factory=pd.DataFrame)
    fit: pd.DataFrame = field(default_factory=pd.DataFrame)
    labels: dict[str, str] = field(default_factory=dict)
    accounting: pd.DataFrame = field(default_factory=pd.DataFrame)
    portrait_chart: pd.DataFrame = field(default_factory=pd.DataFrame)
    restarts: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: OAs mostly of communal-establishment residents: assigned to their nearest segment, not
    #: clustered (`communal_oas`); and why a tier has fewer segments than asked (one line each)
    communal: pd.Index = field(default_factory=lambda: pd.Index([], dtype=object))
    notes: list[str] = field(default_factory=list)
    #: the seed check of `segments.outputs.write_diagnostics` (stability_seeds.csv), once run
    seeds: pd.DataFrame = field(default_factory=pd.DataFrame)


def variable_spec(seg_cfg: Segmentation) -> pd.DataFrame:
    """The spec with the config's additions, drops and weights applied (SpecError lists all)."""
    spec = load_spec(seg_cfg.variables)
    where = spec.attrs.get("path", "variable spec")
    if seg_cfg.add_variables is not None:
        extra = load_spec(seg_cfg.add_variables)
        clash = sorted(set(extra["variable"]) & set(spec["variable"]))
        if clash:
            raise SpecError(seg_cfg.add_variables,
                            [f"variable id(s) {clash} are already in {where}; rename them"])
        spec = pd.concat([spec, extra], ignore_index=True)
    known = set(spec["variable"])
    problems = [f"segmentation.drop: no variable {v!r} in the spec" for v in seg_cfg.drop
                if v not in known]
    problems += [f"segmentation.weights: no variable {v!r} in the spec"
                 for v in seg_cfg.weights if v not in known]
    if problems:
        raise SpecError(where, problems + [f"the variable ids are {sorted(known)}"])
    spec = spec[~spec["variable"].isin(seg_cfg.drop)].reset_index(drop=True)
    unnamed = descriptor_problems(spec)  # every variable a segment name could use has words
    if unnamed:
        raise SpecError(where if seg_cfg.add_variables is None
                        else f"{where} + {seg_cfg.add_variables}", unnamed)
    for v, w in seg_cfg.weights.items():
        spec.loc[spec["variable"] == v, "weight"] = float(w)
    if spec.empty:
        raise SpecError(where, ["segmentation.drop leaves no variables"])
    return spec


def census_profile(census_cfg: Census, seg_cfg: Segmentation, oas: pd.Index | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """(values, standardised matrix, variable labels) for the OAs (all in the tables, or `oas`)."""
    spec = variable_spec(seg_cfg)
    values = compute_percentages(census_cfg, spec, dropped=seg_cfg.drop)
    if oas is not None:
        inside = values.index.isin(oas)
        log.info("scope area: %d of the %d OAs in the census tables are in the area (%d OAs in "
                 "its boundary file)", int(inside.sum()), len(values), len(oas))
        values = values[inside]
    else:
        log.info("scope census: every OA in the census tables, %d OAs", len(values))
    values = fill_missing(values)
    weights = pd.Series(spec["weight"].to_numpy(), index=spec["variable"])
    reference = read_reference(seg_cfg.reference) if seg_cfg.reference else None
    matrix = standardise(values, weights, reference)
    labels = dict(zip(spec["variable"], spec["name"], strict=True))
    return values, matrix, labels


def _households(census_cfg: Census | None) -> pd.Series | None:
    if census_cfg is None:
        return None
    try:
        return households(census_cfg)
    except CensusError as exc:
        log.warning("segment sizes in households are not available: %s", exc)
        return None


def communal_oas(census_cfg: Census, oas: pd.Index, share: float | None) -> pd.Series:
    """True for each OA of `oas` whose usual residents are at least `share` percent in communal
    establishments (census TS001); all False with ``share`` None or without the table (a
    warning)."""
    flag = pd.Series(False, index=oas)
    if share is None:
        return flag
    try:
        pct = communal_share(census_cfg)
    except CensusError as exc:
        log.warning("communal establishments not recognised (segmentation.communal_share): %s",
                    exc)
        return flag
    return pct.reindex(oas).fillna(0.0).ge(share)


def assign_nearest(codes: pd.DataFrame, centres: dict[str, pd.DataFrame], matrix: pd.DataFrame
                   ) -> pd.DataFrame:
    """Rows of `codes` for the OAs of `matrix` (not clustered): at each tier the nearest centre
    among the children of the tier above (Euclidean, the standardised space)."""
    x = matrix.to_numpy(float)
    out = pd.DataFrame({"oa21cd": matrix.index.astype(str)})
    parent_of: dict[str, pd.Series] = {}
    for upper, level in zip(LEVELS, LEVELS[1:], strict=False):
        if level in codes:
            parent_of[level] = codes.drop_duplicates(level).set_index(level)[upper]
    above = None
    for level in [lv for lv in LEVELS if lv in codes]:
        c = centres[level]
        chosen = []
        for i, row in enumerate(x):
            cand = c.index if above is None else \
                [k for k in c.index if parent_of[level].get(k) == above[i]]
            d = ((c.loc[cand].to_numpy(float) - row) ** 2).sum(axis=1)
            chosen.append(str(list(cand)[int(np.argmin(d))]))
        out[level] = chosen
        above = chosen
    return out


def _finish(codes: pd.DataFrame, matrix: pd.DataFrame, values: pd.DataFrame,
            labels: dict[str, str], centres: dict[str, pd.DataFrame], wcss: float,
            seg_cfg: Segmentation, census_cfg: Census | None, method: str,
            names_file: Path | None, wards: pd.Series | None = None,
            communal: pd.Index | None = None) -> SegmentResult:
    codes = codes.sort_values("oa21cd").reset_index(drop=True)
    codes["segment"] = codes["supergroup"]
    vocab = vocabulary(variable_spec(seg_cfg)) if not matrix.empty else None
    named, pens = describe(codes, matrix, values, labels, read_names(names_file),
                           _households(census_cfg), vocabulary=vocab, wards=wards)
    fit = fit_table(codes, matrix, centres["supergroup"], communal) if not matrix.empty \
        else pd.DataFrame()
    return SegmentResult(assignments=codes, names=named,
                         centres=centres.get("supergroup", pd.DataFrame()), variables=matrix,
                         wcss=wcss, values=values, method=method, level_centres=centres,
                         pen_portraits=pens, grand_index=grand_index(codes, values), fit=fit,
                         labels=labels,
                         portrait_chart=portrait_chart(codes, matrix, values, labels, vocab))


def build_kmeans(census_cfg: Census, seg_cfg: Segmentation, seed: int,
                 oas: pd.Index | None = None, progress: bool = False,
                 wards: pd.Series | None = None) -> SegmentResult:
    """The three-tier k-means classification of the OAs (see the module docstring)."""
    t0 = time.perf_counter()
    values, matrix, labels = census_profile(census_cfg, seg_cfg, oas)
    n, p = matrix.shape
    communal = communal_oas(census_cfg, matrix.index, seg_cfg.communal_share)
    clustered = matrix[~communal.to_numpy()]
    if len(clustered) < seg_cfg.k:
        raise UserValueError(f"cannot make {seg_cfg.k} segments from {len(clustered)} output "
                             f"areas ({int(communal.sum())} more are communal establishments)")
    hh = _households(census_cfg)
    weights = None if hh is None else hh.reindex(clustered.index).fillna(0).to_numpy(float)
    report: list[dict] = []
    notes: list[str] = []
    codes, centres, wcss = build_hierarchy(
        clustered, seg_cfg.k, seg_cfg.k_groups, seg_cfg.k_subgroups, n_init=seg_cfg.n_init,
        seed=seed, n_init_lower=seg_cfg.n_init_lower, progress=progress, report=report,
        size=MinSize(seg_cfg.min_oas, seg_cfg.min_households, weights), notes=notes)
    if communal.any():
        extra = assign_nearest(codes, centres, matrix[communal.to_numpy()])
        near = centres["supergroup"].loc[extra["supergroup"]].to_numpy()
        wcss += float(((matrix[communal.to_numpy()].to_numpy() - near) ** 2).sum())
        codes = pd.concat([codes, extra], ignore_index=True)
        log.info("%d OA(s) with at least %g%% of residents in communal establishments: assigned "
                 "to their nearest segment, not clustered (oa_fit.csv: communal)",
                 int(communal.sum()), seg_cfg.communal_share)
    for line in notes:
        log.info("%s", line)
    restarts = pd.DataFrame(report, columns=REPORT_COLUMNS)
    log.info("k-means: %d OAs x %d variables, k=%d, seed=%d: supergroup WCSS %.3f in %.2fs; %s",
             n, p, seg_cfg.k, seed, wcss, time.perf_counter() - t0, restarts_line(restarts))
    result = _finish(codes, matrix, values, labels, centres, wcss, seg_cfg, census_cfg, "kmeans",
                     seg_cfg.names, wards, communal.index[communal.to_numpy()])
    result.restarts = restarts
    result.communal = communal.index[communal.to_numpy()]
    result.notes = notes
    return result


def restarts_line(restarts: pd.DataFrame) -> str:
    """The supergroup search in words: starts, how many reached the best, the next-best gap."""
    if restarts.empty:
        return "no k-means report"
    top = restarts.iloc[0]
    where = f" on a sample of {int(top['sample_oas']):,} OAs" if pd.notna(top["sample_oas"]) else ""
    if pd.isna(top["gap_pct"]):
        gap = "every start reached it"
    elif top["gap_pct"] < 0.001:  # another local optimum, as good to every figure a reader uses
        gap = "the next-best distinct solution found is under 0.001% higher"
    else:
        gap = f"the next-best distinct solution found is {top['gap_pct']:.3g}% higher"
    lower = restarts.iloc[1:]
    rest = (f"; lower tiers: {int(lower['starts'].sum()):,} starts in {len(lower)} splits, the best "
            f"reached by 2 or more starts in {int((lower['hits'] >= 2).sum())}" if len(lower) else "")
    return (f"supergroups: {int(top['starts']):,} k-means starts{where} ({STOPPED[top['stopped']]}), "
            f"the best WCSS reached by {int(top['hits'])}; {gap}{rest}")


#: Why a search stopped, in words.
STOPPED = {"hits": "stopped when several starts had reached the same best",
           "best stood": "stopped when the best had stood for as many starts again as it took to "
                         "find",
           "max starts": "stopped at the most starts allowed",
           "time cap": "stopped by the time cap",
           "fixed": "a fixed number of starts"}


def build_lookup(census_cfg: Census | None, seg_cfg: Segmentation,
                 postcodes: PostcodeDirectory | None = None,
                 wards: pd.Series | None = None) -> SegmentResult:
    """An existing classification, described on the census variables when the tables are there."""
    if seg_cfg.lookup is None:
        raise UserValueError("segmentation.method is 'lookup' but there is no segmentation.lookup")
    loaded = load_lookup(seg_cfg.lookup, postcodes)
    codes = loaded.codes
    values = matrix = pd.DataFrame()
    labels: dict[str, str] = {}
    if census_cfg is not None:
        try:
            values, matrix, labels = census_profile(census_cfg, seg_cfg)
        except (CensusError, SpecError) as exc:
            log.warning("the lookup classification is not described on the census: %s", exc)
    if not matrix.empty:
        inside = codes["oa21cd"].isin(matrix.index)
        if not inside.all():
            log.info("lookup: keeping %d of %d OAs (those in the census tables)",
                     int(inside.sum()), len(inside))
        codes = codes[inside].reset_index(drop=True)
        missing = matrix.index.difference(codes["oa21cd"])
        if len(missing):
            log.warning("lookup: %d census OA(s) have no code in the lookup", len(missing))
        matrix = matrix.loc[codes["oa21cd"]]
        values = values.loc[codes["oa21cd"]]
    centres: dict[str, pd.DataFrame] = {}
    wcss = float("nan")
    if not matrix.empty:
        for level in [lv for lv in LEVELS if lv in codes.columns]:
            c = matrix.groupby(codes[level].to_numpy()).mean()
            c = c.loc[sorted(c.index, key=code_key)]
            c.index.name = "segment"
            centres[level] = c
        diff = matrix.to_numpy() - centres["supergroup"].loc[codes["supergroup"]].to_numpy()
        wcss = float((diff**2).sum())
    result = _finish(codes, matrix, values, labels, centres, wcss, seg_cfg, census_cfg, "lookup",
                     seg_cfg.lookup.names or seg_cfg.names, wards)
    result.accounting = loaded.accounting
    return result


def build_segments_from(census_cfg: Census, seg_cfg: Segmentation, seed: int = 2021,
                        oas: pd.Index | None = None,
                        postcodes: PostcodeDirectory | None = None,
                        progress: bool = False, wards: pd.Series | None = None
                        ) -> SegmentResult:
    """Build (k-means) or load (lookup) the classification from the config sub-blocks;
    `wards` (ward name per OA) lets the pen portraits say where each segment is."""
    if seg_cfg.method == "lookup":
        return build_lookup(census_cfg, seg_cfg, postcodes, wards)
    return build_kmeans(census_cfg, seg_cfg, seed, oas, progress, wards)


class AreaError(UserValueError):
    """The area the config names cannot be classified (no boundary file, no OA in common with
    the census tables); the message names the file and the fix."""


OA_CODE = r"[EWSN]00\d{6}"


def _examples(codes, n: int = 3) -> str:
    codes = sorted(map(str, codes))
    return ", ".join(codes[:n]) + (" ..." if len(codes) > n else "")


def area_mismatch(cfg: RunConfig, census_oas: pd.Index, area: pd.Index) -> str:
    """The problem when none of the area's OAs (`area`, from the boundary file) is among the
    census tables' OAs: which file holds which codes, and the two fixes."""
    spec = cfg.geography.oa_boundaries
    not_oa = [c for c in area if not re.fullmatch(OA_CODE, str(c))]
    hint = ""
    if area.size and len(not_oa) == len(area):
        hint = (f" The codes in column {spec.code_column!r} do not look like Output Area codes "
                f"(E00......): is geography.oa_boundaries.code_column the OA code column?")
    return (f"geography.oa_boundaries: none of the {len(area)} OA codes in {spec.path} (column "
            f"{spec.code_column!r}: {_examples(area)}) is among the {len(census_oas)} area codes of "
            f"the census tables in {cfg.census.dir} ({_examples(census_oas)}), so scope: area "
            f"leaves 0 Output Areas to classify.{hint} Fix: point geography.oa_boundaries.path at "
            f"the boundaries of the census tables' area (or census.dir at the area's tables); or, "
            f"to classify every OA in the census tables, set segmentation.scope: census")


def area_oas(cfg: RunConfig) -> pd.Index:
    """The OA codes of the area's boundary file (read without geometry)."""
    import geopandas as gpd

    spec = cfg.geography.oa_boundaries
    frame = gpd.read_file(spec.path, layer=spec.layer, columns=[spec.code_column],
                          ignore_geometry=True)
    return pd.Index(frame[spec.code_column].astype(str).str.strip().unique())


def oa_wards(cfg: RunConfig) -> pd.Series | None:
    """Ward name (or code) per OA from the run's OA -> ward lookup; None without one."""
    spec = cfg.geography and cfg.geography.oa_to_ward
    if spec is None or not Path(spec.path).exists():
        return None
    from boundaries.loaders import GeographyError, load_oa_ward_lookup

    try:
        table = load_oa_ward_lookup(spec)
    except (GeographyError, OSError, ValueError) as exc:  # the geography stage reports it
        log.warning("pen portraits without wards: %s", exc)
        return None
    name = table["ward_name"].where(table["ward_name"].fillna("").astype(str).str.strip() != "",
                                    table["ward_code"])
    return pd.Series(name.to_numpy(), index=table["oa21cd"].to_numpy())


def build_segments(cfg: RunConfig, progress: bool = False) -> SegmentResult:
    """The run's classification, from cfg.census, cfg.segmentation, cfg.seed and, for
    ``scope: area``, the area's OAs (the OA boundary file); the pen portraits name wards from
    the OA -> ward lookup when there is one."""
    seg = cfg.segmentation
    oas = None
    if seg.method == "kmeans" and seg.scope == "area":
        path = Path(cfg.geography.oa_boundaries.path)
        if not path.is_file():
            raise AreaError(f"geography.oa_boundaries.path: no such file: {path}; with "
                            "segmentation.scope: area the build classifies the OAs of that file. "
                            "Fix: correct the path, or set segmentation.scope: census to classify "
                            "every OA in the census tables")
        oas = area_oas(cfg)
        if not oas.isin(_census_oas(cfg)).any():
            raise AreaError(area_mismatch(cfg, _census_oas(cfg), oas))
    postcodes = cfg.geography.postcode_directory if cfg.geography is not None else None
    return build_segments_from(cfg.census, seg, cfg.seed, oas=oas, postcodes=postcodes,
                               progress=progress, wards=oa_wards(cfg))


def scope_line(cfg: RunConfig) -> str:
    """What the build will classify, for the start of a run: the scope and the number of census
    OAs in the area (the households table's OAs; every census table of a run covers them)."""
    seg = cfg.segmentation
    census = _census_oas(cfg)
    if seg.method == "lookup":
        return (f"{cfg.run}: method lookup ({seg.lookup.path if seg.lookup else 'no lookup'}); "
                f"the census tables in {cfg.census.dir} hold {len(census):,} OAs")
    if seg.scope == "census":
        return (f"{cfg.run}: scope census: classifying every OA in the census tables in "
                f"{cfg.census.dir}: {len(census):,} OAs")
    area = area_oas(cfg)
    inside = int(area.isin(census).sum())
    return (f"{cfg.run}: scope area: classifying the OAs of {cfg.geography.oa_boundaries.path}: "
            f"{inside:,} of its {len(area):,} OAs are among the {len(census):,} OAs of the census "
            f"tables in {cfg.census.dir}")


def _census_oas(cfg: RunConfig) -> pd.Index:
    """The OA codes of the households table (every census table of a run covers the same OAs)."""
    return pd.Index(households(cfg.census).index.astype(str))


__all__ = ["SegmentResult", "AreaError", "area_mismatch", "scope_line", "build_segments",
           "build_segments_from", "build_kmeans", "build_lookup", "census_profile",
           "variable_spec", "area_oas", "oa_wards"]
