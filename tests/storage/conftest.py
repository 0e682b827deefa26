"""Fixtures of the storage suite: stores on both back-ends, plain and encrypted.

The S3 back-end runs against a real SeaweedFS S3 server on loopback: ``DHTN_TEST_S3_URL`` when
set (``make test`` exports it), otherwise this suite starts ``scripts/s3-server.sh`` itself
(and leaves it running for the next run, as ``scripts/services.sh`` would). Each test gets its
own prefix in the bucket, removed afterwards.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import ContentStore, create_key_file, open_store
from storage.s3 import S3Backend
from tests.storage.helpers import StoreFactory, with_prefix

ROOT = Path(__file__).resolve().parents[2]
S3_SCRIPT = ROOT / "scripts" / "s3-server.sh"

BACKENDS = [
    pytest.param("local", id="local"),
    pytest.param("s3", id="s3", marks=pytest.mark.s3),
]
VARIANTS = [
    pytest.param(("local", False), id="local"),
    pytest.param(("local", True), id="local-encrypted"),
    pytest.param(("s3", False), id="s3", marks=pytest.mark.s3),
    pytest.param(("s3", True), id="s3-encrypted", marks=pytest.mark.s3),
]


@pytest.fixture(scope="session")
def s3_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DHTN_TEST_S3_URL")
    if url:
        return url
    # One start at a time across xdist workers: the script is idempotent, not concurrent.
    lock_path = tmp_path_factory.getbasetemp().parent / "dhtn-s3-server.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([str(S3_SCRIPT), "start"], check=True, timeout=120)
    result = subprocess.run([str(S3_SCRIPT), "url"], check=True, capture_output=True, text=True)
    return result.stdout.strip()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "master.key"
    create_key_file(path)
    return path


@pytest.fixture
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, key_file: Path
) -> Iterator[StoreFactory]:
    """``make_store(kind, encrypt=False, **open_store_kwargs)`` → an initialised, empty store."""
    made: list[ContentStore] = []

    def factory(kind: str, encrypt: bool = False, **kwargs: object) -> ContentStore:
        if kind == "local":
            url = f"file://{tmp_path}/objects"
        else:
            base = request.getfixturevalue("s3_url")
            url = with_prefix(base, f"test-{uuid.uuid4().hex[:12]}")
        kwargs.setdefault("master_key", key_file)
        store = open_store(url, encrypt=encrypt, **kwargs)  # type: ignore[arg-type]
        store.initialize()
        made.append(store)
        return store

    yield factory
    for store in made:
        if isinstance(store.backend, S3Backend):
            _empty_prefix(store.backend)


def _empty_prefix(backend: S3Backend) -> None:
    client = backend.client
    for obj in client.list_objects(backend.bucket, prefix=backend.prefix, recursive=True):
        if obj.object_name:
            client.remove_object(backend.bucket, obj.object_name)


@pytest.fixture(params=VARIANTS)
def store(request: pytest.FixtureRequest, make_store: StoreFactory) -> ContentStore:
    """A store on each back-end, plain and encrypted."""
    kind, encrypt = request.param
    return make_store(kind, encrypt)


@pytest.fixture(params=BACKENDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)
