"""The rules SQL cannot carry to Spark, registered once per session as vectorised (pandas) UDFs.

The DuckDB path defines its rules as macros (`pc_fold`, `pc_key`, `pc_valid`, `pc_partial` of
`pipeline.address.postcode`, `uprn_key` of `pipeline.address.uprn`, `insight_key` of
`pipeline.secret`) and one Python function (`pc_reading`). Spark has no macros, and its string
functions differ from DuckDB's in the corners these rules live in (Unicode folding, accents,
decimal casts), so a second copy of each rule in Spark SQL would drift. Instead each UDF applies
**the same macro** to an Arrow batch of values in an in-process DuckDB on the executor
(`pipeline.executor.through_macro`): one rule, evaluated where the rows are, a batch at a time,
never a Python loop over records in the driver. `pc_reading` is the one Python rule, as in DuckDB.
Each worker process keeps its in-process DuckDB, macros installed, from one batch to the next, and
a batch's distinct values go through the macro once each.

Spark runs a Python UDF on every row of its input, whatever CASE branch it sits in; `guard_udfs`
passes a UDF its arguments only on the rows that take its branch (NULL elsewhere), so the costly
rules read only the rows DuckDB would give them.

`insight_key` is the HMAC-SHA256 macro under the installation's secret: the padded key travels
to the executors inside the UDF (as it would in any Spark job holding a secret); it is never
written to SQL, a table or a log.
"""

from __future__ import annotations

import duckdb
import numpy as np
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


#: In each Python worker process: (rule, key) -> the in-process DuckDB its macros are installed on,
#: opened at the worker's first batch and kept for the next ones (a connection and its macros cost
#: more than a batch of 10,000 values).
_CONNECTIONS: dict[tuple[str, bytes | None], duckdb.DuckDBPyConnection] = {}


def _connection(name: str, key: bytes | None, install) -> duckdb.DuckDBPyConnection:
    con = _CONNECTIONS.get((name, key))
    if con is None:
        con = duckdb.connect(config={"threads": 1})  # Spark runs one worker a core already
        install(con)
        _CONNECTIONS[(name, key)] = con
    return con


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
        # each distinct value once (NULL among them): a batch repeats postcodes and household keys,
        # and is mostly NULL where guard_udfs has passed only the rows of a CASE branch
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
        out = through_macro(pd.Series(distinct, dtype="object"), install, f"spark_{name}", statement,
                            _connection(name, key, install))
        series = pd.Series(np.asarray(out, dtype="object")[codes], index=values.index)
        return series.astype("boolean") if kind == "boolean" else series.astype("object")

    return apply


def _reading(values: pd.Series) -> pd.Series:
    """`pc_reading` of each key: the Python rule on the keys given, a NULL for the NULLs (most rows:
    the SQL passes only the invalid keys, `pipeline.spark.transpile.guard_udfs`)."""
    out = pd.Series(None, index=values.index, dtype="object")
    given = values.notna()
    if given.any():
        out[given] = [postcode.reading(k) for k in values[given]]
    return out


#: Every function registered as a Python UDF (`register`).
UDFS = (*RULES, "pc_reading")


def guard_udfs(tree, udfs=UDFS):
    """Each call of a Python UDF in a branch of a searched CASE gets its arguments only on the rows
    that take that branch, and NULL on the others (a sqlglot tree, changed in place).

    DuckDB evaluates a CASE branch only on the rows that take it. Spark lifts a Python UDF out of
    the expression into a plan node of its own that runs it on every row, so in
    `CASE WHEN valid THEN NULL ELSE pc_reading(k) END` the UDF would read every key, not the few
    invalid ones. Here its argument becomes `CASE WHEN valid THEN NULL ELSE k END`: the same
    conditions, in the same order, so the rows taking the branch get exactly the value they got
    before, and the others (whose result the CASE discards) a NULL, which costs nothing to pass."""
    from sqlglot import exp

    names = {u.lower() for u in udfs}

    def guarded(arg, earlier: list, cond):
        ifs = [exp.If(this=c.copy(), true=exp.Null()) for c in earlier]
        if cond is None:
            return exp.Case(ifs=ifs, default=arg) if ifs else arg
        return exp.Case(ifs=[*ifs, exp.If(this=cond.copy(), true=arg)])

    def swap(node):
        if not isinstance(node, exp.Case) or node.args.get("this") is not None:
            return node  # a simple CASE x WHEN ...: left as it is
        branches = [(i.this, i.args.get("true")) for i in node.args.get("ifs") or []]
        branches.append((None, node.args.get("default")))
        earlier: list = []
        for cond, value in branches:
            if isinstance(value, exp.Expression):
                calls = [value] if isinstance(value, exp.Anonymous) else []
                calls += [c for c in value.find_all(exp.Anonymous) if c is not value]
                for call in calls:
                    if str(call.name).lower() in names:
                        call.set("expressions", [guarded(a, earlier, cond) for a in call.expressions])
            if cond is not None:
                earlier.append(cond)
        return node

    return tree.transform(swap, copy=False)


def guarded(text: str) -> str:
    """Spark SQL `text` with its UDF calls guarded (`guard_udfs`)."""
    import sqlglot

    return guard_udfs(sqlglot.parse_one(text, read="spark")).sql(dialect="spark")


def register(spark) -> None:
    """Register every rule as a SQL function of the session (idempotent: re-registering replaces)."""
    from pyspark.sql.functions import pandas_udf

    from pipeline import secret

    key = secret.load_secret()
    for name, (kind, statement) in RULES.items():
        fn = _rule(name, statement, kind, key if name == "insight_key" else None)
        spark.udf.register(name, pandas_udf(fn, returnType=kind))
    spark.udf.register("pc_reading", pandas_udf(_reading, returnType="string"))


#: The age rule's macros (`pipeline.privacy.AgeRule.install`) the ingest projection calls:
#: name -> (return type, arguments)
AGE_RULES = {"insight_date": ("date", 1), "insight_dob_status": ("string", 2),
             "insight_age_band": ("string", 2)}


def age_rule_sql(name: str, arguments: int) -> str:
    """The macro `name` applied to the registered frame `age_values` (columns v, and d the day)."""
    return (f"SELECT {name}(v) AS k FROM age_values" if arguments == 1
            else f"SELECT {name}(v, CAST(d AS DATE)) AS k FROM age_values")


def _age_rule(age, name: str, arguments: int):
    """The pandas function applying one of the age rule's macros to a batch, in the worker's in-process
    DuckDB with the rule installed (the run's bands, reference day and oldest age travel in `age`,
    and name the connection kept between batches)."""
    from pipeline.executor import execute

    def apply(values, days) -> pd.Series:
        frame = {"v": values.astype("string").to_numpy()}
        if days is not None:
            frame["d"] = pd.to_datetime(days).to_numpy()
        con = _connection(f"age {age!r}", None, age.install)
        con.register("age_values", pd.DataFrame(frame, index=range(len(values))))
        try:
            out = execute(con, f"spark_{name}", age_rule_sql(name, arguments), fetch="df")["k"]
        finally:
            con.unregister("age_values")
        if AGE_RULES[name][0] == "date":
            out = pd.to_datetime(out).dt.date
        return pd.Series(out.astype("object").where(out.notna(), None).to_numpy(), index=values.index)

    def of_text(values: pd.Series) -> pd.Series:
        return apply(values, None)

    def of_text_and_day(values: pd.Series, days: pd.Series) -> pd.Series:
        return apply(values, days)

    return of_text if arguments == 1 else of_text_and_day


def register_ages(spark, age) -> None:
    """Register the age rule of the run (`pipeline.privacy.AgeRule`) as SQL functions of the session:
    each applies the same DuckDB macro as the ingest stage on DuckDB, one batch at a time, where
    the rows are (a date of birth becomes its age band as it is read; the date is never stored)."""
    from pyspark.sql.functions import pandas_udf

    for name, (kind, arguments) in AGE_RULES.items():
        spark.udf.register(name, pandas_udf(_age_rule(age, name, arguments), returnType=kind))
