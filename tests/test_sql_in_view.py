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

REPO = Path(__file__).resolve().parents[1]
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
    from tests.e2e import relocated_config

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
    logged = {m["name"] for m in HEAD.finditer(log.read_text(encoding="utf-8"))}
    assert set(printed) <= logged
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
