"""Make rendered HTML self-contained so it works on intranets that block CDNs.

Leaflet's JavaScript and CSS come from the installed ``xstatic-leaflet`` package at build
time (nothing is vendored into the repository and nothing is fetched when the page is viewed).
The CSS's ``url(images/...)`` references are rewritten to ``data:`` URIs so that even the
layer-control and marker images need no network.

``assert_offline`` is the guard used by the map writers and the tests: it lists every
reference a browser would try to fetch (script ``src``, ``<link href>``, image/iframe
``src``, CSS ``url()``/``@import`` and tile-layer URLs) that is not a ``data:`` URI.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["OfflineError", "assert_offline", "find_fetched_urls", "leaflet_assets", "make_offline"]


class OfflineError(AssertionError):
    """Raised when HTML still references something the browser would fetch."""

    def __init__(self, urls: list[str]):
        self.urls = urls
        super().__init__("HTML is not self-contained; the browser would fetch: " + ", ".join(urls))


def _leaflet_dir() -> Path:
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError as exc:  # pragma: no cover - dependency is declared in pyproject
        raise RuntimeError(
            "xstatic-leaflet is not installed; it provides Leaflet for offline maps "
            "(pip install xstatic-leaflet)"
        ) from exc
    return Path(xleaflet.BASE_DIR)


@functools.cache
def leaflet_assets() -> tuple[str, str]:
    """Return ``(js, css)`` for Leaflet from xstatic-leaflet, CSS images as data URIs."""
    base = _leaflet_dir()
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def _inline(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        path = base / ref
        if ref.startswith(("data:", "#")) or not path.is_file():
            return match.group(0)
        mime = "image/png" if path.suffix == ".png" else "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:{mime};base64,{data})"

    css = re.sub(r"url\(([^)]*)\)", _inline, css)
    # A literal "</script>" / "</style>" (any case) would end the inline element early.
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    css = re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)
    return js, css


# --- detection -----------------------------------------------------------------------

_TAG_ATTR = re.compile(
    r"<(?P<tag>script|link|img|iframe|source|embed|audio|video|input|object)\b"
    r"[^>]*?\s(?P<attr>src|href|data|poster|srcset)\s*=\s*"
    r"(?P<q>[\"']?)(?P<url>[^\"'\s>]+)(?P=q)",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"(?<![\w$.])url\(\s*(?P<q>[\"']?)(?P<url>[^\"')]+)(?P=q)\s*\)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*[\"']?(?P<url>[^\"');\s]+)", re.IGNORECASE)
_JS_FETCH = re.compile(
    r"(?:tileLayer(?:\.wms)?|fetch|importScripts|\.open\(\s*[\"'][A-Z]+[\"']\s*,)\s*\(?\s*"
    r"[\"'`](?P<url>(?:https?:)?//[^\"'`]+)",
    re.IGNORECASE,
)


def _is_local(url: str) -> bool:
    """True for references that never touch the network or the file system."""
    u = url.strip().lower()
    return u.startswith(("data:", "#", "about:", "blob:", "javascript:")) or u == ""


def find_fetched_urls(html: str) -> list[str]:
    """List references in *html* that a browser would fetch (in document order, unique)."""
    found: list[str] = []
    for m in _TAG_ATTR.finditer(html):
        tag = m.group("tag").lower()
        url = m.group("url")
        # <a href> is a link, not a fetch; <link href> always fetches (stylesheet/icon/preload).
        if tag == "link" or m.group("attr").lower() != "href":
            if not _is_local(url):
                found.append(url)
    for rx in (_CSS_URL, _CSS_IMPORT):
        for m in rx.finditer(html):
            url = m.group("url")
            # leaflet.css's IE-only "url(#default#VML)" is a behaviour, not a fetch.
            if not _is_local(url):
                found.append(url)
    for m in _JS_FETCH.finditer(html):
        found.append(m.group("url"))
    return list(dict.fromkeys(found))


def assert_offline(html: str) -> None:
    """Raise :class:`OfflineError` listing every URL the page would fetch, if any."""
    urls = find_fetched_urls(html)
    if urls:
        raise OfflineError(urls)


# --- rewriting -----------------------------------------------------------------------

_SCRIPT_SRC = re.compile(
    r"<script\b[^>]*\ssrc\s*=\s*[\"']?(?P<url>[^\"'\s>]+)[\"']?[^>]*>\s*</script>\s*",
    re.IGNORECASE,
)
_LINK_TAG = re.compile(r"<link\b[^>]*\shref\s*=\s*[\"']?(?P<url>[^\"'\s>]+)[\"']?[^>]*/?>\s*", re.IGNORECASE)


def inline_leaflet_tags() -> str:
    """The ``<style>`` and ``<script>`` tags that carry Leaflet inline."""
    js, css = leaflet_assets()
    return f"<style>{css}</style>\n<script>{js}</script>\n"


def make_offline(html: str) -> str:
    """Inline Leaflet in place of its CDN tags and drop every other external script/link.

    Folium's defaults (jQuery, Bootstrap, Font Awesome, awesome-markers) are not needed for
    choropleths and tooltips, so they are removed rather than inlined.
    """
    js, css = leaflet_assets()
    # Replacement callables (not strings) so backslashes in Leaflet are not treated as escapes.
    inlined: set[str] = set()

    def _script(m: re.Match[str]) -> str:
        url = m.group("url")
        if _is_local(url):
            return m.group(0)
        if re.search(r"leaflet(?:-src)?(?:\.min)?\.js$", url.split("?")[0]) and "js" not in inlined:
            inlined.add("js")
            return f"<script>{js}</script>\n"
        logger.info("Removed external script %s", url)
        return ""

    def _link(m: re.Match[str]) -> str:
        url = m.group("url")
        if _is_local(url):
            return m.group(0)
        if re.search(r"leaflet(?:\.min)?\.css$", url.split("?")[0]) and "css" not in inlined:
            inlined.add("css")
            return f"<style>{css}</style>\n"
        logger.info("Removed external stylesheet/link %s", url)
        return ""

    html = _SCRIPT_SRC.sub(_script, html)
    html = _LINK_TAG.sub(_link, html)
    return html
