"""Master keys: the :class:`KeyWrapper` protocol and a key-file implementation.

Each object is encrypted with its own random data key; a master key only wraps (encrypts) data
keys. :class:`KeyWrapper` is the seam for an HSM: an implementation that calls ``C_WrapKey`` /
``C_UnwrapKey`` (``CKM_AES_KEY_WRAP``) on a PKCS#11 token satisfies it without touching storage.

The key file (``DHTN_MASTER_KEY_FILE``) is text, one key a line: ``<key id> <base64 of 32
bytes>``. The first key is the current one (it wraps new data keys); the following ones are kept
only to unwrap data keys that have not been re-wrapped yet. Rotation = :func:`rotate_key_file`
(a new current key), then ``storage.rewrap_store`` (re-wraps every data key, content untouched),
then :func:`retire_key` for the old key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from storage.errors import ConfigurationError, MasterKeyError

MASTER_KEY_BYTES = 32
_HEADER = "# DHTN master keys. First line: current key. Others: only unwrap. Keep secret (0600).\n"


@runtime_checkable
class KeyWrapper(Protocol):
    """Wraps and unwraps per-object data keys with a master key that never leaves it."""

    @property
    def current_key_id(self) -> str:
        """Id of the master key that :meth:`wrap` uses (recorded next to each wrapped key)."""
        ...

    def wrap(self, data_key: bytes) -> bytes:
        """Wrap ``data_key`` with the current master key."""
        ...

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        """Unwrap with master key ``key_id``; raise :class:`MasterKeyError` if it cannot."""
        ...


class FileKeyWrapper:
    """AES-256 key wrap (RFC 3394) with master keys read from a key file."""

    def __init__(self, keys: dict[str, bytes], current_key_id: str) -> None:
        if current_key_id not in keys:
            raise ConfigurationError("Khóa chủ hiện hành không có trong tệp khóa.")
        for key_id, key in keys.items():
            if len(key) != MASTER_KEY_BYTES:
                raise ConfigurationError(f"Khóa chủ {key_id} phải dài {MASTER_KEY_BYTES} byte.")
        self._keys = dict(keys)
        self._current = current_key_id

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> FileKeyWrapper:
        """Load the key file at ``path``."""
        keys = _read_key_file(Path(path))
        return cls(dict(keys), keys[0][0])

    @property
    def current_key_id(self) -> str:
        return self._current

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every master key id this wrapper can unwrap with, current first."""
        return (self._current, *(k for k in self._keys if k != self._current))

    def wrap(self, data_key: bytes) -> bytes:
        return aes_key_wrap(self._keys[self._current], data_key)

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            raise MasterKeyError(key_id=key_id)
        try:
            return aes_key_unwrap(key, wrapped)
        except InvalidUnwrap as exc:
            raise MasterKeyError("Khóa chủ không mở được khóa dữ liệu.", key_id=key_id) from exc

    def __repr__(self) -> str:  # never show key material
        return f"FileKeyWrapper(current={self._current!r}, keys={len(self._keys)})"


def create_key_file(path: str | os.PathLike[str]) -> str:
    """Create a key file with one fresh master key; return its id. Refuse to overwrite."""
    target = Path(path)
    key_id = _new_key_id()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigurationError("Tệp khóa chủ đã tồn tại.", path=str(target)) from exc
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(_HEADER + _line(key_id, secrets.token_bytes(MASTER_KEY_BYTES)))
        out.flush()
        os.fsync(out.fileno())
    _fsync_dir(target.parent)
    return key_id


def rotate_key_file(path: str | os.PathLike[str]) -> str:
    """Add a fresh master key as the current one (old keys stay, to unwrap); return its id."""
    target = Path(path)
    keys = _read_key_file(target)
    key_id = _new_key_id()
    _write_key_file(target, [(key_id, secrets.token_bytes(MASTER_KEY_BYTES)), *keys])
    return key_id


def retire_key(path: str | os.PathLike[str], key_id: str) -> None:
    """Remove master key ``key_id`` (after a rewrap); the current key cannot be retired."""
    target = Path(path)
    keys = _read_key_file(target)
    if keys[0][0] == key_id:
        raise ConfigurationError("Không thể loại bỏ khóa chủ hiện hành.", key_id=key_id)
    remaining = [(kid, key) for kid, key in keys if kid != key_id]
    if len(remaining) == len(keys):
        raise ConfigurationError("Không có khóa chủ này trong tệp khóa.", key_id=key_id)
    _write_key_file(target, remaining)


def _new_key_id() -> str:
    # Date first so an operator can tell old from new; the random tail keeps ids unique.
    return f"mk-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


def _line(key_id: str, key: bytes) -> str:
    return f"{key_id} {base64.b64encode(key).decode('ascii')}\n"


def _read_key_file(path: Path) -> list[tuple[str, bytes]]:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError("Không đọc được tệp khóa chủ.", path=str(path)) from exc
    keys: list[tuple[str, bytes]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError
            key = base64.b64decode(parts[1], validate=True)
        except (ValueError, binascii.Error) as exc:
            raise ConfigurationError("Tệp khóa chủ sai định dạng.", line=number) from exc
        if len(key) != MASTER_KEY_BYTES or any(parts[0] == kid for kid, _ in keys):
            raise ConfigurationError("Tệp khóa chủ sai định dạng.", line=number)
        keys.append((parts[0], key))
    if not keys:
        raise ConfigurationError("Tệp khóa chủ không có khóa nào.", path=str(path))
    return keys


def _write_key_file(path: Path, keys: list[tuple[str, bytes]]) -> None:
    # Replace atomically: a crash must leave either the old or the new file, never half of one.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(_HEADER + "".join(_line(kid, key) for kid, key in keys))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
