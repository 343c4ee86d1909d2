"""Benchmark: the planted resident survey of the demo borough over seeded draws (issue 29's bar).

Each draw takes a biased sample of about 1,500 adults (older residents answer more:
pipeline/synth/survey.py), rakes it to the census margins (age band, sex, segment, ward; trimmed at
5 x the mean weight), estimates 'satisfied with the local area' by segment with 95% intervals on
Kish's effective sample size, and by ward both directly and by the Fay-Herriot model. The segments
are the demo's planted neighbourhood types (data/demo/truth/oa_types.csv), the truth the planted
p averaged over each segment's or ward's adults (OA x age band x sex cells).

Prints: the coverage of the segment intervals (bar 92-98%), the unweighted estimates' coverage for
contrast, the mean design effect and effective sample size, and the ward estimates' mean squared
error, direct vs model (bar: the model's at least 25% lower). Needs the demo data (make demo).
Usage: ``.venv/bin/python bench/bench_survey.py [--draws 200] [--seed 2021]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.surveys.estimates import by_domain  # noqa: E402
from pipeline.surveys.population import margins, with_area  # noqa: E402
from pipeline.surveys.wards import ward_estimates  # noqa: E402
from pipeline.surveys.weighting import rake  # noqa: E402
from pipeline.synth.survey import SAMPLE_STREAM, cell_truth, demo_cells, draw, planted_truth  # noqa: E402

RAW, TRUTH = Path("data/demo/raw"), Path("data/demo/truth")
MARGINS = ["age_band", "sex", "segment", "ward"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2021)
    args = ap.parse_args()
    t0 = time.perf_counter()
    lookup = pd.read_csv(RAW / "lookups" / "demo_oa21_ward23_lookup.csv", dtype=str)
    types = pd.read_csv(TRUTH / "oa_types.csv", dtype={"OA21CD": str, "type": int})
    oa = lookup.rename(columns={"OA21CD": "oa21cd", "WD23CD": "ward"})[["oa21cd", "ward"]].merge(
        types.rename(columns={"OA21CD": "oa21cd"})[["oa21cd", "type"]], on="oa21cd")
    truth = planted_truth(oa, args.seed)
    oa["segment"] = oa["type"].astype(str)
    area = with_area(demo_cells(RAW / "census2021"), oa)
    eta_oa = truth.set_index("oa21cd")["eta"]
    area["p"] = cell_truth(area, eta_oa)
    adults = area.groupby("oa21cd")["people"].sum()
    seg_truth = area.groupby("segment").apply(lambda g: np.average(g["p"], weights=g["people"]),
                                              include_groups=False)
    ward_truth = area.groupby("ward").apply(lambda g: np.average(g["p"], weights=g["people"]),
                                            include_groups=False)
    targets = margins(area, MARGINS)
    oa_info = oa.set_index("oa21cd")
    covered = covered_raw = cells = 0
    deffs, neffs, se_direct, se_model, gammas, trimmed = [], [], [], [], [], []
    for d in range(args.draws):
        rng = np.random.default_rng([args.seed, SAMPLE_STREAM, d])
        resp = draw(area[["oa21cd", "age_band", "sex", "people"]], eta_oa, rng)
        resp["segment"] = resp["oa21cd"].map(oa_info["segment"])
        resp["ward"] = resp["oa21cd"].map(oa_info["ward"])
        w = rake(resp, targets, trim=5.0)
        resp["w"] = w.weight
        resp["one"] = 1.0
        deffs.append(w.deff)
        neffs.append(w.n_eff)
        trimmed.append(w.trimmed)
        seg = by_domain(resp, "satisfied", "w", "segment", True).set_index("domain").drop(index="All")
        raw = by_domain(resp, "satisfied", "one", "segment", True).set_index("domain").drop(index="All")
        t = seg_truth.reindex(seg.index)
        covered += int(((seg["lower"] <= t) & (t <= seg["upper"])).sum())
        covered_raw += int(((raw["lower"] <= t) & (t <= raw["upper"])).sum())
        cells += len(seg)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ward_estimates(resp, "satisfied", "w", area, seg["estimate"], True).table
        tw = ward_truth.reindex(model.index)
        se_direct.append(((model["direct"] - tw) ** 2).to_numpy())
        se_model.append(((model["estimate"] - tw) ** 2).to_numpy())
        gammas.append(model["gamma"].to_numpy())
    mse_d = float(np.nanmean(np.concatenate(se_direct)))
    mse_m = float(np.nanmean(np.concatenate(se_model)))
    print(f"draws: {args.draws}, respondents per draw: {len(resp):,}, segments: {len(seg)}, "
          f"wards: {len(model)}, adults in the area: {adults.sum():,.0f}")
    print(f"segment 95% intervals covering the truth (weighted): {covered / cells:.1%} of {cells:,} "
          f"(bar 92-98%)")
    print(f"  for contrast, unweighted: {covered_raw / cells:.1%}")
    print(f"design effect of weighting: mean {np.mean(deffs):.2f}; effective sample size: mean "
          f"{np.mean(neffs):,.0f}; weights trimmed per draw: mean {np.mean(trimmed):.1f}")
    print(f"ward MSE: direct {mse_d:.5f}, Fay-Herriot {mse_m:.5f}: {1 - mse_m / mse_d:.1%} lower "
          f"(bar >= 25%); mean weight on the direct estimate (gamma) "
          f"{np.nanmean(np.concatenate(gammas)):.2f}")
    print(f"time: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
