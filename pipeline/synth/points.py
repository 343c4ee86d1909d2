"""Demo service points, candidate venues and OA population-weighted centroids, from a random
stream of their own (``numpy.random.default_rng([seed, 600])``), so every other demo file stays
byte-identical.

Written under ``<out>/points/`` and ``<out>/boundaries/``:

* ``stop_smoking_clinics.csv`` (name, type, postcode): CLINICS clinics and PHARMACIES pharmacies,
  each at a live postcode of a distinct OA drawn with probability proportional to households
  (so they sit where people live), placed through the postcode directory;
* ``libraries.csv`` (name, type, easting, northing): LIBRARIES libraries at household points of
  distinct OAs drawn the same way, plus one just over the borough's eastern edge (residents may
  use the next borough's library);
* ``community_venues.csv`` (name, type, postcode): VENUES community venues, the candidate sites
  for a new stop-smoking outreach point;
* ``demo_oa21_pwc.csv`` (OA21CD, x, y): each OA's population-weighted centroid in the ONS layout,
  here the mean of its household points (every household alike), to 0.1 m.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CLINICS, PHARMACIES, LIBRARIES, VENUES = 4, 3, 6, 12
VENUE_KINDS = ["Community Centre", "Church Hall", "Family Hub", "Youth Centre", "Sports Club", "Village Hall"]


def _draw_oas(oa: pd.DataFrame, n: int, rng: np.random.Generator, exclude=()) -> list[str]:
    pool = oa[~oa["oa21cd"].isin(list(exclude))]
    p = pool["households"].to_numpy(dtype=float)
    return list(pool["oa21cd"].to_numpy()[rng.choice(len(pool), n, replace=False, p=p / p.sum())])


def _postcode_in(oa21cd: str, directory: pd.DataFrame) -> str:
    live = directory[(directory["oa21cd"] == oa21cd) & directory["doterm"].eq("")
                     & directory["usertype"].astype(str).eq("0")]
    return str(sorted(live["pcds"])[0])


def write_points(out_dir: Path, oa: pd.DataFrame, hh: pd.DataFrame, directory: pd.DataFrame,
                 seed: int = 2021) -> dict:
    """Write the demo points files and the centroids; return their counts."""
    rng = np.random.default_rng([seed, 600])
    out = Path(out_dir) / "points"
    out.mkdir(parents=True, exist_ok=True)
    ward = oa.set_index("oa21cd")["wd23nm"]
    used: list[str] = []
    rows = []
    for kind, n, label in (("clinic", CLINICS, "{} Health Centre"), ("pharmacy", PHARMACIES, "{} Pharmacy")):
        picked = _draw_oas(oa, n, rng, used)
        used += picked
        rows += [(label.format(ward[o]), kind, _postcode_in(o, directory)) for o in picked]
    pd.DataFrame(rows, columns=["name", "type", "postcode"]).to_csv(
        out / "stop_smoking_clinics.csv", index=False, lineterminator="\n")
    picked = _draw_oas(oa, LIBRARIES, rng)
    libs = []
    for o in picked:
        homes = hh[hh["oa21cd"] == o].sort_values("uprn")
        h = homes.iloc[int(rng.integers(len(homes)))]
        libs.append((f"{ward[o]} Library", "library", round(float(h["x"])), round(float(h["y"]))))
    east = hh.loc[hh["x"].idxmax()]
    libs.append(("Eastfield Library (neighbouring borough)", "library", round(float(east["x"])) + 1500,
                 round(float(east["y"]))))
    pd.DataFrame(libs, columns=["name", "type", "easting", "northing"]).to_csv(
        out / "libraries.csv", index=False, lineterminator="\n")
    picked = _draw_oas(oa, VENUES, rng, used)
    venues = [(f"{ward[o]} {VENUE_KINDS[i % len(VENUE_KINDS)]}", "community centre",
               _postcode_in(o, directory)) for i, o in enumerate(picked)]
    pd.DataFrame(venues, columns=["name", "type", "postcode"]).to_csv(
        out / "community_venues.csv", index=False, lineterminator="\n")
    pwc = hh.groupby("oa21cd")[["x", "y"]].mean().reindex(oa["oa21cd"]).round(1)
    (Path(out_dir) / "boundaries").mkdir(parents=True, exist_ok=True)
    pwc.rename_axis("OA21CD").reset_index().to_csv(Path(out_dir) / "boundaries" / "demo_oa21_pwc.csv",
                                                   index=False, lineterminator="\n")
    return {"clinics": len(rows), "libraries": len(libs), "venues": len(venues), "centroids": len(pwc)}
