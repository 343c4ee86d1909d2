"""Same inputs, config and seed give byte-identical shareable outputs."""

import hashlib
from pathlib import Path

from pipeline.run import run_all
from pipeline.synth.borough import generate_demo
from tests.e2e import relocated_config


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_two_runs_give_identical_outputs(tmp_path):
    raw = tmp_path / "raw"
    generate_demo(raw, tmp_path / "truth", seed=7)
    runs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp_path / name)
        run_all(cfg, progress=False)
        runs.append(_digests(cfg.outputs))
    assert len(runs[0]) >= 20  # CSV, XLSX and HTML for every service
    assert runs[0] == runs[1]
