"""`backup`: the database (SQLite online backup, or pg_dump of our tables) and the photos in one archive."""

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from inspection import db
from inspection.db import Base
from inspection.ops.archive import (
    FORMAT,
    MANIFEST,
    PG_MEMBER,
    SQLITE_MEMBER,
    SUMS,
    BackupError,
    app_version,
    counts_text,
    database_facts,
    fail_command,
    libpq_env,
    photo_files,
    run_tool,
    sqlite_file,
)


def _dump_sqlite(engine: Engine, into: Path) -> tuple[Path, dict]:
    """Copy the live SQLite database with the online backup API; return the copy and its facts."""
    source, copy = sqlite_file(engine), into / SQLITE_MEMBER
    if not source.exists():
        raise BackupError(f"数据库文件不存在：{source}", f"The database file is missing: {source}")
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    copy_engine = create_engine(f"sqlite:///{copy}")
    with copy_engine.connect() as conn:
        facts = database_facts(conn)
    copy_engine.dispose()
    return copy, {**facts, "schema": None}


def _dump_postgres(engine: Engine, into: Path) -> tuple[Path, dict]:
    """pg_dump our tables in the app's schema from one snapshot; return the dump and its facts."""
    dump = into / PG_MEMBER
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
            facts = database_facts(conn)
            ours = set(Base.metadata.tables) | {"alembic_version"}
            tables = [f"--table={schema}.{name}" for name in facts["tables"] if name in ours]
            args = ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}"]
            run_tool([*args, f"--file={dump}", *tables], libpq_env(engine.url), "pg_dump")
    return dump, {**facts, "schema": schema}


class _Hashing:
    """A reader that hashes the bytes passing through it."""

    def __init__(self, file):
        self.file, self.digest = file, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """Read and hash."""
        data = self.file.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> str:
    """Stream one file into the archive and return the sha256 of the very bytes written."""
    with open(path, "rb") as file:
        info = tar.gettarinfo(fileobj=file, arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = _Hashing(file)
        tar.addfile(info, reader)
    return reader.digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> str:
    """Add bytes as a regular file and return their sha256."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o644
    tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(data).hexdigest()


def _write_archive(path: Path, files: list[tuple[str, Path]], facts: dict) -> dict:
    """Write the archive to a temporary file beside path, then rename it; return the manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            sums = {name: _add_file(tar, name, source) for name, source in files}
            manifest = {**facts, "files": dict(sums)}
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            sums[MANIFEST] = _add_bytes(tar, MANIFEST, data)
            _add_bytes(tar, SUMS, "".join(f"{h}  {n}\n" for n, h in sums.items()).encode())
        with open(tmp, "rb") as file:
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return manifest


def make_backup(engine: Engine, photo_dir: str | Path, path: str | Path) -> dict:
    """Back up the database and the photos into one archive at path; return its manifest."""
    backend = engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="backup-") as tmp:
        try:
            dump = _dump_sqlite if backend == "sqlite" else _dump_postgres
            db_file, facts = dump(engine, Path(tmp))
        except (sqlite3.Error, OSError) as exc:
            raise BackupError(f"数据库备份失败：{exc}", f"Database backup failed: {exc}") from exc
        facts.pop("tables")
        facts.update(
            format=FORMAT,
            app_version=app_version(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            backend=backend,
            database=db_file.name,
        )
        files = [(db_file.name, db_file), *photo_files(Path(photo_dir))]
        return _write_archive(Path(path), files, facts)


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path: str) -> None:
    """Back up the database and the photos into one checked .tar.gz archive at PATH."""
    try:
        manifest = make_backup(db.engine(), current_app.config["PHOTO_DIR"], path)
    except BackupError as exc:
        fail_command(exc)
    size_mb = Path(path).stat().st_size / 1e6
    click.echo(f"备份完成 / backup written: {path} ({size_mb:.1f} MB)")
    click.echo(f"  revision {manifest['revision']}; {counts_text(manifest['counts'])}")
    click.echo(f"  {len(manifest['files'])} files, sha256 in manifest.json and {SUMS}")
