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
def demo_profiles(tmp_path_factory):
    """The demo borough generated and run up to the profile stage, with the profile workbooks
    written: (cfg, profiles, truth folder). Shared by the profile, disclosure and equality tests."""
    from pipeline.render.tables import write_service_workbook
    from pipeline.run import run_all
    from pipeline.synth.borough import generate_demo
    from tests.e2e import relocated_config

    tmp = tmp_path_factory.mktemp("demo_profiles")
    raw, truth = tmp / "raw", tmp / "truth"
    generate_demo(raw, truth, seed=2021)
    cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp)
    result = run_all(cfg, until="profile", progress=False)
    for name, views in result.profiles.items():
        write_service_workbook(cfg, name, views, result.summary, name)
    return cfg, result.profiles, truth
