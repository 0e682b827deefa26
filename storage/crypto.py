"""Encryption at rest: AES-256-GCM in 64 KiB segments under a fresh data key per object.

Stored layout of an encrypted object::

    header (HEADER_SIZE bytes) | segment 0 | segment 1 | ... | last segment

The header holds the segment size, a random data-key id and the data key wrapped by a master
key. Each segment is ``AES-GCM(data key, nonce, plaintext[i], aad=header)`` with the 16-byte tag
appended. The nonce is the segment index followed by a final-segment flag, so reordering,
dropping or truncating segments fails authentication (the STREAM construction of Hoang et al.).
Nonces never repeat because each data key encrypts exactly one object. Binding the header as AAD
means a changed header fails too. An empty object still has one (empty, final) segment, so
truncating an object to its header is detected.

The header has a fixed size, so the plaintext size follows from the stored size without a read,
and a byte range maps to a range of segments: ranged reads decrypt only what they need.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.backend import BlobStream, ByteSource
from storage.errors import IntegrityError, MasterKeyError
from storage.keyring import KeyWrapper

MAGIC = b"DHTNENC1"
HEADER_SIZE = 1024
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
DATA_KEY_BYTES = 32

#: ``open_ciphertext(offset, length)`` returns a stream of stored bytes ``[offset, offset+length)``.
CiphertextOpener = Callable[[int, int], ByteSource]


@dataclass(frozen=True, slots=True)
class EnvelopeHeader:
    """The fixed-size header of an encrypted object.

    Attributes:
        segment_size: plaintext bytes per segment.
        data_key_id: random id of the data key (binds re-wrapped key records to this object).
        master_key_id: id of the master key that wrapped ``wrapped_key``.
        wrapped_key: the data key wrapped by that master key.
    """

    segment_size: int
    data_key_id: str
    master_key_id: str
    wrapped_key: bytes

    def encode(self) -> bytes:
        body = json.dumps(
            {
                "segment_size": self.segment_size,
                "data_key_id": self.data_key_id,
                "master_key_id": self.master_key_id,
                "wrapped_key": base64.b64encode(self.wrapped_key).decode("ascii"),
            },
            separators=(",", ":"),
        ).encode("ascii")
        raw = MAGIC + len(body).to_bytes(2, "big") + body
        if len(raw) > HEADER_SIZE:
            raise MasterKeyError("Khóa dữ liệu sau khi bọc quá dài cho phần đầu tệp.")
        return raw.ljust(HEADER_SIZE, b"\0")

    @classmethod
    def decode(cls, raw: bytes) -> EnvelopeHeader:
        if len(raw) != HEADER_SIZE or not raw.startswith(MAGIC):
            raise IntegrityError(reason="bad encryption header")
        length = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 2], "big")
        try:
            fields = json.loads(raw[len(MAGIC) + 2 : len(MAGIC) + 2 + length])
            header = cls(
                segment_size=int(fields["segment_size"]),
                data_key_id=str(fields["data_key_id"]),
                master_key_id=str(fields["master_key_id"]),
                wrapped_key=base64.b64decode(fields["wrapped_key"], validate=True),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(reason="bad encryption header") from exc
        if not 0 < header.segment_size <= 16 * 1024 * 1024:
            raise IntegrityError(reason="bad encryption header")
        return header


@dataclass(frozen=True, slots=True)
class WrapRecord:
    """A data key re-wrapped by rotation, kept in a small record beside its object.

    ``data_key_id`` ties it to the header of the object it belongs to: a record left by an
    object since replaced is ignored.
    """

    data_key_id: str
    master_key_id: str
    wrapped_key: bytes

    def encode(self) -> bytes:
        return json.dumps(
            {
                "data_key_id": self.data_key_id,
                "master_key_id": self.master_key_id,
                "wrapped_key": base64.b64encode(self.wrapped_key).decode("ascii"),
            }
        ).encode("ascii")

    @classmethod
    def decode(cls, raw: bytes) -> WrapRecord:
        try:
            fields = json.loads(raw)
            return cls(
                str(fields["data_key_id"]),
                str(fields["master_key_id"]),
                base64.b64decode(fields["wrapped_key"], validate=True),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(reason="bad wrapped-key record") from exc


def segment_count(plaintext_size: int, segment_size: int = SEGMENT_SIZE) -> int:
    """Segments used for ``plaintext_size`` bytes (at least one, the final one)."""
    return max(1, -(-plaintext_size // segment_size))


def stored_size_for(plaintext_size: int, segment_size: int = SEGMENT_SIZE) -> int:
    """Stored bytes of an encrypted object holding ``plaintext_size`` bytes."""
    return HEADER_SIZE + plaintext_size + TAG_SIZE * segment_count(plaintext_size, segment_size)


def plaintext_size_for(stored_size: int, segment_size: int = SEGMENT_SIZE) -> int:
    """Inverse of :func:`stored_size_for`; :class:`IntegrityError` if no plaintext size fits."""
    body = stored_size - HEADER_SIZE
    if body < TAG_SIZE:
        raise IntegrityError(reason="encrypted object too short")
    segments = -(-body // (segment_size + TAG_SIZE))
    plain = body - TAG_SIZE * segments
    if stored_size_for(plain, segment_size) != stored_size:
        raise IntegrityError(reason="encrypted object has an impossible size")
    return plain


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


class SegmentEncryptor:
    """Encrypts one object as a stream: :meth:`feed` plaintext, then :meth:`finish`."""

    def __init__(self, wrapper: KeyWrapper, segment_size: int = SEGMENT_SIZE) -> None:
        data_key = AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)
        self.header = EnvelopeHeader(
            segment_size=segment_size,
            data_key_id=secrets.token_hex(16),
            master_key_id=wrapper.current_key_id,
            wrapped_key=wrapper.wrap(data_key),
        )
        self.header_bytes = self.header.encode()
        #: Kept so the spool can show its plaintext to the upload checks.
        self.data_key = data_key
        self._aead = AESGCM(data_key)
        self._segment = segment_size
        self._pending = bytearray()
        self._index = 0

    def feed(self, data: bytes) -> bytes:
        """Add plaintext; return the ciphertext of the segments completed so far."""
        self._pending += data
        out = bytearray()
        # Strictly more than one segment pending: the last full one may turn out to be final.
        while len(self._pending) > self._segment:
            out += self._seal(bytes(self._pending[: self._segment]), final=False)
            del self._pending[: self._segment]
        return bytes(out)

    def finish(self) -> bytes:
        """Seal what is pending as the final segment."""
        out = self._seal(bytes(self._pending), final=True)
        self._pending.clear()
        return out

    def _seal(self, plaintext: bytes, *, final: bool) -> bytes:
        sealed = self._aead.encrypt(_nonce(self._index, final), plaintext, self.header_bytes)
        self._index += 1
        return sealed


class DecryptingStream(BlobStream):
    """Plaintext bytes ``[start, end)`` of an encrypted object, decrypted segment by segment.

    Seekable: a seek outside the current segment reopens the ciphertext at the segment needed.
    Every failure of authentication raises :class:`IntegrityError`.
    """

    def __init__(
        self,
        header_bytes: bytes,
        data_key: bytes,
        stored_size: int,
        open_ciphertext: CiphertextOpener,
        start: int = 0,
        end: int | None = None,
        source: ByteSource | None = None,
    ) -> None:
        """``source``, if given, is already positioned at the first segment; it is now ours."""
        super().__init__()
        self._header_bytes = header_bytes
        self._segment = EnvelopeHeader.decode(header_bytes).segment_size
        self._aead = AESGCM(data_key)
        self._stored_size = stored_size
        self.plaintext_size = plaintext_size_for(stored_size, self._segment)
        self._segments = segment_count(self.plaintext_size, self._segment)
        self._open = open_ciphertext
        self._start = start
        self._end = self.plaintext_size if end is None else min(end, self.plaintext_size)
        self._pos = start
        self._source: ByteSource | None = source
        # The segment the open source is positioned at.
        self._next_index = start // self._segment if source is not None else -1
        self._buffered_index = -1
        self._buffer = b""

    def readable(self) -> bool:
        return True

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
        # Whole segments at a time avoid RawIOBase's copy through a bytearray.
        if size is None or size < 0:
            size = self._end - self._pos
        parts: list[bytes] = []
        while size > 0 and self._pos < self._end:
            index, skip = divmod(self._pos, self._segment)
            if index != self._buffered_index:
                self._buffer = self._load(index)
                self._buffered_index = index
            chunk = self._buffer[skip : skip + min(size, self._end - self._pos)]
            parts.append(chunk)
            self._pos += len(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def _load(self, index: int) -> bytes:
        sealed_len = self._segment + TAG_SIZE
        if self._source is None or index != self._next_index:
            self._close_source()
            last = (self._end - 1) // self._segment if self._end > 0 else 0
            offset = HEADER_SIZE + index * sealed_len
            length = min(self._stored_size, HEADER_SIZE + (last + 1) * sealed_len) - offset
            self._source = self._open(offset, length)
        final = index == self._segments - 1
        want = self._stored_size - HEADER_SIZE - index * sealed_len if final else sealed_len
        sealed = read_exactly(self._source, want)
        self._next_index = index + 1
        try:
            return self._aead.decrypt(_nonce(index, final), sealed, self._header_bytes)
        except InvalidTag as exc:
            raise IntegrityError(reason="authentication failed", segment=index) from exc

    def _close_source(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None

    def close(self) -> None:
        self._close_source()
        super().close()


def read_exactly(stream: ByteSource, size: int) -> bytes:
    """Exactly ``size`` bytes from ``stream``; :class:`IntegrityError` if it ends first."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            raise IntegrityError(reason="object shorter than its size")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)
