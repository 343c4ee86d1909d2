"""Shared test fixtures: paths to the repository and to ../shared (real open data), and the demo
borough and its run, each made once for the whole session.

`make test` runs two xdist workers with ``--dist loadgroup``: the demo borough's files are made
once for both workers (under a lock, in the session's shared temporary folder), and every test that
uses the demo run is sent to one worker (:func:`pytest_collection_modifyitems`), so the run is
built once rather than once a worker."""

import fcntl
import os
from contextlib import contextmanager
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


#: Fixtures built once and shared by the tests of one xdist group (one worker).
SHARED_RUN_FIXTURES = ("demo_run",)


def pytest_collection_modifyitems(config, items):
    """Send every test that uses the demo run to one worker: with ``--dist loadgroup`` the run is
    then built once in the session, not once a worker (the other worker takes the other tests)."""
    for item in items:
        if any(f in getattr(item, "fixturenames", ()) for f in SHARED_RUN_FIXTURES):
            item.add_marker(pytest.mark.xdist_group("demo_run"))


@contextmanager
def _locked(path: Path):
    """An exclusive lock on *path* across the session's worker processes."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> tuple[Path, Path]:
    """The demo borough (seed 2021) generated once per session, for every worker: (raw folder,
    truth folder). The pipeline only reads raw files, so every test can share them."""
    from pipeline.synth.borough import generate_demo

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the workers' folders share this session's parent
        root = root.parent
    tmp = root / "demo_data"
    raw, truth = tmp / "raw", tmp / "truth"
    with _locked(root / "demo_data.lock"):
        if not (tmp / ".complete").exists():
            generate_demo(raw, truth, seed=2021)
            (tmp / ".complete").touch()
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
