"""The segments stage's check: what `insight validate` asks of the classification's inputs, by the
build's own rules, before any stage runs.

* the Nomis households table (TS041), which the build weights by and every profile is based on;
* for `method: kmeans`: the variable spec with the config's `drop` / `weights`, the census
  categories it needs, and `k` of every tier against the area's Output Areas;
* the names, reference-range and lookup files (an external classification's columns, and its
  UPRN -> OA link).

Each problem names the config key and the file, repeats the value, lists what is allowed and ends
with the fix (`pipeline.checks`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.checks import Problem, csv_columns, need_columns, with_fix
from pipeline.config import RunConfig, Segmentation


def _households_problems(cfg: RunConfig) -> list[Problem]:
    from segments.census import CensusError, households

    if not Path(cfg.census.dir).is_dir():
        return []  # missing_files names the folder, once
    try:
        households(cfg.census)
    except CensusError as exc:
        return with_fix(exc.problems, "set census.households_table to the Nomis TS041 table, or "
                        "fix census.dir and census.pattern", "census.households_table")
    return []


def _spec_problems(exc) -> list[Problem]:
    """A SpecError's problems, located in the spec file; an unknown drop/weights id is given the
    list of the spec's ids; each with a fix."""
    ids = [p for p in exc.problems if p.startswith("the variable ids are")]
    known = f"; {ids[0]}" if ids else ""
    located = [p.replace(" in the spec", f" in the spec {exc.path}", 1) + known if " in the spec" in p
               else f"{exc.path}: {p}" for p in exc.problems if p not in ids]
    return with_fix(located, "use variable ids of the spec in segmentation.drop and weights, or "
                             "correct the spec file")


def _area_oa_count(cfg: RunConfig, census_oas: pd.Index) -> int | None:
    """The Output Areas the build will classify: the area's (in the census tables) or every OA of
    the census tables (`scope: census`); None when the boundary file cannot say (the geography
    stage's check reports why)."""
    from segments.build import area_oas

    if cfg.segmentation.scope == "census":
        return len(census_oas)
    import pyogrio

    spec = cfg.geography.oa_boundaries
    if not Path(spec.path).exists():
        return None
    try:  # a layer the geography stage's check finds wanting (no CRS, no code column) cannot say
        info = pyogrio.read_info(spec.path, layer=spec.layer)
        if info["crs"] is None or spec.code_column not in [str(f) for f in info["fields"]]:
            return None
        area = area_oas(cfg)
    except Exception:  # noqa: BLE001 - pyogrio and geopandas raise many types; geography.check names them
        return None
    return len(census_oas.intersection(area))


def _tier_sizes(seg: Segmentation) -> list[tuple[str, int, list[str]]]:
    """(tier, clusters in all, mapping keys naming no parent) of the group and subgroup tiers, with
    the codes and defaults of segments.hierarchy."""
    from segments.hierarchy import code_suffix, k_for

    parents, out = [str(i + 1) for i in range(seg.k)], []
    for tier, k in (("group", seg.k_groups), ("subgroup", seg.k_subgroups)):
        if k is None:
            break
        default = k if isinstance(k, int) else 2
        unknown = sorted(set(k) - set(parents)) if isinstance(k, dict) else []
        parents = [p + code_suffix(tier, j) for p in parents for j in range(k_for(k, p, default))]
        out.append((tier, len(parents), unknown))
    return out


def tier_problems(seg: Segmentation, n: int | None) -> list[Problem]:
    """`k` of every tier against the `n` Output Areas classified (None: not known): no tier can
    have more clusters than OAs; a per-parent mapping names only codes the tier above makes."""
    if n is not None and seg.k > n:
        return [f"segmentation.k: {seg.k} supergroups cannot be made from the {n} Output Areas of the "
                f"area; k must be from 2 to {min(n, 30)}. Fix: lower segmentation.k"]
    problems = []
    for tier, total, unknown in _tier_sizes(seg):
        key, parent = f"segmentation.k_{tier}s", "supergroup" if tier == "group" else "group"
        if unknown:
            problems.append(f"{key}: {unknown} are not {parent} codes this build makes (k={seg.k}). "
                            f"Fix: key the mapping by {parent} codes, such as "
                            f"{'1, 2' if tier == 'group' else '1a, 1b'}")
        if n is not None and total > n:
            problems.append(f"{key}: {total} {tier}s in all cannot be made from the {n} Output Areas of "
                            f"the area. Fix: lower {key}, or set it to null for no {tier} tier")
    return problems


def classification_problems(cfg: RunConfig) -> list[Problem]:
    """The variable spec with the config's drop/weights, the census categories it needs, and k."""
    from segments.build import area_mismatch, area_oas, variable_spec
    from segments.census import CensusError
    from segments.variables import SpecError, compute_percentages

    seg = cfg.segmentation
    if seg.method != "kmeans" or any(p is not None and not Path(p).exists()
                                     for p in (seg.variables, seg.add_variables)):
        return []  # a missing spec file is reported by missing_files
    if not Path(cfg.census.dir).is_dir():
        return tier_problems(seg, None)  # missing_files names the census folder, once
    try:
        values = compute_percentages(cfg.census, variable_spec(seg), dropped=seg.drop)
    except SpecError as exc:
        return _spec_problems(exc) + tier_problems(seg, None)
    except CensusError as exc:
        fix = "name categories the table has in the variable spec (segmentation.variables, " \
              "add_variables), or point census.dir and census.pattern at the Nomis bulk CSVs it needs"
        return with_fix(exc.problems, fix, "census") + tier_problems(seg, None)
    n = _area_oa_count(cfg, values.index)
    if n == 0:
        return [area_mismatch(cfg, values.index, area_oas(cfg))]
    return tier_problems(seg, n)


def _names_problems(key: str, path: Path | None) -> list[Problem]:
    """A names file reads as segments.describe reads it: columns code,name[,description]."""
    from segments.describe import read_names

    if path is None or not Path(path).exists():
        return []
    try:
        read_names(path)
    except (ValueError, UnicodeDecodeError, IsADirectoryError) as exc:
        return with_fix([f"{key}: {exc}"], f"give {path} a header row code,name (description "
                        "optional) and one row per segment code")
    return []


def _lookup_problems(cfg: RunConfig) -> list[Problem]:
    """An external classification's file (and key -> OA link) has the configured columns."""
    lk = cfg.segmentation.lookup
    if lk is None:
        return []
    problems = []
    if lk.key == "uprn" and lk.to_oa is None:
        problems.append("segmentation.lookup.to_oa: a UPRN-keyed lookup needs to_oa (a CSV linking each "
                        "UPRN to its Output Area). Fix: add to_oa: {path, key_column, oa_column}")
    if Path(lk.path).is_file():
        have = csv_columns(Path(lk.path), "utf-8-sig", strip=True)  # as segments.lookup reads it
        problems += need_columns("segmentation.lookup", Path(lk.path), have,
                                 {"key_column": lk.key_column, "code_column": lk.code_column,
                                  "group_column": lk.group_column, "subgroup_column": lk.subgroup_column})
    if lk.to_oa is not None and Path(lk.to_oa.path).is_file():
        have = csv_columns(Path(lk.to_oa.path), "utf-8-sig", strip=True)
        problems += need_columns("segmentation.lookup.to_oa", Path(lk.to_oa.path), have,
                                 {"key_column": lk.to_oa.key_column, "oa_column": lk.to_oa.oa_column})
    return problems + _names_problems("segmentation.lookup.names", lk.names)


def segmentation_file_problems(cfg: RunConfig) -> list[Problem]:
    """Names, reference-range and lookup files."""
    from segments.transform import read_reference

    seg = cfg.segmentation
    problems = _names_problems("segmentation.names", seg.names) + _lookup_problems(cfg)
    if seg.reference is not None:
        try:
            read_reference(seg.reference)
        except (ValueError, FileNotFoundError, IsADirectoryError) as exc:
            problems += with_fix([f"segmentation.reference: {exc}"],
                                 "give the file the columns variable,min,max with numbers for min and max")
    return problems


def check(cfg: RunConfig) -> list[Problem]:
    """The households table, the classification's variables and k, and its files."""
    return _households_problems(cfg) + classification_problems(cfg) + segmentation_file_problems(cfg)
