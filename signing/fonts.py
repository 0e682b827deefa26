# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Finding a Vietnamese-capable TrueType font and embedding it with correct glyph spacing.

pyHanko's ``GlyphAccumulator`` writes glyph widths (``/W``), ``TJ`` adjustments and the font
descriptor's metrics in font units.
PDF wants thousandths of an em, so for TrueType fonts with 2048 units per em (Liberation, DejaVu,
Times New Roman) every glyph advanced about twice its width: "H à   T h ị". The subclass below
shapes with HarfBuzz at a 1000-unit scale and scales the widths the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Literal

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.writer import BasePdfFileWriter

from .errors import SigningConfigError

__all__ = [
    "FontConfig",
    "FontStyle",
    "ScaledGlyphAccumulator",
    "ScaledGlyphAccumulatorFactory",
    "find_font",
]

# Searched in order when no font is configured: Times-compatible serif first (Decree 30 asks for
# Times New Roman), then other fonts with full Vietnamese coverage.
FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/msttcorefonts/Times_New_Roman.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
BOLD_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf",
)
ITALIC_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Italic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-Italic.ttf",
)
FontStyle = Literal["regular", "bold", "italic"]


@dataclass(frozen=True)
class FontConfig:
    """Fonts used in stamps and form fields. ``None`` means: search the usual system paths."""

    regular: Path | None = None
    bold: Path | None = None
    italic: Path | None = None

    def regular_path(self) -> Path:
        return find_font(self.regular, FONT_CANDIDATES)

    def bold_path(self) -> Path:
        try:
            return find_font(self.bold, BOLD_CANDIDATES)
        except SigningConfigError:
            return self.regular_path()

    def italic_path(self) -> Path:
        try:
            return find_font(self.italic, ITALIC_CANDIDATES)
        except SigningConfigError:
            return self.regular_path()

    def path(self, style: FontStyle) -> Path:
        if style == "bold":
            return self.bold_path()
        if style == "italic":
            return self.italic_path()
        return self.regular_path()


def find_font(configured: Path | None, candidates: tuple[str, ...] = FONT_CANDIDATES) -> Path:
    """The configured font if it exists, else the first installed candidate."""
    if configured is not None:
        if configured.is_file():
            return configured
        raise SigningConfigError(f"Không tìm thấy phông chữ {configured}.")
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file():
            return path
    raise SigningConfigError(
        "Không tìm thấy phông chữ TrueType có tiếng Việt (cài gói fonts-liberation2).",
        details={"searched": list(candidates)},
    )


@lru_cache(maxsize=8)
def _font_bytes(path: str) -> bytes:
    # Fonts are read once per process; parsing and subsetting still happen per document.
    return Path(path).read_bytes()


class ScaledGlyphAccumulator(GlyphAccumulator):
    """A ``GlyphAccumulator`` whose metrics are in thousandths of an em, as PDF expects."""

    def __init__(self, writer: BasePdfFileWriter, font_bytes: bytes, font_size: float) -> None:
        super().__init__(writer=writer, font_handle=BytesIO(font_bytes), font_size=font_size)
        self._to_pdf_units = 1000 / self.units_per_em
        self.hb_font.scale = (1000, 1000)
        self.units_per_em = 1000
        # The font descriptor's metrics have the same unit bug; viewers use them for text
        # selection boxes and extraction (a 10 pt line would measure 22 pt).
        descriptor = self.cidfont_obj._font_descriptor
        for key in ("/Ascent", "/Descent", "/CapHeight"):
            if key in descriptor:
                descriptor[key] = generic.NumberObject(round(descriptor[key] * self._to_pdf_units))
        descriptor["/FontBBox"] = generic.ArrayObject(
            generic.NumberObject(round(v * self._to_pdf_units)) for v in descriptor["/FontBBox"]
        )

    def set_size(self, size: float) -> None:
        # pyHanko annotates font_size as int but only ever uses it as a scale factor.
        self.font_size = size  # type: ignore[assignment]

    def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
        cached: tuple[int, int] | None = self._glyphs.get(glyph_id)
        if cached is not None:
            return cached
        cid, width = super()._get_cid_and_width(glyph_id)
        scaled = (cid, round(width * self._to_pdf_units))
        self._glyphs[glyph_id] = scaled
        return scaled


@dataclass(frozen=True)
class ScaledGlyphAccumulatorFactory(GlyphAccumulatorFactory):
    """Drop-in for ``GlyphAccumulatorFactory`` (usable in ``TextBoxStyle.font``)."""

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: object = None
    ) -> ScaledGlyphAccumulator:
        # fontTools warns about tables it cannot subset (FFTM); harmless and noisy in logs.
        logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
        return ScaledGlyphAccumulator(writer, _font_bytes(self.font_file), self.font_size)
