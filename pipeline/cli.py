"""Command line: `insight <command> --help` (also `python -m pipeline`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipeline import logger as package_logger


def _expected_errors() -> tuple[type[Exception], ...]:
    from boundaries.loaders import GeographyError
    from pipeline.config import ConfigError
    from pipeline.ingest import IngestError
    from segments.census import CensusError

    return (ConfigError, GeographyError, IngestError, CensusError, FileNotFoundError, FileExistsError)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in ("segments", "boundaries"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)


def cmd_validate(args) -> int:
    from pipeline.config import load_config

    cfg = load_config(args.config)
    print(f"{args.config}: valid ({len(cfg.services)} services, run '{cfg.run}')")
    return 0


def cmd_run(args) -> int:
    from pipeline.config import load_config
    from pipeline.run import run_all
    from pipeline.summary import as_text

    cfg = load_config(args.config)
    result = run_all(cfg, until=args.until, progress=not args.quiet)
    print(f"\nRun '{cfg.run}': every input row accounted for (rows read = matched + rejected)")
    print(as_text(result.summary))
    for note in result.notes:
        print(f"Note: {note}")
    print(f"\nShareable outputs: {cfg.outputs}/   Private warehouse: {cfg.warehouse}")
    return 0


def cmd_reference(args) -> int:
    from boundaries.reference import ensure_reference
    from pipeline.config import load_config

    cfg = load_config(args.config)
    spec = cfg.geography.postcode_directory
    if spec.reference_db is None:
        print(f"error: {args.config}: geography.postcode_directory has no reference_db; set it to the "
              "DuckDB file to build (e.g. data/reference/onspd.duckdb)", file=sys.stderr)
        return 2
    built = ensure_reference(spec, spec.reference_db)
    print(f"{spec.reference_db}: {'built from ' + str(spec.path) if built else 'current, reused'}")
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

    from pipeline.run import STAGES

    r = sub.add_parser("run", help="run the pipeline for a config (all stages by default)")
    r.add_argument("config", help="run config YAML, e.g. config/demo.yaml")
    r.add_argument("--until", choices=STAGES, default="render", help="last stage to run")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)

    f = sub.add_parser(
        "reference", help="build the config's reusable postcode reference database (if not current)"
    )
    f.add_argument("config", help="run config YAML naming geography.postcode_directory.reference_db")
    f.set_defaults(func=cmd_reference)

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
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return args.func(args)
    except _expected_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
