"""PNG images of PDF pages (poppler's ``pdftoppm``), optionally with the signing fields drawn
on them: the pages show a document on any phone, and the signing screens show where the
signature and the seal will go."""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw


@dataclass(frozen=True)
class Mark:
    """A rectangle in PDF points (lower-left origin) and its colour."""

    x: float
    y: float
    width: float
    height: float
    rgb: tuple[int, int, int]


class PreviewError(RuntimeError):
    pass


def render_page(pdf: bytes, page: int, *, dpi: int = 80, marks: Sequence[Mark] = ()) -> bytes:
    """Page ``page`` (1-based) as PNG bytes, with ``marks`` drawn translucent on top."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        out = Path(tmp) / "page"
        result = subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(dpi),
                "-png",
                "-singlefile",
                "-f",
                str(page),
                "-l",
                str(page),
                str(source),
                str(out),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        target = out.with_suffix(".png")
        if result.returncode != 0 or not target.exists():
            raise PreviewError(result.stderr.decode(errors="replace")[:300])
        image = Image.open(target).convert("RGBA")
    if marks:
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        scale = dpi / 72
        for m in marks:
            box = (
                m.x * scale,
                image.height - (m.y + m.height) * scale,
                (m.x + m.width) * scale,
                image.height - m.y * scale,
            )
            draw.rectangle(box, fill=(*m.rgb, 50), outline=(*m.rgb, 255), width=2)
        image = Image.alpha_composite(image, overlay)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
