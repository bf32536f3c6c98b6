"""The first steps of every way in: the file's name, its bytes within the cap, and its format.

Shared by the vector reader (`geodata.io`) and the track reader (`geodata.tracks`), so the rule is
written once: content with no name is refused, a file over the size cap is refused with both sizes,
the format is sniffed from content and must be allowed by the way in and agree with the extension.
"""

import os
from pathlib import Path, PurePosixPath
from typing import IO

from geodata import sniff, ways
from geodata.archive import safe_extract
from geodata.errors import FileFormatError
from geodata.ways import Way

_SOURCE_TYPES = (bytes, bytearray, memoryview, str, os.PathLike)
Source = bytes | bytearray | memoryview | str | os.PathLike | IO[bytes]
# Members of a zipped Shapefile that are read through their .shp, never opened on their own.
SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qix")


def file_label(source: Source, filename: str | None) -> str:
    """The file's name: the one it came with, else the path's; refuse content with no name."""
    if filename:
        return PurePosixPath(filename.replace("\\", "/")).name[:200] or filename[:200]
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    raise FileFormatError(
        "file_unnamed",
        "上传的文件没有文件名，无法确定其格式；请选择带扩展名的文件（如 .geojson、.kml、.zip）。",
        "The uploaded file has no name, so its format cannot be checked; choose a file with an "
        "extension such as .geojson, .kml or .zip.",
    )


def load_source(source: Source, label: str, max_bytes: int) -> tuple[Path | None, bytes]:
    """Return (the path it came from or None, the content), refusing empty and oversize input."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size_bytes = path.stat().st_size
        except OSError as exc:
            raise FileFormatError(
                "file_missing", f"找不到文件：{label}", f"Cannot open {label}: {exc}."
            ) from exc
        if not path.is_file():
            raise FileFormatError("file_missing", f"不是文件：{label}", f"{label} is not a file.")
        check_size(size_bytes, max_bytes, label)
        return path, path.read_bytes()
    if isinstance(source, _SOURCE_TYPES):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)  # a stream's size is known only up to the cap
        check_size(len(data), max_bytes, label, known=len(data) <= max_bytes)
        return None, data
    else:
        raise TypeError(f"a reader takes a path, bytes or a binary file, not {type(source)}")
    check_size(len(data), max_bytes, label)
    return None, data


def check_size(size_bytes: int, max_bytes: int, label: str, *, known: bool = True) -> None:
    """Refuse empty files and files over the size limit, saying both sizes when the size is known."""
    if size_bytes == 0:
        raise FileFormatError("file_empty", f"文件为空：{label}", f"{label} is empty.")
    if size_bytes > max_bytes:
        size_zh = f"{size_bytes:,} 字节，" if known else ""
        size_en = f" ({size_bytes:,} bytes)" if known else ""
        raise FileFormatError(
            "file_too_large",
            f"文件过大（{size_zh}上限 {max_bytes:,} 字节）：{label}",
            f"{label}{size_en} is larger than the limit of {max_bytes:,} bytes.",
        )


def unknown_format(label: str, head: bytes, way: Way) -> FileFormatError:
    """Build the refusal for content that is none of the formats we read."""
    if head.startswith(b"SQLite format 3\x00"):
        return FileFormatError(
            "not_geopackage",
            f"这是 SQLite 数据库但不是 GeoPackage：{label}",
            f"{label} is an SQLite database but not a GeoPackage.",
        )
    return FileFormatError(
        "unknown_format",
        f"无法识别文件格式（此处可用：{way.names_zh()}）：{label}",
        f"{label} is none of the formats accepted here ({way.names_en()}).",
    )


def member_format(way: Way, file: Path) -> str | None:
    """The format of an unpacked ZIP member, refused unless the way allows it and its name agrees."""
    with file.open("rb") as handle:
        head = handle.read(sniff.HEAD_BYTES)
    kind = sniff.sniff_format(head)
    suffix = file.suffix.lower()
    if suffix in SHAPEFILE_SIDECARS:
        return None  # sidecars: read through their .shp
    if kind is None or kind not in way.zip_formats or kind not in ways.EXTENSIONS.get(suffix, set()):
        raise FileFormatError(
            "zip_member_mismatch",
            f"压缩包内的文件“{file.name}”内容与扩展名不符或格式不被接受（可用格式：{way.names_zh()}）",
            f"{file.name} in the ZIP archive is not what its name says, or not an accepted "
            f"format ({way.names_en()}).",
        )
    return kind


def sniffed_format(way: Way, data: bytes, label: str) -> str:
    """The format of `data` named `label`, refused unless the way allows it and the name agrees."""
    head = data[: sniff.HEAD_BYTES]
    fmt = sniff.sniff_format(head)
    if fmt is None:
        raise unknown_format(label, head, way)
    ways.check_name(way, fmt, label)
    return fmt


def unpack(way: Way, data: bytes, dest: Path, max_entries: int, max_unzipped_bytes: int) -> list[Path]:
    """Unpack a ZIP into `dest` with the way's member rules and the limits; the files written."""
    return safe_extract(
        data,
        dest,
        max_entries=max_entries,
        max_unzipped_bytes=max_unzipped_bytes,
        member_action=lambda member: ways.member_action(way, member),
    )
