"""Folium maps of cases and grid cells, styled in the browser by static/js/map.js."""

from geodata.maps.builders import explore_cases, new_map, view_bounds
from geodata.maps.choropleth import CLASS_COLORS, add_choropleth, class_label, count_classes
from geodata.maps.clusters import (
    CLUSTER_COLUMNS,
    cluster_geojson,
    cluster_size_deg,
    cluster_table,
    clusters_geojson,
)
from geodata.maps.filters import CaseFilters, overdue_mask
from geodata.maps.geojson import case_geojson, cell_features
from geodata.maps.layers import add_cases, add_cells, add_legend, add_outline, legend_html
from geodata.maps.page import MapParts, map_parts
from geodata.maps.styles import (
    GROUP_COLORS,
    KIND_SHAPES,
    MAP_GROUPS,
    OUTLINE_COLOR,
    POLYGON_MIN_ZOOM,
    MapText,
)

__all__ = [
    "CLASS_COLORS",
    "CLUSTER_COLUMNS",
    "GROUP_COLORS",
    "KIND_SHAPES",
    "MAP_GROUPS",
    "OUTLINE_COLOR",
    "POLYGON_MIN_ZOOM",
    "CaseFilters",
    "MapParts",
    "MapText",
    "add_cases",
    "add_choropleth",
    "add_cells",
    "add_legend",
    "add_outline",
    "case_geojson",
    "class_label",
    "cell_features",
    "cluster_geojson",
    "view_bounds",
    "cluster_size_deg",
    "cluster_table",
    "clusters_geojson",
    "count_classes",
    "explore_cases",
    "legend_html",
    "map_parts",
    "new_map",
    "overdue_mask",
]
