"""Patrol tracks on a folium map: lines of lon/lat fixes (EPSG:4326), start and end marks, colours by recency."""

import folium
import numpy as np
import shapely.geometry

# Newest first: a track of the last day, week, month, older (the tracks layer "by recency").
RECENCY_COLOURS = ("#d7301f", "#fc8d59", "#fdcc8a", "#bdbdbd")
RECENCY_DAYS = (1, 7, 31)
TRACK_COLOUR = "#2b6cb0"
DECIMALS = 6  # ≈ 0.1 m: enough for a walk, and keeps the page small


def recency_colour(age_days: float) -> str:
    """The colour of a track that ended `age_days` days ago (the newest red, the oldest grey)."""
    for limit, colour in zip(RECENCY_DAYS, RECENCY_COLOURS, strict=False):
        if age_days < limit:
            return colour
    return RECENCY_COLOURS[-1]


def add_track(
    m: folium.Map,
    lines,
    *,
    colour: str = TRACK_COLOUR,
    weight: int = 4,
    name: str | None = None,
    tooltip: str | None = None,
    ends: tuple[str, str] | None = None,
) -> folium.Map:
    """Draw one patrol's segments, each an (n, 2) array of lon/lat degrees (EPSG:4326), as lines.

    `ends` labels the first and the last fix (e.g. ("开始", "结束")) with small circles.
    """
    layer = folium.FeatureGroup(name=name) if name else m
    for line in lines:
        coords = np.round(np.asarray(line, dtype=np.float64), DECIMALS)
        if len(coords) == 1:
            folium.CircleMarker(
                [coords[0, 1], coords[0, 0]], radius=3, color=colour, fill=True, tooltip=tooltip
            ).add_to(layer)
        elif len(coords) > 1:
            folium.PolyLine(
                coords[:, ::-1].tolist(), color=colour, weight=weight, opacity=0.85, tooltip=tooltip
            ).add_to(layer)
    pieces = [np.asarray(line) for line in lines if len(line)]
    if ends and pieces:
        for (lon, lat), label, fill in (
            (pieces[0][0], ends[0], "#38a169"),
            (pieces[-1][-1], ends[1], "#e53e3e"),
        ):
            folium.CircleMarker(
                [float(lat), float(lon)], radius=6, color="#ffffff", weight=2, fill=True,
                fill_color=fill, fill_opacity=1.0, tooltip=label,
            ).add_to(layer)  # fmt: skip
    if name:
        layer.add_to(m)
    return m


# Coverage from none to whole, five steps (a sequential ramp readable on a grey basemap).
COVERAGE_COLOURS = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")


def coverage_colour(share: float) -> str:
    """The colour of a coverage share (0–1)."""
    step = min(len(COVERAGE_COLOURS) - 1, int(max(share, 0.0) * len(COVERAGE_COLOURS)))
    return COVERAGE_COLOURS[step]


def add_coverage(
    m: folium.Map, cells, *, name: str, label: str = "{name}: {percent}"
) -> folium.Map:
    """Shade cells (a GeoDataFrame in lon/lat EPSG:4326 with code, name, coverage 0–1) by coverage.

    `label` is the tooltip's text with {name} and {percent} (e.g. "一组：覆盖率 35%").
    """
    layer = folium.FeatureGroup(name=name)
    for row in cells.itertuples(index=False):
        share = float(row.coverage)
        text = label.format(name=row.name, percent=f"{share:.0%}")
        colour = coverage_colour(share)
        folium.GeoJson(
            shapely.geometry.mapping(row.geometry),
            style_function=lambda _f, colour=colour: {
                "fillColor": colour, "color": "#08306b", "weight": 1, "fillOpacity": 0.55,
            },
            tooltip=text,
        ).add_to(layer)  # fmt: skip
    layer.add_to(m)
    return m
