"""axe-core (npm `axe-core`, installed by `npm ci`) run in headless Chromium on a written page.

``violations(page)`` injects axe and a runner into a copy of the page beside it (so its relative
links, images and iframes resolve), lets Chromium run it with the network blocked, and returns the
WCAG 2.0/2.1/2.2 A and AA violations axe reports: ``[{id, impact, nodes, help, targets}]``.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.browser import TIMEOUT_S, chromium_flags

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUNNER = """<script>
window.addEventListener('load', function () {
  axe.run(document, {iframes: false, runOnly: {type: 'tag', values: %s}}).then(function (r) {
    var out = r.violations.map(function (v) {
      return {id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,
              targets: v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); })};
    });
    document.documentElement.setAttribute('data-axe', JSON.stringify(out));
  }).catch(function (e) {
    var err = [{id: 'axe-error', impact: 'critical', nodes: 0, help: String(e), targets: []}];
    document.documentElement.setAttribute('data-axe', JSON.stringify(err));
  });
});
</script>"""


def violations(page: Path, chromium: str) -> list[dict]:
    """The axe violations of *page* (WCAG A/AA tags)."""
    page = Path(page)
    text = page.read_text(encoding="utf-8")
    inject = f"<script>{AXE.read_text(encoding='utf-8')}</script>" + _RUNNER % json.dumps(TAGS)
    m = re.search(r"</body>", text, re.IGNORECASE)
    text = text[: m.start()] + inject + text[m.start():] if m else text + inject
    copy = page.with_name(f".axe-{page.name}")
    copy.write_text(text, encoding="utf-8")
    profile = Path(tempfile.mkdtemp(prefix="axe-profile-"))
    try:
        flags = [f for f in chromium_flags(profile) if not f.startswith("--virtual-time-budget")]
        proc = subprocess.run([chromium, *flags, "--virtual-time-budget=30000", "--dump-dom",
                               copy.resolve().as_uri()],
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    finally:
        copy.unlink(missing_ok=True)
        shutil.rmtree(profile, ignore_errors=True)
    found = re.search(r'<html[^>]*\sdata-axe="([^"]*)"', proc.stdout)
    if not found:
        raise RuntimeError(f"axe did not report on {page.name}: {proc.stderr.strip()[-500:]}")
    return json.loads(html_lib.unescape(found.group(1)))
