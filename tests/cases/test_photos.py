"""Photos: checked by content, capped, upright, shrunk, stripped, stored by hash, all or nothing."""

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from inspection import db
from inspection.cases import photos
from inspection.cases.models import Photo
from inspection.cases.photos import PhotoError, photo_path, process_photo, process_uploads
from tests.cases.test_report_forms import IN_A1, count_cases, last_case, post_report, seed_town
from tests.conftest import login

GPS = (113.0025, 30.005)  # lon, lat in group A1 of the test town


def image_bytes(fmt="JPEG", size=(64, 48), mode="RGB", orientation=None, gps=None, taken=None):
    """A small generated image, optionally with EXIF orientation, GPS (lon, lat) and time."""
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        lon, lat = gps
        exif.get_ifd(0x8825).update(
            {
                1: "N",
                2: (float(int(lat)), 0.0, (lat - int(lat)) * 3600),
                3: "E",
                4: (float(int(lon)), 0.0, (lon - int(lon)) * 3600),
            }
        )
    if taken:
        exif.get_ifd(0x8769)[36867] = taken
    out = io.BytesIO()
    color = {"RGBA": (10, 120, 200, 128), "L": 90}.get(mode, (10, 120, 200))
    extra = {"exif": exif.tobytes()} if len(exif) or gps or taken else {}
    Image.new(mode, size, color).save(out, fmt, **extra)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height pixels, with no image data: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


# --- process_photo, no app -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,code",
    [
        (b"%PDF-1.4 not an image at all", "photo_not_image"),
        (b"", "photo_empty"),
        (image_bytes("GIF"), "photo_not_image"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "photo_not_image"),
        (
            png_header_only(20_000, 20_000),
            "photo_too_many_pixels",
        ),  # 400 Mpx, below Pillow's own cap
        (
            png_header_only(100_000, 100_000),
            "photo_too_many_pixels",
        ),  # Pillow's DecompressionBombError
        (image_bytes()[:200], "photo_unreadable"),  # truncated
    ],
    ids=["pdf", "empty", "gif", "broken-heic", "bomb", "huge-bomb", "truncated"],
)
def test_row_25_bad_photos_are_refused_by_content(data, code):
    with pytest.raises(PhotoError) as refused:
        process_photo(data, filename="x.jpg")

    assert refused.value.code == code
    assert "x.jpg" in refused.value.message_zh and refused.value.status == 422


def test_pixel_cap_is_read_from_the_header_before_decoding():
    with pytest.raises(PhotoError) as refused:
        process_photo(image_bytes(size=(300, 200)), max_pixels=50_000)

    assert refused.value.code == "photo_too_many_pixels"


def test_byte_cap():
    with pytest.raises(PhotoError) as refused:
        process_photo(image_bytes(), max_bytes=100)

    assert refused.value.code == "photo_too_large"


def test_row_26_gps_and_time_are_kept_as_data_and_stripped_from_the_files():
    photo = process_photo(image_bytes(gps=GPS, taken="2022:05:01 09:30:00"))

    assert (photo.gps_lon, photo.gps_lat) == pytest.approx(GPS, abs=1e-9)
    assert photo.taken_at.isoformat() == "2022-05-01T09:30:00"
    for data in (photo.data, photo.thumb):
        with Image.open(io.BytesIO(data)) as stored:
            assert len(stored.getexif()) == 0
            assert "exif" not in stored.info and "xmp" not in stored.info
            assert b"Exif" not in data[:4096]


def test_photo_is_turned_upright_by_its_exif_orientation():
    photo = process_photo(image_bytes(size=(64, 32), orientation=6))

    assert (photo.width, photo.height) == (32, 64)


def test_large_photo_is_shrunk_and_thumbnailed():
    photo = process_photo(image_bytes(size=(4000, 3000)))

    assert (photo.width, photo.height) == (1600, 1200)
    with Image.open(io.BytesIO(photo.thumb)) as thumb:
        assert max(thumb.size) == 320 and thumb.format == "JPEG"


@pytest.mark.parametrize("fmt,mode", [("PNG", "RGBA"), ("WEBP", "RGB"), ("PNG", "L")])
def test_png_and_webp_become_jpeg(fmt, mode):
    photo = process_photo(image_bytes(fmt, mode=mode))

    with Image.open(io.BytesIO(photo.data)) as stored:
        assert stored.format == "JPEG" and stored.mode in ("RGB", "L")


def test_name_is_the_sha256_of_the_stored_copy(tmp_path):
    photo = process_photo(image_bytes())

    photos.store_files(tmp_path, photo)

    stored = photo_path(tmp_path, photo.sha256)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == photo.sha256
    assert photo_path(tmp_path, photo.sha256, thumb=True).is_file()
    assert not list(tmp_path.rglob(".tmp-*"))


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    photo = process_photo(image_bytes())

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(photos.os, "replace", broken_replace)
    with pytest.raises(OSError):
        photos.store_files(tmp_path, photo)

    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_too_many_photos_and_duplicates():
    same = image_bytes()

    with pytest.raises(PhotoError):
        process_uploads([("p.jpg", same)] * 13, max_pixels=10**7, max_bytes=10**7)
    assert (
        len(process_uploads([("a.jpg", same), ("b.jpg", same)], max_pixels=10**7, max_bytes=10**7))
        == 1
    )


# --- Through the form ---------------------------------------------------------------------------


@pytest.fixture
def town(app):
    return seed_town(app)


def stored_files(app) -> set[Path]:
    return {p for p in Path(app.config["PHOTO_DIR"]).rglob("*") if p.is_file()}


def test_report_with_photos_stores_them_and_serves_them(app, client, town):
    login(client, "wgy_a1")

    response = post_report(
        client,
        geometry=IN_A1,
        files={
            "photos": [
                (io.BytesIO(image_bytes(gps=GPS)), "a.jpg"),
                (io.BytesIO(image_bytes("PNG", mode="RGBA")), "b.png"),
            ]
        },
    )

    assert response.status_code == 303
    case = last_case(app)
    assert len(case.photos) == 2
    first = case.photos[0]
    assert (first.gps_lon, first.gps_lat) == pytest.approx(GPS, abs=1e-9)
    served = client.get(f"/cases/{case.id}/photos/{first.id}/full.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert hashlib.sha256(served.data).hexdigest() == first.sha256
    assert "private" in served.headers["Cache-Control"]
    thumb = client.get(f"/cases/{case.id}/photos/{first.id}/thumb.jpg")
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert len(image.getexif()) == 0


@pytest.mark.parametrize(
    "bad,words",
    [
        (b"MZ\x90\x00 an executable, not a photo", "不是可识别的图片"),
        (png_header_only(30_000, 30_000), "像素过多"),
    ],
    ids=["not-an-image", "decompression-bomb"],
)
def test_row_25_a_bad_photo_saves_nothing_and_keeps_the_fields(app, client, town, bad, words):
    login(client, "wgy_a1")
    before = stored_files(app)

    response = post_report(
        client,
        geometry=IN_A1,
        description="村口排污口",
        files={"photos": [(io.BytesIO(image_bytes()), "good.jpg"), (io.BytesIO(bad), "bad.jpg")]},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert words in html and "bad.jpg" in html
    assert "村口排污口" in html and IN_A1 in html
    assert count_cases(app) == 1
    assert stored_files(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count(Photo.id))) == 1


def test_an_iphone_heic_photo_is_taken_upright_with_its_gps(app, client, town):
    """HEIC (as an iPhone shoots it) is stored as an upright JPEG; its GPS stays as data only."""
    login(client, "wgy_a1")
    heic = image_bytes("HEIF", size=(64, 48), orientation=6, gps=GPS)
    assert heic[4:12] == b"ftypheic"

    response = post_report(
        client, geometry=IN_A1, files={"photos": (io.BytesIO(heic), "IMG_0001.HEIC")}
    )

    assert response.status_code in (302, 303), response.get_data(as_text=True)[:400]
    photo = last_case(app).photos[0]
    assert (photo.width, photo.height) == (48, 64)  # turned upright once, not twice
    assert photo.gps_lon == pytest.approx(GPS[0], abs=1e-6)
    assert photo.gps_lat == pytest.approx(GPS[1], abs=1e-6)
    with Image.open(photo_path(app.config["PHOTO_DIR"], photo.sha256)) as stored:
        assert stored.format == "JPEG" and not stored.getexif()


def test_row_26_photo_gps_is_suggested_when_no_location_is_given(app, client, town):
    login(client, "wgy_a1")

    suggested = post_report(
        client,
        geometry="",
        description="垃圾堆",
        files={"photos": (io.BytesIO(image_bytes(gps=GPS)), "gps.jpg")},
    )
    html = suggested.get_data(as_text=True)
    accepted = post_report(
        client,
        geometry="113.0025000,30.0050000",
        crs="EPSG:4326",
        files={"photos": (io.BytesIO(image_bytes(gps=GPS)), "gps.jpg")},
    )

    assert suggested.status_code == 422
    assert "第一张照片的拍摄位置" in html and "113.0025000,30.0050000" in html
    assert count_cases(app) == 2 and accepted.status_code == 303
    case = last_case(app)
    stored = photo_path(app.config["PHOTO_DIR"], case.photos[0].sha256).read_bytes()
    with Image.open(io.BytesIO(stored)) as image:
        assert len(image.getexif()) == 0 and image.getexif().get_ifd(0x8825) == {}
    assert case.photos[0].gps_lat == pytest.approx(GPS[1])


def test_no_location_and_no_photo_gps_asks_for_the_location(app, client, town):
    login(client, "wgy_a1")

    response = post_report(
        client, geometry="", files={"photos": (io.BytesIO(image_bytes()), "p.jpg")}
    )

    assert response.status_code == 422 and "请标注位置" in response.get_data(as_text=True)


def test_english_reason(app, client, town):
    login(client, "wgy_a1")
    client.get("/?lang=en")

    response = post_report(client, geometry=IN_A1, files={"photos": (io.BytesIO(b"nope"), "n.jpg")})

    assert "is not a recognised image" in response.get_data(as_text=True)
