"""The record-level SQL, written once in DuckDB's dialect (pipeline/sql/*.sql), read by sqlglot and
written in Spark's, as splink does for its backends.

`spark_sql(text, params)` gives each statement of a file as Spark SQL. A file's `CREATE ... AS`
or `INSERT INTO ... BY NAME` is taken as its query (`query_of`): on Spark the result becomes a
temporary view or a Parquet dataset the stage names, not a DuckDB table. Bound values (`$1`) are
bound into the parsed statement as literals (`bind`), never pasted into its text; they are the
pipeline's own constants (`pipeline.geocode.WIDEN_FOR`), not record values.
"""

from __future__ import annotations

from collections.abc import Sequence


def query_of(tree):
    """The query of a statement: the SELECT (with its CTEs) of a CREATE ... AS or INSERT ... SELECT."""
    from sqlglot import exp

    if isinstance(tree, exp.Copy):  # COPY (query) TO ...: the query
        return tree.this.unnest() if isinstance(tree.this, exp.Expression) else tree.this
    if isinstance(tree, exp.Create) and tree.expression is not None:
        return tree.expression
    if isinstance(tree, exp.Insert):
        query = tree.expression
        ctes = tree.args.get("with_") or tree.args.get("with")
        if ctes is not None:
            query = query.copy()
            for cte in ctes.expressions:
                query = query.with_(cte.alias, cte.this.copy(), append=True)
        return query
    return tree


def bind(tree, params: Sequence | None):
    """Put the bound values ($1, $2, ...) into the parsed statement as literals (a list as an array)."""
    from sqlglot import exp

    if not params:
        return tree

    def literal(value):
        if isinstance(value, (list, tuple)):
            return exp.Array(expressions=[literal(v) for v in value])
        return exp.convert(value)

    def swap(node):
        if isinstance(node, exp.Placeholder) and str(node.name).isdigit():
            return literal(params[int(node.name) - 1])
        if isinstance(node, exp.Parameter):
            name = node.this.name if isinstance(node.this, exp.Expression) else str(node.this)
            if str(name).isdigit():
                return literal(params[int(name) - 1])
        return node

    return tree.transform(swap)


def duckdb_left(tree):
    """DuckDB's left(s, n) with n < 0 is s less its last -n characters; Spark's is ''. Each
    left(s, n) becomes the expression that gives DuckDB's answer on Spark."""
    from sqlglot import exp

    def swap(node):
        if not isinstance(node, exp.Left):
            return node
        s, n = node.this, node.expression
        if isinstance(n, exp.Literal) and n.is_int and int(n.name) >= 0:
            return node
        drop_tail = exp.Substring(this=s.copy(), start=exp.Literal.number(1), length=exp.Greatest(
            this=exp.Add(this=exp.Length(this=s.copy()), expression=n.copy()),
            expressions=[exp.Literal.number(0)]))
        if isinstance(n, exp.Neg) or (isinstance(n, exp.Literal) and n.is_negative):
            return drop_tail
        return exp.If(this=exp.GTE(this=n.copy(), expression=exp.Literal.number(0)),
                      true=exp.Left(this=s.copy(), expression=n.copy()), false=drop_tail)

    return tree.transform(swap)


def inline_patterns(tree, patterns: dict[str, str] | None):
    """Each call of a macro that is one whole-text regular expression (`name(x)` is DuckDB's
    regexp_full_match(x, pattern)) as `x RLIKE '^(?:pattern)$'`: the same test in SQL, with no
    Python pass over the rows."""
    from sqlglot import exp

    if not patterns:
        return tree

    def swap(node):
        if isinstance(node, exp.Anonymous) and str(node.name).lower() in patterns:
            pattern = patterns[str(node.name).lower()]
            return exp.RegexpLike(this=node.expressions[0].copy(),
                                  expression=exp.Literal.string(f"^(?:{pattern})$"))
        return node

    return tree.transform(swap)


def duckdb_functions(tree):
    """DuckDB functions Spark lacks, as the Spark expression of the same meaning: `md5_number(s)`
    (the 128-bit MD5 as a number) as `md5(s)`, its hex text (one-to-one with the number, so rows
    with equal hashes stay equal: the ingest's row hash is text on Spark); `regexp_full_match(s, p)`
    as `s RLIKE '^(?:p)\\z'` (RLIKE finds a match anywhere, and Java's `$` also matches before a
    final line break); `isfinite(x)` as neither NaN nor infinite."""
    import sqlglot
    from sqlglot import exp

    def swap(node):
        if isinstance(node, exp.Anonymous) and str(node.name).lower() == "md5_number":
            return exp.MD5(this=node.expressions[0].copy())
        if isinstance(node, exp.RegexpFullMatch):
            pattern = node.expression
            whole = (exp.Literal.string(f"^(?:{pattern.name})\\z") if isinstance(pattern, exp.Literal)
                     else exp.Concat(expressions=[exp.Literal.string("^(?:"), pattern.copy(),
                                                  exp.Literal.string(")\\z")]))
            return exp.RegexpLike(this=node.this.copy(), expression=whole)
        if isinstance(node, exp.Anonymous) and str(node.name).lower() == "isfinite":
            finite = sqlglot.parse_one("NOT ISNAN(x) AND ABS(x) <> CAST('Infinity' AS DOUBLE)", read="spark")
            value = node.expressions[0]
            return exp.Paren(this=finite.transform(
                lambda n: value.copy() if isinstance(n, exp.Column) and n.name == "x" else n))
        return node

    return tree.transform(swap).transform(swap)  # again: a swap's copies of its arguments are not visited


def spark_sql(text: str, params: Sequence | None = None, patterns: dict[str, str] | None = None) -> list[str]:
    """Each statement of DuckDB SQL `text` as a Spark SQL query (comments dropped); `patterns`: the
    macros to write inline as regular expressions (`inline_patterns`)."""
    import sqlglot

    trees = sqlglot.parse(text, read="duckdb")
    return [duckdb_functions(duckdb_left(inline_patterns(bind(query_of(t), params), patterns))).sql(
                dialect="spark", comments=False)
            for t in trees if t is not None]
