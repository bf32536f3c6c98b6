"""The grid's table: one cell of 镇/村/组 with its boundary (the people of a cell: accounts.models)."""

import shapely
from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.db import Base
from inspection.geotypes import BBoxMixin, GeometryWKB


class GridCell(BBoxMixin, Base):
    """One cell of the grid: the town, a village (村) or a group (组), with its boundary."""

    __tablename__ = "grid_cells"
    __table_args__ = (
        Index("ix_grid_cells_boundary_gist", "boundary", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(10), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    boundary = mapped_column(GeometryWKB("MULTIPOLYGON"), nullable=False)
    area_m2: Mapped[float | None] = mapped_column(Float)

    parent: Mapped["GridCell | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["GridCell"]] = relationship(
        back_populates="parent", order_by="GridCell.code"
    )

    def set_boundary(self, geom) -> None:
        """Store a (Multi)Polygon boundary in lon/lat EPSG:4326, with its bbox."""
        if geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])
        self.boundary = geom
        self._set_bbox(geom)

    def __repr__(self) -> str:
        return f"<GridCell {self.level} {self.code} {self.name}>"
