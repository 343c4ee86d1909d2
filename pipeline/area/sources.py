"""The product catalogue (`products.yaml`): what each national product is, who publishes it, the
release the project was tested with, how a file of it is recognised, its licence and attribution,
where to get it and what still works without it. `insight sources` prints it; `insight area`
quotes it when a product is missing or of the wrong vintage."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CATALOGUE = Path(__file__).resolve().parent / "products.yaml"


@dataclass(frozen=True)
class Product:
    id: str
    short: str
    name: str
    publisher: str
    title: str
    tested_release: str
    required: bool
    files: tuple[str, ...]
    header: dict[str, str]
    need: tuple[str, ...]
    licence: str
    attribution: str
    page: str
    download: str | None
    without: str
    columns: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    download_file: str | None = None
    sha256: dict[str, str] = field(default_factory=dict)

    def resolve(self, names: list[str]) -> dict[str, str]:
        """header key -> the column of `names` it matches (first match, without case)."""
        out: dict[str, str] = {}
        for key, pattern in self.header.items():
            rx = re.compile(pattern, re.IGNORECASE)
            hit = next((n for n in names if rx.search(n.strip())), None)
            if hit is not None:
                out[key] = hit
        return out

    def matches(self, names: list[str]) -> bool:
        """True when a header `names` has every column this product needs."""
        return set(self.need) <= set(self.resolve(names))

    def where_to_get(self) -> str:
        got = f"{self.page}" + (f"; direct address: {self.download}" if self.download else "")
        return got

    def describe(self) -> str:
        """The product in a few lines: for `insight sources` and for a missing-product message."""
        lines = [
            f"{self.name} [{self.id}{'' if self.required else ', optional'}]",
            f"publisher: {self.publisher}",
            f"title: {self.title}",
            f"tested release: {self.tested_release}",
            f"looks for: files named {', '.join(self.files)} (also inside zips) with columns "
            f"{', '.join(f'{k} ~ /{self.header[k]}/' for k in self.need)}",
            f"licence: {self.licence}",
        ]
        if self.attribution:
            lines.append(f"attribution: {self.attribution}")
        lines.append(f"get it from: {self.where_to_get()}")
        return "\n".join(lines)


@cache
def _load(path: Path) -> tuple[Product, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for p in raw["products"]:
        out.append(Product(
            id=p["id"], short=p["short"], name=p["name"], publisher=p["publisher"], title=p["title"],
            tested_release=p["tested_release"], required=bool(p["required"]),
            files=tuple(p["files"]), header=dict(p["header"]), need=tuple(p["need"]),
            licence=p["licence"], attribution=(p.get("attribution") or "").strip(), page=p["page"],
            download=p.get("download"), without=" ".join(str(p["without"]).split()),
            columns=tuple(p.get("columns") or ()), formats=tuple(p.get("formats") or ()),
            download_file=p.get("download_file"), sha256=dict(p.get("sha256") or {}),
        ))
    return tuple(out)


def products(path: Path | None = None) -> tuple[Product, ...]:
    """Every product of the catalogue (default: this package's products.yaml)."""
    return _load(Path(path or CATALOGUE).resolve())


def product(pid: str, path: Path | None = None) -> Product:
    return next(p for p in products(path) if p.id == pid)


def sources_text(path: Path | None = None) -> str:
    """What `insight sources` prints: each product with its publisher, title, tested release, the
    patterns it is recognised by, licence, attribution and address."""
    blocks = ["The national products `insight area` reads (save them in one folder, zipped as "
              "downloaded or unpacked, under any file name that keeps the publisher's pattern):"]
    for p in products(path):
        body = p.describe().splitlines()
        blocks.append("\n".join([f"* {body[0]}"] + [
            textwrap.fill(line, width=100, initial_indent="    ", subsequent_indent="      ")
            for line in body[1:]] + [textwrap.fill(f"without it: {p.without}", width=100,
                                                    initial_indent="    ", subsequent_indent="      ")]))
    return "\n\n".join(blocks)


def missing_text(p: Product, folder: Path) -> str:
    """The message for a product `insight area` did not find in `folder`."""
    return (f"{p.name}: not found in {folder}. It is {p.publisher}'s \"{p.title}\" (tested with "
            f"{p.tested_release}); files named {', '.join(p.files)} (zipped or not) whose header has "
            f"{', '.join(p.need)}. Licence: {p.licence}. Fix: download it from {p.where_to_get()} into "
            f"{folder}. Without it: {p.without}")
