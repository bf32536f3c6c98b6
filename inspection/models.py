"""Tables: the 镇/村/组 grid, users, cases with their geometry, status history and photos."""

from datetime import UTC, date, datetime

import shapely
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from inspection.db import Base
from inspection.geotypes import GeometryWKB


def utcnow() -> datetime:
    """Naive UTC now, as stored in every `*_at` column."""
    return datetime.now(UTC).replace(tzinfo=None)


user_cells = Table(
    "user_cells",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("cell_id", ForeignKey("grid_cells.id", ondelete="CASCADE"), primary_key=True),
)


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
    members: Mapped[list["User"]] = relationship(secondary=user_cells, back_populates="cells")

    def set_boundary(self, geom) -> None:
        """Store a (Multi)Polygon boundary in lon/lat EPSG:4326, with its bbox."""
        if geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])
        self.boundary = geom
        self._set_bbox(geom)

    def __repr__(self) -> str:
        return f"<GridCell {self.level} {self.code} {self.name}>"


class User(UserMixin, Base):
    """A person who logs in: 网格员, 执法队员, supervisor or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(20), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    cert_number: Mapped[str | None] = mapped_column(String(64))
    cert_expires_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to end every session of the user at once (logout everywhere, new password).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    cells: Mapped[list[GridCell]] = relationship(secondary=user_cells, back_populates="members")

    def set_password(self, password: str) -> None:
        """Hash and store a password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True if the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Session id for Flask-Login; carries the session version so old cookies stop working."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        """Disabled accounts cannot log in."""
        return bool(self.active)

    def cert_valid_on(self, day: date) -> bool:
        """True if the user holds an enforcement certificate valid on that day."""
        return (
            bool(self.cert_number)
            and self.cert_expires_on is not None
            and (self.cert_expires_on >= day)
        )

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class Case(BBoxMixin, Base):
    """A reported record: an issue, an illegal building or a farmland-restoration parcel."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_geom_gist", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
        Index("ix_cases_kind_status", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Generated by the client per form; a retried submit finds the first case by it.
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="reported")
    source: Mapped[str] = mapped_column(String(20), default="patrol")
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    doc_number: Mapped[str | None] = mapped_column(String(100))  # 文号 of a superior case
    batch: Mapped[str | None] = mapped_column(String(100))  # 交办批次
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    found_on: Mapped[date] = mapped_column(Date, index=True)
    deadline_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    verified_on: Mapped[date | None] = mapped_column(Date)

    town_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)

    geom = mapped_column(GeometryWKB("GEOMETRY"), nullable=False)
    # Representative point (lon/lat, EPSG:4326): grid placement, clustering, list maps.
    point_lon: Mapped[float] = mapped_column(Float)
    point_lat: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float | None] = mapped_column(Float)  # geodesic, GRS80; None for points

    # Issue fields
    measures: Mapped[str | None] = mapped_column(Text)  # 整改措施
    # Illegal-building fields
    party: Mapped[str | None] = mapped_column(String(100))  # 当事人
    structure: Mapped[str | None] = mapped_column(String(32))
    floors: Mapped[int | None] = mapped_column(Integer)
    building_area_m2: Mapped[float | None] = mapped_column(Float)  # 建筑面积
    demolished_area_m2: Mapped[float | None] = mapped_column(Float)
    enforcement_doc_no: Mapped[str | None] = mapped_column(String(100))  # 文书编号
    # Illegal building: 土地性质; farmland: 原地类/问题类型
    land_type: Mapped[str | None] = mapped_column(String(64))
    crop: Mapped[str | None] = mapped_column(String(64))  # 复耕作物
    parcel_no: Mapped[str | None] = mapped_column(String(64))  # 图斑编号
    remarks: Mapped[str | None] = mapped_column(Text)

    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: a stale writer gets StaleDataError instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    town: Mapped[GridCell | None] = relationship(foreign_keys=[town_id])
    village: Mapped[GridCell | None] = relationship(foreign_keys=[village_id])
    group: Mapped[GridCell | None] = relationship(foreign_keys=[group_id])
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id])
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    history: Mapped[list["StatusChange"]] = relationship(
        back_populates="case", order_by="StatusChange.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list["Photo"]] = relationship(
        back_populates="case", order_by="Photo.id", cascade="all, delete-orphan"
    )

    def set_geometry(self, geom, area_m2: float | None) -> None:
        """Store a validated geometry (lon/lat, EPSG:4326), its geodesic area (m²) and bbox."""
        self.geom = geom
        point = geom if geom.geom_type == "Point" else geom.point_on_surface()
        self.point_lon, self.point_lat = point.x, point.y
        self.area_m2 = area_m2
        self._set_bbox(geom)

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.kind} {self.status}>"


class StatusChange(Base):
    """One step of a case's history: who moved it from what to what, when, and why."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # naive UTC
    # The day it happened in the town's time zone: what the year figures count by.
    on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict | None] = mapped_column(JSON)  # officers and their certificates, …

    case: Mapped[Case] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class Photo(Base):
    """A photo of a case, stored by content hash as a shrunk copy and a thumbnail, EXIF removed."""

    __tablename__ = "photos"
    __table_args__ = (UniqueConstraint("case_id", "sha256", name="uq_photos_case_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status_change_id: Mapped[int | None] = mapped_column(ForeignKey("status_changes.id"))
    stage: Mapped[str] = mapped_column(String(10), default="before")  # before / after
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)  # from EXIF, camera local time
    gps_lon: Mapped[float | None] = mapped_column(Float)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="photos")


class Setting(Base):
    """An admin-editable setting stored as JSON (e.g. default time limits per category)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list | str | int | float | None] = mapped_column(JSON)


class AuditEntry(Base):
    """One line of the audit log: logins, refusals and every change to a case, user or grid."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(100), index=True)  # "case:12", "user:3"
    details: Mapped[dict | None] = mapped_column(JSON)


class LoginThrottle(Base):
    """Failed logins per account or per address, and until when further tries are locked."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # "user:name" / "addr:1.2.3.4"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    """A token another system sends as `Authorization: Bearer …`; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


# Last, once every model exists: every flush of these tables writes its audit rows.
from inspection import audit_trail  # noqa: E402, F401
