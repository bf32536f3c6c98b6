"""The database: one SQLAlchemy engine per app, a session per app context, SQLite tuned for writers."""

import os
import time
from pathlib import Path

from flask import Flask, current_app, has_request_context
from sqlalchemy import JSON, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, scoped_session

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


class Setting(Base):
    """An admin-editable setting stored as JSON (e.g. default time limits per category)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list | str | int | float | None] = mapped_column(JSON)


def make_engine(url: str, *, sqlite_busy_ms: int = 10000, pool_size: int = 10) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGINs."""
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)

        @event.listens_for(engine, "connect")
        def _no_jit(dbapi_connection, _record):
            # PostgreSQL's JIT compiles our short, indexed queries for longer than they run
            # (0.1–0.9 s on an API page measured by bench county); a session setting, so any
            # options= in the URL (a test's search_path) stay as they are.
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET jit = off")
            dbapi_connection.commit()

        return engine
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


class WriteAfterRead(RuntimeError):
    """A write in a transaction that began as a read: on SQLite it would fail under load."""


# session.info key: "read" or "write" for the transaction now open on SQLite, absent otherwise.
_TX = "sqlite_tx"


@event.listens_for(Session, "after_begin")
def _note_begin(session, _transaction, connection):
    if connection.dialect.name == "sqlite":
        mode = connection.get_execution_options().get("sqlite_begin", "")
        session.info[_TX] = "write" if mode == "IMMEDIATE" else "read"


@event.listens_for(Session, "after_flush")
def _note_flush(session, _context):
    # A flush that went through holds SQLite's write lock until the transaction ends.
    if _TX in session.info:
        session.info[_TX] = "write"


@event.listens_for(Session, "after_transaction_end")
def _note_end(session, transaction):
    if transaction.parent is None:
        session.info.pop(_TX, None)


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer's (BEGIN IMMEDIATE on SQLite) before its reads.

    Call it before the first read that a write depends on. A read-only transaction already open
    is ended first (its objects are reloaded on next use): SQLite cannot turn a WAL read into a
    write while others write, and refuses at once, busy timeout or not. Elsewhere it only begins.
    """
    if session.get_bind().dialect.name != "sqlite":
        if not session.in_transaction():
            session.connection()
        return
    state = session.info.get(_TX)
    if state == "write":
        return
    if state == "read":
        if _has_changes(session) or session.in_nested_transaction():
            # Changes already made in the read can't be kept across a new BEGIN.
            _refuse_in_request("begin_write() came after changes made in a read transaction")
            return  # a script or a test's set-up, alone on the database: carry on
        session.rollback()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def _has_changes(session: Session) -> bool:
    """Whether a flush would write: new or deleted objects, or attributes really changed."""
    return bool(
        session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)
    )


def _refuse_in_request(what: str) -> None:
    # Web requests are the concurrent writers; scripts and tests' set-up may write as they like.
    if has_request_context():
        raise WriteAfterRead(
            f"{what}: call db.begin_write(session) before the reads the write depends on "
            "(SQLite refuses a read transaction's first write while others write)"
        )


class AppSession(Session):
    """The app's session: in a web request on SQLite, a write in a read transaction is refused."""


@event.listens_for(AppSession, "before_flush")
def _writes_begin_as_writers(session, _context, _instances):
    if session.get_bind().dialect.name != "sqlite" or session.info.get(_TX) == "write":
        return
    if not _has_changes(session):  # a flush with nothing to write sends nothing
        return
    if session.info.get(_TX) is None:  # nothing read yet: begin the writer's transaction now
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        return
    _refuse_in_request("a write in a transaction that began as a read")


def _session_factory() -> Session:
    return AppSession(bind=current_app.extensions["db_engine"], expire_on_commit=False)


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

    if os.environ.get(TEST_PAUSE_IN_COMMIT):
        _pause_in_commits(Path(os.environ[TEST_PAUSE_IN_COMMIT]))


# Fault tests only (tests/test_faults.py): with this variable naming a file, every commit that
# writes first flushes, notes the worker's pid in that file and sleeps, so that the test can
# SIGKILL the worker inside the transaction. Unset, as always outside that test, nothing happens.
TEST_PAUSE_IN_COMMIT = "INSPECTION_TEST_PAUSE_IN_COMMIT"
TEST_PAUSE_S = 1.0


def _pause_in_commits(marker: Path) -> None:
    """Register the fault tests' pause inside every writing commit (see TEST_PAUSE_IN_COMMIT)."""

    @event.listens_for(AppSession, "before_commit")
    def _pause(session):
        wrote = bool(session.new or session.dirty or session.deleted)
        session.flush()
        if wrote or session.info.get("test_wrote"):
            marker.write_text(str(os.getpid()))
            time.sleep(TEST_PAUSE_S)

    @event.listens_for(AppSession, "after_flush")
    def _wrote(session, _context):
        session.info["test_wrote"] = True

    @event.listens_for(AppSession, "after_transaction_end")
    def _end(session, transaction):
        if transaction.parent is None:
            session.info.pop("test_wrote", None)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["db_engine"]
