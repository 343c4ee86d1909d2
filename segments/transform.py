"""The OAC transform: inverse hyperbolic sine, then range standardisation, then weights.

For variable j with values x_ij (percentages; density in persons per hectare):

    y_ij = asinh(x_ij) = ln(x_ij + sqrt(x_ij^2 + 1))
    z_ij = w_j * (y_ij - min_j) / (max_j - min_j)

where min_j and max_j are those of y over the reference: the OAs built on (default) or a
supplied reference (e.g. England and Wales), a CSV with columns ``variable,min,max`` holding the
range of the *untransformed* values.  A constant column becomes 0.  With a supplied reference,
values outside its range are clipped to 0..w_j (and counted in a warning).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import UserFileNotFoundError, UserValueError

log = logging.getLogger(__name__)


def read_reference(path: Path | str) -> pd.DataFrame:
    """A reference range CSV -> DataFrame indexed by variable with columns min, max."""
    path = Path(path)
    if not path.exists():
        raise UserFileNotFoundError(f"segmentation.reference: no such file: {path}")
    table = pd.read_csv(path, encoding="utf-8-sig")
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("variable", "min", "max") if c not in table.columns]
    if missing:
        raise UserValueError(f"{path}: a reference range file needs the columns variable,min,max; "
                         f"missing {missing} (found {list(table.columns)})")
    return table.set_index("variable")[["min", "max"]].astype(float)


def reference_ranges(values: pd.DataFrame) -> pd.DataFrame:
    """The range (min, max) of each variable's values: write it to CSV to reuse as a reference."""
    out = pd.DataFrame({"min": values.min(), "max": values.max()})
    out.index.name = "variable"
    return out


def standardise(values: pd.DataFrame, weights: pd.Series | None = None,
                reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """asinh, range standardisation over the OAs (or `reference`), times optional weights."""
    y = np.arcsinh(values.astype(float))
    if reference is None:
        lo, hi = y.min(), y.max()
    else:
        missing = [v for v in values.columns if v not in reference.index]
        if missing:
            raise UserValueError(f"the reference ranges have no row for the variable(s) {missing}")
        lo = np.arcsinh(reference.loc[values.columns, "min"])
        hi = np.arcsinh(reference.loc[values.columns, "max"])
    span = (hi - lo).replace(0.0, np.nan)
    z = ((y - lo) / span).fillna(0.0)
    if reference is not None:
        outside = int(((z < 0) | (z > 1)).to_numpy().sum())
        if outside:
            log.warning("%d value(s) fall outside the reference ranges and are clipped", outside)
        z = z.clip(0.0, 1.0)
    if weights is not None:
        z = z * weights.reindex(z.columns).fillna(1.0)
    return z


def fill_missing(values: pd.DataFrame) -> pd.DataFrame:
    """Zero-denominator NaNs -> the variable's median over the OAs (logged)."""
    if values.isna().to_numpy().any():
        n = int(values.isna().to_numpy().sum())
        log.warning("%d missing value(s) (zero denominators) replaced by the area median", n)
        values = values.fillna(values.median()).fillna(0.0)
    return values
