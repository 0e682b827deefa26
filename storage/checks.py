"""Upload checks: the one entry point every upload path goes through.

``store_upload(store, request.files["file"].stream, f.filename, f.mimetype)`` either returns a
:class:`CheckedUpload` (stored) or raises an :class:`UploadRefusedError` subclass with a stable
``code``, an HTTP status hint and a Vietnamese message, having stored nothing: the upload is
received into a spool, checked there, and only then stored.

Order of checks, cheapest first: the size limit while receiving (so a 10 GB upload is cut off
at the limit, not after), the type from the first bytes as soon as they arrive, the extension and
declared type against it, then the structural check of the received file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from storage.errors import (
    EmptyFileError,
    FileTypeMismatchError,
    UnsupportedFileTypeError,
)
from storage.filenames import normalize_filename, split_extension, with_extension
from storage.filetypes import (
    Family,
    FileType,
    ZipLimits,
    family_types,
    inspect_structure,
    sniff,
    type_for_extension,
    type_for_media_type,
)
from storage.objects import ObjectRef
from storage.spool import Readable
from storage.store import ObjectStore

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """What an upload may be.

    Attributes:
        max_size: largest accepted file in bytes (413 ``file_too_large`` above).
        allowed_types: accepted file types (415 ``unsupported_file_type`` otherwise).
        max_uncompressed_size: DOCX/XLSX: largest total of inflated parts (``zip_bomb``).
        max_compression_ratio: DOCX/XLSX: largest inflated/compressed ratio, once the inflated
            total exceeds 1 MiB (``zip_bomb``).
        max_zip_entries: DOCX/XLSX: most parts in the package (``zip_bomb``).
    """

    max_size: int = 100 * MiB
    allowed_types: frozenset[FileType] = field(default_factory=lambda: frozenset(FileType))
    max_uncompressed_size: int = 512 * MiB
    max_compression_ratio: float = 100.0
    max_zip_entries: int = 10_000

    @property
    def zip_limits(self) -> ZipLimits:
        return ZipLimits(
            self.max_uncompressed_size, self.max_compression_ratio, self.max_zip_entries
        )


DEFAULT_LIMITS = UploadLimits()


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    """An upload that passed the checks and is stored.

    Attributes:
        ref: the stored object (``ref.content_type`` is the detected media type).
        filename: the normalised name to record and show (NFC, Vietnamese kept, extension
            matching the content).
        file_type: the detected type.
    """

    ref: ObjectRef
    filename: str
    file_type: FileType


def store_upload(
    store: ObjectStore,
    stream: Readable | bytes,
    filename: str | None,
    declared_content_type: str | None = None,
    limits: UploadLimits = DEFAULT_LIMITS,
    *,
    before_put: Callable[[str], None] | None = None,
) -> CheckedUpload:
    """Check an upload and store it; on refusal raise, leaving nothing stored.

    Args:
        store: where to store it.
        stream: the upload (e.g. ``request.files["file"].stream``), read to its end.
        filename: the client's file name (any path parts are dropped).
        declared_content_type: the client's media type; only a known type that contradicts
            the bytes is refused (browsers often send ``application/octet-stream``).
        limits: size and type limits.
        before_put: called with the object's key once the upload passed, before it is stored
            (``ObjectStore.put_spool``'s ``before``).
    """
    result = _checked(
        store, stream, filename, declared_content_type, limits, put=True, before_put=before_put
    )
    assert isinstance(result, CheckedUpload)
    return result


def check_upload(
    store: ObjectStore,
    stream: Readable | bytes,
    filename: str | None,
    declared_content_type: str | None = None,
    limits: UploadLimits = DEFAULT_LIMITS,
) -> FileType:
    """The checks of :func:`store_upload`, storing nothing: the detected type, or the same
    refusal. For a caller that must know every file of a set passes before storing any."""
    result = _checked(store, stream, filename, declared_content_type, limits, put=False)
    assert isinstance(result, FileType)
    return result


def _checked(
    store: ObjectStore,
    stream: Readable | bytes,
    filename: str | None,
    declared_content_type: str | None,
    limits: UploadLimits,
    *,
    put: bool,
    before_put: Callable[[str], None] | None = None,
) -> CheckedUpload | FileType:
    name = normalize_filename(filename)
    _, extension = split_extension(name)
    # An extension we do not know ("CV 12.2024") is part of the name, not a claim: the
    # canonical extension is appended after the bytes have been checked.
    claimed_by_name = type_for_extension(extension) if extension else None
    claims = tuple(
        c for c in (claimed_by_name, type_for_media_type(declared_content_type)) if c is not None
    )

    def check_head(head: bytes) -> None:
        _family_of(head, limits, claims)

    with store.spool(stream, max_size=limits.max_size, on_head=check_head) as spool:
        family = _family_of(spool.head, limits, claims)  # accepted by check_head already
        with spool.open_plaintext() as plaintext:
            file_type = inspect_structure(family, plaintext, limits.zip_limits)
        if file_type not in limits.allowed_types:
            raise UnsupportedFileTypeError(detected=file_type.value)
        for claim in claims:
            if claim is not file_type:
                raise FileTypeMismatchError(detected=file_type.value, claimed=claim.value)
        if not put:
            return file_type
        ref = store.put_spool(spool, file_type.media_type, before=before_put)
    if claimed_by_name is None:
        name = with_extension(name, file_type.extensions[0])
    return CheckedUpload(ref=ref, filename=name, file_type=file_type)


def _family_of(head: bytes, limits: UploadLimits, claims: tuple[FileType, ...]) -> Family:
    """What the first bytes are, if allowed and consistent with the claims; else refuse."""
    if not head:
        raise EmptyFileError()
    family = sniff(head)
    candidates = family_types(family) & limits.allowed_types if family else frozenset()
    if family is None or not candidates:
        raise UnsupportedFileTypeError()
    for claim in claims:
        if claim not in candidates:
            raise FileTypeMismatchError(
                detected=sorted(c.value for c in candidates), claimed=claim.value
            )
    return family
