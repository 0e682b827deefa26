"""The S3 back-end through the ``minio`` SDK: MinIO in production, any S3 server elsewhere.

Uploads go from the local spool (known length) straight to the final key: the SDK sends parts in
parallel and an interrupted multipart upload never becomes a visible object. The HTTP pool has
short connect timeouts and few retries so that a dead or misconfigured server gives a clear error
within seconds instead of a hang.
"""

from __future__ import annotations

import io
import os
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import REPLACE, ComposeSource, CopySource
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError

from storage.backend import BlobInfo, BlobStream, SpoolFile
from storage.errors import (
    ObjectNotFoundError,
    RangeNotSatisfiableError,
    StorageAccessDeniedError,
    StorageError,
    StorageUnavailableError,
)

_DENIED = {
    "AccessDenied",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidToken",
    "ExpiredToken",
    "AllAccessDisabled",
}
_COPY_LIMIT = 5 * 1024**3  # largest single CopyObject S3 allows
PARALLEL_UPLOADS = 3


@dataclass(frozen=True, slots=True)
class S3Settings:
    """Where and how to reach the S3 server.

    Attributes:
        endpoint: ``host:port``.
        access_key, secret_key: credentials.
        bucket: the bucket holding every object.
        prefix: a name prefix inside the bucket ("" or ending in "/"), to share a bucket.
        secure: HTTPS when true.
        region: the bucket's region; None lets the SDK ask the server once.
        connect_timeout, read_timeout: seconds, per request attempt.
        retries: extra attempts after a connection error or a 5xx answer.
        ca_file: PEM bundle to verify the server's certificate (default: certifi's).
        spool_dir: where spools are kept (anonymous temporary files); None = system default.
    """

    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    prefix: str = ""
    secure: bool = True
    region: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 60.0
    retries: int = 2
    ca_file: str | None = None
    spool_dir: str | None = None

    def __repr__(self) -> str:  # never show the secret
        return f"S3Settings(endpoint={self.endpoint!r}, bucket={self.bucket!r})"


class S3Backend:
    """Blobs as objects of one S3 bucket (under an optional prefix).

    Objects up to ``precheck_above`` bytes are uploaded without asking first whether they exist:
    duplicates are rare, and a HEAD round trip costs about as much as sending a few hundred KB.
    Sending identical bytes again is harmless (same content; an encrypted object is
    self-contained) and refreshes the object's modification time, as the sweeper needs.
    """

    precheck_above = 4 * 1024 * 1024
    sync_spools = False  # spools are uploaded, then dropped

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        http = urllib3.PoolManager(
            num_pools=4,
            maxsize=PARALLEL_UPLOADS + 7,
            timeout=urllib3.Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
            retries=urllib3.Retry(
                total=settings.retries,
                backoff_factor=0.2,
                status_forcelist=(500, 502, 503, 504),
            ),
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.ca_file or certifi.where(),
        )
        # A forked worker (gunicorn, Celery prefork) must not share pooled sockets with its
        # parent: drop them in the child. A weak reference lets discarded stores go.
        pool = weakref.ref(http)
        os.register_at_fork(after_in_child=lambda: _clear(pool))
        self.client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            region=settings.region,
            http_client=http,
        )

    def describe(self) -> str:
        scheme = "https" if self.settings.secure else "http"
        return f"s3+{scheme}://{self.settings.endpoint}/{self.bucket}/{self.prefix}"

    def initialize(self) -> None:
        with _s3_errors():
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)

    def ping(self) -> None:
        with _s3_errors():
            exists = self.client.bucket_exists(self.bucket)
        if not exists:
            raise StorageUnavailableError(reason="bucket missing", bucket=self.bucket)

    def new_spool_file(self) -> tuple[int, str | None]:
        # Anonymous (O_TMPFILE on Linux): nothing is left behind even if the process is killed.
        with tempfile.TemporaryFile(dir=self.settings.spool_dir) as anonymous:
            return os.dup(anonymous.fileno()), None

    def store_spool(self, name: str, spool: SpoolFile, content_type: str) -> bool:
        with _s3_errors(), spool.open_stored() as data:
            self.client.put_object(
                self.bucket,
                self.prefix + name,
                data,
                spool.stored_size,
                content_type=content_type,
                num_parallel_uploads=PARALLEL_UPLOADS,
            )
        return True

    def write_small(self, name: str, data: bytes) -> None:
        with _s3_errors():
            self.client.put_object(self.bucket, self.prefix + name, io.BytesIO(data), len(data))

    def open_range(self, name: str, offset: int = 0, length: int | None = None) -> BlobStream:
        if length == 0:
            return _EmptyBlob()
        with _s3_errors():
            response = self.client.get_object(
                self.bucket, self.prefix + name, offset=offset, length=length or 0
            )
        return _HttpBlob(response)

    def stat(self, name: str) -> BlobInfo | None:
        try:
            with _s3_errors():
                obj = self.client.stat_object(self.bucket, self.prefix + name)
        except ObjectNotFoundError:
            return None
        return BlobInfo(name, obj.size or 0, _aware(obj.last_modified))

    def delete(self, name: str) -> None:
        with _s3_errors():
            self.client.remove_object(self.bucket, self.prefix + name)

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        with _s3_errors():
            for obj in self.client.list_objects(
                self.bucket, prefix=self.prefix + prefix, recursive=True
            ):
                full = obj.object_name or ""
                if obj.is_dir or not full.startswith(self.prefix):
                    continue
                yield BlobInfo(full[len(self.prefix) :], obj.size or 0, _aware(obj.last_modified))

    def touch(self, name: str) -> None:
        full = self.prefix + name
        with _s3_errors():
            current = self.client.stat_object(self.bucket, full)
            # S3 has no utime: a copy onto itself with new metadata gives a new Last-Modified
            # (a metadata-only operation on MinIO).
            metadata: dict[str, Any] = {
                "Content-Type": current.content_type or "application/octet-stream",
                "x-amz-meta-dhtn-touched": datetime.now(UTC).isoformat(),
            }
            if (current.size or 0) <= _COPY_LIMIT:
                self.client.copy_object(
                    self.bucket,
                    full,
                    CopySource(self.bucket, full),
                    metadata=metadata,
                    metadata_directive=REPLACE,
                )
            else:
                self.client.compose_object(
                    self.bucket, full, [ComposeSource(self.bucket, full)], metadata=metadata
                )

    def presigned_url(
        self, name: str, expires: timedelta, response_headers: Mapping[str, str]
    ) -> str | None:
        with _s3_errors():
            url: str = self.client.presigned_get_object(
                self.bucket,
                self.prefix + name,
                expires=expires,
                response_headers=dict(response_headers),
            )
        return url

    def sweep_litter(self, older_than: datetime) -> int:
        # Spools are anonymous files. Interrupted multipart uploads are invisible and expire on
        # the server (MinIO: api stale_uploads_expiry, 24 h by default; elsewhere a lifecycle
        # rule AbortIncompleteMultipartUpload).
        return 0


class _HttpBlob(BlobStream):
    def __init__(self, response: Any) -> None:
        super().__init__()
        self._response = response
        content_range = response.headers.get("content-range")
        if content_range and "/" in content_range:
            self.total_size = int(content_range.rsplit("/", 1)[1])
        else:
            self.total_size = int(response.headers.get("content-length") or 0)

    def read(self, size: int = -1, /) -> bytes:
        with _s3_errors():
            data: bytes = self._response.read(None if size is None or size < 0 else size)
        return data

    def close(self) -> None:
        if not self.closed:
            self._response.close()
            self._response.release_conn()
        super().close()


class _EmptyBlob(BlobStream):
    def read(self, size: int = -1, /) -> bytes:
        return b""


def _clear(pool: weakref.ref[urllib3.PoolManager]) -> None:
    manager = pool()
    if manager is not None:
        manager.clear()


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def _s3_errors() -> Iterator[None]:
    """Translate the SDK's and urllib3's failures into storage errors."""
    try:
        yield
    except StorageError:
        raise
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject"):
            raise ObjectNotFoundError() from exc
        if exc.code == "InvalidRange":
            raise RangeNotSatisfiableError() from exc
        if exc.code in _DENIED:
            raise StorageAccessDeniedError(server_code=exc.code) from exc
        if exc.code == "NoSuchBucket":
            raise StorageUnavailableError(reason="bucket missing") from exc
        raise StorageUnavailableError(server_code=exc.code) from exc
    except (ServerError, InvalidResponseError) as exc:
        raise StorageUnavailableError(reason=type(exc).__name__) from exc
    except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise StorageUnavailableError(reason=type(exc).__name__) from exc
