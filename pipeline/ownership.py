"""Where a run may write, and how it writes there without destroying anything else.

A run writes only in three places: its shareable outputs folder (`outputs/<run>/`), its private
folder (`data/<run>/`) and a postcode reference database it built (`boundaries.reference`). The
lists of what a run reads and where it may write are `pipeline.paths`'s, shared with the config
checks.
Each is recognised by a marker the pipeline left there, never by its name alone:

* the outputs folder holds `.insight-outputs` naming the run. A folder that exists, holds anything
  and has no marker (an analyst's folder, another tool's) is refused and left untouched, as is one
  whose marker names another run;
* the private folder holds `.insight-private` naming the run. A warehouse in a folder without the
  marker is never replaced; a private folder whose marker names another run is refused;
* outputs and private folders may not be the same folder or lie one inside the other, the
  outputs folder may not be a symbolic link, and no input file or the installation's secret may
  lie inside the outputs folder (which each run replaces).

One run at a time per folder: `data/<run>/.insight-run.lock` and `outputs/.<run>.lock` are held
(an exclusive `flock`, released by the system even when the process is killed) for the whole
run; a second run stops at once, naming the lock and the process holding it.

Outputs are built in a temporary sibling folder, `outputs/.<run>.building-<pid>`, and swapped in
by renaming only when every stage has finished; the previous outputs are removed only then. A run
that fails leaves the previous `outputs/<run>/` as it was; one that is killed leaves a hidden
temporary folder, removed by the next run of that name.

Every refusal is a :class:`NotOwnedError` (a ``FileExistsError``: the command line prints it as
``error: ...`` and exits with status 2).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.config import RunConfig
from pipeline.errors import InsightError
from pipeline.paths import PRIVATE_FILE, inside, private_folder, private_writes, protected

logger = logging.getLogger(__name__)

OUTPUTS_MARKER = ".insight-outputs"
PRIVATE_MARKER = ".insight-private"
RUN_LOCK = ".insight-run.lock"
WAREHOUSE_MARKER_TABLE = "insight_warehouse"


class NotOwnedError(InsightError, FileExistsError):
    """A file or folder the run does not own, or may not use as asked: refused, left untouched."""


class RunLockedError(NotOwnedError):
    """Another process holds the lock of the run, its outputs folder or a reference database."""


class NotWritableError(NotOwnedError, PermissionError):
    """A folder the run needs to write cannot be written (read-only, or not this user's)."""


# --- markers ------------------------------------------------------------------------------------


def _marker_text(kind: str, run: str) -> str:
    what = ("shareable outputs, replaced as a whole by every run" if kind == "outputs"
            else "private data; the warehouse here is replaced by every run")
    return f"made by insight: {what}\nrun: {run}\n"


def marker_run(marker: Path) -> str | None:
    """The run a marker file names; '' for a marker from before markers named their run; None
    when there is no marker."""
    if not marker.is_file():
        return None
    for line in marker.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("run: "):
            return line.removeprefix("run: ").strip()
    return ""


def write_marker(folder: Path, kind: str, run: str) -> None:
    name = OUTPUTS_MARKER if kind == "outputs" else PRIVATE_MARKER
    (folder / name).write_text(_marker_text(kind, run), encoding="utf-8")


# --- locks --------------------------------------------------------------------------------------


def _lock_holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        pid = ""
    return f"process {pid}" if pid.isdigit() else "another process"


@contextmanager
def hold_lock(path: Path, what: str, wait: float = 0.0, poll: float = 0.2) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed, holding the holder's pid) for the
    `with` block. When another process holds it, wait up to `wait` seconds, then raise
    RunLockedError naming the lock and the holder."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    except OSError as exc:
        raise NotWritableError(f"cannot make the lock {path} for {what} ({exc.strerror}); "
                               "make the folder writable or choose another one") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait:.0f} s" if wait else ""
                    raise RunLockedError(
                        f"{what} is in use by {_lock_holder(path)} (lock {path}){waited}; wait for "
                        "it to finish, or use another run name") from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --- checks -------------------------------------------------------------------------------------


def _probe_write(folder: Path, what: str) -> None:
    """Raise NotWritableError unless a file can be made (and removed) in `folder`."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".insight-probe-")
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise NotWritableError(
            f"{what} {folder} cannot be written ({exc.strerror or exc}); make it writable for this "
            "user or choose another folder in the run config") from None


def _mkdir(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotOwnedError(f"{what} {folder} cannot be made: a file of that name is in the way; "
                            "choose another folder in the run config") from None
    except OSError as exc:
        raise NotWritableError(f"{what} {folder} cannot be made ({exc.strerror or exc}); choose a "
                               "folder this user can write") from None


def check_layout(cfg: RunConfig) -> None:
    """Refuse folder settings that would let a run write over what it does not own."""
    from pipeline.secret import secret_path

    outputs, private = Path(cfg.outputs), Path(cfg.private)
    if outputs.is_symlink():
        raise NotOwnedError(
            f"outputs folder {outputs} is a symbolic link (to {os.readlink(outputs)}); a run replaces "
            "its outputs folder as a whole, so set outputs_dir to the real folder")
    out = outputs.resolve()
    if out == out.parent:
        raise NotOwnedError(f"outputs folder {outputs} is the root of a file system; set outputs_dir "
                            "to a folder of its own")
    if out.exists() and not out.is_dir():
        raise NotOwnedError(f"outputs folder {outputs} is a file, not a folder; set outputs_dir to a "
                            "new or empty folder")
    if inside(private, out) or inside(out, private):
        raise NotOwnedError(
            f"outputs folder {outputs} and private folder {private} overlap: private data must never "
            "lie in the shareable folder, and the shareable folder is replaced by every run; set "
            "outputs_dir and private_dir to two separate folders")
    if inside(secret_path(), out):
        raise NotOwnedError(f"the installation's secret key {secret_path()} lies inside the outputs "
                            f"folder {outputs}; set outputs_dir to another folder")
    for key, path in protected(cfg).items():  # every input and the reference database (pipeline.paths)
        if inside(path, out):
            raise NotOwnedError(f"{key}: {path} lies inside the outputs folder {outputs}, which every "
                                "run replaces; move the file or set outputs_dir to another folder")


def _check_private(cfg: RunConfig) -> str | None:
    """Refuse a private folder owned by another run or holding a warehouse the pipeline did not
    make; return the run its marker names (None: no marker yet)."""
    private = Path(cfg.private)
    if private.exists() and not private.is_dir():
        raise NotOwnedError(f"private folder {private} is a file, not a folder; set private_dir to a "
                            "folder")
    owner = marker_run(private / PRIVATE_MARKER)
    if owner and owner != cfg.run:
        raise NotOwnedError(f"private folder {private} belongs to run '{owner}', not '{cfg.run}'; "
                            "set private_dir to a folder of this run's own")
    warehouse = Path(cfg.warehouse)
    if warehouse.exists() or warehouse.is_symlink():
        if not warehouse.is_file() or warehouse.is_symlink():
            raise NotOwnedError(f"{warehouse} is not a warehouse file the pipeline made (a folder or a "
                                "link); move it away or set private_dir to another folder")
        if owner is None:
            raise NotOwnedError(
                f"private folder {private} holds {warehouse.name}, but not the marker {PRIVATE_MARKER} "
                "a run leaves; it was not made by this pipeline (or by a version before the marker), "
                "so it is not replaced. Move or delete it yourself, or set private_dir to a new folder")
    return owner


def prepare_private(cfg: RunConfig) -> None:
    """Make the private folder, check it (`_check_private`) and that it can be written, and mark
    it as the run's."""
    private = Path(cfg.private)
    _mkdir(private, "private folder")
    private_folder(private)  # 0700, whatever the umask
    owner = _check_private(cfg)
    _probe_write(private, "private folder")
    if owner != cfg.run:
        with private_writes(private / PRIVATE_MARKER):
            write_marker(private, "private", cfg.run)


def _check_outputs(outputs: Path, run: str) -> None:
    if outputs.is_dir():
        owner = marker_run(outputs / OUTPUTS_MARKER)
        if owner is None and any(outputs.iterdir()):
            raise NotOwnedError(
                f"outputs folder {outputs} holds files the pipeline did not write (it has no "
                f"{OUTPUTS_MARKER} marker), so it is not replaced; set outputs_dir in the run config "
                "to a new or empty folder")
        if owner and owner != run:
            raise NotOwnedError(f"outputs folder {outputs} holds the outputs of run '{owner}', not "
                                f"'{run}'; set outputs_dir to a folder of this run's own")
        _probe_write(outputs, "outputs folder")
    _probe_write(outputs.parent, "folder of the outputs")


def _siblings(outputs: Path, kind: str) -> list[Path]:
    prefix = f".{outputs.name}.{kind}-"
    return sorted(p for p in outputs.parent.iterdir() if p.name.startswith(prefix) and p.is_dir()
                  and not p.is_symlink() and (p / OUTPUTS_MARKER).is_file())


def _tidy_stale(outputs: Path) -> None:
    """Under the outputs lock every temporary sibling is a dead run's: remove the half-built ones;
    put back previous outputs a run was killed in the middle of swapping out."""
    for stale in _siblings(outputs, "building"):
        logger.info("Removing %s, left by a run that did not finish", stale)
        shutil.rmtree(stale)
    for old in _siblings(outputs, "old"):
        if not outputs.exists():
            logger.info("Restoring %s from %s, left by a run killed while swapping", outputs, old)
            os.rename(old, outputs)
        else:
            shutil.rmtree(old)


def _swap_in(building: Path, outputs: Path) -> None:
    """Put the finished outputs in place; the previous ones are removed only once the new are."""
    old = outputs.with_name(f".{outputs.name}.old-{os.getpid()}")
    try:
        if outputs.exists():
            os.rename(outputs, old)
        os.rename(building, outputs)
    except OSError as exc:
        if old.exists() and not outputs.exists():
            os.rename(old, outputs)
        kept = (f"; the previous outputs are in {old} (something else made {outputs} meanwhile): "
                "compare the two and keep one, the next run removes the hidden copy" if old.exists() else "")
        raise NotWritableError(f"cannot put the finished outputs in {outputs} ({exc.strerror or exc}); "
                               f"they are in {building}{kept}") from None
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
        if old.exists():  # left for the next run's tidy, which removes it under the lock
            logger.warning("Could not remove the previous outputs in %s; the next run will", old)
    logger.info("Outputs complete: moved from %s into %s", building, outputs)


@contextmanager
def adding_to_outputs(cfg: RunConfig) -> Iterator[None]:
    """For tools that add to a run's outputs folder in place (`python -m segments`): the folder must
    be new or this run's; it is marked as the run's and locked while the block writes."""
    check_layout(cfg)
    outputs = Path(cfg.outputs)
    _mkdir(outputs.parent, "folder of the outputs")
    with hold_lock(outputs.parent / f".{outputs.name}.lock", f"outputs folder {outputs}"):
        _check_outputs(outputs, cfg.run)
        _mkdir(outputs, "outputs folder")
        write_marker(outputs, "outputs", cfg.run)
        yield


@contextmanager
def claim(cfg: RunConfig) -> Iterator[RunConfig]:
    """Check and lock the run's folders, then yield a working copy of `cfg` whose outputs go to a
    temporary sibling folder; when the block finishes, swap the new outputs in; when it raises (or
    the process is interrupted), remove them and leave the previous outputs as they were."""
    check_layout(cfg)
    outputs = Path(cfg.outputs)
    _check_private(cfg)  # before the first write (the locks); checked again under them
    if outputs.parent.is_dir():
        _check_outputs(outputs, cfg.run)
    _mkdir(Path(cfg.private), "private folder")
    private_folder(cfg.private)  # 0700 before the lock is made in it
    _mkdir(outputs.parent, "folder of the outputs")
    with hold_lock(Path(cfg.private) / RUN_LOCK, f"run '{cfg.run}' (private folder {cfg.private})"), \
         hold_lock(outputs.parent / f".{outputs.name}.lock", f"outputs folder {outputs}"):
        prepare_private(cfg)
        _check_outputs(outputs, cfg.run)
        _tidy_stale(outputs)
        building = outputs.with_name(f".{outputs.name}.building-{os.getpid()}")
        if building.exists():  # this very process's, from an earlier run that failed to clean up
            shutil.rmtree(building)
        _mkdir(building, "temporary outputs folder")
        write_marker(building, "outputs", cfg.run)
        try:
            yield cfg.model_copy(update={"outputs_dir": building})
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        _swap_in(building, outputs)



# --- check: what `insight validate` asks of the run's folders ---------------------------------------


def _nearest_existing(folder: Path) -> Path:
    folder = folder.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check(cfg: RunConfig) -> list[str]:
    """Each run folder can be made and written, the outputs folder is a real folder (not a link)
    and holds nothing the pipeline did not write (the run would refuse to empty it)."""
    problems = []
    for key, folder in (("outputs_dir", Path(cfg.outputs)), ("private_dir", Path(cfg.private))):
        if folder.is_symlink():
            problems.append(f"{key}: {folder} is a symbolic link (to {folder.resolve()}). Fix: set {key} "
                            "to the real folder")
            continue
        base = _nearest_existing(folder)
        if not base.is_dir():
            problems.append(f"{key}: {folder} cannot be made, because {base} is a file. Fix: choose "
                            "another folder")
        elif not os.access(base, os.W_OK | os.X_OK):
            problems.append(f"{key}: {folder} cannot be written ({base} is read-only for this user). "
                            "Fix: choose a folder you can write, or ask for write access")
    out = Path(cfg.outputs)
    if out.is_dir() and not out.is_symlink() and any(out.iterdir()) and not (out / OUTPUTS_MARKER).exists():
        problems.append(f"outputs_dir: {out} holds files the pipeline did not write, and a run empties "
                        "its outputs folder. Fix: set outputs_dir to a new or empty folder")
    return problems
