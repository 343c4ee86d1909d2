"""pipeline.spark.functions.guard_udfs: a Python UDF in a CASE branch is given its arguments only on
the rows taking that branch (Spark would otherwise run it on every row), and the CASE's answer is
the same. Checked in DuckDB (no SparkSession): the guarded SQL, read back into DuckDB's dialect,
gives the same rows as the SQL as written, with the UDFs standing in as macros."""

from __future__ import annotations

import duckdb
import sqlglot

from pipeline.spark import functions

CASES = """SELECT v,
    CASE WHEN v IS NULL THEN 'none' WHEN length(v) < 3 THEN pc_key(v) ELSE pc_fold(upper(v)) END AS a,
    CASE WHEN v LIKE 'M%' THEN NULL ELSE pc_reading(v) END AS b,
    pc_key(v) AS c
FROM t ORDER BY v"""


def test_guarded_calls_get_null_off_their_branch():
    out = functions.guarded(CASES)
    assert "PC_READING(CASE WHEN v LIKE 'M%' THEN NULL ELSE v END)" in out
    assert "PC_KEY(CASE WHEN v IS NULL THEN NULL WHEN LENGTH(v) < 3 THEN v END)" in out
    assert "PC_FOLD(CASE WHEN v IS NULL THEN NULL WHEN LENGTH(v) < 3 THEN NULL ELSE UPPER(v) END)" in out
    assert out.endswith("PC_KEY(v) AS c FROM t ORDER BY v")  # outside a CASE: every row, as before


def test_guarded_sql_gives_the_same_rows():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('M1'), ('AB'), ('WA145AB'), ('xyz'), (NULL)) t(v)")
    seen = []

    def record(name):  # the stand-in UDFs note every value they are given
        def f(v):
            seen.append((name, v))
            return None if v is None else f"{name}:{v}"
        return f

    for name in ("pc_key", "pc_fold", "pc_reading"):
        con.create_function(name, record(name), ["VARCHAR"], "VARCHAR", null_handling="special")
    want = con.execute(CASES).fetchall()
    seen.clear()
    back = sqlglot.transpile(functions.guarded(CASES), read="spark", write="duckdb")[0]
    assert sorted(map(repr, con.execute(back).fetchall())) == sorted(map(repr, want))  # NULL first on Spark
    given = {(n, v) for n, v in seen if v is not None}
    assert ("pc_reading", "M1") not in given and ("pc_reading", "xyz") in given
    assert ("pc_fold", "AB") not in given and ("pc_key", "AB") in given


def test_a_batch_gives_the_macro_answer_value_by_value():
    """The UDFs keep one connection per worker and pass each distinct value once: the answer is the
    macro's, row by row (NULLs and repeats included), batch after batch."""
    import pandas as pd

    from pipeline.address import postcode, uprn
    from pipeline.executor import through_macro

    def install(con):
        postcode.install(con)
        uprn.install(con)

    for name in ("pc_key", "pc_fold", "uprn_key"):
        statement = functions.RULES[name][1]
        apply = functions._rule(name, statement, "string", None)
        for batch in (["m33 2ux", None, "M33 2UX", "", "Ｍ３３ ２ＵＸ", "m33 2ux", " 00100012345678 "],
                      [None, None, "1.0E11", "É1 6AN"]):
            values = pd.Series(batch, dtype="object", index=range(10, 10 + len(batch)))
            got = apply(values)
            assert got.index.equals(values.index)
            assert got.tolist() == through_macro(values, install, name, statement), (name, batch)
