"""Headless Chromium helper for the offline-map tests (network fully blocked).

``render_page(html_path)`` opens a copy of the page in Debian's ``chromium`` CLI with DNS
resolution disabled and a dead proxy, so any attempt to fetch from the network fails, and
returns the DOM after JavaScript ran, a PNG screenshot and the JavaScript errors seen.

JavaScript errors are captured by injecting a tiny script at the top of ``<head>`` that
records ``window.onerror`` messages, unhandled promise rejections and failed resource
loads into ``document.documentElement.dataset.jsErrors``, which ``--dump-dom`` then shows.
"""

from __future__ import annotations

import html as html_lib
import json
import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from pipeline.render.screenshots import chromium_flags as _flags
from pipeline.render.screenshots import find_chromium

logger = logging.getLogger(__name__)

WINDOW_SIZE = (1000, 800)
VIRTUAL_TIME_BUDGET_MS = 5000
TIMEOUT_S = 90

_ERROR_HOOK = """<script>
(function () {
  var errs = [];
  function rec(msg) {
    errs.push(String(msg));
    document.documentElement.setAttribute('data-js-errors', JSON.stringify(errs));
  }
  document.documentElement.setAttribute('data-js-errors', '[]');
  window.onerror = function (msg, src, line, col) { rec(msg + ' @' + line + ':' + col); };
  window.addEventListener('unhandledrejection', function (e) { rec('rejection: ' + e.reason); });
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window) { rec('resource failed: ' + (t.src || t.href || t.tagName)); }
  }, true);
})();
</script>"""


def chromium_flags(user_data_dir: Path) -> list[str]:
    """The production flags (network fully blocked) at the tests' window size and time budget."""
    return _flags(user_data_dir, WINDOW_SIZE, VIRTUAL_TIME_BUDGET_MS)


def _inject_hook(html: str) -> str:
    m = re.search(r"<head[^>]*>", html, re.IGNORECASE)
    if m:
        return html[: m.end()] + _ERROR_HOOK + html[m.end() :]
    return _ERROR_HOOK + html


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    logger.debug("Running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited with {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return proc


def _js_errors(dom: str) -> list[str]:
    m = re.search(r'<html[^>]*\sdata-js-errors="([^"]*)"', dom)
    if not m:
        return ["error hook did not run (no data-js-errors attribute)"]
    return list(json.loads(html_lib.unescape(m.group(1))))


def render_page(
    html_path: Path, chromium: str | None = None, out_dir: Path | None = None
) -> tuple[str, Path, list[str]]:
    """Render *html_path* offline; return ``(dom, png_path, js_errors)``.

    The instrumented copy of the page and the PNG go in *out_dir* (default: a new
    temporary directory).
    """
    chromium = chromium or find_chromium()
    if not chromium:
        raise FileNotFoundError("chromium not found (run scripts/install_chromium.sh)")
    work = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="ci-browser-"))
    work.mkdir(parents=True, exist_ok=True)
    page = work / f"instrumented-{Path(html_path).name}"
    page.write_text(_inject_hook(Path(html_path).read_text(encoding="utf-8")), encoding="utf-8")
    url = page.resolve().as_uri()
    png = work / "screenshot.png"
    profile = work / "profile"
    try:
        dom = _run([chromium, *chromium_flags(profile), "--dump-dom", url]).stdout
        shutil.rmtree(profile, ignore_errors=True)
        _run([chromium, *chromium_flags(profile), f"--screenshot={png}", url])
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if not png.exists():
        raise RuntimeError("chromium did not write a screenshot")
    return dom, png, _js_errors(dom)


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    d, p, e = render_page(Path(sys.argv[1]))
    print(f"DOM {len(d)} chars; screenshot {p}; JS errors: {e}")
    sys.exit(1 if e else 0)
