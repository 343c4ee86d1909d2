"""The import-linter layers contract places every module, and README.md says the same layers."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = [c for c in config["contracts"] if c["name"].startswith("Layers:")]
    assert len(contracts) == 1 and contracts[0]["type"] == "layers"
    assert set(config["root_packages"]) == {"pipeline", "segments", "boundaries"}
    return [" | ".join(m.strip() for m in layer.split("|")) for layer in contracts[0]["layers"]]


def test_every_top_level_module_has_a_layer():
    placed = {m.strip() for layer in _layers() for m in layer.split("|")}
    modules = {f"pipeline.{p.stem}" for p in (ROOT / "pipeline").iterdir()
               if (p.suffix == ".py" or (p / "__init__.py").exists())
               and p.stem not in ("__init__", "__main__")}
    assert modules | {"segments", "boundaries"} == placed, "place each new module in pyproject.toml's layers"


def test_readme_names_the_layers_of_the_contract():
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    said = re.search(r"The layers, top to bottom \(`a \| b`: neither imports the other\): (.*?) \(the one "
                     r"error family", text)
    assert said, "README.md must list the layers of the import-linter contract"
    readme = [re.sub(r"^pipeline\.", "", item.strip().strip("`")) for item in said.group(1).split(";")]
    contract = [" | ".join(re.sub(r"^pipeline\.", "", m.strip()) for m in layer.split("|"))
                for layer in _layers()]
    assert readme == contract
