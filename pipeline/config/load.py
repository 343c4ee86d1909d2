"""Reading a run config: the YAML (refusing a key repeated in a mapping, of which YAML would
silently keep only the last), the schema's problems one per line naming where each is, the input
files that are missing, and `load_config`, which raises `ConfigError` listing every problem
together."""

from __future__ import annotations

import glob
from pathlib import Path

import yaml
from pydantic import ValidationError

from pipeline import paths
from pipeline.config.errors import ConfigError
from pipeline.config.run_config import RunConfig


def _where(loc: tuple) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")


_MERGE_TAG = "tag:yaml.org,2002:merge"


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate mapping keys at any depth (YAML would silently keep the
    last one: a second `suppression:` block could switch suppression off unseen). The composed
    node graph is walked once per node, so an alias bomb costs no more than its own size."""

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        self.duplicates = duplicate_keys(node)
        return self.construct_document(node)


def duplicate_keys(root: yaml.Node) -> list[str]:
    """One problem per key repeated in a mapping, naming its path and both lines."""
    problems, seen_nodes = [], set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack += [(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                    continue
                where = f"{path}.{key.value}" if path else key.value
                line = key.start_mark.line + 1
                if (key.tag, key.value) in first:
                    problems.append(
                        f"{where}: the key {key.value!r} appears twice (lines {first[key.tag, key.value]} "
                        f"and {line}); YAML would silently keep only the last. Fix: delete one of "
                        "them or merge the two into one")
                else:
                    first[key.tag, key.value] = line
                stack.append((value, where))
    return sorted(problems)


def read_yaml(path: Path) -> object:
    """The parsed YAML of `path`; raise ConfigError for a syntax error or repeated keys."""
    loader = StrictLoader(path.read_text(encoding="utf-8"))
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(path, [f"not valid YAML: {exc}"]) from None
    except RecursionError:
        raise ConfigError(path, ["the YAML is nested too deeply to read"]) from None
    finally:
        loader.dispose()
    if getattr(loader, "duplicates", None):
        raise ConfigError(path, loader.duplicates)
    return data


def missing_files(cfg: RunConfig) -> list[str]:
    """Input files that do not exist, and service names used twice."""
    problems = []
    g = cfg.geography
    globbed = ("census.dir (", "geography.uprn_lookup")  # files found by a glob exist
    files = {k: v for k, v in paths.inputs(cfg).items() if not k.startswith(globbed)}
    files["census.dir"] = cfg.census.dir
    if g is not None and g.uprn_lookup and not glob.glob(g.uprn_lookup.path):
        problems.append(f"geography.uprn_lookup.path: no file matches {g.uprn_lookup.path}. Fix: correct "
                        "the path or glob (a relative one is read from the config file's folder)")
    for where, path in files.items():
        if not Path(path).exists():
            problems.append(f"{where}: no such file or folder: {path}. Fix: correct the path (a relative "
                            "path is read from the config file's folder), or create it")
    if cfg.segmentation.method == "lookup" and cfg.segmentation.lookup is None:
        problems.append("segmentation.lookup: method 'lookup' needs a lookup: block. Fix: add one, or use "
                        "method: kmeans")
    names = [s.name for s in cfg.services]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"services: the name {dup!r} is used more than once. Fix: give each service its "
                        "own name")
    return problems


def schema_problems(raw: object) -> list[str]:
    """The schema's problems with parsed YAML, one per line, each naming where it is."""
    if not isinstance(raw, dict):
        return ["the file must hold a YAML mapping (key: value lines)"]
    try:
        RunConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            value = err.get("input")
            shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
            message = err["msg"].removeprefix("Value error, ")
            where = _where(err["loc"])
            problems.append(f"{where}: {message}{shown}" if where else message)
        return problems
    return []


def load_config(path: Path | str, check_files: bool = True) -> RunConfig:
    """Read and validate a run config; raise ConfigError listing every problem together.

    Every relative path in it is read from the config file's folder (`pipeline.paths.anchored`),
    whatever the working folder, and held resolved, so each check and error names the real path.

    Always checks the schema, repeated keys and where the run would write
    (`pipeline.paths.folder_problems`, `reference_problems`); with `check_files`, also that
    every input file exists. The contents of the files are checked by `pipeline.validate`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, ["file not found" if not path.exists() else "not a file"])
    raw = read_yaml(path)
    problems = schema_problems(raw)
    if problems:
        raise ConfigError(path, problems)
    cfg = paths.anchored(RunConfig.model_validate(raw), path.parent)
    problems = paths.folder_problems(cfg) + paths.reference_problems(cfg)
    if check_files:
        problems += missing_files(cfg)
    if problems:
        raise ConfigError(path, problems)
    return cfg
