"""Patrol tables: the patrol with its figures, the batches of fixes as received, the cleaned segments, linked cases."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.accounts.models import User
from inspection.cases.models import Case  # noqa: F401  (the table patrol_cases refers to)
from inspection.clock import utcnow
from inspection.db import Base
from inspection.geotypes import BBoxMixin, GeometryWKB
from inspection.grid.models import GridCell


class Patrol(BBoxMixin, Base):
    """One 网格员's walk: recorded on the phone (`phone`) or imported from a track file (`file`).

    `client_id` is the phone's id of the patrol, or the sha256 of an imported file's bytes: the
    same file imported twice finds the first patrol. Figures are those of the cleaned track
    (geodata.track_clean): length_m geodesic on GRS80, duration_s (None without times).
    """

    __tablename__ = "patrols"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    origin: Mapped[str] = mapped_column(String(10))  # phone / file
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_format: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default="running")  # running / ended
    # The town of the 网格员 (his cells) or, failing that, of the track: whose supervisors see it.
    town_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    # The town day it counts on: the day it started, or the import day for a file without times.
    day: Mapped[date] = mapped_column(Date, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC, first kept fix
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC, last kept fix
    points: Mapped[int] = mapped_column(Integer, default=0)
    kept: Mapped[int] = mapped_column(Integer, default=0)
    dropped_accuracy: Mapped[int] = mapped_column(Integer, default=0)
    dropped_speed: Mapped[int] = mapped_column(Integer, default=0)
    dropped_duplicate_time: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    length_m: Mapped[float] = mapped_column(Float, default=0.0)
    duration_s: Mapped[float | None] = mapped_column(Float)
    has_times: Mapped[bool] = mapped_column(Boolean, default=True)
    kept_inside: Mapped[int] = mapped_column(Integer, default=0)  # kept fixes inside a group
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
    town: Mapped[GridCell | None] = relationship()
    batches: Mapped[list["PatrolBatch"]] = relationship(
        back_populates="patrol", order_by="PatrolBatch.id", cascade="all, delete-orphan"
    )
    tracks: Mapped[list["PatrolSegment"]] = relationship(
        back_populates="patrol", order_by="PatrolSegment.seq", cascade="all, delete-orphan"
    )

    @property
    def outside(self) -> bool:
        """True when no kept fix lies in any group of the grid (stored, shown, counts no coverage)."""
        return self.kept > 0 and self.kept_inside == 0

    @property
    def dropped(self) -> dict[str, int]:
        """Dropped fixes by reason, in the order the issue lists them."""
        return {
            "accuracy": self.dropped_accuracy,
            "speed": self.dropped_speed,
            "duplicate_time": self.dropped_duplicate_time,
        }

    def __repr__(self) -> str:
        return f"<Patrol {self.id} {self.origin} {self.status}>"


class PatrolBatch(Base):
    """Fixes as the phone sent them (or as the file held them), packed; a resent batch is stored once."""

    __tablename__ = "patrol_batches"
    __table_args__ = (UniqueConstraint("patrol_id", "client_id", name="uq_patrol_batches_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    fixes: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # see inspection.patrols.packing
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    patrol: Mapped[Patrol] = relationship(back_populates="batches")


class PatrolSegment(BBoxMixin, Base):
    """One segment of a cleaned track: its line (lon/lat, EPSG:4326), kept fixes packed, figures."""

    __tablename__ = "patrol_segments"
    __table_args__ = (
        Index("ix_patrol_segments_geom_gist", "geom", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    fixes: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    length_m: Mapped[float] = mapped_column(Float)
    geom = mapped_column(GeometryWKB("GEOMETRY"), nullable=False)  # LineString, or Point alone
    data: Mapped[bytes] = mapped_column(LargeBinary)  # kept fixes, see inspection.patrols.packing

    patrol: Mapped[Patrol] = relationship(back_populates="tracks")


class PatrolCase(Base):
    """A case reported during a patrol, by the patrol's client id (the case may arrive first)."""

    __tablename__ = "patrol_cases"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    patrol_client_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
