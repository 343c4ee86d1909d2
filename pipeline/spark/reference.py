"""The national reference tables of a Spark run, read from a Parquet cache kept between runs.

The postcode directory (ONSPD / NSPL about 2.7M postcodes, Code-Point Open about 1.7M) is the same
for every run of a release. DuckDB loads it once into the reference database
(`boundaries.reference`); a Spark run reads it from **one Parquet dataset per directory release**,
written once by DuckDB and read by Spark on every later run without touching DuckDB for it:

* **where**: `spark.reference_cache` in the run config, else `<private_dir>/spark/reference`
  (`folder`). Several runs (a national programme's quarterly runs, a combined authority's partners)
  share one cache by naming the same folder; the first run to need a release writes it, under the
  cache's lock (`.lock`: a second run waits, then reads what the first wrote);
* **keyed** by the fingerprint `boundaries.reference` already keeps for reusing the reference
  database (`_fingerprint`: the directory file's path, size and modification time, its column
  settings, and a hash of the loading SQL with the postcode macros). The dataset is
  `postcodes-<sha256 of the fingerprint, 16 hex>/` and holds the whole fingerprint in
  `_insight_fingerprint.json` (written last: a dataset without it is unfinished). A directory, a
  column setting or a postcode rule that changed gives another fingerprint: the dataset is rebuilt,
  and the stale one removed, never read;
* **partitioned by postcode area** (`pc_area=M/`, `pc_area=WA/`, ...: `pc_area` of
  `pipeline.address.postcode`, the letters a key's outward code starts with), so a cluster reads
  the directory as about 120 files of similar size and Spark's planner broadcasts it or joins it by
  shuffle as it prefers (`spark.sql.autoBroadcastJoinThreshold`);
* **private** as the run's folder is (`pipeline.paths`): the cache folder 0700, its files 0600. The
  directory is open data, but the folder may sit beside record-level files and is treated alike.
  A folder that exists and is not a cache this module made (no `.insight-spark-reference` marker)
  is refused and left as it is, as are links.

The **UPRN lookup** (ONSUD / NSUL, about 40M UPRNs) is cached the same way (`uprns`): the dataset
`uprn-<hash>/` holds every row of its files keyed (`uprn_lookup_keyed.sql`: the UPRN by the UPRN
rule, the postcode by `pc_key`), national, partitioned by the postcode's area, under a fingerprint
made by the same rule (each file's path, size and modification time, the column settings, a hash
of the loading SQL and macros). A UPRN listed twice in the files is refused when the dataset is
written. On each run DuckDB no longer reads the lookup: Spark keeps the area's rows of the dataset
with `uprn_lookup_rows.sql`, the DuckDB path's own statement.

What is area-specific stays per run and small: `ref_oa` (the area's OAs and wards), the
gazetteer's UPRNs and, for a directory without OAs (Code-Point), `ref_postcode_oa` (the area's
postcode points placed in its OAs), from which Spark makes `ref_postcodes` with
`pipeline.geography.placed_view_sql`, the DuckDB path's view.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

from boundaries.reference import BUILD_WAIT, directory_fingerprint
from pipeline.address import postcode, uprn, uprn_lookup
from pipeline.checks import Problem
from pipeline.config import RunConfig
from pipeline.errors import GeographyError, InsightError
from pipeline.geography import file_stat
from pipeline.ownership import hold_lock
from pipeline.paths import PRIVATE_FILE, inside, make_private, private_folder, private_writes
from pipeline.privacy.inventory import SPARK_FOLDER, SPARK_REFERENCE
from pipeline.warehouse import SQL_DIR, execute, ident, literal

logger = logging.getLogger(__name__)

#: The file marking a folder as a reference cache this module made.
MARKER = ".insight-spark-reference"
#: In each dataset, the whole fingerprint it was written from (Spark and DuckDB skip `_` files).
FINGERPRINT_FILE = "_insight_fingerprint.json"
#: The partition column: the postcode area (`pc_area`, pipeline.address.postcode).
PARTITION = "pc_area"


class ReferenceCacheError(InsightError):
    """The reference cache's folder is not one the pipeline may write."""


def folder(cfg: RunConfig) -> Path:
    """The cache folder: `spark.reference_cache`, else the run's private `spark/reference`."""
    chosen = cfg.spark.reference_cache if cfg.spark else None
    return Path(chosen) if chosen is not None else Path(cfg.private) / SPARK_FOLDER / SPARK_REFERENCE


def problems(cfg: RunConfig) -> list[Problem]:
    """What is wrong with where the cache would be written (for `insight validate`): inside the
    outputs folder (replaced by every run, and shareable), a link or a file, or an existing folder
    the pipeline did not make."""
    if cfg.engine != "spark":
        return []
    where = folder(cfg)
    key = "spark.reference_cache"
    fix = "Fix: name a folder of its own, such as data/reference/spark (or leave the setting out)"
    if inside(where, cfg.outputs):
        return [f"{key}: {where} is inside outputs_dir {Path(cfg.outputs)}, which is shareable and "
                f"emptied by every run. {fix}"]
    why = refusal(where)
    return [f"{key}: {why}. {fix}"] if why else []


def refusal(where: Path) -> str | None:
    """Why the pipeline may not write the cache at `where` (None when it may)."""
    if where.is_symlink():
        return f"{where} is a link; a cache is never written through one"
    if where.exists() and not where.is_dir():
        return f"{where} is a file, not a folder"
    if where.is_dir() and any(where.iterdir()) and not (where / MARKER).is_file():
        return (f"{where} holds files and is not a reference cache the pipeline made (no {MARKER}); "
                "it is left as it is")
    return None


def digest(fingerprint: str) -> str:
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


def dataset_path(where: Path, name: str, fingerprint: str) -> Path:
    return where / f"{name}-{digest(fingerprint)}"


def is_current(path: Path, fingerprint: str) -> bool:
    """The dataset at `path` was written completely, from `fingerprint`."""
    stamp = path / FINGERPRINT_FILE
    return (path.is_dir() and not path.is_symlink() and stamp.is_file()
            and stamp.read_text(encoding="utf-8") == fingerprint)


def export_sql(query: str, target: Path) -> str:
    """Write the rows of DuckDB query `query` (with a `pc_key` column) as a Parquet dataset at
    `target` (a folder the pipeline chose), partitioned by postcode area."""
    return (f"COPY (SELECT q.*, pc_area(q.pc_key) AS {PARTITION} FROM ({query}) q ORDER BY q.pc_key) "
            f"TO {literal(target.as_posix())} (FORMAT parquet, PARTITION_BY ({PARTITION}))")


def table_sql(table: str) -> str:
    return f"SELECT * FROM {ident(table)}"


def ensure(con: duckdb.DuckDBPyConnection, where: Path, name: str, fingerprint: str,
           query: str | Callable[[], str], params: list | None = None,
           check: Callable[[Path], None] | None = None, wait: float = BUILD_WAIT) -> tuple[Path, bool]:
    """The dataset `name` of the cache at `where` for `fingerprint`, written from DuckDB query
    `query` (bound `params`; a callable is asked for it only when the dataset is written) unless it
    is current; returns (its folder, whether it was written now). `check(dataset)` may refuse what
    was written (raising); nothing is then kept. Stale versions of `name` are removed once the
    current one is in place."""
    path = dataset_path(where, name, fingerprint)
    if is_current(path, fingerprint):
        logger.info("Spark reference cache: %s is current (%s)", name, path)
        return path, False
    why = refusal(where)
    if why:
        raise ReferenceCacheError(f"spark.reference_cache: {why}. Fix: name a folder of its own, such as "
                                  "data/reference/spark (or leave the setting out)")
    private_folder(where)
    (where / MARKER).touch(mode=PRIVATE_FILE)
    with hold_lock(where / ".lock", f"the Spark reference cache {where}", wait=wait):
        if is_current(path, fingerprint):  # another run wrote it while this one waited
            return path, False
        for old in where.iterdir():  # unfinished builds (none runs: the lock) and stale versions
            if old.is_dir() and not old.is_symlink() and (old.name.startswith(f".{name}-")
                                                          or old.name.startswith(f"{name}-")):
                shutil.rmtree(old)
        building = where / f".{path.name}.building-{os.getpid()}"
        text = query() if callable(query) else query
        postcode.install(con)  # pc_area, the partition
        try:
            with private_writes(building):
                execute(con, f"spark_reference_{name}", export_sql(text, building), params)
                if check is not None:
                    check(building)
                (building / FINGERPRINT_FILE).write_text(fingerprint, encoding="utf-8")
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        make_private(building)
        building.rename(path)
    logger.info("Spark reference cache: %s written to %s", name, path)
    return path, True


def directory(con: duckdb.DuckDBPyConnection, cfg: RunConfig, base: str) -> tuple[Path, bool]:
    """The postcode directory's dataset (DuckDB table or view `base`, as `pipeline.geography`
    loaded it: one row per postcode key), keyed by the reference database's fingerprint."""
    spec = cfg.geography.postcode_directory
    return ensure(con, folder(cfg), "postcodes", directory_fingerprint(spec), table_sql(base))


# --- the UPRN lookup (ONSUD / NSUL) ---------------------------------------------------------------


def lookup_fingerprint(cfg: RunConfig) -> str:
    """What the UPRN lookup's dataset is made from, by the reference database's rule
    (`boundaries.reference`): each file the glob matches (path, size, modification time, as
    `pipeline.geography` fingerprints its files), the column settings, and a hash of the loading
    SQL with the postcode and UPRN macros."""
    spec = cfg.geography.uprn_lookup
    files = [f for match in sorted(glob.glob(spec.path)) for f in file_stat(Path(match))]
    loader = hashlib.sha256(((SQL_DIR / "uprn_lookup_keyed.sql").read_text(encoding="utf-8")
                             + uprn_lookup.SOURCE + postcode.MACROS + uprn.MACROS).encode()).hexdigest()
    return json.dumps({"files": files, "columns": spec.columns.model_dump(), "loader": loader},
                      sort_keys=True)


def duplicates_sql(dataset: Path) -> str:
    """The first UPRNs listed more than once in the UPRN dataset written at `dataset`."""
    return (f"SELECT uprn FROM read_parquet({literal((dataset / '*' / '*.parquet').as_posix())}) "
            "WHERE uprn IS NOT NULL GROUP BY uprn HAVING count(*) > 1 ORDER BY uprn LIMIT 10")


def uprns(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> tuple[Path, bool] | None:
    """The UPRN lookup's dataset (every row of the files, keyed: uprn_lookup_keyed.sql, national;
    the run keeps its area's rows on Spark), or None when the run has no lookup. A UPRN listed
    twice in the files is refused as the DuckDB path refuses one listed twice in the area."""
    spec = cfg.geography.uprn_lookup
    if spec is None:
        return None

    def check(dataset: Path) -> None:
        dups = execute(con, "spark_reference_uprn_duplicates", duplicates_sql(dataset), fetch="all")
        if dups:
            raise GeographyError([f"{spec.path}: UPRN(s) listed more than once: {[d[0] for d in dups]}; "
                                  "a UPRN lookup has one row per UPRN"])

    return ensure(con, folder(cfg), "uprn", lookup_fingerprint(cfg), lambda: uprn_lookup.keyed_sql(con, cfg),
                  params=[spec.path], check=check)
