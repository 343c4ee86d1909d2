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


def republished(cfg: RunConfig, result, tmp: Path, **update):
    """The run's computed tables published and rendered again under a changed config (another
    suppression rule, say) into folders of their own: what a whole run under that config writes,
    since publication is a function of the computed tables alone, without computing them again.
    Returns (config, RunResult with the new publication)."""
    import shutil
    from dataclasses import replace

    from pipeline.publish import publish
    from pipeline.run import render

    new = cfg.model_copy(update={"private_dir": tmp / "data", "outputs_dir": tmp / "outputs", **update})
    shutil.copytree(cfg.outputs / "segments", new.outputs / "segments",
                    ignore=shutil.ignore_patterns("*.html", "guide", "portraits"))
    pub = publish(new, result.computed, result.report, result.summary)
    render(new, pub)
    return new, replace(result, publication=pub)
