"""Stage 7, render: the shareable deliverables of a run under outputs/<run>/, from the published
tables only (:class:`pipeline.publish.Publication`).

Per service (and per YES/NO option): every published table as CSV, a formatted Excel workbook
(`tables.py`), a self-contained ward map with penetration and index layers and the target OAs
(`visuals.py`), the index chart and the insight report (`report.py`). Per run: the match report
and run summary CSVs, the cross-service workbook, a map with a layer per service, the segment map
and a pen-portrait page per segment (when the segment outputs are there), a GeoPackage (`gis.py`)
and the index page linking everything.

The maps are drawn at one level for the run (:mod:`pipeline.render.maps.level`: Output Areas for
a borough, wards or local authorities for a region or the country, so a browser holds them); the
GeoPackage keeps every Output Area whatever the level, and the reports and the segment guide say
which level the maps are drawn at. The ward layer is prepared once for every ward map of the run
(:func:`pipeline.render.visuals.service_map_wards`).
"""

from __future__ import annotations

import logging

import geopandas as gpd
from tqdm import tqdm

from pipeline.config import RunConfig
from pipeline.publish.tables import Publication
from pipeline.render import areas as map_areas
from pipeline.render.deprivation import SHARES, add_to_pen_portraits
from pipeline.render.gis import geopackage_path, write_geopackage
from pipeline.render.guide import write_segment_guide
from pipeline.render.maps.level import LEVEL_NAMES, level_note
from pipeline.render.report import report_env, write_pen_portraits, write_run_index, write_service_report
from pipeline.render.segment_info import load_portraits, load_segments
from pipeline.render.tables import write_csvs, write_service_workbook, write_summary_workbook
from pipeline.render.visuals import (
    service_map_wards,
    write_segment_map,
    write_service_map,
    write_services_map,
)

logger = logging.getLogger(__name__)


def run(cfg: RunConfig, pub: Publication, wards: gpd.GeoDataFrame, labels: dict[str, str],
        oas: gpd.GeoDataFrame | None = None) -> list:
    """Write every published table as CSV, every (sub-)service's workbook, map, chart and report,
    then the run-level outputs; return the paths written."""
    written = write_csvs(cfg, pub)
    written.append(write_summary_workbook(cfg, pub))
    lads = map_areas.oa_lads(cfg)
    level = map_areas.run_level(cfg, oas, wards, lads)
    note = level_note(level, geopackage_path(cfg).name)
    guide = write_segment_guide(cfg, report_env(), oas, note)  # first: the reports link to it
    if guide is not None:
        written.append(guide)
    prepared = service_map_wards(wards, level) if pub.services else None  # once, for every ward map
    for name in tqdm(pub.services, desc="render", unit="service", leave=False):
        title = f"{labels.get(name, name)}: {cfg.area_name}"
        written.append(write_service_workbook(cfg, pub, name, title))
        written.append(write_service_map(cfg, pub, name, wards, title, oas=oas, level=level,
                                         prepared=prepared))
        report = write_service_report(cfg, pub, name, labels.get(name, name), map_note=note)
        written += [report.path, *(c.path for c in report.charts)]
        logger.info("Rendered %s", name)
    links: list[tuple[str, str]] = []
    if pub.services and (level == "oa" or len(pub.services) == 1):
        written.append(write_services_map(cfg, pub, wards, labels, level=level, prepared=prepared))
        links.append(("services_map.html", "Map: every service by ward (one layer per service)"))
    elif pub.services:  # a layer per service, each every ward again: past the budget (maps.level)
        logger.info("No map of every service: %d services' ward layers, each of %d wards, are more than "
                    "a browser holds; each service's own map has its wards", len(pub.services), len(wards))
    seg_dir = cfg.outputs / "segments"
    oa_segments = names = None
    if (seg_dir / "segments_oa.csv").exists() and (seg_dir / "segment_names.csv").exists():
        oa_segments, names = load_segments(seg_dir)
        if oas is not None:
            areas = None
            if level != "oa":
                from pipeline.geography import area_ref_oa

                areas = map_areas.segment_area_layer(level, wards, area_ref_oa(cfg, oas, wards), lads,
                                                     oa_segments, names)
            written.append(write_segment_map(cfg, oas, oa_segments, names, level, areas))
            links.append(("segments/segment_map.html", "Map: neighbourhood segments by "
                          f"{LEVEL_NAMES[level] if level != 'oa' else 'Output Area'}"))
        if guide is not None:
            links.append(("segments/segment_guide.html", "Segment guide: every segment's name, portrait, "
                          "chart and map, to hand round"))
        written += write_pen_portraits(cfg, names, oa_segments, load_portraits(seg_dir), pub, labels)
        shared = add_to_pen_portraits(seg_dir / "pen_portraits.csv", pub.run.get(SHARES))  # issue 28
        written += [shared] if shared else []
    if SHARES in pub.run:
        links.append((pub.run[SHARES].path, "Segments by deprivation: each segment's share of households in "
                      "the most deprived 10% and 20% of neighbourhoods, nationally and locally"))
    else:
        logger.warning("No segment outputs in %s: segment map and pen portraits skipped", seg_dir)
    gpkg = write_geopackage(cfg, pub, wards, oas, oa_segments, names)
    written.append(gpkg)
    links.append((gpkg.name, "GeoPackage for QGIS/ArcGIS: ward and Output Area layers"))
    links.append(("run_summary.csv", "Match report: rows read, matched and rejected by reason"))
    services = {n: labels.get(n, n) for n in pub.services}
    written.append(write_run_index(cfg, services, names, oa_segments, links, pub.warnings))
    return written
