"""A run writes only where it owns: its own outputs and private folders and a postcode reference it
built. Foreign files are refused and left byte for byte; one run at a time per folder; outputs
are swapped in only when complete, so a failed or killed run leaves the previous ones intact."""

import errno
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from boundaries.reference import ensure_reference, is_ours
from pipeline import ownership, secret
from pipeline.config import PostcodeDirectory
from pipeline.ownership import (
    OUTPUTS_MARKER,
    PRIVATE_MARKER,
    NotOwnedError,
    NotWritableError,
    RunLockedError,
    claim,
)
from pipeline.run import run_all
from tests.conftest import REPO
from tests.helpers import tiny_config


@pytest.fixture(autouse=True)
def _own_secret(tmp_path, monkeypatch):
    monkeypatch.setenv(secret.SECRET_ENV, str(tmp_path / "secret" / ".insight-secret"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _directory(path: Path, rows: int = 4) -> PostcodeDirectory:
    """An ONSPD-layout directory of `rows` postcodes (built by DuckDB: large ones take a while to load)."""
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT 'DM' || (1 + i // 4000) || ' ' || (i // 400 % 10)
                                 || chr(65 + CAST(i // 20 % 20 AS INTEGER))
                                 || chr(65 + CAST(i % 20 AS INTEGER)) AS pcds,
                                 'E00900001' AS oa21cd, 'E05900001' AS osward, 'E06009999' AS oslaua,
                                 380000 AS oseast1m, 390000 AS osnrth1m, '' AS doterm, 1 AS osgrdind,
                                 0 AS usertype
                          FROM range({rows}) t(i)) TO '{path.as_posix()}' (HEADER)""")
    con.close()
    return PostcodeDirectory(path=path)


def _cfg(tmp_path: Path, run: str = "t", **extra):
    return tiny_config(tmp_path, [{"name": "svc", "label": "S", "file": str(tmp_path / "svc.csv"),
                                   "columns": {"postcode": "Postcode"}}], run=run, **extra)


def _fake_geography(monkeypatch, write: dict[str, str], fail: bool = False):
    """Replace the geography stage by one that writes `write` (name -> text) to the run's outputs
    (and then fails, if asked): a run that stops after it is fast and writes only what we say."""
    def fake(con, cfg):
        for name, text in write.items():
            (cfg.outputs / name).write_text(text)
        if fail:
            raise RuntimeError("stage failed half way")
    monkeypatch.setattr("pipeline.geography.run", fake)


# --- the postcode reference ---------------------------------------------------------------------


def test_reference_db_naming_the_directory_itself_is_refused(tmp_path):
    spec = _directory(tmp_path / "onspd.csv")
    before = _digest(spec.path)
    with pytest.raises(NotOwnedError, match="postcode directory itself"):
        ensure_reference(spec, spec.path)
    assert _digest(spec.path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["onspd.csv"]  # no .building, no lock


def test_reference_db_naming_another_file_is_refused(tmp_path):
    spec = _directory(tmp_path / "onspd.csv")
    other = tmp_path / "budget.csv"
    other.write_text("line,amount\nlibraries,100\n")
    foreign = tmp_path / "analysis.duckdb"  # a DuckDB database, but not one the pipeline built
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE postcodes AS SELECT 'mine' AS note")
    con.close()
    for target in (other, foreign):
        before = _digest(target)
        with pytest.raises(NotOwnedError, match="not a postcode reference built by this pipeline"):
            ensure_reference(spec, target)
        assert _digest(target) == before
    assert not is_ours(foreign) and not is_ours(other)
    assert not [p for p in tmp_path.iterdir() if ".building" in p.name]


def test_reference_db_that_is_a_folder_is_refused_and_leaves_nothing(tmp_path):
    spec = _directory(tmp_path / "onspd.csv")
    folder = tmp_path / "ref"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")
    with pytest.raises(NotOwnedError, match="a folder, not a database file"):
        ensure_reference(spec, folder)
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
    assert not [p for p in tmp_path.rglob("*") if "building" in p.name or p.name.endswith(".lock")]


def test_reference_built_by_the_pipeline_is_rebuilt_in_place(tmp_path):
    spec = _directory(tmp_path / "onspd.csv")
    db = tmp_path / "ref" / "onspd.duckdb"
    assert ensure_reference(spec, db) is True and is_ours(db)
    os.utime(spec.path, ns=(1, 1))  # the directory changed: the pipeline's own reference is rebuilt
    assert ensure_reference(spec, db) is True
    assert sorted(p.name for p in db.parent.iterdir()) == ["onspd.duckdb", "onspd.duckdb.lock"]


BUILDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from boundaries.reference import ensure_reference
    from pipeline.config import PostcodeDirectory
    go = Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.01)
    print("built" if ensure_reference(PostcodeDirectory(path=sys.argv[1]), Path(sys.argv[2])) else "reused")
""")


def test_two_runs_building_the_same_reference_at_once_both_succeed(tmp_path):
    spec = _directory(tmp_path / "onspd.csv", rows=300_000)
    db, go = tmp_path / "ref" / "onspd.duckdb", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", BUILDER, str(spec.path), str(db), str(go)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    time.sleep(1.5)  # let all three import, then start them together
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in results]
    assert sorted(out.strip() for out, _ in results) == ["built", "reused", "reused"]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM postcodes").fetchall() == [(300_000,)]
    con.close()
    assert not [p for p in db.parent.iterdir() if "building" in p.name]


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pipeline.ownership import hold_lock
    with hold_lock(Path(sys.argv[1]), "test"):
        Path(sys.argv[2]).touch()
        time.sleep(60)
""")


def _hold(lock: Path, tmp_path: Path) -> subprocess.Popen:
    ready = tmp_path / f"ready-{lock.name}"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock), str(ready)], cwd=REPO)
    for _ in range(600):
        if ready.exists():
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the lock holder did not start")


def test_reference_builder_waits_then_names_the_holder(tmp_path):
    spec = _directory(tmp_path / "onspd.csv")
    db = tmp_path / "onspd.duckdb"
    holder = _hold(tmp_path / "onspd.duckdb.lock", tmp_path)
    try:
        t0 = time.monotonic()
        with pytest.raises(RunLockedError, match=f"process {holder.pid}") as err:
            ensure_reference(spec, db, wait=0.6)
        assert time.monotonic() - t0 >= 0.5  # it waited before giving up
        assert "onspd.duckdb.lock" in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    assert ensure_reference(spec, db, wait=5) is True  # the lock dies with its holder


# --- outputs and private folders ----------------------------------------------------------------


def test_outputs_folder_holding_a_foreign_file_is_refused(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    cfg.outputs.mkdir()
    paper = cfg.outputs / "board_paper.docx"
    paper.write_bytes(b"the analyst's own work")
    _fake_geography(monkeypatch, {"report.csv": "new"})
    with pytest.raises(NotOwnedError, match="did not write") as err:
        run_all(cfg, until="geography", progress=False)
    assert isinstance(err.value, FileExistsError)  # the command line prints it as `error: ...`
    assert paper.read_bytes() == b"the analyst's own work"
    assert sorted(p.name for p in cfg.outputs.iterdir()) == ["board_paper.docx"]
    assert not cfg.warehouse.exists()  # refused before anything was written


def test_outputs_and_private_folders_of_another_run_are_refused(tmp_path, monkeypatch):
    _fake_geography(monkeypatch, {"report.csv": "theirs"})
    theirs = _cfg(tmp_path, run="library")
    run_all(theirs, until="geography", progress=False)
    warehouse = _digest(theirs.warehouse)
    mine = _cfg(tmp_path / "mine", run="garden", outputs_dir=str(theirs.outputs))
    with pytest.raises(NotOwnedError, match="outputs of run 'library'"):
        run_all(mine, until="geography", progress=False)
    mine = _cfg(tmp_path / "mine", run="garden", private_dir=str(theirs.private))
    with pytest.raises(NotOwnedError, match="belongs to run 'library'"):
        run_all(mine, until="geography", progress=False)
    assert (theirs.outputs / "report.csv").read_text() == "theirs"
    assert _digest(theirs.warehouse) == warehouse


def test_warehouse_in_an_unmarked_private_folder_is_never_replaced(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    cfg.private.mkdir()
    cfg.warehouse.write_bytes(b"somebody's database")
    _fake_geography(monkeypatch, {})
    with pytest.raises(NotOwnedError, match=PRIVATE_MARKER):
        run_all(cfg, until="geography", progress=False)
    assert cfg.warehouse.read_bytes() == b"somebody's database"
    assert not (cfg.private / PRIVATE_MARKER).exists()


@pytest.mark.parametrize("layout", ["same", "private_inside", "outputs_inside"])
def test_overlapping_outputs_and_private_folders_are_refused(tmp_path, layout):
    folders = {"same": ("shared", "shared"), "private_inside": ("out", "out/private"),
               "outputs_inside": ("data/out", "data")}[layout]
    cfg = _cfg(tmp_path, outputs_dir=str(tmp_path / folders[0]), private_dir=str(tmp_path / folders[1]))
    with pytest.raises(NotOwnedError, match="overlap"):
        run_all(cfg, until="geography", progress=False)
    assert not (tmp_path / folders[0]).exists() and not (tmp_path / folders[1]).exists()


def test_symlinked_outputs_folder_is_refused(tmp_path, monkeypatch):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "notes.txt").write_text("keep")
    cfg = _cfg(tmp_path)
    cfg.outputs.symlink_to(real, target_is_directory=True)
    _fake_geography(monkeypatch, {"report.csv": "new"})
    with pytest.raises(NotOwnedError, match="symbolic link"):
        run_all(cfg, until="geography", progress=False)
    assert cfg.outputs.is_symlink() and [p.name for p in real.iterdir()] == ["notes.txt"]


def test_read_only_outputs_folder_gives_a_clear_error(tmp_path, monkeypatch):
    _fake_geography(monkeypatch, {"report.csv": "first"})
    cfg = _cfg(tmp_path)
    run_all(cfg, until="geography", progress=False)
    cfg.outputs.chmod(0o555)
    if os.geteuid() == 0:  # root writes through permissions: make the folder refuse as it would a user
        real = tempfile.mkstemp

        def mkstemp(*args, dir=None, **kw):
            if dir is not None and Path(dir).resolve() == cfg.outputs.resolve():
                raise PermissionError(errno.EACCES, "Permission denied", str(dir))
            return real(*args, dir=dir, **kw)

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    try:
        with pytest.raises(NotWritableError, match="cannot be written") as err:
            run_all(cfg, until="geography", progress=False)
        assert isinstance(err.value, FileExistsError) and isinstance(err.value, PermissionError)
        assert str(cfg.outputs) in str(err.value)
    finally:
        cfg.outputs.chmod(0o755)
    assert (cfg.outputs / "report.csv").read_text() == "first"
    assert not [p for p in tmp_path.iterdir() if "building" in p.name]


# --- one run at a time; outputs swapped in only when complete -----------------------------------


def test_second_run_with_the_same_name_stops_at_once(tmp_path, monkeypatch):
    _fake_geography(monkeypatch, {"report.csv": "first"})
    cfg = _cfg(tmp_path)
    run_all(cfg, until="geography", progress=False)
    holder = _hold(cfg.private / ownership.RUN_LOCK, tmp_path)  # another process running this run
    try:
        _fake_geography(monkeypatch, {"report.csv": "second"})
        t0 = time.monotonic()
        with pytest.raises(RunLockedError, match=f"run 't'.*process {holder.pid}") as err:
            run_all(cfg, until="geography", progress=False)
        assert time.monotonic() - t0 < 5 and ownership.RUN_LOCK in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    assert (cfg.outputs / "report.csv").read_text() == "first"
    run_all(cfg, until="geography", progress=False)  # the lock went with its holder
    assert (cfg.outputs / "report.csv").read_text() == "second"


def test_two_runs_in_one_process_sharing_an_outputs_folder_do_not_overlap(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    other = _cfg(tmp_path / "b", outputs_dir=str(cfg.outputs))  # another private folder, same outputs
    with claim(cfg):
        with pytest.raises(RunLockedError, match="outputs folder"):
            with claim(other):
                pass


def test_failed_run_leaves_the_previous_outputs_intact(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    _fake_geography(monkeypatch, {"report.csv": "first", "map.html": "first"})
    run_all(cfg, until="geography", progress=False)
    before = {p.name: p.read_text() for p in cfg.outputs.iterdir()}
    assert set(before) == {OUTPUTS_MARKER, "report.csv", "map.html"}
    _fake_geography(monkeypatch, {"report.csv": "half written", "extra.csv": "x"}, fail=True)
    with pytest.raises(RuntimeError, match="half way"):
        run_all(cfg, until="geography", progress=False)
    assert {p.name: p.read_text() for p in cfg.outputs.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".outputs")) == [".outputs.lock"]
    _fake_geography(monkeypatch, {"report.csv": "third"})
    run_all(cfg, until="geography", progress=False)  # locks released: the next run completes
    assert {p.name for p in cfg.outputs.iterdir()} == {OUTPUTS_MARKER, "report.csv"}  # nothing stale


KILLED = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pipeline.ownership import claim
    from tests.helpers import tiny_config
    cfg = tiny_config(Path(sys.argv[1]), [{"name": "svc", "label": "S", "file": "x",
                                           "columns": {"postcode": "Postcode"}}])
    with claim(cfg) as work:
        (work.outputs / "report.csv").write_text("half written")
        Path(sys.argv[2]).touch()
        time.sleep(60)
""")


def test_killed_run_never_leaves_half_written_outputs(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    _fake_geography(monkeypatch, {"report.csv": "complete"})
    run_all(cfg, until="geography", progress=False)
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path), str(ready)], cwd=REPO,
                            env=os.environ | {secret.SECRET_ENV: str(tmp_path / "secret" / "s")})
    for _ in range(600):
        if ready.exists():
            break
        time.sleep(0.05)
    assert ready.exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (cfg.outputs / "report.csv").read_text() == "complete"
    left = [p for p in tmp_path.iterdir() if ".building-" in p.name]
    assert len(left) == 1 and (left[0] / "report.csv").read_text() == "half written"  # hidden, not outputs/
    _fake_geography(monkeypatch, {"report.csv": "next"})
    run_all(cfg, until="geography", progress=False)
    assert (cfg.outputs / "report.csv").read_text() == "next"
    assert not [p for p in tmp_path.iterdir() if ".building-" in p.name or ".old-" in p.name]


def test_outputs_swapped_out_by_a_killed_run_are_restored(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    _fake_geography(monkeypatch, {"report.csv": "complete"})
    run_all(cfg, until="geography", progress=False)
    os.rename(cfg.outputs, tmp_path / ".outputs.old-99999")  # killed between the two renames
    with claim(cfg):
        assert (cfg.outputs / "report.csv").read_text() == "complete"
    assert not (tmp_path / ".outputs.old-99999").exists()


def test_segments_tool_marks_the_outputs_folder_and_refuses_a_foreign_one(demo_data, tmp_path, capsys):
    """`python -m segments` adds to outputs/<run>/ only when it is new or the run's, and marks it, so a
    later `insight run` of the same config accepts the folder."""
    from pipeline.ownership import OUTPUTS_MARKER, marker_run
    from segments.__main__ import main as segments_main
    from tests.helpers import relocated_config

    raw, _ = demo_data
    cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp_path)
    config = tmp_path / "demo.yaml"
    text = config.read_text(encoding="utf-8")
    assert "n_init: 50" in text  # what is asked is of the folders, not the classification's quality
    config.write_text(text.replace("n_init: 50", "n_init: 2"), encoding="utf-8")
    foreign = cfg.outputs / "analyst_notes.txt"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("mine")
    assert segments_main([str(config), "--no-diagnostics"]) == 2
    assert "did not write" in capsys.readouterr().err and foreign.read_text() == "mine"
    foreign.unlink()
    assert segments_main([str(config), "--no-diagnostics"]) == 0
    assert marker_run(cfg.outputs / OUTPUTS_MARKER) == cfg.run
    assert (cfg.outputs / "segments" / "segments_oa.csv").exists()


def test_a_swap_that_fails_names_where_both_sets_of_outputs_are(tmp_path, monkeypatch):
    """Issue 23: when something made the outputs folder between the two renames of the swap, the
    previous outputs were left in a hidden .old-<pid> folder nobody was told of."""
    outputs, building = tmp_path / "outputs", tmp_path / ".outputs.building-1"
    outputs.mkdir()
    (outputs / "previous.csv").write_text("n\n1\n")
    building.mkdir()
    real = os.rename

    def rename(src, dst):
        if Path(src) == building:  # another process makes the folder first
            Path(dst).mkdir()
            raise OSError(errno.EEXIST, "File exists")
        real(src, dst)

    monkeypatch.setattr(ownership.os, "rename", rename)
    with pytest.raises(ownership.NotWritableError) as err:
        ownership._swap_in(building, outputs)
    old = outputs.with_name(f".outputs.old-{os.getpid()}")
    message = str(err.value)
    assert f"the previous outputs are in {old}" in message and f"they are in {building}" in message
    assert (old / "previous.csv").exists() and building.exists()
