"""Reading files outside any database transaction: the slow part of an extraction job.

A job reads what it needs in a short transaction (the pending files: id, object key, type,
name), closes it, then calls :func:`read_source` for each file here — fetching the bytes from
the object store, reading the text layer or the DOCX, running OCR in the sandbox, storing a
searchable PDF as a new object — and finally writes the results in a second short transaction,
where a file that changed or disappeared meanwhile is left alone. Nothing here touches the
session: the OCR of a 300-page scan holds no connection and no lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from docflow.search.extract import ExtractionError, extract, language_of
from docflow.search.policy import IMAGE_TYPES
from docflow.search.ports import RecognitionError, TextRecognizer
from docflow.uow import UnitOfWork
from docflow.uploads import open_object, store_bytes

MAX_OCR_PAGES = 300


@dataclass(frozen=True)
class ExtractionSettings:
    """Limits of one extraction job."""

    ocr: bool = True
    max_ocr_pages: int = MAX_OCR_PAGES
    make_searchable_pdf: bool = True


@dataclass(frozen=True)
class Source:
    """A pending file as the first transaction saw it (the write checks it is still so)."""

    id: uuid.UUID
    object_key: str
    content_type: str
    name: str


@dataclass(frozen=True)
class Searchable:
    """A searchable PDF made from a scan, already stored (its row is written later; if the
    write is skipped, the object is an orphan that the sweeper removes)."""

    object_key: str
    size: int
    sha256: str
    name: str
    pages: list[dict[str, Any]]


@dataclass
class Reading:
    """What was read from one file: done (text, pages, method) or failed (error)."""

    source: Source
    ok: bool
    method: str | None = None
    text: str = ""
    pages: list[dict[str, Any]] = field(default_factory=list)
    confidence: float | None = None
    error: str | None = None
    searchable: Searchable | None = None

    @property
    def language(self) -> str | None:
        return language_of(self.text) if self.ok else None


def fetch(uow: UnitOfWork, source: Source) -> bytes:
    """The file's bytes, checked against their hash (a store failure raises: the job is
    retried, a bounded number of times)."""
    with open_object(uow, source.object_key) as reader:
        return b"".join(reader.iter_chunks())


def read_source(
    uow: UnitOfWork,
    source: Source,
    recognizer: TextRecognizer | None,
    settings: ExtractionSettings,
) -> Reading:
    """Read one file (no transaction needed, none used). A failure of the file itself (damaged,
    protected, too long, OCR failed or timed out) is a failed reading, never an exception."""
    data = fetch(uow, source)
    try:
        extracted = extract(data, source.content_type)
        pages: list[dict[str, Any]] = [
            {"page": i, "text": t, "confidence": None, "status": "done"}
            for i, t in enumerate(extracted.pages, start=1)
        ]
        method = extracted.method
        confidence: float | None = 1.0 if method in {"text_layer", "docx", "plain"} else None
        searchable = None
        if extracted.needs_ocr and settings.ocr and recognizer is not None:
            confidence, searchable = _ocr(
                uow, source, data, extracted.pages, pages, recognizer, settings
            )
            method = "ocr"
        elif extracted.needs_ocr and len(extracted.scanned_pages) == len(extracted.pages):
            raise ExtractionError("Tệp là bản quét: chưa nhận dạng chữ (OCR không bật).")
        for number in extracted.scanned_pages:
            page = pages[number - 1]
            if not str(page["text"]).strip():
                page["status"] = "failed"
        text = "\n\f".join(str(p["text"]) for p in pages)
        return Reading(source, True, method, text, pages, confidence, None, searchable)
    except ExtractionError as exc:
        return Reading(source, False, error=exc.message[:500])


def _ocr(
    uow: UnitOfWork,
    source: Source,
    data: bytes,
    layer: list[str],
    pages: list[dict[str, Any]],
    recognizer: TextRecognizer,
    settings: ExtractionSettings,
) -> tuple[float | None, Searchable | None]:
    if len(layer) > settings.max_ocr_pages:
        raise ExtractionError(
            f"Bản quét có {len(layer)} trang, quá {settings.max_ocr_pages} trang để nhận dạng."
        )
    try:
        recognized = recognizer.recognize(data, source.content_type)
    except RecognitionError as exc:
        raise ExtractionError(f"Không nhận dạng được chữ: {exc}"[:500]) from exc
    confidences = list(recognized.confidences) + [None] * len(recognized.pages)
    for i, text in enumerate(recognized.pages):
        if i >= len(pages):
            pages.append({"page": i + 1, "text": "", "confidence": None, "status": "done"})
        if len(str(pages[i]["text"]).strip()) < len(text.strip()):
            pages[i]["text"] = text
            pages[i]["confidence"] = confidences[i]
    known = [c for c in confidences[: len(recognized.pages)] if c is not None]
    scan = all(len(t.strip()) < 20 for t in layer)
    searchable = None
    if (
        settings.make_searchable_pdf
        and recognized.pdf
        and (scan or source.content_type in IMAGE_TYPES)
    ):
        stem = source.name.rsplit(".", 1)[0] if "." in source.name else source.name
        searchable = store_searchable(uow, recognized.pdf, f"{stem} (có lớp chữ).pdf", pages)
    return (sum(known) / len(known) if known else None), searchable


def store_searchable(
    uow: UnitOfWork, pdf: bytes, name: str, pages: list[dict[str, Any]]
) -> Searchable | None:
    """Store the searchable PDF's bytes now (objects before rows)."""
    if uow.store is None:
        return None
    ref = store_bytes(uow, pdf, "application/pdf")
    return Searchable(ref.key, ref.size, ref.sha256, name[:255], [dict(p) for p in pages])


def read_photos(
    uow: UnitOfWork,
    photos: list[Source],
    recognizer: TextRecognizer | None,
    settings: ExtractionSettings,
) -> list[Reading]:
    """Several photos of one paper document (pages photographed one by one) as one searchable
    PDF (carried by the first photo's reading); each photo keeps its own text. Empty when
    there are fewer than two, or when the engine fails on the set (each is then read alone,
    so a single bad photo fails alone)."""
    if len(photos) < 2 or recognizer is None or not settings.ocr:
        return []
    if len(photos) > settings.max_ocr_pages:
        return []
    items = [(fetch(uow, p), p.content_type) for p in photos]
    try:
        recognized = recognizer.recognize_photos(items)
    except RecognitionError:
        return []
    texts = list(recognized.pages) + [""] * len(photos)
    readings = []
    for i, p in enumerate(photos):
        status = "done" if texts[i].strip() else "failed"
        page = {"page": 1, "text": texts[i], "confidence": None, "status": status}
        readings.append(Reading(p, True, "ocr", texts[i], [page]))
    if settings.make_searchable_pdf and recognized.pdf:
        pages = [
            {
                "page": i + 1,
                "text": t,
                "confidence": None,
                "status": "done" if t.strip() else "failed",
            }
            for i, t in enumerate(texts[: len(photos)])
        ]
        name = f"Ảnh chụp ({len(photos)} trang, có lớp chữ).pdf"
        readings[0].searchable = store_searchable(uow, recognized.pdf, name, pages)
    return readings
