"""Same inputs, config and seed give byte-identical shareable outputs."""

import hashlib
from pathlib import Path

import pytest

from pipeline.run import run_all
from tests.helpers import relocated_config

pytestmark = pytest.mark.slow  # a whole run of its own (make test-slow; CI runs it)


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")
    }


def test_two_runs_give_identical_outputs(demo_run, tmp_path):
    """A second run of the session's demo config, in folders of its own, writes the same bytes."""
    first, _, raw, _ = demo_run
    cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp_path)
    run_all(cfg, progress=False)
    a, b = _digests(first.outputs), _digests(cfg.outputs)
    assert len(a) >= 20  # CSV, XLSX and HTML for every service
    assert a == b
