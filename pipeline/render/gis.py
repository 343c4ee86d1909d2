"""A GeoPackage per run for QGIS/ArcGIS users: ward and OA layers with the suppressed fields.

``outputs/<run>/<run>_insight.gpkg`` holds, in British National Grid (EPSG:27700):

* ``wards``: ward code, name, households and per (sub-)service ``<name>_users``,
  ``<name>_penetration``, ``<name>_index`` (numbers, NULL where suppressed) and
  ``<name>_shown`` (the display string of the count: the number or the suppression symbol);
* ``output_areas``: OA code, segment, its name, and per (sub-)service the segment's
  ``<name>_seg_penetration`` and ``<name>_seg_index`` (NULL where the segment is suppressed).

Both layers keep the boundaries as read (no simplification), whatever level the run's maps are
drawn at: a run over a region or the country draws its maps by ward or local authority, and this
file is where its Output Area detail is.

Values come from the published tables (:func:`pipeline.render.visuals.ward_layer` and each
service's published segment table), so nothing suppressed is written.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from pipeline.config import BNG, RunConfig
from pipeline.publish.tables import Publication
from pipeline.render.visuals import ward_layer

logger = logging.getLogger(__name__)

FIXED_DATE = "2021-03-21T00:00:00.000Z"


def geopackage_path(cfg: RunConfig) -> Path:
    """``outputs/<run>/<run>_insight.gpkg``."""
    return cfg.outputs / f"{cfg.run}_insight.gpkg"


def write_geopackage(cfg: RunConfig, pub: Publication, wards: gpd.GeoDataFrame, oas: gpd.GeoDataFrame | None,
                     oa_segments: pd.DataFrame | None, segment_names: pd.DataFrame | None) -> Path:
    """Write the GeoPackage: every ward and every Output Area at full detail (the boundaries as
    read, unsimplified), whatever level the maps are drawn at (:mod:`pipeline.render.maps.level`)."""
    path = geopackage_path(cfg)
    path.unlink(missing_ok=True)
    # GDAL stamps the write time into gpkg_contents; a fixed date keeps the file byte-identical
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    base = wards.rename(columns={"code": "ward_code", "name": "ward_name"})
    if "ward_name" not in base.columns:
        base["ward_name"] = base["ward_code"]
    base = base[["ward_code", "ward_name", "geometry"]]
    base = base.to_crs(BNG) if base.crs and base.crs != BNG else base
    out = base.copy()
    for name, views in pub.services.items():
        layer = pd.DataFrame(ward_layer(wards, views["ward"]).drop(columns="geometry"))
        layer = layer.set_index("ward_code")
        if "households" not in out.columns:
            out["households"] = out["ward_code"].map(layer["households"]).astype("Int64")
        out[f"{name}_users"] = out["ward_code"].map(layer["service_count"]).astype("Int64")
        out[f"{name}_penetration"] = out["ward_code"].map(layer["penetration_pct"]).astype(float)
        out[f"{name}_index"] = out["ward_code"].map(layer["index"]).astype(float)
        out[f"{name}_shown"] = out["ward_code"].map(layer["service_count_display"]).astype(str)
    gpd.GeoDataFrame(out, geometry="geometry", crs=base.crs).to_file(path, layer="wards", driver="GPKG")
    if oas is not None and oa_segments is not None:
        oa = oas.rename(columns={"code": "oa21cd"})[["oa21cd", "geometry"]].merge(
            oa_segments[["oa21cd", "segment"]], on="oa21cd", how="left")
        if segment_names is not None:
            oa["segment_name"] = oa["segment"].map(segment_names.set_index("segment")["segment_name"])
        for name, views in pub.services.items():
            t = views["segment"]
            codes = t.frame["segment_code"]
            for col, field in (("penetration_pct", "seg_penetration"), ("index", "seg_index")):
                values = {c: t.value(i, col) for i, c in codes.items()}
                oa[f"{name}_{field}"] = oa["segment"].map(values).astype(float)
        oa = gpd.GeoDataFrame(oa, geometry="geometry", crs=oas.crs)
        oa = oa.to_crs(BNG) if oa.crs and oa.crs != BNG else oa
        oa.to_file(path, layer="output_areas", driver="GPKG")
    logger.info("Wrote GeoPackage %s", path)
    return path
