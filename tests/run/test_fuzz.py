"""Fuzz: 220 seeded malformed extracts and configs. None gives a traceback; none loses or invents a row.

Extracts (160) go through the ingest and geocode stages as `insight run --until geocode` runs them
(the same functions, on a hand-made postcode directory, so each case takes milliseconds): either a
clear IngestError naming the file, or every row accounted for (rows read = matched + rejected, the
run summary's check) with no more rows than the file has lines, and exactly the known number of
rows where the mutation does not touch the CSV structure. Configs (60) go through `insight
validate`: exit 0, or exit 2 with `error:` lines and no traceback.
"""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from pipeline import cli
from pipeline.geocode import geocode_service
from pipeline.ingest import IngestError, ingest_service
from pipeline.summary import account
from tests.helpers import make_ref_postcodes, relocated_raw, tiny_config

SEED = 2021
POSTCODES = [("DM4 7QX", "E00900001", "E05900001", True), ("DM4 0QX", "E00900002", "E05900001", True),
             ("DM1 1AA", "E00900003", "E05900002", False)]
VALUES = ["DM4 7QX", "dm4 0qx", "DM11AA", "DM4 7", "", "XX1 1XX", "not a postcode", "DM40QX"]


def _base_rows(rng: random.Random, n: int) -> list[list[str]]:
    return [[f"R{i}", rng.choice(VALUES), f"{rng.randint(1, 99)} High Street"] for i in range(n)]


def _csv(rows: list[list[str]], sep: str = ",", eol: str = "\n") -> str:
    return eol.join(sep.join(r) for r in [["Ref", "Postcode", "Address1"], *rows]) + eol


def _mutations(rng: random.Random):
    """(name, bytes, expected rows or None when the mutation may change the CSV structure)."""
    for k in range(160):
        n = rng.randint(1, 40)
        rows = _base_rows(rng, n)
        kind = k % 16
        if kind == 0:  # empty lines anywhere below the header: each is a (blank) row
            text = _csv(rows).split("\n")
            for _ in range(rng.randint(1, 3)):
                text.insert(rng.randint(1, len(text) - 1), "")
            body = "\n".join(text)
            yield "blank_lines", body.encode(), len(body.split("\n")) - 2  # lines below the header
        elif kind == 1:
            yield "crlf", _csv(rows, eol="\r\n").encode(), n
        elif kind == 2:
            yield "utf16", codecs.BOM_UTF16_LE + _csv(rows).encode("utf-16-le"), n
        elif kind == 3:
            yield "utf8_bom", codecs.BOM_UTF8 + _csv(rows).encode(), n
        elif kind == 4:
            rows[rng.randrange(n)][2] = "Caf\u00e9 Ros\u00e9 \u00a3"
            yield "cp1252", _csv(rows).encode("cp1252"), n
        elif kind == 5:
            yield "semicolon", _csv(rows, sep=";").encode(), n
        elif kind == 6:
            yield "tab", _csv(rows, sep="\t").encode(), n
        elif kind == 7:  # quoted line breaks inside a field: records, not lines
            i = rng.randrange(n)
            rows[i][2] = '"Flat 1\nHigh Street"'
            yield "quoted_newline", _csv(rows).encode(), n
        elif kind == 8:  # a long field
            rows[rng.randrange(n)][2] = "x" * rng.randint(10_000, 200_000)
            yield "long_field", _csv(rows).encode(), n
        elif kind == 9:  # ragged: missing or extra fields
            i = rng.randrange(n)
            rows[i] = rows[i][:2] if rng.random() < 0.5 else [*rows[i], "extra"]
            yield "ragged", _csv(rows).encode(), None
        elif kind == 10:  # an unclosed quote
            rows[rng.randrange(n)][2] = '"unclosed'
            yield "unclosed_quote", _csv(rows).encode(), None
        elif kind == 11:  # NUL bytes and control characters inside fields
            rows[rng.randrange(n)][2] = "A\x00B\x07C"
            yield "nul", _csv(rows).encode(), None
        elif kind == 12:  # truncated mid-row
            data = _csv(rows).encode()
            yield "truncated", data[: rng.randint(len(data) // 2, len(data) - 1)], None
        elif kind == 13:  # random byte flips
            data = bytearray(_csv(rows).encode())
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            yield "byte_flips", bytes(data), None
        elif kind == 14:  # random insertions and deletions
            data = bytearray(_csv(rows).encode())
            for _ in range(rng.randint(1, 6)):
                pos = rng.randrange(len(data))
                if rng.random() < 0.5:
                    del data[pos]
                else:
                    data[pos:pos] = bytes([rng.randrange(256)])
            yield "byte_edits", bytes(data), None
        else:  # binary garbage, an empty file, or a header only
            choice = rng.randrange(3)
            data = [bytes(rng.randrange(256) for _ in range(rng.randint(1, 500))), b"",
                    b"Ref,Postcode,Address1\n"][choice]
            yield "garbage", data, None


def _xlsx_cases(tmp: Path, rng: random.Random):
    for k in range(4):
        wb = openpyxl.Workbook()
        ws = wb.active
        rows = _base_rows(rng, 10)
        for r in [["Ref", "Postcode", "Address1"], *rows]:
            ws.append(r)
        path = tmp / f"x{k}.xlsx"
        wb.save(path)
        data = path.read_bytes()
        yield "xlsx", data, 10
        yield "xlsx_truncated", data[: len(data) // (k + 2)], None


def _run_extract(tmp: Path, name: str, data: bytes, suffix: str = ".csv"):
    path = tmp / f"{name}{suffix}"
    path.write_bytes(data)
    cfg = tiny_config(tmp, [{"name": "svc", "label": "S", "file": str(path),
                             "columns": {"record_id": "Ref", "postcode": "Postcode"}}])
    con = duckdb.connect()
    try:
        make_ref_postcodes(con, POSTCODES)
        con.execute("""CREATE TABLE ref_oa AS SELECT * FROM (VALUES ('E00900001', 'E05900001', 'Ward A'),
            ('E00900002', 'E05900001', 'Ward A'), ('E00900003', 'E05900002', 'Ward B'))
            t(oa21cd, ward_code, ward_name)""")
        result = ingest_service(con, cfg, cfg.services[0])
        counts = geocode_service(con, cfg.services[0])
        account({"svc": result.rows}, {"svc": counts})  # raises if a row was lost or counted twice
        return result.rows, path
    finally:
        con.close()


def test_malformed_extracts_never_crash_lose_or_invent_rows(tmp_path):
    rng = random.Random(SEED)
    cases = list(_mutations(rng)) + list(_xlsx_cases(tmp_path, rng))
    assert len(cases) >= 160
    outcomes = {"rows": 0, "error": 0}
    for i, (kind, data, expected) in enumerate(cases):
        case = tmp_path / f"case{i}"
        case.mkdir()
        suffix = ".xlsx" if kind.startswith("xlsx") else ".csv"
        try:
            rows, path = _run_extract(case, f"extract_{kind}", data, suffix)
        except IngestError as exc:
            message = str(exc)
            assert f"extract_{kind}" in message and "Traceback" not in message, (i, kind, message)
            assert expected is None, (i, kind, message)  # a well-formed file is never refused
            outcomes["error"] += 1
            continue
        assert path.read_bytes() == data, (i, kind)  # the raw file is only read
        lines = data.count(b"\n") + data.count(b"\r") + 1
        assert 0 <= rows <= lines, (i, kind, rows, lines)  # no row invented
        if expected is not None:
            assert rows == expected, (i, kind, rows, expected)  # no row lost
        outcomes["rows"] += 1
        assert not (case / "private" / "interim").exists(), (i, kind)
    assert outcomes["rows"] > 100 and outcomes["error"] > 5, outcomes


def _config_mutations(base: dict, text: str, rng: random.Random):
    """60 config variants: schema-level mistakes, then random edits of the YAML text."""
    import copy

    def variant(edit):
        cfg = copy.deepcopy(base)
        edit(cfg)
        return yaml.safe_dump(cfg, sort_keys=False)

    edits = [
        lambda c: c.pop("run"), lambda c: c.pop("geography"), lambda c: c.update(run="bad name!"),
        lambda c: c.update(unknown_key=1), lambda c: c["services"][0].update(file="nope.csv"),
        lambda c: c["services"][0]["columns"].update(postcode="No Such Header"),
        lambda c: c["services"][0].update(name="bad/name"), lambda c: c.update(services=[]),
        lambda c: c.update(suppression={"threshold": 1}), lambda c: c.update(suppression={"symbol": ""}),
        lambda c: c.update(suppression={"rule": "sometimes"}),
        lambda c: c.setdefault("segmentation", {}).update(k=10_000),
        lambda c: c.setdefault("segmentation", {}).update(drop=["no_such_variable"]),
        lambda c: c.update(outputs_dir=c.get("private_dir", "data/x")),
        lambda c: c["geography"]["postcode_directory"].update(path="missing.csv"),
        lambda c: c["services"][0].update(columns="not a mapping"),
        lambda c: c["services"].append(dict(c["services"][0])),  # a duplicate service name
        lambda c: c.update(area_name=["a", "list"]), lambda c: c["census"].update(dir=123),
        lambda c: c["services"][0].update(header_row=-3),
    ]
    for e in edits:
        yield variant(e)
    yield text + "\nsuppression:\n  threshold: 5\nsuppression:\n  threshold: 3\n"  # a repeated key
    yield "a: [unclosed\n"
    yield "\tindented: with a tab\n"
    yield "- just\n- a list\n"
    yield ""
    while True:  # random character edits of the valid YAML
        chars = list(text)
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(chars))
            op = rng.randrange(3)
            if op == 0:
                del chars[pos]
            elif op == 1:
                chars.insert(pos, rng.choice(":-[]{}#&*!|>'\"% \n\t"))
            else:
                chars[pos] = rng.choice("abcxyz019:")
        yield "".join(chars)


def test_malformed_configs_never_give_a_traceback(demo_data, tmp_path, capsys):
    raw, _ = demo_data
    base = relocated_raw(Path("config/demo.yaml"), {"data/demo/raw": str(raw)})
    base["private_dir"], base["outputs_dir"] = str(tmp_path / "data"), str(tmp_path / "outputs")
    text = yaml.safe_dump(base, sort_keys=False)
    rng = random.Random(SEED)
    codes = []
    for i, variant in enumerate(_config_mutations(base, text, rng)):
        if i == 60:
            break
        path = tmp_path / f"c{i}.yaml"
        path.write_text(variant, encoding="utf-8")
        try:
            code = cli.main(["validate", str(path)])
        except SystemExit as exc:  # argparse only; never for a config problem
            pytest.fail(f"case {i}: SystemExit {exc.code}")
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err, (i, out.err[-2000:])
        assert code in (0, 2), (i, code)
        if code == 2:
            assert out.err.lstrip().startswith("error:"), (i, out.err[:500])
        codes.append(code)
    assert len(codes) == 60 and codes.count(2) >= 40, codes


# --- hostile values: outcomes, dates of birth, service points (issue 23) ---------------------------

#: numeric outcome values, each with the number it gives (None: rejected; '' is blank, no outcome)
NUMERIC_VALUES = {"3": 3.0, "4.5": 4.5, "1,200": 1200.0, " 7 ": 7.0, "0": 0.0, "": None, "abc": None,
                  "-5": None, "1e308": None, "NaN": None, "inf": None, "-inf": None, "2,5": None,
                  "100000000000": None, "1 200": None, "1e400": None, "n/a": None, "3 days": None}
BINARY_VALUES = {"Yes": True, "no": False, " Y ": True, "N": False, "": None, "Not known": None,
                 "maybe": None, "2": None, "yes please": None}


def _outcome_extract(tmp: Path, rng: random.Random, n: int):
    days = [rng.choice(list(NUMERIC_VALUES)) for _ in range(n)]
    quit_ = [rng.choice(list(BINARY_VALUES)) for _ in range(n)]
    rows = [["Ref", "Postcode", "Days", "Quit"]] + [[f"R{i}", "DM4 7QX", d, q]
                                                   for i, (d, q) in enumerate(zip(days, quit_, strict=True))]
    path = tmp / "outcomes.csv"
    path.write_text("\n".join(",".join(f'"{c}"' for c in r) for r in rows) + "\n", encoding="utf-8")
    cfg = tiny_config(tmp, [{"name": "svc", "label": "S", "file": str(path),
                             "columns": {"record_id": "Ref", "postcode": "Postcode"},
                             "outcomes": [{"name": "days", "column": "Days", "kind": "numeric",
                                           "better": "lower"},
                                          {"name": "quit", "column": "Quit", "kind": "binary"}]}])
    return cfg, days, quit_


def test_junk_outcome_values_are_rejected_counted_and_never_crash(tmp_path):
    """abc, -5, 1e308, NaN, inf, '2,5' and 10^11 in a numeric outcome, unrecognised codes in a binary
    one: never a traceback; each rejected value is left out of the mean and the rate and counted in
    the run's notes and in `insight validate`'s report, with a warning over `rejected_share`."""
    from pipeline.ingest import value_report
    from pipeline.profiles import outcomes

    rng = random.Random(SEED)
    for case in range(12):
        tmp = tmp_path / f"o{case}"
        tmp.mkdir()
        cfg, days, quit_ = _outcome_extract(tmp, rng, rng.randint(5, 60))
        con = duckdb.connect()
        result = ingest_service(con, cfg, cfg.services[0])
        c = outcomes.counts_by(con, "ingest_svc", list(cfg.services[0].outcomes), "postcode")
        good = [NUMERIC_VALUES[d] for d in days if NUMERIC_VALUES[d] is not None]
        assert c["n__days"].sum() == len(good)
        assert c["s1__days"].sum() == pytest.approx(sum(good))
        known = [BINARY_VALUES[q] for q in quit_ if BINARY_VALUES[q] is not None]
        assert (c["n__quit"].sum(), c["k__quit"].sum()) == (len(known), sum(known))
        for o in cfg.services[0].outcomes:  # the published table of each: no traceback, finite means
            cols = {m: c[f"{m}__{o.name}"] for m in ("n", "k", "none", "dk", "s1", "s2")}
            outcomes.format_frame(outcomes.outcome_table(o, ["DM4 7QX"], [""], pd.DataFrame(cols)))
        rejected_days = sum(1 for d in days if d.strip() not in ("", "n/a") and NUMERIC_VALUES[d] is None)
        rejected_quit = sum(1 for q in quit_ if q.strip() not in ("", "Not known")
                            and BINARY_VALUES[q] is None)
        assert result.outcome_values["days"].rejected == rejected_days
        assert result.outcome_values["quit"].rejected == rejected_quit
        report = value_report(cfg)
        for name, rejected, given in (("days", rejected_days, sum(1 for d in days if d.strip())),
                                      ("quit", rejected_quit, sum(1 for q in quit_ if q.strip()))):
            lines = [n for n in result.notes if f"outcome {name!r}" in n]
            checked = [n for n in report if f"outcome {name!r}" in n]
            if not rejected:
                assert not lines and not checked
                continue
            assert len(lines) == len(checked) == 1, (case, result.notes, report)
            assert f"{rejected:,} of {given:,} values given" in lines[0] and "Fix:" in lines[0]
            tail = f"outcome {name!r}"
            assert checked[0].split(tail, 1)[1] == lines[0].split(tail, 1)[1]  # one rule, one report
            assert lines[0].startswith("WARNING:") == (rejected / given > 0.02)
        con.close()


def test_outcome_range_is_configurable_and_checked(tmp_path):
    from pipeline.config import Outcome

    o = Outcome(name="days", column="Days", kind="numeric", minimum=-10, maximum=365)
    assert (o.minimum, o.maximum) == (-10, 365)
    for bad in ({"maximum": float("inf")}, {"minimum": 5, "maximum": 5}, {"maximum": 1e300}):
        with pytest.raises(ValueError, match="Fix:"):
            Outcome(name="days", column="Days", kind="numeric", **bad)
    with pytest.raises(ValueError, match="do nothing for a binary outcome"):
        Outcome(name="quit", column="Quit", kind="binary", maximum=5)


GOOD_POINTS = [("Central Library", "library", "", "383800", "398200"),
               ("North Clinic", "clinic", "DM4 7QX", "", ""),
               ("East Hub", "library", "", "390,100", "401,250.5")]
#: bad grid references, each with the words its problem says
BAD_GRID = [("inf", "400000", "not a finite number"), ("400000", "-inf", "not a finite number"),
            ("nan", "400000", "not a finite number"), ("abc", "400000", "not a finite number"),
            ("2,5", "400000", "not a finite number"), ("0", "0", "(0, 0) is a placeholder"),
            ("800000", "400000", "outside Great Britain"), ("400000", "1400000", "outside Great Britain"),
            ("-10", "400000", "outside Great Britain"), ("9" * 300, "400000", "outside Great Britain"),
            ("9" * 400, "400000", "not a finite number")]


def _points_file(path: Path, rows) -> Path:
    lines = ["name,type,postcode,easting,northing"] + [",".join(f'"{c}"' for c in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _points_con():
    con = duckdb.connect()
    make_ref_postcodes(con, POSTCODES)
    return con


def test_bad_service_point_grid_references_are_named_never_a_traceback(tmp_path):
    """inf, NaN, text, (0, 0), a point outside Great Britain, a 300-digit easting: the run and
    `insight validate` both refuse the file with one problem per bad point naming the file, the row,
    the values, what is allowed and the fix; never a scipy or numpy traceback."""
    from pipeline.config import InsightError, PointsFile
    from pipeline.profiles import access
    from pipeline.profiles.check import check

    rng = random.Random(SEED)
    for case in range(20):
        rows = [list(r) for r in GOOD_POINTS]
        bad = rng.sample(BAD_GRID, rng.randint(1, 3))
        at = sorted(rng.sample(range(len(rows) + len(bad)), len(bad)))
        for pos, (e, n, _) in zip(at, bad, strict=True):
            rows.insert(pos, [f"Bad {pos}", "library", "", e, n])
        path = _points_file(tmp_path / f"p{case}.csv", rows)
        with pytest.raises(InsightError) as err:
            access.read_points(_points_con(), PointsFile(path=path))
        problems = err.value.problems
        assert len(problems) == len(bad), (case, problems)
        for problem, pos, (e, n, words) in zip(problems, at, bad, strict=True):
            assert str(path) in problem and f"row {pos + 1} below the header" in problem, problem
            assert f"'Bad {pos}'" in problem and words in problem and "Fix:" in problem, problem
            assert repr(e[:40]) in problem and repr(n[:40]) in problem and len(problem) < 600
        cfg = tiny_config(tmp_path, [{"name": "svc", "label": "S", "file": str(path),
                                      "columns": {"postcode": "postcode"}, "access": {"points": ["p"]}}],
                          access={"points": {"p": {"path": str(path)}}})
        checked = check(cfg)
        assert [p.split("row", 1)[1] for p in checked] == [p.split("row", 1)[1] for p in problems]


def test_latitude_and_longitude_given_as_grid_references_are_converted_with_a_note(tmp_path, caplog):
    """Manchester Town Hall, 53.4794 N 2.2446 W, given as easting/northing either way round, lands
    within 100 m of its grid reference (383,870 E 398,130 N), with a note; a point in the grid stays."""
    from pipeline.config import PointsFile
    from pipeline.profiles import access

    path = _points_file(tmp_path / "deg.csv", [("Town Hall", "hall", "", "-2.2446", "53.4794"),
                                               ("Swapped", "hall", "", "53.4794", "-2.2446"),
                                               ("Grid", "hall", "", "383870", "398130")])
    with caplog.at_level("WARNING"):
        pts = access.read_points(_points_con(), PointsFile(path=path))
    assert np.hypot(pts["x"] - 383870, pts["y"] - 398130).max() < 100, pts
    (note,) = pts.attrs["notes"]
    assert "2 point(s)" in note and "longitude and latitude" in note and "EPSG:27700" in note
    assert note in caplog.text


def test_a_configured_extent_refuses_points_beyond_it(tmp_path):
    from pipeline.config import Access, InsightError, PointsFile
    from pipeline.profiles import access

    path = _points_file(tmp_path / "far.csv", [("Near", "x", "", "383870", "398130"),
                                               ("Far", "x", "", "530000", "180000")])
    extent = Access(extent=[370000, 385000, 395000, 405000]).extent
    with pytest.raises(InsightError) as err:
        access.read_points(_points_con(), PointsFile(path=path), extent=extent)
    (problem,) = err.value.problems
    assert "'Far'" in problem and "outside access.extent" in problem
    with pytest.raises(ValueError, match="extent must be finite"):
        Access(extent=[1, 2, 0, 3])


#: dates of birth, each with its status on any day from 2025 to 2080 (max_age 110)
DOB_VALUES = {"15/03/1970": "ok", "1999-07-14": "ok", "01.02.2010": "ok", "1950-01-01 00:00:00": "ok",
              "": None, "  ": None, "31/02/2000": "unreadable", "yesterday": "unreadable",
              "1990-13-01": "unreadable", "3/4/5": "unreadable", "19700315": "unreadable",
              "01/01/2090": "future", "2099-12-31": "future",
              "01/01/1900": "too_old", "1905-06-01": "too_old", "01/01/1800": "too_old"}


def test_unreadable_and_implausible_dates_of_birth_are_counted_and_reported(tmp_path):
    """Dates of birth that are not dates, in the future or give an age over privacy.max_age (110;
    ages up to 125 used to be taken) have no age band and are counted by reason in the run's notes,
    `insight validate`'s report and the privacy manifest, never silently missing."""
    from datetime import date

    from pipeline.ingest import value_report
    from pipeline.privacy import AgeRule, build_manifest

    rng = random.Random(SEED)
    for case in range(10):
        tmp = tmp_path / f"d{case}"
        tmp.mkdir()
        dobs = [rng.choice(list(DOB_VALUES)) for _ in range(rng.randint(5, 50))]
        path = tmp / "dob.csv"
        path.write_text("Ref,Postcode,DOB\n" + "".join(f'R{i},DM4 7QX,"{d}"\n' for i, d in enumerate(dobs)),
                        encoding="utf-8")
        cfg = tiny_config(tmp, [{"name": "svc", "label": "S", "file": str(path),
                                 "columns": {"record_id": "Ref", "postcode": "Postcode",
                                             "date_of_birth": "DOB"}}])
        con = duckdb.connect()
        result = ingest_service(con, cfg, cfg.services[0], AgeRule.of(cfg, date(2030, 6, 30)))
        want = {st: sum(DOB_VALUES[d] == st for d in dobs)
                for st in ("ok", "unreadable", "future", "too_old")}
        assert result.dob_counts == want | {"given": sum(want.values())}, (case, dobs)
        assert result.dob_unreadable == want["unreadable"]
        banded = con.execute("SELECT count(age_band) FROM ingest_svc").fetchone()[0]
        assert banded == want["ok"]
        con.close()
        bad = want["unreadable"] + want["future"] + want["too_old"]
        notes = [n for n in result.notes if "date_of_birth" in n]
        report = [n for n in value_report(cfg) if "date_of_birth" in n]
        if not bad:
            assert not notes and not report
            continue
        (note,), (checked,) = notes, report
        given = bad + want["ok"]
        assert f"{bad:,} (" in note and "Fix:" in note and f"of {given:,} dates of birth given" in note
        assert note.startswith("WARNING:") == (bad / given > cfg.services[0].equality.incomplete_share)
        for words, n in (("cannot be read as a date", want["unreadable"]),
                         ("fall after the day", want["future"]), ("give an age over 110", want["too_old"])):
            assert (f"{n:,} {words}" in note) == bool(n), (words, note)
            assert (f"{n:,} {words}" in checked) == bool(n), (words, checked)
        entry = build_manifest(None, cfg, {"svc": result}, status="t", outputs=None).data["services"][0]
        assert entry["date_of_birth"]["counts"] == result.dob_counts
        assert entry["date_of_birth"]["max_age"] == 110


def test_max_age_is_configurable():
    from datetime import date

    from pipeline.config import Privacy
    from pipeline.privacy import AgeRule

    rule = AgeRule({"Under 18": 0, "18+": 18}, None, date(2025, 1, 1), Privacy(max_age=120).max_age)
    con = duckdb.connect()
    rule.install(con)
    day = "DATE '2025-01-01'"
    got = con.execute(f"SELECT insight_dob_status(?, {day}), insight_age_band(?, {day})",
                      ["01/01/1910", "01/01/1910"]).fetchone()
    assert got == ("ok", "18+")  # 115: plausible under max_age 120, not under the default 110
    with pytest.raises(ValueError):
        Privacy(max_age=126)
