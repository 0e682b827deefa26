"""What a file is, judged from its bytes: magic numbers, then a structural check.

Names and declared media types are claims; the bytes decide. PDFs must parse (pypdf), Word and
Excel files must be real OOXML packages (the right main part, declared in
``[Content_Types].xml``) within zip-bomb limits, verified by actually inflating every member.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO
from xml.etree import ElementTree

from pypdf import PdfReader

from storage.errors import (
    EncryptedPdfError,
    MalformedOfficeFileError,
    MalformedPdfError,
    StorageError,
    UnsupportedFileTypeError,
    ZipBombError,
)


class FileType(StrEnum):
    """The file types the checks know. Values are stable (store them, send them in the API)."""

    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def extensions(self) -> tuple[str, ...]:
        """Accepted file-name extensions, canonical first."""
        return _EXTENSIONS[self]


_MEDIA_TYPES = {
    FileType.PDF: "application/pdf",
    FileType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileType.PNG: "image/png",
    FileType.JPEG: "image/jpeg",
    FileType.TIFF: "image/tiff",
}
_EXTENSIONS = {
    FileType.PDF: (".pdf",),
    FileType.DOCX: (".docx",),
    FileType.XLSX: (".xlsx",),
    FileType.PNG: (".png",),
    FileType.JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    FileType.TIFF: (".tif", ".tiff"),
}
# The main part's content type names the kind of OOXML package; macro-enabled and template
# variants have other content types and are refused.
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        FileType.DOCX
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": FileType.XLSX,
}
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_MAX_CONTENT_TYPES_BYTES = 1024 * 1024


class Family(StrEnum):
    """What the first bytes say; ZIP is settled into DOCX or XLSX by the structural check."""

    PDF = "pdf"
    ZIP = "zip"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"


def sniff(head: bytes) -> Family | None:
    """The family named by the leading magic bytes, or None."""
    if head.startswith(b"%PDF-"):
        return Family.PDF
    if head.startswith(b"PK\x03\x04"):
        return Family.ZIP
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Family.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return Family.JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return Family.TIFF
    return None


def family_types(family: Family) -> frozenset[FileType]:
    """The file types a family may turn out to be."""
    if family is Family.ZIP:
        return frozenset({FileType.DOCX, FileType.XLSX})
    return frozenset({FileType(family.value)})


def type_for_extension(extension: str) -> FileType | None:
    """The file type an extension (".pdf") claims, if it is one we know."""
    for kind, extensions in _EXTENSIONS.items():
        if extension.lower() in extensions:
            return kind
    return None


def type_for_media_type(media_type: str | None) -> FileType | None:
    """The file type a declared media type claims, if it is one we know."""
    if not media_type:
        return None
    bare = media_type.split(";", 1)[0].strip().lower()
    for kind, known in _MEDIA_TYPES.items():
        if bare == known:
            return kind
    return None


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Limits for packages: total inflated bytes, inflation ratio (above 1 MiB) and entries."""

    max_uncompressed_size: int
    max_ratio: float
    max_entries: int


def inspect_structure(family: Family, plaintext: BinaryIO, limits: ZipLimits) -> FileType:
    """Check the structure of a file of ``family``; return its exact type or raise a refusal."""
    if family is Family.PDF:
        _check_pdf(plaintext)
        return FileType.PDF
    if family is Family.ZIP:
        return _check_ooxml(plaintext, limits)
    return FileType(family.value)


def _check_pdf(stream: BinaryIO) -> None:
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedPdfError()
        pages = len(reader.pages)
    except StorageError:
        raise
    except Exception as exc:  # a parser of hostile input raises anything
        raise MalformedPdfError(reason=type(exc).__name__) from exc
    if pages < 1:
        raise MalformedPdfError(reason="no pages")


def _check_ooxml(stream: BinaryIO, limits: ZipLimits) -> FileType:
    try:
        with zipfile.ZipFile(stream) as package:
            infos = package.infolist()
            _check_zip_limits(infos, limits)
            kind = _main_part_type(package, infos)
            _inflate_all(package, infos, limits)
    except StorageError:
        raise
    except Exception as exc:  # zipfile and expat raise many kinds on bad input
        raise MalformedOfficeFileError(reason=type(exc).__name__) from exc
    return kind


def _check_zip_limits(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(infos) > limits.max_entries:
        raise ZipBombError(reason="too many entries", entries=len(infos))
    declared = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if declared > limits.max_uncompressed_size:
        raise ZipBombError(max_uncompressed_size=limits.max_uncompressed_size)
    if declared > 1024 * 1024 and declared > limits.max_ratio * max(packed, 1):
        raise ZipBombError(reason="compression ratio", max_ratio=limits.max_ratio)
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise MalformedOfficeFileError(reason="duplicate part names")
    for info in infos:
        if info.flag_bits & 0x1:
            raise MalformedOfficeFileError(reason="encrypted part")
        if info.filename.startswith(("/", "\\")) or ".." in info.filename.split("/"):
            raise MalformedOfficeFileError(reason="part name leaves the package")


def _main_part_type(package: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> FileType:
    by_name = {info.filename: info for info in infos}
    types_info = by_name.get("[Content_Types].xml")
    if types_info is None or "_rels/.rels" not in by_name:
        raise MalformedOfficeFileError(reason="not an OOXML package")
    if types_info.file_size > _MAX_CONTENT_TYPES_BYTES:
        raise MalformedOfficeFileError(reason="content types too large")
    raw = package.read(types_info)
    # OOXML forbids DTDs (ECMA-376 part 2); refusing them also rules out entity expansion.
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise MalformedOfficeFileError(reason="DTD in content types")
    root = ElementTree.fromstring(raw)
    found: set[FileType] = set()
    for override in root.iter(f"{_CT_NS}Override"):
        kind = _OOXML_MAIN.get(override.get("ContentType", "").strip())
        part = override.get("PartName", "").lstrip("/")
        if kind is not None:
            if part not in by_name:
                raise MalformedOfficeFileError(reason="main part missing")
            found.add(kind)
    if len(found) != 1:
        # A macro-enabled file, a template, PowerPoint, or a plain zip: not an accepted type.
        raise UnsupportedFileTypeError(reason="not a DOCX or XLSX package")
    return found.pop()


def _inflate_all(package: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    # Declared sizes can lie; inflating (zipfile stops at the declared size and checks each
    # CRC) proves the real sizes, within the limit, before any consumer opens the file.
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        with package.open(info) as member:
            while chunk := member.read(1024 * 1024):
                total += len(chunk)
                if total > limits.max_uncompressed_size:
                    raise ZipBombError(max_uncompressed_size=limits.max_uncompressed_size)
