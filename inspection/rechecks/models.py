"""The re-check table: one 回头看 task per closure of an illegal-building or farmland case."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.clock import utcnow
from inspection.db import Base
from inspection.grid.models import GridCell


class Recheck(Base):
    """A 回头看 of a closed case: due some days after its closure (or on a 图斑 batch's deadline).

    `closed_on` is the case's `verified_on` that this re-check follows: one re-check per closure,
    so a case reopened as 复发 and closed again gets a new one. `status`: open, clear (未复发) or
    recurred (复发: the case was reopened).
    """

    __tablename__ = "rechecks"
    __table_args__ = (
        UniqueConstraint("case_id", "closed_on", name="uq_rechecks_case_closed_on"),
        Index("ix_rechecks_status_due_on", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    closed_on: Mapped[date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(10), default="schedule")  # schedule | tuban
    tuban_id: Mapped[int | None] = mapped_column(ForeignKey("tuban.id", ondelete="SET NULL"))
    due_on: Mapped[date] = mapped_column(Date)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | clear | recurred
    checked_on: Mapped[date | None] = mapped_column(Date)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    fix_lon: Mapped[float | None] = mapped_column(Float)  # the phone's GPS fix, lon/lat EPSG:4326
    fix_lat: Mapped[float | None] = mapped_column(Float)
    fix_accuracy_m: Mapped[float | None] = mapped_column(Float)
    fix_distance_m: Mapped[float | None] = mapped_column(Float)  # geodesic, fix to the case
    override_reason: Mapped[str | None] = mapped_column(Text)  # why the fix rule was overridden
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # a resend is one
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[Case] = relationship()
    group: Mapped[GridCell | None] = relationship(foreign_keys=[group_id])
    village: Mapped[GridCell | None] = relationship(foreign_keys=[village_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])

    def __repr__(self) -> str:
        return f"<Recheck {self.id} case {self.case_id} {self.status}>"
