"""`insight validate` (and the start of `insight run`): every problem with a run config and the
files it names, found before any stage runs and reported together in one ConfigError.

`pipeline.config.load_config` checks the schema and repeated keys; `config.missing_files` that
every input exists; `ownership.check` that the run's folders can be written. Then each stage of
the queue (`pipeline.run.STAGES`) checks, in order, what it will read, by its own rules: the
polygon layers, the OA->ward lookup and the postcode directory (geography); each extract's kind,
encoding, sheet and mapped header (ingest); the gazetteer and UPRN lookup columns (geocode); the
households table, the variable spec with `drop` / `weights`, `k` of every tier, the names,
reference-range and lookup files (segments); each service's base and equality code maps
(profile). The rules are those of the stages themselves, kept beside them, so validate and run
cannot disagree, and this module imports no private name of another.

Each problem names the file (and row or column), repeats the bad value, lists what is allowed
and says the fix. When the config is valid, the values a run would reject or leave out (outcome
values, `pipeline.ingest.validation.value_report`) and the equality codes it would not recognise
are read from the extracts by the stages' own rules and logged as warnings, to the terminal only.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline import ownership
from pipeline.config import ConfigError, RunConfig, load_config, missing_files

logger = logging.getLogger(__name__)


def problems_of(cfg: RunConfig) -> list[str]:
    """Every problem with a loaded config and the files it names: the inputs exist, the folders
    can be written, then each stage's check in queue order; each problem once."""
    from pipeline.run import STAGES

    problems = missing_files(cfg) + ownership.check(cfg)
    for stage in STAGES:
        if stage.check is not None:
            problems += stage.check(cfg)
    return list(dict.fromkeys(problems))  # each problem once, however many checks meet it


#: The config entries `python -m segments` reads (the classification alone: no service extract).
SEGMENT_INPUTS = ("census.", "segmentation.", "geography.oa_boundaries.", "geography.oa_to_ward.",
                  "geography.postcode_directory.")


def segment_problems_of(cfg: RunConfig) -> list[str]:
    """`problems_of` for `python -m segments`: the files the classification reads
    (`SEGMENT_INPUTS`), the folders, and the segments stage's check; a service extract, the
    wards or the gazetteer it never reads may be missing."""
    from pipeline.run import STAGES

    problems = [p for p in missing_files(cfg) if p.startswith(SEGMENT_INPUTS)]
    problems += ownership.check(cfg)
    problems += next(s for s in STAGES if s.name == "segments").check(cfg)
    return list(dict.fromkeys(problems))


def validate_config(path: Path | str, segments_only: bool = False) -> RunConfig:
    """The run config at `path`, checked with every file it names (with `segments_only`, those
    the classification reads: `segment_problems_of`); raise ConfigError listing every problem
    found (the schema's alone when the config itself is malformed)."""
    from pipeline.ingest.validation import value_report
    from pipeline.profiles.check import equality_code_report

    path = Path(path)
    cfg = load_config(path, check_files=False)
    problems = segment_problems_of(cfg) if segments_only else problems_of(cfg)
    if problems:
        raise ConfigError(path, problems)
    if segments_only:
        return cfg
    for line in [*value_report(cfg), *equality_code_report(cfg)]:  # to the terminal only: values are private
        logger.warning(line)
    logger.debug("%s: valid", path)
    return cfg

