"""Screenshots (PNG) and PDFs of the rendered pages with headless Chromium, network blocked.

``python -m pipeline.render.screenshots outputs/<run>`` (``make screenshots``) renders every
map and report page of a run to ``outputs/<run>/screenshots/<page>.png`` and prints each
service report and the segment guide to ``outputs/<run>/screenshots/<page>.pdf``, so anyone can look without a
browser. Chromium runs with name resolution disabled and a dead proxy, so a page that
needed the network would show blank, not quietly fetch.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

logger = logging.getLogger(__name__)

WINDOW_SIZE = (1200, 900)
TIMEOUT_S = 120


def find_chromium() -> str | None:
    """Path to Debian's chromium, or None."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def chromium_flags(user_data_dir: Path, window: tuple[int, int] = WINDOW_SIZE,
                   virtual_time_ms: int | None = 5000) -> list[str]:
    """Flags for a headless, sandbox-free run with every network fetch made to fail."""
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--disable-features=MediaRouter,OptimizationHints,Translate", "--metrics-recording-only",
        "--mute-audio", "--hide-scrollbars",
        # No network: names do not resolve, and anything else goes to a dead proxy.
        "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={user_data_dir}", f"--window-size={window[0]},{window[1]}",
    ]
    if virtual_time_ms:
        flags.append(f"--virtual-time-budget={virtual_time_ms}")
    return flags


def _run(chromium: str, args: list[str], window: tuple[int, int] = WINDOW_SIZE) -> str:
    profile = Path(tempfile.mkdtemp(prefix="ci-chromium-"))
    try:
        proc = subprocess.run([chromium, *chromium_flags(profile, window), *args], capture_output=True,
                              text=True, timeout=TIMEOUT_S, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited with {proc.returncode}: {proc.stderr.strip()[-1500:]}")
    return proc.stdout


def screenshot(page: Path, png: Path, chromium: str | None = None,
               window: tuple[int, int] = WINDOW_SIZE) -> Path:
    """Render *page* to *png* (one viewport) with the network blocked."""
    chromium = chromium or find_chromium()
    if not chromium:
        raise FileNotFoundError("chromium not found (make chromium)")
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(chromium, [f"--screenshot={png.resolve()}", Path(page).resolve().as_uri()], window)
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot for {page}")
    return png


def print_pdf(page: Path, pdf: Path, chromium: str | None = None) -> Path:
    """Print *page* to *pdf* (A4 by the page's print styles) with the network blocked."""
    chromium = chromium or find_chromium()
    if not chromium:
        raise FileNotFoundError("chromium not found (make chromium)")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    _run(chromium, ["--no-pdf-header-footer", f"--print-to-pdf={pdf.resolve()}",
                    Path(page).resolve().as_uri()])
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no PDF for {page}")
    return pdf


def pages(run_dir: Path) -> list[Path]:
    """The maps, reports and index page of a run, in a stable order."""
    found = [run_dir / "index.html", run_dir / "services_map.html", run_dir / "segments" / "segment_map.html",
             run_dir / "segments" / "segment_guide.html"]
    found += sorted(run_dir.glob("*/*_ward_map.html")) + sorted(run_dir.glob("*/*_report.html"))
    return [p for p in found if p.exists()]


def capture_run(run_dir: Path, chromium: str | None = None, pdf: bool = True) -> list[Path]:
    """Screenshot every page of *run_dir* (and print the reports to PDF) under screenshots/."""
    out = run_dir / "screenshots"
    written = []
    for page in tqdm(pages(run_dir), desc="screenshots", unit="page"):
        stem = page.relative_to(run_dir).with_suffix("").as_posix().replace("/", "__")
        written.append(screenshot(page, out / f"{stem}.png", chromium))
        if pdf and (page.name.endswith("_report.html") or page.name == "segment_guide.html"):
            written.append(print_pdf(page, out / f"{stem}.pdf", chromium))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="outputs/<run>")
    parser.add_argument("--no-pdf", action="store_true", help="screenshots only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    chromium = find_chromium()
    if not chromium:
        logger.error("chromium not found: run `make chromium` first")
        return 1
    written = capture_run(args.run_dir, chromium, pdf=not args.no_pdf)
    print(f"Wrote {len(written)} files to {args.run_dir / 'screenshots'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
