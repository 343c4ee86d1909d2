"""The record-level engine of a run (`engine`, `spark`): DuckDB on this machine (the default: nothing
changes for a council), or Apache Spark for national and regional runs (docs/spark.md).

`spark.master` is where Spark runs: ``local[2]`` (this machine, two cores), ``spark://host:7077``,
``yarn`` or ``k8s://...``; `spark.conf` is passed to the session as it is built
(``spark.sql.shuffle.partitions: "8"``). A notebook that already has a session (Databricks) passes
it from Python instead (`pipeline.run.run_all(cfg, spark=session)`), and its master and conf are
then not read. `spark.reference_cache` is the folder of the reference tables' Parquet cache
(`pipeline.spark.reference`), kept between runs: by default the run's private folder's
`spark/reference`; several runs name one folder to share one cache.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from pipeline.config.base import Strict

#: The engines a run may use for its record-level stages.
ENGINES = ("duckdb", "spark")


class Spark(Strict):
    """Where Spark runs and the settings its session is built with."""

    master: str = Field(default="local[2]", description="local[N] | spark://host:port | yarn | k8s://...")
    conf: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Spark settings for the session, e.g. spark.executor.memory: 8g")
    reference_cache: Path | None = Field(
        default=None, description="folder of the reference tables' Parquet cache, kept between runs and "
                                  "shared by the runs naming it (default: <private_dir>/spark/reference)")

    @field_validator("master")
    @classmethod
    def _master_named(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("spark.master is empty. Fix: local[2], spark://host:7077, yarn or k8s://...")
        return v
