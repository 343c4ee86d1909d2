"""The SQL written once: DuckDB's dialect transpiled to Spark's keeps its meaning where the two
differ (left with a negative length, bound lists, CREATE/INSERT/COPY reduced to their query,
whole-text regex macros inline), and the rules give the same answers on both engines."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.address import postcode, uprn
from pipeline.spark.functions import PATTERNS
from pipeline.spark.transpile import spark_sql
from pipeline.warehouse import sql

pytest.importorskip("sqlglot")

#: postcodes and UPRNs at the rules' edges: spaces, punctuation, full-width and look-alike
#: letters, confused characters, partial codes, blanks, decimals, leading zeros
POSTCODES = ["M33 2UX", "m332ux", " (M33-2UX.) ", "Ｍ３３ ２ＵＸ", "М33 2UX", "M3З 2UX", "MЗЗ2UX", "GIR 0AA",
             "QA1 1AA", "M33", "M33 2", "AB10", "", None, "M33 2UXX", "MO33 2UX", "M33 ZUX", "SW1A 1AA",
             "M33\u200b2UX", "É1 6AN"]
UPRNS = ["100012345678", " 00100012345678 ", "1.0E11", "12.6", "abc", "", None, "0", "-5", "1,234"]


def test_left_with_a_negative_length_keeps_duckdbs_meaning():
    text = spark_sql("SELECT left(s, length(s) - 2) AS a, left(s, -1) AS b, left(s, 3) AS c FROM t")[0]
    assert "LEFT(s, 3)" in text
    assert "GREATEST(LENGTH(s) + -1, 0)" in text  # left(s, -1): all but the last character


def test_statements_become_queries_and_bound_lists_literals():
    match = spark_sql(sql("geocode_match", service="x"))[0]
    assert match.startswith("WITH ") and "INSERT" not in match and "BY NAME" not in match
    rejects = spark_sql(sql("geocode_rejects", service="x", target="'/tmp/x.csv'"))[0]
    assert rejects.startswith("SELECT ") and "/tmp/x.csv" not in rejects
    widen = [["postcode_terminated", "missing_postcode"]]
    rows = spark_sql(sql("geocode_address_rows", service="x"), widen)[0]
    assert "ARRAY_CONTAINS(ARRAY('postcode_terminated', 'missing_postcode'), p.pc_outcome)" in rows


def test_every_sql_file_of_the_record_level_stages_transpiles():
    for name, fill in [("geocode_postcode", dict(located_outside="FALSE", address_text="NULL",
                                                 address_12="NULL")),
                       ("geocode_match", {}), ("geocode_outcomes", {}), ("assign", dict(option_columns="")),
                       ("quality_units", {})]:
        text = spark_sql(sql(name, service="x", **fill), None, PATTERNS)
        assert text and all("pc_valid(" not in t.lower() for t in text), name


def test_the_rules_agree_on_spark_and_duckdb(spark_session):
    from pipeline.spark import functions

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
