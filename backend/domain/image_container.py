"""The container around an image's pixels: JPEG segments, PNG chunks and WebP RIFF chunks, walked by hand.

An uploaded original is kept and served as evidence, so what is stored must be an image and nothing else:
- its true end is where the format says it ends (a JPEG's first end-of-image marker found by walking its
  segments and entropy-coded data, not the last FF D9 in the file, which a ZIP appended after it can supply);
  anything but zero padding after that end is refused;
- its side data (JPEG APPn and comments, PNG ancillary chunks, WebP EXIF/XMP/ICC/unknown chunks) is capped;
- location, device and everything else personal is stripped before it is stored: EXIF keeps only the capture
  time and the orientation; XMP, IPTC, comments, PNG text and embedded thumbnails go. The pixels are copied
  byte for byte — nothing is re-encoded, so a JPEG loses no quality and the same upload cleans to the same
  bytes (and so to the same content hash) every time.

Pure: bytes in, bytes out; Pillow only parses and writes the small EXIF block.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import NamedTuple

from PIL import Image

from backend.errors import ValidationFailed

MAX_METADATA_BYTES = 1024 * 1024
"""Side data a photo may carry: a camera's EXIF with its preview is tens of KB, an ICC profile a few KB;
a megabyte is generous, more is smuggling (or a decompression bomb in a compressed text chunk)."""

# EXIF tags that survive: the capture time (with its offset and fraction) and how to turn the image upright.
_EXIF_IFD = 0x8769
_KEPT_MAIN_TAGS = (0x0112, 0x0132)  # Orientation, DateTime
_KEPT_EXIF_TAGS = (0x9003, 0x9011, 0x9291)  # DateTimeOriginal, OffsetTimeOriginal, SubSecTimeOriginal
_EXIF_HEADER = b"Exif\x00\x00"

# PNG ancillary chunks that only say how to show the pixels; everything else (text, time, eXIf as sent,
# private chunks, animation frames) is left out of what is stored.
_PNG_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
_PNG_KEPT = _PNG_CRITICAL | {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD", b"cICP"}

# WebP chunks that make up the picture; EXIF is rewritten, XMP and unknown chunks are left out.
_WEBP_IMAGE_CHUNKS = frozenset({b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF"})
_WEBP_KEPT = _WEBP_IMAGE_CHUNKS | {b"ICCP"}
# VP8X feature flags (first payload byte) for the side data we may drop or rewrite.
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04

# JPEG markers: APPn and COM are side data; these stay because they say how to decode the colours.
_JPEG_SOI, _JPEG_EOI, _JPEG_SOS, _JPEG_COM = 0xD8, 0xD9, 0xDA, 0xFE
_JPEG_APP0, _JPEG_APP1, _JPEG_APP2, _JPEG_APP14 = 0xE0, 0xE1, 0xE2, 0xEE


class _Piece(NamedTuple):
    """A run of bytes of the file: a JPEG segment or scan data, a PNG or WebP chunk."""

    kind: bytes | int
    start: int
    end: int


def _damaged(why: str) -> ValidationFailed:
    return ValidationFailed(f"the image is damaged or truncated ({why})", field="file", code="image_damaged")


# --- EXIF ----------------------------------------------------------------------------------------------


def clean_exif(raw: bytes) -> bytes | None:
    """Only the capture time and orientation of an EXIF block (TIFF, with or without the Exif header).

    GPS, make, model, serial numbers, maker notes and the embedded thumbnail are dropped by not being copied.
    None when nothing is left, or when the block cannot be read (a damaged EXIF must not cost the photo).
    """
    source = Image.Exif()
    try:
        source.load(raw if raw.startswith(_EXIF_HEADER) else _EXIF_HEADER + raw)
        details = source.get_ifd(_EXIF_IFD)
    except Exception:  # Pillow raises many kinds on a malformed TIFF structure
        return None
    kept = Image.Exif()
    for tag in _KEPT_MAIN_TAGS:
        value = source.get(tag)
        if isinstance(value, (str, int)):
            kept[tag] = value
    orientation = kept.get(0x0112)
    if orientation is not None and orientation not in range(1, 9):
        del kept[0x0112]
    kept_details = {tag: details[tag] for tag in _KEPT_EXIF_TAGS if isinstance(details.get(tag), str)}
    if kept_details:
        kept[_EXIF_IFD] = kept_details
    return kept.tobytes() if len(kept) else None


def _tiff(exif_with_header: bytes) -> bytes:
    return exif_with_header[len(_EXIF_HEADER) :]


# --- JPEG ----------------------------------------------------------------------------------------------


def _jpeg_pieces(data: bytes) -> tuple[list[_Piece], int]:
    """The file's segments and scans up to and including the first end-of-image marker; (pieces, its end)."""
    n = len(data)
    if data[:2] != b"\xff\xd8":
        raise _damaged("no start-of-image marker")
    pieces = [_Piece(_JPEG_SOI, 0, 2)]
    pos = 2
    while True:
        if pos >= n:
            raise _damaged("no end-of-image marker")
        if data[pos] != 0xFF:
            raise _damaged(f"no marker at byte {pos}")
        start = pos
        while pos < n and data[pos] == 0xFF:  # fill bytes may precede a marker
            pos += 1
        if pos >= n:
            raise _damaged("no end-of-image marker")
        marker = data[pos]
        pos += 1
        if marker == _JPEG_EOI:
            pieces.append(_Piece(marker, start, pos))
            return pieces, pos
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # RSTn, TEM: markers without a length
            pieces.append(_Piece(marker, start, pos))
            continue
        if marker in (0x00, _JPEG_SOI) or pos + 2 > n:
            raise _damaged(f"unexpected marker FF {marker:02X} at byte {start}")
        length = int.from_bytes(data[pos : pos + 2], "big")
        end = pos + length
        if length < 2 or end > n:
            raise _damaged(f"segment FF {marker:02X} at byte {start} runs past the end")
        pieces.append(_Piece(marker, start, end))
        pos = end
        if marker == _JPEG_SOS:
            pos = _jpeg_scan_end(data, pos)
            pieces.append(_Piece(b"scan", end, pos))


def _jpeg_scan_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data after a start-of-scan ends: at the first marker that is not RSTn.

    Inside the scan an FF byte of data is followed by 00 (byte stuffing), so FF followed by anything else
    is a marker; FF FF is a fill byte before one.
    """
    n = len(data)
    while True:
        at = data.find(b"\xff", pos)
        if at < 0 or at + 1 >= n:
            raise _damaged("the scan has no end")
        follower = data[at + 1]
        if follower == 0x00 or 0xD0 <= follower <= 0xD7:
            pos = at + 2
        elif follower == 0xFF:
            pos = at + 1
        else:
            return at


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _jpeg_kept_segment(data: bytes, piece: _Piece) -> bytes | None:
    """A segment as stored: APPn and comments dropped except colour information and a cleaned EXIF."""
    marker = piece.kind
    assert isinstance(marker, int)
    if not (0xE0 <= marker <= 0xEF or marker == _JPEG_COM):
        return data[piece.start : piece.end]
    payload = data[piece.start + 4 : piece.end]
    if marker == _JPEG_APP0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
        # the JFIF header stays (pixel density); its optional thumbnail does not
        return _segment(marker, payload[:12] + b"\x00\x00")
    if marker == _JPEG_APP1 and payload.startswith(_EXIF_HEADER):
        exif = clean_exif(payload)
        return _segment(marker, exif) if exif else None
    if (marker == _JPEG_APP2 and payload.startswith(b"ICC_PROFILE\x00")) or (
        marker == _JPEG_APP14 and payload.startswith(b"Adobe")
    ):
        return data[piece.start : piece.end]  # colour profile; Adobe's colour transform flag
    return None  # XMP, IPTC, maker segments, multi-picture index, comments


def _is_jpeg_side(piece: _Piece) -> bool:
    return isinstance(piece.kind, int) and (0xE0 <= piece.kind <= 0xEF or piece.kind == _JPEG_COM)


def _rebuild_jpeg(data: bytes, pieces: list[_Piece]) -> bytes:
    kept = (data[p.start : p.end] if p.kind == b"scan" else _jpeg_kept_segment(data, p) for p in pieces)
    return b"".join(k for k in kept if k)


# --- PNG -----------------------------------------------------------------------------------------------


def _png_pieces(data: bytes) -> tuple[list[_Piece], int]:
    pieces, pos, n = [], 8, len(data)
    while pos + 12 <= n:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > n:
            raise _damaged(f"chunk {kind!r} runs past the end")
        pieces.append(_Piece(kind, pos, end))
        pos = end
        if kind == b"IEND":
            return pieces, pos
    raise _damaged("no IEND chunk")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_kept_chunk(data: bytes, piece: _Piece) -> bytes | None:
    if piece.kind in _PNG_KEPT:
        return data[piece.start : piece.end]
    if piece.kind == b"eXIf":
        exif = clean_exif(data[piece.start + 8 : piece.end - 4])
        return _png_chunk(b"eXIf", _tiff(exif)) if exif else None
    return None


def _is_png_side(piece: _Piece) -> bool:
    return piece.kind not in _PNG_CRITICAL


def _rebuild_png(data: bytes, pieces: list[_Piece]) -> bytes:
    kept = (_png_kept_chunk(data, p) for p in pieces)
    return data[:8] + b"".join(k for k in kept if k)


# --- WebP ----------------------------------------------------------------------------------------------


def _webp_pieces(data: bytes) -> tuple[list[_Piece], int]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _damaged("not a RIFF WebP file")
    end = 8 + int.from_bytes(data[4:8], "little")
    if end > len(data):
        raise _damaged("the RIFF container runs past the end")
    pieces, pos = [], 12
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunk_end = pos + 8 + size + (size & 1)  # chunks are padded to an even length
        if chunk_end > end:
            raise _damaged(f"chunk {kind!r} runs past the end")
        pieces.append(_Piece(kind, pos, chunk_end))
        pos = chunk_end
    return pieces, end


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _is_webp_side(piece: _Piece) -> bool:
    return piece.kind not in _WEBP_IMAGE_CHUNKS


def _rebuild_webp(data: bytes, pieces: list[_Piece]) -> bytes:
    extended = any(p.kind == b"VP8X" for p in pieces)  # only the extended format may carry metadata
    exif = (
        next((clean_exif(_chunk_body(data, p)) for p in pieces if p.kind == b"EXIF"), None)
        if extended
        else None
    )
    chunks = []
    for p in pieces:
        if p.kind == b"VP8X":
            body = bytearray(_chunk_body(data, p))
            body[0] = (body[0] & ~(_VP8X_EXIF | _VP8X_XMP)) | (_VP8X_EXIF if exif else 0)
            chunks.append(_riff_chunk(b"VP8X", bytes(body)))
        elif p.kind in _WEBP_KEPT:
            chunks.append(data[p.start : p.end])
    if exif:
        chunks.append(_riff_chunk(b"EXIF", _tiff(exif)))  # EXIF follows the image data in a WebP
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _chunk_body(data: bytes, piece: _Piece) -> bytes:
    size = int.from_bytes(data[piece.start + 4 : piece.start + 8], "little")
    return data[piece.start + 8 : piece.start + 8 + size]


# --- all formats ---------------------------------------------------------------------------------------


class _Format(NamedTuple):
    walk: Callable[[bytes], tuple[list[_Piece], int]]
    is_side_data: Callable[[_Piece], bool]
    rebuild: Callable[[bytes, list[_Piece]], bytes]


_FORMATS = {
    "JPEG": _Format(_jpeg_pieces, _is_jpeg_side, _rebuild_jpeg),
    "PNG": _Format(_png_pieces, _is_png_side, _rebuild_png),
    "WEBP": _Format(_webp_pieces, _is_webp_side, _rebuild_webp),
}


def clean_image(data: bytes, fmt: str) -> bytes:
    """The image as it may be stored: refused when bytes follow its end or its side data is too large,
    otherwise without location, device and other personal metadata."""
    container = _FORMATS[fmt]
    pieces, end = container.walk(data)
    # zero bytes after the end are harmless and some encoders add them; anything else is another payload
    if data[end:].strip(b"\x00"):
        raise ValidationFailed(
            f"the file carries {len(data) - end} bytes after the end of the image",
            field="file",
            code="image_trailing_data",
        )
    side = sum(p.end - p.start for p in pieces if container.is_side_data(p))
    if side > MAX_METADATA_BYTES:
        raise ValidationFailed(
            f"the image carries {side / 1048576:.1f} MB of metadata; at most "
            f"{MAX_METADATA_BYTES // 1048576} MB is accepted",
            field="file",
            code="image_metadata_too_large",
        )
    return container.rebuild(data, pieces)
