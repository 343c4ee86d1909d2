"""The Spark session of a run (`engine: spark`), and what `insight validate` asks before one is built.

`problems(cfg)` finds, without starting a JVM, what would stop Spark: the `spark` extra not installed
(``pip install '.[spark]'``: pyspark, pyarrow and sqlglot), no Java runtime (``java`` on PATH or under
``JAVA_HOME``) or one older than Spark needs (17). Each is one line naming the config file's
setting and the fix, reported by `insight validate` with every other problem; a run never gets as
far as a JVM traceback.

`session(cfg, given)` is the session the run uses: the one passed from Python (a notebook on
Databricks already has one; `pipeline.run.run_all(cfg, spark=session)`), or one built from
`spark.master` and `spark.conf`, with the settings a run relies on: the session time zone UTC, ANSI
mode off (DuckDB's lenient casts: a bad cast is NULL, as in the SQL written for DuckDB), the UI off
unless the config turns it on, and Arrow for the pandas UDFs (`pipeline.spark.functions`).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline.checks import Problem
from pipeline.config import RunConfig

logger = logging.getLogger(__name__)

#: The oldest Java the Spark of the `spark` extra runs on.
MIN_JAVA = 17
#: The modules of the `spark` extra (pyproject.toml).
EXTRA_MODULES = ("pyspark", "pyarrow", "sqlglot")
#: What the session is built with unless spark.conf says otherwise.
DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.caseSensitive": "true",
}
#: Settings the run's SQL relies on: a config may not change them.
FIXED = ("spark.sql.session.timeZone", "spark.sql.ansi.enabled", "spark.sql.caseSensitive")


def java_executable() -> str | None:
    """The `java` a Spark session would start: $JAVA_HOME/bin/java, else `java` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def java_version(java: str) -> int | None:
    """The major version `java -version` reports (17 for '17.0.15', 8 for '1.8.0'), None if unreadable."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def problems(cfg: RunConfig, where: str = "engine") -> list[Problem]:
    """What would stop a Spark run of `cfg` on this machine, each with its fix (none for engine: duckdb)."""
    if cfg.engine != "spark":
        return []
    found: list[Problem] = []
    missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        found.append(f"{where}: spark needs the Python packages {missing}, which are not installed. Fix: "
                     "pip install 'council-insight[spark]' (or, in a checkout, pip install -e '.[spark]'), "
                     "or set engine: duckdb")
    java = java_executable()
    if java is None:
        found.append(f"{where}: spark needs a Java runtime ({MIN_JAVA} or later) and none was found (no java "
                     "on PATH, JAVA_HOME unset). Fix: install one (Debian/Ubuntu: apt-get install "
                     "openjdk-17-jre-headless) or set JAVA_HOME, or set engine: duckdb")
    else:
        major = java_version(java)
        if major is None or major < MIN_JAVA:
            shown = "an unreadable version" if major is None else f"Java {major}"
            found.append(f"{where}: {java} is {shown}; Spark needs Java {MIN_JAVA} or later. Fix: install "
                         "openjdk-17-jre-headless and set JAVA_HOME to it, or set engine: duckdb")
    from pipeline.spark import reference

    found += reference.problems(cfg)
    fixed = sorted(k for k in (cfg.spark.conf if cfg.spark else {}) if k in FIXED)
    if fixed:
        found.append(f"spark.conf: {fixed} are set by the pipeline (its SQL relies on them: "
                     f"{ {k: DEFAULTS[k] for k in fixed} }). Fix: remove them from spark.conf")
    return found


def session(cfg: RunConfig, given=None):
    """The run's SparkSession: `given` (with the settings the SQL relies on applied), or one built
    from cfg.spark."""
    if given is None:
        from pyspark.sql import SparkSession

        spark_cfg = cfg.spark
        master = spark_cfg.master if spark_cfg else "local[2]"
        if master.startswith("local"):  # the Python workers run this interpreter, where the pipeline is
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.master(master)
        builder = builder.appName(f"insight-{cfg.run}")
        conf = DEFAULTS | {k: str(v).lower() if isinstance(v, bool) else str(v)
                           for k, v in (spark_cfg.conf if spark_cfg else {}).items()}
        for key, value in conf.items():
            builder = builder.config(key, value)
        given = builder.getOrCreate()
        given.sparkContext.setLogLevel("ERROR")
    for key in FIXED:
        given.conf.set(key, DEFAULTS[key])
    return given
