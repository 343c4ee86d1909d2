"""The SQL written once: DuckDB's dialect transpiled to Spark's keeps its meaning where the two
differ (left with a negative length, bound lists, CREATE/INSERT/COPY reduced to their query,
whole-text regex macros inline). That the rules give the same answers on both engines is held by
test_spark_same_answer.py, beside the other test that needs the SparkSession (one file, one JVM)."""

from __future__ import annotations

import pytest

from pipeline.spark.functions import PATTERNS
from pipeline.spark.transpile import spark_sql
from pipeline.warehouse import sql

pytest.importorskip("sqlglot")

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


def test_duckdb_functions_spark_lacks_keep_their_meaning():
    text = spark_sql("SELECT md5_number(concat_ws(',', a, b)) AS h, CASE WHEN isfinite("
                     "CASE WHEN regexp_full_match(x, '[0-9]+') THEN 1.0 END) THEN 1 END AS n FROM t")[0]
    assert "MD5(CONCAT_WS(',', a, b))" in text  # hex text: one-to-one with DuckDB's 128-bit number
    assert "x RLIKE '^(?:[0-9]+)\\\\z'" in text  # the whole text, even inside isfinite's argument
    assert "ISNAN(" in text and "'Infinity'" in text
    assert not any(f in text.upper() for f in ("MD5_NUMBER", "REGEXP_FULL_MATCH", "ISFINITE"))
