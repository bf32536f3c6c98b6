"""Unpack uploaded ZIP archives safely: limits and names are checked before anything is written."""

import io
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from geodata.errors import FileFormatError

_CHUNK_BYTES = 1024 * 1024
# Finder and resource-fork clutter that Mac users' zips carry; never data.
_IGNORED_PREFIXES = ("__MACOSX/",)


def safe_extract(
    data: bytes,
    dest_dir: Path,
    *,
    max_entries: int,
    max_unzipped_bytes: int,
    member_action: Callable[[str], str] | None = None,
) -> list[Path]:
    """Unpack a ZIP held in memory into `dest_dir` and return the files written, in archive order.

    `member_action(name)` says "extract", "skip" or "refuse" for each member (default: extract);
    one refused member refuses the archive before anything is written.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileFormatError(
            "zip_broken", "ZIP 压缩包已损坏，无法打开。", f"The ZIP archive is broken: {exc}."
        ) from exc
    with archive:
        entries = [info for info in archive.infolist() if not _ignored(info)]
        _check_limits(archive.infolist(), max_entries, max_unzipped_bytes)
        for info in entries:
            _check_entry(info)
        if member_action is not None:
            entries = _allowed(entries, member_action)
        written: list[Path] = []
        budget_bytes = max_unzipped_bytes
        for info in entries:
            if info.is_dir():
                continue
            target = dest_dir.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
            budget_bytes -= _copy_capped(archive, info, target, budget_bytes)
            written.append(target)
    return written


def _ignored(info: zipfile.ZipInfo) -> bool:
    """Say whether an entry is operating-system clutter rather than data."""
    name = info.filename.replace("\\", "/")
    return name.startswith(_IGNORED_PREFIXES) or PurePosixPath(name).name.startswith("._")


def _allowed(entries: list[zipfile.ZipInfo], member_action: Callable[[str], str]) -> list:
    """Keep the members to extract; refuse the archive if any member is of a refused type."""
    actions = [(info, member_action(info.filename)) for info in entries if not info.is_dir()]
    refused = [info.filename for info, action in actions if action == "refuse"]
    if refused:
        names = "、".join(refused[:5]) + ("…" if len(refused) > 5 else "")
        raise FileFormatError(
            "zip_member_refused",
            f"压缩包内含有此处不接受的文件：{names}；请只打包数据文件后重新上传。",
            f"The ZIP archive holds files of a type not accepted here: {', '.join(refused[:5])}.",
        )
    return [info for info, action in actions if action == "extract"]


def _check_limits(infos: list[zipfile.ZipInfo], max_entries: int, max_unzipped_bytes: int) -> None:
    """Refuse an archive whose entry count or declared unpacked size is over the limits."""
    if len(infos) > max_entries:
        raise FileFormatError(
            "zip_too_many_entries",
            f"压缩包内文件过多（{len(infos)} 个，上限 {max_entries} 个）。",
            f"The ZIP archive holds too many entries ({len(infos)}, limit {max_entries}).",
        )
    declared_bytes = sum(info.file_size for info in infos)
    if declared_bytes > max_unzipped_bytes:
        raise FileFormatError(
            "zip_too_large",
            f"压缩包解压后过大（{declared_bytes:,} 字节，上限 {max_unzipped_bytes:,} 字节）。",
            f"The ZIP archive unpacks to {declared_bytes:,} bytes (limit {max_unzipped_bytes:,}).",
        )


def _check_entry(info: zipfile.ZipInfo) -> None:
    """Refuse entries that are encrypted or whose names would escape the target folder."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    unsafe = (
        name.startswith("/")
        or (len(name) > 1 and name[1] == ":")
        or ".." in parts
        or "\x00" in name
    )
    if unsafe:
        raise FileFormatError(
            "zip_unsafe_path",
            f"压缩包内文件路径不安全：{info.filename}",
            f"The ZIP archive holds an unsafe path: {info.filename}",
        )
    if info.flag_bits & 0x1:
        raise FileFormatError(
            "zip_encrypted",
            f"压缩包内文件已加密，无法读取：{info.filename}",
            f"The ZIP archive holds an encrypted entry: {info.filename}",
        )


def _copy_capped(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget_bytes: int
) -> int:
    """Copy one entry to `target`, stopping if it inflates past the remaining budget (lying headers)."""
    copied_bytes = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, target.open("wb") as dst:
            while chunk := src.read(_CHUNK_BYTES):
                copied_bytes += len(chunk)
                if copied_bytes > budget_bytes:
                    raise FileFormatError(
                        "zip_too_large",
                        "压缩包解压后超过大小上限。",
                        "The ZIP archive unpacks past the size limit.",
                    )
                dst.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise FileFormatError(
            "zip_broken",
            f"压缩包内文件已损坏或无法解压：{info.filename}",
            f"Could not unpack {info.filename} from the ZIP archive: {exc}.",
        ) from exc
    return copied_bytes
