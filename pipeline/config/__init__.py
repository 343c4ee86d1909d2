"""Run configuration: a YAML file validated against a schema that reports every problem at once.

A run config names the geography (Output Area and ward boundaries, the postcode directory),
the Census 2021 tables, the classification and the service extracts to profile. A relative path
in a config file is read from the config file's folder, whatever the working folder
(`pipeline.paths.anchored`, applied by `load_config`).

The package, one job a module (every name below is importable from `pipeline.config` too):

* :mod:`~pipeline.config.fields`: the standard record fields, the date of birth, the identifiers
  that can never be mapped, and the service, outcome and run name rules;
* :mod:`~pipeline.config.base`: `Strict`, the model every block derives from (unknown keys refused);
* :mod:`~pipeline.config.geography`: boundaries, lookups, postcode directory, gazetteer, UPRN
  lookup, census tables, and the CRSs (`BNG`, `WGS84`);
* :mod:`~pipeline.config.segmentation`: the classification, built or loaded;
* :mod:`~pipeline.config.access`: service points, OA centres and distance bands;
* :mod:`~pipeline.config.service`: a service extract, its equality options and outcomes;
* :mod:`~pipeline.config.engine`: the record-level engine (`engine: duckdb | spark`, the `spark` block);
* :mod:`~pipeline.config.protection`: suppression of small counts and the privacy settings;
* :mod:`~pipeline.config.run_config`: `RunConfig`, the whole config, and the default attribution;
* :mod:`~pipeline.config.errors`: `UserError` and `ConfigError`;
* :mod:`~pipeline.config.load`: reading the YAML (repeated keys refused), the schema's problems,
  missing files, `load_config`.

Where a run may read and write is `pipeline.paths`.
"""

from pipeline.config.access import Access, CentroidFile, PointColumns, PointsFile, ServiceAccess
from pipeline.config.base import Strict
from pipeline.config.engine import ENGINES, Spark
from pipeline.config.errors import ConfigError, UserError
from pipeline.config.fields import (
    DATE_OF_BIRTH,
    EQUALITY_FIELDS,
    IDENTIFIER_PATTERNS,
    MAPPABLE_FIELDS,
    RUN_NAME,
    SLUG,
    STANDARD_FIELDS,
    check_slug,
    identifier_kind,
    identifier_kinds,
    identifier_problem,
)
from pipeline.config.geography import (
    BNG,
    WGS84,
    BoundaryFile,
    Census,
    Gazetteer,
    GazetteerColumns,
    Geography,
    LookupFile,
    PostcodeColumns,
    PostcodeDirectory,
    UprnLookup,
    UprnLookupColumns,
)
from pipeline.config.load import (
    StrictLoader,
    duplicate_keys,
    load_config,
    missing_files,
    read_yaml,
    schema_problems,
)
from pipeline.config.protection import (
    DEFAULT_AGE_BANDS,
    DEFAULT_MAX_AGE,
    ONS_MIN_SHOWN,
    SAFE_THRESHOLD,
    Privacy,
    Suppression,
)
from pipeline.config.run_config import DEFAULT_ATTRIBUTION, Render, RunConfig
from pipeline.config.segmentation import DESCRIPTION_ONLY, KMEANS_ONLY, KeyLink, Lookup, Segmentation
from pipeline.config.service import OUTCOME_LIMIT, OUTCOME_MAXIMUM, Equality, Outcome, Service
from pipeline.errors import InsightError  # importable from here as it always was (tests/run/test_fuzz.py)

__all__ = [
    "ENGINES",
    "Spark",
    "BNG",
    "DATE_OF_BIRTH",
    "DEFAULT_AGE_BANDS",
    "DEFAULT_ATTRIBUTION",
    "DEFAULT_MAX_AGE",
    "DESCRIPTION_ONLY",
    "EQUALITY_FIELDS",
    "IDENTIFIER_PATTERNS",
    "KMEANS_ONLY",
    "MAPPABLE_FIELDS",
    "ONS_MIN_SHOWN",
    "OUTCOME_LIMIT",
    "OUTCOME_MAXIMUM",
    "RUN_NAME",
    "SAFE_THRESHOLD",
    "SLUG",
    "STANDARD_FIELDS",
    "WGS84",
    "Access",
    "BoundaryFile",
    "Census",
    "CentroidFile",
    "ConfigError",
    "Equality",
    "Gazetteer",
    "GazetteerColumns",
    "Geography",
    "InsightError",
    "KeyLink",
    "Lookup",
    "LookupFile",
    "Outcome",
    "PointColumns",
    "PointsFile",
    "PostcodeColumns",
    "PostcodeDirectory",
    "Privacy",
    "Render",
    "RunConfig",
    "Segmentation",
    "Service",
    "ServiceAccess",
    "Strict",
    "StrictLoader",
    "Suppression",
    "UprnLookup",
    "UprnLookupColumns",
    "UserError",
    "check_slug",
    "duplicate_keys",
    "identifier_kind",
    "identifier_kinds",
    "identifier_problem",
    "load_config",
    "missing_files",
    "read_yaml",
    "schema_problems",
]
