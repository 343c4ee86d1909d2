"""Bring your own classification: the official OAC (OA-keyed) or a Mosaic/Acorn-style lookup
keyed by postcode or UPRN, with a code -> name file.

An OA-keyed lookup gives each OA its codes directly (``code_column`` is the top tier, the
profiling ``segment``; ``group_column`` and ``subgroup_column`` optional).  A postcode- or
UPRN-keyed lookup is first linked to OAs: postcodes through the run's postcode directory (or
``lookup.to_oa``), UPRNs through ``lookup.to_oa`` (a CSV linking each UPRN to its OA).  Each OA
then takes the code most of its keys carry (the modal code of its finest tier, ties to the
lowest code), and the share of keys whose code differs from their OA's is reported: profiling
is by OA, as with the built classification.

Every lookup row is accounted for (`LookupResult.accounting`): ``matched`` or rejected as
``blank_code``, ``blank_key``, ``duplicate_key``, ``key_not_found`` (not in the key -> OA link),
``no_oa`` (linked, but to no OA).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import Lookup, PostcodeDirectory
from pipeline.errors import UserFileNotFoundError, UserValueError
from segments.hierarchy import code_key

log = logging.getLogger(__name__)


@dataclass
class LookupResult:
    """codes: oa21cd, supergroup[, group, subgroup]; accounting: outcome, rows; agreement: share
    of linked keys whose code is their OA's (1.0 for OA-keyed lookups)."""

    codes: pd.DataFrame
    accounting: pd.DataFrame
    agreement: float


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise UserFileNotFoundError(f"segmentation.lookup.path: no such file: {path}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [c.strip() for c in table.columns]
    return table.apply(lambda c: c.str.strip())


def _need(path: Path, table: pd.DataFrame, columns: dict[str, str | None]) -> None:
    missing = [f"{c!r} ({what})" for what, c in columns.items() if c and c not in table.columns]
    if missing:
        raise UserValueError(f"{path}: no column {', '.join(missing)}; the columns are "
                         f"{list(table.columns)} (fix segmentation.lookup in the run config)")


def match_key(series: pd.Series, key: str) -> pd.Series:
    """The match key of a lookup's postcodes or UPRNs: the pipeline's one postcode rule
    (`pipeline.address.postcode`) or one UPRN rule (`pipeline.address.uprn`); OA codes as given."""
    from pipeline.address import postcode, uprn

    if key == "postcode":
        return postcode.keys(series)
    return uprn.keys(series) if key == "uprn" else series


def postcode_oas_sql(directory: str) -> str:
    """Each postcode key of the directory (`boundaries.loaders.postcode_directory_sql`) with its OA."""
    return f"SELECT pc_key, oa21cd FROM ({directory})"


def _key_to_oa(lookup: Lookup, postcodes: PostcodeDirectory | None) -> pd.Series:
    """key (normalised) -> oa21cd."""
    if lookup.to_oa is not None:
        link = _read(Path(lookup.to_oa.path))
        _need(Path(lookup.to_oa.path), link, {"key": lookup.to_oa.key_column,
                                              "OA": lookup.to_oa.oa_column})
        keys = match_key(link[lookup.to_oa.key_column], lookup.key)
        return pd.Series(link[lookup.to_oa.oa_column].to_numpy(), index=keys.to_numpy())
    if lookup.key == "uprn":
        raise UserValueError("segmentation.lookup: a UPRN-keyed lookup needs lookup.to_oa "
                         "(a CSV linking each UPRN to its Output Area)")
    if postcodes is None:
        raise UserValueError("segmentation.lookup: a postcode-keyed lookup needs the postcode "
                         "directory (geography.postcode_directory) or lookup.to_oa")
    from boundaries.loaders import postcode_directory_sql
    from pipeline.address.postcode import install
    from pipeline.warehouse import execute

    con = duckdb.connect()
    try:
        install(con)  # the pc_key macro the directory SQL uses
        pcd = execute(con, "lookup_postcode_oas", postcode_oas_sql(postcode_directory_sql(postcodes)),
                      fetch="df")
    finally:
        con.close()
    pcd = pcd.drop_duplicates("pc_key")
    return pd.Series(pcd["oa21cd"].fillna("").to_numpy(), index=pcd["pc_key"].to_numpy())


def load_lookup(lookup: Lookup, postcodes: PostcodeDirectory | None = None) -> LookupResult:
    """Read and link a lookup (see the module docstring)."""
    path = Path(lookup.path)
    table = _read(path)
    tiers = {"supergroup": lookup.code_column, "group": lookup.group_column,
             "subgroup": lookup.subgroup_column}
    _need(path, table, {"key": lookup.key_column, **{f"{t} code": c for t, c in tiers.items()}})
    tiers = {t: c for t, c in tiers.items() if c}
    out = pd.DataFrame({"key": table[lookup.key_column]})
    for tier, col in tiers.items():
        out[tier] = table[col]
    if lookup.key != "oa":
        out["key"] = match_key(out["key"], lookup.key).fillna("")
    outcome = pd.Series("matched", index=out.index)
    outcome[(out[list(tiers)] == "").any(axis=1)] = "blank_code"
    outcome[(out["key"] == "") & (outcome == "matched")] = "blank_key"
    dup = out["key"].duplicated() & (outcome == "matched")
    outcome[dup] = "duplicate_key"
    if lookup.key == "oa":
        out["oa21cd"] = out["key"]
    else:
        link = _key_to_oa(lookup, postcodes)
        link = link[~link.index.duplicated()]
        out["oa21cd"] = out["key"].map(link)
        ok = outcome == "matched"
        outcome[ok & out["oa21cd"].isna()] = "key_not_found"
        outcome[(outcome == "matched") & (out["oa21cd"] == "")] = "no_oa"
    accounting = outcome.value_counts().rename_axis("outcome").rename("rows").reset_index()
    accounting = accounting.sort_values("outcome").reset_index(drop=True)
    rejected = accounting.loc[accounting["outcome"] != "matched", "rows"].sum()
    if rejected:
        log.warning("%s: %d of %d lookup row(s) not used: %s", path, rejected, len(out),
                    dict(zip(accounting["outcome"], accounting["rows"], strict=True)))
    kept = out[outcome == "matched"]
    agreement = 1.0
    if lookup.key != "oa":
        finest = list(tiers)[-1]
        counts = kept.groupby(["oa21cd", *tiers]).size().rename("n").reset_index()
        counts["order"] = counts[finest].map(code_key)
        counts = counts.sort_values(["oa21cd", "n", "order"], ascending=[True, False, True])
        modal = counts.drop_duplicates("oa21cd")
        agreement = float(modal["n"].sum() / max(len(kept), 1))
        kept = modal
        log.info("%s: %d keys linked to %d OAs; %.1f%% carry their OA's code", path,
                 int(counts["n"].sum()), len(modal), 100 * agreement)
    codes = kept[["oa21cd", *tiers]].sort_values("oa21cd").reset_index(drop=True)
    return LookupResult(codes=codes, accounting=accounting, agreement=agreement)
