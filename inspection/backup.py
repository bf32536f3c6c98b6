"""Backup and restore: the database and the photos in one checked .tar.gz with a manifest.

An archive holds `database.sqlite3` (SQLite, copied with the online backup API) or
`database.pgdump` (PostgreSQL, `pg_dump --format=custom` of our tables in the app's schema),
the photo files under `photos/` exactly as they lie under PHOTO_DIR, `manifest.json` (version,
alembic revision, backend, row counts and the sha256 of every file) and `SHA256SUMS`, which
`sha256sum -c` can check by hand. Restore checks everything before it touches anything.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import tomllib
import zlib
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import click
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, func, inspect, select, table
from sqlalchemy.engine import URL, Connection, Engine, make_url

from inspection import db, migrate
from inspection.db import Base

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
PHOTOS = "photos"
COUNTED = ("cases", "photos", "status_changes", "users")
# URL query keys that libpq also reads from the environment.
_LIBPQ_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "options": "PGOPTIONS",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
}


class BackupError(Exception):
    """A backup or restore that cannot go on, with the reason in Chinese and English."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh}\n{en}")
        self.zh, self.en = zh, en


def app_version() -> str:
    """The version in pyproject.toml."""
    pyproject = migrate.MIGRATIONS.parent / "pyproject.toml"
    try:
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def known_revisions() -> set[str]:
    """Every alembic revision this code knows."""
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    return {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}


def libpq_env(url: str | URL) -> dict[str, str]:
    """PG* environment variables (host, user, password, PGOPTIONS with any search_path) for a URL."""
    url = make_url(url)
    env = {}
    for key, value in url.query.items():
        if key in _LIBPQ_ENV:
            env[_LIBPQ_ENV[key]] = value if isinstance(value, str) else value[-1]
    for attr, name in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("username", "PGUSER"),
        ("password", "PGPASSWORD"),
        ("database", "PGDATABASE"),
    ):
        if getattr(url, attr) not in (None, ""):
            env[name] = str(getattr(url, attr))
    return env


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    """Run a PostgreSQL client tool; a failure becomes a BackupError with its stderr."""
    try:
        done = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupError(
            f"找不到 {args[0]}（请安装 PostgreSQL 客户端）", f"{args[0]} not found"
        ) from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-800:]
        raise BackupError(f"{what} 失败：{tail}", f"{what} failed: {tail}")


def _facts(conn: Connection) -> dict:
    """The revision, the row counts and the tables of a database, read on one connection."""
    names = set(inspect(conn).get_table_names())
    counts = {
        name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
        if name in names
        else 0
        for name in COUNTED
    }
    revision = MigrationContext.configure(conn).get_current_revision()
    return {"revision": revision, "counts": counts, "tables": sorted(names)}


def _sqlite_file(engine: Engine) -> Path:
    """The database file behind a SQLite engine (an in-memory database has none)."""
    name = engine.url.database
    if not name or name == ":memory:":
        raise BackupError("内存数据库无法备份或恢复", "An in-memory database cannot be backed up")
    return Path(name).resolve()


def _dump_sqlite(engine: Engine, into: Path) -> tuple[Path, dict]:
    """Copy the live SQLite database with the online backup API; return the copy and its facts."""
    source, copy = _sqlite_file(engine), into / SQLITE_MEMBER
    if not source.exists():
        raise BackupError(f"数据库文件不存在：{source}", f"The database file is missing: {source}")
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    copy_engine = create_engine(f"sqlite:///{copy}")
    with copy_engine.connect() as conn:
        facts = _facts(conn)
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
            facts = _facts(conn)
            ours = set(Base.metadata.tables) | {"alembic_version"}
            tables = [f"--table={schema}.{name}" for name in facts["tables"] if name in ours]
            args = ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}"]
            _run([*args, f"--file={dump}", *tables], libpq_env(engine.url), "pg_dump")
    return dump, {**facts, "schema": schema}


def _photo_files(photo_dir: Path) -> list[tuple[str, Path]]:
    """Every stored photo file as (archive name, path), leaving out unfinished temporary files."""
    if not photo_dir.is_dir():
        return []
    files = (p for p in sorted(photo_dir.rglob("*")) if p.is_file() and not p.name.startswith("."))
    return [(f"{PHOTOS}/{p.relative_to(photo_dir).as_posix()}", p) for p in files]


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
        files = [(db_file.name, db_file), *_photo_files(Path(photo_dir))]
        return _write_archive(Path(path), files, facts)


def safe_member_name(name: str) -> str:
    """The member's path if it stays inside the archive: no absolute path, no `..`, no drive."""
    path = PurePosixPath(name.replace("\\", "/"))
    bad = path.is_absolute() or ".." in path.parts or ":" in name or not path.parts
    if bad or name.startswith("/"):
        raise BackupError(
            f"备份中有不安全的路径：{name!r}", f"Unsafe path in the archive: {name!r}"
        )
    return path.as_posix()


def _corrupt(detail: str) -> BackupError:
    """The error for an archive that fails a check."""
    return BackupError(
        f"备份文件已损坏或被改动，未做任何恢复（{detail}）",
        f"The archive is damaged or altered; nothing was restored ({detail})",
    )


def _extract(archive: Path, into: Path) -> dict[str, str]:
    """Extract the regular files of an archive, checking each path; return name → sha256."""
    found: dict[str, str] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            name = safe_member_name(member.name)
            if member.isdir():
                continue
            if not member.isfile() or name in found:
                raise _corrupt(f"unexpected member {name!r}")
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
            found[name] = sha256_file(target)
        while tar.fileobj.read(1 << 20):  # read to the end: the gzip CRC is checked there
            pass
    return found


def _check_sums(found: dict[str, str], into: Path) -> dict:
    """Check SHA256SUMS and the manifest against every extracted file; return the manifest."""
    if MANIFEST not in found or SUMS not in found:
        raise _corrupt("no manifest.json / SHA256SUMS")
    lines = (into / SUMS).read_text().splitlines()
    sums = {name: digest for digest, name in (line.split("  ", 1) for line in lines if line)}
    if sums != {name: digest for name, digest in found.items() if name != SUMS}:
        raise _corrupt("SHA256SUMS does not match the files")
    manifest = json.loads((into / MANIFEST).read_text())
    if not isinstance(manifest, dict):
        raise _corrupt("manifest.json is not an object")
    if manifest.get("files") != {n: d for n, d in sums.items() if n != MANIFEST}:
        raise _corrupt("manifest.json does not match the files")
    if manifest.get("format") != FORMAT or manifest.get("database") not in found:
        raise _corrupt("unknown archive format")
    return manifest


def unpack_verified(archive: str | Path, into: Path) -> dict:
    """Extract an archive into a folder and check every path and checksum; return the manifest."""
    if not Path(archive).is_file():
        raise BackupError(f"找不到备份文件：{archive}", f"No such backup file: {archive}")
    try:
        return _check_sums(_extract(Path(archive), into), into)
    except BackupError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError, UnicodeError) as exc:
        raise _corrupt(f"{type(exc).__name__}: {exc}") from exc


def _check_compatible(engine: Engine, manifest: dict) -> None:
    """Refuse an archive from newer code or from another backend or schema."""
    revision = manifest.get("revision")
    if revision not in known_revisions():
        raise BackupError(
            f"备份的数据库版本 {revision} 比本程序新（本程序最高 {migrate.head_revision()}），"
            "请先升级程序再恢复",
            f"The backup's schema revision {revision} is newer than this code "
            f"(head {migrate.head_revision()}); upgrade the app before restoring",
        )
    backend = engine.dialect.name
    if manifest.get("backend") != backend:
        raise BackupError(
            f"备份来自 {manifest.get('backend')}，不能恢复到 {backend}",
            f"The backup is from {manifest.get('backend')} and cannot be restored into {backend}",
        )


def is_empty(engine: Engine) -> bool:
    """True if none of our tables holds a row (or there are none yet)."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        for name in set(Base.metadata.tables) & names:
            if conn.execute(select(func.count()).select_from(table(name))).scalar_one():
                return False
    return True


def _write_atomic_copy(source: Path, target: Path) -> None:
    """Copy a file into place through a temporary file in the same folder and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_sqlite_files(path: Path) -> None:
    """Remove a SQLite file with its -wal and -shm companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _prepare_sqlite(engine: Engine, db_file: Path) -> Path:
    """Copy the backup beside the target database, check it and migrate it; return the copy."""
    target = _sqlite_file(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.restore-")
    os.close(fd)
    staged = Path(tmp)
    try:
        shutil.copyfile(db_file, staged)
        with closing(sqlite3.connect(staged)) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise _corrupt("SQLite integrity_check failed")
        staged_engine = db.make_engine(f"sqlite:///{staged}")
        try:
            migrate.upgrade(staged_engine)
        finally:
            staged_engine.dispose()
        with closing(sqlite3.connect(staged)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        _remove_sqlite_files(staged)
        raise
    return staged


def _install_sqlite(engine: Engine, staged: Path) -> None:
    """Copy the prepared database into the target in one write transaction (WAL-safe)."""
    engine.dispose()
    try:
        with (
            closing(sqlite3.connect(staged)) as src,
            closing(sqlite3.connect(_sqlite_file(engine), timeout=30)) as dst,
        ):
            src.backup(dst)
    finally:
        _remove_sqlite_files(staged)


def _prepare_postgres(engine: Engine, manifest: dict, dump: Path, into: Path) -> list[Path]:
    """Turn the dump into SQL scripts (drop our tables, then pg_restore's) before any change."""
    with engine.connect() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
    if manifest.get("schema") != schema:
        raise BackupError(
            f"备份来自 schema {manifest.get('schema')}，目标是 {schema}：请用相同的 search_path",
            f"The backup is of schema {manifest.get('schema')} but the target is {schema}; "
            "use the same search_path",
        )
    script = into / "restore.sql"
    args = ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--file={script}", str(dump)]
    _run(args, {}, "pg_restore")
    # pg_restore --clean drops only what the dump holds; a newer target may have more tables.
    prelude = into / "prelude.sql"
    names = sorted(set(Base.metadata.tables) | {"alembic_version"})
    prelude.write_text("".join(f'DROP TABLE IF EXISTS "{schema}"."{n}" CASCADE;\n' for n in names))
    return [prelude, script]


def _install_postgres(engine: Engine, scripts: list[Path]) -> None:
    """Run the scripts with psql in one transaction: all of it or none of it."""
    engine.dispose()
    files = [arg for path in scripts for arg in ("--file", str(path))]
    args = ["psql", "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"]
    _run([*args, *files], libpq_env(engine.url), "psql (pg_restore)")


def _restore_photos(into: Path, photo_dir: Path, manifest: dict) -> int:
    """Put the archive's photo files under PHOTO_DIR (each atomically); return how many."""
    count = 0
    for name, digest in manifest["files"].items():
        if not name.startswith(f"{PHOTOS}/"):
            continue
        target = photo_dir / PurePosixPath(name).relative_to(PHOTOS)
        if not (target.is_file() and sha256_file(target) == digest):
            _write_atomic_copy(into / name, target)
        count += 1
    return count


def _upgrade_restored(engine: Engine) -> None:
    """Bring a restored PostgreSQL database up to the newest schema."""
    try:
        migrate.upgrade(engine)
    except Exception as exc:
        raise BackupError(
            f"数据已恢复，但升级到最新版本失败：{exc}",
            f"The data was restored but upgrading it to the newest schema failed: {exc}",
        ) from exc


def restore_backup(
    engine: Engine, photo_dir: str | Path, archive: str | Path, *, force: bool = False
) -> dict:
    """Check an archive, then restore its database and photos and migrate; return its manifest."""
    with tempfile.TemporaryDirectory(prefix="restore-") as tmp:
        into = Path(tmp)
        manifest = unpack_verified(archive, into)
        _check_compatible(engine, manifest)
        if not force and not is_empty(engine):
            raise BackupError(
                "目标数据库不是空的，未做任何恢复；确认要覆盖请加 --force",
                "The target database is not empty; nothing was restored (use --force to overwrite)",
            )
        db_file = into / manifest["database"]
        if engine.dialect.name == "sqlite":
            staged = _prepare_sqlite(engine, db_file)
            try:
                _restore_photos(into, Path(photo_dir), manifest)
            except BaseException:
                _remove_sqlite_files(staged)
                raise
            _install_sqlite(engine, staged)
        else:
            scripts = _prepare_postgres(engine, manifest, db_file, into)
            _restore_photos(into, Path(photo_dir), manifest)
            _install_postgres(engine, scripts)
            _upgrade_restored(engine)
    return manifest


def _fail(error: Exception) -> None:
    """Print the error in red and exit with status 1."""
    click.secho(str(error), fg="red", err=True)
    raise SystemExit(1)


def _counts_text(counts: dict) -> str:
    """Row counts as one short line."""
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in COUNTED)


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path: str) -> None:
    """Back up the database and the photos into one checked .tar.gz archive at PATH."""
    try:
        manifest = make_backup(db.engine(), current_app.config["PHOTO_DIR"], path)
    except BackupError as exc:
        _fail(exc)
    size_mb = Path(path).stat().st_size / 1e6
    click.echo(f"备份完成 / backup written: {path} ({size_mb:.1f} MB)")
    click.echo(f"  revision {manifest['revision']}; {_counts_text(manifest['counts'])}")
    click.echo(f"  {len(manifest['files'])} files, sha256 in manifest.json and {SUMS}")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="覆盖非空数据库 / Overwrite a non-empty database")
def restore_command(path: str, force: bool) -> None:
    """Restore the database and photos from a backup archive, then upgrade the schema (app stopped)."""
    engine = db.engine()
    try:
        manifest = restore_backup(engine, current_app.config["PHOTO_DIR"], path, force=force)
    except BackupError as exc:
        _fail(exc)
    with engine.connect() as conn:
        facts = _facts(conn)
    click.echo(f"恢复完成 / restored: {path} (备份于 / made {manifest['created_at']})")
    click.echo(f"  revision {manifest['revision']} → {facts['revision']}")
    click.echo(f"  {_counts_text(facts['counts'])}")
