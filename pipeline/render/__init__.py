"""Render stage: self-contained ward maps (HTML, no network needed) and profile workbooks."""

from pipeline.render.maps.layered import layered_map, multi_service_map
from pipeline.render.offline import assert_offline, leaflet_assets, make_offline
from pipeline.render.workbook import write_profile_workbook

__all__ = [
    "assert_offline",
    "layered_map",
    "leaflet_assets",
    "make_offline",
    "multi_service_map",
    "write_profile_workbook",
]
