"""The record-level stages on Spark (`engine: spark`): geocode (postcode and UPRN, duplicates, the
address matcher, household keys) and assign, from the same SQL files as the DuckDB path
(pipeline/sql/*.sql, transpiled by `pipeline.spark.transpile`), with the macros as per-engine
functions (`pipeline.spark.functions`). docs/spark.md gives the design and its reasons.

What crosses between the engines, always as Parquet in the run's private folder (data/<run>/spark/,
0700), never as rows collected to the driver:

* into Spark: the extracts DuckDB ingested (`ingest_<service>`; UTF-8 CSV and Parquet extracts are
  read by Spark itself, `pipeline.spark.ingest`), the area's reference tables (`ref_oa`, `ref_uprn`,
  `segments_oa` and, for a directory without OAs, `ref_postcode_oa`) and, for the address matcher, the
  gazetteer index, broadcast; the postcode directory is read from the reference cache kept between
  runs (`pipeline.spark.reference`), not handed over;
* out of Spark: each service's outcome counts, its rejected rows (the private rejects file) and three
  aggregates, each a GROUP BY with a count `n`, read into the run's DuckDB warehouse:

  - `spark_geocode_<service>`: the outcome flags the match report counts (match level, reason,
    corrections, UPRN use);
  - `spark_assign_<service>`: the profile cube, counts by household key x OA x ward x segment x
    equality groups x channel x date x options x outcomes (the household key is kept so that
    households and persons are counted exactly, as the DuckDB path counts them);
  - `spark_quality_<service>`: the match report's base (outcome x OA x ward x segment x weight).

  Views named as the DuckDB path's tables (`geocode_<service>`, `assign_<service>`,
  `quality_<service>`) expand each aggregate by its count inside DuckDB, so the quality, profile,
  publish and render stages run their own SQL on them unchanged, and give the same tables.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import duckdb

from pipeline import geocode
from pipeline.address import uprn_lookup
from pipeline.config import RunConfig, Service
from pipeline.geography import placed_view_sql
from pipeline.ingest.headers import option_column, outcome_column
from pipeline.paths import make_private, private_folder, private_writes
from pipeline.privacy.inventory import SPARK_FOLDER
from pipeline.spark import functions, reference
from pipeline.spark.transpile import spark_sql
from pipeline.warehouse import execute, ident, literal, sql

logger = logging.getLogger(__name__)

#: The folder of the Parquet datasets the engines hand each other, in the run's private folder
#: (record-level: removed by `insight purge`, all but the reference cache).
FOLDER = SPARK_FOLDER
#: The area's reference tables the geocode reads, handed to Spark on each run (the postcode
#: directory and the UPRN lookup come from the reference cache: `pipeline.spark.reference`; with a
#: lookup, `ref_uprn` hands over the gazetteer's UPRNs only).
REFERENCE = ("ref_oa", "ref_uprn")


def folder(cfg: RunConfig) -> Path:
    return private_folder(Path(cfg.private) / FOLDER)


# --- the SQL of the hand-over (DuckDB dialect; the Spark side is transpiled) -----------------------


def export_sql(table: str, target: Path, hash_text: bool = False) -> str:
    """Write DuckDB table `table` to Parquet at `target` (a path the pipeline made); `hash_text`: the
    ingest's 128-bit row hash as text (Spark has no 128-bit integer)."""
    columns = "* REPLACE (CAST(row_hash AS VARCHAR) AS row_hash)" if hash_text else "*"
    return f"COPY (SELECT {columns} FROM {ident(table)}) TO {literal(target.as_posix())} (FORMAT parquet)"


def read_back_sql(dataset: Path, order: str = "") -> str:
    """The Parquet dataset Spark wrote at `dataset` (an aggregate), read by DuckDB (in the order
    `order`, an ORDER BY clause of the pipeline's own)."""
    return f"SELECT * FROM read_parquet({literal((dataset / '*.parquet').as_posix())}){order}"


def import_sql(table: str, dataset: Path) -> str:
    """The Parquet dataset Spark wrote at `dataset` as DuckDB table `table`."""
    return f"CREATE OR REPLACE TABLE {ident(table)} AS {read_back_sql(dataset)}"


def expanded_view_sql(view: str, table: str) -> str:
    """`view`: each row of aggregate `table` repeated `n` times, less `n`."""
    return (f"CREATE OR REPLACE VIEW {ident(view)} AS "
            f"SELECT c.* EXCLUDE (n) FROM {ident(table)} c, range(c.n)")


def quality_view_sql(view: str, table: str) -> str:
    """`view`: the match report's base expanded from its aggregate; `row_number` tells records apart
    where the report counts records (one per record: its first place, `first_part`; NULL elsewhere)."""
    return (f"CREATE OR REPLACE VIEW {ident(view)} AS "
            f"SELECT c.* EXCLUDE (n, first_part), "
            f"CASE WHEN c.first_part THEN row_number() OVER () END AS row_number "
            f"FROM {ident(table)} c, range(c.n)")


def cube_sql(table: str, drop: tuple[str, ...], columns: list[str]) -> str:
    """Rows of `table` counted by every column of `columns` but those of `drop`, as `n`."""
    keep = ", ".join(ident(c) for c in columns if c not in drop)
    return f"SELECT {keep}, count(*) AS n FROM {ident(table)} GROUP BY ALL"


def first_part_sql(table: str) -> str:
    """`table` with `first_part`: whether a row is its record's first (by OA, NULL first)."""
    return (f"SELECT *, row_number() OVER (PARTITION BY row_number ORDER BY oa21cd NULLS FIRST) = 1 "
            f"AS first_part FROM {ident(table)}")


GEOCODE_FLAGS = ("match_level", "reject_reason", "uprn", "postcode_corrected", "postcode_terminated",
                 "postcode_large_user", "uprn_given")


def geocode_cube_sql(table: str) -> str:
    keep = ", ".join(GEOCODE_FLAGS)
    return f"SELECT {keep}, count(*) AS n FROM {ident(table)} GROUP BY ALL"


def without_order(text: str) -> str:
    """Spark SQL `text` without its closing ORDER BY (the query's own; those inside are kept)."""
    import sqlglot

    tree = sqlglot.parse_one(text, read="spark")
    tree.set("order", None)
    return tree.sql(dialect="spark", comments=False)


# --- running statements on Spark ------------------------------------------------------------------


class SparkRun:
    """One run's Spark side: the session, the config, the warehouse connection and the datasets."""

    def __init__(self, spark, con: duckdb.DuckDBPyConnection, cfg: RunConfig):
        self.spark, self.con, self.cfg = spark, con, cfg
        self.dir = folder(cfg)
        functions.register(spark)

    def query(self, name: str, duckdb_sql: str, params=None, unordered: bool = False):
        """The Spark DataFrame of the last statement of `duckdb_sql` (DuckDB dialect), transpiled;
        `unordered`: without the statement's closing ORDER BY, for a result that only a GROUP BY or a
        window reads (the order is the DuckDB table's; on Spark it is a global sort, a range shuffle
        and a sampling pass over every row, for an order nothing after it keeps)."""
        from pipeline.executor import trace

        start = time.perf_counter()
        frame = None
        for text in spark_sql(duckdb_sql, params, functions.PATTERNS):
            if unordered:
                text = without_order(text)
            text = functions.guarded(text)
            frame = self.spark.sql(text)
            trace(f"spark_{name}", text, None, time.perf_counter() - start)
        return frame

    def dataset(self, name: str) -> Path:
        return self.dir / name

    def write(self, frame, name: str, view: str | None = None):
        """Write `frame` to the dataset `name` (replacing it) and read it back, as temporary view `view`."""
        from pipeline.executor import trace

        path = self.dataset(name)
        start = time.perf_counter()
        frame.write.mode("overwrite").parquet(path.as_posix())
        trace(f"spark_write_{name}", f"-- Parquet dataset {name}", None, time.perf_counter() - start)
        make_private(path)
        back = self.spark.read.parquet(path.as_posix())
        if view:
            back.createOrReplaceTempView(view)
        return back

    def hand_over(self, table: str, hash_text: bool = False) -> None:
        """DuckDB table `table` to Spark, as a temporary view of the same name."""
        path = self.dataset(f"in_{table}.parquet")
        with private_writes(path):
            execute(self.con, f"spark_export_{table}", export_sql(table, path, hash_text))
        self.spark.read.parquet(path.as_posix()).createOrReplaceTempView(table)

    def take_back(self, frame, name: str, table: str) -> None:
        """Aggregate `frame` into the warehouse as `table` (through the dataset `name`)."""
        self.write(frame, name)
        execute(self.con, f"spark_import_{table}", import_sql(table, self.dataset(name)))

    # --- geocode ----------------------------------------------------------------------------------

    def geocode(self) -> dict[str, dict[str, int]]:
        """The geocode stage on Spark: every service's outcome counts (as `pipeline.geocode.run`)."""
        con, cfg = self.con, self.cfg
        index = geocode.load_gazetteer(con, cfg)
        execute(con, "empty_gazetteer", geocode.EMPTY_GAZETTEER)
        cached = reference.uprns(con, cfg)  # the UPRN lookup from the reference cache (None: no lookup)
        uprn_lookup.load(con, cfg, lookup=cached is None)
        execute(con, "empty_uprn_lookup", uprn_lookup.EMPTY_UPRN)
        for table in REFERENCE:
            self.hand_over(table)
        if cached is not None:
            self.reference_uprns(cached[0], cached[1])
        self.reference_postcodes()
        shared = None if index is None else self.spark.sparkContext.broadcast(index)
        oa_by_point = cfg.geography.postcode_directory.columns.oa is None
        results = {}
        for service in cfg.services:
            results[service.name] = self.geocode_service(service, shared, oa_by_point)
            self.rejects(service)
            matched = sum(results[service.name][m] for m in geocode.MATCH_LEVELS)
            logger.info("Geocoded %s on Spark: %d matched", service.name, matched)
        return results

    def reference_postcodes(self) -> None:
        """`ref_postcodes` on Spark: the directory from the reference cache (written by DuckDB once
        per directory release, `pipeline.spark.reference`) and, for a directory without OAs, the
        area's postcode points placed in its OAs (`ref_postcode_oa`, the area's postcodes only)."""
        from pipeline.executor import trace

        start = time.perf_counter()
        spec = self.cfg.geography.postcode_directory
        base = "ref_postcodes" if spec.columns.oa else "ref_postcodes_directory"
        path, written = reference.directory(self.con, self.cfg, base)
        directory = self.spark.read.parquet(path.as_posix())
        trace("spark_reference_postcodes", f"-- Parquet cache {path} ({'written' if written else 'read'})",
              None, time.perf_counter() - start)
        directory.createOrReplaceTempView(base)
        if spec.columns.oa is None:
            self.hand_over("ref_postcode_oa")
            placed = self.query("ref_postcodes", placed_view_sql(base, directory.columns))
            placed.createOrReplaceTempView("ref_postcodes")

    def reference_uprns(self, path: Path, written: bool) -> None:
        """`ref_uprn` on Spark: the gazetteer's UPRNs (handed over from DuckDB's `ref_uprn`) and the
        area's UPRNs of the lookup's dataset in the reference cache (`uprn_lookup_rows.sql`, the
        DuckDB path's statement: the area's OAs, the gazetteer's entry first)."""
        from pipeline.executor import trace

        start = time.perf_counter()
        self.spark.read.parquet(path.as_posix()).createOrReplaceTempView("uprn_lookup_keyed")
        trace("spark_reference_uprns", f"-- Parquet cache {path} ({'written' if written else 'read'})",
              None, time.perf_counter() - start)
        given = self.spark.table("ref_uprn")
        given.select("uprn").createOrReplaceTempView("ref_gazetteer")  # the gazetteer's UPRNs
        rows = self.query("uprn_lookup_rows", uprn_lookup.rows_sql("uprn_lookup_keyed", order=False))
        given.union(rows).createOrReplaceTempView("ref_uprn")

    def geocode_service(self, service: Service, index, oa_by_point: bool) -> dict[str, int]:
        name = service.name  # ingest_<name>: read by Spark, or handed over, at ingest (pipeline.spark.ingest)
        outside = "(p.oa21cd IS NULL AND p.easting IS NOT NULL)" if oa_by_point else "FALSE"
        pc = self.query("geocode_postcode", sql("geocode_postcode", service=name, located_outside=outside,
                                                **geocode.address_sql(service)))
        self.write(pc, f"geocode_pc_{name}", view=f"geocode_pc_{name}")
        self.match_addresses(service, index)
        matched = self.query("geocode_match", sql("geocode_match", service=name))
        self.write(matched, f"geocode_{name}", view=f"geocode_{name}")
        counts_set = self.dataset(f"outcomes_{name}")
        self.write(self.query("geocode_outcomes", sql("geocode_outcomes", service=name)), counts_set.name)
        rows = execute(self.con, "spark_geocode_outcomes", read_back_sql(counts_set), fetch="all")
        known = geocode.MATCH_LEVELS + geocode.REJECT_REASONS
        counts = dict.fromkeys(known, 0) | {k: int(v) for k, v in rows}
        unknown = set(counts) - set(known)
        if unknown:
            raise RuntimeError(f"geocode produced unknown outcomes {sorted(unknown)}")
        cube = self.query("geocode_cube", geocode_cube_sql(f"geocode_{name}"))
        self.take_back(cube, f"cube_geocode_{name}", f"spark_geocode_{name}")
        execute(self.con, "spark_geocode_view", expanded_view_sql(f"geocode_{name}", f"spark_geocode_{name}"))
        return counts

    def match_addresses(self, service: Service, index) -> None:
        """`scratch_address_match_<service>` on Spark: the address matcher (`pipeline.address.matcher`)
        over each partition's rows, a pandas batch at a time, with the gazetteer index broadcast."""
        from pipeline.address.matcher import match_frame

        schema = "row_number long, uprn string, level string, score double"
        view = f"scratch_address_match_{service.name}"
        if index is None:
            self.spark.createDataFrame([], schema).createOrReplaceTempView(view)
            return
        rows = self.query("geocode_address_rows", sql("geocode_address_rows", service=service.name),
                          [list(geocode.WIDEN_FOR)])

        def match(batches):
            gazetteer = index.value
            for batch in batches:
                yield match_frame(gazetteer, batch)

        self.write(rows.mapInPandas(match, schema), f"address_match_{service.name}", view=view)

    def rejects(self, service: Service) -> Path:
        """The rejected rows of a service to data/<run>/rejects/<service>_rejects.csv (record-level,
        private), written by Spark in one ordered file."""
        out = private_folder(Path(self.cfg.private) / "rejects") / f"{service.name}_rejects.csv"
        frame = self.query("geocode_rejects", sql("geocode_rejects", service=service.name,
                                                  target=literal(out.as_posix())))
        from pipeline.executor import trace

        tmp = self.dataset(f"rejects_{service.name}")
        start = time.perf_counter()
        frame.repartition(1).sortWithinPartitions("row_number").write.mode("overwrite").csv(
            tmp.as_posix(), header=True, escape='"', emptyValue="")
        trace(f"spark_write_rejects_{service.name}", "-- one ordered CSV", None, time.perf_counter() - start)
        parts = sorted(tmp.glob("part-*.csv"))
        with private_writes(out):
            with open(out, "wb") as target:
                if parts and parts[0].stat().st_size:
                    with open(parts[0], "rb") as part:
                        shutil.copyfileobj(part, target)
                else:
                    target.write(b"row_number,reject_reason,postcode_as_given,postcode_attempted\n")
        shutil.rmtree(tmp, ignore_errors=True)
        return out

    # --- assign and the aggregates ------------------------------------------------------------------

    def assign(self) -> None:
        """The assign stage on Spark, then the aggregates the profile and the match report read."""
        self.hand_over("segments_oa")
        for service in self.cfg.services:
            name = service.name
            options = "".join(f", i.{option_column(o)}" for o in service.options)
            options += "".join(f", i.{outcome_column(o.name)}" for o in service.outcomes)
            assigned = self.query("assign", sql("assign", service=name, option_columns=options),
                                  unordered=True)  # read by the cube only
            assigned.createOrReplaceTempView(f"assign_{name}")
            cube = self.query("assign_cube", cube_sql(f"assign_{name}", ("row_number",), assigned.columns))
            self.take_back(cube, f"cube_assign_{name}", f"spark_assign_{name}")
            execute(self.con, "spark_assign_view",
                    expanded_view_sql(f"assign_{name}", f"spark_assign_{name}"))
            units = self.query("quality_units", sql("quality_units", service=name),
                               unordered=True)  # read by the window and the cube only
            units.createOrReplaceTempView(f"quality_{name}")
            parts = self.query("quality_first_part", first_part_sql(f"quality_{name}"))
            parts.createOrReplaceTempView(f"quality_parts_{name}")
            cube = self.query("quality_cube",
                              cube_sql(f"quality_parts_{name}", ("row_number",), parts.columns))
            self.take_back(cube, f"cube_quality_{name}", f"spark_quality_{name}")
            execute(self.con, "spark_quality_view",
                    quality_view_sql(f"quality_{name}", f"spark_quality_{name}"))
