"""What is kept of an upload: the image's own bytes up to its real end, without location or device tags.

Files are made with Pillow the way cameras and phones make them (EXIF with GPS and the device, XMP, comments,
PNG text chunks, WebP metadata chunks), then cleaned and read back with Pillow.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image

from backend.domain import evidence as rules
from backend.domain.image_container import MAX_METADATA_BYTES, clean_exif, clean_image
from backend.errors import ValidationFailed

GPS_IFD, EXIF_IFD = 0x8825, 0x8769
MAKE, MODEL, ORIENTATION, SOFTWARE, SERIAL = 0x010F, 0x0110, 0x0112, 0x0131, 0xA431
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="31,14.0916N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def camera_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: the device, where it was, when."""
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[SOFTWARE] = "Apple", "iPhone 15 Pro", "17.1"
    exif[ORIENTATION] = orientation
    exif[EXIF_IFD] = {
        DATETIME_ORIGINAL: "2026:11:23 10:02:03",  # fixed-date: bytes kept as they are, no clock reads it
        OFFSET_TIME_ORIGINAL: "+08:00",
        SERIAL: "C39XK",
    }
    exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 5.5), 3: "E", 4: (121.0, 28.0, 1.0)}
    return exif


def picture(width: int = 640, height: int = 480, mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, (width, height), (180, 40, 40) if mode == "RGB" else (180, 40, 40, 255))
    for x in range(0, width, 37):  # structure, so the encoder has real work and FF bytes appear in the data
        image.paste((20, 120, 200) if mode == "RGB" else (20, 120, 200, 128), (x, 0, x + 9, height))
    return image


def saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def assert_only_time_and_orientation(exif: Image.Exif, orientation: int) -> None:
    assert set(exif) <= {ORIENTATION, EXIF_IFD}, dict(exif)
    assert exif.get(ORIENTATION, 1) == orientation
    assert exif.get_ifd(EXIF_IFD) == {
        DATETIME_ORIGINAL: "2026:11:23 10:02:03",  # fixed-date: bytes kept as they are, no clock reads it
        OFFSET_TIME_ORIGINAL: "+08:00",
    }
    assert exif.get_ifd(GPS_IFD) == {}


def test_a_jpeg_keeps_its_capture_time_orientation_and_pixels_and_loses_location_and_device() -> None:
    original = saved(
        picture(), "JPEG", quality=90, exif=camera_exif(6), xmp=XMP, comment=b"Lat 31.2345 Lon 121.4"
    )
    cleaned = clean_image(original, "JPEG")

    kept = Image.open(io.BytesIO(cleaned))
    assert_only_time_and_orientation(kept.getexif(), 6)
    for leak in (b"iPhone", b"Apple", b"C39XK", b"GPSLatitude", b"http://ns.adobe.com/xap", b"Lat 31"):
        assert leak not in cleaned, leak
    # nothing re-encoded: the same pixels, and cleaning again changes nothing
    assert kept.tobytes() == Image.open(io.BytesIO(original)).tobytes()
    assert clean_image(cleaned, "JPEG") == cleaned


@pytest.mark.parametrize(
    "options",
    [{"progressive": True}, {"restart_marker_blocks": 1}, {"subsampling": 0, "quality": 100}],
    ids=["progressive (many scans)", "restart markers", "4:4:4 at quality 100"],
)
def test_every_kind_of_jpeg_scan_is_walked_to_its_end(options: dict[str, object]) -> None:
    original = saved(picture(800, 600), "JPEG", exif=camera_exif(), **options)
    cleaned = clean_image(original, "JPEG")
    assert Image.open(io.BytesIO(cleaned)).tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_a_jfif_thumbnail_is_dropped_with_the_rest() -> None:
    original = saved(picture(), "JPEG")
    assert original[2:4] == b"\xff\xe0" and original[6:11] == b"JFIF\x00"
    length = int.from_bytes(original[4:6], "big")
    header = original[6:18]  # JFIF\0, version, units, densities: everything before the thumbnail's size
    grown = header + bytes([4, 3]) + bytes(4 * 3 * 3)  # a 4×3 RGB thumbnail
    with_thumbnail = original[:4] + struct.pack(">H", len(grown) + 2) + grown + original[4 + length :]
    assert Image.open(io.BytesIO(with_thumbnail)).tobytes() == Image.open(io.BytesIO(original)).tobytes()
    cleaned = clean_image(with_thumbnail, "JPEG")
    assert int.from_bytes(cleaned[4:6], "big") == 16
    assert Image.open(io.BytesIO(cleaned)).tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_a_jpeg_zip_polyglot_is_refused_even_when_the_zip_ends_in_ff_d9() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
        z.comment = b"\xff\xd9"  # the file's last two bytes now look like a JPEG end-of-image marker
    polyglot = saved(picture(), "JPEG") + archive.getvalue()
    assert polyglot.endswith(b"\xff\xd9") and zipfile.is_zipfile(io.BytesIO(polyglot))
    with pytest.raises(ValidationFailed) as caught:
        clean_image(polyglot, "JPEG")
    assert caught.value.code == "image_trailing_data"


def test_zero_padding_after_the_end_is_harmless_and_not_kept() -> None:
    original = saved(picture(), "JPEG")
    assert clean_image(original + bytes(64), "JPEG") == clean_image(original, "JPEG")


def test_a_jpeg_without_its_end_is_damaged() -> None:
    original = saved(picture(), "JPEG")
    with pytest.raises(ValidationFailed) as caught:
        clean_image(original[: len(original) // 2], "JPEG")
    assert caught.value.code == "image_damaged"


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _with_chunks_before_idat(png: bytes, *chunks: bytes) -> bytes:
    at = png.index(b"IDAT") - 4
    return png[:at] + b"".join(chunks) + png[at:]


def test_a_png_keeps_its_time_and_colour_and_loses_text_and_location() -> None:
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "Building A, 31.2345 N 121.4 E")
    text.add_itxt("Author", "张三 13900000001", zip=True)
    original = saved(picture(mode="RGBA"), "PNG", exif=camera_exif(), pnginfo=text)
    original = _with_chunks_before_idat(original, _png_chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)))

    cleaned = clean_image(original, "PNG")

    kept = Image.open(io.BytesIO(cleaned))
    kept.load()
    assert_only_time_and_orientation(kept.getexif(), 1)
    assert "Location" not in kept.info and "Author" not in kept.info
    assert kept.info["dpi"] == pytest.approx((72, 72), abs=0.1)  # how to show it stays
    assert b"31.2345" not in cleaned and b"iPhone" not in cleaned
    assert kept.tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_a_png_with_a_megabyte_of_compressed_text_is_refused() -> None:
    bomb = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * (50 * 1024 * 1024)))
    padding = _png_chunk(b"tEXt", b"Pad\x00" + b"x" * MAX_METADATA_BYTES)
    with pytest.raises(ValidationFailed) as caught:
        clean_image(_with_chunks_before_idat(saved(picture(), "PNG"), bomb, padding), "PNG")
    assert caught.value.code == "image_metadata_too_large"


def test_a_webp_keeps_its_time_and_loses_xmp_and_location() -> None:
    original = saved(picture(), "WEBP", exif=camera_exif(3), xmp=XMP, lossless=True)
    assert b"XMP " in original and b"EXIF" in original

    cleaned = clean_image(original, "WEBP")

    assert b"XMP " not in cleaned and b"GPSLatitude" not in cleaned and b"iPhone" not in cleaned
    kept = Image.open(io.BytesIO(cleaned))
    assert_only_time_and_orientation(kept.getexif(), 3)
    assert kept.tobytes() == Image.open(io.BytesIO(original)).tobytes()
    assert int.from_bytes(cleaned[4:8], "little") == len(cleaned) - 8
    assert clean_image(cleaned, "WEBP") == cleaned


def test_a_webp_with_8_mb_of_xmp_is_refused() -> None:
    bomb = saved(picture(), "WEBP", xmp=b"<x:xmpmeta>" + b" " * (8 * 1024 * 1024) + b"</x:xmpmeta>")
    with pytest.raises(ValidationFailed, match=r"8\.0 MB of metadata") as caught:
        clean_image(bomb, "WEBP")
    assert caught.value.code == "image_metadata_too_large"


def test_bytes_after_a_webps_riff_container_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_image(saved(picture(), "WEBP") + b"PK\x05\x06" + bytes(18), "WEBP")
    assert caught.value.code == "image_trailing_data"


def test_unreadable_exif_is_dropped_rather_than_refusing_the_photo() -> None:
    assert clean_exif(b"Exif\x00\x00MM\x00*\xff\xff\xff\xff") is None
    assert clean_exif(camera_exif().tobytes()) is not None


def test_the_stored_photo_is_the_cleaned_one_and_its_time_and_orientation_still_count() -> None:
    original = saved(picture(1200, 900), "JPEG", exif=camera_exif(6), xmp=XMP)
    image = rules.inspect_image(original, content_type="image/jpeg", filename="photo.jpg")
    assert image.data == clean_image(original, "JPEG")
    assert image.sha256 == rules.sha256_hex(image.data) and image.size == len(image.data)
    assert (image.width, image.height) == (900, 1200)  # upright: orientation 6 is a quarter turn
    assert Image.open(io.BytesIO(image.thumbnail)).size == (240, 320)
    taken = "2026-11-23T10:02:03+08:00"  # fixed-date: the EXIF text above, parsed; no window applies
    assert image.taken_at is not None and image.taken_at.isoformat() == taken
