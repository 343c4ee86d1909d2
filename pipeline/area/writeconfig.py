"""Step 3: write the area's run config (`config/areas/<name>.yaml`) and validate it.

The config names the cut files of `data/areas/<name>/` and the national postcode reference, with
every column as the products name it, and ends with a commented template of the `services:`
block for the user to fill in. It is written to a temporary file, checked with
`pipeline.config.load_config` (schema, folders, every named file present), and only then moved
into place: a config that would not validate is never left behind.
"""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.config import ConfigError, load_config

SERVICES_TEMPLATE = """\
# Your service extracts: one block per extract, mapping its headers to the standard fields
# (README, "Point it at your own data"; `insight map EXTRACT --config THIS_FILE --write` proposes
# one from the file itself). A relative path is read from this file's folder. Replace
# `services: []` with blocks such as these:
services: []
#  - name: stop_smoking                       # a lower-case slug, used in file names
#    label: Stop smoking service               # the name readers see
#    file: ../../data/{name}/raw/stop_smoking_attendees.csv
#    columns: {{record_id: Client ID, address_1: Address Line 1, address_2: Address Line 2,
#              postcode: Post Code, age_band: Age Band, sex: Sex, ethnicity: Ethnic Origin,
#              disability: Disability, date: Referral Date}}
#  - name: council_tax_dd
#    label: Council tax direct debit
#    file: ../../data/{name}/raw/council_tax_direct_debit.csv
#    encoding: cp1252
#    columns: {{record_id: Account Ref, postcode: Postcode}}
#  - name: garden_waste
#    label: Garden waste subscription
#    file: ../../data/{name}/raw/garden_waste_subscribers.xlsx
#    sheet: Subscribers
#    columns: {{record_id: Subscription No, postcode: Post code, date: Start Date}}
"""


@dataclass
class AreaFiles:
    """What the config points at, with the columns as the products name them."""

    oa_boundaries: Path
    oa_code: str
    wards: Path
    ward_code: str
    ward_name: str | None
    lookup: Path
    lookup_oa: str
    lookup_ward: str
    lookup_ward_name: str | None
    directory: Path
    directory_columns: dict[str, str | None]
    reference_db: Path
    directory_note: str
    census_dir: Path
    gazetteer: Path | None = None
    gazetteer_columns: dict[str, str | None] = field(default_factory=dict)
    onsud: Path | None = None
    deprivation: dict[str, Path] = field(default_factory=dict)  # nation -> Indices of Deprivation file
    ranges: Path | None = None  # national ranges of the classification's variables (--national-ranges)


def shown(path: Path) -> str:
    """A path as the config writes it: relative to the folder `insight` runs in when under it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def written(path: Path, config: Path | str) -> str:
    """A path as the config at `config` names it: relative to the config's folder (where a run
    reads it from, `pipeline.paths.anchored`) when both lie under the working folder, else absolute."""
    path, folder, cwd = Path(path).resolve(), Path(config).resolve().parent, Path.cwd().resolve()
    if cwd in path.parents and cwd in folder.parents:
        return os.path.relpath(path, folder)
    return str(path)


def _q(text: str | None) -> str:
    return "null" if text is None else json.dumps(str(text), ensure_ascii=False)


def _block(mapping: dict[str, str | None], indent: str) -> list[str]:
    return [f"{indent}{k}: {_q(v)}" for k, v in mapping.items()]


def _comment(text: str, indent: str = "", first: str = "# ", rest: str = "# ") -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent=indent + first, subsequent_indent=indent + rest)


def config_text(*, name: str, config: str, area_name: str, lads: dict[str, str], files: AreaFiles,
                command: str, drop: dict[str, str], missing_notes: list[str], attribution: str) -> str:
    """The YAML of the area's run config."""
    f = files
    codes = list(lads)

    def at(path: Path) -> str:  # in the YAML, a path is read from the config's folder
        return written(path, config)

    lines = [
        f"# {area_name} ({', '.join(codes)}): made by `{command}` on {date.today().isoformat()}.",
        f"# Inputs cut from the national products into {shown(f.census_dir.parent)}/ (its area.json",
        "# says from which files); the postcode directory stays national in the reference database, so",
        "# a postcode in another authority is named out_of_area. Next: map your extracts in `services:`",
        f"# (end of this file), then `.venv/bin/insight validate {config}`",
        f"# and `.venv/bin/insight run {config}`.",
        f"run: {name}",
        f"area_name: {_q(area_name)}",
        f"lad_code: {_q(codes[0])}" if len(codes) == 1 else
        f"lad_code: null   # an area of {len(codes)} local authorities: {', '.join(codes)}",
        "seed: 2021",
        "",
        "geography:",
        f"  oa_boundaries: {{path: {_q(at(f.oa_boundaries))}, code_column: {_q(f.oa_code)}}}",
        f"  wards: {{path: {_q(at(f.wards))}, code_column: {_q(f.ward_code)}"
        + (f", name_column: {_q(f.ward_name)}}}" if f.ward_name else "}"),
        "  oa_to_ward:",
        f"    path: {_q(at(f.lookup))}",
        f"    oa_column: {_q(f.lookup_oa)}",
        f"    ward_column: {_q(f.lookup_ward)}",
    ]
    if f.lookup_ward_name:
        lines.append(f"    ward_name_column: {_q(f.lookup_ward_name)}")
    lines += [
        "  postcode_directory:",
        *_comment(f.directory_note, "    "),
        f"    path: {_q(at(f.directory))}",
        "    columns:",
        *_block(f.directory_columns, "      "),
        "    # parsed once into this reusable DuckDB reference, shared by every area cut from it",
        f"    reference_db: {_q(at(f.reference_db))}",
    ]
    if f.gazetteer:
        lines += ["  gazetteer:", f"    path: {_q(at(f.gazetteer))}", "    columns:",
                  *_block(f.gazetteer_columns, "      ")]
    else:
        lines += _comment("gazetteer: none was found, so matching is by postcode (and UPRN, through ONSUD, "
                          "if given): add the council's LLPG export here for address and UPRN matching", "  ")
    if f.onsud:
        lines += ["  uprn_lookup:", f"    path: {_q(at(f.onsud))}"]
    else:
        lines += _comment("uprn_lookup: no ONS UPRN Directory (ONSUD) was found; add one for UPRNs the "
                          "gazetteer lacks", "  ")
    lines += [
        "",
        "census:",
        f"  dir: {_q(at(f.census_dir))}",
        '  pattern: "census2021-{table}-oa.csv"',
        "  households_table: ts041",
        "",
        "segmentation:",
        "  method: kmeans",
        "  k: 8",
        "  n_init: 50",
    ]
    if f.ranges:
        lines += _comment("clustered on this area's Output Areas, standardised on the ranges of every Output "
                          "Area in the national census files (insight area --national-ranges)", "  ")
        lines.append(f"  reference: {_q(at(f.ranges))}")
    if drop:
        lines += _comment("variables whose census tables were not in the sources folder (add the tables "
                          "and run `insight area` again to use them):", "  ")
        lines.append("  drop: [" + ", ".join(drop) + "]")
    if missing_notes:
        lines += ["", "# Not found in the sources folder, and what that means:"]
        for note in missing_notes:
            lines += _comment(note, "", "#   - ", "#     ")
    if f.deprivation:  # take-up by deprivation (docs/profiles.md)
        lines += ["", "deprivation:", *(f"  {nation}: {{path: {_q(at(path))}}}"
                                        for nation, path in f.deprivation.items())]
    lines += ["", "attribution: >-"]
    words, line = attribution.split(), "  "
    for w in words:
        if len(line) + len(w) + 1 > 98:
            lines.append(line.rstrip())
            line = "  "
        line += w + " "
    lines.append(line.rstrip())
    lines += ["", SERVICES_TEMPLATE.format(name=name)]
    return "\n".join(lines)


def write_config(path: Path, text: str) -> None:
    """Write `text` to `path` once it validates (`load_config`, files checked); raise ConfigError
    (with every problem) and leave nothing otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.yaml")
    tmp.write_text(text, encoding="utf-8")
    try:
        load_config(tmp)
        tmp.replace(path)
    except ConfigError as exc:
        raise ConfigError(path, exc.problems) from None
    finally:
        tmp.unlink(missing_ok=True)
