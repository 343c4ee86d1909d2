"""Outcomes and satisfaction: who benefits from a service, by segment (every tier), ward and
equality group.

A service may map outcome columns (config `services[].outcomes`), each of one kind:

* binary (`quit_at_4_weeks: yes/no`, `complaint: Y/N`): a value in `success` is an achieved
  outcome (a success), a value in `failure` one not achieved; anything else (blank, unrecognised)
  is *no recorded outcome*: reported as such, never counted as a failure;
* ordinal (satisfaction 1-5, 'very dissatisfied' .. 'very satisfied'): `scale` lists the answers
  worst first and scores them 1..m; an answer from `satisfied_from` up (default: the top half of
  the scale, e.g. the top two of five) is 'satisfied or better' (the success); `dont_know`
  answers are counted in their own column, never as an outcome, and never as dissatisfied;
* numeric (days to resolve): the mean, no success.

Each value is checked as the extract is read, by the one rule
`pipeline.ingest.values.outcome_value_sql` (`record_sql` here): a value given that its kind does
not allow (an unrecognised code, a text that is not a number, a number outside the outcome's
`minimum`..`maximum`) is rejected, counted per column in the run's notes and `insight validate`'s
report, and is no recorded outcome here.

Per row g (a segment, ward or equality group) with n_g records with an outcome and k_g
successes, and the service's totals N, K (the rest of the service: n_r = N - n_g, k_r = K - k_g):

    rate        p_g = k_g / n_g, 95% Wilson score interval [l_g, u_g] (see stats.wilson)
    difference  d_g = p_g - P with P = K / N. Since P = w p_g + (1 - w) p_r with w = n_g / N,
                d_g = (1 - w) (p_g - p_r); the interval is (1 - w) times Newcombe's hybrid score
                interval for theta = p_g - p_r (method 10, Newcombe 1998):
                    L = theta - sqrt((p_g - l_g)^2 + (u_r - p_r)^2)
                    U = theta + sqrt((u_g - p_g)^2 + (p_r - l_r)^2)
    mean        m_g = S_g / n_g of the scores (ordinal) or values (numeric), sample variance
                v_g = (Q_g - n_g m_g^2) / (n_g - 1) from the sums S_g and Q_g of squares;
                95% t interval m_g -+ t(0.975, n_g - 1) sqrt(v_g / n_g)
    mean diff   m_g - M = (1 - w)(m_g - m_r), interval (1 - w) times Welch's:
                (m_g - m_r) -+ t(0.975, df) se, se = sqrt(v_g/n_g + v_r/n_r),
                df = se^4 / ((v_g/n_g)^2/(n_g - 1) + (v_r/n_r)^2/(n_r - 1))

The significance call uses the rate's difference (binary, ordinal) or the mean's (numeric): a
row is 'worse served' when the whole 95% interval of its difference lies on the worse side of 0
(below for `better: higher`, above for `better: lower`), 'better served' on the other side,
else 'no clear difference'. Multiple comparisons: every row is tested separately, so with 20
rows about one is flagged by chance; `holm` says whether the call survives the Holm-Bonferroni
correction over the rows of its table (p-values from the pooled two-proportion z test, or
Welch's t test for means).

Counts (records with an outcome n, successes k, failures n - k, no outcome, don't know) are
registered in the service's count graph with the relations between them (rows to the Total,
groups to their supergroup, n = k + failures, and, when the service counts records, a row's
users = n + no outcome + don't know), so publication suppresses them, and the rates, means and
intervals derived from them, like every other count.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as st

from pipeline.config import Outcome
from pipeline.ingest.headers import outcome_column
from pipeline.ingest.values import outcome_scores, outcome_value_sql
from pipeline.profiles import equality, levels
from pipeline.profiles.stats import multiple_comparisons_note, wilson
from pipeline.profiles.table import round_half_up
from pipeline.warehouse import describe_sql, execute, ident

logger = logging.getLogger(__name__)

WORSE, BETTER, NO_CLEAR = "worse served", "better served", "no clear difference"
MEASURES = ("n", "k", "f", "none", "dk")
#: count columns of an outcome table and the measure each is registered under
COUNT_COLUMNS = {"with_outcome": "n", "successes": "k", "not_achieved": "f", "no_outcome": "none",
                 "dont_know": "dk"}
RATE_COLUMNS = ["rate_pct", "rate_lower", "rate_upper", "diff_pct", "diff_lower", "diff_upper"]
MEAN_COLUMNS = ["mean", "mean_lower", "mean_upper", "mean_diff", "mean_diff_lower", "mean_diff_upper"]
CALL_COLUMNS = ["significance", "holm"]
#: derived column -> the count columns it is computed from (hidden with any of them)
DERIVED = {**{c: ["with_outcome", "successes", "not_achieved"] for c in RATE_COLUMNS},
           **{c: ["with_outcome"] for c in MEAN_COLUMNS},
           **{c: ["with_outcome", "successes", "not_achieved"] for c in CALL_COLUMNS}}
MULTIPLE_COMPARISONS_NOTE = multiple_comparisons_note(
    "Outcomes: each row is compared with the service as a whole", "rows",
    "'Holm' says whether the call survives the Holm-Bonferroni correction over the rows of the table.")


def kinds_scores(o: Outcome) -> tuple[dict[str, int], int]:
    """Ordinal: answer (lower case) -> score 1..m, and the score from which an answer is
    'satisfied or better' (`pipeline.ingest.values.outcome_scores`)."""
    return outcome_scores(o)


def record_sql(o: Outcome, col: str) -> dict[str, str]:
    """SQL expressions over one value `col` of the outcome: `status`, `ok` (a success; NULL for
    numeric) and `score` (1/0, the ordinal score or the number): the one value rule of the ingest
    stage (`pipeline.ingest.values.outcome_value_sql`), where rejected values are counted and reported.
    Here a blank, a `dont_know` answer of a binary or numeric outcome and a rejected value are all
    no recorded outcome."""
    return outcome_value_sql(o, col)


def counts_by(con: duckdb.DuckDBPyConnection, table: str, outcomes: list[Outcome], by: str) -> pd.DataFrame:
    """Per value of `by` (a column of the assign table) and outcome: n, k, none, dk, s1 (sum of
    scores) and s2 (sum of squares), counted in DuckDB. Columns `<measure>__<outcome>`."""
    return execute(con, f"outcomes_by_{by}", counts_by_sql(table, outcomes, by), fetch="df")


def counts_by_sql(table: str, outcomes: list[Outcome], by: str) -> str:
    """The statement of `counts_by`."""
    maps, joins, parts = [], [], []
    table = ident(table)
    for i, o in enumerate(outcomes):
        # each distinct value is classified once (a small table joined to the records)
        e = record_sql(o, "raw")
        col = ident(outcome_column(o.name))
        maps.append(f"""m{i} AS (SELECT raw, {e['status']} AS st, coalesce({e['ok']}, false) AS ok,
                                  ({e['score']})::DOUBLE AS sc
                           FROM (SELECT DISTINCT {col} AS raw FROM {table}))""")
        joins.append(f"LEFT JOIN m{i} ON t.{col} IS NOT DISTINCT FROM m{i}.raw")
        a = {m: ident(f"{m}__{o.name}") for m in ("n", "k", "none", "dk", "s1", "s2")}
        parts.append(f"""count(*) FILTER (WHERE m{i}.st = 'outcome') AS {a['n']},
                         count(*) FILTER (WHERE m{i}.ok) AS {a['k']},
                         count(*) FILTER (WHERE m{i}.st IN ('none', 'blank', 'rejected')) AS {a['none']},
                         count(*) FILTER (WHERE m{i}.st = 'dk') AS {a['dk']},
                         coalesce(sum(m{i}.sc) FILTER (WHERE m{i}.st = 'outcome'), 0) AS {a['s1']},
                         coalesce(sum(m{i}.sc * m{i}.sc) FILTER (WHERE m{i}.st = 'outcome'), 0)
                             AS {a['s2']}""")
    return f"""WITH {', '.join(maps)}
                           SELECT t.{ident(by)} AS code, {', '.join(parts)} FROM {table} t {' '.join(joins)}
                           GROUP BY 1 ORDER BY 1"""


def _t(df) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return st.t.ppf(0.975, df)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni: True where the hypothesis is rejected at family-wise 5% (NaN p: False)."""
    ok = np.isfinite(p)
    out = np.zeros(len(p), dtype=bool)
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(p[idx], kind="stable")]
    m = len(order)
    for rank, i in enumerate(order):
        if p[i] > 0.05 / (m - rank):
            break
        out[i] = True
    return out


def outcome_table(o: Outcome, codes: list[str], names: list[str], c: pd.DataFrame) -> pd.DataFrame:
    """The outcome table of one dimension: a row per code (counts in `c`: n, k, none, dk, s1, s2
    aligned with `codes`) and a Total row, with the rates, means, intervals and calls (module
    docstring). Values are numeric (NaN where undefined)."""
    n = c["n"].to_numpy(dtype=float)
    k = c["k"].to_numpy(dtype=float)
    s1, s2 = c["s1"].to_numpy(dtype=float), c["s2"].to_numpy(dtype=float)
    N, K, S1, S2 = n.sum(), k.sum(), s1.sum(), s2.sum()
    nr, kr, s1r, s2r = N - n, K - k, S1 - s1, S2 - s2
    w = np.where(N > 0, n / max(N, 1), np.nan)
    out = pd.DataFrame({"outcome": o.name, "segment_code": [*codes, "Total"], "segment_name": [*names, ""]})
    for col, m in COUNT_COLUMNS.items():
        if m == "f":
            vals = np.r_[n - k, N - K] if o.kind != "numeric" else None
        elif m == "k":
            vals = np.r_[k, K] if o.kind != "numeric" else None
        elif m == "dk":
            vals = np.r_[c["dk"], c["dk"].sum()] if o.kind == "ordinal" else None
        else:
            src = n if m == "n" else c[m].to_numpy()
            vals = np.r_[src, src.sum()]
        if vals is not None:
            out[col] = np.asarray(vals, dtype=np.int64)
    worse_if_below = o.better == "higher" or o.kind == "ordinal"
    with np.errstate(divide="ignore", invalid="ignore"):
        if o.kind != "numeric":
            lo, hi = wilson(np.r_[k, K], np.r_[n, N])
            p = np.r_[k, K] / np.r_[n, N]
            out["rate_pct"], out["rate_lower"], out["rate_upper"] = 100 * p, 100 * lo, 100 * hi
            pg, pr = k / n, kr / nr
            lg, ug = lo[:-1], hi[:-1]
            lr, ur = wilson(kr, nr)
            theta = pg - pr
            L = theta - np.sqrt((pg - lg) ** 2 + (ur - pr) ** 2)
            U = theta + np.sqrt((ug - pg) ** 2 + (pr - lr) ** 2)
            P = K / N if N else np.nan
            diff, dlo, dhi = pg - P, (1 - w) * L, (1 - w) * U
            se0 = np.sqrt(P * (1 - P) * (1 / n + 1 / nr))
            pval = np.where(se0 > 0, 2 * st.norm.sf(np.abs(theta / se0)), np.nan)
            out["diff_pct"], out["diff_lower"], out["diff_upper"] = (100 * np.r_[diff, np.nan],
                                                                     100 * np.r_[dlo, np.nan],
                                                                     100 * np.r_[dhi, np.nan])
        if o.kind != "binary":
            nn = np.r_[n, N]
            m = np.r_[s1, S1] / nn
            v = (np.r_[s2, S2] - nn * m ** 2) / (nn - 1)
            v = np.where(v < 0, 0.0, v)
            half = _t(nn - 1) * np.sqrt(v / nn)
            out["mean"], out["mean_lower"], out["mean_upper"] = m, m - half, m + half
            mg, vg = m[:-1], v[:-1]
            mr = s1r / nr
            vr = np.clip((s2r - nr * mr ** 2) / (nr - 1), 0, None)
            a, b = vg / n, vr / nr
            se = np.sqrt(a + b)
            df = se ** 4 / (a ** 2 / (n - 1) + b ** 2 / (nr - 1))
            mdiff = (1 - w) * (mg - mr)
            mhalf = (1 - w) * _t(df) * se
            out["mean_diff"] = np.r_[mdiff, np.nan]
            out["mean_diff_lower"] = np.r_[mdiff - mhalf, np.nan]
            out["mean_diff_upper"] = np.r_[mdiff + mhalf, np.nan]
            if o.kind == "numeric":
                dlo, dhi = mdiff - mhalf, mdiff + mhalf
                pval = np.where(se > 0, 2 * st.t.sf(np.abs((mg - mr) / se), df), np.nan)
    below, above = dhi < 0, dlo > 0
    worse, better = (below, above) if worse_if_below else (above, below)
    call = np.where(worse, WORSE, np.where(better, BETTER, NO_CLEAR)).astype(object)
    call[~np.isfinite(dlo) | ~np.isfinite(dhi)] = NO_CLEAR
    call[n == 0] = ""  # no outcome recorded: nothing to compare
    out["significance"] = [*call, ""]
    flagged = (call == WORSE) | (call == BETTER)
    holm = _holm(np.asarray(pval, dtype=float)) & flagged
    out["holm"] = [*np.where(holm, "yes", np.where(flagged, "no", "")), ""]
    out.attrs["outcome"] = o
    return out


def _aggregate(per_oa: pd.DataFrame, oa_to_code: pd.Series, codes: list[str]) -> pd.DataFrame:
    g = per_oa.groupby(oa_to_code.reindex(per_oa.index).to_numpy()).sum()
    return g.reindex(codes).fillna(0)


def outcome_views(b, con, table: str, service, geo: pd.DataFrame, lv, names: dict, fields: list[str],
                  exact: bool, extra: list[tuple[str, pd.Series, dict[str, str], str]] = ()) -> None:
    """Build every outcome view of a service into the ServiceProfile `b` and register its counts:
    `outcome_<name>_<segment|group|subgroup|ward|<equality field>>`, and per `extra` dimension
    (name, OA -> code, code -> name, the users view whose rows it splits; e.g. the national IMD
    decile of pipeline.profiles.deprivation) `outcome_<name>_<dimension>`."""
    outs = list(service.outcomes)
    if not outs:
        return
    per_oa = counts_by(con, table, outs, "oa21cd")
    per_oa = per_oa.drop(columns="code").set_axis(per_oa["code"].astype(str).to_numpy())
    dims = []
    for col, view in lv:
        codes = levels.order_codes(pd.unique(geo[col]))
        nm = [names[view].get(c, "") for c in codes]
        dims.append((view, codes, nm, _aggregate(per_oa, geo.set_index("oa21cd")[col], codes), view))
    wards = geo[["ward_code", "ward_name"]].drop_duplicates("ward_code").sort_values("ward_code")
    wcodes = list(wards["ward_code"])
    dims.append(("ward", wcodes, list(wards["ward_name"]),
                 _aggregate(per_oa, geo.set_index("oa21cd")["ward_code"], wcodes), "ward"))
    for dim, oa_code, dim_names, users_view in extra:
        codes = levels.order_codes(pd.unique(oa_code))
        dims.append((dim, codes, [dim_names.get(c, "") for c in codes], _aggregate(per_oa, oa_code, codes),
                     users_view))
    columns = {r[0] for r in execute(con, "outcome_columns", describe_sql(ident(table)), fetch="all")}
    for f in fields:
        if f not in columns or f == "disability_type":  # several types per record: not a partition
            continue
        raw = counts_by(con, table, outs, f)
        mapped = np.asarray([equality.map_code(f, c) for c in raw["code"]], dtype=object)
        agg = raw.drop(columns="code").groupby(mapped).sum()
        # rows in the order of the service's equality view, then any other category found
        shown = b.views.get(f"equality_{f}")
        first = [] if shown is None else [c for c in shown["segment_code"] if c != "Total"]
        cats = [*dict.fromkeys([*first, *sorted(agg.index, key=str)])]
        dims.append((f, cats, [""] * len(cats), agg.reindex(cats).fillna(0), f"equality_{f}"))
    for o in outs:
        label = o.name
        for dim, codes, nm, agg, users_view in dims:
            c = pd.DataFrame({m: agg[f"{m}__{label}"].to_numpy()
                              for m in ("n", "k", "none", "dk", "s1", "s2")})
            frame = outcome_table(o, codes, nm, c)
            view = f"outcome_{label}_{dim}"
            _register(b, o, dim, codes, frame, users_view, exact)
            b.views[view] = frame
        _nest(b, o, geo, lv)


def _key(o: Outcome, dim: str, code: str, m: str):
    return ("out", o.name, m) if code == "Total" else ("out", o.name, dim, code, m)


def _register(b, o: Outcome, dim: str, codes: list[str], frame: pd.DataFrame, users_view: str,
              exact: bool) -> None:
    g = b.graph
    present = {col: m for col, m in COUNT_COLUMNS.items() if col in frame}
    cells = {}
    for col, m in present.items():
        keys = [_key(o, dim, c, m) for c in frame["segment_code"]]
        g.table(keys[:-1], frame[col].iloc[:-1], keys[-1], frame[col].iloc[-1])
        cells[col] = keys
    for code in frame["segment_code"]:
        if "successes" in present:
            g.relate(_key(o, dim, code, "n"), [_key(o, dim, code, "k"), _key(o, dim, code, "f")])
        if not exact:
            continue
        if code != "Total":
            users = (users_view, code)
        else:
            users = ("total", users_view) if users_view.startswith("equality_") else ("total",)
        parts = [_key(o, dim, code, m) for m in ("n", "none", "dk") if m in present.values()]
        # a row's users = with an outcome + no outcome + don't know (where the same records are counted)
        if users in g.counts and g.counts[users] == sum(g.counts[k] for k in parts):
            g.relate(users, parts)
    b.keys[f"outcome_{o.name}_{dim}"] = cells["with_outcome"]
    b.cells[f"outcome_{o.name}_{dim}"] = cells


def _nest(b, o: Outcome, geo: pd.DataFrame, lv) -> None:
    """Each group's counts add up to its supergroup's (and subgroups to their group)."""
    for (pcol, parent), (ccol, child) in zip(lv, lv[1:], strict=False):
        pairs = geo[[pcol, ccol]].drop_duplicates()
        if pairs[ccol].duplicated().any():
            continue
        for p, part in pairs.groupby(pcol):
            for m in MEASURES:
                total = _key(o, parent, str(p), m)
                if total in b.graph.counts:
                    b.graph.relate(total, [_key(o, child, str(c), m) for c in part[ccol]])


#: decimals of the published values (percentages and percentage points to 1 dp, means to 2 dp)
DECIMALS = {**{c: 1 for c in RATE_COLUMNS}, **{c: 2 for c in MEAN_COLUMNS}}


def format_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Display strings of an outcome view: counts as integers, rates and means rounded half up,
    '' where undefined."""
    out = frame.copy()
    for col in out.columns:
        if col in DECIMALS:
            out[col] = [round_half_up(v, DECIMALS[col]) for v in out[col]]
        elif col in COUNT_COLUMNS:
            out[col] = [str(int(v)) for v in out[col]]
        else:
            out[col] = out[col].fillna("").astype(str)
    return out


def rounded(frame: pd.DataFrame, base: int) -> pd.DataFrame:
    """ONS rule: counts rounded to `base` (half up) and the rates, differences and calls recomputed
    from the rounded counts (means are of values, not counts, and are kept)."""
    o: Outcome = frame.attrs["outcome"]
    out = frame.copy()
    for col in COUNT_COLUMNS:
        if col in out:
            out[col] = [int((int(v) + base // 2) // base * base) for v in out[col]]
    if "successes" in out:
        body = out.iloc[:-1]
        c = pd.DataFrame({"n": body["with_outcome"], "k": body["successes"], "none": body["no_outcome"],
                          "dk": body.get("dont_know", 0), "s1": 0.0, "s2": 0.0})
        again = outcome_table(o.model_copy(update={"kind": "binary"}), list(body["segment_code"]),
                              list(body["segment_name"]), c.reset_index(drop=True))
        for col in [*RATE_COLUMNS, *CALL_COLUMNS]:
            out[col] = again[col].to_numpy()
        out["not_achieved"] = out["with_outcome"] - out["successes"]
    return out
