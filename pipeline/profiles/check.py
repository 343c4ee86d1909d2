"""The profile stage's check: what `insight validate` asks of the profiles' inputs, by the stage's
own rules: each service's base (a census table and its columns, `census_base`), each
`equality.codes` / `age_bands` entry against the categories the equality profiles recognise, and
each service point's grid reference (`access.points_problems`).

`equality_code_report` reads the extracts' equality columns and lists the codes the profile will
not recognise; those lines name codes, so they go to the terminal only, never to the outputs.
Imported by `insight validate`: this module loads the heavy parts of the stage (scipy) only for
services that ask for them.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from pipeline.checks import Problem, Unreadable, with_fix
from pipeline.config import EQUALITY_FIELDS, RunConfig

logger = logging.getLogger(__name__)


def base_problems(cfg: RunConfig) -> list[Problem]:
    """The census table and columns of each service's base."""
    from segments.census import CensusError

    problems = []
    for i, service in enumerate(cfg.services):
        if service.base == "households":
            continue
        from pipeline.profiles.levels import census_base  # the stage's own reading

        where = f"services[{i}].base ({service.name})"
        try:
            census_base(cfg, service.base)
        except CensusError as exc:
            problems += with_fix(exc.problems, "add the table to census.dir, or choose another base", where)
        except (ValueError, IndexError, KeyError) as exc:
            fix = "name columns the table has (census:<table>:<column>|<column>), or use households, " \
                  "residents or adults"
            problems += with_fix([str(exc)], fix, where)
    return problems


def equality_map_problems(cfg: RunConfig) -> list[Problem]:
    """Each `equality.codes` entry maps to a category (or age band) the profile recognises, and each
    `equality.age_bands` entry is an age band."""
    if not any(s.equality.codes or s.equality.age_bands for s in cfg.services):
        return []
    from pipeline.profiles.equality.bands import parse_band
    from pipeline.profiles.equality.codemap import target_problem

    problems = []
    for i, s in enumerate(cfg.services):
        where = f"services[{i}] ({s.name}).equality"
        for field, codes in s.equality.codes.items():
            for code, target in codes.items():
                why = target_problem(field, target)
                if why:
                    problems.append(f"{where}.codes.{field}: {code!r} maps to {why}. Fix: map it to one "
                                    "of those")
        problems += [f"{where}.age_bands: {b!r} is not an age band. Fix: write it as e.g. 'Under 18', "
                     "'25-44' or '75+'" for b in s.equality.age_bands if parse_band(b) is None]
    return problems


def access_problems(cfg: RunConfig) -> list[Problem]:
    """The grid references of the service-points and candidates files (`access.points_problems`)."""
    if not cfg.access.points and not any(s.access and s.access.candidates for s in cfg.services):
        return []
    from pipeline.profiles.access import points_problems  # scipy: only when points are named

    return points_problems(cfg)


def deprivation_problems(cfg: RunConfig) -> list[Problem]:
    """The Indices of Deprivation files as published and their LSOA vintage (issue 28)."""
    if cfg.deprivation is None:
        return []
    from pipeline.profiles.deprivation_source import problems

    return problems(cfg)


def check(cfg: RunConfig) -> list[Problem]:
    """Each service's base, its equality code maps, and the grid references of its service points."""
    return base_problems(cfg) + equality_map_problems(cfg) + access_problems(cfg) + deprivation_problems(cfg)


def equality_code_report(cfg: RunConfig) -> list[str]:
    """Per service and characteristic: the distinct codes the profile will not recognise, with their
    records, and whether the view will be marked incomplete. Read from the extracts themselves; the
    lines name codes, so they go to the terminal (private), never to the shareable outputs."""
    if not any(f in s.columns for s in cfg.services for f in EQUALITY_FIELDS):
        return []
    from pipeline.ingest import IngestError, extract_columns
    from pipeline.profiles import equality

    lines = []
    for i, s in enumerate(cfg.services):
        if not any(f in s.columns for f in equality.FIELDS) or not Path(s.file).is_file():
            continue
        try:
            values = extract_columns(s, [f for f in EQUALITY_FIELDS if f in s.columns])
        except (IngestError, Unreadable, OSError, UnicodeError, csv.Error, KeyError) as exc:
            logger.debug("%s: equality codes not listed: %s", s.name, exc)
            continue
        options = equality.Options.of(s)
        views = [f for f in equality.FIELDS if f in values] + (["ethnicity_detailed"] if "ethnicity" in values
                                                                else [])
        for view in views:
            field = "ethnicity" if view == "ethnicity_detailed" else view
            col = values[field]
            if view == "disability_type" and "disability" in values:
                disabled = equality.CodeMap("disability", options.codes.get("disability"))
                col = col[[disabled(d) == "Disabled" for d in values["disability"]]]
            counts = col[col != ""].value_counts().to_dict()
            bad = equality.unrecognised(view, counts, options.codes.get(field))
            if not bad:
                continue
            n, total = sum(bad.values()), len(col)
            share = n / total if total else 0.0
            limit = options.incomplete_share
            status = (f"more than {limit * 100:g}%: the view will be marked incomplete" if share > limit
                      else f"within the {limit * 100:g}% allowed")
            what = ("code(s) whose broad group is recognised but not the detailed group"
                    if view == "ethnicity_detailed" else "code(s) not recognised")
            shown = ", ".join(f"{c!r} ({k:,})" for c, k in list(bad.items())[:20])
            more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
            lines.append(f"services[{i}] ({s.name}) {view}: {len(bad)} distinct {what}, in {n:,} of "
                         f"{total:,} records ({share:.1%}; {status}): {shown}{more}. Fix: map them under "
                         f"services[{i}].equality.codes.{field}, e.g. {next(iter(bad))!r}: <category>")
    return lines
