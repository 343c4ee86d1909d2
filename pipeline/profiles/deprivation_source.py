"""The Indices of Deprivation as published, read by their headers, and each Output Area's LSOA.

England: MHCLG's English Indices of Deprivation 2025, File 7 ('All ranks, scores, deciles and
population denominators', File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv): one
row per LSOA 2021, headed 'LSOA code (2021)', 'Index of Multiple Deprivation (IMD) Score', '... Rank
(where 1 is most deprived)', '... Decile (where 1 is most deprived 10% of LSOAs)' and the same three
for each domain ('Income', 'Employment', 'Education, Skills and Training', 'Health Deprivation and
Disability', 'Crime', 'Barriers to Housing and Services', 'Living Environment'). IoD 2019's File 7
has the same headers with 'LSOA code (2011)': it is recognised, and refused for a census 2021
geography with the fix.

Wales: the Welsh Government's 'WIMD index and domain ranks by small area' (a sheet saved as CSV or
.xlsx): 'LSOA code', 'WIMD 2025' (the rank, 1 = most deprived) and a rank per domain ('Income',
'Employment', 'Health', 'Education', 'Access to Services', 'Housing', 'Community Safety', 'Physical
Environment'). It publishes ranks; its deciles are the Welsh Government's own definition, decile =
ceil(10 * rank / number of LSOAs), and the notes say so. WIMD 2025 is on LSOA 2021 (1,917 LSOAs),
WIMD 2019 on LSOA 2011.

Deciles are as published (1 = most deprived), never re-ranked. The area's local quintiles are the
area's own LSOAs ranked by their national IMD rank (`deprivation.local_quintiles`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import RunConfig
from pipeline.config.deprivation import IndexFile
from pipeline.errors import InsightError
from pipeline.executor import execute, ident

IMD = "imd"
#: English domains: key -> the published column stem
ENGLAND_DOMAINS = {
    "income": "Income", "employment": "Employment", "education": "Education, Skills and Training",
    "health": "Health Deprivation and Disability", "crime": "Crime",
    "housing_services": "Barriers to Housing and Services", "living_environment": "Living Environment",
}
#: Welsh domains: key -> the published rank column
WALES_DOMAINS = {
    "income": "Income", "employment": "Employment", "health": "Health", "education": "Education",
    "access_services": "Access to Services", "housing": "Housing", "community_safety": "Community Safety",
    "physical_environment": "Physical Environment",
}
DOMAIN_LABELS = {
    "imd": "Index of Multiple Deprivation", "income": "Income", "employment": "Employment",
    "education": "Education, skills and training", "health": "Health deprivation and disability",
    "crime": "Crime", "housing_services": "Barriers to housing and services",
    "living_environment": "Living environment", "access_services": "Access to services",
    "housing": "Housing", "community_safety": "Community safety",
    "physical_environment": "Physical environment",
}
ENGLAND_LSOA = re.compile(r"^LSOA code \((\d{4})\)$", re.IGNORECASE)
WALES_LSOA = re.compile(r"^LSOA code$", re.IGNORECASE)
WALES_RANK = re.compile(r"^WIMD (\d{4})$", re.IGNORECASE)
RANK = " Rank (where 1 is most deprived)"
DECILE = " Decile (where 1 is most deprived 10% of LSOAs)"
IMD_STEM = "Index of Multiple Deprivation (IMD)"
#: LSOAs ranked: England (IoD 2025, LSOA 2021; IoD 2019 had 32,844) and Wales by WIMD release
ENGLAND_LSOAS = 33_755
WALES_LSOAS = {2019: 1_909, 2025: 1_917}
ENGLISH_RELEASES = {"2011": "IoD 2019 (or earlier), LSOA 2011", "2021": "IoD 2025, LSOA 2021"}


class DeprivationError(InsightError):
    """A deprivation file that cannot be read as published, or that does not fit the area."""


@dataclass
class IndexTable:
    """One nation's index per LSOA: lsoa21cd, nation, imd_rank, imd_decile, imd_score (England) and
    <domain>_rank / <domain>_decile; its release, LSOA vintage and notes."""

    frame: pd.DataFrame
    nation: str
    release: str
    vintage: str
    path: Path
    notes: list[str] = field(default_factory=list)


def _read(spec: IndexFile) -> pd.DataFrame:
    path = Path(spec.path)
    if not path.exists():
        raise DeprivationError(f"deprivation file {path}: not found. Fix: correct the path in the config's "
                               "deprivation block")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = pd.read_excel(path, sheet_name=spec.sheet or 0, dtype=str)
    elif path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        raise DeprivationError(f"deprivation file {path}: {path.suffix!r} is not read (allowed: .csv, "
                               ".xlsx). Fix: save the published sheet as CSV or .xlsx")
    frame.columns = [" ".join(str(c).split()) for c in frame.columns]  # the published headers' stray spaces
    return frame


def recognise(columns: list[str]) -> str | None:
    """'england' or 'wales' when a header is one of the published layouts, else None."""
    cols = [" ".join(str(c).split()) for c in columns]
    if any(ENGLAND_LSOA.match(c) for c in cols) and f"{IMD_STEM}{RANK}" in cols:
        return "england"
    if any(WALES_LSOA.match(c) for c in cols) and any(WALES_RANK.match(c) for c in cols):
        return "wales"
    return None


def _integers(frame: pd.DataFrame, col: str, path: Path, low: int, high: int) -> pd.Series:
    values = pd.to_numeric(frame[col].astype(str).str.strip(), errors="coerce")
    bad = values.isna() | (values < low) | (values > high) | (values != values.round())
    if bad.any():
        row = int(bad.idxmax())
        raise DeprivationError(
            f"deprivation file {path}, row {row + 2}, column {col!r}: {frame[col].iloc[row]!r} is not a "
            f"whole number from {low} to {high}. Fix: use the file as published (ranks and deciles unedited)")
    return values.astype(int)


def _english(frame: pd.DataFrame, path: Path) -> IndexTable:
    lsoa_col = next(c for c in frame.columns if ENGLAND_LSOA.match(c))
    vintage = ENGLAND_LSOA.match(lsoa_col).group(1)
    n = len(frame)
    out = pd.DataFrame({"lsoa21cd": frame[lsoa_col].str.strip(), "nation": "england"})
    stems = {IMD: IMD_STEM, **ENGLAND_DOMAINS}
    missing = [f"{s}{suffix}" for s in stems.values() for suffix in (RANK, DECILE)
               if f"{s}{suffix}" not in frame.columns]
    if missing:
        raise DeprivationError(f"deprivation file {path}: the IoD File 7 layout lacks {missing}. Fix: use "
                               "File 7 (all ranks, scores, deciles and population denominators) as published")
    for key, stem in stems.items():
        out[f"{key}_rank"] = _integers(frame, f"{stem}{RANK}", path, 1, max(n, ENGLAND_LSOAS))
        out[f"{key}_decile"] = _integers(frame, f"{stem}{DECILE}", path, 1, 10)
    score = f"{IMD_STEM} Score"
    if score in frame.columns:
        out["imd_score"] = pd.to_numeric(frame[score], errors="coerce")
    release = ENGLISH_RELEASES.get(vintage, f"LSOA {vintage}")
    return IndexTable(out, "england", f"English Indices of Deprivation ({release})", vintage, path)


def _welsh(frame: pd.DataFrame, path: Path) -> IndexTable:
    lsoa_col = next(c for c in frame.columns if WALES_LSOA.match(c))
    rank_col = next(c for c in frame.columns if WALES_RANK.match(c))
    year = int(WALES_RANK.match(rank_col).group(1))
    vintage = "2021" if year >= 2025 else "2011"
    n = WALES_LSOAS.get(year, len(frame))  # the nation's LSOAs, also when the file is cut to an area
    out = pd.DataFrame({"lsoa21cd": frame[lsoa_col].str.strip(), "nation": "wales"})
    ranks = {IMD: rank_col, **{k: c for k, c in WALES_DOMAINS.items() if c in frame.columns}}
    for key, col in ranks.items():
        out[f"{key}_rank"] = _integers(frame, col, path, 1, n)
        out[f"{key}_decile"] = [math.ceil(10 * r / n) for r in out[f"{key}_rank"]]
    note = (f"WIMD {year}: the Welsh Government publishes ranks; deciles are its definition, "
            f"ceil(10 x rank / {n:,} LSOAs), 1 = most deprived.")
    return IndexTable(out, "wales", f"Welsh Index of Multiple Deprivation {year}", vintage, path, [note])


def read_index(spec: IndexFile, nation: str) -> IndexTable:
    """One nation's file, recognised by its header; refused naming the file when it is not the layout."""
    frame = _read(spec)
    kind = recognise(list(frame.columns))
    if kind != nation:
        want = ("the IoD 2025 File 7 layout ('LSOA code (2021)', 'Index of Multiple Deprivation (IMD) Rank "
                "(where 1 is most deprived)', ...)" if nation == "england"
                else "the WIMD ranks layout ('LSOA code', 'WIMD 2025', 'Income', ...)")
        raise DeprivationError(f"deprivation file {spec.path}: its header is not {want}. Fix: give "
                               f"deprivation.{nation} the publisher's file as published")
    table = _english(frame, Path(spec.path)) if nation == "england" else _welsh(frame, Path(spec.path))
    dup = table.frame["lsoa21cd"].duplicated()
    if dup.any():
        raise DeprivationError(f"deprivation file {spec.path}, row {int(dup.idxmax()) + 2}: LSOA "
                               f"{table.frame['lsoa21cd'][dup].iloc[0]} is listed twice. Fix: use the file "
                               "as published (one row per LSOA)")
    return table


def directory_lsoa_sql(oa: str, lsoa: str) -> str:
    """Each Output Area's LSOA(s) in the postcode directory file $1 (every postcode of the OA)."""
    return (f"SELECT {ident(oa)} AS oa21cd, {ident(lsoa)} AS lsoa21cd, count(*) AS postcodes "
            f"FROM read_csv($1, header = true, all_varchar = true) "
            f"WHERE {ident(oa)} IS NOT NULL AND {ident(lsoa)} IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2")


def oa_lsoa(con: duckdb.DuckDBPyConnection, cfg: RunConfig, oas: list[str]) -> pd.DataFrame:
    """oa21cd -> lsoa21cd for the area's OAs, from the config's lookup or the postcode directory.
    Each OA nests in one LSOA 2021: an OA with none, or with two, is an error naming it."""
    dep = cfg.deprivation
    if dep.oa_to_lsoa is not None:
        lk = dep.oa_to_lsoa
        frame = pd.read_csv(lk.path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        absent = [c for c in (lk.oa_column, lk.lsoa_column) if c not in frame.columns]
        if absent:
            raise DeprivationError(f"OA to LSOA lookup {lk.path}: no column {absent} (columns: "
                                   f"{list(frame.columns)[:8]}). Fix: name its columns in "
                                   "deprivation.oa_to_lsoa")
        pairs = frame[[lk.oa_column, lk.lsoa_column]].drop_duplicates()
        pairs.columns = ["oa21cd", "lsoa21cd"]
        source = str(lk.path)
    else:
        spec = cfg.geography.postcode_directory
        oa_col = spec.columns.oa or "oa21cd"
        header = pd.read_csv(spec.path, nrows=0, encoding="utf-8-sig").columns
        if dep.directory_lsoa_column not in header:
            raise DeprivationError(
                f"postcode directory {spec.path}: no column {dep.directory_lsoa_column!r} to place each "
                "Output Area in its LSOA. Fix: set deprivation.directory_lsoa_column (ONSPD/NSPL: lsoa21cd), "
                "or give deprivation.oa_to_lsoa (the ONS OA21 to LSOA21 lookup)")
        pairs = execute(con, "deprivation_oa_lsoa", directory_lsoa_sql(oa_col, dep.directory_lsoa_column),
                        [str(spec.path)], fetch="df")[["oa21cd", "lsoa21cd"]]
        source = str(spec.path)
    pairs = pairs[pairs["oa21cd"].isin(set(oas))]
    twice = pairs[pairs["oa21cd"].duplicated(keep=False)]
    if len(twice):
        raise DeprivationError(f"{source}: Output Area {twice['oa21cd'].iloc[0]} is in more than one LSOA "
                               f"({sorted(twice['lsoa21cd'].iloc[:2])}); an OA 2021 nests in one LSOA 2021. "
                               "Fix: give deprivation.oa_to_lsoa (the ONS best-fit lookup)")
    none = sorted(set(oas) - set(pairs["oa21cd"]))
    if none:
        raise DeprivationError(f"{source}: {len(none)} Output Area(s) of the area have no LSOA ({none[:5]}). "
                               "Fix: give deprivation.oa_to_lsoa (the ONS OA21 to LSOA21 lookup)")
    return pairs.reset_index(drop=True)


def check_vintage(tables: list[IndexTable], lsoas: list[str]) -> None:
    """The index's LSOAs against the census geography's (LSOA 2021): refused with the fix when the
    file is on LSOA 2011 boundaries or lacks the area's LSOAs."""
    known = set().union(*(set(t.frame["lsoa21cd"]) for t in tables))
    missing = sorted(set(lsoas) - known)
    if not missing:
        return
    old = [t for t in tables if t.vintage != "2021"]
    if old:
        t = old[0]
        raise DeprivationError(
            f"deprivation file {t.path}: {t.release} is on LSOA {t.vintage} boundaries, and the census "
            f"geography is LSOA 2021: {len(missing)} of the area's {len(set(lsoas))} LSOAs are not in it "
            f"({missing[:3]}). "
            "Fix: use the release on LSOA 2021, the English Indices of Deprivation 2025 File 7 "
            "(https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025) or WIMD 2025 "
            "(https://www.gov.wales/welsh-index-multiple-deprivation)")
    raise DeprivationError(
        f"deprivation: {len(missing)} of the area's {len(set(lsoas))} LSOAs are in no deprivation file given "
        f"({missing[:5]}). Fix: give the index of their nation (deprivation.england for E01 codes, "
        "deprivation.wales for W01)")


def area_index(con: duckdb.DuckDBPyConnection, cfg: RunConfig,
               oas: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """One row per OA of the area: oa21cd, lsoa21cd, nation and every rank and decile of its LSOA,
    with `imd_local_quintile`; and the notes that travel with the deprivation tables."""
    dep = cfg.deprivation
    tables = [read_index(spec, nation) for nation, spec in (("england", dep.england), ("wales", dep.wales))
              if spec is not None]
    pairs = oa_lsoa(con, cfg, oas)
    check_vintage(tables, list(pairs["lsoa21cd"]))
    index = pd.concat([t.frame for t in tables], ignore_index=True)
    index = index[index["lsoa21cd"].isin(set(pairs["lsoa21cd"]))].copy()
    index["imd_local_quintile"] = local_quintiles(index)
    index["imd_local_decile"] = local_quintiles(index, groups=10)
    notes = [f"Deprivation: {t.release} ({t.path.name}); deciles as published, 1 = most deprived."
             for t in tables]
    if len(tables) > 1:
        notes.append("England's and Wales's deciles rank each nation's LSOAs separately: a decile of one is "
                     "not the same level of deprivation as the other's.")
    notes += [n for t in tables for n in t.notes]
    return pairs.merge(index, on="lsoa21cd", how="left"), notes


def local_quintiles(index: pd.DataFrame, groups: int = 5) -> list[int]:
    """The area's LSOAs ranked by their national IMD rank (1 = most deprived; ties by code) and cut
    into `groups` of as equal a number of LSOAs as can be: group = floor(groups (r - 1) / n) + 1
    (quintiles; with groups=10 the local deciles of the segment guide)."""
    order = index.sort_values(["imd_rank", "lsoa21cd"]).index
    n = len(order)
    local = pd.Series(range(1, n + 1), index=order)
    return [groups * (int(local[i]) - 1) // n + 1 for i in index.index]


def problems(cfg: RunConfig) -> list[str]:
    """`insight validate`'s check of the deprivation block: each file read as published (its header,
    ranks and deciles) and, when an OA -> LSOA lookup is given, the vintage of its LSOAs. All found
    at once, each naming the config key, the file and the fix."""
    dep = cfg.deprivation
    if dep is None:
        return []
    out, tables = [], []
    for nation, spec in (("england", dep.england), ("wales", dep.wales)):
        if spec is None:
            continue
        try:
            tables.append(read_index(spec, nation))
        except (DeprivationError, OSError, ValueError) as exc:
            out.append(f"deprivation.{nation}: {exc}")
    if dep.oa_to_lsoa is not None and tables and not out:
        try:
            frame = pd.read_csv(dep.oa_to_lsoa.path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                usecols=[dep.oa_to_lsoa.lsoa_column])
            check_vintage(tables, list(frame[dep.oa_to_lsoa.lsoa_column].unique()))
        except (DeprivationError, OSError, ValueError) as exc:
            out.append(f"deprivation.oa_to_lsoa: {exc}")
    return out
