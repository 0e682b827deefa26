"""The content-addressed store: the :class:`ObjectStore` protocol and its implementation.

:class:`ContentStore` turns a dumb back-end into the store the rest of DHTN uses: it names objects
by the SHA-256 of their plaintext, stores identical bytes once, encrypts at rest when asked, and
reads back (whole or by range, optionally verifying the hash).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from storage.backend import Backend, BlobInfo
from storage.crypto import (
    HEADER_SIZE,
    SEGMENT_SIZE,
    TAG_SIZE,
    DecryptingStream,
    EnvelopeHeader,
    WrapRecord,
    read_exactly,
)
from storage.errors import (
    ConfigurationError,
    MasterKeyError,
    ObjectNotFoundError,
    RangeNotSatisfiableError,
)
from storage.filenames import content_disposition
from storage.keyring import KeyWrapper
from storage.objects import (
    ENCRYPTED_PREFIX,
    PLAIN_PREFIX,
    WRAPPED_KEY_PREFIX,
    ObjectInfo,
    ObjectRef,
    content_key,
    is_key,
    parse_key,
    wrapped_key_name,
)
from storage.readers import ObjectReader
from storage.spool import HeadCallback, Readable, Spool

DEFAULT_CONTENT_TYPE = "application/octet-stream"


@runtime_checkable
class ObjectStore(Protocol):
    """What docflow and the app may do with stored files (type parameters against this)."""

    @property
    def encrypts(self) -> bool:
        """Whether new objects are encrypted at rest."""
        ...

    def put(
        self,
        stream: Readable | bytes,
        content_type: str = DEFAULT_CONTENT_TYPE,
        *,
        max_size: int | None = None,
        before: Callable[[str], None] | None = None,
    ) -> ObjectRef: ...

    def spool(
        self,
        stream: Readable | bytes,
        *,
        max_size: int | None = None,
        on_head: HeadCallback | None = None,
    ) -> Spool: ...

    def put_spool(
        self,
        spool: Spool,
        content_type: str = DEFAULT_CONTENT_TYPE,
        *,
        before: Callable[[str], None] | None = None,
    ) -> ObjectRef: ...

    def open(
        self, key: str, *, offset: int = 0, length: int | None = None, verify: bool = False
    ) -> ObjectReader: ...

    def stat(self, key: str) -> ObjectInfo: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> bool: ...

    def list(self) -> Iterator[ObjectInfo]: ...

    def download_url(
        self,
        key: str,
        *,
        expires: timedelta = ...,
        filename: str | None = None,
        content_type: str | None = None,
        inline: bool = False,
    ) -> str | None: ...

    def ping(self) -> None: ...


class ContentStore:
    """Content-addressed objects on a back-end, optionally encrypted at rest.

    Args:
        backend: where the bytes live.
        key_wrapper: master key(s); needed to write or read encrypted objects.
        encrypt: encrypt new objects (requires ``key_wrapper``).
        refresh_after: a re-upload of bytes already stored refreshes the object's modification
            time when it is older than this, so the orphan sweeper cannot delete an object that
            a new row is about to reference. The sweeper's grace period must exceed it.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        key_wrapper: KeyWrapper | None = None,
        encrypt: bool = False,
        refresh_after: timedelta = timedelta(hours=1),
    ) -> None:
        if encrypt and key_wrapper is None:
            raise ConfigurationError("Bật mã hóa lưu trữ cần có khóa chủ.")
        self.backend = backend
        self.key_wrapper = key_wrapper
        self.refresh_after = refresh_after
        self._encrypt = encrypt

    @property
    def encrypts(self) -> bool:
        return self._encrypt

    def __repr__(self) -> str:
        return f"ContentStore({self.backend.describe()!r}, encrypt={self._encrypt})"

    def initialize(self) -> None:
        """Create the directory or bucket if missing (idempotent)."""
        self.backend.initialize()

    def ping(self) -> None:
        """Raise :class:`StorageUnavailableError` unless the store is usable (for /readyz)."""
        self.backend.ping()

    # --- writing ------------------------------------------------------------------------------

    def put(
        self,
        stream: Readable | bytes,
        content_type: str = DEFAULT_CONTENT_TYPE,
        *,
        max_size: int | None = None,
        before: Callable[[str], None] | None = None,
    ) -> ObjectRef:
        """Store the bytes of ``stream`` (read to its end); return their reference.

        Raises :class:`FileTooLargeError` after ``max_size`` bytes (nothing stored). ``before``:
        as for :meth:`put_spool`.
        """
        with self.spool(stream, max_size=max_size) as spool:
            return self.put_spool(spool, content_type, before=before)

    def spool(
        self,
        stream: Readable | bytes,
        *,
        max_size: int | None = None,
        on_head: HeadCallback | None = None,
    ) -> Spool:
        """Receive ``stream`` into a spool (the first step of a checked upload)."""
        wrapper = self.key_wrapper if self._encrypt else None
        return Spool.receive(
            self.backend, stream, max_size=max_size, wrapper=wrapper, on_head=on_head
        )

    def put_spool(
        self,
        spool: Spool,
        content_type: str = DEFAULT_CONTENT_TYPE,
        *,
        before: Callable[[str], None] | None = None,
    ) -> ObjectRef:
        """Store a spool under its content key (skipped if those bytes are stored already).
        ``before(key)`` is called first, before the key is looked up (the caller's hold on the
        object against the orphan sweeper: see :func:`storage.sweeper.sweep_orphans`)."""
        key = content_key(spool.sha256, encrypted=spool.encrypted)
        try:
            if before is not None:
                before(key)
            existing = None
            if spool.stored_size > self.backend.precheck_above:
                existing = self.backend.stat(key)
            # The back-end sees ciphertext as what it is, not as the plaintext's type.
            stored_type = DEFAULT_CONTENT_TYPE if spool.encrypted else content_type
            if existing is None and not self.backend.store_spool(key, spool, stored_type):
                existing = self.backend.stat(key)  # stored before (or by a concurrent upload)
            if existing is not None:
                self._refresh(existing)
        finally:
            spool.discard()
        return ObjectRef(key=key, sha256=spool.sha256, size=spool.size, content_type=content_type)

    def _refresh(self, info: BlobInfo) -> None:
        if datetime.now(UTC) - info.last_modified > self.refresh_after:
            self.backend.touch(info.name)

    # --- reading ------------------------------------------------------------------------------

    def open(
        self, key: str, *, offset: int = 0, length: int | None = None, verify: bool = False
    ) -> ObjectReader:
        """Stream the object ``key``, or ``length`` bytes of it from ``offset``.

        ``verify`` checks the SHA-256 at the end of a whole-object read (IntegrityError then).
        Encrypted objects are always authenticated, segment by segment.
        """
        parsed = parse_key(key)
        if offset < 0 or (length is not None and length < 0):
            raise RangeNotSatisfiableError()
        whole = offset == 0 and length is None
        if verify and not whole:
            raise ValueError("verify needs a whole-object read")
        expected = parsed.sha256 if verify else None
        if whole:
            return self._open_whole(key, parsed.encrypted, expected)
        info = self.stat(key)
        if offset > info.size:
            raise RangeNotSatisfiableError(size=info.size)
        end = info.size if length is None else min(info.size, offset + length)
        if end == offset:
            return ObjectReader(key, io.BytesIO(b""), 0)
        if not parsed.encrypted:
            return ObjectReader(
                key, self.backend.open_range(key, offset, end - offset), end - offset
            )
        header_bytes = self._read_header(key)
        stream = DecryptingStream(
            header_bytes,
            self._data_key(parsed.sha256, header_bytes),
            info.stored_size,
            lambda at, size: self.backend.open_range(key, at, size),
            offset,
            end,
        )
        return ObjectReader(key, stream, end - offset)

    def _open_whole(self, key: str, encrypted: bool, expected: str | None) -> ObjectReader:
        blob = self.backend.open_range(key)
        if not encrypted:
            return ObjectReader(key, blob, blob.total_size, expected)
        try:
            header_bytes = read_exactly(blob, HEADER_SIZE)
            stream = DecryptingStream(
                header_bytes,
                self._data_key(key.rsplit("/", 1)[1], header_bytes),
                blob.total_size,
                lambda at, size: self.backend.open_range(key, at, size),
                source=blob,  # the segments follow the header in the same request
            )
        except BaseException:
            blob.close()
            raise
        return ObjectReader(key, stream, stream.plaintext_size, expected)

    def stat(self, key: str) -> ObjectInfo:
        """Size and modification time of ``key``; :class:`ObjectNotFoundError` if absent."""
        parse_key(key)
        blob = self.backend.stat(key)
        if blob is None:
            raise ObjectNotFoundError()
        return _info(blob)

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        parse_key(key)
        return self.backend.stat(key) is not None

    def list(self) -> Iterator[ObjectInfo]:
        """Every stored object (plaintext, then encrypted), with its modification time."""
        for prefix in (PLAIN_PREFIX, ENCRYPTED_PREFIX):
            for blob in self.backend.list(prefix):
                if is_key(blob.name):
                    yield _info(blob)

    def download_url(
        self,
        key: str,
        *,
        expires: timedelta = timedelta(minutes=5),
        filename: str | None = None,
        content_type: str | None = None,
        inline: bool = False,
    ) -> str | None:
        """A short-lived URL to download ``key`` directly from the back-end.

        None when the back-end has no such URLs (filesystem) or the object is encrypted (the
        back-end only holds ciphertext): stream it through :meth:`open` instead.
        """
        if parse_key(key).encrypted:
            return None
        headers: dict[str, str] = {}
        if filename is not None:
            headers["response-content-disposition"] = content_disposition(filename, inline=inline)
        if content_type is not None:
            headers["response-content-type"] = content_type
        return self.backend.presigned_url(key, expires, headers)

    # --- removing -----------------------------------------------------------------------------

    def delete(self, key: str) -> bool:
        """Remove ``key``; False if it was not stored. Use the sweeper for unreferenced objects."""
        parsed = parse_key(key)
        if self.backend.stat(key) is None:
            return False
        self.backend.delete(key)
        if parsed.encrypted:
            self.backend.delete(wrapped_key_name(parsed.sha256))
        return True

    def sweep_litter(self, older_than: datetime) -> int:
        """Remove interrupted spools and wrapped-key records whose object is gone."""
        removed = self.backend.sweep_litter(older_than)
        for record in self.backend.list(WRAPPED_KEY_PREFIX):
            digest = record.name.rsplit("/", 1)[1]
            if record.last_modified < older_than and not self.exists(
                content_key(digest, encrypted=True)
            ):
                self.backend.delete(record.name)
                removed += 1
        return removed

    # --- encryption ---------------------------------------------------------------------------

    def rewrap(self, key: str) -> bool:
        """Re-wrap the data key of ``key`` with the current master key; False if nothing to do.

        The content is not rewritten: the new wrap goes to a small record beside the object.
        """
        parsed = parse_key(key)
        if not parsed.encrypted:
            return False
        wrapper = self._wrapper()
        header_bytes = self._read_header(key)
        header = EnvelopeHeader.decode(header_bytes)
        record = self._read_record(parsed.sha256)
        if record is None or record.data_key_id != header.data_key_id:
            record = WrapRecord(header.data_key_id, header.master_key_id, header.wrapped_key)
        if record.master_key_id == wrapper.current_key_id:
            return False
        data_key = self._data_key(parsed.sha256, header_bytes)
        fresh = WrapRecord(header.data_key_id, wrapper.current_key_id, wrapper.wrap(data_key))
        self.backend.write_small(wrapped_key_name(parsed.sha256), fresh.encode())
        return True

    def _wrapper(self) -> KeyWrapper:
        if self.key_wrapper is None:
            raise MasterKeyError("Tệp được mã hóa nhưng hệ thống chưa cấu hình khóa chủ.")
        return self.key_wrapper

    def _read_header(self, key: str) -> bytes:
        with self.backend.open_range(key, 0, HEADER_SIZE) as blob:
            return read_exactly(blob, HEADER_SIZE)

    def _read_record(self, sha256: str) -> WrapRecord | None:
        try:
            with self.backend.open_range(wrapped_key_name(sha256)) as blob:
                return WrapRecord.decode(blob.read())
        except ObjectNotFoundError:
            return None

    def _data_key(self, sha256: str, header_bytes: bytes) -> bytes:
        header = EnvelopeHeader.decode(header_bytes)
        wrapper = self._wrapper()
        try:
            return wrapper.unwrap(header.master_key_id, header.wrapped_key)
        except MasterKeyError:
            # The header's master key may be retired: rotation left a re-wrapped record.
            record = self._read_record(sha256)
            if record is None or record.data_key_id != header.data_key_id:
                raise
            return wrapper.unwrap(record.master_key_id, record.wrapped_key)


def _info(blob: BlobInfo) -> ObjectInfo:
    size = blob.size
    if blob.name.startswith(ENCRYPTED_PREFIX):
        # Lenient on purpose: listing must not fail on a damaged object; reads check strictly.
        body = max(0, blob.size - HEADER_SIZE)
        size = max(0, body - TAG_SIZE * -(-body // (SEGMENT_SIZE + TAG_SIZE)))
    return ObjectInfo(
        key=blob.name, size=size, stored_size=blob.size, last_modified=blob.last_modified
    )
