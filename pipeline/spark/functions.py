"""The rules SQL cannot carry to Spark, registered once per session as vectorised (pandas) UDFs.

The DuckDB path defines its rules as macros (`pc_fold`, `pc_key`, `pc_valid`, `pc_partial` of
`pipeline.address.postcode`, `uprn_key` of `pipeline.address.uprn`, `insight_key` of
`pipeline.secret`) and one Python function (`pc_reading`). Spark has no macros, and its string
functions differ from DuckDB's in the corners these rules live in (Unicode folding, accents,
decimal casts), so a second copy of each rule in Spark SQL would drift. Instead each UDF applies
**the same macro** to an Arrow batch of values in an in-process DuckDB on the executor
(`pipeline.executor.through_macro`): one rule, evaluated where the rows are, a batch at a time,
never a Python loop over records in the driver. `pc_reading` is the one Python rule, as in DuckDB.

`insight_key` is the HMAC-SHA256 macro under the installation's secret: the padded key travels
to the executors inside the UDF (as it would in any Spark job holding a secret); it is never
written to SQL, a table or a log.
"""

from __future__ import annotations

import pandas as pd

from pipeline.address import postcode, uprn
from pipeline.executor import through_macro

#: The macros that are one whole-text regular expression: written inline in the Spark SQL as
#: `x RLIKE '^(?:pattern)$'` (`pipeline.spark.transpile.inline_patterns`), from the same patterns
#: the DuckDB macros are made of (Java's and RE2's syntax agree on these character classes).
PATTERNS = {"pc_valid": postcode.VALID, "pc_partial": postcode.PARTIAL}

#: name -> (return type, the macro statement applied to column v of `series_values`)
RULES = {
    "pc_fold": ("string", "SELECT pc_fold(v) AS k FROM series_values"),
    "pc_key": ("string", "SELECT pc_key(v) AS k FROM series_values"),
    "uprn_key": ("string", "SELECT uprn_key(v) AS k FROM series_values"),
    "insight_key": ("string", "SELECT insight_key(v) AS k FROM series_values"),
}


def _install_address(con) -> None:
    postcode.install(con)
    uprn.install(con)


def _rule(name: str, statement: str, kind: str, key: bytes | None):
    """The pandas function applying one macro to a batch (the secret's key bound in for insight_key)."""

    def install(con) -> None:
        if name == "insight_key":
            from pipeline import secret

            secret.install(con, key)
        else:
            _install_address(con)

    def apply(values: pd.Series) -> pd.Series:
        if values.empty:
            return pd.Series([], dtype="object" if kind == "string" else "boolean")
        out = through_macro(values, install, f"spark_{name}", statement)
        series = pd.Series(out, index=values.index)
        return series.astype("boolean") if kind == "boolean" else series.astype("object")

    return apply


def _reading(values: pd.Series) -> pd.Series:
    return values.map(lambda k: None if k is None or k is pd.NA else postcode.reading(k)).astype("object")


def register(spark) -> None:
    """Register every rule as a SQL function of the session (idempotent: re-registering replaces)."""
    from pyspark.sql.functions import pandas_udf

    from pipeline import secret

    key = secret.load_secret()
    for name, (kind, statement) in RULES.items():
        fn = _rule(name, statement, kind, key if name == "insight_key" else None)
        spark.udf.register(name, pandas_udf(fn, returnType=kind))
    spark.udf.register("pc_reading", pandas_udf(_reading, returnType="string"))
