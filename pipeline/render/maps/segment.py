"""The segment map: Output Areas coloured by segment (one colour per supergroup), a legend of
short `code name` labels linking to the segment guide, and a pop-up linking each OA's pen portrait."""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import shapely

from pipeline.escape import html_text
from pipeline.publish.notes import DEFAULT_ATTRIBUTION
from pipeline.render.maps.classes import legend_html
from pipeline.render.maps.features import highlight
from pipeline.render.maps.geometry import SIMPLIFY_TOLERANCE_M, prepare_wards
from pipeline.render.maps.page import add_outline, finish_page, new_map, write_page
from segments.naming import short_label

#: Characters of a segment-map legend entry (``code name``), so each takes one line.
LEGEND_LABEL_MAX = 38


def segment_map(
    oas: gpd.GeoDataFrame,
    out_html: Path,
    title: str,
    attribution: str = DEFAULT_ATTRIBUTION,
    tiles: str | None = None,
    tiles_attribution: str = "Base map",
    simplify_tolerance_m: float = SIMPLIFY_TOLERANCE_M,
    decimals: int = 5,
    guide_href: str | None = None,
    code_column: str = "oa21cd",
    area_label: str = "Output Area",
) -> Path:
    """Output Areas coloured by segment (one colour per supergroup), self-contained HTML; the
    legend names each supergroup in short (``code name`` fitted, never cut mid-word) and links to
    the segment guide when *guide_href* is given.

    *oas* is in EPSG:27700 with ``oa21cd``, ``segment``, ``segment_name``, ``colour`` and
    optionally ``legend_key``/``legend_label`` (the supergroup a colour stands for) and
    ``portrait`` (relative link to the segment's pen portrait, shown in the click pop-up) and
    ``note`` (shown in the tooltip where not blank, e.g. an OA of communal establishments).
    Coordinates are rounded to *decimals* (5 = about 1 m) to keep the file small. At the ``ward``
    and ``lad`` levels the areas are wards or local authorities instead (*code_column* their code,
    *area_label* what the tooltip calls them), each in its most common segment.
    """
    if len(oas) == 0:
        raise ValueError("no Output Areas to map")
    wgs, outline = prepare_wards(oas, simplify_tolerance_m, decimals)
    m = new_map(tuple(wgs.total_bounds), tiles, tiles_attribution)
    has_link = "portrait" in wgs.columns
    has_note = "note" in wgs.columns
    features = []
    for row in wgs.itertuples(index=False):
        props = {
            code_column: html_text(getattr(row, code_column)),
            "segment": html_text(row.segment),
            "segment_name": html_text(row.segment_name),
            "fill": str(row.colour),  # a style value (set by Leaflet as an attribute), not HTML
        }
        if has_note:
            props["note"] = html_text(row.note)
        if has_link:
            href = html_text(row.portrait)
            props["link"] = f'<a href="{href}" target="_top">Pen portrait of segment {props["segment"]}</a>'
        features.append({"type": "Feature", "properties": props,
                          "geometry": shapely.geometry.mapping(row.geometry)})
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="Segments",
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.8,
                                  "color": "#ffffff", "weight": 0.6, "opacity": 1},
        highlight_function=highlight,
        tooltip=folium.GeoJsonTooltip(fields=[code_column, "segment", "segment_name", *(["note"] * has_note)],
                                      aliases=[html_text(a) for a in (area_label, "Segment", "Name",
                                                                      "Note")[:3 + has_note]],
                                      sticky=True),
        popup=folium.GeoJsonPopup(fields=["link"], labels=False) if has_link else None,
    ).add_to(m)
    add_outline(m, outline)
    key = "legend_key" if "legend_key" in wgs.columns else "segment"
    label = "legend_label" if "legend_label" in wgs.columns else "segment_name"
    legend_rows = (wgs[[key, label, "colour"]].drop_duplicates(key)
                   .sort_values(key, key=lambda s: s.astype(str).str.zfill(4)))
    legend = legend_html("Segments", list(legend_rows["colour"]),
                          [short_label(k, n, LEGEND_LABEL_MAX)
                           for k, n in zip(legend_rows[key], legend_rows[label], strict=True)],
                          "#", False)
    if guide_href:
        link = f'<div class="ci-row"><a href="{html_text(guide_href)}" target="_top">Segment guide</a></div>'
        legend = legend[: -len("</div>")] + link + "</div>"  # inside the legend box
    html = finish_page(m, title, legend, attribution, tiles)
    return write_page(html, out_html)
