"""Stage 5, render: the shareable deliverables of a run under outputs/<run>/.

Per service (and per YES/NO option): the suppressed profile as a formatted Excel workbook
(`tables.py`) and a self-contained ward map that works with no network (`visuals.py`).
CSV tables are written by the profile stage.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd

from pipeline.config import RunConfig
from pipeline.render.tables import write_service_workbook
from pipeline.render.visuals import write_service_map

logger = logging.getLogger(__name__)


def run(cfg: RunConfig, profiles: dict, summary: pd.DataFrame, wards: gpd.GeoDataFrame,
        labels: dict[str, str]) -> list:
    """Write the workbook and ward map of every (sub-)service; return the paths written."""
    written = []
    for name, views in profiles.items():
        title = f"{labels.get(name, name)}: {cfg.area_name}"
        written.append(write_service_workbook(cfg, name, views, summary, title))
        written.append(write_service_map(cfg, name, views, wards, title))
        logger.info("Rendered %s", name)
    return written
