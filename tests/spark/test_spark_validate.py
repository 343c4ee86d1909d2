"""engine: spark without Java or the spark extra fails at `insight validate` with a line naming the
setting and the fix, before any JVM starts; a spark block with engine: duckdb is refused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from pipeline.config import RunConfig
from pipeline.spark import session


def _config(**update) -> RunConfig:
    raw = yaml.safe_load(Path("config/demo.yaml").read_text(encoding="utf-8")) | update
    return RunConfig.model_validate(raw)


def test_no_java_is_a_problem_with_its_fix(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java here
    found = session.problems(_config(engine="spark"))
    assert len([p for p in found if "Java runtime" in p]) == 1
    assert all(p.startswith("engine: ") and "Fix:" in p for p in found)
    assert "openjdk-17-jre-headless" in found[-1] and "engine: duckdb" in found[-1]


def test_an_old_java_is_named(monkeypatch, tmp_path):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text('#!/bin/sh\necho \'openjdk version "1.8.0_412"\' >&2\n', encoding="utf-8")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    found = [p for p in session.problems(_config(engine="spark")) if "Java 8" in p]
    assert found and "Java 17 or later" in found[0]


def test_missing_extra_is_a_problem_with_its_fix(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real(name, *a))
    found = [p for p in session.problems(_config(engine="spark")) if "pyspark" in p]
    assert found and "pip install 'council-insight[spark]'" in found[0]


def test_duckdb_asks_nothing_and_the_check_runs_in_validate(monkeypatch, tmp_path):
    from pipeline.run import STAGES

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert session.problems(_config()) == []
    geocode_check = next(s.check for s in STAGES if s.name == "geocode")
    assert any("Java runtime" in p for p in geocode_check(_config(engine="spark")))


def test_settings_the_sql_relies_on_cannot_be_changed():
    cfg = _config(engine="spark", spark={"conf": {"spark.sql.ansi.enabled": True}})
    assert any(p.startswith("spark.conf: ['spark.sql.ansi.enabled']") for p in session.problems(cfg))


def test_a_spark_block_without_engine_spark_is_refused():
    with pytest.raises(ValidationError, match="no effect with engine: duckdb"):
        _config(spark={"master": "local[2]"})
