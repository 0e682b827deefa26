"""What text extraction needs from outside docflow: an OCR engine (the app runs OCRmyPDF with
Tesseract's Vietnamese model in the network-less sandbox, with time and memory limits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class RecognitionError(Exception):
    """The OCR engine failed on this file (damaged, too large, timed out, sandbox refused)."""


@dataclass(frozen=True)
class Recognized:
    """The result of OCR of a scan or a photo.

    Attributes:
        pdf: the searchable PDF (PDF/A-2b, the images with an invisible text layer).
        pages: the recognised text of each page, in order.
        confidences: the mean word confidence of each page (0..1), None when unknown.
    """

    pdf: bytes
    pages: Sequence[str]
    confidences: Sequence[float | None] = ()


class TextRecognizer(Protocol):
    def recognize(self, data: bytes, content_type: str) -> Recognized:
        """OCR a PDF without text or an image (JPEG/PNG/TIFF); raises RecognitionError."""
        ...

    def recognize_photos(self, photos: Sequence[tuple[bytes, str]]) -> Recognized:
        """Several photos of one paper document (a phone's camera) as one PDF, a page each,
        in order; raises RecognitionError."""
        ...
