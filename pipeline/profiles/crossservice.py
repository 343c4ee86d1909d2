"""Across services: a segment x service matrix of indices (with significance), the services
ordered by the similarity of their profiles.

Similarity: each service is the vector of log(index / 100) over segments (an index of 0 is
floored at 1); services are joined by average-linkage hierarchical clustering on the Euclidean
distance between these vectors (scipy.cluster.hierarchy), and listed in the dendrogram's leaf
order, so services that draw on the same segments sit side by side. The column 'any service'
counts each household once across all services (by the geocode stage's household key).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import leaves_list, linkage


def service_order(matrix: pd.DataFrame) -> list[str]:
    """Service names (columns of `matrix`: index per segment) in dendrogram leaf order."""
    if matrix.shape[1] < 3:
        return list(matrix.columns)
    x = np.log(np.clip(matrix.to_numpy(dtype=float).T, 1, None) / 100)
    x = np.nan_to_num(x)
    return [matrix.columns[i] for i in leaves_list(linkage(x, method="average", metric="euclidean"))]


def matrix(segment_profiles: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table: segment_code, segment_name, service, index, index_lower, index_upper,
    significance, suppressed; services in similarity order, segments in display order."""
    wide = {}
    rows = []
    for name, prof in segment_profiles.items():
        body = prof[prof["segment_code"] != "Total"]
        wide[name] = body.set_index("segment_code")["index"].map(
            lambda v: np.nan if v is None else float(v))
        for r in body.itertuples(index=False):
            rows.append((r.segment_code, r.segment_name, name,
                         np.nan if r.index is None else float(r.index),
                         r.index_lower, r.index_upper, r.significance, bool(r.suppressed)))
    long = pd.DataFrame(rows, columns=["segment_code", "segment_name", "service", "index", "index_lower",
                                       "index_upper", "significance", "suppressed"])
    order = service_order(pd.DataFrame(wide).fillna(100))
    long["service"] = pd.Categorical(long["service"], categories=order, ordered=True)
    seg_order = {c: i for i, c in enumerate(dict.fromkeys(long["segment_code"]))}
    long = long.sort_values(["service", "segment_code"],
                            key=lambda s: s.map(seg_order) if s.name == "segment_code" else s)
    long["service"] = long["service"].astype(str)
    return long.reset_index(drop=True)
