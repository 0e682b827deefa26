"""PNG images of PDF pages (poppler's ``pdftoppm``), optionally with the signing fields drawn
on them: the pages show a document on any phone, and the signing screens show where the
signature and the seal will go.

``pdftoppm`` reads PDFs anyone may upload: it runs in the network-less sandbox of
:mod:`app.sandbox` with CPU, memory and file-size limits, and the resolution is bounded
(:data:`MIN_DPI`..:data:`MAX_DPI`)."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from app.sandbox import Limits, Sandbox

MIN_DPI, MAX_DPI, DEFAULT_DPI = 36, 200, 80
# An A4 page at 200 dpi is ~1650x2340 pixels; these bound a page with a hostile MediaBox too.
PREVIEW_LIMITS = Limits(cpu_seconds=30, memory_bytes=1024**3, file_bytes=256 * 1024**2)
MAX_PIXELS = 40_000_000


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


_PAGE_SIZE = re.compile(rb"Page\s+\d+\s+size:\s+([0-9.]+) x ([0-9.]+) pts")


def _page_size(sandbox: Sandbox, source: Path, page: int, tmp: Path) -> tuple[float, float] | None:
    """The page's size in points as poppler sees it (``pdfinfo``, in the sandbox), or None
    when it cannot tell (pdftoppm then says why)."""
    command = sandbox.command(
        ["pdfinfo", "-f", str(page), "-l", str(page), str(source)],
        limits=PREVIEW_LIMITS,
        writable=[tmp],
    )
    try:
        result = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PreviewError("pdfinfo took too long") from exc
    found = _PAGE_SIZE.search(result.stdout)
    return (float(found[1]), float(found[2])) if found else None


def render_page(
    pdf: bytes,
    page: int,
    *,
    dpi: int = DEFAULT_DPI,
    marks: Sequence[Mark] = (),
    sandbox: Sandbox | None = None,
) -> bytes:
    """Page ``page`` (1-based) as PNG bytes, with ``marks`` drawn translucent on top.

    ``ValueError`` for a ``dpi`` outside MIN_DPI..MAX_DPI; :class:`PreviewError` when the page
    cannot be rendered; :class:`~app.sandbox.SandboxUnavailable` when the sandbox cannot run.
    """
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"dpi must be within {MIN_DPI}..{MAX_DPI}")
    sandbox = sandbox or Sandbox()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        out = Path(tmp) / "page"
        points = _page_size(sandbox, source, page, Path(tmp))
        if points is not None and (points[0] * dpi / 72) * (points[1] * dpi / 72) > MAX_PIXELS:
            # Refused before rendering: a hostile MediaBox would make pdftoppm draw a bitmap
            # of hundreds of megapixels first.
            raise PreviewError("the page is too large to show")
        command = sandbox.command(
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
            limits=PREVIEW_LIMITS,
            writable=[Path(tmp)],
        )
        try:
            result = subprocess.run(command, capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PreviewError("pdftoppm took too long") from exc
        target = out.with_suffix(".png")
        if result.returncode != 0 or not target.exists():
            raise PreviewError(result.stderr.decode(errors="replace")[:300])
        try:
            with Image.open(target) as png:
                if png.width * png.height > MAX_PIXELS:
                    raise PreviewError("the page is too large to show")
                image = png.convert("RGBA")
        except (OSError, Image.DecompressionBombError) as exc:  # what pdftoppm wrote is no image
            raise PreviewError(str(exc)[:300]) from exc
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
