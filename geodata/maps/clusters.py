"""Cases counted per kind in cluster cells of about 100 screen pixels, and those cells as GeoJSON."""

import json
from datetime import date

import numpy as np
import pandas as pd

from geodata.maps.filters import overdue_mask
from geodata.maps.geojson import COORD_DECIMALS, case_frame, collection
from geodata.maps.styles import GROUP_COLORS, MAP_GROUPS

CLUSTER_PX = 100  # server-side cluster cell, in screen pixels at the requested zoom
CLUSTER_COLUMNS = ("kind", "x", "y", "n", "lon", "lat", "w", "s", "e", "nn", "o", *GROUP_COLORS)


def cluster_size_deg(zoom: int, lat_deg: float, cell_px: int = CLUSTER_PX) -> tuple[float, float]:
    """A cluster cell's (width, height) in degrees: cell_px screen pixels at zoom near lat_deg.

    The latitude is rounded to a whole degree so cells stay put while the map pans in a town.
    """
    width = 360.0 / (256 * 2 ** int(zoom)) * cell_px
    return width, width * float(np.cos(np.radians(round(float(lat_deg)))))


def cluster_table(cases, *, zoom: int, today: date, cell_px: int = CLUSTER_PX) -> pd.DataFrame:
    """Cases grouped per kind into cluster cells (see cluster_size_deg): CLUSTER_COLUMNS per cell.

    x, y number the cell, n counts the cases, lon/lat is their mean, w/s/e/nn their bounds
    (EPSG:4326 degrees), o the overdue ones, and open/done/verified/void those of each group.
    """
    frame = case_frame(cases)
    if len(frame) == 0:
        return pd.DataFrame({name: [] for name in CLUSTER_COLUMNS})
    lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    width, height = cluster_size_deg(zoom, float(np.mean(lat)), cell_px)
    table = pd.DataFrame(
        {
            "kind": frame["kind"].to_numpy(),
            "x": np.floor((lon + 180) / width).astype(np.int64),
            "y": np.floor((lat + 90) / height).astype(np.int64),
            "lon": lon,
            "lat": lat,
            "o": overdue_mask(frame, today).astype(np.int64),
        }
    )
    group = frame["status"].map(MAP_GROUPS).to_numpy()
    for name in GROUP_COLORS:
        table[name] = (group == name).astype(np.int64)
    agg = table.groupby(["kind", "x", "y"], sort=False).agg(
        n=("lon", "size"),
        lon=("lon", "mean"),
        lat=("lat", "mean"),
        w=("lon", "min"),
        s=("lat", "min"),
        e=("lon", "max"),
        nn=("lat", "max"),
        o=("o", "sum"),
        **{name: (name, "sum") for name in GROUP_COLORS},
    )
    return agg.reset_index()[list(CLUSTER_COLUMNS)]


def clusters_geojson(clusters: pd.DataFrame, **members) -> str:
    """Cluster cells (CLUSTER_COLUMNS) as compact GeoJSON points at their mean positions.

    Properties: n count, k kind, c the cell ("x_y": clusters of several kinds in one cell can be
    merged), gs the counts per legend group (open, done, verified, void), o overdue count and
    b bounds [W, S, E, N] (EPSG:4326 degrees) for zooming to the cluster.
    """
    names = list(GROUP_COLORS)
    if len(clusters) == 0:
        return collection([], mode="clusters", total=0, **members)
    counts = clusters[names].to_numpy(dtype=np.int64).tolist()

    def num(value) -> str:
        return repr(round(float(value), COORD_DECIMALS))

    features = [
        '{"type":"Feature","geometry":{"type":"Point","coordinates":'
        f"[{num(row.lon)},{num(row.lat)}]}},"
        f'"properties":{{"n":{int(row.n)},"k":{json.dumps(row.kind)},"c":"{int(row.x)}_{int(row.y)}",'
        f'"gs":{json.dumps(gs)},"o":{int(row.o)},'
        f'"b":[{num(row.w)},{num(row.s)},{num(row.e)},{num(row.nn)}]}}}}'
        for row, gs in zip(clusters.itertuples(), counts, strict=True)
    ]
    total = int(clusters["n"].sum())
    return collection(features, mode="clusters", total=total, **members)


def cluster_geojson(cases, *, zoom: int, today: date, cell_px: int = CLUSTER_PX, **members) -> str:
    """Cases (lon/lat EPSG:4326) in clusters per kind of about cell_px pixels at zoom, as GeoJSON."""
    return clusters_geojson(
        cluster_table(cases, zoom=zoom, today=today, cell_px=cell_px), **members
    )
