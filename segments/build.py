"""Build an open-data geodemographic classification of Output Areas (the ONS/UCL OAC method).

Steps, for the OAs of the area being built (simplified from the 2021 OAC):

1. values x (percentages of each variable's denominator; density in persons per hectare) from
   the census tables and a variable spec (`segments.variables`);
2. inverse hyperbolic sine, which tames skewed counts:  y = asinh(x) = ln(x + sqrt(x^2 + 1));
3. range standardisation to 0..1 over the area:  z = (y - min y) / (max y - min y)
   (a constant column becomes 0), then multiplied by the variable's spec weight (default 1);
4. k-means (scikit-learn, ``n_init`` restarts, ``random_state`` = the run seed), minimising the
   within-cluster sum of squares  WCSS = sum_i ||z_i - c_{k(i)}||^2;
5. clusters relabelled deterministically: by size, largest first (ties by centre coordinates),
   as the codes "1".."k".

Segment names come from the most over-represented variables: for segment s and variable j the
score is (c_sj - mean_j) / sd_j over all OAs in the standardised space; the top three give
"High: social rented, no car or van, flats"; the description adds the index
100 * (mean value in the segment) / (mean value over the area) of each.  A names CSV
(``code,name``) overrides the names.

``method: lookup`` takes an existing classification (the official OAC, a licensed Mosaic) keyed
by OA and returns the same `SegmentResult`, profiled on the census variables when the tables are
there.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from pipeline.config import Census, Lookup, RunConfig, Segmentation
from segments.census import CensusError
from segments.variables import SpecError, compute_percentages, load_spec

log = logging.getLogger(__name__)

_TOP = 3


@dataclass
class SegmentResult:
    """A classification of OAs and what describes it.

    assignments: columns ``oa21cd``, ``segment`` (string code), one row per OA.
    names: columns ``segment``, ``segment_name``, ``description``, one row per segment.
    centres: segment x variable, cluster centres in the standardised 0..1 space.
    variables: OA x variable, the standardised (asinh, 0..1, weighted) matrix clustered.
    wcss: within-cluster sum of squares in that space.
    values: OA x variable, the untransformed values (percentages, density).
    """

    assignments: pd.DataFrame
    names: pd.DataFrame
    centres: pd.DataFrame
    variables: pd.DataFrame
    wcss: float
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    method: str = "kmeans"


def standardise(values: pd.DataFrame, weights: pd.Series | None = None) -> pd.DataFrame:
    """asinh then range standardisation to 0..1 per column, times optional weights."""
    y = np.arcsinh(values.astype(float))
    lo, hi = y.min(), y.max()
    span = (hi - lo).replace(0.0, np.nan)
    z = ((y - lo) / span).fillna(0.0)
    if weights is not None:
        z = z * weights.reindex(z.columns).fillna(1.0)
    return z


def _fill_missing(values: pd.DataFrame) -> pd.DataFrame:
    if values.isna().to_numpy().any():
        n = int(values.isna().to_numpy().sum())
        log.warning("%d missing value(s) (zero denominators) replaced by the area median", n)
        values = values.fillna(values.median()).fillna(0.0)
    return values


def _read_names(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"segment names file not found: {path}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [c.strip().lower() for c in table.columns]
    if not {"code", "name"} <= set(table.columns):
        raise ValueError(
            f"{path}: a segment names file needs the columns code,name; found {list(table.columns)}"
        )
    return dict(zip(table["code"].str.strip(), table["name"].str.strip(), strict=True))


def describe_segments(assignments: pd.DataFrame, matrix: pd.DataFrame, values: pd.DataFrame,
                      labels: dict[str, str], names: dict[str, str] | None = None) -> pd.DataFrame:
    """Automatic names and descriptions from each segment's most over/under-represented variables.

    `matrix` is the standardised OA x variable matrix, `values` the raw values, `labels` maps a
    variable id to its readable name; `names` (code -> name) overrides the automatic names.
    """
    names = names or {}
    seg = assignments.set_index("oa21cd")["segment"]
    codes = sorted(seg.unique(), key=_code_key)
    rows = []
    if matrix.empty:
        for code in codes:
            n = int((seg == code).sum())
            rows.append((code, names.get(code, f"Segment {code}"), f"{n} OAs"))
        return pd.DataFrame(rows, columns=["segment", "segment_name", "description"])
    m = matrix.loc[seg.index]
    mean, sd = m.mean(), m.std(ddof=0).replace(0.0, np.nan)
    area_mean = values.loc[seg.index].mean()
    used: dict[str, int] = {}
    for code in codes:
        members = seg.index[seg == code]
        score = ((m.loc[members].mean() - mean) / sd).fillna(0.0).sort_values(ascending=False)
        seg_mean = values.loc[members].mean()
        index = (100 * seg_mean / area_mean.replace(0.0, np.nan)).round().fillna(100)
        high = [v for v in score.index[:_TOP] if score[v] > 0]
        low = [v for v in score.index[::-1][:_TOP] if score[v] < 0]
        auto = "High: " + ", ".join(_short(labels.get(v, v)) for v in high) if high else \
            "Close to the area average"
        if auto in used:
            used[auto] += 1
            auto = f"{auto} ({used[auto]})"
        else:
            used[auto] = 1

        def fmt(vs: list[str], index: pd.Series = index) -> str:
            return ", ".join(f"{labels.get(v, v)} (index {int(index[v])})" for v in vs)

        desc = f"{len(members)} OAs. Over-represented: {fmt(high) or 'none'}."
        desc += f" Under-represented: {fmt(low) or 'none'}."
        rows.append((code, names.get(code, auto), desc))
    return pd.DataFrame(rows, columns=["segment", "segment_name", "description"])


def _short(label: str) -> str:
    """A variable name as it reads inside a segment name: "1. Managers, ..." -> "managers, ..."."""
    label = re.sub(r"^\d+\.\s*", "", label.strip())
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        label = label[0].lower() + label[1:]
    return label


def _code_key(code: str) -> tuple:
    return (0, int(code), "") if str(code).isdigit() else (1, 0, str(code))


def _profile(census_cfg: Census, seg_cfg: Segmentation
             ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    spec = load_spec(seg_cfg.variables)
    values = _fill_missing(compute_percentages(census_cfg, spec))
    weights = pd.Series(spec["weight"].to_numpy(), index=spec["variable"])
    matrix = standardise(values, weights)
    labels = dict(zip(spec["variable"], spec["name"], strict=True))
    return values, matrix, labels


def build_kmeans(census_cfg: Census, seg_cfg: Segmentation, seed: int) -> SegmentResult:
    """k-means classification of the OAs in the census tables (see the module docstring)."""
    t0 = time.perf_counter()
    values, matrix, labels = _profile(census_cfg, seg_cfg)
    n, p = matrix.shape
    if n < seg_cfg.k:
        raise ValueError(f"cannot make {seg_cfg.k} segments from {n} output areas")
    km = KMeans(n_clusters=seg_cfg.k, n_init=seg_cfg.n_init, random_state=seed)
    raw = km.fit_predict(matrix.to_numpy())
    sizes = np.bincount(raw, minlength=seg_cfg.k)
    centres = km.cluster_centers_
    order = sorted(range(seg_cfg.k), key=lambda c: (-sizes[c], tuple(np.round(centres[c], 12))))
    relabel = {old: str(new + 1) for new, old in enumerate(order)}
    codes = [str(i + 1) for i in range(seg_cfg.k)]
    assignments = pd.DataFrame({"oa21cd": matrix.index.astype(str),
                                "segment": [relabel[c] for c in raw]})
    centre_frame = pd.DataFrame(centres[order], index=pd.Index(codes, name="segment"),
                                columns=matrix.columns)
    names = describe_segments(assignments, matrix, values, labels, _read_names(seg_cfg.names))
    log.info("k-means: %d OAs x %d variables, k=%d, n_init=%d, seed=%d: WCSS %.3f in %.2fs",
             n, p, seg_cfg.k, seg_cfg.n_init, seed, km.inertia_, time.perf_counter() - t0)
    return SegmentResult(assignments=assignments, names=names, centres=centre_frame,
                         variables=matrix, wcss=float(km.inertia_), values=values)


def load_lookup(lookup: Lookup) -> pd.DataFrame:
    """An OA-keyed classification CSV -> DataFrame[oa21cd, segment] (codes as strings)."""
    if lookup.key == "postcode":
        raise NotImplementedError(
            "segmentation.lookup with key 'postcode' is not supported yet: give an OA-keyed "
            "lookup (key: oa), e.g. the official OAC assignment by Output Area"
        )
    path = Path(lookup.path)
    if not path.exists():
        raise FileNotFoundError(f"segmentation.lookup.path: no such file: {path}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [c.strip() for c in table.columns]
    missing = [c for c in (lookup.key_column, lookup.code_column) if c not in table.columns]
    if missing:
        raise ValueError(
            f"{path}: no column(s) {missing} (segmentation.lookup key_column/code_column); "
            f"the columns are {list(table.columns)}"
        )
    out = pd.DataFrame({"oa21cd": table[lookup.key_column].str.strip(),
                        "segment": table[lookup.code_column].str.strip()})
    blank = out["segment"] == ""
    if blank.any():
        log.warning("%s: %d OA(s) have no code and are left out", path, int(blank.sum()))
        out = out[~blank]
    return out.drop_duplicates("oa21cd").reset_index(drop=True)


def build_lookup(census_cfg: Census | None, seg_cfg: Segmentation) -> SegmentResult:
    """An existing classification, profiled on the census variables when the tables are there."""
    if seg_cfg.lookup is None:
        raise ValueError("segmentation.method is 'lookup' but there is no segmentation.lookup")
    assignments = load_lookup(seg_cfg.lookup)
    names = _read_names(seg_cfg.lookup.names or seg_cfg.names)
    values = matrix = pd.DataFrame()
    labels: dict[str, str] = {}
    if census_cfg is not None:
        try:
            values, matrix, labels = _profile(census_cfg, seg_cfg)
        except (CensusError, SpecError) as exc:
            log.warning("the lookup classification is not profiled on the census: %s", exc)
    if not matrix.empty:
        inside = assignments["oa21cd"].isin(matrix.index)
        if not inside.all():
            log.info("lookup: keeping %d of %d OAs (those in the census tables)",
                     int(inside.sum()), len(inside))
        assignments = assignments[inside].reset_index(drop=True)
        missing = matrix.index.difference(assignments["oa21cd"])
        if len(missing):
            log.warning("lookup: %d census OA(s) have no code in the lookup", len(missing))
        matrix = matrix.loc[assignments["oa21cd"]]
        values = values.loc[assignments["oa21cd"]]
    assignments = assignments.sort_values("oa21cd").reset_index(drop=True)
    centres = pd.DataFrame()
    wcss = float("nan")
    if not matrix.empty:
        seg = assignments.set_index("oa21cd")["segment"]
        centres = matrix.groupby(seg.reindex(matrix.index).to_numpy()).mean()
        centres = centres.loc[sorted(centres.index, key=_code_key)]
        centres.index.name = "segment"
        diff = matrix.to_numpy() - centres.loc[seg.reindex(matrix.index)].to_numpy()
        wcss = float((diff**2).sum())
    described = describe_segments(assignments, matrix, values, labels, names)
    return SegmentResult(assignments=assignments, names=described, centres=centres,
                         variables=matrix, wcss=wcss, values=values, method="lookup")


def build_segments_from(census_cfg: Census, seg_cfg: Segmentation, seed: int = 2021
                        ) -> SegmentResult:
    """Build (k-means) or load (lookup) the classification from the config sub-blocks."""
    if seg_cfg.method == "lookup":
        return build_lookup(census_cfg, seg_cfg)
    return build_kmeans(census_cfg, seg_cfg, seed)


def build_segments(cfg: RunConfig) -> SegmentResult:
    """The run's classification: `build_segments_from(cfg.census, cfg.segmentation, cfg.seed)`."""
    return build_segments_from(cfg.census, cfg.segmentation, cfg.seed)
