"""Small builders shared by the tests, and the relocated configs the whole-run tests use."""

from pathlib import Path

import yaml

from pipeline.config import RunConfig, load_config
from pipeline.escape import FORMULA_PREFIXES


def formula_cells(cells) -> list[str]:
    """The cells a spreadsheet would read as a formula: starting = + - @ tab or CR, and not a plain
    number (a negative count is data). Written independently of `pipeline.escape`'s own test."""
    def number(text: str) -> bool:
        try:
            float(text)
        except ValueError:
            return False
        return True

    return [c for c in cells if c.startswith(FORMULA_PREFIXES) and not number(c)]


def tiny_config(tmp: Path, services: list[dict], **extra) -> RunConfig:
    """A RunConfig whose geography paths are placeholders (for stage tests on hand-made tables)."""
    raw = {
        "run": "t",
        "area_name": "Testshire",
        "private_dir": str(tmp / "private"),
        "outputs_dir": str(tmp / "outputs"),
        "geography": {
            "oa_boundaries": {"path": "x", "code_column": "c"},
            "wards": {"path": "x", "code_column": "c"},
            "postcode_directory": {"path": "x"},
        },
        "census": {"dir": "x"},
        "services": services,
    } | extra
    return RunConfig.model_validate(raw)


def make_ref_postcodes(con, rows: list[tuple]) -> None:
    """Create the geocode stage's `ref_postcodes` (the layout of `boundaries.loaders.postcode_directory_sql`)
    from rows of (pcds, oa21cd, ward_code, is_live[, non_geographic, large_user]); pc_key is derived,
    the point is (1, 2) where the postcode has an OA, and lad_code is the demo borough's."""
    con.execute("""CREATE TABLE ref_postcodes (pc_key VARCHAR, pcds VARCHAR, oa21cd VARCHAR,
                   ward_code VARCHAR, lad_code VARCHAR, easting DOUBLE, northing DOUBLE, is_live BOOLEAN,
                   non_geographic BOOLEAN, large_user BOOLEAN)""")
    for pcds, oa, ward, live, *flags in rows:
        non_geographic, large_user = (*flags, False, False)[:2]
        point = None if oa is None or non_geographic else (1.0, 2.0)
        con.execute("INSERT INTO ref_postcodes VALUES (?, ?, ?, ?, 'E06009999', ?, ?, ?, ?, ?)",
                    [pcds.replace(" ", ""), pcds, oa, ward, *(point or (None, None)), live, non_geographic,
                     large_user])


def ward_choropleth(wards, out: Path, title: str, value_column: str = "penetration_pct", **options) -> Path:
    """One ward layer drawn by the render stage's own map writer (`maps.layered_map`, as the
    service ward maps are), for the tests of what a map holds."""
    from pipeline.render.maps import layered_map

    return layered_map([("Wards", wards, value_column)], out, title, **options)


REPO = Path(__file__).resolve().parents[1]


def relocated_raw(config: Path | str, replace: dict[str, str]) -> dict:
    """The run config `config` (from the repository root) as a dict, with folder prefixes replaced
    and every path it names made absolute.

    `replace` maps a folder as named from the repository root (`data/demo/raw`) to another; the
    config names it from its own folder (`../data/demo/raw`), as every relative path in a config is
    read (`pipeline.paths.anchored`)."""
    import os

    from pipeline.paths import anchored

    source = REPO / config
    text = source.read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(os.path.relpath(REPO / old, source.parent), new)
    cfg = anchored(RunConfig.model_validate(yaml.safe_load(text)), source.parent)
    return cfg.model_dump(mode="json", exclude_unset=True)


def relocated_config(config: Path, replace: dict[str, str], tmp: Path) -> RunConfig:
    """Load a run config with path prefixes replaced (`relocated_raw`) and private/outputs folders
    under `tmp`, written to `tmp` with every path absolute."""
    raw = relocated_raw(config, replace)
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
