"""Self-contained ward choropleth maps (one HTML file, no network needed to view).

Council intranets often block CDNs, so every map is a single HTML file:

* Leaflet's JS/CSS are inlined from the installed ``xstatic-leaflet`` package;
* folium's default CDN assets (jQuery, Bootstrap, Font Awesome, awesome-markers) are
  switched off on the ``Map`` instance and anything left is stripped by
  :func:`pipeline.render.offline.make_offline`;
* no base tiles unless a tile URL is passed explicitly;
* the legend and title are plain inline HTML/CSS (no branca colormap, which pulls d3);
* folium's random element ids are replaced by sequential ones so the same input gives a
  byte-identical file.

Suppressed values never reach the page: only the caller's display strings (``"#"`` where
suppressed) go into the GeoJSON properties, never the raw counts.

Every caller string is text, never markup (:mod:`pipeline.escape`): Leaflet inserts layer names,
attributions, tooltips and pop-ups as HTML, so each is passed through ``html_text`` before it
reaches folium or Leaflet, and strings written into the page's own scripts go through
``js_string``/``script_json`` as well, so that not even ``</script>`` can end a script early.

The package, one job a module:

* :mod:`~pipeline.render.maps.geometry`: wards and OAs simplified, outlined, reprojected and rounded;
* :mod:`~pipeline.render.maps.classes`: palettes, index bands, class breaks and the legend box;
* :mod:`~pipeline.render.maps.features`: the ward layer's GeoJSON properties, style and tooltip;
* :mod:`~pipeline.render.maps.page`: the offline page around the layers, and writing it;
* :mod:`~pipeline.render.maps.overlays`: target areas, catchments and service points;
* :mod:`~pipeline.render.maps.layered`: `layered_map` and `multi_service_map`;
* :mod:`~pipeline.render.maps.segment`: `segment_map`.
"""

from pipeline.render.maps.classes import (
    HATCH_ID,
    INDEX_BAND_LABELS,
    INDEX_BANDS,
    INDEX_PALETTE,
    PALETTE,
    SUPPRESSED_COLOUR,
    SUPPRESSED_HATCH,
    class_breaks,
)
from pipeline.render.maps.geometry import COORD_DECIMALS, SIMPLIFY_TOLERANCE_M, prepare_wards
from pipeline.render.maps.layered import layered_map, multi_service_map
from pipeline.render.maps.overlays import POINT_COLOUR, TARGET_COLOUR
from pipeline.render.maps.segment import LEGEND_LABEL_MAX, segment_map

__all__ = [
    "COORD_DECIMALS",
    "HATCH_ID",
    "INDEX_BANDS",
    "INDEX_BAND_LABELS",
    "INDEX_PALETTE",
    "LEGEND_LABEL_MAX",
    "PALETTE",
    "POINT_COLOUR",
    "SIMPLIFY_TOLERANCE_M",
    "SUPPRESSED_COLOUR",
    "SUPPRESSED_HATCH",
    "TARGET_COLOUR",
    "class_breaks",
    "layered_map",
    "multi_service_map",
    "prepare_wards",
    "segment_map",
]
