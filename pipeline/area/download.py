"""`insight area --download`: fetch the products that have a published address into a cache folder.

The cache (default `data/downloads/`) is the sources folder of every area made from it, so a
download is made once for all areas. Only what is not there already is fetched: the census tables
the area needs (Nomis bulk zips, one per table) and, when the folder holds no ONSPD or NSPL, OS
Code-Point Open. The other products (the ONSPD, boundaries, lookup, ONSUD) have no stable address
(each release is a new item on the ONS Open Geography Portal), so what to fetch by hand and from
where is printed instead.

A download goes to `<file>.part` and is renamed when complete; an interrupted one resumes from
where it stopped (an HTTP Range request; a server that ignores it is read from the start). Each
file's sha256 is checked against the catalogue's, where the publisher gives one, and recorded in
`checksums.json`; a cached file is checked against its record on every later use and fetched again
if it no longer matches.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TextIO

from pipeline.area import AreaError
from pipeline.area.find import find
from pipeline.area.guard import Limits
from pipeline.area.sources import Product, products

RECORD = "checksums.json"
TIMEOUT = 60.0


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, target: Path, expected: str | None = None, timeout: float = TIMEOUT) -> tuple[str, bool]:
    """Download `url` to `target` (through `<target>.part`, resuming one left by an interrupted run);
    return (its sha256, whether it resumed). Raise AreaError when the checksum is not `expected`."""
    part = target.with_name(target.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "council-insight (insight area --download)"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # the part is complete, or the server has a new file
            part.unlink()
            return fetch(url, target, expected, timeout)
        raise
    with response:
        resumed = bool(start) and response.status == 206
        with open(part, "ab" if resumed else "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    digest = sha256(part)
    if expected and digest != expected.lower():
        part.unlink()
        raise AreaError(f"{target.name}: the download does not match its published checksum", [
            f"{url} gave a file with sha256 {digest}, but the publisher's is {expected}: it is damaged or "
            "has been replaced by a new release. Fix: run again to fetch it once more; if it still differs, "
            "check the release on the publisher's page and update pipeline/area/products.yaml"])
    part.replace(target)
    return digest, resumed


def _wanted(folder: Path, tables: list[str], catalogue: Path | None,
            limits: Limits | None = None) -> list[tuple[Product, str, str]]:
    """(product, url, file name) of each file with a published address that `folder` lacks (read
    within `limits`, as `insight area` will read it)."""
    src = find(folder, tables, limits)
    by_id = {p.id: p for p in products(catalogue)}
    out = []
    census = by_id["census"]
    if census.download:
        for table in tables:
            if table not in src.census:
                out.append((census, census.download.format(table=table),
                            (census.download_file or "census2021-{table}.zip").format(table=table)))
    cp = by_id["codepoint_open"]
    if cp.download and not ({"postcode_directory", "codepoint_open"} & set(src.found)):
        out.append((cp, cp.download, cp.download_file or "codepo_gb.zip"))
    return out


def download_products(cache: Path, tables: list[str] | None = None, catalogue: Path | None = None,
                      print_to: TextIO = sys.stdout, timeout: float = TIMEOUT,
                      limits: Limits | None = None) -> Path:
    """Fetch into `cache` the products with a published address that it lacks (see the module
    docstring); return the folder, to be read as the sources of `insight area`."""
    from pipeline.area.build import needed_tables

    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    tables = tables or list(needed_tables())
    record_path = cache / RECORD
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    # files fetched before: still what was fetched?
    for name, entry in sorted(record.items()):
        path = cache / name
        if path.is_file() and sha256(path) != entry["sha256"]:
            print(f"{name}: no longer matches the checksum recorded when it was fetched; fetching it again",
                  file=print_to)
            path.unlink()
    problems = []
    for p, url, name in _wanted(cache, tables, catalogue, limits):
        expected = p.sha256.get(name)
        try:
            digest, resumed = fetch(url, cache / name, expected, timeout)
        except (urllib.error.URLError, OSError) as exc:
            why = getattr(exc, "reason", exc)
            problems.append(f"{p.name}: could not fetch {url} ({why}). Fix: check the connection and run "
                            "again (a partial download resumes), or fetch it by hand from "
                            f"{p.page} into {cache}")
            continue
        record[name] = {"url": url, "sha256": digest, "size": (cache / name).stat().st_size}
        record_path.write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
        print(f"fetched {name} from {url}{' (resumed)' if resumed else ''}: sha256 {digest}", file=print_to)
    if problems:
        raise AreaError(f"{len(problems)} download(s) failed:", problems)
    by_hand = [p for p in products(catalogue) if not p.download and p.required]
    src = find(cache, tables, limits)
    for p in by_hand:
        if p.id not in src.found:
            print(f"{p.name}: no published address to fetch it from; download it by hand from {p.page} "
                  f"into {cache}", file=print_to)
    return cache
