"""The stream a store hands back for reading one object."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from storage.backend import BlobStream, ByteSource
from storage.errors import IntegrityError

DEFAULT_CHUNK = 1024 * 1024


class ObjectReader(BlobStream):
    """Streams the bytes of one object (or of a byte range of it).

    Use it as a context manager, or close it: it may hold a connection of the back-end's pool.
    With ``verify=True`` the SHA-256 of everything read is compared with the key when the end is
    reached, and :class:`IntegrityError` is raised at that point if they differ, so a consumer
    that streams to a client must treat that error as "abort the transfer".

    Attributes:
        key: the object's key.
        size: how many bytes this reader yields in total.
    """

    def __init__(
        self, key: str, inner: ByteSource, size: int, expected_sha256: str | None = None
    ) -> None:
        super().__init__()
        self.key = key
        self.size = size
        self.total_size = size
        self._inner = inner
        self._expected = expected_sha256
        self._digest = hashlib.sha256() if expected_sha256 is not None else None
        self._remaining = size

    def read(self, size: int = -1, /) -> bytes:
        if self._remaining <= 0:
            self._finish()
            return b""
        want = self._remaining if size is None or size < 0 else min(size, self._remaining)
        data = self._inner.read(want) if want else b""
        if not data and want:
            raise IntegrityError(reason="object shorter than its size", key=self.key)
        self._remaining -= len(data)
        if self._digest is not None:
            self._digest.update(data)
        if self._remaining == 0:
            self._finish()
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def iter_chunks(self, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        """Yield the content in chunks of at most ``chunk_size`` bytes, then close."""
        try:
            while chunk := self.read(chunk_size):
                yield chunk
        finally:
            self.close()

    def _finish(self) -> None:
        if self._digest is None:
            return
        digest, self._digest = self._digest, None
        if digest.hexdigest() != self._expected:
            raise IntegrityError(reason="content does not match its hash", key=self.key)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()
