"""Outcome values: the one rule of what an outcome column's value is (`outcome_value_sql`: an
outcome, don't know, none, blank or rejected), checked as the extract enters; what each outcome
column held, rejected values counted (`outcome_values`), and the lines that report them."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from pipeline.config import Outcome, Service
from pipeline.ingest.headers import outcome_column
from pipeline.warehouse import execute, ident, literal

#: A number as an extract writes it: digits (thousands grouped by commas, or none), a decimal point,
#: an exponent. '2,5' (a decimal comma), 'inf', 'NaN' and '1 200' are not numbers.
NUMBER_PATTERN = r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d*)?(e[+-]?\d+)?|[+-]?\.\d+(e[+-]?\d+)?"
#: What a value of an outcome column is: an outcome, don't know (ordinal), no recorded outcome
#: (a `dont_know` answer), blank, or rejected (not recognised; not a number or out of range)
OUTCOME_STATUSES = ("outcome", "dk", "none", "blank", "rejected")


def outcome_scores(o: Outcome) -> tuple[dict[str, int], int]:
    """Ordinal: answer (lower case) -> score 1..m, and the score from which an answer is
    'satisfied or better' (default: the top half of the scale)."""
    scale = [s.strip().lower() for s in o.scale]
    scores = {s: i + 1 for i, s in enumerate(scale)}
    m = len(scale)
    start = scores[o.satisfied_from.strip().lower()] if o.satisfied_from else m // 2 + m % 2 + 1
    return scores, start


def _answers(values) -> str:
    """A SQL list of the config's answers, lower case and trimmed ('(NULL)' when there are none)."""
    return "(" + (", ".join(literal(str(v).strip().lower()) for v in values) or "NULL") + ")"


def outcome_value_sql(o: Outcome, col: str) -> dict[str, str]:
    """SQL expressions over one value `col` of the outcome `o` (case, spaces and curly apostrophes
    folded): `status` (one of OUTCOME_STATUSES), `ok` (a success; NULL for numeric) and `score` (1/0,
    the ordinal score, or the number). A numeric value is a number by NUMBER_PATTERN within the
    outcome's [minimum, maximum]; anything else given is rejected."""
    v = f"regexp_replace(lower(trim(replace({col}, '\u2019', ''''))), '\\s+', ' ', 'g')"
    blank = f"coalesce({v}, '') = ''"
    dk = f"{v} IN {_answers(o.dont_know)}"
    if o.kind == "binary":
        ok = f"{v} IN {_answers(o.success)}"
        known = f"({ok} OR {v} IN {_answers(o.failure)})"
        return {"status": f"CASE WHEN {known} THEN 'outcome' WHEN {blank} THEN 'blank' WHEN {dk} THEN 'none' "
                          "ELSE 'rejected' END",
                "ok": f"CASE WHEN {known} THEN {ok} END", "score": f"CASE WHEN {known} THEN {ok}::INT END"}
    if o.kind == "ordinal":
        scores, start = outcome_scores(o)
        whens = " ".join(f"WHEN {v} = {literal(a)} THEN {s}" for a, s in scores.items())
        score = f"CASE {whens} END"
        return {"status": f"CASE WHEN ({score}) IS NOT NULL THEN 'outcome' WHEN {dk} THEN 'dk' "
                          f"WHEN {blank} THEN 'blank' ELSE 'rejected' END",
                "ok": f"({score}) >= {start}", "score": score}
    num = (f"CASE WHEN regexp_full_match({v}, {literal(NUMBER_PATTERN)}) "
           f"THEN TRY_CAST(replace({v}, ',', '') AS DOUBLE) END")
    score = (f"CASE WHEN isfinite({num}) AND {num} BETWEEN {float(o.minimum)!r} AND {float(o.maximum)!r} "
             f"THEN {num} END")
    return {"status": f"CASE WHEN ({score}) IS NOT NULL THEN 'outcome' WHEN {blank} THEN 'blank' "
                      f"WHEN {dk} THEN 'none' ELSE 'rejected' END",
            "ok": "NULL::BOOLEAN", "score": score}


def outcome_values_sql(table: str, outcomes: list[Outcome]) -> str:
    """Per outcome (by its position) and status: the records (`n`, and `total` of the status) and,
    for the rejected, the five commonest values with their records. Each distinct value is
    classified once."""
    parts = []
    for i, o in enumerate(outcomes):
        status = outcome_value_sql(o, "raw")["status"]
        parts.append(f"""SELECT {int(i)} AS outcome, raw, {status} AS st, n
                         FROM (SELECT {ident(outcome_column(o.name))} AS raw, count(*) AS n
                               FROM {ident(table)} GROUP BY 1)""")
    return f"""SELECT outcome, st, CASE WHEN st = 'rejected' THEN raw END AS raw, n, total
               FROM (SELECT *, sum(n) OVER (PARTITION BY outcome, st) AS total,
                            row_number() OVER (PARTITION BY outcome, st ORDER BY n DESC, raw) AS r
                     FROM ({' UNION ALL '.join(parts)}))
               WHERE r = 1 OR (st = 'rejected' AND r <= 5) ORDER BY outcome, st, n DESC, raw"""


@dataclass
class OutcomeValues:
    """What one outcome column held: values given (not blank), those rejected, the commonest rejected."""

    outcome: str
    given: int = 0
    rejected: int = 0
    examples: list[tuple[str, int]] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.rejected / self.given if self.given else 0.0


def outcome_values(con: duckdb.DuckDBPyConnection, table: str,
                   outcomes: list[Outcome]) -> dict[str, OutcomeValues]:
    """Outcome name -> what its column in `table` held, by `outcome_value_sql`."""
    if not outcomes:
        return {}
    return outcome_values_of(execute(con, "outcome_values", outcome_values_sql(table, outcomes), fetch="all"),
                             outcomes)


def outcome_values_of(rows, outcomes: list[Outcome]) -> dict[str, OutcomeValues]:
    """Outcome name -> what its column held, from the rows of `outcome_values_sql` in its order (on
    either engine)."""
    out = {o.name: OutcomeValues(o.name) for o in outcomes}
    totals: set[tuple[int, str]] = set()
    for i, st, raw, n, total in rows:
        got = out[outcomes[i].name]
        if st != "blank" and (i, st) not in totals:
            totals.add((i, st))
            got.given += int(total)
        if st == "rejected":
            got.rejected = int(total)
            got.examples.append((str(raw), int(n)))
    return out


def outcome_value_lines(where: str, service: Service, found: dict[str, OutcomeValues]) -> list[str]:
    """One line per outcome column with rejected values: how many of those given, the commonest, what
    is allowed and the fix; 'WARNING:' first when their share passes the outcome's `rejected_share`.
    The lines quote values, so they go to the terminal only (run notes, `insight validate`)."""
    lines = []
    for j, o in enumerate(service.outcomes):
        got = found.get(o.name)
        if got is None or not got.rejected:
            continue
        if o.kind == "numeric":
            allowed = f"a number from {o.minimum:,.15g} to {o.maximum:,.15g} (digits, a decimal point)"
            fix = (f"correct them in the extract, or set outcomes[{j}].minimum / maximum if they are real "
                   "values")
        elif o.kind == "binary":
            allowed = f"success {o.success}, failure {o.failure}, or no outcome {o.dont_know}"
            fix = f"add them to outcomes[{j}].success, failure or dont_know, or correct them in the extract"
        else:
            allowed = f"the scale {o.scale}, or don't know {o.dont_know}"
            fix = f"add them to outcomes[{j}].scale or dont_know, or correct them in the extract"
        shown = ", ".join(f"{v[:30]!r} ({n:,})" for v, n in got.examples)
        warn = "WARNING: " if got.share > o.rejected_share else ""
        over = f", more than the {o.rejected_share:.0%} allowed by rejected_share" if warn else ""
        lines.append(f"{warn}{where} outcome {o.name!r} (column {o.column!r}): {got.rejected:,} of "
                     f"{got.given:,} values given ({got.share:.1%}{over}) rejected and left out of every "
                     f"rate and mean (counted as no recorded outcome); allowed: {allowed}; commonest: "
                     f"{shown}. Fix: {fix}")
    return lines
