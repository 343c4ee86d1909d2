"""Synthetic council service extracts with planted take-up and realistic dirt, over any geography.

:func:`generate_extracts` takes one row per household (with its OA, postcode and latent
neighbourhood type), a table of planted take-up probabilities per type and service, and a postcode
directory (for terminated and out-of-area postcodes), and writes five extracts as a council would
export them (CSV in UTF-8 and Windows-1252, and an XLSX workbook), plus the truth: for each data
row of each extract the household, its true Output Area and the kind of dirt planted.

:func:`generate_for_real_area` runs the same generator over a real area that has no gazetteer
(e.g. Trafford): households are spread over each OA's live postcodes, with made-up addresses.

Truth files (``truth_dir``): ``<service>_truth.csv`` with columns row_number, household_id, uprn,
true_oa21cd, planted; ``propensity.csv`` (type, service, propensity); ``households.csv``
(household_id, uprn, oa21cd, type). ``row_number`` is the 1-based position among the data rows
below the header. Planted codes: clean, lowercase, unspaced (no space or extra spaces), invalid,
partial (sector or district only), not_in_directory, terminated, out_of_area, blank_row, duplicate,
blank_postcode, typo_o0 (letter O or I for the inward code's first digit, which the pipeline corrects).

For the extracts that carry addresses (stop_smoking, library) ``<service>_address_truth.csv``
labels each row for the address matcher: row_number, expected_uprn (the UPRN a matcher should
give; blank when the address as written does not identify one gazetteer entry), true_uprn,
address_status (as_gazetteer, abbreviated, lower_case, typo, flat_missing, not_in_gazetteer; blank
for rows without an address) and uprn_given (the library's UPRN column, sometimes mistyped).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from pipeline.render.workbook import stable_xlsx
from pipeline.synth import outcomes as _outcomes

logger = logging.getLogger(__name__)

SERVICES = ("stop_smoking", "council_tax_dd", "garden_waste", "library", "contact_centre")
FILES = {
    "stop_smoking": "stop_smoking_attendees.csv",
    "council_tax_dd": "council_tax_direct_debit.csv",
    "garden_waste": "garden_waste_subscribers.xlsx",
    "library": "library_members.csv",
    "contact_centre": "contact_centre_log.csv",
}
#: planted household take-up by type 1..8 (OAC supergroup order)
DEFAULT_PROPENSITY = {
    "stop_smoking": [0.05, 0.08, 0.12, 0.17, 0.06, 0.15, 0.27, 0.31],
    "council_tax_dd": [0.80, 0.74, 0.42, 0.26, 0.70, 0.52, 0.36, 0.30],
    "garden_waste": [0.50, 0.46, 0.05, 0.04, 0.30, 0.24, 0.16, 0.08],
    "library": [0.24, 0.14, 0.31, 0.17, 0.27, 0.12, 0.07, 0.10],
    "contact_centre": [0.13, 0.14, 0.17, 0.30, 0.15, 0.23, 0.36, 0.42],
}
#: probability of each postcode dirt code for a record (the rest are clean)
DIRT = {
    "lowercase": 0.05,
    "unspaced": 0.06,
    "invalid": 0.01,
    "partial": 0.005,
    "not_in_directory": 0.01,
    "terminated": 0.022,  # about 1.2% land: not every OA has one
    "out_of_area": 0.005,
    "blank_postcode": 0.01,
}
BLANK_ROW_RATE = 0.005
DUPLICATE_RATE = 0.005
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

#: The stop-smoking extract records age, sex and ethnicity in the council guidance's monitoring
#: categories: its age bands (Under 18 and 19-24 leave out age 18, as the guidance's do), the 19
#: ethnic groups of Census 2021 in the census wording. Take-up per resident is planted by age band
#: and ethnic group (AGE_TAKEUP, ETHNIC_TAKEUP: relative rates, written to equality_truth.csv):
#: the equality profile against the census should recover their order.
AGE_BANDS = ["Under 18", "19-24", "25-44", "45-64", "65-74", "Over 75"]
AGE_YEARS = [(0, 17), (19, 24), (25, 44), (45, 64), (65, 74), (75, None)]
AGE_TAKEUP = [0.1, 0.7, 1.5, 1.1, 0.45, 0.2]
ETHNIC = [
    "Asian, Asian British or Asian Welsh: Bangladeshi",
    "Asian, Asian British or Asian Welsh: Chinese",
    "Asian, Asian British or Asian Welsh: Indian",
    "Asian, Asian British or Asian Welsh: Pakistani",
    "Asian, Asian British or Asian Welsh: Other Asian",
    "Black, Black British, Black Welsh, Caribbean or African: African",
    "Black, Black British, Black Welsh, Caribbean or African: Caribbean",
    "Black, Black British, Black Welsh, Caribbean or African: Other Black",
    "Mixed or Multiple ethnic groups: White and Asian",
    "Mixed or Multiple ethnic groups: White and Black African",
    "Mixed or Multiple ethnic groups: White and Black Caribbean",
    "Mixed or Multiple ethnic groups: Other Mixed or Multiple ethnic groups",
    "White: English, Welsh, Scottish, Northern Irish or British",
    "White: Irish",
    "White: Gypsy or Irish Traveller",
    "White: Roma",
    "White: Other White",
    "Other ethnic group: Arab",
    "Other ethnic group: Any other ethnic group",
]
ETHNIC_TAKEUP = [1.4, 0.3, 0.4, 0.6, 0.5, 0.45, 1.6, 0.85, 0.9, 1.15, 1.8, 1.05, 1.0, 1.3, 2.4, 2.1, 0.75,
                 0.35, 0.65]
#: share of each type's records with 'Prefer not to say' for age and ethnicity
AGE_NOT_SAY, ETHNIC_NOT_SAY = 0.01, 0.015
NOT_SAY = "Prefer not to say"
SEX = ["Female", "Male", "Other", NOT_SAY]
SEX_P = [0.505, 0.465, 0.008, 0.022]
CHANNELS_LIBRARY = ["Face to face", "Telephone", "Web", "Email"]
CHANNELS_CONTACT = ["Face-to-face", "Telephone", "Web", "Email"]
CHANNEL_BY_TYPE = {
    1: [25, 35, 20, 20],
    2: [15, 25, 35, 25],
    3: [8, 12, 45, 35],
    4: [25, 25, 35, 15],
    5: [12, 18, 40, 30],
    6: [20, 30, 30, 20],
    7: [32, 35, 22, 11],
    8: [40, 38, 14, 8],
}
NOTES = [
    "Paid £12.50 arrears – cleared",
    "Café owner, post to business address",
    "Correspondence to Mr O’Neill",
    "Renée asked for paper bills",
    "Refund of £4.20 issued",
    "Single person discount – 25%",
    "Mrs D’Souza, joint account",
    "Moved from Chesterfield Rd – new mandate",
]
ABBREV = {
    "Road": "Rd",
    "Street": "St",
    "Avenue": "Ave",
    "Close": "Cl",
    "Lane": "Ln",
    "Drive": "Dr",
    "Crescent": "Cres",
    "Gardens": "Gdns",
    "Terrace": "Terr",
}


def default_propensity() -> pd.DataFrame:
    """Planted take-up probability per household type (1-8) and service (long format)."""
    rows = [
        {"type": t + 1, "service": s, "propensity": p}
        for s in SERVICES
        for t, p in enumerate(DEFAULT_PROPENSITY[s])
    ]
    return pd.DataFrame(rows)


def _type_shares(table: str) -> pd.DataFrame:
    """The demo census's shares of each category of `table` per household type (rows: type 1-8),
    smoothed as borough._write_census smooths them."""
    prof = pd.read_csv(Path(__file__).with_name("type_profiles.csv"))
    p = prof[prof["table"] == table].pivot(index="type", columns="category", values="share") + 2e-4
    return p.div(p.sum(axis=1), axis=0)


def _age_shares() -> pd.DataFrame:
    """Share of each type's residents in each of AGE_BANDS, from the five-year census shares, a
    five-year band cut by a band edge split pro rata (ages 15-17 are 3/5 of 15-19)."""
    five = _type_shares("ts007a")
    out = pd.DataFrame(0.0, index=five.index, columns=AGE_BANDS)
    for col in five.columns:
        nums = [int(x) for x in re.findall(r"\d+", col)]
        lo, hi = (0, nums[0]) if "under" in col else (nums[0], None) if "over" in col else (nums[0], nums[1])
        for band, (blo, bhi) in zip(AGE_BANDS, AGE_YEARS, strict=True):
            a, b = max(lo, blo), min(x for x in (hi, bhi, 200) if x is not None)
            if b >= a:
                out[band] += five[col] * ((b - a + 1) / (hi - lo + 1) if hi is not None else 1.0)
    return out


def _ethnic_shares() -> pd.DataFrame:
    shares = _type_shares("ts021")[ETHNIC]
    return shares.div(shares.sum(axis=1), axis=0)


def planted_weights(shares: pd.DataFrame, takeup: list[float], records: pd.Series,
                    residents: pd.Series, not_say: float) -> dict[int, np.ndarray]:
    """Per household type, the probabilities of each category (then 'Prefer not to say') for a
    record, such that take-up per resident over the area is proportional to `takeup`.

    A record of type t is in category g with probability proportional to s_tg w_g (s: the type's
    census shares); the weights w are raked so the expected users of g, sum_t n_t s_tg w_g /
    sum_h s_th w_h (n_t: records of type t), equal U r_g R_g / sum_h r_h R_h, where R_g = sum_t
    residents_t s_tg is the area's residents in g and r the planted relative take-up."""
    records = records.reindex(shares.index).fillna(0)  # every type gets weights, used or not
    s = shares.to_numpy(dtype=float)
    n = records.to_numpy(dtype=float)
    r = np.asarray(takeup, dtype=float)
    pop = residents.reindex(shares.index).fillna(0).to_numpy(dtype=float) @ s
    target = n.sum() * r * pop / (r * pop).sum()
    w = r.copy()
    for _ in range(200):
        q = s * w
        q /= q.sum(axis=1, keepdims=True)
        got = n @ q
        w *= np.where(got > 0, target / got, 1.0)
    q = s * w
    q = (1 - not_say) * q / q.sum(axis=1, keepdims=True)
    return {int(t): np.append(row, not_say) for t, row in zip(records.index, q, strict=True)}


def _choice(rng: np.random.Generator, labels: list[str], weights_by_type: dict, types) -> list[str]:
    out = np.empty(len(types), dtype=object)
    types = np.asarray(types)
    for t in sorted(set(types.tolist())):
        m = types == t
        w = np.asarray(weights_by_type.get(int(t), weights_by_type[6]), float)
        out[m] = np.asarray(labels, dtype=object)[rng.choice(len(labels), m.sum(), p=w / w.sum())]
    return out.tolist()


def _dates(rng, n: int, start: dt.date, end: dt.date) -> list[dt.date]:
    span = (end - start).days
    return [start + dt.timedelta(days=int(d)) for d in rng.integers(0, span + 1, n)]


def _address_lines(rec: pd.DataFrame, rng: np.random.Generator, messy_rate: float = 0.15):
    """Address line 1 (flat, number, street), line 2 (locality), line 3 (town), some messy."""
    get = rec.get
    saon = (get("saon") if "saon" in rec else pd.Series("", index=rec.index)).fillna("").astype(str)
    paon = (get("paon") if "paon" in rec else pd.Series("", index=rec.index)).fillna("").astype(str)
    street = (get("street") if "street" in rec else pd.Series("", index=rec.index)).fillna("")
    loc = (get("locality") if "locality" in rec else pd.Series("", index=rec.index)).fillna("")
    town = (get("town") if "town" in rec else pd.Series("", index=rec.index)).fillna("")
    l1, l2, l3, status = [], [], [], []
    u = rng.random((len(rec), 3))
    kinds = rng.integers(0, 4, len(rec))
    for i, (s, p, st, lo, tw) in enumerate(
        zip(saon, paon, street.astype(str), loc.astype(str), town.astype(str), strict=True)
    ):
        num_street = f"{p} {st}".strip() if p[:1].isdigit() else ", ".join(x for x in (p, st) if x)
        line = ", ".join(x for x in (s, num_street) if x)
        state = "as_gazetteer"
        if u[i, 0] < messy_rate and line:
            k = kinds[i]
            if k == 0:
                for a, b in ABBREV.items():
                    line = re.sub(rf"\b{a}\b", b, line)
                state = "abbreviated"
            elif k == 1 and s:
                line = num_street  # flat number missing
                state = "flat_missing"
            elif k == 2:
                line = line.lower()
                state = "lower_case"
            else:
                j = int(u[i, 1] * max(len(line) - 2, 1))
                if j + 1 < len(line):
                    line = line[:j] + line[j + 1] + line[j] + line[j + 2 :]  # transposed letters
                    state = "typo"
        l1.append(line)
        status.append(state)
        l2.append(lo if u[i, 2] > 0.3 else "")
        l3.append(tw)
    return l1, l2, l3, status


def _plant_unknown_addresses(
    l1: list[str], status: list[str], rec: pd.DataFrame, rng: np.random.Generator, rate: float
) -> None:
    """Give a share of records an address the gazetteer lacks (a new build, a mistyped number,
    a house name never registered): a number above any on its street, or a made-up house name."""
    top = rec.assign(n=pd.to_numeric(rec.get("paon"), errors="coerce")).groupby("street")["n"].max()
    for i in np.flatnonzero(rng.random(len(l1)) < rate):
        street = str(rec["street"].iloc[i])
        if not street or street == "nan":
            continue
        if rng.random() < 0.5:
            l1[i] = f"{int(np.nan_to_num(top.get(street, 0))) + 100 + int(rng.integers(1, 50))} {street}"
        else:
            l1[i] = f"{HOUSE_NAMES[int(rng.integers(len(HOUSE_NAMES)))]}, {street}"
        status[i] = "not_in_gazetteer"


#: house names that the demo gazetteer never uses
HOUSE_NAMES = [
    "Old Forge Cottage", "Windrush Lodge", "The Granary", "Swallow Barn", "Kilnhurst", "Tanners End",
]
#: share of address-bearing records given an address the gazetteer lacks
UNKNOWN_ADDRESS_RATE = 0.02
#: share of library records that carry the household UPRN (and of those, a mistyped one)
UPRN_GIVEN_RATE = 0.4
UPRN_BAD_RATE = 0.02


def _dirty_postcodes(
    rec: pd.DataFrame, directory: pd.DataFrame, area_oas: set[str], rng: np.random.Generator
):
    """Apply postcode dirt; returns (postcode strings, planted codes, true OA, household id, uprn).

    `area_oas` are the OAs of every household of the area (not only of this service's users),
    so that out-of-area postcodes are truly outside the area.
    """
    n = len(rec)
    pcs = rec["postcode"].astype(str).tolist()
    planted = ["clean"] * n
    true_oa = rec["oa21cd"].astype(str).tolist()
    hid = rec["household_id"].astype(str).tolist()
    uprn = rec["uprn"].fillna("").astype(str).tolist() if "uprn" in rec else [""] * n
    codes = list(DIRT)
    probs = np.array([DIRT[c] for c in codes])
    draw = rng.choice(len(codes) + 1, n, p=np.r_[probs, 1 - probs.sum()])
    in_area = area_oas
    known = set(directory["pcds"].astype(str))
    live = directory["is_live"].astype(bool).to_numpy()
    d_oa = directory["oa21cd"].fillna("").astype(str).to_numpy()
    d_pc = directory["pcds"].astype(str).to_numpy()
    term_by_oa: dict[str, list[str]] = {}
    for p, o in zip(d_pc[~live], d_oa[~live], strict=True):
        if o in in_area:
            term_by_oa.setdefault(o, []).append(p)
    ooa = [(p, o) for p, o, lv in zip(d_pc, d_oa, live, strict=True) if lv and o and o not in in_area]
    for i in range(n):
        if draw[i] == len(codes):
            continue
        code = codes[draw[i]]
        pc = pcs[i]
        outward, inward = pc.split(" ") if " " in pc else (pc[:-3], pc[-3:])
        if code == "lowercase":
            pc = pc.lower() if rng.random() < 0.7 else pc.lower().replace(" ", "")
        elif code == "unspaced":
            r = rng.random()
            pc = pc.replace(" ", "") if r < 0.6 else (f"{outward}  {inward}" if r < 0.85 else f" {pc} ")
        elif code == "invalid":
            k = int(rng.integers(6))
            pc = [
                outward,
                "12345",
                pc.replace(" ", "")[:-1],
                "N/A",
                f"{outward} {inward[:2]}",
                outward[::-1] + " " + inward,
            ][k]
            if k == 0:  # the district alone is a partial postcode, as the pipeline reports it
                code = "partial"
        elif code == "partial":
            pc = f"{outward} {inward[0]}"
        elif code == "not_in_directory":
            for _ in range(200):
                cand = (
                    f"{outward} {inward[0]}{INWARD_LETTERS[rng.integers(20)]}"
                    f"{INWARD_LETTERS[rng.integers(20)]}"
                )
                if cand not in known:
                    pc = cand
                    break
            else:
                code = "clean"
        elif code == "terminated":
            opts = term_by_oa.get(true_oa[i])
            if opts:
                pc = opts[int(rng.integers(len(opts)))]
            else:
                code = "clean"
        elif code == "out_of_area":
            if ooa:
                pc, true_oa[i] = ooa[int(rng.integers(len(ooa)))]
                hid[i], uprn[i] = "", ""
            else:
                code = "clean"
        elif code == "blank_postcode":
            pc = ""
        pcs[i] = pc
        planted[i] = code
    # letter O / I typed for the digit 0 / 1 that starts the inward code, on every 61st clean row;
    # chosen without a random draw, so the rest of the data stays as it was. The pipeline corrects
    # and flags these (only a digit is legal there).
    for i in range(0, n, 61):
        inward = pcs[i][-3:]
        if planted[i] == "clean" and " " in pcs[i] and inward[:1] in ("0", "1"):
            pcs[i] = pcs[i][:-3] + {"0": "O", "1": "I"}[inward[0]] + inward[1:]
            planted[i] = "typo_o0"
    return pcs, planted, true_oa, hid, uprn


def _uprn_column(uprn: list[str], status: list[str], rng: np.random.Generator) -> list[str]:
    """A UPRN column as some systems hold it: filled for some records, occasionally mistyped
    (never for a record whose address the gazetteer lacks)."""
    out = []
    for u, st, r, b in zip(uprn, status, rng.random(len(uprn)), rng.random(len(uprn)), strict=True):
        if not u or st == "not_in_gazetteer" or r >= UPRN_GIVEN_RATE:
            out.append("")
        else:
            out.append(u[:-2] + u[-1] + u[-2] if b < UPRN_BAD_RATE and u[-1] != u[-2] else u)
    return out


def _address_truth(tr: pd.DataFrame) -> pd.DataFrame:
    """Per row: the UPRN an address matcher should give (blank when the address does not identify
    exactly one gazetteer entry: a flat number missing, an address the gazetteer lacks, no address)
    and how the address was written."""
    ok = tr["uprn"].ne("") & ~tr["address_status"].isin(["", "flat_missing", "not_in_gazetteer"])
    return pd.DataFrame(
        {
            "row_number": tr["row_number"],
            "expected_uprn": tr["uprn"].where(ok, ""),
            "true_uprn": tr["uprn"],
            "address_status": tr["address_status"],
            "uprn_given": tr["uprn_given"],
        }
    )


def _select(
    households: pd.DataFrame, propensity: pd.DataFrame, service: str, rng: np.random.Generator
) -> pd.DataFrame:
    p = propensity[propensity["service"] == service]
    key = "type" if "type" in p.columns and p["type"].notna().all() else "oa21cd"
    prob = households[key].map(p.set_index(key)["propensity"]).fillna(0).to_numpy(float)
    take = rng.random(len(households)) < prob
    return households[take]


def _finish(df: pd.DataFrame, truth: pd.DataFrame, rng: np.random.Generator):
    """Insert exact duplicate rows (always after their original) and blank rows; number the rows."""
    n = len(df)
    n_dup = int(round(n * DUPLICATE_RATE))
    n_blank = int(round(n * BLANK_ROW_RATE))
    cols = list(df.columns)
    rows = df.to_dict("records")
    trows = truth.to_dict("records")
    # each item gets a sort key: original row i at i, a copy of row i at i + offset + 0.5
    items = [(float(i), r, t) for i, (r, t) in enumerate(zip(rows, trows, strict=True))]
    dup_src = sorted(rng.choice(n, n_dup, replace=False).tolist()) if n_dup else []
    for src in dup_src:
        key = min(src + int(rng.integers(0, 50)), n - 1) + 0.5
        items.append((key, dict(rows[src]), dict(trows[src]) | {"planted": "duplicate"}))
    blank_truth = dict.fromkeys(truth.columns, "") | {"planted": "blank_row"}
    for _ in range(n_blank):
        key = int(rng.integers(1, n)) + 0.25
        items.append((key, dict.fromkeys(cols, ""), dict(blank_truth)))
    items.sort(key=lambda it: it[0])
    out = pd.DataFrame([it[1] for it in items], columns=cols)
    tr = pd.DataFrame([it[2] for it in items], columns=list(truth.columns))
    tr.insert(0, "row_number", np.arange(1, len(tr) + 1))
    return out, tr


def _records(sel: pd.DataFrame, extra_rate: float, rng: np.random.Generator) -> pd.DataFrame:
    """One record per selected household plus Poisson extra people/contacts, shuffled."""
    reps = 1 + rng.poisson(extra_rate, len(sel))
    rec = sel.loc[sel.index.repeat(reps)].reset_index(drop=True)
    return rec.iloc[rng.permutation(len(rec))].reset_index(drop=True)


def generate_extracts(
    households: pd.DataFrame,
    directory: pd.DataFrame,
    out_dir: Path,
    truth_dir: Path,
    seed: int,
    propensity: pd.DataFrame | None = None,
) -> dict:
    """Write the five service extracts and their truth; returns {service: {rows, planted}}.

    ``households``: household_id, oa21cd, postcode (pcds form), type, and optionally uprn, saon,
    paon, street, locality, town. ``directory``: pcds, oa21cd and is_live (or doterm, blank when
    live). ``propensity``: type (or oa21cd), service, propensity; default
    :func:`default_propensity`.
    """
    out_dir, truth_dir = Path(out_dir), Path(truth_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    if propensity is None:
        propensity = default_propensity()
    hh = households.copy()
    hh["type"] = hh["type"].astype(int)
    if "uprn" not in hh:
        hh["uprn"] = ""
    hh = hh.sort_values("household_id", kind="stable").reset_index(drop=True)
    d = directory.copy()
    if "is_live" not in d:
        d["is_live"] = d["doterm"].fillna("").astype(str).str.strip().eq("")
    d = d.sort_values("pcds", kind="stable").reset_index(drop=True)
    area_oas = set(hh["oa21cd"].astype(str))
    summary = {}
    for k, service in enumerate(SERVICES):
        rng = np.random.default_rng([seed, 100 + k])
        sel = _select(hh, propensity, service, rng)
        extra = {"stop_smoking": 0.05, "library": 0.12, "contact_centre": 1.4}.get(service, 0.0)
        rec = _records(sel, extra, rng)
        pcs, planted, true_oa, hid, uprn = _dirty_postcodes(rec, d, area_oas, rng)
        truth = pd.DataFrame({"household_id": hid, "uprn": uprn, "true_oa21cd": true_oa, "planted": planted})
        arng = np.random.default_rng([seed, 300 + k])  # own stream: the older columns stay as they were
        addr_status = [""] * len(rec)
        types = rec["type"].to_numpy()
        n = len(rec)
        if service == "stop_smoking":
            l1, l2, l3, addr_status = _address_lines(rec, rng)
            _plant_unknown_addresses(l1, addr_status, rec, arng, UNKNOWN_ADDRESS_RATE)
            sex = np.array(SEX)[rng.choice(len(SEX), n, p=SEX_P)]
            records = pd.Series(types).value_counts().sort_index()
            residents = _residents_by_type(hh)
            age_w = planted_weights(_age_shares(), AGE_TAKEUP, records, residents, AGE_NOT_SAY)
            eth_w = planted_weights(_ethnic_shares(), ETHNIC_TAKEUP, records, residents, ETHNIC_NOT_SAY)
            dis_p = np.where(np.isin(types, [7, 8]), 0.3, 0.16)
            u = rng.random(n)
            dis = np.where(u < 0.02, "Prefer not to say", np.where(u < 0.02 + dis_p, "Yes", "No"))
            df = pd.DataFrame(
                {
                    "Client ID": [f"SS{100000 + i}" for i in range(n)],
                    "Address Line 1": l1,
                    "Address Line 2": l2,
                    "Address Line 3": l3,
                    "Post Code": pcs,
                    "Age Band": _choice(rng, [*AGE_BANDS, NOT_SAY], age_w, types),
                    "Sex": sex,
                    "Ethnic Origin": _choice(rng, [*ETHNIC, NOT_SAY], eth_w, types),
                    "Disability": dis,
                    "Referral Date": [
                        x.strftime("%d/%m/%Y")
                        for x in _dates(rng, n, dt.date(2024, 4, 1), dt.date(2025, 3, 31))
                    ],
                }
            )
        elif service == "council_tax_dd":
            note = np.where(
                rng.random(n) < 0.08, np.array(NOTES, dtype=object)[rng.integers(0, len(NOTES), n)], ""
            )
            df = pd.DataFrame(
                {
                    "Account Ref": [f"CT{50000000 + i * 7}" for i in range(n)],
                    "Payment Method": "Direct Debit",
                    "Postcode": pcs,
                    "Account Holder Note": note,
                }
            )
        elif service == "garden_waste":
            gw = np.where(rng.random(n) < 0.9, "YES", "NO")
            bags = np.where(rng.random(n) < np.where(gw == "YES", 0.35, 0.8), "YES", "NO")
            df = pd.DataFrame(
                {
                    "Subscription No": [f"GW{200000 + i}" for i in range(n)],
                    "Post code": pcs,
                    "Garden waste collection": gw,
                    "Recycling bags request": bags,
                    "Start Date": _dates(rng, n, dt.date(2024, 3, 1), dt.date(2025, 2, 28)),
                }
            )
        elif service == "library":
            l1, l2, l3, addr_status = _address_lines(rec, rng)
            _plant_unknown_addresses(l1, addr_status, rec, arng, UNKNOWN_ADDRESS_RATE)
            df = pd.DataFrame(
                {
                    "Member No": [f"LIB{300000 + i}" for i in range(n)],
                    "Address1": l1,
                    "Address2": l2,
                    "Address3": l3,
                    "Postcode": pcs,
                    "Preferred contact": _choice(rng, CHANNELS_LIBRARY, CHANNEL_BY_TYPE, types),
                }
            )
            df["UPRN"] = _uprn_column(uprn, addr_status, arng)
        else:
            dates = sorted(_dates(rng, n, dt.date(2024, 1, 1), dt.date(2025, 12, 31)))
            df = pd.DataFrame(
                {
                    "Contact ID": [f"CC{700000 + i}" for i in range(n)],
                    "Customer Postcode": pcs,
                    "Channel": _choice(rng, CHANNELS_CONTACT, CHANNEL_BY_TYPE, types),
                    "Contact Date": [x.strftime("%d/%m/%Y") for x in dates],
                }
            )
        truth["address_status"] = addr_status
        truth["uprn_given"] = df["UPRN"] if "UPRN" in df else ""
        # planted outcomes (synth/outcomes.py): a stream of their own, so nothing above shifts
        _outcomes.plant(service, df, truth, types, np.random.default_rng([seed, 500 + k]))
        df, tr = _finish(df, truth, rng)
        _outcomes.write_truth(service, tr, truth_dir)
        if service in ("stop_smoking", "library"):
            _address_truth(tr).to_csv(
                truth_dir / f"{service}_address_truth.csv", index=False, lineterminator="\n"
            )
        tr = tr[["row_number", "household_id", "uprn", "true_oa21cd", "planted"]]
        path = out_dir / FILES[service]
        if service == "garden_waste":
            _write_xlsx(df, path)
        else:
            enc = "cp1252" if service == "council_tax_dd" else "utf-8"
            df.to_csv(path, index=False, encoding=enc, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        tr.to_csv(truth_dir / f"{service}_truth.csv", index=False, lineterminator="\n")
        counts = tr["planted"].value_counts().sort_index()
        summary[service] = {"rows": int(len(df)), "planted": {k2: int(v) for k2, v in counts.items()}}
        logger.info("%s: %d rows", service, len(df))
    propensity.to_csv(truth_dir / "propensity.csv", index=False, lineterminator="\n")
    equality_truth().to_csv(truth_dir / "equality_truth.csv", index=False, lineterminator="\n")
    hh[["household_id", "uprn", "oa21cd", "type"]].to_csv(
        truth_dir / "households.csv", index=False, lineterminator="\n"
    )
    return summary


def _residents_by_type(hh: pd.DataFrame) -> pd.Series:
    """Residents per household type: households x the type's persons per household (as the demo
    census is built)."""
    tot = pd.read_csv(Path(__file__).with_name("type_totals.csv"))
    ratio = tot[tot["table"] == "ts001"].set_index("type")["ratio"]
    counts = hh["type"].value_counts().sort_index()
    return counts * ratio.reindex(counts.index).fillna(ratio.mean())


def equality_truth() -> pd.DataFrame:
    """The planted take-up per resident by age band and ethnic group of the stop-smoking extract
    (relative rates): field, category (as written in the extract), planted_takeup."""
    rows = [("age_band", b, r) for b, r in zip(AGE_BANDS, AGE_TAKEUP, strict=True)]
    rows += [("ethnicity", g, r) for g, r in zip(ETHNIC, ETHNIC_TAKEUP, strict=True)]
    return pd.DataFrame(rows, columns=["field", "category", "planted_takeup"])


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Subscribers"
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([None if (isinstance(v, str) and v == "") else v for v in row])
    for cell in ws["E"][1:]:
        cell.number_format = "DD/MM/YYYY"
    notes = wb.create_sheet("Notes")
    notes.append(["Garden waste subscribers export. Subscriptions run for 12 months from the start date."])
    # fixed workbook metadata so the same seed gives the same file
    fixed = dt.datetime(2025, 4, 1, 9, 0, 0)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "Demoborough Council"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(stable_xlsx(buf.getvalue(), fixed))  # the pipeline's one deterministic writer


def _spread_households(
    pcs: pd.DataFrame, hh_per_oa: pd.Series, types: pd.Series, rng: np.random.Generator
) -> pd.DataFrame:
    """Households over each OA's live postcodes with house number + made-up street."""
    from pipeline.synth.borough import STREET_STEMS, STREET_TYPES

    stems = [f"{s} {t}" for s in STREET_STEMS for t in STREET_TYPES]
    rows = []
    by_oa = {o: sorted(g["pcds"].tolist()) for o, g in pcs.groupby("oa21cd", sort=True)}
    for oa in sorted(hh_per_oa.index):
        n = int(hh_per_oa[oa])
        plist = by_oa.get(oa)
        if not plist or n <= 0:
            continue
        counts = rng.multinomial(n, rng.dirichlet(np.full(len(plist), 3.0)))
        for pc, c in zip(plist, counts, strict=True):
            street = stems[int(rng.integers(len(stems)))]
            for num in range(1, int(c) + 1):
                rows.append((oa, pc, "", str(num), street))
    df = pd.DataFrame(rows, columns=["oa21cd", "postcode", "saon", "paon", "street"])
    df["locality"] = ""
    df["town"] = ""
    df["uprn"] = ""
    df["type"] = df["oa21cd"].map(types).astype(int)
    df["household_id"] = [f"H{i + 1:07d}" for i in range(len(df))]
    return df


def generate_for_real_area(
    postcodes_csv: Path,
    postcode_col: str,
    oa_col: str,
    live_col: str,
    households_csv_ts041: Path,
    types_csv: Path,
    out_dir: Path,
    truth_dir: Path,
    seed: int,
    type_oa_col: str = "Geography_Code",
    type_col: str = "Supergroup",
    propensity: pd.DataFrame | None = None,
) -> dict:
    """Generate the five extracts over a real area from its postcode directory, TS041 and types.

    ``postcodes_csv`` holds one row per postcode with its OA (``oa_col``) and a live flag
    (``live_col``: True/False); ``households_csv_ts041`` is the Nomis TS041 file (households per
    OA); ``types_csv`` gives a type 1-8 per OA (e.g. the 2021 OAC supergroup).
    """
    rng = np.random.default_rng([seed, 7])
    pc = pd.read_csv(postcodes_csv, dtype=str, keep_default_na=False)
    d = pd.DataFrame(
        {
            "pcds": pc[postcode_col].str.strip().str.upper(),
            "oa21cd": pc[oa_col].str.strip(),
            "is_live": pc[live_col].str.strip().str.lower().isin(["true", "1", "yes", "y"]),
        }
    )
    ts = pd.read_csv(households_csv_ts041)
    hh_per_oa = ts.set_index("geography code")[ts.columns[-1]].astype(int)
    ty = pd.read_csv(types_csv, dtype=str)
    types = ty.set_index(type_oa_col)[type_col].astype(int)
    hh_per_oa = hh_per_oa[hh_per_oa.index.isin(types.index)]
    hh = _spread_households(d[d["is_live"] & d["oa21cd"].ne("")], hh_per_oa, types, rng)
    summary = generate_extracts(hh, d, out_dir, truth_dir, seed, propensity)
    summary["households"] = int(len(hh))
    return summary
