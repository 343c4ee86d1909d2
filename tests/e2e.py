"""Helpers to run the whole pipeline on generated data in a temporary folder."""

from pathlib import Path

import yaml

from pipeline.config import RunConfig, load_config

REPO = Path(__file__).resolve().parents[1]


def relocated_config(config: Path, replace: dict[str, str], tmp: Path) -> RunConfig:
    """Load a run config with path prefixes replaced and private/outputs folders under `tmp`."""
    text = (REPO / config).read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    raw = yaml.safe_load(text)
    raw["private_dir"] = str(tmp / "data")
    raw["outputs_dir"] = str(tmp / "outputs")
    out = tmp / config.name
    out.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return load_config(out)
