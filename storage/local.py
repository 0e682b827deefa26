"""The filesystem back-end (the embedded profile's default): blobs are files under one root.

Durability: a blob is written to a temporary file in ``<root>/.staging``, fsynced, then linked to
its final name and the directory fsynced, so after a crash a name holds either nothing or the
whole blob. ``link`` (unlike ``rename``) fails when the name exists, so a stored object is never
overwritten, not even by a racing upload of the same bytes.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.backend import BlobInfo, BlobStream, SpoolFile
from storage.errors import (
    ConfigurationError,
    InvalidKeyError,
    ObjectNotFoundError,
    StorageError,
    StorageUnavailableError,
)
from storage.objects import ENCRYPTED_PREFIX, PLAIN_PREFIX

STAGING_DIR = ".staging"


class LocalBackend:
    """Blobs as files under ``root``."""

    # ``link`` refuses an existing name, which is the existence check: no lookup before.
    precheck_above = sys.maxsize
    sync_spools = True  # a spool becomes the stored file (by link)

    def __init__(self, root: str | os.PathLike[str]) -> None:
        path = Path(root)
        if not path.is_absolute():
            raise ConfigurationError("Thư mục kho lưu trữ phải là đường dẫn tuyệt đối.")
        self.root = Path(os.path.realpath(path))
        self._prefix = str(self.root) + "/"
        self.staging = self.root / STAGING_DIR

    def describe(self) -> str:
        return f"file://{self.root}"

    def initialize(self) -> None:
        # The fan-out directories are made once, here, so that an upload never has to create
        # (and fsync) one; ``_make_parents`` remains for a root initialised otherwise.
        with _io_errors():
            self.staging.mkdir(mode=0o700, parents=True, exist_ok=True)
            for scheme in (PLAIN_PREFIX, ENCRYPTED_PREFIX):
                top = self.root / scheme
                if (top / "ff").is_dir():
                    continue
                top.mkdir(mode=0o700, exist_ok=True)
                for fanout in range(256):
                    (top / f"{fanout:02x}").mkdir(mode=0o700, exist_ok=True)
                _fsync_dir(top)
            _fsync_dir(self.root)

    def ping(self) -> None:
        if not (self.staging.is_dir() and os.access(self.staging, os.W_OK | os.X_OK)):
            raise StorageUnavailableError(reason="storage directory missing or read-only")

    def new_spool_file(self) -> tuple[int, str | None]:
        with _io_errors():
            fd, path = tempfile.mkstemp(prefix="spool-", dir=self.staging)
        return fd, path

    def store_spool(self, name: str, spool: SpoolFile, content_type: str) -> bool:
        target = self._path(name)
        with _io_errors():
            if spool.path is None:
                raise StorageError(reason="local back-end needs a named spool")
            os.fsync(spool.fd)  # normally synced while it was hashed: cheap then
            self._make_parents(target)
            try:
                os.link(spool.path, target)
            except FileExistsError:
                return False
            _fsync_dir(target.parent)
        return True

    def write_small(self, name: str, data: bytes) -> None:
        target = self._path(name)
        with _io_errors():
            fd, tmp = tempfile.mkstemp(prefix="small-", dir=self.staging)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                self._make_parents(target)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(target.parent)

    def open_range(self, name: str, offset: int = 0, length: int | None = None) -> BlobStream:
        target = self._lexical_path(name)
        try:
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError as exc:
            raise ObjectNotFoundError() from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the name itself is a symlink
                raise InvalidKeyError(reason="not a key of this store") from exc
            raise StorageUnavailableError(reason=exc.strerror or "I/O error") from exc
        # Check where the open file really is (a directory on the way may be a symlink): after
        # the open, so nothing can be swapped between the check and the use.
        if not _opened_inside(fd, target, self._prefix):
            os.close(fd)
            raise InvalidKeyError(reason="not a key of this store")
        return _FileBlob(fd, offset, length)

    def stat(self, name: str) -> BlobInfo | None:
        try:
            st = os.stat(self._path(name), follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageUnavailableError(reason=exc.strerror or "I/O error") from exc
        return BlobInfo(name, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def delete(self, name: str) -> None:
        target = self._path(name)
        with _io_errors():
            try:
                target.unlink()
            except FileNotFoundError:
                return
            # Empty fan-out directories stay: removing one could race an upload linking into it.
            _fsync_dir(target.parent)

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        top = self.root / prefix.rstrip("/")
        for directory, dirs, files in os.walk(top, followlinks=False):
            dirs.sort()
            for filename in sorted(files):
                path = Path(directory) / filename
                try:
                    st = os.stat(path, follow_symlinks=False)
                except FileNotFoundError:
                    continue  # deleted while we walked
                name = path.relative_to(self.root).as_posix()
                yield BlobInfo(name, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def touch(self, name: str) -> None:
        with _io_errors():
            os.utime(self._path(name), follow_symlinks=False)

    def presigned_url(
        self, name: str, expires: timedelta, response_headers: Mapping[str, str]
    ) -> str | None:
        return None  # the application streams local files itself

    def sweep_litter(self, older_than: datetime) -> int:
        removed = 0
        cutoff = older_than.timestamp()
        with _io_errors():
            for entry in os.scandir(self.staging):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
        return removed

    def _lexical_path(self, name: str) -> str:
        # Names come from the content store's grammar already; refuse anything that would still
        # leave the root (or enter the staging area) in case a future caller forgets that.
        if not name or name.startswith(("/", STAGING_DIR)) or "\\" in name or "\0" in name:
            raise InvalidKeyError(reason="not a key of this store")
        if any(part in ("", ".", "..") for part in name.split("/")):
            raise InvalidKeyError(reason="not a key of this store")
        # A plain string join: this runs on every read, pathlib would double its cost.
        return self._prefix + name

    def _path(self, name: str) -> Path:
        """The path of ``name``, refused if a symlink on the way leads out of the root."""
        path = self._lexical_path(name)
        if not _inside(os.path.realpath(path), self._prefix):
            raise InvalidKeyError(reason="not a key of this store")
        return Path(path)

    def _make_parents(self, target: Path) -> None:
        missing: list[Path] = []
        parent = target.parent
        while not parent.is_dir():
            missing.append(parent)
            parent = parent.parent
        for directory in reversed(missing):
            try:
                directory.mkdir(mode=0o700)
            except FileExistsError:
                continue  # a concurrent upload made it
            _fsync_dir(directory.parent)


class _FileBlob(BlobStream):
    def __init__(self, fd: int, offset: int, length: int | None) -> None:
        super().__init__()
        self._fd = fd
        self.total_size = os.fstat(fd).st_size
        self._position = offset
        end = self.total_size if length is None else min(self.total_size, offset + length)
        self._remaining = max(0, end - offset)

    def read(self, size: int = -1, /) -> bytes:
        want = self._remaining if size is None or size < 0 else min(size, self._remaining)
        if want <= 0:
            return b""
        with _io_errors():
            data = os.pread(self._fd, want, self._position)
        self._position += len(data)
        self._remaining -= len(data)
        return data

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _inside(real_path: str, prefix: str) -> bool:
    return real_path.startswith(prefix)


def _opened_inside(fd: int, path: str, prefix: str) -> bool:
    try:
        real = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc (not Linux): resolve the path instead
        real = os.path.realpath(path)
    return _inside(real, prefix)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _io_errors() -> Iterator[None]:
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageUnavailableError("Kho lưu trữ tệp đã hết dung lượng.") from exc
        raise StorageUnavailableError(reason=exc.strerror or "I/O error") from exc
