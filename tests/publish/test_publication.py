"""Publish once: every shareable file of a demo run comes from one disclosure-controlled table set.

Walks every file under outputs/<run>/ of the demo run under the council rule (threshold 5) and
under the ONS rule: no published count breaks the rule in any CSV, workbook, HTML table,
GeoPackage attribute or the run summary; a value hidden in one file is hidden in every other;
workbooks hold numbers as numbers; every ward map carries the layers the docs promise.
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from pipeline.config import Suppression
from pipeline.geocode import MATCH_LEVELS, REJECT_REASONS
from tests.helpers import relocated_raw, republished

#: CSV columns that hold counts of people or records (base households are census counts).
COUNT_COLUMNS = {"service_count", "non_users", "records", "matched", "rejected", "rows_read", "address_level",
                 "postcodes_corrected", "terminated_postcodes", "large_user_postcodes", "uprns_used",
                 "uprns_contradicting_record", "uprns_not_found", "fuzzy_address_matches",
                 "non_residential_matches",
                 *MATCH_LEVELS, *REJECT_REASONS}
#: Workbook headings of the same counts.
COUNT_HEADINGS = {"Users", "Households not using"}


@pytest.fixture(scope="session")
def ons_run(demo_run, tmp_path_factory):
    """The demo run published and rendered under the ONS rule."""
    cfg, result, _, _ = demo_run
    return republished(cfg, result, tmp_path_factory.mktemp("ons"), suppression=Suppression(rule="ons"))


def _breaks(value, rule: str) -> bool:
    """True when a shown count may not be published under the rule."""
    v = float(value)
    if v == 0:
        return False
    return v < 5 if rule == "council" else (v < 10 or v % 5 != 0)


def _csv_counts(out: Path):
    for f in sorted(out.rglob("*.csv")):
        if "segments" in f.relative_to(out).parts:  # census aggregates of the classification
            continue
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        for col in COUNT_COLUMNS & set(t.columns):
            for v in t[col]:
                yield f, col, v


def _workbook_counts(out: Path):
    for f in sorted(out.rglob("*.xlsx")):
        wb = load_workbook(f, read_only=True)
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            if not rows or ws.title in ("Notes", "Definitions", "Method", "Suppression", "Data dictionary"):
                continue
            if ws.title == "Data quality":
                for measure, value in rows[1:]:
                    if str(measure).lower().replace(" ", "_") in COUNT_COLUMNS:
                        yield f, measure, value
                continue
            for i, heading in enumerate(rows[0]):
                if heading in COUNT_HEADINGS:
                    for r in rows[1:]:
                        yield f, heading, r[i]


def _html_counts(out: Path):
    """The Users column of every profile table in the reports."""
    for f in sorted(out.rglob("*_report.html")):
        text = f.read_text(encoding="utf-8")
        for table in re.findall(r'<table class="profile"[^>]*>(.*?)</table>', text, re.S):
            heads = [html_lib.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)]
            col = next((i for i, h in enumerate(heads) if h in ("Users", "Contacts")), None)
            if col is None:
                continue
            for row in re.findall(r"<tr data-code=[^>]*>(.*?)</tr>", table, re.S):
                cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
                yield f, heads[col], html_lib.unescape(cells[col])


def _gpkg_counts(out: Path, run: str):
    wards = gpd.read_file(out / f"{run}_insight.gpkg", layer="wards")
    for col in [c for c in wards.columns if c.endswith("_users") or c.endswith("_shown")]:
        for v in wards[col]:
            yield "gpkg", col, v


# ons: the demo run published and rendered again (make test-slow; CI runs it)
@pytest.mark.parametrize("which", ["council", pytest.param("ons", marks=pytest.mark.slow)])
def test_no_count_breaks_the_rule_in_any_file(which, demo_run, request):
    cfg = demo_run[0] if which == "council" else request.getfixturevalue("ons_run")[0]
    sym, out = cfg.suppression.symbol, cfg.outputs
    seen = {"csv": 0, "xlsx": 0, "html": 0, "gpkg": 0, "hidden": 0}
    sources = (("csv", _csv_counts(out)), ("xlsx", _workbook_counts(out)), ("html", _html_counts(out)),
               ("gpkg", _gpkg_counts(out, cfg.run)))
    for kind, cells in sources:
        for f, col, v in cells:
            if v is None or v == "" or (isinstance(v, float) and pd.isna(v)):
                continue
            if v == sym:
                seen["hidden"] += 1
                continue
            if isinstance(v, str):
                assert re.fullmatch(r"\d+(\.\d+)?", v.replace(",", "")), (f, col, v)  # numbers or the symbol
                v = v.replace(",", "")
            if which == "ons" and col in ("non_users", "Households not using"):
                continue  # households (census, exact) minus rounded users: checked below
            assert not _breaks(v, which), (str(f), col, v)
            seen[kind] += 1
    assert min(seen.values()) > 0, seen  # every kind of file was read, and some counts are hidden
    for f in out.glob("*/*_profile_segment.csv"):  # non-users come from the published (rounded) users
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "non_users" not in t:  # the cross-service matrix
            continue
        t = t[(t["service_count"] != sym) & (t["non_users"] != "")]
        users, base = t["service_count"].astype(int), t["base_count"].astype(int)
        assert (base - users == t["non_users"].astype(int)).all()


def test_a_count_hidden_in_one_file_is_hidden_in_every_other(demo_run):
    cfg, result, _, _ = demo_run
    sym, out = cfg.suppression.symbol, cfg.outputs
    summary = pd.read_csv(out / "run_summary.csv", dtype=str, keep_default_na=False).set_index("service")
    levels = pd.read_csv(out / "quality/match_levels.csv", dtype=str, keep_default_na=False)
    corrections = pd.read_csv(out / "quality/corrections.csv", dtype=str, keep_default_na=False)
    for r in levels.itertuples():
        assert summary.at[r.service, r.outcome] == r.records, (r.service, r.outcome)
    for r in corrections.itertuples():
        assert summary.at[r.service, "postcodes_corrected"] == r.postcodes_corrected
    assert (levels["records"] == sym).any()  # the demo hides some outcomes
    # every service report's match table shows the published summary
    for service in summary.index:
        report = (out / service / f"{service}_report.html").read_text(encoding="utf-8")
        match = re.search(r'<table class="match">(.*?)</table>', report, re.S).group(1)
        shown = dict(re.findall(r'<td class="t">(.*?)</td><td>(.*?)</td>', match))
        for outcome in (*MATCH_LEVELS, *REJECT_REASONS):
            label = outcome.replace("_", " ").capitalize()
            if label in shown:
                assert shown[label].replace(",", "") == summary.at[service, outcome], (service, outcome)
    # the workbook sheets show what the CSVs show, hidden cells included
    for name in result.publication.services:
        service = name.split("__")[0]
        wb = load_workbook(out / service / f"{name}_profile.xlsx", read_only=True)
        rows = list(wb["Ward profile"].iter_rows(values_only=True))
        users = [r[rows[0].index("Users")] for r in rows[1:]]
        csv = pd.read_csv(out / service / f"{name}_profile_ward.csv", dtype=str, keep_default_na=False)
        assert [str(u) for u in users] == csv["service_count"].tolist(), name


def test_workbook_numbers_are_numbers_with_formats(demo_run):
    cfg = demo_run[0]
    wb = load_workbook(cfg.outputs / "stop_smoking" / "stop_smoking_profile.xlsx")
    numeric = 0
    for title in ("Segment profile", "Group profile", "Ward profile", "Ward x segment", "Equality age"):
        ws = wb[title]
        headings = [c.value for c in ws[1]]
        assert {"Users", "Index"} <= set(headings), title
        for row in ws.iter_rows(min_row=2):
            for c in row:
                if isinstance(c.value, str):
                    assert not re.fullmatch(r"-?\d+(\.\d+)?", c.value), (title, c.coordinate, c.value)
                elif isinstance(c.value, (int, float)):
                    assert c.number_format != "General", (title, c.coordinate)
                    numeric += 1
        index_col = headings.index("Index") + 1
        for c in ws.iter_cols(min_col=index_col, max_col=index_col, min_row=2):
            formats = {cell.number_format for cell in c if isinstance(cell.value, (int, float))}
            assert formats == {"0"}, title
        if title != "Equality age":
            letter = ws.cell(row=1, column=index_col).column_letter
            ranges = [str(cf.sqref) for cf in ws.conditional_formatting
                      if any(r.type == "colorScale" for r in cf.rules)]
            assert ranges == [f"{letter}2:{letter}{ws.max_row - 1}"], (title, ranges)  # body, not Total
            body = [ws[f"{letter}{r}"].value for r in range(2, ws.max_row)]
            assert sum(isinstance(v, (int, float)) for v in body) >= len(body) // 2, title
    assert numeric > 500
    assert {"Data dictionary", "Definitions", "Method", "Suppression"} <= set(wb.sheetnames)
    ws = wb["Segment profile"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref and ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$1:$1"


def test_every_ward_map_carries_the_promised_layers(demo_run):
    cfg, result, _, _ = demo_run
    maps = sorted(cfg.outputs.glob("*/*_ward_map.html"))
    assert len(maps) == len(result.publication.services) >= 5
    for m in maps:
        html = m.read_text(encoding="utf-8")
        for layer in ("Penetration (% of households)", "Index (100 = borough average)", "Target areas"):
            assert layer in html, (m.name, layer)


def test_private_copies_are_unsuppressed_and_stay_private(demo_run):
    cfg = demo_run[0]
    private = pd.read_csv(cfg.private / "profiles" / "stop_smoking_profile_ward_segment.csv", dtype=str)
    shared = pd.read_csv(cfg.outputs / "stop_smoking" / "stop_smoking_profile_ward_segment.csv", dtype=str)
    assert (shared["service_count"] == "#").any() and not (private["service_count"] == "#").any()
    assert (cfg.private / "run_summary.csv").exists()
    assert (cfg.private / "quality" / "match_levels.csv").exists()
    assert not list(cfg.outputs.rglob("*.duckdb"))


def test_a_small_threshold_warning_travels_with_every_output(demo_run, tmp_path):
    """A threshold below 5 (allowed explicitly) puts its warning in the notes of every table, the
    report, the workbook and the index page."""
    from dataclasses import replace

    from pipeline.publish.notes import run_notes
    from pipeline.render.report import write_run_index, write_service_report
    from pipeline.render.tables import write_service_workbook

    cfg, result, _, _ = demo_run
    small = cfg.model_copy(update={
        "suppression": Suppression(threshold=3, allow_small_threshold=True),
        "outputs_dir": tmp_path / "out"})
    warning = small.suppression.warning
    assert warning and warning in run_notes(small) and not cfg.suppression.warning
    pub = replace(result.publication, warnings=[warning], notes=run_notes(small))
    report = write_service_report(small, pub, "stop_smoking", "Stop smoking")
    assert html_lib.escape(warning, quote=False) in report.path.read_text(encoding="utf-8")
    book = write_service_workbook(small, pub, "stop_smoking", "Stop smoking")
    notes = [c.value for c in load_workbook(book)["Notes"]["A"] if c.value]
    assert warning in notes
    index = write_run_index(small, {"stop_smoking": "Stop smoking"}, None, None, [], pub.warnings)
    assert html_lib.escape(warning, quote=False) in index.read_text(encoding="utf-8")


@pytest.mark.slow  # a whole run of its own (make test-slow; CI runs it)
def test_an_extract_where_nothing_matches_profiles_as_zero_users(demo_data, tmp_path, capsys):
    """A service none of whose rows match runs through every stage: zero users, a clear warning,
    a report saying there is nothing to show, and the other services unaffected."""
    from pipeline import cli

    raw, _ = demo_data
    extract = tmp_path / "nobody.csv"
    extract.write_text("Ref,Postcode\n" + "".join(f"N{i},ZZ9 9ZZ\n" for i in range(12)), encoding="utf-8")
    config = relocated_raw(Path("config/demo.yaml"), {"data/demo/raw": str(raw)})
    config["services"] = [config["services"][1], {
        "name": "nobody", "label": "Nobody", "file": str(extract),
        "columns": {"record_id": "Ref", "postcode": "Postcode"}}]
    config["private_dir"], config["outputs_dir"] = str(tmp_path / "data"), str(tmp_path / "outputs")
    path = tmp_path / "zero.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    assert cli.main(["run", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "nobody: none of its 12 rows was matched" in out
    seg = pd.read_csv(tmp_path / "outputs" / "nobody" / "nobody_profile_segment.csv", dtype=str)
    assert seg.loc[seg["segment_code"] == "Total", "service_count"].item() == "0"
    report = (tmp_path / "outputs" / "nobody" / "nobody_report.html").read_text(encoding="utf-8")
    assert "No users of the nobody were matched" in report
    other = config["services"][0]["name"]
    assert (tmp_path / "outputs" / other / f"{other}_report.html").exists()
