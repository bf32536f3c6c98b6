"""Geometry columns: PostGIS on PostgreSQL and WKB on SQLite, with shapely values; bbox columns."""

import shapely
from geoalchemy2 import Geometry
from sqlalchemy import Float, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

SRID = 4326


class GeometryWKB(TypeDecorator):
    """Shapely geometry in lon/lat (EPSG:4326): geometry(…, 4326) on PostGIS, WKB bytes elsewhere."""

    impl = LargeBinary
    cache_ok = True
    # Read by GeoAlchemy2's DDL hooks; the GiST index is declared on the table instead.
    spatial_index = False
    use_N_D_index = False

    def __init__(self, geometry_type: str = "GEOMETRY"):
        super().__init__()
        self.geometry_type = geometry_type

    def __repr__(self) -> str:
        return f"GeometryWKB({self.geometry_type!r})"

    def load_dialect_impl(self, dialect):
        """Use a real PostGIS column on PostgreSQL; index is created in the migration."""
        # GeoAlchemy2's DDL hooks call this with dialect=None; a plain column suits them.
        if dialect is None:
            return LargeBinary()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(
                Geometry(self.geometry_type, srid=SRID, spatial_index=False)
            )
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        """Shapely → hex EWKB text for PostGIS (exact, no WKT rounding), WKB bytes for SQLite."""
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, SRID), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value, dialect):
        """(E)WKB bytes or hex text → shapely geometry."""
        if value is None:
            return None
        if hasattr(value, "data"):  # geoalchemy2 WKBElement
            value = value.data
        if isinstance(value, str):
            value = bytes.fromhex(value)
        return shapely.from_wkb(bytes(value))


class BBoxMixin:
    """Bounding-box columns (lon/lat degrees, EPSG:4326) for spatial filtering on any backend."""

    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)

    def _set_bbox(self, geom) -> None:
        if geom is None or geom.is_empty:
            self.min_lon = self.min_lat = self.max_lon = self.max_lat = None
        else:
            self.min_lon, self.min_lat, self.max_lon, self.max_lat = geom.bounds
