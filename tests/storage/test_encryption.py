"""Encryption at rest: nothing readable at rest, tampering detected, rotation without rewrites."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage import (
    ConfigurationError,
    ContentStore,
    FileKeyWrapper,
    IntegrityError,
    KeyWrapper,
    MasterKeyError,
    StorageError,
    create_key_file,
    retire_key,
    rewrap_store,
    rotate_key_file,
)
from storage.crypto import HEADER_SIZE, SEGMENT_SIZE, TAG_SIZE, stored_size_for
from storage.local import LocalBackend
from tests.storage.helpers import (
    StoreFactory,
    assert_nothing_stored,
    open_fds,
    overwrite_stored,
    raw_names,
    read_stored,
)
from tests.storage.streams import generated_bytes

MARKER = "TUYỆT MẬT: kế hoạch".encode()


def secret_document(size: int = 200_000) -> bytes:
    return MARKER + generated_bytes(size, seed=5) + MARKER


def read(store: ContentStore, key: str) -> bytes:
    with store.open(key, verify=True) as reader:
        return reader.read()


def test_nothing_readable_at_rest(make_store: StoreFactory, backend_kind: str) -> None:
    store = make_store(backend_kind, encrypt=True)
    data = secret_document()
    ref = store.put(data)
    stored = read_stored(store, ref.key)
    assert ref.key.startswith("sha256-enc/")
    assert MARKER not in stored and data[1000:1100] not in stored
    assert len(stored) == stored_size_for(len(data)) == store.stat(ref.key).stored_size
    assert read(store, ref.key) == data


def test_dedupe_is_by_plaintext(make_store: StoreFactory, backend_kind: str) -> None:
    store = make_store(backend_kind, encrypt=True)
    first = store.put(b"same plaintext")
    second = store.put(b"same plaintext")
    assert first.key == second.key
    assert first.sha256 == hashlib.sha256(b"same plaintext").hexdigest()
    assert len(list(store.list())) == 1


@pytest.mark.parametrize(
    "position",
    [HEADER_SIZE + 10, HEADER_SIZE + SEGMENT_SIZE + TAG_SIZE + 5, -1],
    ids=["first-segment", "second-segment", "last-tag"],
)
def test_one_changed_byte_fails_the_read(
    make_store: StoreFactory, backend_kind: str, position: int
) -> None:
    store = make_store(backend_kind, encrypt=True)
    data = secret_document()
    ref = store.put(data)
    stored = bytearray(read_stored(store, ref.key))
    stored[position] ^= 0x01
    overwrite_stored(store, ref.key, bytes(stored))
    with pytest.raises(IntegrityError) as excinfo, store.open(ref.key) as reader:
        reader.read()
    assert excinfo.value.code == "object_corrupted"
    # Without verify=True too: authentication is not optional for encrypted objects.


def test_header_tampering_fails(make_store: StoreFactory) -> None:
    store = make_store("local", encrypt=True)
    ref = store.put(secret_document())
    stored = bytearray(read_stored(store, ref.key))
    stored[HEADER_SIZE - 1] ^= 0x01  # in the padding: still caught, the header is the AAD
    overwrite_stored(store, ref.key, bytes(stored))
    with pytest.raises(IntegrityError), store.open(ref.key) as reader:
        reader.read()


@pytest.mark.parametrize("damage", ["truncate-segment", "drop-last-segment", "swap-segments"])
def test_truncation_and_reordering_fail(make_store: StoreFactory, damage: str) -> None:
    store = make_store("local", encrypt=True)
    ref = store.put(secret_document())
    stored = read_stored(store, ref.key)
    sealed = SEGMENT_SIZE + TAG_SIZE
    body = stored[HEADER_SIZE:]
    segments = [body[i : i + sealed] for i in range(0, len(body), sealed)]
    if damage == "truncate-segment":
        changed = stored[:-100]
    elif damage == "drop-last-segment":
        changed = stored[:HEADER_SIZE] + b"".join(segments[:-1])
    else:
        segments[0], segments[1] = segments[1], segments[0]
        changed = stored[:HEADER_SIZE] + b"".join(segments)
    overwrite_stored(store, ref.key, changed)
    with pytest.raises(IntegrityError), store.open(ref.key) as reader:
        reader.read()


def test_ranges_are_authenticated_too(make_store: StoreFactory) -> None:
    store = make_store("local", encrypt=True)
    data = secret_document()
    ref = store.put(data)
    stored = bytearray(read_stored(store, ref.key))
    stored[HEADER_SIZE + 2 * (SEGMENT_SIZE + TAG_SIZE) + 7] ^= 0x80  # third segment
    overwrite_stored(store, ref.key, bytes(stored))
    with store.open(ref.key, offset=10, length=1000) as reader:
        assert reader.read() == data[10:1010]  # first segment is intact
    with (
        pytest.raises(IntegrityError),
        store.open(ref.key, offset=2 * SEGMENT_SIZE + 1, length=10) as reader,
    ):
        reader.read()


def test_rotation_rewraps_without_rewriting_content(
    make_store: StoreFactory, backend_kind: str, key_file: Path
) -> None:
    store = make_store(backend_kind, encrypt=True)
    documents = [secret_document(1000 * i) for i in range(4)]
    refs = [store.put(doc) for doc in documents]
    ciphertext_before = {ref.key: read_stored(store, ref.key) for ref in refs}
    old_id = FileKeyWrapper.from_file(key_file).current_key_id

    new_id = rotate_key_file(key_file)
    rotated = ContentStore(
        store.backend, key_wrapper=FileKeyWrapper.from_file(key_file), encrypt=True
    )
    report = rewrap_store(rotated)
    assert (report.encrypted, report.rewrapped, report.current, report.ok) == (4, 4, 0, True)
    again = rewrap_store(rotated)
    assert (again.rewrapped, again.current) == (0, 4)

    retire_key(key_file, old_id)
    only_new = FileKeyWrapper.from_file(key_file)
    assert only_new.key_ids == (new_id,)
    after = ContentStore(store.backend, key_wrapper=only_new, encrypt=True)
    for ref, doc in zip(refs, documents, strict=True):
        assert read(after, ref.key) == doc
        assert read_stored(after, ref.key) == ciphertext_before[ref.key]  # content untouched
    new_ref = after.put(b"written after rotation")
    assert read(after, new_ref.key) == b"written after rotation"


def test_old_key_retired_before_rewrap_makes_objects_unreadable(
    make_store: StoreFactory, key_file: Path
) -> None:
    store = make_store("local", encrypt=True)
    ref = store.put(b"needs the old key")
    old_id = FileKeyWrapper.from_file(key_file).current_key_id
    rotate_key_file(key_file)
    retire_key(key_file, old_id)
    skipped = ContentStore(
        store.backend, key_wrapper=FileKeyWrapper.from_file(key_file), encrypt=True
    )
    with pytest.raises(MasterKeyError):
        read(skipped, ref.key)
    report = rewrap_store(skipped)
    assert report.failed == (ref.key,) and not report.ok


def test_reading_needs_the_master_key(make_store: StoreFactory, tmp_path: Path) -> None:
    store = make_store("local", encrypt=True)
    ref = store.put(b"encrypted")
    without = ContentStore(store.backend)
    with pytest.raises(MasterKeyError) as excinfo:
        read(without, ref.key)
    assert excinfo.value.code == "master_key_unavailable"
    other_file = tmp_path / "other.key"
    create_key_file(other_file)
    wrong = ContentStore(store.backend, key_wrapper=FileKeyWrapper.from_file(other_file))
    with pytest.raises(MasterKeyError):
        read(wrong, ref.key)


def test_plain_store_reads_encrypted_objects_and_vice_versa(
    make_store: StoreFactory, key_file: Path
) -> None:
    encrypting = make_store("local", encrypt=True)
    secret = encrypting.put(b"encrypted one")
    plain_store = ContentStore(
        encrypting.backend, key_wrapper=FileKeyWrapper.from_file(key_file), encrypt=False
    )
    public = plain_store.put(b"plain one")
    assert not public.encrypted and secret.encrypted
    assert read(plain_store, secret.key) == b"encrypted one"
    assert read(encrypting, public.key) == b"plain one"


def test_encrypting_needs_a_master_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        ContentStore(LocalBackend(tmp_path), encrypt=True)


def test_key_file_is_private_and_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    key_id = create_key_file(path)
    assert path.stat().st_mode & 0o077 == 0
    material = path.read_text().split(key_id, 1)[1].split()[0]
    assert material not in repr(FileKeyWrapper.from_file(path))
    with pytest.raises(ConfigurationError):
        create_key_file(path)
    rotate_key_file(path)
    assert path.stat().st_mode & 0o077 == 0
    with pytest.raises(ConfigurationError):
        retire_key(path, FileKeyWrapper.from_file(path).current_key_id)


@pytest.mark.parametrize(
    "content", ["", "# only a comment\n", "mk-1 not-base64!\n", "mk-1 AAAA\n", "a b c\n"]
)
def test_bad_key_files_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(ConfigurationError):
        FileKeyWrapper.from_file(path)


def test_no_plaintext_left_in_staging(make_store: StoreFactory) -> None:
    store = make_store("local", encrypt=True)
    store.put(secret_document())
    assert all(not name.startswith(".staging/") for name in raw_names(store))


def test_errors_are_storage_errors(make_store: StoreFactory) -> None:
    store = make_store("local", encrypt=True)
    ref = store.put(b"x")
    overwrite_stored(store, ref.key, b"garbage")
    with pytest.raises(StorageError), store.open(ref.key) as reader:
        reader.read()


class TokenWrapper:
    """A stand-in for an HSM: its own key id scheme and wrapping (AES-GCM), same protocol."""

    def __init__(self) -> None:
        self._key = AESGCM.generate_key(bit_length=256)
        self.calls = 0

    @property
    def current_key_id(self) -> str:
        return "token:slot0/aes-1"

    def wrap(self, data_key: bytes) -> bytes:
        self.calls += 1
        nonce = os.urandom(12)
        return nonce + AESGCM(self._key).encrypt(nonce, data_key, b"dhtn")

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        if key_id != self.current_key_id:
            raise MasterKeyError(key_id=key_id)
        return AESGCM(self._key).decrypt(wrapped[:12], wrapped[12:], b"dhtn")


def test_any_key_wrapper_will_do(make_store: StoreFactory, backend_kind: str) -> None:
    token = TokenWrapper()
    assert isinstance(token, KeyWrapper)
    store = make_store(backend_kind, encrypt=True, master_key=token)
    data = secret_document()
    ref = store.put(data)
    assert token.calls == 1 and ref.encrypted
    assert read(store, ref.key) == data


class BrokenWrapper(TokenWrapper):
    def wrap(self, data_key: bytes) -> bytes:
        raise MasterKeyError("token removed")


def test_a_failing_key_wrapper_stores_nothing(make_store: StoreFactory) -> None:
    store = make_store("local", encrypt=True, master_key=BrokenWrapper())
    fds = open_fds()
    with pytest.raises(MasterKeyError):
        store.put(b"cannot be protected")
    assert_nothing_stored(store)
    assert open_fds() == fds
