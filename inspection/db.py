"""The database: one SQLAlchemy engine per app, a session per app context, SQLite tuned for writers."""

from flask import Flask, current_app
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names, so migrations can refer to them."""

    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str, *, sqlite_busy_ms: int = 10000, pool_size: int = 10) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGINs."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": sqlite_busy_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling is off),
        # so that write transactions can start with BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(sqlite_busy_ms)}")
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (BEGIN IMMEDIATE on SQLite) before any read."""
    if session.in_transaction():
        return
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    else:
        session.connection()


def _session_factory() -> Session:
    return Session(bind=current_app.extensions["db_engine"], expire_on_commit=False)


def _scope() -> int:
    from flask.globals import app_ctx

    return id(app_ctx._get_current_object())


session = scoped_session(_session_factory, scopefunc=_scope)


def init_app(app: Flask) -> None:
    """Create the app's engine and remove the session at the end of each app context."""
    app.extensions["db_engine"] = make_engine(
        app.config["DATABASE_URL"],
        sqlite_busy_ms=app.config.get("SQLITE_BUSY_MS", 10000),
        pool_size=app.config.get("DB_POOL_SIZE", 10),
    )

    @app.teardown_appcontext
    def _remove_session(_exc):
        session.remove()


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["db_engine"]
