"""Fictional Indices of Deprivation for the demo borough, in the published IoD 2025 File 7 layout.

The demo's take-up is planted by neighbourhood type (`extracts.default_propensity`), and planting a
new gradient in it would change every existing extract. So the deprivation is derived from the
types instead: each type has a fictional deprivation score (`TYPE_SCORE`: the types with the most
stop-smoking and contact-centre use and the least direct-debit use score highest), an LSOA's IMD
score is the household-weighted mean of its OAs' type scores plus noise, and its national rank and
decile follow from the score (higher score, more deprived). The gradient in take-up by decile is
then real (it is the planted propensities, seen through the LSOAs' type mix) and known: the truth
file `deprivation_gradient_truth.csv` gives each service's slope and relative index of inequality
computed from the extract's true Output Areas (every record of a real household, before
geocoding), with the census households. Domains: the IMD score plus domain noise.

Everything is drawn from its own random stream, numpy default_rng([seed, 2800]), so every file the
generator wrote before is byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.profiles import inequality
from pipeline.profiles.deprivation_source import DECILE, ENGLAND_DOMAINS, ENGLAND_LSOAS, IMD_STEM, RANK

#: fictional deprivation score by neighbourhood type (1..8)
TYPE_SCORE = {1: 6.0, 2: 12.0, 3: 20.0, 4: 36.0, 5: 9.0, 6: 28.0, 7: 44.0, 8: 52.0}
FILE = "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators_DEMO.csv"
#: planted rows the geocoder is built to place (a usable postcode); the others are rejected by design
MATCHABLE = ("clean", "lowercase", "unspaced", "terminated", "typo_o0", "planted")
SCORE_NAMES = {"income": "Income Score (rate)", "employment": "Employment Score (rate)"}


def national_rank(score: np.ndarray) -> np.ndarray:
    """A fictional national rank (1 = most deprived) for an IMD score: the share of England's LSOAs
    more deprived than it follows a logistic curve centred on a score of 22."""
    more_deprived = 1 / (1 + np.exp((np.asarray(score) - 22.0) / 7.0))
    return np.clip(np.ceil(ENGLAND_LSOAS * more_deprived), 1, ENGLAND_LSOAS).astype(int)


def decile_of(rank: np.ndarray) -> np.ndarray:
    """MHCLG's deciles: ranks 1..3,375 are decile 1 (most deprived 10% of LSOAs), and so on."""
    return (np.asarray(rank) - 1) * 10 // ENGLAND_LSOAS + 1


def lsoa_index(oa: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Per LSOA: households, score, rank and decile of the IMD and of each domain."""
    frame = oa.assign(score=oa["type"].map(TYPE_SCORE) * oa["households"])
    g = frame.groupby("lsoa21cd", sort=True).agg(households=("households", "sum"), score=("score", "sum"))
    g["imd_score"] = np.round(g["score"] / g["households"] + rng.normal(0, 3.0, len(g)), 3)
    g["imd_rank"] = national_rank(g["imd_score"])
    for key in ENGLAND_DOMAINS:
        s = np.clip(g["imd_score"] + rng.normal(0, 6.0, len(g)), 0.5, None)
        g[f"{key}_score"] = np.round(s, 3)
        g[f"{key}_rank"] = national_rank(s)
    for key in ["imd", *ENGLAND_DOMAINS]:
        g[f"{key}_decile"] = decile_of(g[f"{key}_rank"])
    return g.drop(columns="score").reset_index()


def published(index: pd.DataFrame, lad: str, lad_name: str) -> pd.DataFrame:
    """The LSOAs in the IoD 2025 File 7 layout (the columns this pipeline reads, in published order)."""
    out = {"LSOA code (2021)": index["lsoa21cd"],
           "LSOA name (2021)": [f"{lad_name} {i + 1:03d}A" for i in range(len(index))],
           "Local Authority District code (2024)": lad, "Local Authority District name (2024)": lad_name,
           f"{IMD_STEM} Score": index["imd_score"], f"{IMD_STEM}{RANK}": index["imd_rank"],
           f"{IMD_STEM}{DECILE}": index["imd_decile"]}
    for key, stem in ENGLAND_DOMAINS.items():
        out[SCORE_NAMES.get(key, f"{stem} Score")] = np.round(index[f"{key}_score"] / 100, 3) \
            if key in SCORE_NAMES else index[f"{key}_score"]
        out[f"{stem}{RANK}"] = index[f"{key}_rank"]
        out[f"{stem}{DECILE}"] = index[f"{key}_decile"]
    out["Total population: mid 2022"] = np.round(index["households"] * 2.3).astype(int)
    return pd.DataFrame(out)


def gradient_truth(oa: pd.DataFrame, index: pd.DataFrame, truth_dir: Path,
                   services: list[str]) -> pd.DataFrame:
    """Each service's SII and RII of penetration by IMD decile from its truth, over the census
    households: `sii`, `rii` from the records the geocoder is built to place (a usable postcode:
    MATCHABLE), the figures a run should recover; `sii_all`, `rii_all` from every
    record of a real household (not blank or duplicate rows), unmatched ones too (the RII, a ratio,
    is the same; the SII is smaller by the share a run cannot place)."""
    decile = oa["lsoa21cd"].map(index.set_index("lsoa21cd")["imd_decile"])
    households = oa.assign(decile=decile.to_numpy()).groupby("decile")["households"].sum()
    by_oa = dict(zip(oa["oa21cd"], decile, strict=True))
    rows = []
    for service in services:
        path = truth_dir / f"{service}_truth.csv"
        if not path.exists():
            continue
        t = pd.read_csv(path, dtype=str, keep_default_na=False)
        t = t[t["true_oa21cd"].isin(set(oa["oa21cd"]))]
        row = {"service": service}
        for suffix, rows_of in (("", t[t["planted"].isin(MATCHABLE)]),
                                ("_all", t[~t["planted"].isin(["blank_row", "duplicate"])])):
            users = rows_of["true_oa21cd"].map(by_oa).value_counts().reindex(households.index).fillna(0)
            g = inequality.gradient(users.to_numpy(), households.to_numpy(), repetitions=1000)
            row |= {f"records{suffix}": int(users.sum()), f"sii{suffix}": round(100 * g.sii, 3),
                    f"rii{suffix}": round(g.rii, 4)}
        rows.append(row)
    return pd.DataFrame(rows)


def write_deprivation(out_dir: Path, truth_dir: Path, oa: pd.DataFrame, lad: str, lad_name: str,
                      services: list[str], seed: int = 2021) -> dict:
    """Write the demo's IoD file (raw/deprivation/) and its truth; return counts."""
    rng = np.random.default_rng([seed, 2800])
    index = lsoa_index(oa[["oa21cd", "lsoa21cd", "type", "households"]], rng)
    folder = Path(out_dir) / "deprivation"
    folder.mkdir(parents=True, exist_ok=True)
    published(index, lad, lad_name).to_csv(folder / FILE, index=False, lineterminator="\n")
    index.to_csv(Path(truth_dir) / "deprivation_truth.csv", index=False, lineterminator="\n")
    truth = gradient_truth(oa, index, Path(truth_dir), services)
    truth.to_csv(Path(truth_dir) / "deprivation_gradient_truth.csv", index=False, lineterminator="\n")
    return {"lsoas": len(index), "deciles": int(index["imd_decile"].nunique())}
