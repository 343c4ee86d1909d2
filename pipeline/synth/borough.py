"""Generate the fictional demo borough "Demoborough" (E06009999) in real ONS and council formats.

Everything is synthetic and deterministic from the seed: Output Area and ward boundaries
(GeoPackage, EPSG:27700), the OA -> ward lookup, 46 Census 2021 tables per OA in the Nomis bulk
CSV layout, a council LLPG-style address gazetteer, a postcode directory in the ONSPD layout
(postcode area ``DM``, which does not exist) and, through :mod:`pipeline.synth.extracts`, five
service extracts with planted take-up and realistic dirt. The truth (each OA's latent
neighbourhood type, each household, each extract row) goes to ``truth_dir``.

The census category shares of each neighbourhood type come from ``type_profiles.csv``,
derived from Census 2021 (ONS, OGL v3) and the 2021 OAC (ONS/UCL) for Trafford by
:mod:`pipeline.synth.derive_type_profiles`. The eight types mirror the 2021 OAC supergroups.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from pipeline.config import BNG, WGS84
from pipeline.synth import deprivation as _deprivation
from pipeline.synth import extracts as _extracts
from pipeline.synth import points as _points
from pipeline.synth import survey as _survey

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LAD_CODE = "E06009999"
LAD_NAME = "Demoborough"
NEIGHBOUR_LAD = "E06009998"
CRS = BNG
CENTRE = (430000.0, 390000.0)
N_OA = 400
N_WARDS = 20

#: share of OAs per type, and how strongly each type prefers dense (urban) OAs
TYPE_QUOTA = {1: 0.12, 2: 0.14, 3: 0.10, 4: 0.11, 5: 0.13, 6: 0.15, 7: 0.14, 8: 0.11}
TYPE_URBANITY = {1: -1.0, 2: -1.1, 3: 1.4, 4: 1.2, 5: 0.0, 6: -0.2, 7: 0.3, 8: 0.8}
#: probability that a household lives in a flat, by type
FLAT_SHARE = {1: 0.08, 2: 0.06, 3: 0.55, 4: 0.45, 5: 0.12, 6: 0.15, 7: 0.18, 8: 0.35}

WARD_NAMES = [
    "Ashby Green",
    "Bramley Park",
    "Castlefield Moor",
    "Dunmere",
    "Elmstead",
    "Fairholme",
    "Greystone",
    "Hollins Vale",
    "Ivybridge Fields",
    "Kingsmead",
    "Larkhill",
    "Millbrook",
    "Northwood Heath",
    "Oakley Cross",
    "Priory Gate",
    "Queensway",
    "Riverside",
    "St Anne's",
    "Thornton Hill",
    "Upperby",
    "Westfield",
    "Yewtree",
]
STREET_STEMS = [
    "Acacia",
    "Alder",
    "Ash",
    "Aspen",
    "Balmoral",
    "Beech",
    "Birch",
    "Blackthorn",
    "Bramble",
    "Briar",
    "Brook",
    "Buttercup",
    "Canal",
    "Cedar",
    "Chapel",
    "Cherry",
    "Chestnut",
    "Church",
    "Clover",
    "Coronation",
    "Cotton",
    "Cromwell",
    "Daisy",
    "Dale",
    "Derwent",
    "Elm",
    "Fern",
    "Field",
    "Forge",
    "Foxglove",
    "Gladstone",
    "Glebe",
    "Granby",
    "Hawthorn",
    "Hazel",
    "Heather",
    "Highfield",
    "Holly",
    "Ivy",
    "Jubilee",
    "Juniper",
    "Kestrel",
    "Laburnum",
    "Larch",
    "Laurel",
    "Lilac",
    "Lime",
    "Linden",
    "Maple",
    "Marlborough",
    "Meadow",
    "Mill",
    "Moss",
    "Mulberry",
    "Nelson",
    "Newton",
    "Oak",
    "Orchard",
    "Osborne",
    "Park",
    "Peel",
    "Pine",
    "Poplar",
    "Primrose",
    "Queen's",
    "Railway",
    "Regent",
    "Rowan",
    "Rushton",
    "Sandown",
    "Silver",
    "Spring",
    "Station",
    "Stanley",
    "Sycamore",
    "Thistle",
    "Tulip",
    "Vicarage",
    "Victoria",
    "Walnut",
    "Waterloo",
    "Wellington",
    "Willow",
    "Windsor",
    "Woodland",
    "Wren",
    "York",
    "Albert",
    "Alma",
    "Ashworth",
    "Bankside",
    "Bolton",
    "Carlton",
    "Denton",
    "Egerton",
    "Fletcher",
    "Grafton",
    "Hampden",
]
STREET_TYPES = [
    "Road",
    "Street",
    "Avenue",
    "Close",
    "Lane",
    "Drive",
    "Grove",
    "Crescent",
    "Way",
    "Gardens",
    "Terrace",
    "Walk",
    "Place",
    "Mews",
]
HOUSE_NAMES = [
    "Rose Cottage",
    "The Laurels",
    "Ivy House",
    "Orchard View",
    "The Old Forge",
    "Hillcrest",
    "Woodside",
    "The Willows",
    "Fernlea",
    "Meadow Barn",
]
BLOCK_NAMES = ["Court", "House", "Lodge", "Heights", "Point", "Mansions"]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _fmt(x: float, nd: int = 1) -> str:
    return f"{x:.{nd}f}"


def _borough_outline(rng: np.random.Generator) -> shapely.Polygon:
    theta = np.linspace(0, 2 * np.pi, 181)[:-1]
    ph = rng.uniform(0, 2 * np.pi, 3)
    r = 7300 * (
        1
        + 0.12 * np.sin(2 * theta + ph[0])
        + 0.08 * np.sin(3 * theta + ph[1])
        + 0.04 * np.sin(7 * theta + ph[2])
    )
    x = np.round(CENTRE[0] + 1.1 * r * np.cos(theta), 1)
    y = np.round(CENTRE[1] + 0.9 * r * np.sin(theta), 1)
    return shapely.make_valid(shapely.Polygon(np.c_[x, y]))


def _sample_in(poly, n: int, rng: np.random.Generator, centre=None, sigma=None) -> np.ndarray:
    """n points inside ``poly``: uniform, or Gaussian around ``centre`` when sigma is given."""
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    shapely.prepare(poly)
    while len(out) < n:
        m = max(4 * (n - len(out)), 16)
        if sigma is None:
            p = np.c_[rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)]
        else:
            p = np.asarray(centre) + rng.normal(0, sigma, (m, 2))
        p = p[shapely.contains_xy(poly, p[:, 0], p[:, 1])]
        out = np.vstack([out, p])
    return out[:n]


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 60) -> np.ndarray:
    """Plain deterministic Lloyd's k-means (farthest-point start); returns labels."""
    c = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d = np.min(((x[:, None, :] - np.array(c)[None]) ** 2).sum(-1), axis=1)
        c.append(x[int(np.argmax(d))])
    c = np.array(c)
    lab = np.zeros(len(x), dtype=int)
    for _ in range(iters):
        lab = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
        new = np.array([x[lab == j].mean(0) if (lab == j).any() else c[j] for j in range(k)])
        if np.allclose(new, c):
            break
        c = new
    return lab


def _smooth_field(xy: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    """A smooth random field (random Fourier features), standardised."""
    k = 40
    w = rng.normal(0, 1 / scale, (k, 2))
    b = rng.uniform(0, 2 * np.pi, k)
    f = np.cos((xy - np.array(CENTRE)) @ w.T + b).sum(1)
    return (f - f.mean()) / f.std()


def _assign_types(urban: np.ndarray, xy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Spatially clustered types with fixed quotas (greedy by score)."""
    n = len(urban)
    types = sorted(TYPE_QUOTA)
    quota = {t: int(np.floor(TYPE_QUOTA[t] * n)) for t in types}
    for t in types[: n - sum(quota.values())]:
        quota[t] += 1
    score = np.column_stack([TYPE_URBANITY[t] * urban + 1.1 * _smooth_field(xy, rng, 2200.0) for t in types])
    order = np.argsort(-score, axis=None, kind="stable")
    out = np.zeros(n, dtype=int)
    left = dict(quota)
    for flat in order:
        i, j = divmod(int(flat), len(types))
        t = types[j]
        if out[i] == 0 and left[t] > 0:
            out[i] = t
            left[t] -= 1
    return out


def _build_geography(rng: np.random.Generator) -> dict:
    outline = _borough_outline(rng)
    n_core = int(N_OA * 0.55)
    pts = np.vstack(
        [
            _sample_in(outline, n_core, rng, centre=CENTRE, sigma=2600.0),
            _sample_in(outline, N_OA - n_core, rng),
        ]
    )
    pts = np.round(pts, 1)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=outline, ordered=True)
    polys = [shapely.intersection(g, outline) for g in shapely.get_parts(cells)]
    polys = [shapely.make_valid(shapely.set_precision(p, 0.1)) for p in polys]
    polys = [
        p
        if p.geom_type == "Polygon"
        else max((q for q in shapely.get_parts(p) if q.geom_type == "Polygon"), key=lambda q: q.area)
        for p in polys
    ]
    cent = np.array([[p.centroid.x, p.centroid.y] for p in polys])
    wards = _kmeans(cent, N_WARDS, rng)
    # order wards north-west to south-east and OAs within ward likewise, then give codes
    wkey = {w: (-cent[wards == w, 1].mean() // 1500, cent[wards == w, 0].mean()) for w in range(N_WARDS)}
    ward_order = sorted(range(N_WARDS), key=lambda w: wkey[w])
    wrank = {w: r for r, w in enumerate(ward_order)}
    order = sorted(range(N_OA), key=lambda i: (wrank[wards[i]], -cent[i, 1] // 300, cent[i, 0]))
    oa = pd.DataFrame(
        {
            "oa21cd": [f"E00{900001 + r}" for r in range(N_OA)],
            "ward_idx": [wrank[wards[i]] for i in order],
            "x": cent[order, 0],
            "y": cent[order, 1],
        }
    )
    oa["geometry"] = [polys[i] for i in order]
    oa["area_km2"] = [g.area / 1e6 for g in oa["geometry"]]
    names = list(WARD_NAMES)
    rng.shuffle(names)
    oa["wd23cd"] = [f"E05{900001 + w}" for w in oa["ward_idx"]]
    oa["wd23nm"] = [names[w] for w in oa["ward_idx"]]
    urban = -np.log(oa["area_km2"].to_numpy())
    urban = (urban - urban.mean()) / urban.std()
    oa["type"] = _assign_types(urban, oa[["x", "y"]].to_numpy(), rng)
    hh = np.clip(np.round(rng.normal(125, 18, N_OA)), 90, 170).astype(int)
    oa["households"] = hh
    # LSOAs: chunks of 4-5 consecutive OAs within a ward; MSOAs: chunks of ~5 LSOAs
    lsoa, msoa = [], []
    nl = nm = 0
    for _w, grp in oa.groupby("ward_idx", sort=True):
        n = len(grp)
        k = max(1, round(n / 4.5))
        sizes = np.full(k, n // k)
        sizes[: n % k] += 1
        w_ls = []
        for s in sizes:
            nl += 1
            w_ls.append(f"E01{900000 + nl}")
            lsoa += [w_ls[-1]] * int(s)
        km = max(1, round(k / 5))
        ms_sizes = np.full(km, k // km)
        ms_sizes[: k % km] += 1
        for ls_s in np.split(np.arange(k), np.cumsum(ms_sizes)[:-1]):
            nm += 1
            for li in ls_s:
                msoa += [f"E02{900000 + nm}"] * int(sizes[li])
    oa["lsoa21cd"] = lsoa
    oa["msoa21cd"] = msoa
    # postcode districts DM1 (centre) .. DM9 by angle
    dx, dy = oa["x"] - CENTRE[0], oa["y"] - CENTRE[1]
    ang = (np.degrees(np.arctan2(dy, dx)) + 360) % 360
    dist = np.hypot(dx, dy)
    district = np.where(dist < 2200, 1, 2 + (ang // 45).astype(int))
    oa["district"] = district
    return {"outline": outline, "oa": oa}


def _oa_sectors(oa: pd.DataFrame) -> np.ndarray:
    """Postcode sector digit per OA: consecutive OAs of a district share a sector."""
    sector = np.zeros(len(oa), dtype=int)
    for _d, grp in oa.groupby("district", sort=True):
        idx = grp.sort_values(["y", "x"], ascending=[False, True]).index.to_numpy()
        k = min(9, max(2, round(len(idx) / 7)))
        for s, chunk in enumerate(np.array_split(idx, k)):
            sector[chunk] = s + 1
    return sector


def _unit_codes(rng: np.random.Generator, n: int, used: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        c = INWARD_LETTERS[rng.integers(20)] + INWARD_LETTERS[rng.integers(20)]
        if c not in used:
            used.add(c)
            out.append(c)
    return out


def _build_addresses(geo: dict, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households (one per address) and the postcode directory rows of the borough."""
    oa = geo["oa"]
    sectors = _oa_sectors(oa)
    used_units: dict[str, set[str]] = {}
    stems = [f"{s} {t}" for s in STREET_STEMS for t in STREET_TYPES]
    street_pool = list(rng.permutation(stems))
    rows, pcs = [], []
    block_no = 0
    for i, r in oa.iterrows():
        outward = f"DM{r.district}"
        sector_key = f"{outward} {sectors[i]}"
        used = used_units.setdefault(sector_key, set())
        n_hh = int(r.households)
        pts = np.round(_sample_in(r.geometry, n_hh, rng), 1)
        n_pc = max(3, int(round(n_hh / 14.5)))
        seeds = pts[rng.choice(n_hh, n_pc, replace=False)]
        lab = np.argmin(((pts[:, None, :] - seeds[None]) ** 2).sum(-1), axis=1)
        units = _unit_codes(rng, n_pc, used)
        n_st = max(1, int(np.ceil(n_pc / 3)))
        streets = [street_pool.pop() for _ in range(n_st)]
        next_no = dict.fromkeys(streets, 1)
        for p in range(n_pc):
            pcds = f"{sector_key}{units[p]}"
            members = np.flatnonzero(lab == p)
            members = members[np.lexsort((pts[members, 0], -pts[members, 1]))]
            street = streets[p % n_st]
            pcs.append({"pcds": pcds, "oa21cd": r.oa21cd, "live": True})
            k = 0
            while k < len(members):
                if rng.random() < FLAT_SHARE[int(r.type)] and len(members) - k >= 3:
                    size = int(min(len(members) - k, rng.integers(4, 13)))
                    block_no += 1
                    if rng.random() < 0.5:
                        paon = f"{street.split()[0]} {BLOCK_NAMES[block_no % len(BLOCK_NAMES)]}"
                    else:
                        paon = str(next_no[street])
                        next_no[street] += 1
                    for f in range(size):
                        rows.append((r.oa21cd, pcds, f"Flat {f + 1}", paon, street, members[k + f]))
                    k += size
                else:
                    if rng.random() < 0.02:
                        paon = HOUSE_NAMES[int(rng.integers(len(HOUSE_NAMES)))]
                    else:
                        paon = str(next_no[street])
                        next_no[street] += 1
                    rows.append((r.oa21cd, pcds, "", paon, street, members[k]))
                    k += 1
        geo.setdefault("points", {})[r.oa21cd] = pts
    hh = pd.DataFrame(rows, columns=["oa21cd", "postcode", "saon", "paon", "street", "pt"])
    xy = np.vstack([geo["points"][o][p] for o, p in zip(hh["oa21cd"], hh["pt"], strict=True)])
    hh["x"], hh["y"] = xy[:, 0], xy[:, 1]
    hh = hh.drop(columns="pt")
    oa_idx = oa.set_index("oa21cd")
    hh["locality"] = hh["oa21cd"].map(oa_idx["wd23nm"])
    hh["town"] = LAD_NAME
    hh["type"] = hh["oa21cd"].map(oa_idx["type"]).astype(int)
    hh["_paon"] = hh["paon"].str.zfill(6)
    hh["_saon"] = hh["saon"].str.replace("Flat ", "").str.zfill(4)
    hh = hh.sort_values(["oa21cd", "postcode", "street", "_paon", "_saon"], kind="stable")
    hh = hh.drop(columns=["_paon", "_saon"]).reset_index(drop=True)
    hh["uprn"] = [str(990000000001 + i) for i in range(len(hh))]
    hh["household_id"] = [f"DMH{i + 1:06d}" for i in range(len(hh))]
    # terminated postcodes: ~300, each in one OA, in the OA's sector
    n_term = 300
    term_oas = rng.choice(len(oa), n_term, replace=True)
    for j in sorted(term_oas):
        r = oa.iloc[j]
        sector_key = f"DM{r.district} {sectors[j]}"
        unit = _unit_codes(rng, 1, used_units.setdefault(sector_key, set()))[0]
        pt = np.round(_sample_in(r.geometry, 1, rng)[0], 0)
        pcs.append({"pcds": f"{sector_key}{unit}", "oa21cd": r.oa21cd, "live": False, "x": pt[0], "y": pt[1]})
    pc = pd.DataFrame(pcs)
    return hh, pc


def _directory(hh: pd.DataFrame, pc: pd.DataFrame, oa: pd.DataFrame, outline, rng) -> pd.DataFrame:
    cen = hh.groupby("postcode")[["x", "y"]].mean().round(0)
    pc = pc.copy()
    live = pc["live"].to_numpy()
    pc.loc[live, "x"] = pc.loc[live, "pcds"].map(cen["x"]).to_numpy()
    pc.loc[live, "y"] = pc.loc[live, "pcds"].map(cen["y"]).to_numpy()
    o = oa.set_index("oa21cd")
    pc["lsoa21cd"] = pc["oa21cd"].map(o["lsoa21cd"])
    pc["msoa21cd"] = pc["oa21cd"].map(o["msoa21cd"])
    pc["osward"] = pc["oa21cd"].map(o["wd23cd"])
    pc["oslaua"] = LAD_CODE
    n = len(pc)
    pc["dointr"] = [
        f"{y}{m:02d}" for y, m in zip(rng.integers(1980, 2016, n), rng.integers(1, 13, n), strict=True)
    ]
    pc["doterm"] = [
        "" if lv else f"{y}{m:02d}"
        for lv, y, m in zip(live, rng.integers(2016, 2025, n), rng.integers(1, 13, n), strict=True)
    ]
    pc["usertype"] = 0
    big = rng.choice(np.flatnonzero(live), 12, replace=False)
    pc.loc[pc.index[big], "usertype"] = 1
    # out-of-area postcodes of a neighbouring fictional LAD, east of the borough
    ext = []
    minx, miny, maxx, maxy = outline.bounds
    used: dict[str, set[str]] = {}
    for i in range(50):
        dist = 10 + i % 2
        sec = 1 + (i // 2) % 5
        key = f"DM{dist} {sec}"
        unit = _unit_codes(rng, 1, used.setdefault(key, set()))[0]
        ext.append(
            {
                "pcds": f"{key}{unit}",
                "oa21cd": f"E00{990001 + i // 4}",
                "live": True,
                "x": round(maxx + rng.uniform(300, 3000)),
                "y": round(rng.uniform(miny + 2000, maxy - 2000)),
                "lsoa21cd": f"E01{990001 + i // 16}",
                "msoa21cd": "E02990001",
                "osward": "E05990001",
                "oslaua": NEIGHBOUR_LAD,
                "dointr": "199801",
                "doterm": "",
                "usertype": 0,
            }
        )
    pc = pd.concat([pc, pd.DataFrame(ext)], ignore_index=True)
    tr = Transformer.from_crs(CRS, WGS84, always_xy=True)
    lon, lat = tr.transform(pc["x"].to_numpy(float), pc["y"].to_numpy(float))
    outw = pc["pcds"].str.split(" ").str[0]
    inw = pc["pcds"].str.split(" ").str[1]
    out = pd.DataFrame(
        {
            "pcd": outw.str.ljust(4) + inw,
            "pcd2": outw.str.ljust(4) + " " + inw,
            "pcds": pc["pcds"],
            "dointr": pc["dointr"],
            "doterm": pc["doterm"],
            "usertype": pc["usertype"].astype(int),
            "oseast1m": pc["x"].round(0).astype(int),
            "osnrth1m": pc["y"].round(0).astype(int),
            "osgrdind": 1,
            "oa21cd": pc["oa21cd"],
            "lsoa21cd": pc["lsoa21cd"],
            "msoa21cd": pc["msoa21cd"],
            "osward": pc["osward"],
            "oslaua": pc["oslaua"],
            "lat": [f"{v:.6f}" for v in lat],
            "long": [f"{v:.6f}" for v in lon],
        }
    )
    return out.sort_values("pcds", kind="stable").reset_index(drop=True)


def _load_profiles() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    struct = pd.read_csv(HERE / "census_structure.csv", keep_default_na=False)
    prof = pd.read_csv(HERE / "type_profiles.csv")
    tot = pd.read_csv(HERE / "type_totals.csv")
    return struct, prof, tot


def _write_census(oa: pd.DataFrame, out: Path, rng: np.random.Generator, concentration: float = 100.0) -> int:
    """Write the 46 Nomis-layout tables; returns the number of tables."""
    struct, prof, tot = _load_profiles()
    out.mkdir(parents=True, exist_ok=True)
    types = oa["type"].to_numpy()
    hh = oa["households"].to_numpy()
    ratio = tot.pivot(index="type", columns="table", values="ratio")
    # an OA-level factor shared by all person-based tables keeps their totals consistent
    f_oa = np.exp(rng.normal(0, 0.07, len(oa)))
    persons = np.round(hh * ratio.loc[types, "ts001"].to_numpy() * f_oa).astype(int)
    tables = sorted(struct["table"].unique())
    for table in tables:
        s = struct[struct["table"] == table].sort_values("col")
        headers = s["header"].tolist()
        n_col = len(headers)
        vals = np.zeros((len(oa), n_col), dtype=np.int64)
        role = s["role"].tolist()
        if role == ["households"]:
            vals[:, 0] = hh
            body = pd.DataFrame(vals, columns=headers)
        elif role == ["density"]:
            dens = persons / oa["area_km2"].to_numpy()
            body = pd.DataFrame({headers[0]: [_fmt(v) for v in dens]})
        else:
            leaves = s.loc[s["role"] == "leaf", "col"].tolist()
            p = prof[prof["table"] == table].pivot(index="type", columns="col", values="share")
            p = p[leaves]
            shares = p.loc[types].to_numpy() + 2e-4
            shares = shares / shares.sum(1, keepdims=True)
            r = ratio.loc[types, table].to_numpy()
            if abs(float(np.median(r)) - 1) < 0.12 and table != "ts001":
                total = np.round(hh * r).astype(np.int64)  # household-based table
            elif table == "ts001":
                total = persons.astype(np.int64)
            else:
                ppl = ratio.loc[types, "ts001"].to_numpy()
                total = np.round(persons * r / ppl).astype(np.int64)
            g = rng.gamma(concentration * shares)
            g = g / g.sum(1, keepdims=True)
            counts = rng.multinomial(total, g)
            vals[:, leaves] = counts
            parent = s["parent"].astype(int).tolist()
            depth = {}
            for c in range(n_col):
                d, q = 0, parent[c]
                while q >= 0:
                    d, q = d + 1, parent[q]
                depth[c] = d
            # fill parents bottom-up: deepest columns first
            for c in sorted(range(n_col), key=lambda c: -depth[c]):
                if parent[c] >= 0:
                    vals[:, parent[c]] += vals[:, c]
            body = pd.DataFrame(vals, columns=headers)
        front = pd.DataFrame({"date": 2021, "geography": oa["oa21cd"], "geography code": oa["oa21cd"]})
        df = pd.concat([front.reset_index(drop=True), body.reset_index(drop=True)], axis=1)
        df.to_csv(out / f"census2021-{table}-oa-demo.csv", index=False, lineterminator="\n")
    return len(tables)


def _write_geo(oa: pd.DataFrame, outline, out: Path) -> None:
    (out / "boundaries").mkdir(parents=True, exist_ok=True)
    (out / "lookups").mkdir(parents=True, exist_ok=True)
    g = gpd.GeoDataFrame(
        {"OA21CD": oa["oa21cd"], "LAD22CD": LAD_CODE, "LAD22NM": LAD_NAME},
        geometry=list(oa["geometry"]),
        crs=CRS,
    )
    for name in ("demo_oa21.gpkg", "demo_wards23.gpkg", "demo_lad.gpkg"):
        (out / "boundaries" / name).unlink(missing_ok=True)
    g.to_file(out / "boundaries" / "demo_oa21.gpkg", driver="GPKG", layer="demo_oa21")
    w = (
        oa.groupby(["wd23cd", "wd23nm"], sort=True)["geometry"]
        .apply(lambda s: shapely.set_precision(shapely.union_all(list(s)), 0.1))
        .reset_index()
    )
    wg = gpd.GeoDataFrame(
        {"WD23CD": w["wd23cd"], "WD23NM": w["wd23nm"], "LAD23CD": LAD_CODE, "LAD23NM": LAD_NAME},
        geometry=list(w["geometry"]),
        crs=CRS,
    )
    wg.to_file(out / "boundaries" / "demo_wards23.gpkg", driver="GPKG", layer="demo_wards23")
    lad = gpd.GeoDataFrame({"LAD22CD": [LAD_CODE], "LAD22NM": [LAD_NAME]}, geometry=[outline], crs=CRS)
    lad.to_file(out / "boundaries" / "demo_lad.gpkg", driver="GPKG", layer="demo_lad")
    lk = pd.DataFrame(
        {
            "OA21CD": oa["oa21cd"],
            "WD23CD": oa["wd23cd"],
            "WD23NM": oa["wd23nm"],
            "LAD23CD": LAD_CODE,
            "LAD23NM": LAD_NAME,
        }
    )
    lk.to_csv(out / "lookups" / "demo_oa21_ward23_lookup.csv", index=False, lineterminator="\n")


def generate_demo(out_dir: Path, truth_dir: Path, seed: int = 2021) -> dict:
    """Generate every raw file of the demo borough into ``out_dir`` and the truth into ``truth_dir``.

    Returns a summary dict of counts. The same seed gives byte-identical CSV and XLSX content.
    """
    t0 = time.perf_counter()
    out_dir, truth_dir = Path(out_dir), Path(truth_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    geo = _build_geography(rng)
    oa = geo["oa"]
    logger.info("Demoborough: %d OAs, %d wards", len(oa), oa["wd23cd"].nunique())
    hh, pc = _build_addresses(geo, rng)
    oa["households"] = hh.groupby("oa21cd").size().reindex(oa["oa21cd"]).to_numpy()
    directory = _directory(hh, pc, oa, geo["outline"], rng)

    _write_geo(oa, geo["outline"], out_dir)
    n_tables = _write_census(oa, out_dir / "census2021", np.random.default_rng([seed, 1]))

    (out_dir / "postcodes").mkdir(parents=True, exist_ok=True)
    directory.to_csv(out_dir / "postcodes" / "ONSPD_DEMO_2025.csv", index=False, lineterminator="\n")
    (out_dir / "gazetteer").mkdir(parents=True, exist_ok=True)
    gaz = pd.DataFrame(
        {
            "UPRN": hh["uprn"],
            "SAON": hh["saon"],
            "PAON": hh["paon"],
            "STREET": hh["street"],
            "LOCALITY": hh["locality"],
            "TOWN": hh["town"],
            "POSTCODE": hh["postcode"],
            "X": [_fmt(v) for v in hh["x"]],
            "Y": [_fmt(v) for v in hh["y"]],
        }
    )
    gaz.to_csv(out_dir / "gazetteer" / "demo_llpg.csv", index=False, lineterminator="\n")

    oa[["oa21cd", "type", "households"]].rename(columns={"oa21cd": "OA21CD"}).to_csv(
        truth_dir / "oa_types.csv", index=False, lineterminator="\n"
    )
    ext = _extracts.generate_extracts(
        hh[
            [
                "household_id",
                "uprn",
                "oa21cd",
                "postcode",
                "saon",
                "paon",
                "street",
                "locality",
                "town",
                "type",
            ]
        ],
        directory.assign(is_live=directory["doterm"].eq(""))[["pcds", "oa21cd", "doterm", "is_live"]],
        out_dir / "extracts",
        truth_dir,
        seed=seed,
        propensity=_extracts.default_propensity(),
    )
    # service points and OA centroids: a random stream of their own (synth/points.py)
    points = _points.write_points(out_dir, oa, hh, directory, seed=seed)
    # fictional Indices of Deprivation derived from the planted types: a random stream of its own
    deprivation = _deprivation.write_deprivation(out_dir, truth_dir, oa, LAD_CODE, LAD_NAME,
                                                 list(_extracts.SERVICES), seed=seed)
    # the planted resident survey: random streams of its own (synth/survey.py)
    survey = _survey.write_survey(out_dir, truth_dir, oa.rename(columns={"wd23cd": "ward"}), directory,
                                  seed=seed)
    summary = {
        "output_areas": int(len(oa)),
        "wards": int(oa["wd23cd"].nunique()),
        "lsoas": int(oa["lsoa21cd"].nunique()),
        "households": int(len(hh)),
        "postcodes_live": int((directory["doterm"].eq("") & directory["oslaua"].eq(LAD_CODE)).sum()),
        "postcodes_terminated": int(directory["doterm"].ne("").sum()),
        "postcodes_out_of_area": int(directory["oslaua"].ne(LAD_CODE).sum()),
        "census_tables": n_tables,
        "types": {int(k): int(v) for k, v in oa["type"].value_counts().sort_index().items()},
        "extracts": ext,
        "service_points": points,
        "deprivation": deprivation,
        "survey": survey,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    logger.info("Demo data written to %s in %.1f s", out_dir, summary["seconds"])
    return summary
