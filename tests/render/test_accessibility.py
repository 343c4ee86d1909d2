"""WCAG 2.2 AA: axe-core in headless Chromium finds no violation on the demo's reports, index page,
maps and pen portraits; and the reports print as a service lead needs (summary first, <= 8 pages
before the appendix, no near-empty page, none without a table or figure)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.render.screenshots import print_pdf
from tests.axe import AXE, violations
from tests.browser import find_chromium

CHROMIUM = find_chromium()
MIN_WORDS = 40
MAX_PAGES_BEFORE_APPENDIX = 8


def _require(what: str, ok: bool, fix: str) -> None:
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI; {fix}")
    pytest.skip(f"{what} not installed ({fix}); CI not set")


@pytest.fixture
def axe():
    _require("chromium", bool(CHROMIUM), "run scripts/install_chromium.sh")
    _require("axe-core", AXE.exists(), "run npm ci")


def test_axe_detects_a_violation(axe, tmp_path):
    """The check can fail: an image without alternative text and a table header without scope."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><title>x</title></head><body><img src="x.png">'
                    "</body></html>", encoding="utf-8")
    ids = {v["id"] for v in violations(page, CHROMIUM)}
    assert {"image-alt", "html-has-lang"} <= ids


def test_no_wcag_violation_in_the_demo_pages(axe, demo_run):
    cfg = demo_run[0]
    out = cfg.outputs
    pages = [out / "index.html", out / "services_map.html", out / "segments" / "segment_map.html",
             out / "stop_smoking" / "stop_smoking_report.html", out / "library" / "library_report.html",
             out / "stop_smoking" / "stop_smoking_ward_map.html",
             out / "surveys" / "residents" / "residents_report.html",
             out / "surveys" / "residents" / "residents_satisfied_ward_map.html",
             *sorted((out / "segments" / "portraits").glob("*.html"))[:1]]
    found = {p.relative_to(out).as_posix(): violations(p, CHROMIUM) for p in pages}
    serious = {p: [(v["id"], v["impact"], v["targets"]) for v in vs if v["impact"] in ("serious", "critical")]
               for p, vs in found.items()}
    assert not any(serious.values()), serious
    assert all(isinstance(vs, list) for vs in found.values())


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1]


def test_reports_print_summary_first_without_near_empty_pages(demo_run, tmp_path):
    _require("chromium", bool(CHROMIUM), "run scripts/install_chromium.sh")
    _require("pdftotext", bool(shutil.which("pdftotext")), "install Debian poppler-utils")
    cfg = demo_run[0]
    reports = sorted(cfg.outputs.glob("*/*_report.html"))
    assert len(reports) >= 5
    for report in reports:
        pdf = print_pdf(report, tmp_path / f"{report.stem}.pdf", CHROMIUM)
        pages = _pdf_pages(pdf)
        assert "Summary" in pages[0] and "What this suggests" in "".join(pages[:2]), report.name
        appendix = next(i for i, p in enumerate(pages) if "Appendix: reference tables" in p)
        assert appendix <= MAX_PAGES_BEFORE_APPENDIX, (report.name, appendix)
        words = [len(p.split()) for p in pages]
        assert min(words) >= MIN_WORDS, (report.name, words)
        figures = _pages_with_images(pdf)
        bare = [i + 1 for i, p in enumerate(pages) if i + 1 not in figures and not _table_lines(p)]
        assert not bare, f"{report.name}: pages {bare} have neither a table nor a figure"


def _pages_with_images(pdf: Path) -> set[int]:
    """Pages (1-based) holding an image: the charts and maps (`pdfimages -list`)."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    return {int(line.split()[0]) for line in listing if line.strip()}


def _table_lines(page: str) -> list[str]:
    """Lines of a page's text (pdftotext -layout) laid out in columns: cells apart by 2+ spaces.
    Running text has none (checked on the demo's reports), a table row has at least two cells."""
    return [line for line in page.splitlines() if len(re.split(r"\s{2,}", line.strip())) >= 2]


def _guide_checks(out: Path) -> None:
    """The segment guide holds every supergroup and group of the run, each with its name, portrait,
    grand-index chart and thumbnail map, and the index page, reports and segment map link to it."""
    import html as html_lib
    import re

    import pandas as pd

    guide = out / "segments" / "segment_guide.html"
    text = html_lib.unescape(guide.read_text(encoding="utf-8"))
    names = pd.read_csv(out / "segments" / "segment_names.csv", dtype=str, keep_default_na=False)
    for level, title in (("supergroup", "Supergroup"), ("group", "Group")):
        rows = names[names["level"] == level]
        assert len(rows) >= 4, level
        for r in rows.itertuples():
            assert f"{title} {r.segment}: {r.segment_name}" in text, (level, r.segment)
            assert r.description and r.description in text, (level, r.segment)
            for pic in (f"guide/index_{r.segment}.png", f"guide/map_{r.segment}.png"):
                assert (out / "segments" / pic).read_bytes()[:4] == b"\x89PNG" and pic in text, pic
    # the first page: a contents table with each supergroup's households, share and Output Areas (as in
    # pen_portraits.csv, the shares adding to 100%), and the overview map
    pens = pd.read_csv(out / "segments" / "pen_portraits.csv", dtype=str, keep_default_na=False)
    top = pens[pens["level"] == "supergroup"]
    rows = re.findall(r'<tr><td class="t"><span class="swatch"[^>]*></span> (\w+)</td><td class="t links">'
                      r'<a href="#segment-\w+">[^<]*</a>(?: \(weak\))?</td><td>([\d,]+)</td>'
                      r"<td>([\d.]+)%</td><td>([\d,]+)</td></tr>", guide.read_text(encoding="utf-8"))
    assert [r[0] for r in rows] == list(top["segment"])
    assert [int(r[1].replace(",", "")) for r in rows] == top["households"].astype(int).tolist()
    assert [int(r[3].replace(",", "")) for r in rows] == top["oas"].astype(int).tolist()
    assert abs(sum(float(r[2]) for r in rows) - 100) < 0.5
    assert (out / "segments" / "guide" / "overview.png").read_bytes()[:4] == b"\x89PNG"
    assert 'src="guide/overview.png"' in text
    assert re.search(r'href="segments/segment_guide.html"', (out / "index.html").read_text(encoding="utf-8"))
    assert 'href="segment_guide.html"' in (out / "segments" / "segment_map.html").read_text(encoding="utf-8")
    for report in out.glob("*/*_report.html"):
        assert 'href="../segments/segment_guide.html"' in report.read_text(encoding="utf-8"), report.name


def test_segment_guide_reads_offline_and_prints(demo_run, tmp_path):
    _require("chromium", bool(CHROMIUM), "run scripts/install_chromium.sh")
    from browser import render_page

    cfg = demo_run[0]
    _guide_checks(cfg.outputs)
    guide = cfg.outputs / "segments" / "segment_guide.html"
    work = tmp_path / "guide"
    work.mkdir()
    (work / "guide").symlink_to(guide.parent / "guide")  # the copy's relative pictures resolve
    _, png, errors = render_page(guide, CHROMIUM, out_dir=work)
    assert errors == [] and png.stat().st_size > 10_000
    pdf = print_pdf(guide, tmp_path / "guide.pdf", CHROMIUM)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 50_000
    if AXE.exists():
        assert [v for v in violations(guide, CHROMIUM) if v["impact"] in ("serious", "critical")] == []
