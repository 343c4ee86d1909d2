"""Shared test fixtures: paths to the repository and to ../shared (real open data)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRAFFORD = SHARED / "ons" / "trafford"


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared is not beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> tuple[Path, Path]:
    """The demo borough (seed 2021) generated once per session: (raw folder, truth folder).
    The pipeline only reads raw files, so every test can share them."""
    from pipeline.synth.borough import generate_demo

    tmp = tmp_path_factory.mktemp("demo_data")
    raw, truth = tmp / "raw", tmp / "truth"
    generate_demo(raw, truth, seed=2021)
    return raw, truth


@pytest.fixture(scope="session")
def demo_run(demo_data, tmp_path_factory):
    """The whole pipeline run once on the demo borough: (cfg, RunResult, raw, truth)."""
    from pipeline.run import run_all
    from tests.helpers import relocated_config

    raw, truth = demo_data
    tmp = tmp_path_factory.mktemp("demo_run")
    cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp)
    return cfg, run_all(cfg, progress=False), raw, truth


@pytest.fixture(scope="session")
def demo_profiles(demo_run):
    """(cfg, profiles, truth folder) of the demo run, for the profile, disclosure and equality tests."""
    cfg, result, _, truth = demo_run
    return cfg, result.profiles, truth
