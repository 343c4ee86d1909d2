"""The stage queue: one list of stages, each with its run and its check; `--until`, the progress
bar and `insight validate` read it, and no module reaches into another's private names."""

import ast
import dataclasses
from pathlib import Path

import yaml

from pipeline import run as run_module
from pipeline.cli import build_parser
from pipeline.run import STAGE_NAMES, STAGES, run_all
from pipeline.validate import problems_of
from tests.conftest import REPO
from tests.helpers import relocated_config


def test_the_queue_names_every_stage_once_in_run_order():
    assert STAGE_NAMES == ("geography", "ingest", "geocode", "segments", "assign", "quality", "profile",
                           "surveys", "publish", "render")
    assert all(callable(s.run) and (s.check is None or callable(s.check)) for s in STAGES)


def test_until_offers_the_queue():
    parser = build_parser()
    run = next(a for a in parser._subparsers._group_actions[0].choices["run"]._actions if a.dest == "until")
    assert tuple(run.choices) == STAGE_NAMES


def test_validate_runs_each_stage_check_in_queue_order(demo_data, tmp_path, monkeypatch):
    raw, _ = demo_data
    cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp_path)
    called = []

    def recorder(stage):
        def check(c):
            called.append(stage.name)
            return [f"problem of {stage.name}"] if stage.name in ("ingest", "profile") else []
        return check

    queue = tuple(dataclasses.replace(s, check=recorder(s)) if s.check else s for s in STAGES)
    monkeypatch.setattr(run_module, "STAGES", queue)
    assert problems_of(cfg) == ["problem of ingest", "problem of profile"]
    assert called == [s.name for s in STAGES if s.check]
    assert called[0] == "geography" and called[-1] == "surveys"


def test_the_match_report_is_its_own_stage(demo_data, tmp_path):
    raw, _ = demo_data
    relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp_path)
    path = tmp_path / "demo.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["services"] = cfg["services"][:1]
    cfg["segmentation"]["n_init"] = 2  # what is asked of the stages, not the classification's quality
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    from pipeline.config import load_config

    assigned = run_all(load_config(path), until="assign", progress=False)
    assert assigned.report is None and "postcodes_corrected" not in assigned.summary.columns
    reported = run_all(load_config(path), until="quality", progress=False)
    assert reported.report is not None and reported.computed is None
    assert list(reported.summary["service"]) == [cfg["services"][0]["name"]]


def _private_imports(root: Path) -> list[str]:
    found = []
    for package in ("pipeline", "segments", "boundaries"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module:
                    found += [f"{path.relative_to(root)}:{node.lineno} {node.module}.{a.name}"
                              for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def test_no_module_imports_another_modules_private_names():
    """validate reads the stages through their `check` functions, never their helpers: renaming a
    stage's helper cannot silently break validation."""
    assert _private_imports(REPO) == []
