"""A fictional town's 镇/村/组 grid and case shapes, generated from a seed (lon/lat, EPSG:4326)."""

import heapq
from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely import affinity

GRID_SIZE_DEG = 1e-7  # coordinates are rounded to this grid (about 1 cm) before any union
GRS80_A_M = 6378137.0
GRS80_E2 = 0.00669438002290
TOWN = ("PG", "平岗镇")
VILLAGE_NAMES = (
    "平岗村",
    "石桥村",
    "柳塘村",
    "枫林村",
    "新河村",
    "杨湾村",
    "荷花村",
    "桃园村",
    "金竹村",
    "双港村",
    "白沙村",
    "龙泉村",
)
NUMERALS = "一二三四五六七八九十"


def group_name(number: int) -> str:
    """The Chinese name of group `number` (1-based): 一组, 二组 … 十组, 十一组 …"""
    if number <= 10:
        return f"{NUMERALS[number - 1]}组"
    tens, ones = divmod(number, 10)
    head = "十" if tens == 1 else f"{NUMERALS[tens - 1]}十"
    return f"{head}{NUMERALS[ones - 1] if ones else ''}组"


@lru_cache(maxsize=64)
def _to_lonlat(lon0: float, lat0: float) -> Transformer:
    """Local azimuthal-equidistant metres around (lon0, lat0) → lon/lat (GRS80)."""
    local = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=GRS80 +units=m"
    return Transformer.from_crs(local, "EPSG:4326", always_xy=True)


def _local_to_lonlat(geoms, center: tuple[float, float]):
    """Map geometries from local metres around `center` to lon/lat, rounded to the 1e-7° grid."""
    transformer = _to_lonlat(float(center[0]), float(center[1]))

    def forward(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.set_precision(shapely.transform(geoms, forward), GRID_SIZE_DEG)


def _outline(rng: np.random.Generator, half_width_m: float, half_height_m: float):
    """A smooth, irregular closed outline (metres) from a random-radius ellipse."""
    theta = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 7):
        radius += rng.uniform(0.02, 0.13) / k**0.7 * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    turn = rng.uniform(0, np.pi)
    x, y = half_width_m * radius * np.cos(theta), half_height_m * radius * np.sin(theta)
    return shapely.Polygon(
        np.column_stack([x * np.cos(turn) - y * np.sin(turn), x * np.sin(turn) + y * np.cos(turn)])
    )


def _fine_cells(rng: np.random.Generator, outline, n_points: int):
    """Voronoi cells (metres) of relaxed random points: those whose point lies in `outline`."""
    minx, miny, maxx, maxy = outline.buffer(500).bounds
    extent = shapely.box(minx - 2000, miny - 2000, maxx + 2000, maxy + 2000)
    points = np.column_stack([rng.uniform(minx, maxx, n_points), rng.uniform(miny, maxy, n_points)])
    for _ in range(2):  # Lloyd relaxation: fewer needle-shaped cells
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(points), extend_to=extent, ordered=True)
        )
        centroids = shapely.get_coordinates(shapely.centroid(cells))
        inner = shapely.contains_xy(shapely.box(minx, miny, maxx, maxy), centroids)
        points = np.where(inner[:, None], centroids, points)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=extent, ordered=True)
    )
    return cells[shapely.contains_xy(outline, points[:, 0], points[:, 1])]


def _adjacency(cells) -> list[set[int]]:
    """For each cell, the cells sharing an edge of positive length with it."""
    tree = shapely.STRtree(cells)
    left, right = tree.query(cells, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.length(shapely.intersection(cells[left], cells[right]))
    neighbours: list[set[int]] = [set() for _ in range(len(cells))]
    for i, j in zip(left[shared > 0], right[shared > 0], strict=True):
        neighbours[i].add(int(j))
        neighbours[j].add(int(i))
    return neighbours


def _largest_component(members: set[int], neighbours: list[set[int]]) -> set[int]:
    """The largest edge-connected part of a set of cells."""
    best: set[int] = set()
    left = set(members)
    while left:
        start = min(left)
        part, stack = {start}, [start]
        while stack:
            for j in neighbours[stack.pop()]:
                if j in left and j not in part:
                    part.add(j)
                    stack.append(j)
        left -= part
        if len(part) > len(best):
            best = part
    return best


def _kmeans_seeds(rng, xy: np.ndarray, cells: list[int], k: int) -> list[int]:
    """k well-spread seed cells among `cells` (Lloyd's k-means on their centroids)."""
    pts = xy[cells]
    centers = pts[rng.choice(len(cells), size=k, replace=False)]
    for _ in range(20):
        label = np.argmin(((pts[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        centers = np.array(
            [pts[label == c].mean(0) if np.any(label == c) else centers[c] for c in range(k)]
        )
    seeds = []
    for center in centers:
        order = np.argsort(((pts - center) ** 2).sum(-1))
        seeds.append(next(cells[i] for i in order if cells[i] not in seeds))
    return seeds


def _grow(seeds: list[int], cells: set[int], neighbours, weight) -> dict[int, int]:
    """Region growing: each cell goes to the seed with the cheapest path (random edge costs)."""
    label: dict[int, int] = {}
    heap = [(0.0, n, cell, n) for n, cell in enumerate(seeds)]
    while heap:
        cost, _, cell, region = heapq.heappop(heap)
        if cell in label:
            continue
        label[cell] = region
        for j in neighbours[cell]:
            if j in cells and j not in label:
                heapq.heappush(heap, (cost + weight(cell, j), region, j, region))
    return label


def _edge_weights(rng, xy: np.ndarray):
    """A cost per neighbour step: distance × a smooth random 'terrain' × a little noise."""
    field = np.zeros(len(xy))
    for _ in range(6):
        freq = rng.uniform(1 / 2500, 1 / 700, size=2) * rng.choice([-1, 1], size=2)
        field += np.sin(xy @ freq * 2 * np.pi + rng.uniform(0, 2 * np.pi))
    terrain = np.exp(0.35 * field)
    cache: dict[tuple[int, int], float] = {}

    def weight(i: int, j: int) -> float:
        key = (min(i, j), max(i, j))
        if key not in cache:
            dist = float(np.hypot(*(xy[i] - xy[j])))
            cache[key] = dist * (terrain[i] + terrain[j]) / 2 * rng.uniform(0.6, 1.6)
        return cache[key]

    return weight


def _is_simple_polygon(geom) -> bool:
    """True for one valid polygon without holes."""
    return geom.geom_type == "Polygon" and not geom.interiors and geom.is_valid


def _partition(rng, cells: set[int], k: int, xy, neighbours, weight) -> list[set[int]] | None:
    """Split a connected set of cells into k connected regions, or None if that fails."""
    seeds = _kmeans_seeds(rng, xy, sorted(cells), k)
    label = _grow(seeds, cells, neighbours, weight)
    regions = [{c for c, r in label.items() if r == n} for n in range(k)]
    if len(label) != len(cells) or any(len(r) < 3 for r in regions):
        return None
    return regions


def _ordered(regions: list[set[int]], xy: np.ndarray, origin: np.ndarray) -> list[set[int]]:
    """Regions numbered clockwise from north around `origin`."""

    def bearing(region: set[int]) -> float:
        dx, dy = xy[sorted(region)].mean(0) - origin
        return float(np.arctan2(dx, dy) % (2 * np.pi))

    return sorted(regions, key=bearing)


def _attempt(rng, n_villages, groups_per_village, center, n_points, size_m):
    """One try at a town; None when a region comes out multipart or with a hole."""
    outline = _outline(rng, size_m[0] / 2, size_m[1] / 2)
    cells_m = _fine_cells(rng, outline, n_points)
    cells = _local_to_lonlat(cells_m, center)
    neighbours = _adjacency(cells)
    xy = shapely.get_coordinates(shapely.centroid(cells_m))
    town_cells = _largest_component(set(range(len(cells))), neighbours)
    weight = _edge_weights(rng, xy)
    villages = _partition(rng, town_cells, n_villages, xy, neighbours, weight)
    if villages is None:
        return None
    # The village holding the town centre is the seat, 平岗村; the rest go clockwise.
    seat = min(town_cells, key=lambda c: float(np.hypot(*xy[c])))
    first = next(v for v in villages if seat in v)
    villages = [first] + _ordered([v for v in villages if v is not first], xy, np.zeros(2))
    rows = []
    town_geom = shapely.union_all(cells[sorted(town_cells)], grid_size=GRID_SIZE_DEG)
    if not _is_simple_polygon(town_geom):
        return None
    rows.append(("town", TOWN[0], TOWN[1], None, town_geom))
    for v, village in enumerate(villages, start=1):
        v_code = f"{TOWN[0]}{v:02d}"
        v_geom = shapely.union_all(cells[sorted(village)], grid_size=GRID_SIZE_DEG)
        if not _is_simple_polygon(v_geom):
            return None
        rows.append(("village", v_code, VILLAGE_NAMES[v - 1], TOWN[0], v_geom))
        k = int(rng.integers(groups_per_village[0], groups_per_village[1] + 1))
        groups = _partition(rng, village, k, xy, neighbours, weight)
        if groups is None:
            return None
        for g, group in enumerate(_ordered(groups, xy, xy[sorted(village)].mean(0)), start=1):
            g_geom = shapely.union_all(cells[sorted(group)], grid_size=GRID_SIZE_DEG)
            if not _is_simple_polygon(g_geom):
                return None
            rows.append(("group", f"{v_code}-{g:02d}", group_name(g), v_code, g_geom))
    return rows


def make_town(
    seed: int = 2022,
    n_villages: int = 8,
    groups_per_village: tuple[int, int] = (4, 6),
    center: tuple[float, float] = (113.62, 29.85),
    *,
    n_points: int = 1500,
    size_m: tuple[float, float] = (6000.0, 5000.0),
) -> gpd.GeoDataFrame:
    """Generate the fictional 平岗镇: town, villages and groups sharing exact edges (EPSG:4326).

    Columns level, code, name, parent_code, geometry (lon/lat degrees, coordinates on a 1e-7°
    grid). `size_m` is the town's rough width × height in metres around `center` (lon, lat).
    The same seed always gives the same town.
    """
    if not 1 <= n_villages <= len(VILLAGE_NAMES):
        raise ValueError(f"n_villages must be between 1 and {len(VILLAGE_NAMES)}")
    rng = np.random.default_rng(seed)
    for _ in range(50):
        rows = _attempt(rng, n_villages, groups_per_village, center, n_points, size_m)
        if rows is not None:
            break
    else:  # pragma: no cover - every seed tried so far succeeds within a few attempts
        raise RuntimeError("could not generate a town grid")
    level, code, name, parent, geometry = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"level": level, "code": code, "name": name, "parent_code": parent},
        geometry=list(geometry),
        crs="EPSG:4326",
    )


def random_point_in(polygon, rng: np.random.Generator, *, margin_m: float = 0.0):
    """A random point (lon/lat, EPSG:4326) at least `margin_m` metres inside a lon/lat polygon."""
    lon0, lat0 = polygon.representative_point().coords[0]
    # Degrees per metre near the polygon; good enough for a margin of a few hundred metres.
    margin_deg = margin_m / (111_320 * np.cos(np.radians(lat0)))
    inner = polygon.buffer(-margin_deg) if margin_m else polygon
    if inner.is_empty:
        return polygon.representative_point()
    minx, miny, maxx, maxy = inner.bounds
    for _ in range(1000):
        point = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if inner.contains(point):
            return shapely.set_precision(point, GRID_SIZE_DEG)
    return inner.representative_point()  # pragma: no cover


def _around(shape, point):
    """Place a shape drawn in metres (x east, y north) around a lon/lat point; on the 1e-7° grid."""
    # The ellipsoid's radii of curvature at the point (GRS80): exact enough for shapes < 1 km.
    lat_rad = np.radians(point.y)
    w = np.sqrt(1 - GRS80_E2 * np.sin(lat_rad) ** 2)
    m_per_deg_lat = np.radians(GRS80_A_M * (1 - GRS80_E2) / w**3)
    m_per_deg_lon = np.radians(GRS80_A_M / w * np.cos(lat_rad))
    scaled = affinity.scale(shape, 1 / m_per_deg_lon, 1 / m_per_deg_lat, origin=(0, 0))
    return shapely.set_precision(affinity.translate(scaled, point.x, point.y), GRID_SIZE_DEG)


def building_footprint(point, area_m2: float, rng: np.random.Generator):
    """A rotated rectangle of about `area_m2` m² centred on a lon/lat point (EPSG:4326)."""
    aspect = rng.uniform(1.2, 2.4)
    width = float(np.sqrt(area_m2 / aspect))
    shape = shapely.box(-width * aspect / 2, -width / 2, width * aspect / 2, width / 2)
    return _around(affinity.rotate(shape, rng.uniform(0, 180), origin=(0, 0)), point)


def farm_parcel(point, area_m2: float, rng: np.random.Generator):
    """An irregular field parcel of about `area_m2` m² around a lon/lat point (EPSG:4326)."""
    n = int(rng.integers(5, 9))
    theta = (np.arange(n) + rng.uniform(-0.3, 0.3, n)) * 2 * np.pi / n
    radius = rng.uniform(0.75, 1.0, n)
    stretch = rng.uniform(1.0, 1.8)
    ring = np.column_stack([radius * np.cos(theta) * stretch, radius * np.sin(theta)])
    shape = affinity.rotate(shapely.Polygon(ring), rng.uniform(0, 180), origin=(0, 0))
    shape = affinity.scale(shape, *(2 * [np.sqrt(area_m2 / shape.area)]), origin=(0, 0))
    return _around(shape, point)
