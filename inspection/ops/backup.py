"""Backup and restore: the database and the photos in one checked .tar.gz with a manifest.

An archive holds `database.sqlite3` (SQLite, copied with the online backup API) or
`database.pgdump` (PostgreSQL, `pg_dump --format=custom` of our tables in the app's schema),
the photo files under `photos/` exactly as they lie under PHOTO_DIR, `manifest.json` (version,
alembic revision, backend, row counts and the sha256 of every file) and `SHA256SUMS`, which
`sha256sum -c` can check by hand. Restore checks everything before it touches anything: the
unpacked size (BACKUP_MAX_UNPACKED_BYTES, and at most MAX_RATIO times the archive's size), every path
and checksum, and the manifest's row counts against the restored database (a mismatch leaves the
target as it was). Photos in PHOTO_DIR that the archive does not hold are moved aside, never mixed in.
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
from dataclasses import dataclass
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
from inspection.settings import defaults

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
PHOTOS = "photos"
COUNTED = ("cases", "photos", "status_changes", "users")
# An archive may unpack to at most this many times its own size (gzip reaches about 1000 on zeros;
# photos do not compress and a database rarely shrinks tenfold), and never below MIN_ALLOWANCE.
MAX_RATIO = 100
MIN_ALLOWANCE = 64 * 1024 * 1024
TAR_HEADER = 512  # each member costs a header block, counted so that many empty files add up too
MISMATCH = "manifest mismatch:"  # what the PostgreSQL check raises, found again in psql's stderr
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


def unpack_allowance(archive: Path, max_bytes: int) -> int:
    """How many bytes an archive may unpack to: the setting, and at most MAX_RATIO × its size."""
    return min(max_bytes, max(MAX_RATIO * archive.stat().st_size, MIN_ALLOWANCE))


def _too_large(allowed: int) -> BackupError:
    """The error for an archive that would unpack beyond what is allowed (a tar/zip bomb)."""
    return BackupError(
        f"备份解压后将超过 {allowed} 字节（BACKUP_MAX_UNPACKED_BYTES，且不超过压缩包的 "
        f"{MAX_RATIO} 倍），未做任何恢复",
        f"The archive would unpack to more than {allowed} bytes (BACKUP_MAX_UNPACKED_BYTES, and at "
        f"most {MAX_RATIO} times the archive's size); nothing was restored",
    )


def _extract(archive: Path, into: Path, allowed: int) -> dict[str, str]:
    """Extract the regular files of an archive, checking each path and the total size against
    allowed before writing a member; return name → sha256."""
    found: dict[str, str] = {}
    total = 0
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            name = safe_member_name(member.name)
            total += TAR_HEADER + max(member.size, 0)
            if total > allowed:
                raise _too_large(allowed)
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
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not all(
        type(counts.get(name)) is int and counts[name] >= 0 for name in COUNTED
    ):
        raise _corrupt("manifest.json has no valid row counts")
    return manifest


def unpack_verified(archive: str | Path, into: Path, max_bytes: int | None = None) -> dict:
    """Extract an archive into a folder and check every path and checksum; return the manifest.

    The archive may unpack to at most max_bytes (default: the BACKUP_MAX_UNPACKED_BYTES default)
    and MAX_RATIO times its size; a larger one is refused before the member that crosses it.
    """
    if not Path(archive).is_file():
        raise BackupError(f"找不到备份文件：{archive}", f"No such backup file: {archive}")
    if max_bytes is None:
        max_bytes = defaults()["BACKUP_MAX_UNPACKED_BYTES"]
    try:
        allowed = unpack_allowance(Path(archive), int(max_bytes))
        return _check_sums(_extract(Path(archive), into, allowed), into)
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


def _mismatch(detail: str) -> BackupError:
    """The error for a restored database whose rows differ from what the manifest says."""
    return BackupError(
        f"恢复出的数据库与备份清单不符，已撤销，目标保持原样（{detail}）",
        f"The restored database does not match the manifest; undone, the target is as it was "
        f"({detail})",
    )


def _differences(manifest: dict, facts: dict) -> str:
    """How a database's revision and row counts differ from the manifest's ('' if they agree)."""
    found = []
    if facts["revision"] != manifest["revision"]:
        found.append(f"revision {facts['revision']} restored, {manifest['revision']} in manifest")
    for name in COUNTED:
        have, want = facts["counts"][name], manifest["counts"][name]
        if have != want:
            found.append(f"{name} {have} restored, {want} in manifest")
    return "; ".join(found)


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


def _prepare_sqlite(engine: Engine, manifest: dict, db_file: Path) -> Path:
    """Copy the backup beside the target database, check it (integrity, the manifest's revision
    and row counts) and migrate it; return the copy."""
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
            with staged_engine.connect() as conn:
                differences = _differences(manifest, _facts(conn))
            if differences:
                raise _mismatch(differences)
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
    check = into / "check.sql"
    check.write_text(_count_check_sql(schema, manifest))
    return [prelude, script, check]


def _count_check_sql(schema: str, manifest: dict) -> str:
    """SQL that raises, inside the restore's transaction, if the revision or a row count differs."""
    revision = str(manifest["revision"]).replace("'", "''")
    lines = [
        "DO $check$",
        "DECLARE n bigint; r text; problems text[] := '{}';",
        "BEGIN",
        f'  SELECT version_num INTO r FROM "{schema}".alembic_version LIMIT 1;',
        f"  IF r IS DISTINCT FROM '{revision}' THEN",
        f"    problems := problems || format('revision %s restored, {revision} in manifest', r);",
        "  END IF;",
    ]
    for name in COUNTED:
        want = int(manifest["counts"][name])
        lines += [
            f'  IF to_regclass(\'"{schema}"."{name}"\') IS NULL THEN n := 0;',
            f'  ELSE SELECT count(*) INTO n FROM "{schema}"."{name}"; END IF;',
            f"  IF n <> {want} THEN",
            f"    problems := problems || format('{name} %s restored, {want} in manifest', n);",
            "  END IF;",
        ]
    lines += [
        "  IF cardinality(problems) > 0 THEN",
        f"    RAISE EXCEPTION '{MISMATCH} %', array_to_string(problems, '; ');",
        "  END IF;",
        "END $check$;",
        "",
    ]
    return "\n".join(lines)


def _install_postgres(engine: Engine, scripts: list[Path]) -> None:
    """Run the scripts with psql in one transaction: all of it or none of it."""
    engine.dispose()
    files = [arg for path in scripts for arg in ("--file", str(path))]
    args = ["psql", "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"]
    try:
        _run([*args, *files], libpq_env(engine.url), "psql (pg_restore)")
    except BackupError as exc:
        if MISMATCH in exc.en:  # check.sql refused: psql rolled the whole transaction back
            raise _mismatch(exc.en.split(MISMATCH, 1)[1].splitlines()[0].strip()) from exc
        raise


def _archive_photos(manifest: dict) -> dict[str, str]:
    """The archive's photo files: archive name → sha256."""
    return {n: d for n, d in manifest["files"].items() if n.startswith(f"{PHOTOS}/")}


def _foreign_photos(photo_dir: Path, manifest: dict) -> list[str]:
    """Files under PHOTO_DIR that the archive does not hold as they are (other names or bytes)."""
    wanted = _archive_photos(manifest)
    return [
        name
        for name, path in _photo_files(photo_dir)
        if name not in wanted or sha256_file(path) != wanted[name]
    ]


def _set_aside(photo_dir: Path) -> Path:
    """Rename PHOTO_DIR to <name>.before-restore-<UTC time> beside it; return the new path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = photo_dir.with_name(f"{photo_dir.name}.before-restore-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = photo_dir.with_name(f"{photo_dir.name}.before-restore-{stamp}-{n}")
    try:
        photo_dir.rename(aside)
    except OSError as exc:
        raise BackupError(
            f"无法把原照片目录 {photo_dir} 移到 {aside}（{exc}），未做任何恢复；请先手动移走",
            f"Could not move the old photo folder {photo_dir} to {aside} ({exc}); nothing was "
            "restored. Move it away by hand first",
        ) from exc
    return aside


def _restore_photos(into: Path, photo_dir: Path, manifest: dict) -> list[Path]:
    """Put the archive's photo files under PHOTO_DIR (each atomically); return those written."""
    written = []
    for name, digest in _archive_photos(manifest).items():
        target = photo_dir / PurePosixPath(name).relative_to(PHOTOS)
        if not (target.is_file() and sha256_file(target) == digest):
            _write_atomic_copy(into / name, target)
            written.append(target)
    return written


def _undo_photos(photo_dir: Path, written: list[Path], aside: Path | None) -> None:
    """Put PHOTO_DIR back as it was: the set-aside folder back in place, or the new files gone."""
    if aside is not None:
        shutil.rmtree(photo_dir, ignore_errors=True)
        aside.rename(photo_dir)
        return
    for path in written:
        path.unlink(missing_ok=True)


def _upgrade_restored(engine: Engine) -> None:
    """Bring a restored PostgreSQL database up to the newest schema."""
    try:
        migrate.upgrade(engine)
    except Exception as exc:
        raise BackupError(
            f"数据已恢复，但升级到最新版本失败：{exc}",
            f"The data was restored but upgrading it to the newest schema failed: {exc}",
        ) from exc


@dataclass(frozen=True)
class Restored:
    """What a restore did: the archive's manifest, and where the old photos went (if moved)."""

    manifest: dict
    photos_set_aside: Path | None


def restore_backup(
    engine: Engine,
    photo_dir: str | Path,
    archive: str | Path,
    *,
    force: bool = False,
    max_bytes: int | None = None,
) -> Restored:
    """Check an archive, then restore its database and photos and migrate.

    Photos under PHOTO_DIR that the archive does not hold as they are make the whole folder move
    aside first (photos.before-restore-<time>); a failure before the database is in place puts
    PHOTO_DIR back as it was.
    """
    photo_dir = Path(photo_dir)
    with tempfile.TemporaryDirectory(prefix="restore-") as tmp:
        into = Path(tmp)
        manifest = unpack_verified(archive, into, max_bytes)
        _check_compatible(engine, manifest)
        if not force and not is_empty(engine):
            raise BackupError(
                "目标数据库不是空的，未做任何恢复；确认要覆盖请加 --force",
                "The target database is not empty; nothing was restored (use --force to overwrite)",
            )
        db_file = into / manifest["database"]
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            staged = _prepare_sqlite(engine, manifest, db_file)
        else:
            scripts = _prepare_postgres(engine, manifest, db_file, into)
        aside, written = None, []
        try:
            if _foreign_photos(photo_dir, manifest):
                aside = _set_aside(photo_dir)
                photo_dir.mkdir()
                shutil.copymode(aside, photo_dir)
            written = _restore_photos(into, photo_dir, manifest)
            if sqlite:
                _install_sqlite(engine, staged)
            else:
                _install_postgres(engine, scripts)
        except BaseException:
            if sqlite:
                _remove_sqlite_files(staged)
            _undo_photos(photo_dir, written, aside)
            raise
        if not sqlite:
            _upgrade_restored(engine)
    return Restored(manifest, aside)


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
    config = current_app.config
    try:
        done = restore_backup(
            engine,
            config["PHOTO_DIR"],
            path,
            force=force,
            max_bytes=config["BACKUP_MAX_UNPACKED_BYTES"],
        )
    except BackupError as exc:
        _fail(exc)
    with engine.connect() as conn:
        facts = _facts(conn)
    manifest = done.manifest
    click.echo(f"恢复完成 / restored: {path} (备份于 / made {manifest['created_at']})")
    click.echo(f"  revision {manifest['revision']} → {facts['revision']}")
    click.echo(f"  {_counts_text(facts['counts'])}")
    if done.photos_set_aside is not None:
        click.echo(
            f"  原照片目录中有备份里没有的文件，整个目录已移到 / PHOTO_DIR held files not in the "
            f"backup; the old folder was moved aside to: {done.photos_set_aside}"
        )
