"""The Spark tests share one SparkSession (local[2], two shuffle partitions, no UI): starting a JVM
is most of a small Spark job's cost. Skipped, with the reason, where the `spark` extra or Java is
missing (`make test` installs the extra, and .ci/run Java, so CI always runs them)."""

from __future__ import annotations

import os

import pytest


def _spark_missing() -> str | None:
    import importlib.util

    from pipeline.spark.session import MIN_JAVA, java_executable, java_version

    missing = [m for m in ("pyspark", "pyarrow", "sqlglot") if importlib.util.find_spec(m) is None]
    if missing:
        return f"the spark extra is not installed ({missing}): make install-spark"
    java = java_executable()
    if java is None or (java_version(java) or 0) < MIN_JAVA:
        return f"no Java {MIN_JAVA}+ (bash scripts/install_java.sh)"
    return None


@pytest.fixture(scope="session")
def spark_session():
    """One local SparkSession for the test session (stopped at its end)."""
    why = _spark_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Spark tests: {why}")
        pytest.skip(why)
    import sys

    from pyspark.sql import SparkSession

    from pipeline.spark.session import DEFAULTS

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master("local[2]").appName("insight-tests")
    for key, value in (DEFAULTS | {"spark.sql.shuffle.partitions": "2",
                                   "spark.default.parallelism": "2"}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()
