"""The one rule for the geography a run's maps are drawn at: Output Areas, wards or local
authorities (LADs), from the size of the area, so that a map of all of England and Wales stays
within what a browser holds. The GeoPackage keeps Output Area detail at every level.

Levels, finest first:

* ``oa``: the segment map colours each Output Area; the service maps draw the ward choropleth
  with the target Output Areas and the service points' catchments over it (a borough, as before);
* ``ward``: the segment map colours each ward by its most common segment (by households); the
  service maps draw only the ward choropleth, its index layer alone (no Output Area overlay; each
  ward's penetration is in its tooltip); the map of every service (a layer per service, each
  every ward again) is written only for a run of one (sub-)service;
* ``lad``: the segment map colours each local authority the same way. The service maps stay at
  ward level, since their values are the published ward tables and no table by local authority
  is published (a figure for a local authority would be a new count the publish stage must
  decide on); they are drawn at the local authority level's simplification instead (6,997
  wards: 10.7 MB, below).

The rule (``auto``, the default): ``oa`` when the area has at most :data:`OA_MAX` Output Areas,
else ``ward`` when it has at most :data:`WARD_MAX` wards, else ``lad`` when the run knows each
Output Area's local authority (``geography.oa_to_ward.lad_column``), else ``ward`` with a warning.
``render.map_level`` in the run config forces a level (``lad`` needs the LAD column; the config
refuses it otherwise).

The budget, measured (``bench/bench_render_national.py``, headless Chromium on this shared 2-core
machine at a load of 7 to 11, network blocked; load = in-page time from navigation start to the
end of the load event, every polygon drawn as SVG): a page may carry about **15 MB of GeoJSON**
(:data:`BUDGET_BYTES`), which opens in about 3 to 4 s here; past it the time grows faster than
the size (20,000 OAs, 35.6 MB: 13.7 s). Synthetic England and Wales: 188,880 Output Areas with
a vertex every 40 m (17.7M vertices), 6,997 wards, 329 LADs:

==============================================  =====  ========  =======  =======  ======
page                                            level  features  GeoJSON  write s  load s
==============================================  =====  ========  =======  =======  ======
service map: wards, index layer                 ward      6,997  13.3 MB     53.3    2.56
service map: wards at the lad simplification    lad       6,997  10.7 MB    126.8    3.51
segment map: wards in their most common segment ward      6,997  13.6 MB    161.1    3.10
segment map: LADs in their most common segment  lad         329   5.9 MB     37.3    1.61
segment map: 2,000 OAs                          oa        2,000   3.6 MB      5.5    0.82
segment map: 5,000 OAs                          oa        5,000   8.9 MB      5.4    1.72
segment map: 10,000 OAs                         oa       10,000  17.8 MB     15.4    3.85
segment map: 20,000 OAs                         oa       20,000  35.6 MB     31.2   13.70
==============================================  =====  ========  =======  =======  ======

(The service map's two layers, penetration and index, of 7,000 wards at 100 m were 29.4 MB and
9.2 s: so above ``oa`` it draws the index layer alone.) An Output Area costs about 1,800 bytes
(:data:`OA_BYTES`) and a ward about 1,950 (:data:`WARD_BYTES`), so the segment map holds 8,333
Output Areas (a borough or a small county, not a region) and the ward maps 7,692 wards (all of
England and Wales), and the local authority maps anything. Generalised boundaries (ONS BGC, about
18 vertices an Output Area) cost less than these full-resolution ones: the thresholds are on the
safe side for them.
"""

from __future__ import annotations

import logging
from typing import Literal

logger = logging.getLogger(__name__)

Level = Literal["oa", "ward", "lad"]
#: The levels, finest first
LEVELS: tuple[Level, ...] = ("oa", "ward", "lad")
#: What a page of this level calls its areas (reports, the segment guide, map tooltips)
LEVEL_NAMES = {"oa": "Output Area", "ward": "ward", "lad": "local authority"}
#: GeoJSON a page may carry (bytes), measured: see the module's docstring
BUDGET_BYTES = 15_000_000
#: GeoJSON bytes of one Output Area on the segment map at ``oa`` (5 m, 5 decimals), measured
OA_BYTES = 1_800
#: GeoJSON bytes of one ward on the segment map or the service map at ``ward`` (200 m, 4 decimals)
WARD_BYTES = 1_950
#: Most Output Areas drawn one by one (the segment map at ``oa``): 8,333
OA_MAX = BUDGET_BYTES // OA_BYTES
#: Most wards drawn one by one (the maps at ``ward``): 7,692
WARD_MAX = BUDGET_BYTES // WARD_BYTES


def map_level(n_oas: int, n_wards: int, has_lad: bool, setting: str = "auto") -> Level:
    """The level every map of the run is drawn at (see the module's docstring): *setting* when it
    is not ``auto``, else the finest level whose areas fit the budget."""
    if setting != "auto":
        if setting not in LEVELS:
            raise ValueError(f"map level {setting!r} is not one of auto, {', '.join(LEVELS)}")
        if setting == "lad" and not has_lad:
            raise ValueError("map level 'lad' needs each Output Area's local authority "
                             "(geography.oa_to_ward.lad_column)")
        over = {"oa": n_oas > OA_MAX, "ward": n_wards > WARD_MAX}.get(setting, False)
        if over:
            logger.warning("render.map_level %s: %d areas is more than the %s budget of %d; the maps "
                           "may be too large for a browser", setting, n_oas if setting == "oa" else n_wards,
                           setting, OA_MAX if setting == "oa" else WARD_MAX)
        return setting  # type: ignore[return-value]
    if n_oas <= OA_MAX:
        return "oa"
    if n_wards <= WARD_MAX or not has_lad:
        if n_wards > WARD_MAX:
            logger.warning("%d wards is more than the ward map budget of %d, and the run does not know "
                           "each Output Area's local authority (geography.oa_to_ward.lad_column): the "
                           "maps are drawn by ward and may be too large for a browser", n_wards, WARD_MAX)
        return "ward"
    return "lad"


def level_note(level: Level, gpkg_name: str) -> str:
    """One sentence for the reports and the segment guide: what the maps draw, and where the
    Output Area detail is."""
    if level == "oa":
        return ""
    return (f"This area is too large for a web map of every Output Area, so the maps are drawn by "
            f"{LEVEL_NAMES[level] if level == 'ward' else 'ward (the segment map by local authority)'}; "
            f"every Output Area is in the GeoPackage {gpkg_name} (layer output_areas) for QGIS or ArcGIS.")
