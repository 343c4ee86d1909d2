"""Benchmark (b): address matching of 10,000 messy addresses against a 100,000-address gazetteer.

The gazetteer is the demo borough's (~50k addresses) twice: once as generated and once as a twin
town (postcode area DN, its own UPRNs) with the same street names, so a street name alone no longer
tells where an address is. The messy addresses are the demo's labelled stop-smoking and library
addresses (typos, abbreviations, lower case, missing flat numbers, addresses the gazetteer lacks,
damaged postcodes). Prints the index build time, throughput, precision and recall (as defined in
tests/geocode/test_address_demo.py). Bar: >= 4,000 addresses/s. Usage:
``.venv/bin/python bench/bench_address.py [--records 10000]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.address.matcher import GazetteerIndex, match_frame  # noqa: E402
from pipeline.synth.borough import generate_demo  # noqa: E402

OUT = Path("data/bench/demo")
SOURCES = {
    "stop_smoking": ("stop_smoking_attendees.csv", ["Address Line 1", "Address Line 2", "Address Line 3"],
                     "Post Code"),
    "library": ("library_members.csv", ["Address1", "Address2", "Address3"], "Postcode"),
}
UNTRUSTED = {"partial", "invalid", "not_in_directory", "terminated", "blank_postcode"}


def gazetteer() -> pd.DataFrame:
    g = pd.read_csv(OUT / "raw/gazetteer/demo_llpg.csv", dtype=str, keep_default_na=False)
    g.columns = g.columns.str.lower()
    twin = g.assign(uprn="98" + g["uprn"].str[2:], postcode=g["postcode"].str.replace("DM", "DN", n=1),
                    town="Twinborough")
    return pd.concat([g, twin], ignore_index=True)


def messy(n: int) -> pd.DataFrame:
    parts = []
    for svc, (fname, cols, pc) in SOURCES.items():
        x = pd.read_csv(OUT / "raw/extracts" / fname, dtype=str, keep_default_na=False)
        t = pd.read_csv(OUT / f"truth/{svc}_address_truth.csv", dtype=str, keep_default_na=False)
        planted = pd.read_csv(OUT / f"truth/{svc}_truth.csv", dtype=str, keep_default_na=False)["planted"]
        keep = x[cols[0]].ne("") & ~planted.isin(["blank_row", "duplicate", "out_of_area"])
        parts.append(pd.DataFrame({
            "address": x.loc[keep, cols].agg(" ".join, axis=1), "postcode": x.loc[keep, pc],
            "widen": planted[keep].isin(UNTRUSTED), "expected": t.loc[keep, "expected_uprn"],
            "status": t.loc[keep, "address_status"]}))
    df = pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True)
    df.insert(0, "row_number", range(1, len(df) + 1))
    return df


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000)
    args = ap.parse_args()
    if not (OUT / "truth/library_address_truth.csv").exists():
        generate_demo(OUT / "raw", OUT / "truth", seed=2021)
    gaz, recs = gazetteer(), messy(args.records)
    t0 = time.perf_counter()
    index = GazetteerIndex(gaz)
    t1 = time.perf_counter()
    got = match_frame(index, recs)
    t2 = time.perf_counter()
    r = recs.merge(got, on="row_number", how="left")
    given = r["uprn"].notna()
    correct = given & r["uprn"].eq(r["expected"])
    eligible = r["expected"].ne("")
    print(f"gazetteer {len(gaz):,} addresses; messy addresses {len(recs):,}")
    print(f"index build: {t1 - t0:.2f} s (once per run)")
    print(f"matching: {t2 - t1:.2f} s = {len(recs) / (t2 - t1):,.0f} addresses/s (bar: >= 4,000)")
    print(f"precision: {correct.sum() / given.sum():.4f} ({correct.sum():,} of {given.sum():,} given a UPRN)")
    print(f"recall: {(correct & eligible).sum() / eligible.sum():.4f} "
          f"(of {eligible.sum():,} whose address names one gazetteer entry)")
    unknown = r["status"].eq("not_in_gazetteer")
    n_unknown = int((unknown & given).sum())
    print(f"addresses not in the gazetteer given a UPRN: {n_unknown} of {int(unknown.sum())}")
    print("by level:", r["level"].value_counts().to_dict())


if __name__ == "__main__":
    main()
