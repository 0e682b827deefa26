"""What the store hands out: object references, object descriptions, and the key grammar.

Keys are content addresses: ``sha256/ab/<64 hex>`` for plaintext objects and
``sha256-enc/ab/<64 hex>`` for objects encrypted at rest, where the hex is the SHA-256 of the
*plaintext* (so identical bytes are stored once, encrypted or not) and ``ab`` its first two
digits. One fan-out level of 256 directories keeps the filesystem back-end's directories at
thousands of entries for millions of documents, while new uploads seldom have to create (and
fsync) a directory. Nothing but this grammar is ever accepted as a key,
which is what makes path traversal impossible rather than merely filtered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from storage.errors import InvalidKeyError

PLAIN_PREFIX = "sha256/"
ENCRYPTED_PREFIX = "sha256-enc/"
#: Where re-wrapped data keys live (one small record per encrypted object, written by rotation).
WRAPPED_KEY_PREFIX = "wrapped-keys/"

_KEY_RE = re.compile(r"(sha256|sha256-enc)/([0-9a-f]{2})/([0-9a-f]{64})")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """A stored object, as the database row that references it should record it.

    Attributes:
        key: the content address to store in the row (opaque to callers; see the module doc).
        sha256: hex SHA-256 of the plaintext content.
        size: size of the plaintext content in bytes.
        content_type: the media type given (or detected) at upload. Identical bytes uploaded under
            two content types are one object; each row keeps its own content type.
    """

    key: str
    sha256: str
    size: int
    content_type: str

    @property
    def encrypted(self) -> bool:
        """Whether the object is encrypted at rest."""
        return self.key.startswith(ENCRYPTED_PREFIX)


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What the store knows about one stored object without reading its content.

    Attributes:
        key: the object's key.
        size: size of the plaintext content in bytes (what a reader yields).
        stored_size: bytes the back-end holds (larger than ``size`` when encrypted).
        last_modified: when the back-end last wrote (or touched) the object, timezone-aware UTC.
    """

    key: str
    size: int
    stored_size: int
    last_modified: datetime

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the plaintext, read from the key."""
        return self.key.rsplit("/", 1)[1]

    @property
    def encrypted(self) -> bool:
        """Whether the object is encrypted at rest."""
        return self.key.startswith(ENCRYPTED_PREFIX)


@dataclass(frozen=True, slots=True)
class ParsedKey:
    """A key taken apart: the plaintext hash and whether the object is encrypted."""

    sha256: str
    encrypted: bool


def content_key(sha256: str, *, encrypted: bool) -> str:
    """The key of the content whose plaintext SHA-256 is ``sha256`` (hex)."""
    if not _SHA256_RE.fullmatch(sha256):
        raise InvalidKeyError(reason="not a SHA-256 hex digest")
    prefix = ENCRYPTED_PREFIX if encrypted else PLAIN_PREFIX
    return f"{prefix}{sha256[:2]}/{sha256}"


def parse_key(key: object) -> ParsedKey:
    """Validate ``key`` against the grammar; raise :class:`InvalidKeyError` for anything else."""
    if not isinstance(key, str):
        raise InvalidKeyError(reason="not a string")
    match = _KEY_RE.fullmatch(key)
    if match is None:
        # Never echo the input: it may be a path probe or arbitrarily long.
        raise InvalidKeyError(reason="not a key of this store")
    scheme, fanout, digest = match.groups()
    if digest[:2] != fanout:
        raise InvalidKeyError(reason="fan-out does not match the digest")
    return ParsedKey(sha256=digest, encrypted=scheme == "sha256-enc")


def is_key(key: object) -> bool:
    """Whether ``key`` is a well-formed key (without raising)."""
    try:
        parse_key(key)
    except InvalidKeyError:
        return False
    return True


def wrapped_key_name(sha256: str) -> str:
    """Back-end name of the re-wrapped data key record of an encrypted object."""
    return f"{WRAPPED_KEY_PREFIX}{sha256[:2]}/{sha256}"
