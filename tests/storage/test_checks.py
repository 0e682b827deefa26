"""Upload checks: every refusal has its code and status, and leaves nothing stored."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable

import pytest
from werkzeug.datastructures import FileStorage

from storage import (
    ContentStore,
    FileType,
    UploadLimits,
    UploadRefusedError,
    store_upload,
)
from tests.storage import files
from tests.storage.helpers import assert_nothing_stored, open_fds
from tests.storage.streams import CountingStream, GeneratedStream, MiB, PrefixedStream

ACCEPTED = [
    (files.pdf, "Tờ trình.pdf", FileType.PDF, "application/pdf"),
    (files.docx, "Báo cáo.docx", FileType.DOCX, FileType.DOCX.media_type),
    (files.xlsx, "Bảng tổng hợp.xlsx", FileType.XLSX, FileType.XLSX.media_type),
    (files.png, "Con dấu.png", FileType.PNG, "image/png"),
    (files.jpeg, "Ảnh chụp.JPG", FileType.JPEG, "image/jpeg"),
    (files.tiff, "Bản quét.tiff", FileType.TIFF, "image/tiff"),
]


@pytest.mark.parametrize(
    ("make", "name", "kind", "media"), ACCEPTED, ids=[a[2].value for a in ACCEPTED]
)
def test_accepted_types_are_stored(
    store: ContentStore, make: Callable[[], bytes], name: str, kind: FileType, media: str
) -> None:
    data = make()
    upload = store_upload(store, io.BytesIO(data), name, "application/octet-stream")
    assert upload.file_type is kind
    assert upload.filename == name
    assert upload.ref.content_type == media
    with store.open(upload.ref.key, verify=True) as reader:
        assert reader.read() == data


def test_a_flask_upload(store: ContentStore) -> None:
    data = files.pdf(pages=3)
    file = FileStorage(
        io.BytesIO(data), filename="Công văn số 15.pdf", content_type="application/pdf"
    )
    upload = store_upload(store, file.stream, file.filename, file.mimetype)
    assert (upload.filename, upload.file_type, upload.ref.size) == (
        "Công văn số 15.pdf",
        FileType.PDF,
        len(data),
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (unicodedata.normalize("NFD", "Tờ trình số 12.pdf"), "Tờ trình số 12.pdf"),
        ("C:\\Users\\vanthu\\Desktop\\Quyết định.pdf", "Quyết định.pdf"),
        ("../../etc/Kế hoạch.pdf", "Kế hoạch.pdf"),
        ("Báo\x00 cáo\x1f\t mới.pdf", "Báo cáo mới.pdf"),
        ("hóa đơn\u202efdp.exe.pdf", "hóa đơnfdp.exe.pdf"),
        ("Thông báo", "Thông báo.pdf"),
        ("CV 12.2024", "CV 12.2024.pdf"),
        ("", "tài liệu.pdf"),
        (None, "tài liệu.pdf"),
        ("   ...   ", "tài liệu.pdf"),
    ],
)
def test_file_names_are_normalised(store: ContentStore, given: str | None, expected: str) -> None:
    upload = store_upload(store, io.BytesIO(files.pdf()), given)
    assert upload.filename == expected
    assert unicodedata.is_normalized("NFC", upload.filename)


Refusal = tuple[Callable[[], bytes], str | None, str | None, UploadLimits, str, int]
REFUSALS: dict[str, Refusal] = {
    "empty": (lambda: b"", "a.pdf", None, UploadLimits(), "empty_file", 422),
    "too-large": (
        files.pdf,
        "a.pdf",
        None,
        UploadLimits(max_size=100),
        "file_too_large",
        413,
    ),
    "exe": (
        lambda: b"MZ\x90\x00" + bytes(500),
        "setup.exe",
        None,
        UploadLimits(),
        "unsupported_file_type",
        415,
    ),
    "exe-named-pdf": (
        lambda: b"MZ\x90\x00" + bytes(500),
        "Tờ trình.pdf",
        None,
        UploadLimits(),
        "unsupported_file_type",
        415,
    ),
    "html": (
        lambda: b"<html><script>x</script>",
        "a.html",
        None,
        UploadLimits(),
        "unsupported_file_type",
        415,
    ),
    "type-not-allowed": (
        files.png,
        "a.png",
        None,
        UploadLimits(allowed_types=frozenset({FileType.PDF})),
        "unsupported_file_type",
        415,
    ),
    "png-named-pdf": (files.png, "Báo cáo.pdf", None, UploadLimits(), "file_type_mismatch", 415),
    "docx-named-xlsx": (files.docx, "Bảng.xlsx", None, UploadLimits(), "file_type_mismatch", 415),
    "pdf-named-docx": (files.pdf, "a.docx", None, UploadLimits(), "file_type_mismatch", 415),
    "declared-pdf-is-png": (
        files.png,
        "a.png",
        "application/pdf",
        UploadLimits(),
        "file_type_mismatch",
        415,
    ),
    "pdf-garbage": (
        lambda: b"%PDF-1.7\n" + b"not really a pdf " * 50,
        "a.pdf",
        None,
        UploadLimits(),
        "malformed_pdf",
        422,
    ),
    "pdf-truncated": (
        lambda: files.pdf()[:200],
        "a.pdf",
        None,
        UploadLimits(),
        "malformed_pdf",
        422,
    ),
    "pdf-password": (
        lambda: files.pdf(password="mật khẩu"),
        "a.pdf",
        None,
        UploadLimits(),
        "encrypted_pdf",
        422,
    ),
    "zip-not-ooxml": (
        files.plain_zip,
        "a.docx",
        None,
        UploadLimits(),
        "malformed_office_file",
        422,
    ),
    "docx-without-content-types": (
        lambda: files.rezip(files.docx(), drop={"[Content_Types].xml"}),
        "a.docx",
        None,
        UploadLimits(),
        "malformed_office_file",
        422,
    ),
    "docx-lying-sizes": (
        files.docx_with_lying_sizes,
        "a.docx",
        None,
        UploadLimits(),
        "malformed_office_file",
        422,
    ),
    "docx-truncated": (
        lambda: files.docx()[:-200],
        "a.docx",
        None,
        UploadLimits(),
        "malformed_office_file",
        422,
    ),
    "docm-macros": (files.docm, "a.docx", None, UploadLimits(), "unsupported_file_type", 415),
    "zip-bomb-size": (
        lambda: files.rezip(files.docx(), add={"word/media/big.bin": bytes(20 * MiB)}),
        "a.docx",
        None,
        UploadLimits(max_uncompressed_size=10 * MiB),
        "zip_bomb",
        413,
    ),
    "zip-bomb-ratio": (
        lambda: files.rezip(files.xlsx(), add={"xl/media/zeros.bin": bytes(8 * MiB)}),
        "a.xlsx",
        None,
        UploadLimits(),
        "zip_bomb",
        413,
    ),
    "zip-bomb-entries": (
        files.docx,
        "a.docx",
        None,
        UploadLimits(max_zip_entries=5),
        "zip_bomb",
        413,
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_have_a_code_and_store_nothing(store: ContentStore, case: str) -> None:
    make, name, declared, limits, code, status = REFUSALS[case]
    fds = open_fds()
    with pytest.raises(UploadRefusedError) as excinfo:
        store_upload(store, io.BytesIO(make()), name, declared, limits)
    assert (excinfo.value.code, excinfo.value.http_status) == (code, status)
    assert excinfo.value.message and excinfo.value.message.isascii() is False  # Vietnamese
    assert_nothing_stored(store)
    assert open_fds() == fds


def test_size_limit_is_applied_while_streaming(store: ContentStore) -> None:
    stream = PrefixedStream(b"%PDF-1.7\n", GeneratedStream(60 * MiB))
    with pytest.raises(UploadRefusedError) as excinfo:
        store_upload(store, stream, "a.pdf", None, UploadLimits(max_size=3 * MiB))
    assert excinfo.value.code == "file_too_large"
    assert stream.consumed <= 4 * MiB
    assert_nothing_stored(store)


def test_unknown_bytes_are_refused_from_the_first_chunk(store: ContentStore) -> None:
    stream = CountingStream(b"#!/bin/sh\n" + bytes(30 * MiB))
    with pytest.raises(UploadRefusedError) as excinfo:
        store_upload(store, stream, "script.pdf")
    assert excinfo.value.code == "unsupported_file_type"
    assert stream.consumed <= 1 * MiB
    assert_nothing_stored(store)


def test_a_refusal_does_not_disturb_what_is_stored(store: ContentStore) -> None:
    kept = store_upload(store, io.BytesIO(files.pdf()), "giữ lại.pdf")
    with pytest.raises(UploadRefusedError):
        store_upload(store, io.BytesIO(files.png()), "sai.pdf")
    assert [info.key for info in store.list()] == [kept.ref.key]


def test_the_same_file_twice_is_one_object(store: ContentStore) -> None:
    data = files.docx()
    first = store_upload(store, io.BytesIO(data), "Lần 1.docx")
    second = store_upload(store, io.BytesIO(data), "Lần 2.docx")
    assert first.ref.key == second.ref.key
    assert (first.filename, second.filename) == ("Lần 1.docx", "Lần 2.docx")
    assert len(list(store.list())) == 1
