"""``check_upload``: the checks of ``store_upload`` with nothing stored (the document import
checks every file of a row before storing any)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from storage import UnsupportedFileTypeError, check_upload, open_store, store_upload
from storage.filetypes import FileType
from tests.pdfs import make_pdf


def test_check_upload_stores_nothing_and_refuses_as_store_upload_does(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/objects")
    store.initialize()
    pdf = make_pdf(title="Kiểm tra")
    assert check_upload(store, io.BytesIO(pdf), "a.pdf") is FileType.PDF
    assert list(store.list()) == []
    with pytest.raises(UnsupportedFileTypeError):
        check_upload(store, io.BytesIO(b"plain text, not a pdf"), "b.pdf")
    with pytest.raises(UnsupportedFileTypeError):
        store_upload(store, io.BytesIO(b"plain text, not a pdf"), "b.pdf")
    assert list(store.list()) == []
    stored = store_upload(store, io.BytesIO(pdf), "a.pdf")
    assert [i.key for i in store.list()] == [stored.ref.key]
