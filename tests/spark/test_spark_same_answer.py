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


@pytest.mark.slow  # a whole run of the pipeline (to publish) on Spark
def test_demo_on_spark_publishes_the_same_tables_and_accounting(demo_run, spark_session, tmp_path):
    from pipeline.render.tables import write_csvs
    from pipeline.run import run_all

    cfg, duck, raw, _ = demo_run
    spark_cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp_path)
    spark_cfg = spark_cfg.model_copy(update={"engine": "spark"})
    got = run_all(spark_cfg, until="publish", progress=False, spark=spark_session)

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
