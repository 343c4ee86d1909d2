"""`python -m segments CONFIG` (`make segments`): rebuild the classification of a run config with
its diagnostics, pen portraits and figures into outputs/<run>/segments/.

Only the segments stage runs: the config is checked for the files it reads (census tables, the
variable spec, names and lookup files, the OA boundaries and OA -> ward lookup), so a
classification-only config needs no service extracts; the tables it writes are those of
`segments.outputs.write_segments` and `write_diagnostics`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from pipeline.errors import BUG_NOTE, InsightError, format_error
from pipeline.ownership import adding_to_outputs
from pipeline.validate import validate_config
from segments.build import build_segments, restarts_line, scope_line
from segments.fit import WEAK_JACCARD, seed_line
from segments.outputs import write_diagnostics, write_segments

log = logging.getLogger("segments")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m segments", description=__doc__.splitlines()[0])
    p.add_argument("config", help="run config YAML, e.g. config/demo.yaml")
    p.add_argument("--no-diagnostics", action="store_true", help="skip choosing-k and stability")
    p.add_argument("--seeds", type=int, default=5, help="other seeds for the stability check")
    p.add_argument("--resamples", type=int, default=20, help="bootstrap resamples")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    t0 = time.perf_counter()
    try:
        cfg = validate_config(args.config, segments_only=True)  # the files the build reads
        print(scope_line(cfg), flush=True)
        result = build_segments(cfg, progress=True)
        steps = {"read and build": time.perf_counter() - t0}
        with adding_to_outputs(cfg):  # outputs/<run>/ must be new or this run's; marked as such
            folder = write_segments(cfg, result)
            steps["tables"] = time.perf_counter() - t0 - sum(steps.values())
            if not args.no_diagnostics:
                write_diagnostics(cfg, result, seeds=args.seeds, resamples=args.resamples,
                                  progress=True)
                steps["diagnostics"] = time.perf_counter() - t0 - sum(steps.values())
    except InsightError as exc:  # a problem with the config or files
        print(format_error(exc), file=sys.stderr)
        return 2
    except Exception:  # a bug: the traceback is wanted
        print(f"python -m segments: {BUG_NOTE}", file=sys.stderr)
        raise
    sizes = result.assignments[[c for c in ("supergroup", "group", "subgroup")
                                if c in result.assignments]].nunique()
    print(f"{cfg.run}: {len(result.assignments)} OAs, "
          + ", ".join(f"{n} {lv}s" for lv, n in sizes.items())
          + f", supergroup WCSS {result.wcss:.3f}; written to {folder} "
          f"in {time.perf_counter() - t0:.1f}s ("
          + ", ".join(f"{step} {secs:.1f}s" for step, secs in steps.items()) + ")")
    if len(result.restarts):
        print(f"k-means: {restarts_line(result.restarts)} (restarts.csv)")
    for line in result.notes:  # why a tier has fewer segments than asked
        print(f"fewer segments: {line}")
    if len(result.communal):
        print(f"communal establishments: {len(result.communal)} OA(s) with at least "
              f"{cfg.segmentation.communal_share:g}% of residents in communal establishments "
              f"assigned to their nearest segment, not clustered: "
              f"{', '.join(map(str, result.communal[:5]))}{' ...' if len(result.communal) > 5 else ''}"
              " (oa_fit.csv: communal)")
    if "stability" in result.names:
        weak = result.names[result.names["stability"] == "weak"]
        counts = ", ".join(f"{int((weak['level'] == lv).sum())} {lv}(s)" for lv in sizes.index)
        print(f"stability: weak (bootstrap Jaccard below {WEAK_JACCARD}): {counts}"
              + (f": {', '.join(weak['segment'].astype(str))}, flagged in their pen portraits"
                 if len(weak) else ""))
    if seed_line(result.seeds):
        print(f"seed check: {seed_line(result.seeds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
