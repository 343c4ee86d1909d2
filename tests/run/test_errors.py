"""One error family: every user-facing error is a pipeline.errors.InsightError, printed as `error:`
lines with no traceback; any other exception is a bug, shown with its traceback."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.errors import InsightError

ROOT = Path(__file__).resolve().parents[2]


def test_every_user_error_class_derives_from_the_base():
    from boundaries.loaders import GeographyError
    from pipeline.area import AreaError as AreaCommandError
    from pipeline.config import ConfigError, UserError
    from pipeline.ingest import IngestError
    from pipeline.ownership import NotOwnedError, NotWritableError, RunLockedError
    from pipeline.secret import SecretError
    from segments.build import AreaError
    from segments.census import CensusError
    from segments.variables import SpecError

    for cls in (UserError, ConfigError, AreaCommandError, IngestError, GeographyError, CensusError,
                SpecError, AreaError, NotOwnedError, RunLockedError, NotWritableError, SecretError):
        assert issubclass(cls, InsightError), cls
    # the built-in types callers catch are kept
    assert issubclass(AreaError, ValueError) and issubclass(NotOwnedError, FileExistsError)
    assert issubclass(SecretError, FileExistsError) and issubclass(NotWritableError, PermissionError)


def test_errors_module_imports_nothing_from_the_project():
    tree = ast.parse((ROOT / "pipeline" / "errors.py").read_text(encoding="utf-8"))
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if m.split(".")[0] in ("pipeline", "segments", "boundaries")]


def test_base_error_text_and_fields():
    err = InsightError("2 problem(s):", ["a: bad. Fix: one", "b: worse. Fix: two"], value=3,
                       allowed=[1, 2], fix="choose 1 or 2")
    assert str(err) == "2 problem(s):\n  - a: bad. Fix: one\n  - b: worse. Fix: two"
    assert (err.value, err.allowed, err.fix) == (3, [1, 2], "choose 1 or 2")
    assert str(InsightError("k must be at most 10")) == "k must be at most 10"
    assert cli.format_error(InsightError("", ["only one"])) == "error: 1 problem(s):\n  - only one"


@pytest.mark.parametrize("reader, text, match", [
    ("segments.describe:read_names", "a,b\n1,x\n", "code,name"),
    ("segments.transform:read_reference", "variable,low\nx,1\n", "variable,min,max"),
])
def test_user_error_from_segments_prints_error_without_traceback(tmp_path, capsys, monkeypatch, reader,
                                                                 text, match):
    import importlib

    module, name = reader.split(":")
    read = getattr(importlib.import_module(module), name)
    bad = tmp_path / "file.csv"
    bad.write_text(text)
    with pytest.raises(InsightError, match=match):
        read(bad)
    monkeypatch.setattr("pipeline.validate.validate_config", lambda _: read(bad))
    assert cli.main(["validate", "whatever.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err
    assert "Traceback" not in err and "bug" not in err


def test_missing_names_file_is_a_user_error_and_still_a_file_not_found(tmp_path):
    from segments.describe import read_names

    with pytest.raises(InsightError):
        read_names(tmp_path / "missing.csv")  # a names file that is not there
    with pytest.raises(FileNotFoundError):  # still the built-in type for callers that catch it
        read_names(tmp_path / "missing.csv")


def _segments_bug():
    """A ValueError raised from inside segments code: a bug there, not the user's problem."""
    import numpy as np

    from segments.kmeans import _fit

    _fit(np.zeros((2, 2)), 3, 1, 0, 10, 0, None, 1, 1.0, None)


def test_value_error_inside_segments_is_a_bug_with_its_traceback(capsys, monkeypatch):
    with pytest.raises(ValueError, match="cannot make 3 clusters") as err:
        _segments_bug()
    assert not isinstance(err.value, InsightError)
    assert Path(err.traceback[-1].path).parent.name == "segments"  # raised inside segments/
    assert not cli._is_user_error(err.value)

    monkeypatch.setattr("pipeline.validate.validate_config", lambda _: _segments_bug())
    with pytest.raises(ValueError, match="cannot make 3 clusters"):  # re-raised, never swallowed
        cli.main(["validate", "whatever.yaml"])
    err_text = capsys.readouterr().err
    assert "error:" not in err_text and "this is a bug" in err_text and "please report it" in err_text


def test_a_bug_in_segments_shows_its_traceback_from_the_command_line():
    code = ("import numpy as np, pipeline.validate as v\n"
            "from segments.kmeans import _fit\n"
            "v.validate_config = lambda _: _fit(np.zeros((2, 2)), 3, 1, 0, 10, 0, None, 1, 1.0, None)\n"
            "from pipeline.cli import main\n"
            "raise SystemExit(main(['validate', 'whatever.yaml']))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 1, out.stderr
    assert "Traceback (most recent call last)" in out.stderr
    assert "segments/kmeans.py" in out.stderr and "ValueError: cannot make 3 clusters" in out.stderr
    assert "this is a bug" in out.stderr and not out.stderr.startswith("error:")


def test_command_line_mistakes_are_insight_errors_too(capsys):
    assert cli.main(["area", "E08000009"]) == 2  # neither --sources nor --download
    err = capsys.readouterr().err
    assert err.startswith("error: name the folder of national products with --sources DIR")
    assert "Traceback" not in err


def test_python_m_segments_reports_user_errors_and_traces_bugs(tmp_path, capsys, monkeypatch):
    from segments.__main__ import main as segments_main
    from segments.describe import read_names

    bad = tmp_path / "names.csv"
    bad.write_text("a,b\n1,x\n")
    monkeypatch.setattr("segments.__main__.validate_config", lambda _, **__: read_names(bad))
    assert segments_main(["whatever.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "code,name" in err and "bug" not in err

    monkeypatch.setattr("segments.__main__.validate_config", lambda _, **__: _segments_bug())
    with pytest.raises(ValueError, match="cannot make 3 clusters"):
        segments_main(["whatever.yaml"])
    assert "python -m segments: this is a bug" in capsys.readouterr().err
