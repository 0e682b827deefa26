"""``open_store``: which back-end a URL names, and which URLs are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import ConfigurationError, FileKeyWrapper, open_store
from storage.local import LocalBackend
from storage.s3 import S3Backend


def test_file_url(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/objects")
    assert isinstance(store.backend, LocalBackend)
    assert store.backend.root == tmp_path.resolve() / "objects"
    assert not (tmp_path / "objects").exists()  # no I/O before use
    store.initialize()
    store.ping()
    fanout = tmp_path / "objects" / "sha256"
    assert (fanout / "00").is_dir() and (fanout / "ff").is_dir()  # made once, not per upload
    store.initialize()  # idempotent


def test_s3_url() -> None:
    store = open_store("s3://AK%2Fx:s%40cret@minio.example:9000/docs/a/b?secure=false&region=vn")
    backend = store.backend
    assert isinstance(backend, S3Backend)
    settings = backend.settings
    assert (settings.endpoint, settings.bucket, settings.prefix) == (
        "minio.example:9000",
        "docs",
        "a/b/",
    )
    assert (settings.access_key, settings.secret_key) == ("AK/x", "s@cret")
    assert settings.secure is False and settings.region == "vn"
    assert "s@cret" not in repr(settings) and "s@cret" not in repr(store)


def test_s3_defaults_to_https() -> None:
    backend = open_store("s3://k:s@[::1]:9000/b").backend
    assert isinstance(backend, S3Backend)
    assert backend.settings.secure is True and backend.settings.endpoint == "[::1]:9000"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://host/x",
        "file://relative/path",
        "file:relative",
        "file:///abs?x=1",
        "s3://host:9000/bucket",
        "s3://k:s@host:9000",
        "s3://k:s@host:9000/",
        "s3://k:s@host:notaport/b",
        "s3://k:s@host:9000/b?secure=maybe",
        "s3://k:s@host:9000/b?typo=1",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        open_store(url)
    assert excinfo.value.code == "storage_misconfigured"


def test_master_key_from_a_path_or_a_wrapper(tmp_path: Path, key_file: Path) -> None:
    by_path = open_store(f"file://{tmp_path}/o", master_key=key_file, encrypt=True)
    wrapper = FileKeyWrapper.from_file(key_file)
    by_wrapper = open_store(f"file://{tmp_path}/o", master_key=wrapper, encrypt=True)
    assert by_path.encrypts and by_wrapper.key_wrapper is wrapper
    with pytest.raises(ConfigurationError):
        open_store(f"file://{tmp_path}/o", encrypt=True)
    with pytest.raises(ConfigurationError):
        open_store(f"file://{tmp_path}/o", master_key=tmp_path / "missing.key")
