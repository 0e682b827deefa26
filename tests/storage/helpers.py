"""Helpers of the storage tests that look behind the store's back (at the back-end)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from storage import ContentStore
from storage.local import LocalBackend
from storage.s3 import S3Backend

#: ``make_store(kind, encrypt=False, **open_store_kwargs)``, the fixture of conftest.py.
StoreFactory = Callable[..., ContentStore]


def with_prefix(url: str, prefix: str) -> str:
    """``url`` with ``prefix`` appended to its bucket path."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{prefix}"))


def raw_names(store: ContentStore) -> list[str]:
    """Every blob the back-end holds for this store, private litter included."""
    backend = store.backend
    if isinstance(backend, LocalBackend):
        return sorted(
            p.relative_to(backend.root).as_posix() for p in backend.root.rglob("*") if p.is_file()
        )
    assert isinstance(backend, S3Backend)
    return sorted(
        obj.object_name or ""
        for obj in backend.client.list_objects(
            backend.bucket, prefix=backend.prefix, recursive=True
        )
    )


def open_fds() -> int:
    """Open file descriptors other than sockets (pooled keep-alive connections are fine)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:
            continue
        count += not target.startswith("socket:")
    return count


def assert_nothing_stored(store: ContentStore) -> None:
    """No object, no spool, no key record: a refused or failed upload left nothing."""
    assert list(store.list()) == []
    assert raw_names(store) == []


def overwrite_stored(store: ContentStore, key: str, data: bytes) -> None:
    """Replace the stored bytes of ``key`` behind the store's back (to simulate damage)."""
    backend = store.backend
    if isinstance(backend, LocalBackend):
        path = backend.root / key
        path.chmod(0o600)
        path.write_bytes(data)
        return
    assert isinstance(backend, S3Backend)
    backend.client.put_object(backend.bucket, backend.prefix + key, io.BytesIO(data), len(data))


def read_stored(store: ContentStore, key: str) -> bytes:
    """The bytes the back-end holds for ``key`` (ciphertext when encrypted)."""
    with store.backend.open_range(key) as blob:
        return blob.read()
