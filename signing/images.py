"""Demo signature and seal images, drawn at run time with Pillow (never committed).

A real deployment uploads scans of each leader's signature and each organisation's seal; the demo
needs stand-ins that look the part: a blue handwriting-like signature on a transparent PNG, and a
red round seal with the organisation's name around the rim (DOMAIN.md §6).
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .fonts import BOLD_CANDIDATES, find_font

__all__ = ["SEAL_DIAMETER_MM", "render_seal_image", "render_signature_image"]

SEAL_DIAMETER_MM = 36.0
_SIGNATURE_BLUE = (20, 45, 160, 255)
_SEAL_RED = (215, 25, 32, 255)


def render_signature_image(full_name: str, *, width: int = 900, height: int = 360) -> bytes:
    """A blue, handwriting-like flourish on a transparent background (PNG bytes).

    Deterministic per name, so each demo leader keeps the same "signature".
    """
    seed = hashlib.sha256(unicodedata.normalize("NFC", full_name).encode()).digest()
    scale = 3  # draw large, then downsample: Pillow's lines are not anti-aliased
    img = Image.new("RGBA", (width * scale, height * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    w, h = width * scale, height * scale
    loops = 4 + seed[0] % 3
    points: list[tuple[float, float]] = []
    steps = 900
    for i in range(steps + 1):
        t = i / steps
        # A prolate trochoid: the pen circles faster than it advances, so it draws joined
        # loops like cursive letters, rising slightly as handwriting does.
        phase = 2 * math.pi * loops * t + seed[3] / 40
        amp = 0.22 + 0.1 * math.sin(2 * math.pi * t * (1 + seed[1] % 2) + seed[2])
        x = 0.08 + 0.74 * t + 0.06 * math.cos(phase)
        y = 0.52 - 0.14 * t - amp * math.sin(phase) * (1.0 if i < steps * 0.3 else 0.75)
        points.append((x * w, y * h))
    stroke = 5 * scale
    draw.line(points, fill=_SIGNATURE_BLUE, width=stroke, joint="curve")
    # The closing underline stroke most Vietnamese signatures end with.
    y0 = h * (0.78 + (seed[5] % 10) / 200)
    draw.line(
        [(w * 0.18, y0), (w * 0.55, y0 - h * 0.04), (w * 0.92, y0 - h * 0.1)],
        fill=_SIGNATURE_BLUE,
        width=stroke - 2 * scale,
        joint="curve",
    )
    return _png(img.resize((width, height), Image.Resampling.LANCZOS))


def render_seal_image(
    organization_name: str,
    *,
    center_text: str = "★",
    size_px: int = 850,
    font_path: Path | None = None,
) -> bytes:
    """A red round seal with the organisation name around the rim (PNG bytes, transparent).

    Draw it at :data:`SEAL_DIAMETER_MM` on the page to show it at real size.
    """
    font_file = find_font(font_path, BOLD_CANDIDATES)
    scale = 2
    size = size_px * scale
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    c = size / 2
    outer = size * 0.48
    draw.ellipse([c - outer, c - outer, c + outer, c + outer], outline=_SEAL_RED, width=size // 45)
    inner = size * 0.33
    draw.ellipse([c - inner, c - inner, c + inner, c + inner], outline=_SEAL_RED, width=size // 90)
    text = unicodedata.normalize("NFC", organization_name.upper())
    _draw_text_on_arc(img, text, (c, c), (outer + inner) / 2, font_file, size)
    star_font = ImageFont.truetype(str(find_font(None)), int(size * 0.22))
    if center_text == "★":
        _draw_star(draw, (c, c), size * 0.12, size * 0.05)
    else:
        bbox = draw.textbbox((0, 0), center_text, font=star_font)
        draw.text(
            (c - (bbox[2] - bbox[0]) / 2 - bbox[0], c - (bbox[3] - bbox[1]) / 2 - bbox[1]),
            center_text,
            font=star_font,
            fill=_SEAL_RED,
        )
    return _png(img.resize((size_px, size_px), Image.Resampling.LANCZOS))


def _draw_star(draw: ImageDraw.ImageDraw, center: tuple[float, float], r: float, r2: float) -> None:
    cx, cy = center
    points = []
    for i in range(10):
        angle = -math.pi / 2 + i * math.pi / 5
        radius = r if i % 2 == 0 else r2
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=_SEAL_RED)


def _draw_text_on_arc(
    img: Image.Image,
    text: str,
    center: tuple[float, float],
    radius: float,
    font_file: Path,
    size: int,
) -> None:
    # Letters are spread over most of the circle, starting at the bottom-left and running
    # clockwise over the top, as on Vietnamese round seals; each is drawn upright on its own
    # tile and rotated to the tangent.
    font_size = int(size * 0.085)
    if len(text) > 30:
        font_size = int(font_size * 30 / len(text))
    font = ImageFont.truetype(str(font_file), font_size)
    span = math.radians(300)
    start = math.radians(90 + 30)  # measured clockwise from the positive x axis, screen coords
    step = span / max(len(text), 1)
    cx, cy = center
    for i, char in enumerate(text):
        if char == " ":
            continue
        angle = start + step * (i + 0.5)
        tile = Image.new("RGBA", (font_size * 2, font_size * 2), (0, 0, 0, 0))
        tdraw = ImageDraw.Draw(tile)
        bbox = tdraw.textbbox((0, 0), char, font=font)
        tw, th = bbox[2] - bbox[0], bbox[3] - bbox[1]
        tdraw.text(
            (font_size - tw / 2 - bbox[0], font_size - th / 2 - bbox[1]),
            char,
            font=font,
            fill=_SEAL_RED,
        )
        rotated = tile.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = cx + radius * math.cos(angle) - font_size
        y = cy + radius * math.sin(angle) - font_size
        img.alpha_composite(rotated, (int(x), int(y)))


def _png(img: Image.Image) -> bytes:
    out = BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
