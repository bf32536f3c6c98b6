"""The area the report form shows while a parcel is drawn is the server's (GRS80 geodesic), in Chromium."""

import json
import math

import numpy as np
import pytest
import shapely

from geodata.area import geodesic_areas_m2
from tests.cases.test_report_browser import (  # noqa: F401  (the fixtures `served`, `page`)
    inner_square,
    map_point,
    member_and_group,
    open_form,
    page,
    served,
    shown_area,
)

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")

M_PER_DEG_LAT = 110_900.0  # near 30° N; only sizes the random parcels, not measured with


def star_ring(rng, lon0: float, lat0: float, area_ha: float, n: int) -> list[tuple[float, float]]:
    """A simple ring (lon, lat degrees) of n vertices about (lon0, lat0), of roughly area_ha hectares."""
    radius_m = math.sqrt(area_ha * 10_000 / math.pi)
    angles = np.sort(rng.uniform(0, 2 * math.pi, n))
    radii = radius_m * rng.uniform(0.7, 1.3, n)
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(lat0))
    return [
        (lon0 + r * math.cos(t) / m_per_deg_lon, lat0 + r * math.sin(t) / M_PER_DEG_LAT)
        for r, t in zip(radii, angles, strict=True)
    ]


def random_parcels(count: int, seed: int = 20) -> list:
    """Township-sized parcels around lon 113–115, lat 29–31: 0.1–50 ha, 4–12 vertices, some holed or in parts."""
    rng = np.random.default_rng(seed)
    parcels = []
    while len(parcels) < count:
        lon0, lat0 = rng.uniform(113, 115), rng.uniform(29, 31)
        area_ha = rng.uniform(0.1, 50)
        shell = star_ring(rng, lon0, lat0, area_ha, int(rng.integers(4, 13)))
        kind = len(parcels) % 5
        if kind == 3:  # a pond inside the field: a small ring well within the shortest radius
            hole = star_ring(
                rng, lon0, lat0, area_ha * rng.uniform(0.02, 0.08), int(rng.integers(4, 9))
            )
            geom = shapely.Polygon(shell, [hole[::-1]])
        elif kind == 4:  # two plots of one holding, a few hundred metres apart
            other = star_ring(
                rng, lon0 + 0.01, lat0 + 0.005, rng.uniform(0.1, 20), int(rng.integers(4, 13))
            )
            geom = shapely.MultiPolygon([shapely.Polygon(shell), shapely.Polygon(other[::-1])])
        else:
            geom = shapely.Polygon(shell if kind else shell[::-1])  # both orientations
        if geom.is_valid:
            parcels.append(geom)
    return parcels


def test_the_browser_area_of_random_parcels_is_the_servers_to_a_hundredth_of_a_m2(page):  # noqa: F811
    parcels = random_parcels(300)
    assert sum(p.geom_type == "MultiPolygon" for p in parcels) >= 50
    assert sum(p.geom_type == "Polygon" and len(p.interiors) == 1 for p in parcels) >= 50
    open_form(page, "farmland")

    geojson = [json.loads(shapely.to_geojson(p)) for p in parcels]
    in_browser = np.array(
        page.evaluate("(gs) => gs.map((g) => ReportGeo.geometryAreaM2(g))", geojson)
    )
    on_server = geodesic_areas_m2(parcels)

    assert on_server.min() > 300 and on_server.max() < 1_200_000  # 0.03 ha … 70 ha (two parts)
    worst = int(np.argmax(np.abs(in_browser - on_server)))
    assert abs(in_browser[worst] - on_server[worst]) <= 0.01, parcels[worst].wkt
    # A spherical formula (the old display) would be off by ~0.1 %: this is the ellipsoid's area.
    assert (
        page.evaluate("typeof geodesic === 'object' && geodesic.Constants.version_string")
        == "2.2.0"
    )


def test_the_area_under_the_map_is_the_one_in_the_placement_box(page, served):  # noqa: F811
    app, _base = served
    _user, group = member_and_group(app)
    a, b, c, d = inner_square(group)
    open_form(page, "farmland")

    page.click(".leaflet-draw-draw-polygon")
    corners = [map_point(page, *p) for p in (a, b, c, d)]
    for x, y in [*corners, corners[0]]:
        page.mouse.move(x, y, steps=3)
        page.wait_for_timeout(100)
        page.mouse.click(x, y)
    page.wait_for_function("document.getElementById('preview').classList.contains('ok')")
    under_map = shown_area(page.text_content("#draw-area"))
    in_box = shown_area(page.text_content("#preview"))
    drawn = shapely.from_geojson(page.input_value("textarea[name=geometry]"))

    assert under_map == in_box
    server_m2 = float(geodesic_areas_m2([drawn])[0])
    assert under_map[0] == round(server_m2, 2)
    assert under_map[1] == round(server_m2 / (10000 / 15), 2)
