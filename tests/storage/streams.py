"""Streams for the storage tests: content generated on the fly, never held whole in memory."""

from __future__ import annotations

import hashlib
import random

MiB = 1024 * 1024


class GeneratedStream:
    """``size`` bytes of incompressible content, made chunk by chunk as they are read.

    ``sha256`` is the hash of what was produced so far (complete once read to the end);
    ``consumed`` counts the bytes handed out; ``exhausted`` is set at the end of input.
    """

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.consumed = 0
        self.exhausted = False
        self._block = random.Random(seed).randbytes(MiB)
        self._digest = hashlib.sha256()
        self._seed = seed

    def read(self, n: int = -1, /) -> bytes:
        remaining = self.size - self.consumed
        if n is None or n < 0:
            n = remaining
        # Never cross a MiB window, so the content is a function of the position alone
        # (whatever sizes the consumer reads in).
        offset = self.consumed % MiB
        n = min(n, remaining, MiB - offset)
        if n <= 0:
            self.exhausted = True
            return b""
        # Each window is the block rotated by its own stride: no two windows repeat.
        start = (offset + self.consumed // MiB * 7919 + self._seed) % MiB
        data = (self._block[start:] + self._block[:start])[:n]
        self._digest.update(data)
        self.consumed += len(data)
        return data

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def expected_sha256(size: int, seed: int = 0) -> str:
    """The hash of ``GeneratedStream(size, seed)`` (generated again, streamed)."""
    stream = GeneratedStream(size, seed)
    while stream.read(MiB):
        pass
    return stream.sha256


def generated_bytes(size: int, seed: int = 0) -> bytes:
    """The whole content of ``GeneratedStream(size, seed)`` (small sizes only)."""
    stream = GeneratedStream(size, seed)
    return b"".join(iter(lambda: stream.read(MiB), b""))


class CountingStream:
    """Wraps bytes; counts how much the consumer actually read."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.consumed = 0

    def read(self, n: int = -1, /) -> bytes:
        end = len(self._data) if n is None or n < 0 else self.consumed + n
        chunk = self._data[self.consumed : end]
        self.consumed += len(chunk)
        return chunk


class PrefixedStream:
    """``prefix`` (e.g. a magic number), then a generated stream: a big file of a known type."""

    def __init__(self, prefix: bytes, rest: GeneratedStream) -> None:
        self._prefix = prefix
        self.rest = rest

    @property
    def consumed(self) -> int:
        return self.rest.consumed

    def read(self, n: int = -1, /) -> bytes:
        if self._prefix:
            head, self._prefix = self._prefix, b""
            return head
        return self.rest.read(n)
