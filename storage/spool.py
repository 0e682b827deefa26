"""A spool: one upload received into a temporary file while it is hashed (and encrypted).

Receiving first and storing second is what lets the store name an object by its content without
reading it twice from the client, refuse a file before anything is stored, skip the upload of
bytes it already holds, and hand the S3 back-end a file of known length (fast multipart upload,
retries possible). Memory stays flat: one chunk at a time. When the store encrypts, the spool
holds ciphertext only, so plaintext never reaches the disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import BinaryIO, Protocol, cast

from storage.backend import Backend, FdView
from storage.crypto import DecryptingStream, SegmentEncryptor
from storage.errors import FileTooLargeError
from storage.keyring import KeyWrapper

CHUNK_SIZE = 1024 * 1024
#: How many leading bytes ``on_head`` sees (enough for every magic number we sniff).
HEAD_SIZE = 8192


class Readable(Protocol):
    """Anything with ``read(n)`` returning bytes: files, Werkzeug streams, sockets' makefile."""

    def read(self, size: int = ..., /) -> bytes: ...


HeadCallback = Callable[[bytes], None]


class _Hasher:
    """SHA-256 computed beside the writes (and the final fsync), in a helper thread.

    hashlib, ``os.write`` and ``os.fsync`` all release the GIL, so on two cores hashing costs
    (almost) no wall time. Tiny inputs are hashed inline: a thread would cost more than it
    saves. The queue is bounded: at most a few chunks wait in memory.
    """

    _THREAD_AFTER = 256 * 1024

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._seen = 0
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None

    def update(self, chunk: bytes) -> None:
        self._seen += len(chunk)
        if self._queue is None and self._seen <= self._THREAD_AFTER:
            self._digest.update(chunk)
            return
        if self._queue is None:
            self._queue = queue.Queue(maxsize=4)
            self._thread = threading.Thread(target=self._run, name="dhtn-spool-hash", daemon=True)
            self._thread.start()
        self._queue.put(chunk)

    def _run(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            self._digest.update(chunk)

    def hexdigest(self) -> str:
        self._stop()
        return self._digest.hexdigest()

    def _stop(self) -> None:
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = self._thread = None

    def __enter__(self) -> _Hasher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()


class Spool:
    """A received upload waiting in a temporary file; discard it, or let a store consume it.

    Attributes:
        sha256: hex SHA-256 of the plaintext.
        size: plaintext bytes received.
        stored_size: bytes in the file (size plus encryption overhead, if any).
        head: the first bytes of the plaintext (up to ``HEAD_SIZE``).
        encrypted: whether the file holds ciphertext.
    """

    def __init__(
        self,
        fd: int,
        path: str | None,
        encryptor: SegmentEncryptor | None,
        durable: bool = False,
    ) -> None:
        self.fd = fd
        self._durable = durable
        self.path = path
        self.sha256 = ""
        self.size = 0
        self.stored_size = 0
        self.head = b""
        self.encrypted = encryptor is not None
        self.header_bytes = encryptor.header_bytes if encryptor else b""
        self._data_key = encryptor.data_key if encryptor else b""
        self._sealer = encryptor
        self._closed = False

    @classmethod
    def receive(
        cls,
        backend: Backend,
        stream: Readable | bytes,
        *,
        max_size: int | None = None,
        wrapper: KeyWrapper | None = None,
        on_head: HeadCallback | None = None,
    ) -> Spool:
        """Read ``stream`` to its end into a new spool.

        Raises :class:`FileTooLargeError` as soon as more than ``max_size`` bytes arrive, and
        whatever ``on_head`` raises once the first bytes are known; in both cases (and on any
        other failure) the temporary file is removed before the error propagates.
        """
        source: Readable = io.BytesIO(stream) if isinstance(stream, bytes) else stream
        # The data key is wrapped first: a failing key wrapper must not leave a file behind.
        encryptor = SegmentEncryptor(wrapper) if wrapper is not None else None
        fd, path = backend.new_spool_file()
        spool = cls(fd, path, encryptor, durable=backend.sync_spools)
        try:
            spool._fill(source, max_size, on_head)
        except BaseException:
            spool.discard()
            raise
        return spool

    def _fill(
        self,
        source: Readable,
        max_size: int | None,
        on_head: HeadCallback | None,
    ) -> None:
        sealer = self._sealer
        if sealer is not None:
            self._write(sealer.header_bytes)
        head = bytearray()
        head_done = False
        with _Hasher() as hasher:
            while True:
                chunk = source.read(CHUNK_SIZE)
                if not chunk:
                    break
                self.size += len(chunk)
                if max_size is not None and self.size > max_size:
                    raise FileTooLargeError(max_size=max_size)
                hasher.update(chunk)
                if not head_done:
                    head += chunk[: HEAD_SIZE - len(head)]
                    if len(head) >= HEAD_SIZE:
                        head_done = True
                        self._call_head(on_head, head)
                self._write(sealer.feed(chunk) if sealer is not None else chunk)
            if not head_done:
                self._call_head(on_head, head)
            if sealer is not None:
                self._write(sealer.finish())
            if self._durable:
                os.fsync(self.fd)  # while the hasher may still be busy
            self.sha256 = hasher.hexdigest()
        self._sealer = None

    def _call_head(self, on_head: HeadCallback | None, head: bytearray) -> None:
        self.head = bytes(head)
        if on_head is not None:
            on_head(self.head)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.stored_size += len(data)

    def open_stored(self) -> BinaryIO:
        """The stored bytes (ciphertext when encrypted), from the start, seekable."""
        # Unbuffered on purpose: the S3 SDK reads whole parts, a buffer would only copy.
        return cast(BinaryIO, FdView(self.fd))

    def open_plaintext(self) -> BinaryIO:
        """The plaintext, seekable and buffered (parsers read it in small pieces)."""
        raw: FdView | DecryptingStream
        if not self.encrypted:
            raw = FdView(self.fd)
        else:
            raw = DecryptingStream(
                self.header_bytes,
                self._data_key,
                self.stored_size,
                lambda offset, length: FdView(self.fd, offset, length),
            )
        return io.BufferedReader(raw, buffer_size=64 * 1024)

    def discard(self) -> None:
        """Close and delete the temporary file (idempotent; after a store consumed it, too)."""
        if self._closed:
            return
        self._closed = True
        self._data_key = b""
        os.close(self.fd)
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()
