"""The back-end protocol: a dumb blob store under names the content store chooses.

Back-ends know nothing of hashing, encryption or keys' meaning; they store bytes durably, read
ranges, list with modification times, and report their own failures as storage errors. The
names they receive were validated by the content store already; the filesystem back-end checks
containment again anyway (defence in depth).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class ByteSource(Protocol):
    """The least a byte stream must offer: ``read(n)`` and ``close()``."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """One stored blob: its name, stored size and last modification time (aware, UTC)."""

    name: str
    size: int
    last_modified: datetime


class BlobStream(io.RawIOBase):
    """A readable stream of stored bytes that also knows the blob's total stored size.

    Subclasses implement ``read``; ``readinto`` (what ``io.BufferedReader`` uses) follows.
    """

    total_size: int = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        raise NotImplementedError

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


class SpoolFile(Protocol):
    """What a back-end reads of a received upload waiting to be stored (a spool): the temporary
    file the back-end gave for it (:meth:`Backend.new_spool_file`)."""

    #: The file's descriptor, and its path (None when anonymous).
    fd: int
    path: str | None
    #: Bytes in the file (ciphertext when encrypting).
    stored_size: int

    def open_stored(self) -> BinaryIO:
        """A reader of the file's bytes from the start."""
        ...


class Backend(Protocol):
    """What the content store needs from a place that holds bytes."""

    #: Objects whose stored size exceeds this are looked up before they are stored, to skip
    #: sending bytes the back-end holds already; smaller ones are stored straight away.
    precheck_above: int
    #: Whether spools must be durable (fsynced) because they become stored objects in place.
    sync_spools: bool

    def describe(self) -> str:
        """Where the blobs live, for logs and errors (never credentials)."""
        ...

    def initialize(self) -> None:
        """Create the root directory or bucket if missing."""
        ...

    def ping(self) -> None:
        """Raise a :class:`StorageUnavailableError` unless the back-end is usable now."""
        ...

    def new_spool_file(self) -> tuple[int, str | None]:
        """A fresh temporary file for a spool: (file descriptor, path or None if anonymous)."""
        ...

    def store_spool(self, name: str, spool: SpoolFile, content_type: str) -> bool:
        """Store the spool's bytes under ``name``; False if the back-end found it existed."""
        ...

    def write_small(self, name: str, data: bytes) -> None:
        """Atomically create or replace a small blob."""
        ...

    def open_range(self, name: str, offset: int = 0, length: int | None = None) -> BlobStream:
        """Stream stored bytes ``[offset, offset+length)``; ObjectNotFoundError if absent."""
        ...

    def stat(self, name: str) -> BlobInfo | None:
        """Size and modification time, or None if absent."""
        ...

    def delete(self, name: str) -> None:
        """Remove ``name`` if present."""
        ...

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        """Every blob whose name starts with ``prefix`` (a directory-like prefix ending in /)."""
        ...

    def touch(self, name: str) -> None:
        """Set the modification time of ``name`` to now (keeps a re-used object from sweeping)."""
        ...

    def presigned_url(
        self, name: str, expires: timedelta, response_headers: Mapping[str, str]
    ) -> str | None:
        """A URL that downloads ``name`` without our credentials, or None if unsupported."""
        ...

    def sweep_litter(self, older_than: datetime) -> int:
        """Remove back-end private leftovers (interrupted spools) older than the cutoff."""
        ...


class FdView(BlobStream):
    """A seekable read-only view of an open file descriptor, independent of its own position.

    Uses ``pread`` so that several views (a checker's and an uploader's) never disturb one
    another or the writer that owns the descriptor.
    """

    def __init__(self, fd: int, start: int = 0, length: int | None = None) -> None:
        super().__init__()
        self._fd = fd
        self.total_size = os.fstat(fd).st_size
        self._start = start
        self._end = self.total_size if length is None else min(self.total_size, start + length)
        self._pos = start

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos - self._start

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.tell(), io.SEEK_END: self._end - self._start}
        target = base[whence] + offset
        if target < 0:
            raise ValueError("negative seek position")
        self._pos = self._start + target
        return target

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0:
            size = self._end - self._pos
        size = max(0, min(size, self._end - self._pos))
        if size == 0:
            return b""
        data = os.pread(self._fd, size, self._pos)
        self._pos += len(data)
        return data
