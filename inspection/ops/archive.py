"""Backup archives: the database and the photos in one checked .tar.gz with a manifest.

An archive holds `database.sqlite3` (SQLite, copied with the online backup API) or
`database.pgdump` (PostgreSQL, `pg_dump --format=custom` of our tables in the app's schema),
the photo files under `photos/` exactly as they lie under PHOTO_DIR, `manifest.json` (version,
alembic revision, backend, row counts and the sha256 of every file) and `SHA256SUMS`, which
`sha256sum -c` can check by hand. Restore checks everything before it touches anything: the
unpacked size (BACKUP_MAX_UNPACKED_BYTES, and at most MAX_RATIO times the archive's size), every path
and checksum, and the manifest's row counts against the restored database (a mismatch leaves the
target as it was). Photos in PHOTO_DIR that the archive does not hold are moved aside, never mixed in.

This module is the format and what backup (ops.backup) and restore (ops.restore) share.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tomllib
import zlib
from pathlib import Path, PurePosixPath

import click
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import URL, Connection, Engine, make_url

from inspection import migrate
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


def run_tool(args: list[str], env: dict[str, str], what: str) -> None:
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


def database_facts(conn: Connection) -> dict:
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


def sqlite_file(engine: Engine) -> Path:
    """The database file behind a SQLite engine (an in-memory database has none)."""
    name = engine.url.database
    if not name or name == ":memory:":
        raise BackupError("内存数据库无法备份或恢复", "An in-memory database cannot be backed up")
    return Path(name).resolve()


def photo_files(photo_dir: Path) -> list[tuple[str, Path]]:
    """Every stored photo file as (archive name, path), leaving out unfinished temporary files."""
    if not photo_dir.is_dir():
        return []
    files = (p for p in sorted(photo_dir.rglob("*")) if p.is_file() and not p.name.startswith("."))
    return [(f"{PHOTOS}/{p.relative_to(photo_dir).as_posix()}", p) for p in files]


def safe_member_name(name: str) -> str:
    """The member's path if it stays inside the archive: no absolute path, no `..`, no drive."""
    path = PurePosixPath(name.replace("\\", "/"))
    bad = path.is_absolute() or ".." in path.parts or ":" in name or not path.parts
    if bad or name.startswith("/"):
        raise BackupError(
            f"备份中有不安全的路径：{name!r}", f"Unsafe path in the archive: {name!r}"
        )
    return path.as_posix()


def corrupt(detail: str) -> BackupError:
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
                raise corrupt(f"unexpected member {name!r}")
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
        raise corrupt("no manifest.json / SHA256SUMS")
    lines = (into / SUMS).read_text().splitlines()
    sums = {name: digest for digest, name in (line.split("  ", 1) for line in lines if line)}
    if sums != {name: digest for name, digest in found.items() if name != SUMS}:
        raise corrupt("SHA256SUMS does not match the files")
    manifest = json.loads((into / MANIFEST).read_text())
    if not isinstance(manifest, dict):
        raise corrupt("manifest.json is not an object")
    if manifest.get("files") != {n: d for n, d in sums.items() if n != MANIFEST}:
        raise corrupt("manifest.json does not match the files")
    if manifest.get("format") != FORMAT or manifest.get("database") not in found:
        raise corrupt("unknown archive format")
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not all(
        type(counts.get(name)) is int and counts[name] >= 0 for name in COUNTED
    ):
        raise corrupt("manifest.json has no valid row counts")
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
        raise corrupt(f"{type(exc).__name__}: {exc}") from exc


def fail_command(error: Exception) -> None:
    """Print the error in red and exit with status 1."""
    click.secho(str(error), fg="red", err=True)
    raise SystemExit(1)


def counts_text(counts: dict) -> str:
    """Row counts as one short line."""
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in COUNTED)
