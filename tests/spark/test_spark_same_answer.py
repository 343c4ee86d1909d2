"""engine: spark gives the demo run's answer: the published CSVs byte for byte and the row
accounting, against the DuckDB run of the session (`demo_run`). The Spark run stops after publish
(rendering reads only the published tables, so it cannot differ) and its CSVs are written by the
render stage's own writer. And the rules the SQL calls (postcode key and validity, UPRN) give the
same answers on both engines at their edges."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.address import postcode, uprn
from tests.helpers import relocated_config

#: postcodes and UPRNs at the rules' edges: spaces, punctuation, full-width and look-alike
#: letters, confused characters, partial codes, blanks, decimals, leading zeros
POSTCODES = ["M33 2UX", "m332ux", " (M33-2UX.) ", "Ｍ３３ ２ＵＸ", "М33 2UX", "M3З 2UX", "MЗЗ2UX", "GIR 0AA",
             "QA1 1AA", "M33", "M33 2", "AB10", "", None, "M33 2UXX", "MO33 2UX", "M33 ZUX", "SW1A 1AA",
             "M33\u200b2UX", "É1 6AN"]
UPRNS = ["100012345678", " 00100012345678 ", "1.0E11", "12.6", "abc", "", None, "0", "-5", "1,234"]


# a whole run of the pipeline (to publish) on Spark, in make test: issue 25 asks for it there
def test_demo_on_spark_publishes_the_same_tables_and_accounting(demo_data, spark_session, tmp_path, request):
    from pipeline.render.tables import write_csvs
    from pipeline.run import run_all

    raw, _ = demo_data
    spark_cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp_path)
    spark_cfg = spark_cfg.model_copy(update={"engine": "spark"})
    got = run_all(spark_cfg, until="publish", progress=False, spark=spark_session)
    # the session's DuckDB run asked for only now: the other worker builds it while Spark runs
    cfg, duck, _, _ = request.getfixturevalue("demo_run")

    pd.testing.assert_frame_equal(got.summary, duck.summary)  # rows read = matched + rejected, by outcome
    assert (got.summary["rows_read"] == got.summary["matched"] + got.summary["rejected"]).all()

    written = write_csvs(spark_cfg.model_copy(update={"outputs_dir": tmp_path / "csv"}), got.publication)
    published = sorted(p.relative_to(tmp_path / "csv").as_posix() for p in written)
    expected = sorted(t.path.as_posix() if hasattr(t.path, "as_posix") else str(t.path)
                      for t in duck.publication.all_tables())
    assert published == expected
    differ = [p for p in published if (tmp_path / "csv" / p).read_bytes() != (cfg.outputs / p).read_bytes()]
    assert differ == [], f"{len(differ)} of {len(published)} published CSVs differ on Spark: {differ[:10]}"

    # the private rejects files (row, reason, postcode as given), written by Spark, are the same too
    rejects = sorted(p.name for p in (Path(spark_cfg.private) / "rejects").iterdir())
    assert rejects == sorted(p.name for p in (Path(cfg.private) / "rejects").iterdir())
    assert all((Path(spark_cfg.private) / "rejects" / n).read_bytes()
               == (Path(cfg.private) / "rejects" / n).read_bytes() for n in rejects)


def test_the_rules_agree_on_spark_and_duckdb(spark_session):
    from pipeline.spark import functions
    from pipeline.spark.functions import PATTERNS
    from pipeline.spark.transpile import spark_sql

    functions.register(spark_session)
    con = duckdb.connect()
    postcode.install(con)
    uprn.install(con)
    query = ("SELECT v, pc_key(v) AS k, pc_valid(pc_key(v)) AS valid, pc_partial(pc_key(v)) AS partial, "
             "pc_fold(v) AS folded, uprn_key(v) AS u FROM t ORDER BY v")
    values = [(v,) for v in POSTCODES + UPRNS]
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", values)
    want = [tuple(r) for r in con.execute(query).fetchall()]
    spark_session.createDataFrame(values, "v string").createOrReplaceTempView("t")
    got = [tuple(r) for r in spark_session.sql(spark_sql(query, None, PATTERNS)[0]).collect()]
    assert got == want


def _duckdb_ingest(cfg):
    from pipeline.ingest import ingest_service
    from pipeline.privacy import AgeRule
    from tests.extract_samples import COLUMNS

    con = duckdb.connect()
    result = ingest_service(con, cfg, cfg.services[0], AgeRule.of(cfg))
    return con.execute(f"SELECT {COLUMNS} FROM ingest_svc ORDER BY row_number").fetchall(), result


def _spark_ingest(spark, cfg):
    from pipeline.spark.ingest import run
    from pipeline.spark.stages import SparkRun
    from tests.extract_samples import COLUMNS

    result = run(SparkRun(spark, duckdb.connect(), cfg))["svc"]
    rows = spark.sql(f"SELECT {COLUMNS} FROM ingest_svc ORDER BY row_number").collect()
    return [tuple(r) for r in rows], result


def test_spark_ingest_reads_csv_and_parquet_extracts_as_duckdb_does(spark_session, tmp_path, caplog):
    """A CSV (BOM, title line, empty lines, repeated header, footer, quoted commas, CRLF) read by Spark in
    blocks of 128 bytes, and the same rows as Parquet, give DuckDB's ingest table and counts; files
    Spark leaves to DuckDB (a quoted field spanning lines, a row too wide, Windows-1252) give DuckDB's
    answer and errors."""
    import logging

    from pipeline.ingest import IngestError
    from tests.extract_samples import (
        LINES,
        SERVICE,
        TYPED,
        config,
        write_csv,
        write_parquet,
        write_typed_parquet,
    )

    spark_session.conf.set("spark.sql.files.maxPartitionBytes", "128")  # many blocks: the line numbering
    spark_session.conf.set("spark.sql.files.openCostInBytes", "0")
    caplog.set_level(logging.INFO, logger="pipeline.spark.ingest")
    try:
        on_own_date = {"reference": None, "columns": SERVICE["columns"] | {"date": "DOB"}}
        for path, how in ((write_csv(tmp_path), {}), (write_parquet(tmp_path), on_own_date),
                          (write_typed_parquet(tmp_path), TYPED)):
            cfg = config(tmp_path, path, **how)  # the Parquet's ages on the record's date: insight_date
            want, want_result = _duckdb_ingest(cfg)
            got, got_result = _spark_ingest(spark_session, cfg)
            assert got == want, path.name
            for name in ("rows", "encoding", "notes", "read", "not_read", "dob_counts", "outcome_values"):
                assert getattr(got_result, name) == getattr(want_result, name), (path.name, name)
        assert "on DuckDB on the driver" not in caplog.text

        spanning = LINES[:3] + ['A5,DM5 5GH,"Flat 1', 'Block B",2001-07-08,yes,'] + LINES[3:]
        cp1252 = tmp_path / "cp.csv"
        cp1252.write_bytes("\n".join(LINES[1:4] + ["A6,DM6 6JK,Caf\xe9 Row,,no,"]).encode("cp1252") + b"\n")
        nanoseconds = write_typed_parquet(tmp_path, "ns.parquet", nanoseconds=True)
        to_duckdb = ((write_csv(tmp_path, "spanning.csv", spanning), {}), (cp1252, {}), (nanoseconds, TYPED))
        for path, how in to_duckdb:
            cfg = config(tmp_path, path, **how)
            want, want_result = _duckdb_ingest(cfg)
            got, got_result = _spark_ingest(spark_session, cfg)
            assert got == want and got_result.rows == want_result.rows, path.name
        assert "spanning.csv: Spark found 2 line(s) with a quoted field spanning lines" in caplog.text
        assert "cp.csv: it is not UTF-8" in caplog.text
        assert "ns.parquet: Spark 4 does not read its column type(s) ['TIMESTAMP_NS']" in caplog.text

        wide = write_csv(tmp_path, "wide.csv", LINES[:3] + ["A7,DM7 7LM,x,,yes,,extra"])
        errors = []
        for read in (_duckdb_ingest, lambda cfg: _spark_ingest(spark_session, cfg)):
            with pytest.raises(IngestError) as err:
                read(config(tmp_path, wide))
            errors.append(str(err.value))
        assert errors[0] == errors[1] and "wide.csv: line 4 has 7 fields" in errors[0]
    finally:
        spark_session.conf.unset("spark.sql.files.maxPartitionBytes")
        spark_session.conf.unset("spark.sql.files.openCostInBytes")


def test_ref_uprn_from_the_reference_cache_is_duckdbs(spark_session, tmp_path):
    """The UPRN lookup read from the reference cache and kept to the area on Spark
    (`SparkRun.reference_uprns`) gives DuckDB's `ref_uprn`: the area's OAs only, the gazetteer's
    entry first, the UPRN and postcode rules applied."""
    from pipeline.address import uprn_lookup
    from pipeline.config import UprnLookup
    from pipeline.geocode import EMPTY_GAZETTEER
    from pipeline.spark import reference
    from pipeline.spark.stages import SparkRun
    from tests.helpers import tiny_config

    (tmp_path / "ONSUD_A.csv").write_text(
        "UPRN,GRIDGB1E,GRIDGB1N,PCDS,OA21CD\n100012345678,380000,390000,DM4 7QX,E00900001\n"
        "100012345679.0,380100,390100,dm4  7qx,E00900002\n100099999999,480000,490000,DN1 1AA,E00990001\n"
        ",1,2,DM4 7QX,E00900001\n", encoding="utf-8")
    cfg = tiny_config(tmp_path, [], engine="spark")
    cfg.geography.uprn_lookup = UprnLookup(path=str(tmp_path / "ONSUD_*.csv"))
    con = duckdb.connect()
    con.execute("CREATE TABLE ref_oa AS SELECT * FROM (VALUES ('E00900001', 'W1'), ('E00900002', 'W2')) "
                "t(oa21cd, ward_code)")
    con.execute(EMPTY_GAZETTEER)
    con.execute("INSERT INTO ref_gazetteer (uprn, postcode, pc_key, x, y, oa21cd, ward_code) VALUES "
                "('100012345678', 'DM4 7QX', 'DM47QX', 1.5, 2.5, 'E00900001', 'W1')")
    uprn_lookup.load(con, cfg)
    want = con.execute("SELECT * FROM ref_uprn ORDER BY uprn").fetchall()

    run = SparkRun(spark_session, con, cfg)
    cached = reference.uprns(con, cfg)
    uprn_lookup.load(con, cfg, lookup=False)
    for table in ("ref_oa", "ref_uprn"):
        run.hand_over(table)
    run.reference_uprns(*cached)
    got = [tuple(r) for r in spark_session.sql("SELECT * FROM ref_uprn ORDER BY uprn").collect()]
    assert got == want and len(want) == 2
