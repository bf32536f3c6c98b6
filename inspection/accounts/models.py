"""People's tables: users with their cells and certificates, login throttle, API tokens."""

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from inspection.clock import utcnow
from inspection.db import Base
from inspection.grid.models import GridCell

user_cells = Table(
    "user_cells",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("cell_id", ForeignKey("grid_cells.id", ondelete="CASCADE"), primary_key=True),
)


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

    # The one declaration of the user ↔ cell link; `GridCell.members` is its other end.
    cells: Mapped[list[GridCell]] = relationship(
        secondary=user_cells, backref=backref("members")
    )

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
