"""Backup and restore through the CLI: round trip, damaged archives, old revisions, --force."""

import hashlib
import io
import json
import tarfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from app import create_app
from inspection import migrate
from inspection.accounts.models import User
from inspection.cases.models import Case, Photo
from inspection.cases.photos import photo_path
from inspection.db import Base
from inspection.ops.archive import MANIFEST, SUMS, libpq_env, safe_member_name
from inspection.ops.backup import backup_command
from inspection.ops.demo import load_demo
from inspection.ops.restore import restore_command

TABLES = ("grid_cells", "users", "cases", "status_changes", "photos")


def make_app(url: str, photo_dir: Path):
    """An app on url with the backup commands added to its CLI."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": url, "PHOTO_DIR": str(photo_dir)}
    )
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    return app


def engine_of(app):
    """The app's engine."""
    return app.extensions["db_engine"]


def wipe(app) -> None:
    """Drop every table of ours (the PostGIS schema is shared between source and target)."""
    with engine_of(app).begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        Base.metadata.drop_all(conn)
    engine_of(app).dispose()


def target_app(db_url: str, source, tmp_path: Path):
    """An empty instance: a new SQLite file, or on PostGIS the same schema emptied."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    else:
        wipe(source)
        url = db_url
    engine_of(source).dispose()
    return make_app(url, tmp_path / "target_photos")


def add_photos(session: Session, photo_dir: Path, n: int = 3) -> list[Path]:
    """Store n fake photos in photos.py's layout (<h[:2]>/<h>.jpg and _t.jpg) with their rows."""
    cases = session.scalars(select(Case).order_by(Case.id).limit(n)).all()
    files = []
    for i, case in enumerate(cases):
        data = f"photo {i}".encode()
        sha = hashlib.sha256(data).hexdigest()
        for thumb, body in ((False, data), (True, data[:4])):
            path = photo_path(photo_dir, sha, thumb=thumb)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            files.append(path)
        session.add(Photo(case=case, sha256=sha, width=1, height=1, size_bytes=len(data)))
    return files


def demo_app(db_url: str, tmp_path: Path):
    """A source instance with the demo town and a few photos."""
    app = make_app(db_url, tmp_path / "photos")
    migrate.upgrade(engine_of(app))
    with Session(engine_of(app)) as session:
        load_demo(session, today=date(2024, 6, 1))
        add_photos(session, tmp_path / "photos")
        session.commit()
    return app


def small_app(db_url: str, tmp_path: Path, users: int = 1):
    """A source instance with only a few users."""
    app = make_app(db_url, tmp_path / "photos")
    migrate.upgrade(engine_of(app))
    add_users(app, users)
    return app


def add_users(app, n: int, prefix: str = "u") -> None:
    """Add n users."""
    with Session(engine_of(app)) as session:
        start = session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0
        for i in range(start, start + n):
            user = User(username=f"{prefix}{i}", display_name="测试", role="grid_member")
            user.set_password("secret123")
            session.add(user)
        session.commit()


def fingerprint(app) -> dict[str, tuple[int, str]]:
    """Row count and a sha256 of every row, ordered by id, of the main tables."""
    result = {}
    with engine_of(app).connect() as conn:
        names = set(inspect(conn).get_table_names())
        for name in TABLES:
            if name not in names:
                continue
            table = Base.metadata.tables[name]
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
            result[name] = (len(rows), digest)
    return result


def run(app, *args):
    """Invoke a command through the Flask CLI runner."""
    return app.test_cli_runner().invoke(args=list(args))


def backup(app, path: Path) -> dict:
    """Back up and return the manifest."""
    result = run(app, "backup", str(path))
    assert result.exit_code == 0, result.output
    with tarfile.open(path) as tar:
        return json.load(tar.extractfile(MANIFEST))


def repack(archive: Path, out: Path, change) -> Path:
    """Copy an archive, letting change(name, data) alter or rename each member."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            name, data = change(member.name, src.extractfile(member).read())
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


def test_libpq_env_reads_the_url_and_its_search_path():
    url = (
        "postgresql+psycopg://insp:p%40ss@db.example:5433/town?options=-csearch_path%3Dgrid,public"
    )

    env = libpq_env(url)

    assert env == {
        "PGHOST": "db.example",
        "PGPORT": "5433",
        "PGUSER": "insp",
        "PGPASSWORD": "p@ss",
        "PGDATABASE": "town",
        "PGOPTIONS": "-csearch_path=grid,public",
    }


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "photos/../../x", "C:/x", ""])
def test_unsafe_member_names_are_refused(name):
    with pytest.raises(Exception, match="Unsafe path"):
        safe_member_name(name)


def test_round_trip_restores_every_row_and_photo(db_url, tmp_path):
    source = demo_app(db_url, tmp_path)
    before = fingerprint(source)
    photo_files = {
        p.relative_to(tmp_path / "photos"): p.read_bytes()
        for p in (tmp_path / "photos").rglob("*.jpg")
    }
    archive = tmp_path / "out" / "backup.tar.gz"

    manifest = backup(source, archive)
    target = target_app(db_url, source, tmp_path)
    result = run(target, "restore", str(archive))

    assert result.exit_code == 0, result.output
    assert manifest["counts"] == {
        "cases": before["cases"][0],
        "photos": 3,
        "status_changes": before["status_changes"][0],
        "users": before["users"][0],
    }
    assert manifest["revision"] == migrate.head_revision()
    assert manifest["backend"] == engine_of(target).dialect.name
    assert len(photo_files) == 6
    assert {f"photos/{p.as_posix()}" for p in photo_files} <= set(manifest["files"])
    assert fingerprint(target) == before
    for rel, data in photo_files.items():
        assert (tmp_path / "target_photos" / rel).read_bytes() == data
    add_users(target, 1, prefix="after")  # sequences came back too: new ids do not collide
    assert list((tmp_path / "out").iterdir()) == [archive]  # no temporary file left
    engine_of(target).dispose()


def test_archive_checksums_match_its_files(tmp_path):
    source = small_app(f"sqlite:///{tmp_path / 'a.sqlite3'}", tmp_path)
    archive = tmp_path / "b.tar.gz"

    manifest = backup(source, archive)

    with tarfile.open(archive) as tar:
        data = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    sums = dict(line.split("  ")[::-1] for line in data[SUMS].decode().splitlines())
    assert set(data) == {*manifest["files"], MANIFEST, SUMS}
    assert all(hashlib.sha256(data[n]).hexdigest() == h for n, h in sums.items())
    assert set(sums) == {*manifest["files"], MANIFEST}
    engine_of(source).dispose()


def flip_byte(archive: Path, out: Path) -> Path:
    """Flip one byte in the middle of the compressed file."""
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    out.write_bytes(bytes(raw))
    return out


def tamper_database(archive: Path, out: Path) -> Path:
    """Change one byte of the database member, keeping a valid tar.gz."""

    def change(name, data):
        if name.startswith("database."):
            data = data[:-1] + bytes([data[-1] ^ 1])
        return name, data

    return repack(archive, out, change)


def escape_path(archive: Path, out: Path) -> Path:
    """Rename the manifest to a path outside the archive."""
    return repack(archive, out, lambda n, d: ("../" + n if n == MANIFEST else n, d))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (flip_byte, "damaged"),
        (tamper_database, "SHA256SUMS does not match"),
        (escape_path, "Unsafe path"),
    ],
)
def test_damaged_archive_is_refused_and_target_untouched(db_url, tmp_path, damage, message):
    source = small_app(db_url, tmp_path, users=2)
    good = tmp_path / "good.tar.gz"
    backup(source, good)
    add_users(source, 1, prefix="later")
    before = fingerprint(source)

    result = run(source, "restore", "--force", str(damage(good, tmp_path / "bad.tar.gz")))

    assert result.exit_code == 1
    assert message in result.output
    assert "损坏" in result.output or "不安全" in result.output
    assert fingerprint(source) == before
    engine_of(source).dispose()


def test_newer_revision_is_refused(db_url, tmp_path):
    source = small_app(db_url, tmp_path)
    good = tmp_path / "good.tar.gz"
    backup(source, good)
    future = repack_manifest(good, tmp_path / "future.tar.gz", revision="9999")

    result = run(source, "restore", "--force", str(future))

    assert result.exit_code == 1
    assert "newer than this code" in result.output and "比本程序新" in result.output
    engine_of(source).dispose()


def repack_manifest(archive: Path, out: Path, **changes) -> Path:
    """Copy an archive with manifest fields changed and its checksums made to match again."""

    def change(name, data):
        if name == MANIFEST:
            data = json.dumps({**json.loads(data), **changes}).encode()
        if name == SUMS:
            sha = hashlib.sha256(json.dumps({**manifest, **changes}).encode()).hexdigest()
            lines = [ln for ln in data.decode().splitlines() if not ln.endswith(f"  {MANIFEST}")]
            data = "\n".join([*lines, f"{sha}  {MANIFEST}", ""]).encode()
        return name, data

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile(MANIFEST))
    return repack(archive, out, change)


def test_old_revision_backup_comes_up_to_head(db_url, tmp_path):
    source = make_app(db_url, tmp_path / "photos")
    migrate.upgrade(engine_of(source), "0002")
    archive = tmp_path / "old.tar.gz"

    manifest = backup(source, archive)
    target = target_app(db_url, source, tmp_path)
    result = run(target, "restore", str(archive))

    assert manifest["revision"] == "0002"
    assert result.exit_code == 0, result.output
    assert "0002 → " + migrate.head_revision() in result.output
    assert migrate.current_revision(engine_of(target)) == migrate.head_revision()
    assert "audit_log" in inspect(engine_of(target)).get_table_names()
    engine_of(target).dispose()


def test_non_empty_database_needs_force(db_url, tmp_path):
    source = small_app(db_url, tmp_path, users=1)
    archive = tmp_path / "one.tar.gz"
    backup(source, archive)
    add_users(source, 2, prefix="later")

    refused = run(source, "restore", str(archive))
    users_after_refusal = fingerprint(source)["users"][0]
    forced = run(source, "restore", "--force", str(archive))

    assert refused.exit_code == 1
    assert "--force" in refused.output and "不是空的" in refused.output
    assert users_after_refusal == 3
    assert forced.exit_code == 0, forced.output
    assert fingerprint(source)["users"][0] == 1
    engine_of(source).dispose()


def test_forced_restore_of_old_backup_onto_newer_database(db_url, tmp_path):
    source = make_app(db_url, tmp_path / "photos")
    migrate.upgrade(engine_of(source), "0002")
    archive = tmp_path / "old.tar.gz"
    backup(source, archive)
    migrate.upgrade(engine_of(source))
    add_users(source, 1)

    result = run(source, "restore", "--force", str(archive))

    assert result.exit_code == 0, result.output
    assert migrate.current_revision(engine_of(source)) == migrate.head_revision()
    assert fingerprint(source)["users"][0] == 0
    engine_of(source).dispose()


def test_missing_archive_is_a_clear_error(runner, tmp_path, app):
    app.cli.add_command(restore_command)

    result = runner.invoke(args=["restore", str(tmp_path / "nope.tar.gz")])

    assert result.exit_code == 1
    assert "找不到备份文件" in result.output and "No such backup file" in result.output


# --- Tampering, row counts, foreign photos and oversized archives ----------------------------------


def put_photo(photo_dir: Path, data: bytes) -> Path:
    """Store a photo file (no row needed: a backup holds every file under PHOTO_DIR)."""
    path = photo_path(photo_dir, hashlib.sha256(data).hexdigest())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def photo_tree(photo_dir: Path) -> dict[str, bytes]:
    """Every file under a photo folder with its bytes."""
    return {p.relative_to(photo_dir).as_posix(): p.read_bytes() for p in photo_dir.rglob("*.jpg")}


def set_aside_folders(tmp_path: Path) -> list[Path]:
    """The photos.before-restore-* folders beside PHOTO_DIR."""
    return sorted(tmp_path.glob("photos.before-restore-*"))


def tamper_photo(archive: Path, out: Path, *, fix_sums: bool) -> Path:
    """Change a byte of the first photo; with fix_sums also SHA256SUMS (but not the manifest)."""
    with tarfile.open(archive) as tar:
        name = next(m.name for m in tar.getmembers() if m.name.startswith("photos/"))
        old = hashlib.sha256(tar.extractfile(name).read()).hexdigest()
    changed = {}

    def change(member, data):
        if member == name:
            data = bytes([data[0] ^ 1]) + data[1:]
            changed["sha"] = hashlib.sha256(data).hexdigest()
        if member == SUMS and fix_sums:
            data = data.decode().replace(f"{old}  {name}", f"{changed['sha']}  {name}").encode()
        return member, data

    return repack(archive, out, change)


def source_with_photos(db_url: str, tmp_path: Path):
    """A small instance (two users) with two photo files, backed up to good.tar.gz."""
    source = small_app(db_url, tmp_path, users=2)
    for i in range(2):
        put_photo(tmp_path / "photos", f"photo {i}".encode())
    good = tmp_path / "good.tar.gz"
    return source, good, backup(source, good)


@pytest.mark.parametrize(
    ("fix_sums", "message"),
    [(False, "SHA256SUMS does not match"), (True, "manifest.json does not match")],
)
def test_tampered_photo_is_refused(tmp_path, fix_sums, message):
    source, good, _ = source_with_photos(f"sqlite:///{tmp_path / 'a.sqlite3'}", tmp_path)
    bad = tamper_photo(good, tmp_path / "bad.tar.gz", fix_sums=fix_sums)
    target = target_app("sqlite", source, tmp_path)

    result = run(target, "restore", str(bad))

    assert result.exit_code == 1
    assert message in result.output and "损坏" in result.output
    assert not (tmp_path / "target_photos").exists()
    assert "users" not in inspect(engine_of(target)).get_table_names()
    engine_of(target).dispose()


@pytest.mark.parametrize(
    ("changes", "fix_sums", "message"),
    [
        (
            {"counts": {"cases": 0, "photos": 0, "status_changes": 0, "users": 1}},
            False,
            "SHA256SUMS",
        ),
        ({"counts": None}, True, "no valid row counts"),
        ({"counts": {"users": "2"}}, True, "no valid row counts"),
    ],
)
def test_tampered_manifest_is_refused(tmp_path, changes, fix_sums, message):
    source, good, _ = source_with_photos(f"sqlite:///{tmp_path / 'a.sqlite3'}", tmp_path)
    if fix_sums:
        bad = repack_manifest(good, tmp_path / "bad.tar.gz", **changes)
    else:

        def change(name, data):
            if name == MANIFEST:
                data = json.dumps({**json.loads(data), **changes}).encode()
            return name, data

        bad = repack(good, tmp_path / "bad.tar.gz", change)
    add_users(source, 1, prefix="later")
    before, photos = fingerprint(source), photo_tree(tmp_path / "photos")

    result = run(source, "restore", "--force", str(bad))

    assert result.exit_code == 1
    assert message in result.output and "损坏" in result.output
    assert fingerprint(source) == before
    assert photo_tree(tmp_path / "photos") == photos
    engine_of(source).dispose()


def test_row_counts_differing_from_the_manifest_are_refused_and_undone(db_url, tmp_path):
    source, good, manifest = source_with_photos(db_url, tmp_path)
    lying = repack_manifest(
        good, tmp_path / "lying.tar.gz", counts={**manifest["counts"], "users": 99}
    )
    add_users(source, 1, prefix="later")
    put_photo(tmp_path / "photos", b"taken after the backup")  # would make PHOTO_DIR move aside
    before, photos = fingerprint(source), photo_tree(tmp_path / "photos")

    result = run(source, "restore", "--force", str(lying))

    assert result.exit_code == 1
    assert "users 2 restored, 99 in manifest" in result.output
    assert "清单不符" in result.output and "target is as it was" in result.output
    assert fingerprint(source) == before
    assert photo_tree(tmp_path / "photos") == photos
    assert set_aside_folders(tmp_path) == []
    engine_of(source).dispose()


def test_forced_restore_moves_foreign_photos_aside(db_url, tmp_path):
    source, good, manifest = source_with_photos(db_url, tmp_path)
    in_backup = photo_tree(tmp_path / "photos")
    foreign = put_photo(tmp_path / "photos", b"taken after the backup")
    add_users(source, 1, prefix="later")

    result = run(source, "restore", "--force", str(good))

    assert result.exit_code == 0, result.output
    assert photo_tree(tmp_path / "photos") == in_backup  # nothing foreign survives in PHOTO_DIR
    [aside] = set_aside_folders(tmp_path)
    assert str(aside) in result.output and "moved aside" in result.output
    rel = foreign.relative_to(tmp_path / "photos")
    assert (aside / rel).read_bytes() == b"taken after the backup"
    assert set(photo_tree(aside)) == {*in_backup, rel.as_posix()}
    assert fingerprint(source)["users"][0] == manifest["counts"]["users"]
    engine_of(source).dispose()


def test_restore_over_the_backups_own_photos_moves_nothing(tmp_path):
    source, good, _ = source_with_photos(f"sqlite:///{tmp_path / 'a.sqlite3'}", tmp_path)

    result = run(source, "restore", "--force", str(good))

    assert result.exit_code == 0, result.output
    assert set_aside_folders(tmp_path) == [] and "moved aside" not in result.output
    engine_of(source).dispose()


class Zeros:
    """A reader of n zero bytes, never held in memory at once."""

    def __init__(self, n: int):
        self.left = n

    def read(self, size: int = -1) -> bytes:
        """Up to size zero bytes."""
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return bytes(size)


def test_archive_unpacking_beyond_the_setting_is_refused(tmp_path):
    source, good, _ = source_with_photos(f"sqlite:///{tmp_path / 'a.sqlite3'}", tmp_path)
    target = target_app("sqlite", source, tmp_path)
    target.config["BACKUP_MAX_UNPACKED_BYTES"] = 4096

    result = run(target, "restore", str(good))

    assert result.exit_code == 1
    assert "more than 4096 bytes" in result.output and "BACKUP_MAX_UNPACKED_BYTES" in result.output
    assert not (tmp_path / "target_photos").exists()
    engine_of(target).dispose()


def test_archive_bomb_is_refused_before_it_is_unpacked(tmp_path):
    bomb = tmp_path / "bomb.tar.gz"
    with tarfile.open(bomb, "w:gz") as tar:  # 80 MiB of zeros packs into about 80 kB
        info = tarfile.TarInfo("photos/00/zeros.jpg")
        info.size = 80 * 1024 * 1024
        tar.addfile(info, Zeros(info.size))
    target = make_app(f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path / "target_photos")

    result = run(target, "restore", str(bomb))

    assert bomb.stat().st_size < 1024 * 1024
    assert result.exit_code == 1
    assert "would unpack to more than" in result.output and "100 倍" in result.output
    assert not (tmp_path / "target_photos").exists()
    engine_of(target).dispose()
