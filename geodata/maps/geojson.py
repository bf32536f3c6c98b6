"""Cases and grid cells as compact GeoJSON for map.js: lon/lat (EPSG:4326) to 5 decimals, short names."""

import json
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import is_wgs84_lonlat
from geodata.maps.filters import overdue_mask

COORD_DECIMALS = 5  # ≈ 1 m on the ground: enough for a map, a third smaller than 6 decimals


def case_frame(cases) -> pd.DataFrame:
    """A case table with lon/lat of each case's representative point, in EPSG:4326 degrees."""
    if isinstance(cases, gpd.GeoDataFrame):
        if cases.crs is not None and not is_wgs84_lonlat(cases.crs):
            cases = cases.to_crs("EPSG:4326")
        frame = pd.DataFrame(cases.drop(columns=cases.geometry.name))
        frame["geometry"] = cases.geometry.array.to_numpy()
    else:
        frame = pd.DataFrame(cases)
    if not {"lon", "lat"} <= set(frame.columns):
        geoms = np.asarray(frame["geometry"], dtype=object)
        points = shapely.point_on_surface(geoms)
        frame["lon"], frame["lat"] = shapely.get_x(points), shapely.get_y(points)
    return frame[frame["lon"].notna() & frame["lat"].notna()]


def round_coords(coords: np.ndarray) -> np.ndarray:
    """Coordinates (lon/lat degrees) rounded to COORD_DECIMALS, for shapely.transform."""
    return np.round(coords, COORD_DECIMALS)


def collection(features: list[str], **members) -> str:
    """A FeatureCollection as JSON text from features already encoded, with extra members."""
    head = "".join(f"{json.dumps(k)}:{json.dumps(v)}," for k, v in members.items())
    return '{"type":"FeatureCollection",' + head + '"features":[' + ",".join(features) + "]}"


def dump_json(value) -> str:
    """Compact UTF-8 JSON text (no spaces, Chinese kept as is)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value) -> str | None:
    """A string value of a table cell, or None for missing ones."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    return str(value)


def case_geojson(cases, *, today: date, polygons: bool = True, **members) -> str:
    """Cases as compact GeoJSON text: coordinates to 5 decimals (≈1 m), short property names.

    The table needs id, kind, status and a geometry (lon/lat, EPSG:4326) or lon/lat columns;
    title, deadline_on, area_m2 (m²), village and group (names) show in the popup when present.
    Properties: i id, k kind, s status, o 1 if overdue, t title, d deadline, a area m²,
    w village / group, p [lon, lat] of a polygon's representative point. Polygons stay
    polygons when `polygons` is true, else they become that point.
    """
    frame = case_frame(cases)
    n = len(frame)
    over = overdue_mask(frame, today)
    lons = np.round(frame["lon"].to_numpy(float), COORD_DECIMALS).tolist()
    lats = np.round(frame["lat"].to_numpy(float), COORD_DECIMALS).tolist()
    shapes: list[str | None] = [None] * n
    if polygons and "geometry" in frame and n:
        geoms = np.asarray(frame["geometry"], dtype=object)
        is_area = np.isin(shapely.get_type_id(geoms), (3, 6))
        if is_area.any():
            rounded = shapely.transform(geoms[is_area], round_coords)
            for pos, text in zip(np.flatnonzero(is_area), shapely.to_geojson(rounded), strict=True):
                shapes[pos] = text

    def column(name: str) -> list:
        return frame[name].tolist() if name in frame else [None] * n

    titles, deadlines, areas = column("title"), column("deadline_on"), column("area_m2")
    villages, groups = column("village"), column("group")
    features = []
    for pos, (case_id, kind, status) in enumerate(
        zip(frame["id"].tolist(), frame["kind"].tolist(), frame["status"].tolist(), strict=True)
    ):
        props: dict = {"i": int(case_id), "k": kind, "s": status}
        if over[pos]:
            props["o"] = 1
        if (title := _text(titles[pos])) is not None:
            props["t"] = title
        if (deadline := _text(deadlines[pos])) is not None:
            props["d"] = deadline[:10]
        area = areas[pos]
        if area is not None and not pd.isna(area) and area > 0:
            props["a"] = round(float(area), 2)
        where = " / ".join(t for t in (_text(villages[pos]), _text(groups[pos])) if t)
        if where:
            props["w"] = where
        point = f'{{"type":"Point","coordinates":[{lons[pos]!r},{lats[pos]!r}]}}'
        if shapes[pos] is not None:
            props["p"] = [lons[pos], lats[pos]]
        geometry = shapes[pos] or point
        features.append(
            f'{{"type":"Feature","geometry":{geometry},"properties":{dump_json(props)}}}'
        )
    return collection(features, mode="features", total=n, polygons=polygons, **members)


def cell_features(cells) -> dict:
    """Grid cells (code, name, geometry lon/lat EPSG:4326; optional open, mu) as a FeatureCollection.

    Outlines are simplified to about 1 m and rounded to 5 decimals (surveyed boundaries can have
    thousands of vertices); lp is the label point inside each cell.
    """
    frame = cells if isinstance(cells, gpd.GeoDataFrame) else gpd.GeoDataFrame(cells)
    if frame.crs is not None and not is_wgs84_lonlat(frame.crs):
        frame = frame.to_crs("EPSG:4326")
    outlines = shapely.simplify(
        frame.geometry.array.to_numpy(), 10**-COORD_DECIMALS, preserve_topology=True
    )
    geoms = shapely.transform(outlines, round_coords)
    labels = shapely.point_on_surface(frame.geometry.array.to_numpy())
    features = []
    for pos, row in enumerate(frame.itertuples()):
        props = {"code": row.code, "name": row.name}
        for stat in ("open", "mu", "n"):
            value = getattr(row, stat, None)
            if value is not None and not pd.isna(value):
                props[stat] = round(float(value), 2)
        props["lp"] = [round(shapely.get_x(labels[pos]), 6), round(shapely.get_y(labels[pos]), 6)]
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geoms[pos])),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}
