"""How values become colours on a map: the palettes (viridis quantile classes, the fixed index
bands diverging around 100, the suppressed hatch), the class breaks, and the legend box that names
each class."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.escape import html_text

#: Viridis, 5 classes: sequential, perceptually uniform and colour-blind safe.
PALETTE: tuple[str, ...] = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
#: Index bands diverging around 100 (ColorBrewer RdBu, colour-blind safe): blue = fewer users
#: than the households predict, red = more.
INDEX_BANDS: tuple[float, ...] = (80.0, 95.0, 105.0, 120.0)
INDEX_PALETTE: tuple[str, ...] = ("#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b")
INDEX_BAND_LABELS: tuple[str, ...] = (
    "80 or under (well below)", "80 – 95", "95 – 105 (about average)", "105 – 120",
    "over 120 (well above)",
)
SUPPRESSED_COLOUR = "#bdbdbd"
SUPPRESSED_HATCH = "#6e6e6e"
HATCH_ID = "ci-suppressed-hatch"


def class_breaks(values: pd.Series | np.ndarray | list[float], k: int = 5) -> list[float]:
    """Quantile break points (upper bounds of the first ``k-1`` classes), distinct, sorted.

    Fewer than ``k`` distinct values give fewer classes; no valid values give ``[]``.
    """
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return []
    distinct = np.unique(arr)
    if distinct.size <= k:
        return [float(v) for v in distinct[:-1]]
    qs = np.quantile(arr, np.linspace(0, 1, k + 1)[1:-1])
    edges = sorted({round(float(q), 6) for q in qs})
    return [e for e in edges if e < distinct.max()]


def palette_for(n_classes: int) -> list[str]:
    if n_classes <= 0:
        return []
    if n_classes >= len(PALETTE):
        return list(PALETTE)
    idx = np.linspace(0, len(PALETTE) - 1, n_classes).round().astype(int)
    return [PALETTE[i] for i in idx]


def classify(value: float, breaks: list[float]) -> int:
    """Class index: ``v <= breaks[0]`` -> 0, ..., ``v > breaks[-1]`` -> len(breaks)."""
    return int(np.searchsorted(np.asarray(breaks, dtype=float), value, side="left"))


def _fmt(v: float) -> str:
    return f"{v:,.1f}"


def legend_labels(breaks: list[float], values: np.ndarray) -> list[str]:
    """One label per class from the values actually in it ("min – max", or one value)."""
    if values.size == 0:
        return []
    classes = np.searchsorted(np.asarray(breaks, dtype=float), values, side="left")
    bounds = [-np.inf, *breaks, np.inf]
    labels = []
    for k in range(len(breaks) + 1):
        members = values[classes == k]
        if members.size:
            lo, hi = float(members.min()), float(members.max())
        else:  # empty quantile class (heavy ties): show its break interval
            lo, hi = float(max(bounds[k], values.min())), float(min(bounds[k + 1], values.max()))
        labels.append(_fmt(lo) if _fmt(lo) == _fmt(hi) else f"{_fmt(lo)} – {_fmt(hi)}")
    return labels


def legend_html(
    title: str, colours: list[str], labels: list[str], suppressed_symbol: str, any_suppressed: bool
) -> str:
    """The legend box; *title*, *labels*, colours and the symbol are plain text (escaped here)."""
    rows = [
        f'<div class="ci-row"><span class="ci-swatch" style="background:{html_text(c)}"></span>'
        f"<span>{html_text(label)}</span></div>"
        for c, label in zip(colours, labels, strict=True)
    ]
    if any_suppressed:
        sym = html_text(suppressed_symbol)
        rows.append(
            '<div class="ci-row"><span class="ci-swatch ci-hatch"></span>'
            f"<span>Suppressed ({sym}): too few to show</span></div>"
        )
    return (
        f'<div class="ci-box ci-legend" role="region" aria-label="Legend">'
        f"<h4>{html_text(title)}</h4>{''.join(rows)}</div>"
    )
