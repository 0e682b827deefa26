"""The S3 back-end when things go wrong: bad credentials, no server, a server dying mid-upload."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from storage import (
    ConfigurationError,
    ObjectNotFoundError,
    StorageAccessDeniedError,
    StorageError,
    StorageUnavailableError,
    open_store,
)
from tests.storage.helpers import StoreFactory, open_fds, with_prefix
from tests.storage.seaweed import BUCKET, PrivateSeaweed, free_ports
from tests.storage.streams import GeneratedStream, MiB

pytestmark = pytest.mark.s3


def with_secret(url: str, secret: str) -> str:
    parts = urlsplit(url)
    user = parts.netloc.split("@", 1)[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{secret}@{parts.netloc.split('@', 1)[1]}"))


def test_wrong_credentials_fail_fast_and_clearly(
    s3_url: str, make_store: StoreFactory, tmp_path: Path
) -> None:
    good = make_store("s3")
    bad = open_store(with_secret(with_prefix(s3_url, "wrong-credentials"), "not-the-secret"))
    started = time.monotonic()
    for call in (bad.ping, lambda: bad.put(b"secret document"), lambda: list(bad.list())):
        with pytest.raises(StorageAccessDeniedError) as excinfo:
            call()
        assert excinfo.value.code == "storage_access_denied"
        assert excinfo.value.http_status == 503
        assert "not-the-secret" not in repr(excinfo.value.details)
    assert time.monotonic() - started < 10
    assert list(good.list()) == []


def test_no_server_fails_fast(tmp_path: Path) -> None:
    (port,) = free_ports(1)  # nothing listens there
    store = open_store(f"s3://k:s@127.0.0.1:{port}/bucket?secure=false")
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError) as excinfo:
        store.put(b"x")
    assert excinfo.value.code == "storage_unavailable"
    with pytest.raises(StorageUnavailableError):
        store.ping()
    assert time.monotonic() - started < 10


def test_missing_bucket_is_reported(s3_url: str) -> None:
    parts = urlsplit(s3_url)
    store = open_store(urlunsplit(parts._replace(path="/no-such-bucket-dhtn")))
    with pytest.raises(StorageUnavailableError) as excinfo:
        store.ping()
    assert excinfo.value.details["reason"] == "bucket missing"


def test_secret_never_in_errors_or_repr(s3_url: str) -> None:
    store = open_store(s3_url)
    assert "dhtn-secret-test" not in repr(store)
    assert "dhtn-secret-test" not in repr(store.backend.settings)  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError) as excinfo:
        open_store(s3_url + "&bogus=1")
    assert "dhtn-secret-test" not in str(excinfo.value)


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[PrivateSeaweed]:
    server = PrivateSeaweed(tmp_path / "seaweed")
    server.start()
    yield server
    server.kill()  # a throw-away server: no need to wait for a graceful stop


@pytest.mark.slow
def test_server_stopped_mid_upload(private_server: PrivateSeaweed, tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    store = open_store(private_server.url, spool_dir=spool_dir)
    fds = open_fds()
    stream = GeneratedStream(200 * MiB, seed=11)
    killed_at: list[float] = []

    def kill_when_upload_is_under_way() -> None:
        while not stream.exhausted:  # the spool is filled before the transfer starts
            time.sleep(0.01)
        start = private_server.received_bytes()
        deadline = time.monotonic() + 30
        while private_server.received_bytes() - start < 20 * MiB:
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        private_server.kill()
        killed_at.append(time.monotonic())

    killer = threading.Thread(target=kill_when_upload_is_under_way)
    killer.start()
    with pytest.raises(StorageUnavailableError) as excinfo:
        store.put(stream, "application/pdf")
    failed_at = time.monotonic()
    killer.join()
    assert killed_at, "the upload finished before the server could be stopped mid-way"
    assert failed_at - killed_at[0] < 15  # a clear error, not a hang (about 1 s here)
    assert excinfo.value.code == "storage_unavailable"
    assert open_fds() == fds and list(spool_dir.iterdir()) == []

    private_server.start()
    key = f"sha256/{stream.sha256[:2]}/{stream.sha256}"
    with pytest.raises(ObjectNotFoundError):
        store.stat(key)
    assert list(store.list()) == []
    visible = list(private_server.client().list_objects(BUCKET, recursive=True))
    assert [obj.object_name for obj in visible] == []  # nothing half-stored

    again = GeneratedStream(200 * MiB, seed=11)
    ref = store.put(again, "application/pdf")
    assert ref.key == key
    with store.open(key, verify=True) as reader:
        for _ in reader.iter_chunks():
            pass


def test_errors_are_storage_errors(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    store = open_store(f"s3://k:s@127.0.0.1:{port}/bucket?secure=false")
    with pytest.raises(StorageError):
        store.exists("sha256/ab/ab" + "0" * 62)
