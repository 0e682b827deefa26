# mypy: allow-untyped-calls
# (pyHanko leaves parts of its API unannotated; we call it here.)
"""Visible appearances of signatures: the Decree 30 looks of DOMAIN.md §6.

An :class:`AppearanceSpec` is a small scene (images and text lines at positions inside the
signature widget); :class:`SpecStampStyle` renders it as the widget's appearance stream through
pyHanko's stamp machinery, with the text in an embedded TrueType subset (Vietnamese-safe, see
:mod:`signing.fonts`). The builders below lay out the four looks:

* leader (ký phê duyệt): the handwritten-signature image, fitted into the signature block;
* organisation (ký phát hành): the red seal at real size, over the left third of the leader's
  signature, with the organisation name and the signing time (ISO 8601, +07:00) under it;
* attachment: no image, the main document's number/notation and the time, 10 pt, top right;
* copy (SAO Y): the copying organisation's seal, "SAO Y", its name and the time, top right.
"""

from __future__ import annotations

import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from io import BytesIO
from typing import Literal
from zoneinfo import ZoneInfo

from PIL import Image
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStamp, BaseStampStyle

from .fonts import FontConfig, FontStyle, ScaledGlyphAccumulator, ScaledGlyphAccumulatorFactory

__all__ = [
    "AppearanceSpec",
    "ImageItem",
    "SpecStampStyle",
    "TextItem",
    "attachment_appearance",
    "copy_appearance",
    "format_signing_time",
    "leader_appearance",
    "mm",
    "seal_appearance",
]

VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RGB = tuple[float, float, float]
BLACK: RGB = (0.0, 0.0, 0.0)
SEAL_RED: RGB = (0.84, 0.1, 0.12)


def mm(value: float) -> float:
    """Millimetres to PDF points."""
    return value * 72 / 25.4


def format_signing_time(moment: datetime) -> str:
    """ISO 8601 in Vietnam time with its offset, e.g. ``2026-06-18T09:30:00+07:00``."""
    return moment.astimezone(VIETNAM_TZ).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ImageItem:
    """A PNG drawn in the rectangle (x, y, width, height), in points from the widget's corner."""

    png: bytes
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class TextItem:
    """One line of text; ``x`` is the left edge, centre or right edge depending on ``align``,
    ``y`` the baseline. The size shrinks to fit ``max_width`` when given."""

    text: str
    x: float
    y: float
    size: float = 10
    color: RGB = BLACK
    align: Literal["left", "center", "right"] = "left"
    max_width: float | None = None
    style: FontStyle = "regular"


@dataclass(frozen=True)
class AppearanceSpec:
    """What a signature widget shows. Items are drawn in order (images first, then text)."""

    images: tuple[ImageItem, ...] = ()
    texts: tuple[TextItem, ...] = ()


@dataclass(frozen=True)
class SpecStampStyle(BaseStampStyle):
    """A pyHanko stamp style that draws an :class:`AppearanceSpec` (no border, no background)."""

    spec: AppearanceSpec = field(default_factory=AppearanceSpec)
    fonts: FontConfig = field(default_factory=FontConfig)
    border_width: int = 0

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict[str, object]
    ) -> _SpecStamp:
        return _SpecStamp(writer, self, box)


class _SpecStamp(BaseStamp):
    style: SpecStampStyle

    def _render_inner_content(self) -> list[bytes]:
        spec = self.style.spec
        ops: list[bytes] = []
        writer = self._ensure_writer
        for index, item in enumerate(spec.images):
            name = f"/Im{index}"
            self.set_resource(
                ResourceType.XOBJECT, generic.NameObject(name), image_xobject(item.png, writer)
            )
            ops.append(
                b"q %g 0 0 %g %g %g cm %s Do Q"
                % (item.width, item.height, item.x, item.y, name.encode("ascii"))
            )
        engines: dict[str, ScaledGlyphAccumulator] = {}
        for text in spec.texts:
            engine = engines.get(text.style)
            if engine is None:
                path = self.style.fonts.path(text.style)
                engine = ScaledGlyphAccumulatorFactory(str(path)).create_font_engine(writer)
                engines[text.style] = engine
                self.set_resource(
                    ResourceType.FONT,
                    generic.NameObject(_FONT_NAMES[text.style]),
                    engine.as_resource(),
                )
            ops.append(text_ops(engine, text))
        return ops


_FONT_NAMES = {"regular": "/FR", "bold": "/FB", "italic": "/FI"}


@dataclass(frozen=True)
class _EncodedImage:
    width: int
    height: int
    rgb: bytes
    """Flate-compressed 8-bit RGB samples."""
    alpha: bytes
    """Flate-compressed 8-bit alpha samples (the soft mask)."""


@lru_cache(maxsize=64)
def _encode_png(png: bytes) -> _EncodedImage:
    # Decoding the PNG and deflating its samples cost more than signing; the same signature
    # image or seal is drawn on document after document, so it is done once per image.
    with Image.open(BytesIO(png)) as opened:
        img = opened.convert("RGBA")
    alpha = img.getchannel("A")
    rgb = img.convert("RGB")
    return _EncodedImage(
        img.width, img.height, zlib.compress(rgb.tobytes()), zlib.compress(alpha.tobytes())
    )


def _image_stream(
    image: _EncodedImage, color_space: str, data: bytes, smask: generic.IndirectObject | None
) -> generic.StreamObject:
    entries: dict[generic.NameObject, generic.PdfObject] = {
        generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Image"),
        generic.pdf_name("/Width"): generic.NumberObject(image.width),
        generic.pdf_name("/Height"): generic.NumberObject(image.height),
    }
    if smask is not None:
        entries[generic.pdf_name("/SMask")] = smask
    entries[generic.pdf_name("/ColorSpace")] = generic.pdf_name(color_space)
    entries[generic.pdf_name("/BitsPerComponent")] = generic.NumberObject(8)
    entries[generic.pdf_name("/Filter")] = generic.pdf_name("/FlateDecode")
    return generic.StreamObject(entries, encoded_data=data)


def image_xobject(png: bytes, writer: BasePdfFileWriter) -> generic.IndirectObject:
    """A PNG as an RGB image XObject with its alpha channel as soft mask, added to ``writer``.

    The same objects pyHanko's ``pil_image`` writes for an RGBA image, with the decoded and
    compressed samples cached per PNG."""
    image = _encode_png(png)
    smask = writer.add_object(_image_stream(image, "/DeviceGray", image.alpha, None))
    return writer.add_object(_image_stream(image, "/DeviceRGB", image.rgb, smask))


def text_ops(engine: ScaledGlyphAccumulator, item: TextItem) -> bytes:
    """Content-stream operators drawing ``item`` with ``engine`` registered as its font name."""
    text = unicodedata.normalize("NFC", item.text)
    size = item.size
    engine.set_size(size)
    shaped = engine.shape(text)
    width = shaped.x_advance * size
    if item.max_width is not None and width > item.max_width:
        size = size * item.max_width / width
        engine.set_size(size)
        shaped = engine.shape(text)
        width = shaped.x_advance * size
    x = item.x - {"left": 0.0, "center": width / 2, "right": width}[item.align]
    font_name = _FONT_NAMES[item.style].encode("ascii")
    return b"q %g %g %g rg BT %s %g Tf %g %g Td %s ET Q" % (
        *item.color,
        font_name,
        size,
        x,
        item.y,
        shaped.graphics_ops,
    )


def _fit(img_png: bytes, box_w: float, box_h: float) -> tuple[float, float]:
    with Image.open(BytesIO(img_png)) as img:
        ratio = img.width / img.height
    width = min(box_w, box_h * ratio)
    return width, width / ratio


def leader_appearance(signature_png: bytes, width: float, height: float) -> AppearanceSpec:
    """The leader's signature image, as large as fits, centred in the widget."""
    w, h = _fit(signature_png, width, height)
    return AppearanceSpec(
        images=(ImageItem(signature_png, (width - w) / 2, (height - h) / 2, w, h),)
    )


def seal_appearance(
    seal_png: bytes,
    organization_name: str,
    signed_at: datetime,
    width: float,
    height: float,
    *,
    caption_size: float = 6.5,
) -> AppearanceSpec:
    """The seal filling the top of the widget (a square of side ``width``) with a two-line
    caption under it: organisation name and ISO 8601 signing time."""
    caption = 2 * caption_size + 4
    side = min(width, height - caption)
    x = (width - side) / 2
    y = height - side
    texts = (
        TextItem(
            organization_name, width / 2, caption_size + 3, caption_size, SEAL_RED, "center", width
        ),
        TextItem(
            format_signing_time(signed_at), width / 2, 2, caption_size, SEAL_RED, "center", width
        ),
    )
    return AppearanceSpec(images=(ImageItem(seal_png, x, y, side, side),), texts=texts)


def attachment_appearance(
    main_notation: str, signed_at: datetime, width: float, height: float, *, size: float = 10
) -> AppearanceSpec:
    """Two right-aligned black lines at the top: the main document's number/notation and the
    signing time, at ``size`` points (10 by Decree 30)."""
    top = height - size
    return AppearanceSpec(
        texts=(
            TextItem(main_notation, width, top, size, BLACK, "right", width),
            TextItem(
                format_signing_time(signed_at), width, top - size * 1.3, size, BLACK, "right", width
            ),
        )
    )


def copy_appearance(
    seal_png: bytes,
    organization_name: str,
    signed_at: datetime,
    width: float,
    height: float,
    *,
    size: float = 10,
) -> AppearanceSpec:
    """SAO Y: the seal on the left at the widget's height, then "SAO Y", the copying
    organisation's name and the signing time on the right."""
    side = min(height, width / 2)
    text_x = side + 4
    text_w = width - text_x
    mid = height / 2
    return AppearanceSpec(
        images=(ImageItem(seal_png, 0, (height - side) / 2, side, side),),
        texts=(
            TextItem("SAO Y", text_x, mid + size * 0.9, size + 2, SEAL_RED, "left", text_w, "bold"),
            TextItem(organization_name, text_x, mid - size * 0.4, size, BLACK, "left", text_w),
            TextItem(
                format_signing_time(signed_at),
                text_x,
                mid - size * 1.7,
                size,
                BLACK,
                "left",
                text_w,
            ),
        ),
    )
