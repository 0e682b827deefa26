"""The store's contract, the same on every back-end, plain and encrypted."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import urllib3

from storage import (
    ContentStore,
    FileTooLargeError,
    ObjectNotFoundError,
    ObjectStore,
    RangeNotSatisfiableError,
)
from tests.storage.helpers import StoreFactory, assert_nothing_stored, open_fds, raw_names
from tests.storage.streams import GeneratedStream, MiB, expected_sha256, generated_bytes

KEY_RE = re.compile(r"sha256(-enc)?/([0-9a-f]{2})/([0-9a-f]{64})")


def read_all_hashed(store: ContentStore, key: str, verify: bool = True) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with store.open(key, verify=verify) as reader:
        for chunk in reader.iter_chunks(256 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def test_is_an_object_store(store: ContentStore) -> None:
    assert isinstance(store, ObjectStore)


@pytest.mark.parametrize("size", [0, 1, 5 * MiB], ids=["0B", "1B", "5MB"])
def test_round_trip(store: ContentStore, size: int) -> None:
    stream = GeneratedStream(size, seed=size)
    ref = store.put(stream, "application/pdf")

    assert ref.sha256 == stream.sha256 == expected_sha256(size, seed=size)
    assert ref.size == size
    assert ref.content_type == "application/pdf"
    assert ref.encrypted == store.encrypts
    match = KEY_RE.fullmatch(ref.key)
    assert match is not None and match.group(3) == ref.sha256 and match.group(2) == ref.sha256[:2]
    assert read_all_hashed(store, ref.key) == (ref.sha256, size)
    info = store.stat(ref.key)
    assert (info.key, info.size, info.sha256) == (ref.key, size, ref.sha256)
    assert info.stored_size >= size
    assert store.exists(ref.key)


@pytest.mark.slow
def test_round_trip_200mb_streamed(store: ContentStore) -> None:
    size = 200 * MiB
    stream = GeneratedStream(size, seed=7)
    fds = open_fds()
    ref = store.put(stream, "application/octet-stream")
    assert stream.exhausted and ref.size == size
    assert read_all_hashed(store, ref.key) == (stream.sha256, size)
    assert open_fds() == fds  # the spool and the connections were released


def test_ranges(store: ContentStore) -> None:
    data = generated_bytes(300_000, seed=3)  # several 64 KiB segments when encrypted
    ref = store.put(data)
    cases = [
        (0, 1),
        (0, 300_000),
        (1, 10),
        (65_535, 2),
        (65_536, 65_536),
        (100_000, None),
        (299_999, 10),
        (131_000, 140_000),
    ]
    for offset, length in cases:
        end = None if length is None else offset + length
        with store.open(ref.key, offset=offset, length=length) as reader:
            assert reader.read() == data[offset:end], (offset, length)
    with store.open(ref.key, offset=300_000) as reader:
        assert reader.read() == b""
    with store.open(ref.key, offset=10, length=0) as reader:
        assert reader.read() == b""


def test_range_read_in_small_pieces(store: ContentStore) -> None:
    data = generated_bytes(200_000, seed=4)
    ref = store.put(data)
    with store.open(ref.key, offset=60_000, length=80_000) as reader:
        pieces = iter(lambda: reader.read(777), b"")
        assert b"".join(pieces) == data[60_000:140_000]


def test_range_beyond_the_end_is_refused(store: ContentStore) -> None:
    ref = store.put(b"0123456789")
    with pytest.raises(RangeNotSatisfiableError) as excinfo:
        store.open(ref.key, offset=11)
    assert excinfo.value.http_status == 416
    with pytest.raises(RangeNotSatisfiableError):
        store.open(ref.key, offset=-1)
    with pytest.raises(ValueError):
        store.open(ref.key, offset=2, verify=True)


def test_vietnamese_content_and_names(store: ContentStore) -> None:
    text = "Ủy ban Mặt trận Tổ quốc Việt Nam — Tờ trình số 12/TTr-MTTW, Hà Nội".encode()
    ref = store.put(text, "text/plain; charset=utf-8")
    with store.open(ref.key, verify=True) as reader:
        assert reader.read().decode("utf-8") == text.decode("utf-8")
    url = store.download_url(ref.key, filename="Tờ trình số 12.pdf", content_type="text/plain")
    if store.encrypts or not store.backend.describe().startswith("s3"):
        assert url is None  # stream it through the application instead
        return
    assert url is not None
    response = urllib3.request("GET", url, timeout=10)
    assert response.status == 200
    assert response.data == text
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh%20s%E1%BB%91%2012.pdf" in disposition
    assert 'filename="To trinh so 12.pdf"' in disposition


def test_same_bytes_are_stored_once(store: ContentStore) -> None:
    first = store.put(b"one content", "application/pdf")
    second = store.put(b"one content", "image/png")
    other = store.put(b"another content")
    assert first.key == second.key != other.key
    assert (first.content_type, second.content_type) == ("application/pdf", "image/png")
    assert sorted(info.key for info in store.list()) == sorted([first.key, other.key])
    content_names = [n for n in raw_names(store) if n.rsplit("/", 1)[-1] == first.sha256]
    assert len(content_names) == 1


def test_delete(store: ContentStore) -> None:
    kept = store.put(b"kept")
    gone = store.put(b"gone")
    assert store.delete(gone.key) is True
    assert not store.exists(gone.key)
    with pytest.raises(ObjectNotFoundError):
        store.open(gone.key)
    assert store.delete(gone.key) is False
    assert [info.key for info in store.list()] == [kept.key]
    with store.open(kept.key) as reader:
        assert reader.read() == b"kept"


def test_missing_keys(store: ContentStore) -> None:
    absent = ("sha256-enc" if store.encrypts else "sha256") + "/ab/ab" + "0" * 62
    for call in (
        lambda: store.open(absent),
        lambda: store.open(absent, offset=5, length=5),
        lambda: store.stat(absent),
    ):
        with pytest.raises(ObjectNotFoundError) as excinfo:
            call()
        assert excinfo.value.code == "object_not_found"
        assert excinfo.value.http_status == 404
    assert store.exists(absent) is False
    assert store.delete(absent) is False


def test_list_reports_modification_times(store: ContentStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    refs = [store.put(f"object {i}".encode()) for i in range(3)]
    infos = {info.key: info for info in store.list()}
    assert set(infos) == {ref.key for ref in refs}
    for ref in refs:
        info = infos[ref.key]
        assert info.size == ref.size
        assert before <= info.last_modified <= datetime.now(UTC) + timedelta(seconds=5)


def test_size_limit_while_streaming_stores_nothing(store: ContentStore) -> None:
    stream = GeneratedStream(50 * MiB)
    with pytest.raises(FileTooLargeError) as excinfo:
        store.put(stream, max_size=2 * MiB)
    assert excinfo.value.http_status == 413
    assert stream.consumed <= 3 * MiB  # cut off at the limit, not read to the end
    assert_nothing_stored(store)


def test_refresh_of_a_reused_object(make_store: StoreFactory, backend_kind: str) -> None:
    # An upload that re-uses stored bytes refreshes them, so the sweeper sees them as new.
    # 5 MiB: above the size the S3 back-end uploads without looking first.
    store = make_store(backend_kind, refresh_after=timedelta(0))
    data = generated_bytes(5 * MiB, seed=9)
    ref = store.put(data)
    first = store.stat(ref.key).last_modified
    time.sleep(1.1)  # S3 times have a resolution of one second
    assert store.put(data).key == ref.key
    assert store.stat(ref.key).last_modified > first
