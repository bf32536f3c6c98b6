"""Draw the app's icons (our own artwork): a 3×3 grid with a tick, blue on white; writes static/icons/.

python scripts/make_icons.py  — favicon.ico (16, 32, 48 px), icon-192.png, icon-512.png, maskable-512.png.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
BLUE, WHITE = (31, 111, 235), (255, 255, 255)


def draw(size: int, *, maskable: bool = False) -> Image.Image:
    """The icon at `size` px; a maskable one keeps its drawing in the central 80 % safe zone."""
    image = Image.new("RGBA", (size, size), BLUE if maskable else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if not maskable:
        pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=BLUE)
    inset = size * (0.22 if maskable else 0.16)
    left, right = inset, size - inset
    width = max(1, round(size / 24))
    for i in range(4):  # the grid: 网格
        at = left + (right - left) * i / 3
        pen.line((at, left, at, right), fill=WHITE, width=width)
        pen.line((left, at, right, at), fill=WHITE, width=width)
    cell = (right - left) / 3  # a tick over the centre cell: 巡查 done
    cx, cy = left + 1.5 * cell, left + 1.5 * cell
    tick = [(cx - cell * 0.9, cy), (cx - cell * 0.2, cy + cell * 0.7), (cx + cell * 1.1, cy - cell * 0.9)]
    pen.line(tick, fill=(255, 212, 59), width=max(2, round(size / 10)), joint="curve")
    return image


def main() -> None:
    """Write every icon file."""
    OUT.mkdir(parents=True, exist_ok=True)
    draw(256).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
    draw(192).save(OUT / "icon-192.png", optimize=True)
    draw(512).save(OUT / "icon-512.png", optimize=True)
    draw(512, maskable=True).save(OUT / "maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
