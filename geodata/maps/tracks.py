"""Patrol tracks on a folium map: lines of lon/lat fixes (EPSG:4326), start and end marks, colours by recency."""

import folium
import numpy as np

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
