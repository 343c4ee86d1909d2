"""Command line: `insight <command> --help` (also `python -m pipeline`)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import BUG_NOTE, InsightError, format_error


def _is_user_error(exc: BaseException) -> bool:
    """A user error is an `InsightError` (pipeline.errors), whichever layer raised it: a problem with
    the config, a file or the command, printed as `error:` lines. Anything else is a bug."""
    return isinstance(exc, InsightError)


_LOGGERS = ("pipeline", "segments", "boundaries")


@contextlib.contextmanager
def _logging_to_stderr(verbose: bool) -> Iterator[None]:
    """Log the packages' messages to stderr while a command runs (removed after, so repeated
    `main` calls in one process never log to a stream that has gone)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in _LOGGERS:
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)
    try:
        yield
    finally:
        for name in _LOGGERS:
            logging.getLogger(name).removeHandler(handler)


def _print_warnings(cfg) -> None:
    """Warnings the user must see before sharing anything (a lowered suppression threshold), and
    extracts carrying names, phone numbers or emails (not read, but better not sent at all)."""
    from pipeline.ingest.validation import privacy_warnings

    if cfg.suppression.warning:
        print(cfg.suppression.warning, file=sys.stderr)
    for warning in [*cfg.segmentation.warnings, *privacy_warnings(cfg)]:
        print(f"warning: {warning}", file=sys.stderr)


def cmd_validate(args) -> int:
    from pipeline.validate import validate_config

    cfg = validate_config(args.config)
    _print_warnings(cfg)
    n = len(cfg.services)
    print(f"{args.config}: valid ({n} service{'' if n == 1 else 's'}, run '{cfg.run}'): every file and "
          "column it names checked")
    return 0


def cmd_map(args) -> int:
    """Propose an extract's service block; with --write, add it to the config and validate."""
    from pipeline.mapping import MapError, block_text, file_as_written, propose, read_sample, write_block

    config = Path(args.config) if args.config else None
    if args.write and config is None:
        raise MapError("--write adds the block to a config", fix="name it with --config C")
    if config is not None and not config.is_file():
        raise MapError(f"{config}: no such config file", fix="name an existing run config with --config")
    prop = propose(read_sample(Path(args.extract), args.sheet), name=args.name)
    block = block_text(prop, file_as_written(Path(args.extract), config))
    print(block, end="")
    if not args.write:
        return 0
    write_block(config, block, prop.name)
    print(f"Added service {prop.name!r} to {config}; checking it with insight validate:")
    return cmd_validate(argparse.Namespace(config=str(config)))


def cmd_run(args) -> int:
    from pipeline.run import run_all
    from pipeline.summary import as_text
    from pipeline.validate import validate_config

    cfg = validate_config(args.config)  # every problem, before any stage runs
    if cfg.census_only:
        from pipeline.config import ConfigError

        raise ConfigError(args.config, ["geography: `insight run` geocodes and profiles services, so it "
                                        "needs the geography block. Fix: add geography (and services), "
                                        "or build the classification alone with python -m segments "
                                        f"{args.config}"])
    _print_warnings(cfg)
    from pipeline.warehouse import echo_sql

    with echo_sql() if args.sql else contextlib.nullcontext():
        result = run_all(cfg, until=args.until, progress=not args.quiet)
    print(f"\nRun '{cfg.run}': every input row accounted for (rows read = matched + rejected)")
    print(as_text(result.summary))
    for note in result.notes:
        print(f"Note: {note}")
    if cfg.suppression.warning:
        print(f"\n{cfg.suppression.warning}")
    print(f"\nShareable outputs: {cfg.outputs}/   Private warehouse: {cfg.warehouse}")
    return 0


def cmd_reference(args) -> int:
    from boundaries.reference import ensure_reference
    from pipeline.config import load_config

    cfg = load_config(args.config)
    spec = cfg.geography and cfg.geography.postcode_directory
    if spec is None or spec.reference_db is None:
        raise InsightError(f"{args.config}: geography.postcode_directory has no reference_db; set it to "
                           "the DuckDB file to build (e.g. data/reference/onspd.duckdb)",
                           fix="set geography.postcode_directory.reference_db")
    built = ensure_reference(spec, spec.reference_db)
    print(f"{spec.reference_db}: {'built from ' + str(spec.path) if built else 'current, reused'}")
    return 0


def cmd_purge(args) -> int:
    from pipeline.config import load_config
    from pipeline.privacy import purge

    cfg = load_config(args.config, check_files=False)  # the extracts may be gone by now
    print(purge(cfg, dry_run=args.dry_run).text())
    return 0


def cmd_demo_data(args) -> int:
    from pipeline.synth.borough import generate_demo

    info = generate_demo(Path(args.out), Path(args.truth), seed=args.seed)
    print(f"Demo borough written to {args.out} (truth in {args.truth}): {info}")
    return 0


def cmd_synth_extracts(args) -> int:
    from pipeline.synth.extracts import generate_for_real_area

    info = generate_for_real_area(
        postcodes_csv=Path(args.postcodes), postcode_col=args.postcode_col, oa_col=args.oa_col,
        live_col=args.live_col, households_csv_ts041=Path(args.households),
        types_csv=Path(args.types), out_dir=Path(args.out), truth_dir=Path(args.truth),
        seed=args.seed,
    )
    print(f"Synthetic extracts written to {args.out}: {info}")
    return 0


def cmd_sources(args) -> int:
    from pipeline.area.sources import sources_text

    print(sources_text())
    return 0


def cmd_area(args) -> int:
    from pipeline.area.build import build_area
    from pipeline.area.guard import Limits

    sources = Path(args.sources or args.cache)
    limits = Limits.of(args.max_unzipped_gb, args.max_zip_ratio, args.max_columns)
    if args.download:
        from pipeline.area.download import download_products

        download_products(sources, limits=limits)
    elif args.sources is None:
        raise InsightError("name the folder of national products with --sources DIR, or fetch what has a "
                           "published address with --download (`insight sources` lists them)",
                           fix="add --sources DIR or --download")
    result = build_area(args.lads, sources, name=args.name, data_root=Path(args.data_dir),
                        config_root=Path(args.config_dir), reference_dir=Path(args.reference_dir),
                        force=args.force, ranges=args.national_ranges,
                        limits=limits,
                        command="insight area " + " ".join(args.lads) + f" --sources {sources}"
                        + (f" --name {args.name}" if args.name else "")
                        + (" --national-ranges" if args.national_ranges else ""))
    print(result.text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="insight",
        description="Geocode council service records, segment Output Areas and profile take-up.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show debug messages")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a run config and report every problem at once")
    v.add_argument("config", help="run config YAML, e.g. config/demo.yaml")
    v.set_defaults(func=cmd_validate)

    from pipeline.run import STAGE_NAMES

    m = sub.add_parser("map", help="propose an extract's service block from the file itself (header and "
                       "a sample of rows); --write adds it to the config and validates it")
    m.add_argument("extract", help="the extract: CSV or .xlsx")
    m.add_argument("--config", help="run config the block is for (its file path is written relative to it)")
    m.add_argument("--sheet", help="the workbook's sheet (default: the one with most rows)")
    m.add_argument("--name", help="the service's name (default: from the file name)")
    m.add_argument("--write", action="store_true",
                   help="add the block to --config, then run insight validate")
    m.set_defaults(func=cmd_map)

    r = sub.add_parser("run", help="run the pipeline for a config (all stages by default)")
    r.add_argument("config", help="run config YAML, e.g. config/demo.yaml")
    r.add_argument("--until", choices=STAGE_NAMES, default="render", help="last stage to run")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--sql", action="store_true",
                   help="print every SQL statement the run executes, with its name, rows and seconds, to "
                        "stderr (every run also writes them to data/<run>/sql.log)")
    r.set_defaults(func=cmd_run)

    f = sub.add_parser(
        "reference", help="build the config's reusable postcode reference database (if not current)"
    )
    f.add_argument("config", help="run config YAML naming geography.postcode_directory.reference_db")
    f.set_defaults(func=cmd_reference)

    g = sub.add_parser(
        "purge", help="remove a run's record-level data once older than privacy.retention_days "
        "(keeps the aggregates)")
    g.add_argument("config", help="run config YAML, e.g. config/demo.yaml")
    g.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    g.set_defaults(func=cmd_purge)

    d = sub.add_parser("demo-data", help="generate the fictional demo borough (deterministic)")
    d.add_argument("--out", default="data/demo/raw", help="folder for the generated input files")
    d.add_argument("--truth", default="data/demo/truth", help="folder for the planted truth")
    d.add_argument("--seed", type=int, default=2021)
    d.set_defaults(func=cmd_demo_data)

    s = sub.add_parser(
        "synth-extracts", help="generate synthetic service extracts over a real area's postcodes"
    )
    s.add_argument("--postcodes", required=True, help="postcode directory CSV with an OA column")
    s.add_argument("--postcode-col", default="pcds")
    s.add_argument("--oa-col", default="oa21cd")
    s.add_argument("--live-col", default=None, help="True/False live column, if any")
    s.add_argument("--households", required=True, help="Nomis TS041 households CSV")
    s.add_argument("--types", required=True, help="CSV of OA -> neighbourhood type (e.g. OAC)")
    s.add_argument("--out", required=True)
    s.add_argument("--truth", required=True)
    s.add_argument("--seed", type=int, default=2021)
    s.set_defaults(func=cmd_synth_extracts)

    a = sub.add_parser(
        "area", help="cut the national ONS/Nomis/OS products to your local authority (or several) and "
        "write data/areas/<name>/ and config/areas/<name>.yaml")
    a.add_argument("lads", nargs="+", metavar="LAD_CODE",
                   help="local authority district code(s), e.g. E08000009")
    a.add_argument("--sources",
                   help="folder holding the national products (zipped as downloaded, or unpacked)")
    a.add_argument("--name", help="area name (default: from the authorities' names)")
    a.add_argument("--data-dir", default="data/areas", help="where the area's folder is made")
    a.add_argument("--config-dir", default="config/areas", help="where the area's run config is written")
    a.add_argument("--reference-dir", default="data/reference",
                   help="where the national postcode directory and its reference database are kept")
    a.add_argument("--force", action="store_true", help="replace an existing config of the same name")
    a.add_argument("--national-ranges", action="store_true",
                   help="standardise the area's classification on the ranges of every Output Area in the "
                   "national census files (as the official OAC does), written as segmentation.reference")
    a.add_argument("--download", action="store_true",
                   help="first fetch the products with a published address that the folder lacks (census "
                   "tables; Code-Point Open if no postcode directory) into --sources, or --cache")
    a.add_argument("--cache", default="data/downloads",
                   help="download cache, shared between areas (the sources folder without --sources)")
    a.add_argument("--max-unzipped-gb", type=float, metavar="GB",
                   help="largest file read out of a zip, as declared by the zip (default 4; the ONSPD's "
                   "national CSV is about 1.5)")
    a.add_argument("--max-zip-ratio", type=float, metavar="N",
                   help="largest expansion ratio (unzipped over zipped size) of a zipped file over 100 MB "
                   "(default 200; national CSVs compress 5 to 15 times, a zip bomb about 1,000)")
    a.add_argument("--max-columns", type=int, metavar="N",
                   help="most columns a national CSV's header may have (default 1,000)")
    a.set_defaults(func=cmd_area)

    o = sub.add_parser("sources", help="list the national products `insight area` reads: publisher, title, "
                       "tested release, file pattern, licence, attribution")
    o.set_defaults(func=cmd_sources)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; a user error (an InsightError) prints `error:` and its problems and returns
    2; any other exception is a bug, raised with its traceback and a line asking for a report."""
    args = build_parser().parse_args(argv)
    with _logging_to_stderr(args.verbose):
        try:
            return args.func(args)
        except InsightError as exc:
            print(format_error(exc), file=sys.stderr)
            return 2
        except Exception:
            print(f"insight: {BUG_NOTE}", file=sys.stderr)
            raise  # a bug: the traceback is wanted


if __name__ == "__main__":
    raise SystemExit(main())
