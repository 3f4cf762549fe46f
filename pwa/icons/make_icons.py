"""Draw the PWA icons (any + maskable, 192 and 512 px) with Pillow: `python pwa/icons/make_icons.py`."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
BACKGROUND = (14, 59, 102)  # the app's header blue
FOREGROUND = (255, 255, 255)
ACCENT = (255, 193, 7)  # the amber of the action buttons

# A maskable icon may be cropped to a circle of 80 % of its width, so its drawing stays inside that.
MASKABLE_SAFE_ZONE = 0.8


def draw_mark(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """A house with a wrench across its door: property care."""
    s = size * scale
    ox = (size - s) / 2
    oy = (size - s) / 2

    def pt(x: float, y: float) -> tuple[float, float]:
        return (ox + x * s, oy + y * s)

    draw.polygon([pt(0.5, 0.12), pt(0.9, 0.48), pt(0.1, 0.48)], fill=FOREGROUND)
    draw.rectangle([pt(0.2, 0.46), pt(0.8, 0.88)], fill=FOREGROUND)
    draw.rectangle([pt(0.42, 0.62), pt(0.58, 0.88)], fill=BACKGROUND)
    width = max(2, int(s * 0.07))
    draw.line([pt(0.3, 0.82), pt(0.7, 0.5)], fill=ACCENT, width=width)
    r = s * 0.08
    cx, cy = pt(0.7, 0.5)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=ACCENT)


def make_icon(size: int, maskable: bool) -> Image.Image:
    """One icon: maskable ones are full-bleed, the others a rounded square."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle([0, 0, size, size], fill=BACKGROUND)
        draw_mark(draw, size, MASKABLE_SAFE_ZONE * 0.75)
    else:
        draw.rounded_rectangle([0, 0, size - 1, size - 1], radius=size // 6, fill=BACKGROUND)
        draw_mark(draw, size, 0.78)
    return image


def main() -> None:
    """Write icon-192.png, icon-512.png, maskable-192.png, maskable-512.png next to this script."""
    for size in (192, 512):
        make_icon(size, maskable=False).save(HERE / f"icon-{size}.png", optimize=True)
        make_icon(size, maskable=True).save(HERE / f"maskable-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
