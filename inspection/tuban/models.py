"""卫片图斑 tables: a batch as the bureau sent it, its 图斑 (change polygons) and the cases they cover."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.accounts.models import User
from inspection.cases.models import Case, StoredPhotoMixin
from inspection.clock import utcnow
from inspection.db import Base
from inspection.geotypes import BBoxMixin, GeometryWKB
from inspection.grid.models import GridCell

# A 图斑 linked to the illegal-building or farmland cases that already cover its ground.
tuban_cases = Table(
    "tuban_cases",
    Base.metadata,
    Column("tuban_id", ForeignKey("tuban.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class TubanBatch(Base):
    """One batch of 图斑 from the bureau (monthly or quarterly), due back by `deadline_on`."""

    __tablename__ = "tuban_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    deadline_on: Mapped[date] = mapped_column(Date)
    # The town it was imported for (a supervisor's upload); None: a county batch over every town.
    town_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    source_name: Mapped[str] = mapped_column(String(255), default="")
    imported_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow
    )  # naive UTC, last import
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    town: Mapped[GridCell | None] = relationship()
    imported_by: Mapped[User | None] = relationship()
    items: Mapped[list["Tuban"]] = relationship(
        back_populates="batch", order_by="Tuban.number", cascade="all, delete-orphan"
    )


class Tuban(BBoxMixin, Base):
    """One 图斑: a change polygon (lon/lat EPSG:4326) with its geodesic area, its 组 and its outcome.

    `outcome` is "linked" (covered by existing cases: no task) or "task" (a 核查 task for the
    网格员 of `group_id`, the 组 holding the largest part of its area, due on the batch deadline).
    """

    __tablename__ = "tuban"
    __table_args__ = (
        UniqueConstraint("batch_id", "number", name="uq_tuban_batch_number"),
        Index("ix_tuban_geom_gist", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("tuban_batches.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(64))  # 图斑编号, as the bureau wrote it
    geom = mapped_column(GeometryWKB("MULTIPOLYGON"), nullable=False)
    area_m2: Mapped[float] = mapped_column(Float)  # geodesic, GRS80
    repaired: Mapped[bool] = mapped_column(Boolean, default=False)  # made valid on import
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)  # 变化类型, 监测面积, 前/后时相 …
    town_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(10))  # linked | task
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    due_on: Mapped[date | None] = mapped_column(Date, index=True)  # a task's deadline
    # 举证: the field check of a task (evidence.py), then the supervisor's review: accepted is 销号
    # (the task closed); every other value leaves it pending.
    review: Mapped[str] = mapped_column(
        String(20), default="open"
    )  # open|submitted|accepted|returned
    conclusion: Mapped[str | None] = mapped_column(String(20))  # evidence.CONCLUSIONS
    approval_no: Mapped[str | None] = mapped_column(String(100))  # 批准文号 of a legal change
    evidence_note: Mapped[str | None] = mapped_column(Text)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checked_on: Mapped[date | None] = mapped_column(Date)
    evidence_client_id: Mapped[str | None] = mapped_column(
        String(64)
    )  # the form's id: a resend is one
    fix_lon: Mapped[float | None] = mapped_column(Float)  # the phone's GPS fix, lon/lat EPSG:4326
    fix_lat: Mapped[float | None] = mapped_column(Float)
    fix_accuracy_m: Mapped[float | None] = mapped_column(Float)
    fix_distance_m: Mapped[float | None] = mapped_column(Float)  # geodesic, fix to polygon
    override_reason: Mapped[str | None] = mapped_column(Text)  # why the fix rule was overridden
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    batch: Mapped[TubanBatch] = relationship(back_populates="items")
    group: Mapped[GridCell | None] = relationship(foreign_keys=[group_id])
    village: Mapped[GridCell | None] = relationship(foreign_keys=[village_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    photos: Mapped[list["TubanPhoto"]] = relationship(
        back_populates="tuban", order_by="TubanPhoto.id", cascade="all, delete-orphan"
    )
    cases: Mapped[list[Case]] = relationship(secondary=tuban_cases, order_by=Case.id)

    def set_geometry(self, geom, area_m2: float) -> None:
        """Store a valid (Multi)Polygon in lon/lat EPSG:4326 with its geodesic area (m²) and bbox."""
        self.geom = geom
        self.area_m2 = area_m2
        self._set_bbox(geom)

    def __repr__(self) -> str:
        return f"<Tuban {self.number} {self.outcome}>"


class TubanPhoto(StoredPhotoMixin, Base):
    """A 举证 photo of a 图斑, stored like a case's photo (content hash, shrunk, EXIF removed)."""

    __tablename__ = "tuban_photos"
    __table_args__ = (UniqueConstraint("tuban_id", "sha256", name="uq_tuban_photos_tuban_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tuban_id: Mapped[int] = mapped_column(ForeignKey("tuban.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    tuban: Mapped[Tuban] = relationship(back_populates="photos")
