"""Where a run reads and where it may write: the one module that decides, for every check.

**Reads** (`inputs(cfg)`): every input file or folder the config names, keyed by where the config
names it: the geography files (boundaries, wards, OA->ward lookup, postcode directory, gazetteer,
each ONSUD file its glob matches), the census folder and each census file its pattern matches, the
segmentation files (variables, added variables, reference ranges, names, a lookup with its names
and its key -> OA link), each service's extract, the access service points, centroids and
candidate sites.

**Writes**: a run writes only in its shareable outputs folder (`outputs_dir`, replaced as a whole
by every run), its private folder (`private_dir`, holding the warehouse), the postcode reference
database it may build (`geography.postcode_directory.reference_db`) and, with `engine: spark`, the
reference tables' Parquet cache (`spark.reference_cache`, checked by `pipeline.spark.reference`).
`folder_problems` and `reference_problems` say what is wrong with those settings (at
`load_config`); `protected(cfg)` is everything that must not lie inside the outputs folder (every
input, and the reference database), which `pipeline.ownership.check_layout` refuses again when a
run claims its folders. `inside` is the one test of a path lying in a folder.

**Relative paths** (`anchored`): every relative path a config file names for the run to read (the
inputs above, and the reference database beside them) is read from the config file's folder,
whatever the working folder (as compose and most tools do): `load_config` makes each one absolute
against that folder before anything reads it, so every check and error names the resolved path.
The two folders a run writes, `private_dir` and `outputs_dir` (`WORKING_FOLDER_FIELDS`; by default
`data/<run>` and `outputs/<run>`), are relative to the working folder, as every path typed on the
command line (`--out`, `--sources`, ...) is: the shareable and private trees they are checked
against (`outputs/`, `data/`, `folder_problems`) are the working folder's, so an explicit
`outputs_dir: outputs/x` means what the default means, and a run never writes beside a config
kept in a shared or read-only folder.

`pipeline.config.load_config` and `missing_files`, `pipeline.ownership` and, through them,
`pipeline.validate` all take their lists from here, so a file the config gains is checked by all.

**Private files** (`private_writes`, `private_folder`, `make_private`): everything a run writes in
its private folder is readable by its owner only, files 0600 and folders 0700, whatever the umask:
the folder itself (`pipeline.ownership`), the warehouse (`pipeline.warehouse.connect`), the rejects
(`pipeline.geocode.write_rejects`), the run summary (`pipeline.summary.write`), the unsuppressed
profiles and match report (`pipeline.publish.stage.write_private`), the area cache
(`pipeline.geography`), the markers and lock; `sql.log`, the manifest and the secret are opened
0600 by their own writers (`pipeline.executor`, `pipeline.privacy`, `pipeline.secret`).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.config import RunConfig

#: The repository root: the folder holding the `pipeline` package.
REPO_ROOT = Path(__file__).resolve().parents[1]


def _resolved(path: Path | str) -> Path:
    return Path(path).expanduser().resolve()


def inside(path: Path | str, folder: Path | str) -> bool:
    """True when `path` is `folder` or lies below it (both resolved)."""
    path, folder = _resolved(path), _resolved(folder)
    return path == folder or folder in path.parents


def _anchor(path: Path | str, folder: Path) -> Path | str:
    """`path` read from `folder` when relative (`~` expanded), normalised; absolute paths as given.
    A glob (a str) stays a str."""
    given = os.path.expanduser(str(path))
    absolute = os.path.normpath(given if os.path.isabs(given) else os.path.join(folder, given))
    return absolute if isinstance(path, str) else Path(absolute)


#: The run config's fields naming where a run writes: relative to the working folder, not anchored.
WORKING_FOLDER_FIELDS = ("private_dir", "outputs_dir")


def anchored(cfg: RunConfig, folder: Path | str) -> RunConfig:
    """`cfg` with every relative path it names read from `folder` (the config file's folder): each
    `Path` field of every block but `WORKING_FOLDER_FIELDS`, and the UPRN lookup's glob. Changed in
    place and returned."""
    from pydantic import BaseModel

    folder = Path(os.path.abspath(os.path.expanduser(str(folder))))
    stack: list[BaseModel] = [cfg]
    while stack:
        block = stack.pop()
        for name in type(block).model_fields:
            value = getattr(block, name)
            if block is cfg and name in WORKING_FOLDER_FIELDS:
                continue
            if isinstance(value, Path):
                setattr(block, name, _anchor(value, folder))
            elif isinstance(value, BaseModel):
                stack.append(value)
            elif isinstance(value, list | tuple):
                stack += [v for v in value if isinstance(v, BaseModel)]
            elif isinstance(value, dict):
                stack += [v for v in value.values() if isinstance(v, BaseModel)]
    if cfg.geography is not None and cfg.geography.uprn_lookup is not None:
        cfg.geography.uprn_lookup.path = _anchor(cfg.geography.uprn_lookup.path, folder)
    return cfg


def inputs(cfg: RunConfig) -> dict[str, Path]:
    """Every input file the config names (census and ONSUD files as their globs match, and the
    census folder itself), keyed by where the config names it."""
    g, seg = cfg.geography, cfg.segmentation
    files = {} if g is None else {
        "geography.oa_boundaries.path": g.oa_boundaries.path, "geography.wards.path": g.wards.path,
        "geography.postcode_directory.path": g.postcode_directory.path}
    optional = {"geography.oa_to_ward.path": g and g.oa_to_ward and g.oa_to_ward.path,
                "geography.gazetteer.path": g and g.gazetteer and g.gazetteer.path,
                "segmentation.variables": seg.variables, "segmentation.add_variables": seg.add_variables,
                "segmentation.reference": seg.reference, "segmentation.names": seg.names,
                "segmentation.lookup.path": seg.lookup and seg.lookup.path,
                "segmentation.lookup.names": seg.lookup and seg.lookup.names,
                "segmentation.lookup.to_oa.path": seg.lookup and seg.lookup.to_oa and seg.lookup.to_oa.path}
    files.update({k: Path(v) for k, v in optional.items() if v})
    if g is not None and g.uprn_lookup:
        files.update({f"geography.uprn_lookup.path ({Path(m).name})": Path(m)
                      for m in sorted(glob.glob(g.uprn_lookup.path))})
    files["census.dir"] = Path(cfg.census.dir)
    census_glob = cfg.census.pattern.replace("{table}", "*")
    if Path(cfg.census.dir).is_dir():
        files.update({f"census.dir ({m.name})": m for m in sorted(Path(cfg.census.dir).glob(census_glob))})
    files.update({f"services[{i}].file ({s.name})": s.file for i, s in enumerate(cfg.services)})
    files.update({f"access.points.{k}": v.path for k, v in cfg.access.points.items()})
    if cfg.access.centroids is not None:
        files["access.centroids"] = cfg.access.centroids.path
    files.update({f"services[{i}].access.candidates ({s.name})": s.access.candidates.path
                  for i, s in enumerate(cfg.services) if s.access and s.access.candidates})
    return files


def _not_repository(key: str, folder: Path) -> list[str]:
    """A run folder must not be (or hold) the repository, a config folder or another file."""
    roots = {REPO_ROOT, Path.cwd().resolve()}
    if any(inside(root, folder) for root in roots):
        return [f"{key}: {folder} is the repository or a folder holding it; emptying it at the start "
                "of a run would delete the project. Fix: name a folder of its own, such as "
                "outputs/<run> or data/<run>"]
    if (folder / "config").is_dir() or (folder / ".git").exists():
        return [f"{key}: {folder} holds a config/ or .git folder, so it is not a folder a run may "
                "own. Fix: name a new folder of its own, such as outputs/<run> or data/<run>"]
    if folder.exists() and not folder.is_dir():
        return [f"{key}: {folder} is an existing file, not a folder. Fix: name a folder"]
    return []


def protected(cfg: RunConfig) -> dict[str, Path]:
    """Everything that must not lie inside the outputs folder, which every run replaces: every
    input (`inputs`) and the postcode reference database."""
    files = inputs(cfg)
    ref = cfg.geography and cfg.geography.postcode_directory.reference_db
    if ref:
        files["geography.postcode_directory.reference_db"] = Path(ref)
    return files


def folder_problems(cfg: RunConfig) -> list[str]:
    """Problems with where the run writes: outputs_dir (shareable) and private_dir (record-level
    data) must be separate, neither inside the other's tree nor the repository."""
    out, priv = _resolved(cfg.outputs), _resolved(cfg.private)
    shareable, private = _resolved("outputs"), _resolved("data")
    fix = "Fix: keep them apart, e.g. the defaults outputs/<run> and data/<run>"
    problems = []
    if out == priv:
        problems.append(f"outputs_dir and private_dir are the same folder {out}: the warehouse, rejects "
                        f"and unsuppressed tables would sit among the shareable outputs. {fix}")
    elif inside(priv, out):
        problems.append(f"private_dir {priv} is inside outputs_dir {out}: record-level data would be "
                        f"shared with the outputs. {fix}")
    elif inside(out, priv):
        problems.append(f"outputs_dir {out} is inside private_dir {priv}: shareable and private files "
                        f"would mix. {fix}")
    if inside(priv, shareable):
        problems.append(f"private_dir {priv} is inside outputs/, the shareable tree: the warehouse and "
                        "unsuppressed tables would be shared. Fix: put it under data/ (default data/<run>)")
    if inside(out, private):
        problems.append(f"outputs_dir {out} is inside data/, the private tree. Fix: put it under "
                        "outputs/ (default outputs/<run>)")
    if out == shareable:
        problems.append(f"outputs_dir {out} is outputs/ itself, which holds every run's outputs. "
                        "Fix: name a folder for this run, such as outputs/<run>")
    if priv == private:
        problems.append(f"private_dir {priv} is data/ itself, which holds every run's data. "
                        "Fix: name a folder for this run, such as data/<run>")
    problems += _not_repository("outputs_dir", out) + _not_repository("private_dir", priv)
    read = {k: _resolved(v) for k, v in inputs(cfg).items()}
    problems += [f"{k}: {v} is inside outputs_dir {out}, which is emptied at the start of every run. "
                 "Fix: keep input files outside the outputs folder"
                 for k, v in read.items() if inside(v, out)]
    return problems


def reference_problems(cfg: RunConfig) -> list[str]:
    """Problems with geography.postcode_directory.reference_db, the one file a run may replace
    outside its folders: it must not be an input of the run, a folder, the warehouse or in outputs."""
    ref = cfg.geography and cfg.geography.postcode_directory.reference_db
    if ref is None:
        return []
    key, ref = "geography.postcode_directory.reference_db", _resolved(ref)
    fix = "Fix: name a new file of its own, such as data/reference/onspd.duckdb"
    problems = [f"{key}: {ref} is also an input of this run ({where}); building the reference would "
                f"overwrite it. {fix}" for where, path in inputs(cfg).items() if _resolved(path) == ref]
    if ref.is_dir():
        problems.append(f"{key}: {ref} is an existing folder, not a file. Fix: name a file inside it, "
                        f"such as {ref / 'onspd.duckdb'}")
    if ref == _resolved(cfg.warehouse):
        problems.append(f"{key}: {ref} is the run's warehouse, which is deleted at the start of every "
                        f"run. {fix}")
    if inside(ref, _resolved(cfg.outputs)):
        problems.append(f"{key}: {ref} is inside outputs_dir, which is emptied at the start of every "
                        f"run. {fix}")
    return problems


# --- private files: readable by their owner only, whatever the umask -----------------------------

#: Modes of what a run writes in its private folder (data/<run>/): files 0600, folders 0700.
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def make_private(*paths: Path | str) -> None:
    """Set each path that exists to PRIVATE_FILE (a file) or PRIVATE_FOLDER (a folder, and every file
    and folder in it): also what an older run, or another umask, left readable. Links are left
    alone (never followed)."""
    for path in map(Path, paths):
        if path.is_symlink() or not path.exists():
            continue
        if path.is_dir():
            os.chmod(path, PRIVATE_FOLDER)
            for child in path.rglob("*"):
                if not child.is_symlink():
                    os.chmod(child, PRIVATE_FOLDER if child.is_dir() else PRIVATE_FILE)
        else:
            os.chmod(path, PRIVATE_FILE)


def private_folder(folder: Path | str) -> Path:
    """Make `folder` (and its missing parents) and set it to PRIVATE_FOLDER; return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, PRIVATE_FOLDER)
    return folder


@contextmanager
def private_writes(*paths: Path | str) -> Iterator[None]:
    """The one way to write into the private folder: while open, every file and folder made gets no
    group or other permission (umask 077), for writers that take no mode (DuckDB, pandas); on
    leaving, `make_private(*paths)`, so a file an older run left readable is made private too. The
    umask is the process's own and restored on leaving; the pipeline writes from one thread."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)
        make_private(*paths)
