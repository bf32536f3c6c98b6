"""Photos of cases: checked by content, turned upright, shrunk, stripped of EXIF, stored by hash.

Each photo is stored as two JPEG files named by the sha256 of the stored copy (not of the
upload): `<PHOTO_DIR>/<h[:2]>/<h>.jpg` (at most 1600 px) and `<h>_t.jpg` (at most 320 px).
The name thus identifies the very bytes served and can be checked at any time; the original
upload is never kept. Its GPS position (WGS-84 lon/lat degrees) and time stay as data on the
Photo row, not in the files.
"""

import hashlib
import io
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from inspection.accounts.models import User
from inspection.cases.models import Case, Photo
from inspection.errors import InvalidInput

# iPhones shoot HEIC. pillow-heif reads it (libheif + libde265 in its wheel) and turns the
# image upright as it opens, leaving EXIF orientation at 1 and the GPS in place.
pillow_heif.register_heif_opener()
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
MAX_SIDE_PX = 1600
THUMB_SIDE_PX = 320
JPEG_QUALITY = 85
THUMB_QUALITY = 80
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
MAX_PHOTOS = 12
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 36867
_DATETIME = 306


class PhotoError(InvalidInput):
    """A photo that cannot be accepted, with the reason (422)."""


@dataclass(frozen=True)
class ProcessedPhoto:
    """A checked photo ready to store: the shrunk JPEG, its thumbnail and what the EXIF said."""

    sha256: str
    data: bytes
    thumb: bytes
    width: int
    height: int
    taken_at: datetime | None
    gps_lon: float | None
    gps_lat: float | None
    filename: str


def _refuse(code: str, filename: str, zh: str, en: str) -> PhotoError:
    """Build a refusal naming the file."""
    return PhotoError(code, f"照片“{filename}”{zh}", f"Photo “{filename}”: {en}")


def _open_checked(data: bytes, filename: str, max_pixels: int) -> Image.Image:
    """Open an image by content and check its pixel count from the header, before decoding."""
    too_many = _refuse(
        "photo_too_many_pixels",
        filename,
        f"像素过多（上限 {max_pixels:,} 像素），可能是恶意文件",
        f"has too many pixels (the limit is {max_pixels:,})",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_many from exc
    except UnidentifiedImageError as exc:
        raise _refuse(
            "photo_not_image",
            filename,
            "不是可识别的图片（只接受 JPEG、PNG、WebP、HEIC）",
            "is not a recognised image (JPEG, PNG, WebP or HEIC only)",
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _refuse(
            "photo_unreadable", filename, "已损坏，无法读取", "is damaged and cannot be read"
        ) from exc
    width, height = image.size
    if width * height > max_pixels or width <= 0 or height <= 0:
        raise _refuse(
            "photo_too_many_pixels",
            filename,
            f"像素过多（{width}×{height}，上限 {max_pixels:,} 像素）",
            f"has too many pixels ({width}×{height}; the limit is {max_pixels:,})",
        )
    return image


def _rational(value) -> float:
    """One EXIF rational (IFDRational or a (num, den) pair) as a float."""
    if isinstance(value, tuple):
        return value[0] / value[1]
    return float(value)


def _degrees(dms, ref) -> float | None:
    """Degrees, minutes, seconds with an N/S/E/W reference as signed decimal degrees."""
    try:
        degrees = sum(_rational(part) / 60**i for i, part in enumerate(dms[:3]))
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if not math.isfinite(degrees):
        return None
    ref = ref.decode("ascii", "replace") if isinstance(ref, bytes) else str(ref or "")
    return -degrees if ref.strip().upper() in ("S", "W") else degrees


def exif_gps(exif: Image.Exif) -> tuple[float, float] | None:
    """The GPS position in EXIF as WGS-84 (lon, lat) decimal degrees, or None if absent or absurd."""
    try:
        gps = exif.get_ifd(_GPS_IFD)
    except (KeyError, ValueError, TypeError, OSError):
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _degrees(gps.get(2), gps.get(1))
    lon = _degrees(gps.get(4), gps.get(3))
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180 or (lat == 0 and lon == 0):
        return None
    return lon, lat


def exif_time(exif: Image.Exif) -> datetime | None:
    """When the photo was taken, from EXIF (camera local time, naive), or None."""
    try:
        text = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    except (KeyError, ValueError, TypeError, OSError):
        return None
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    try:
        return datetime.strptime(str(text).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except (TypeError, ValueError):
        return None


def _rgb(image: Image.Image) -> Image.Image:
    """Flatten any mode to RGB (or L), putting transparency on white."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image, side_px: int, quality: int) -> bytes:
    """Encode a copy no larger than side_px × side_px as JPEG with no metadata at all."""
    copy = image.copy()
    copy.thumbnail((side_px, side_px), Image.Resampling.LANCZOS)
    copy.info = {}  # no EXIF, XMP, comment or ICC profile is carried over
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def process_photo(
    data: bytes,
    *,
    filename: str = "photo",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ProcessedPhoto:
    """Check one uploaded photo by content and return its upright, shrunk, EXIF-free JPEGs."""
    if not data:
        raise _refuse("photo_empty", filename, "是空文件", "is empty")
    if len(data) > max_bytes:
        raise _refuse(
            "photo_too_large",
            filename,
            f"过大（{len(data) / 1e6:.1f} MB，上限 {max_bytes / 1e6:.0f} MB）",
            f"is too large ({len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB)",
        )
    image = _open_checked(data, filename, max_pixels)
    exif = image.getexif()
    gps, taken_at = exif_gps(exif), exif_time(exif)
    try:
        if image.format == "JPEG":
            image.draft("RGB", (MAX_SIDE_PX, MAX_SIDE_PX))  # decode at a reduced scale: fast
        image.load()
        upright = _rgb(ImageOps.exif_transpose(image))
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise _refuse(
            "photo_unreadable", filename, "已损坏，无法读取", "is damaged and cannot be read"
        ) from exc
    stored = _jpeg(upright, MAX_SIDE_PX, JPEG_QUALITY)
    with Image.open(io.BytesIO(stored)) as check:
        width, height = check.size
    return ProcessedPhoto(
        sha256=hashlib.sha256(stored).hexdigest(),
        data=stored,
        thumb=_jpeg(upright, THUMB_SIDE_PX, THUMB_QUALITY),
        width=width,
        height=height,
        taken_at=taken_at,
        gps_lon=gps[0] if gps else None,
        gps_lat=gps[1] if gps else None,
        filename=filename,
    )


def process_uploads(
    uploads: list[tuple[str, bytes]], *, max_pixels: int, max_bytes: int
) -> list[ProcessedPhoto]:
    """Check every uploaded (filename, bytes) photo; the first bad one refuses them all."""
    uploads = [(name, data) for name, data in uploads if name or data]
    if len(uploads) > MAX_PHOTOS:
        raise PhotoError(
            "too_many_photos",
            f"照片过多（{len(uploads)} 张，每次最多 {MAX_PHOTOS} 张）",
            f"Too many photos ({len(uploads)}; at most {MAX_PHOTOS} at a time)",
        )
    processed, seen = [], set()
    for name, data in uploads:
        photo = process_photo(
            data, filename=name or "photo", max_pixels=max_pixels, max_bytes=max_bytes
        )
        if photo.sha256 not in seen:  # the same picture twice is stored once
            seen.add(photo.sha256)
            processed.append(photo)
    return processed


def process_posted(files, config) -> list[ProcessedPhoto]:
    """Check the photos of one form field (uploaded files) under the app's PHOTO_* limits."""
    return process_uploads(
        [(f.filename or "", f.read()) for f in files],
        max_pixels=config["PHOTO_MAX_PIXELS"],
        max_bytes=config.get("PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES),
    )


def photo_path(photo_dir: str | Path, sha256: str, *, thumb: bool = False) -> Path:
    """Where the stored copy (or its thumbnail) of a photo lives."""
    return Path(photo_dir) / sha256[:2] / f"{sha256}{'_t' if thumb else ''}.jpg"


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a temporary file in the same folder, then a rename."""
    if path.exists() and path.stat().st_size == len(data):
        return  # same name = same content
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jpg")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_files(photo_dir: str | Path, photo: ProcessedPhoto) -> None:
    """Write a processed photo's copy and thumbnail atomically under photo_dir."""
    _write_atomic(photo_path(photo_dir, photo.sha256), photo.data)
    _write_atomic(photo_path(photo_dir, photo.sha256, thumb=True), photo.thumb)


def photo_columns(photo: ProcessedPhoto, uploader: User | None) -> dict:
    """The columns a stored photo's row holds (a case's Photo, a 图斑's TubanPhoto)."""
    return {
        "sha256": photo.sha256,
        "width": photo.width,
        "height": photo.height,
        "size_bytes": len(photo.data),
        "taken_at": photo.taken_at,
        "gps_lon": photo.gps_lon,
        "gps_lat": photo.gps_lat,
        "uploaded_by_id": uploader.id if uploader is not None else None,
    }


def attach_photos(
    session,
    case: Case,
    photos: list[ProcessedPhoto],
    photo_dir: str | Path,
    uploader: User | None,
    *,
    stage: str = "before",
) -> list[Photo]:
    """Write the files, then add the Photo rows to the session (the caller commits after)."""
    rows = []
    for photo in photos:
        store_files(photo_dir, photo)
        row = Photo(case=case, stage=stage, **photo_columns(photo, uploader))
        session.add(row)
        rows.append(row)
    return rows
