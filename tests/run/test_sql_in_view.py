"""SQL in view (issue 22): every statement is named and runs through `pipeline.warehouse.execute`,
`insight run CONFIG --sql` prints each with its name, rows and seconds, every run writes them to the
private data/<run>/sql.log, and no module of pipeline/ builds SQL in an f-string except the small
`*_sql()` builders (identifiers and placeholders only)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline import warehouse

REPO = Path(__file__).resolve().parents[2]
HEAD = re.compile(r"^-- sql (?P<name>[a-z0-9_]+): (?P<rows>[\d,]+|-) rows, (?P<secs>\d+\.\d{3}) s", re.M)


def test_execute_names_counts_and_binds(tmp_path):
    con = duckdb.connect()
    log = tmp_path / "sql.log"
    warehouse.attach_log(con, log)
    made = warehouse.execute(con, "make_t", "CREATE TABLE t AS SELECT range AS x FROM range(5)")
    assert made == 5
    assert warehouse.execute(con, "count_big", "SELECT count(*) FROM t WHERE x >= ?", [3],
                             fetch="value") == 2
    assert warehouse.execute(con, "make_v", "CREATE TEMP VIEW v AS SELECT * FROM t") is None
    assert len(warehouse.execute(con, "all_t", "SELECT * FROM t", fetch="df")) == 5
    text = log.read_text(encoding="utf-8")
    assert [m["name"] for m in HEAD.finditer(text)] == ["make_t", "count_big", "make_v", "all_t"]
    assert [m["rows"] for m in HEAD.finditer(text)] == ["5", "1", "-", "5"]
    assert "WHERE x >= ?" in text and "1 bound" in text  # the placeholder, never the value
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="not a scratch table"):
        warehouse.drop_scratch(con, "t")


def test_insight_run_sql_prints_statements_and_writes_a_private_log(demo_data, tmp_path, capsys):
    """`insight run --until geocode --sql` on one demo service: every statement on stderr with its
    name and rows (the geocode stage's named SQL among them), the same in data/<run>/sql.log (0600),
    and no scratch table left in the warehouse."""
    from pipeline.cli import main
    from tests.helpers import relocated_config

    raw, _ = demo_data
    relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp_path)
    path = tmp_path / "demo.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["services"] = cfg["services"][1:2]
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    service = cfg["services"][0]["name"]

    assert main(["run", str(path), "--until", "geocode", "--quiet", "--sql"]) == 0
    err = capsys.readouterr().err
    printed = {m["name"]: m["rows"] for m in HEAD.finditer(err)}
    assert {"warehouse_marker", "geocode_postcode", "geocode_outcomes"} <= set(printed), sorted(printed)
    assert printed["warehouse_marker"] == "1"
    assert all(rows == "-" or rows.replace(",", "").isdigit() for rows in printed.values())

    log = Path(cfg["private_dir"]) / "sql.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text(encoding="utf-8")
    logged = {m["name"] for m in HEAD.finditer(text)}
    assert set(printed) <= logged
    # every scratch table a statement made is dropped by a later one
    made = set(re.findall(r'CREATE OR REPLACE TEMP TABLE "(scratch_\w+)"', text))
    dropped = set(re.findall(r'DROP TABLE IF EXISTS "(scratch_\w+)"', text))
    assert {f"scratch_raw_{service}", f"scratch_address_match_{service}"} <= made
    assert made <= dropped
    con = duckdb.connect(str(Path(cfg["private_dir"]) / "warehouse.duckdb"), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    finally:
        con.close()
    assert f"geocode_{service}" in tables
    assert not [t for t in tables if t.startswith(warehouse.SCRATCH)]

    # without --sql nothing is printed, and the log is written afresh
    assert main(["run", str(path), "--until", "geocode", "--quiet"]) == 0
    assert not HEAD.search(capsys.readouterr().err)
    assert HEAD.search(log.read_text(encoding="utf-8"))


# --- the bar: no SQL built in an f-string outside the *_sql() builders --------------------------------

#: SQL keywords as the pipeline writes them (upper case). A literal part of an f-string, a
#: "...".format() or a "..." % / + expression that holds one of these builds SQL.
SQL_WORDS = re.compile(r"\b(SELECT|FROM|WHERE|JOIN|GROUP BY|ORDER BY|UNION|CREATE|INSERT|UPDATE|DELETE|DROP|"
                       r"ALTER|DESCRIBE|COPY|ATTACH|DETACH|MACRO|VIEW|TABLE|VALUES|QUALIFY|CASE WHEN|SET)\b")
SCANNED = [REPO / "pipeline", REPO / "boundaries", REPO / "segments" / "lookup.py"]
#: (file, function) that may build SQL from parts although its name does not end in _sql, each with
#: its reason. Empty: every builder is named *_sql(); an entry here must say why it cannot be.
ALLOWED: dict[tuple[str, str], str] = {}


def _sql_built_outside_builders(path: Path) -> list[str]:
    """(line, function) of every f-string, .format() or %/+ on a literal holding SQL words that is not
    inside a function named *_sql (or an ALLOWED one)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(REPO).as_posix()
    found = []

    def text_of(node) -> str | None:
        if isinstance(node, ast.JoinedStr):
            return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
                and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
            return node.func.value.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
            parts = [s.value for s in (node.left, node.right)
                     if isinstance(s, ast.Constant) and isinstance(s.value, str)]
            other = [s for s in (node.left, node.right) if not isinstance(s, ast.Constant)]
            return " ".join(parts) if parts and other else None
        return None

    def visit(node, function: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        text = text_of(node)
        if (text and SQL_WORDS.search(text) and not function.endswith("_sql")
                and (rel, function) not in ALLOWED):
            found.append(f"{rel}:{node.lineno} in {function}(): {text.strip()[:60]!r}")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "<module>")
    return found


def test_no_sql_is_built_in_an_f_string_outside_the_sql_builders():
    """Statements are constants, .sql files (pipeline.warehouse.sql) or built by a function named
    *_sql() that puts in only identifiers and placeholders; nothing else pastes text into SQL."""
    files = sorted(p for root in SCANNED for p in ([root] if root.is_file() else root.rglob("*.py")))
    assert len(files) > 50
    offending = [hit for path in files for hit in _sql_built_outside_builders(path)]
    assert offending == [], "build this SQL in a *_sql() function (identifiers and placeholders only):\n" + \
        "\n".join(offending)


def test_the_guard_catches_sql_pasted_into_an_f_string(tmp_path, monkeypatch):
    """The scan above fails on the pattern it forbids (an f-string statement in a stage function)
    and passes the same text inside a *_sql() builder."""
    bad = REPO / "pipeline" / "_guard_probe.py"  # never written: the scan reads the path given
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: (
        "def run(con, t):\n    con.execute(f'SELECT count(*) FROM {t}')\n"
        "def count_sql(t):\n    return f'SELECT count(*) FROM {t}'\n"))
    hits = _sql_built_outside_builders(bad)
    assert len(hits) == 1 and "in run()" in hits[0]


def test_every_statement_goes_through_the_named_executor():
    """No module of pipeline/ (or the boundaries and lookup loaders) calls a DuckDB connection's
    execute itself: pipeline.executor.execute is the one place statements run (and are logged)."""
    import ast

    files = sorted(p for root in SCANNED for p in ([root] if root.is_file() else root.rglob("*.py")))
    direct = []
    for path in files:
        if path.name == "executor.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            on = node.func.value
            connection = (isinstance(on, ast.Name) and on.id in ("con", "db")) or \
                (isinstance(on, ast.Attribute) and on.attr == "con")
            if node.func.attr in ("execute", "executemany") or (node.func.attr in ("sql", "query")
                                                                 and connection):
                direct.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert direct == [], "run these through pipeline.executor.execute(con, name, sql, params):\n" + \
        "\n".join(direct)


def test_no_statement_draws_duckdbs_progress_bar_on_stdout(tmp_path):
    """DuckDB draws a progress bar on stdout for a statement over 2 s (progress_bar_time): it landed
    in the output of `insight reference` when a reference build ran long. The executor turns it off
    on every connection it runs a statement on."""
    import subprocess
    import sys

    from tests.conftest import REPO

    script = ("import duckdb\nfrom pipeline.executor import execute\ncon = duckdb.connect()\n"
              "con.execute('SET progress_bar_time = 200')\n"  # the bar after 0.2 s instead of 2 s
              "execute(con, 'long', 'SELECT sum(hash(i)) FROM range(300000000) t(i)', fetch='value')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                          check=True, timeout=120)
    assert done.stdout == "" and "%" not in done.stderr
