"""How far a position is from a geometry: geodesic metres on GRS80 and the compass direction to it."""

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.ops import nearest_points

_GEOD = Geod(ellps="GRS80")


def _local(lon_deg: float, lat_deg: float) -> Transformer:
    """lon/lat (EPSG:4326) → metres in an azimuthal equidistant projection centred on the position."""
    local = f"+proj=aeqd +lat_0={lat_deg} +lon_0={lon_deg} +ellps=GRS80 +units=m"
    return Transformer.from_crs("EPSG:4326", local, always_xy=True)


def distance_to_m(lon_deg: float, lat_deg: float, geom) -> float:
    """Geodesic distance in metres (GRS80) from a position to a geometry in lon/lat; 0.0 inside it.

    Measured in an azimuthal equidistant projection centred on the position, where distances from
    the centre are true geodesic distances.
    """
    if geom.covers(shapely.Point(lon_deg, lat_deg)):
        return 0.0
    local = shapely.transform(geom, lambda xy: _xy(_local(lon_deg, lat_deg), xy))
    return float(local.distance(shapely.Point(0.0, 0.0)))


def _xy(transformer: Transformer, xy):
    """Coordinates (n × 2, lon/lat) through a transformer, as an n × 2 array."""
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def bearing_to_deg(lon_deg: float, lat_deg: float, geom) -> float | None:
    """The compass bearing in degrees (0 = north, clockwise) from a position to a geometry's nearest
    point (lon/lat EPSG:4326), or None when the position lies on or inside it."""
    if geom.covers(shapely.Point(lon_deg, lat_deg)):
        return None
    _, target = nearest_points(shapely.Point(lon_deg, lat_deg), geom)
    forward, _, _ = _GEOD.inv(lon_deg, lat_deg, target.x, target.y)
    return forward % 360.0


def same_ground(geom, others, *, radius_m: float = 50.0) -> list[bool]:
    """Whether each of `others` lies on the same ground as `geom` (all lon/lat EPSG:4326).

    Two polygons are on the same ground when they share area; when either is a point, when they
    are within `radius_m` metres of each other (geodesic, GRS80).
    """
    answers = []
    areal = geom.geom_type in ("Polygon", "MultiPolygon")
    for other in others:
        if areal and other.geom_type in ("Polygon", "MultiPolygon"):
            answers.append(geom.intersection(other).area > 0)
            continue
        point, shape = (geom, other) if geom.geom_type == "Point" else (other, geom)
        if point.geom_type != "Point":
            point = point.representative_point()
        answers.append(distance_to_m(point.x, point.y, shape) <= radius_m)
    return answers
