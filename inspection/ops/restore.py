"""Restore (app stopped): check the archive, stage the database and photos, install, or undo and leave the target as it was."""

import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import Engine

from inspection import db, migrate
from inspection.db import Base
from inspection.ops.archive import (
    COUNTED,
    MISMATCH,
    PHOTOS,
    BackupError,
    corrupt,
    counts_text,
    database_facts,
    fail_command,
    known_revisions,
    libpq_env,
    photo_files,
    run_tool,
    sha256_file,
    sqlite_file,
    unpack_verified,
)


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
    target = sqlite_file(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.restore-")
    os.close(fd)
    staged = Path(tmp)
    try:
        shutil.copyfile(db_file, staged)
        with closing(sqlite3.connect(staged)) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise corrupt("SQLite integrity_check failed")
        staged_engine = db.make_engine(f"sqlite:///{staged}")
        try:
            with staged_engine.connect() as conn:
                differences = _differences(manifest, database_facts(conn))
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
            closing(sqlite3.connect(sqlite_file(engine), timeout=30)) as dst,
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
    run_tool(args, {}, "pg_restore")
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
        run_tool([*args, *files], libpq_env(engine.url), "psql (pg_restore)")
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
        for name, path in photo_files(photo_dir)
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
        fail_command(exc)
    with engine.connect() as conn:
        facts = database_facts(conn)
    manifest = done.manifest
    click.echo(f"恢复完成 / restored: {path} (备份于 / made {manifest['created_at']})")
    click.echo(f"  revision {manifest['revision']} → {facts['revision']}")
    click.echo(f"  {counts_text(facts['counts'])}")
    if done.photos_set_aside is not None:
        click.echo(
            f"  原照片目录中有备份里没有的文件，整个目录已移到 / PHOTO_DIR held files not in the "
            f"backup; the old folder was moved aside to: {done.photos_set_aside}"
        )
