"""Shared test fixtures: paths to the repository and to ../shared (real open data), and the demo
borough and its run, each made once for the whole session.

`make test` runs two xdist workers with ``--dist loadfile``: a file's tests run on one worker, so
a module's fixtures are built once, the longest files first (:data:`LONGEST_FIRST`); the tests
that need the SparkSession are in one file, so one JVM starts. (``--dist loadgroup`` would group
across files, but pytest-xdist 3.8 marks its groups on ``item._nodeid``, which pytest 9 no longer
reads: every test was spread one by one.)

The demo borough's files and its run are wanted by tests in
many files: the first worker to ask builds them, under a lock in the session's shared temporary
folder, and the other reads what it left (:func:`once`), so each is built once, not once a worker.
Tests only read them."""

import fcntl
import os
import pickle
from collections.abc import Callable
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


#: The files that take longest, first: `make test` runs ``--dist loadfile --no-loadscope-reorder``,
#: so the workers take files in this order and then the rest as collected, and neither is left
#: alone with a long file at the end (xdist's own reorder puts files with many tests first, which
#: left the whole-pipeline files, with few tests each, to the end). In `make test` one worker starts
#: Spark's demo run (it asks for the session's DuckDB run only at its end) while the other builds
#: that run for the demo e2e tests; in `make test-slow` one builds it for the determinism test while
#: the other runs Trafford.
LONGEST_FIRST = (
    "tests/spark/test_spark_same_answer.py", "tests/e2e/test_demo_e2e.py", "tests/e2e/test_determinism.py",
    "tests/e2e/test_trafford_e2e.py", "tests/segments/test_segment_names.py", "tests/run/test_privacy.py",
    "tests/render/test_report.py", "tests/render/test_accessibility.py", "tests/publish/test_publication.py",
    "tests/area/test_area.py", "tests/segments/test_segments_scale.py",
)


def pytest_collection_modifyitems(config, items):
    """Put the files of :data:`LONGEST_FIRST` first, in its order (a stable sort: each file's tests
    keep their order)."""
    rank = {f: i for i, f in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(LONGEST_FIRST)))


@contextmanager
def _locked(path: Path):
    """An exclusive lock on *path* across the session's worker processes."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def once(name: str, build: Callable[[Path], object], tmp_path_factory):
    """``build(folder)`` run once in the whole session, whichever worker asks first; every worker
    gets its value (pickled into *folder* by the builder). A build that fails leaves nothing, so
    the next to ask builds again and reports its own error."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the workers' folders share this session's parent
        root = root.parent
    folder, done = root / name, root / f"{name}.pickle"
    with _locked(root / f"{name}.lock"):
        if not done.exists():
            folder.mkdir(exist_ok=True)
            value = build(folder)
            done.write_bytes(pickle.dumps(value))
            return value
    return pickle.loads(done.read_bytes())


def _demo_borough(folder: Path) -> tuple[Path, dict]:
    from pipeline.synth.borough import generate_demo

    return folder, generate_demo(folder / "raw", folder / "truth", seed=2021)


@pytest.fixture(scope="session")
def demo_borough(tmp_path_factory) -> tuple[Path, dict]:
    """The demo borough (seed 2021) generated once per session: (its folder, holding raw/ and
    truth/; generate_demo's summary of counts)."""
    return once("demo_data", _demo_borough, tmp_path_factory)


@pytest.fixture(scope="session")
def demo_data(demo_borough) -> tuple[Path, Path]:
    """The demo borough's (raw folder, truth folder). The pipeline only reads raw files, so every
    test can share them."""
    folder, _ = demo_borough
    return folder / "raw", folder / "truth"


@pytest.fixture(scope="session")
def demo_run(demo_data, tmp_path_factory):
    """The whole pipeline run once on the demo borough: (cfg, RunResult, raw, truth)."""
    raw, truth = demo_data

    def run(folder: Path):
        from pipeline.run import run_all
        from tests.helpers import relocated_config

        cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, folder)
        return cfg, run_all(cfg, progress=False)

    cfg, result = once("demo_run", run, tmp_path_factory)
    return cfg, result, raw, truth


@pytest.fixture(scope="session")
def demo_profiles(demo_run):
    """(cfg, profiles, truth folder) of the demo run, for the profile, disclosure and equality tests."""
    cfg, result, _, truth = demo_run
    return cfg, result.profiles, truth
