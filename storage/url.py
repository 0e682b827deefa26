"""``open_store``: a store from a ``DHTN_STORAGE_URL``."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from storage.errors import ConfigurationError
from storage.keyring import FileKeyWrapper, KeyWrapper
from storage.local import LocalBackend
from storage.s3 import S3Backend, S3Settings
from storage.store import ContentStore

_S3_OPTIONS = {"secure", "region", "ca_file"}


def open_store(
    url: str,
    *,
    master_key: KeyWrapper | str | os.PathLike[str] | None = None,
    encrypt: bool = False,
    spool_dir: str | os.PathLike[str] | None = None,
    connect_timeout: float = 3.0,
    read_timeout: float = 60.0,
    retries: int = 2,
    refresh_after: timedelta = timedelta(hours=1),
) -> ContentStore:
    """Build the store named by ``url``; no I/O happens until it is used.

    Args:
        url: ``file:///absolute/path`` or
            ``s3://KEY:SECRET@host:port/bucket[/prefix]?secure=false[&region=R][&ca_file=PEM]``
            (credentials percent-encoded).
        master_key: a :class:`KeyWrapper`, or the path of a key file; needed to encrypt and to
            read encrypted objects.
        encrypt: encrypt new objects at rest (the secret-network profile sets it).
        spool_dir: S3 only: where uploads are spooled (anonymous temporary files).
        connect_timeout, read_timeout, retries: S3 only: per-attempt timeouts in seconds, and
            extra attempts after a connection failure or a 5xx answer.
        refresh_after: see :class:`ContentStore`.

    Raises :class:`ConfigurationError` for an unusable URL or key file (the message never
    repeats the URL, which holds a secret).
    """
    wrapper: KeyWrapper | None
    if master_key is None or isinstance(master_key, KeyWrapper):
        wrapper = master_key
    else:
        wrapper = FileKeyWrapper.from_file(master_key)
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query:
            raise ConfigurationError("URL kho tệp dạng file:///đường/dẫn/tuyệt/đối.")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ConfigurationError("Thư mục kho lưu trữ phải là đường dẫn tuyệt đối.")
        backend: LocalBackend | S3Backend = LocalBackend(path)
    elif parts.scheme == "s3":
        backend = S3Backend(_s3_settings(url, spool_dir, connect_timeout, read_timeout, retries))
    else:
        raise ConfigurationError("URL kho tệp phải bắt đầu bằng file:// hoặc s3://.")
    return ContentStore(backend, key_wrapper=wrapper, encrypt=encrypt, refresh_after=refresh_after)


def _s3_settings(
    url: str,
    spool_dir: str | os.PathLike[str] | None,
    connect_timeout: float,
    read_timeout: float,
    retries: int,
) -> S3Settings:
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigurationError("Cổng máy chủ S3 không hợp lệ.") from exc
    if not host or parts.username is None or parts.password is None:
        raise ConfigurationError("URL S3 cần dạng s3://KHÓA:BÍ_MẬT@máy:cổng/bucket.")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not segments:
        raise ConfigurationError("URL S3 thiếu tên bucket.")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - _S3_OPTIONS
    if unknown:
        raise ConfigurationError("URL S3 có tham số không hỗ trợ.", options=sorted(unknown))
    options = {name: values[-1] for name, values in query.items()}
    secure_text = options.get("secure", "true").lower()
    if secure_text not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigurationError("Tham số secure phải là true hoặc false.")
    endpoint = f"[{host}]" if ":" in host else host
    if port is not None:
        endpoint = f"{endpoint}:{port}"
    return S3Settings(
        endpoint=endpoint,
        access_key=unquote(parts.username),
        secret_key=unquote(parts.password),
        bucket=segments[0],
        prefix="".join(f"{s}/" for s in segments[1:]),
        secure=secure_text in ("true", "1", "yes"),
        region=options.get("region") or None,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries=retries,
        ca_file=options.get("ca_file") or None,
        spool_dir=str(Path(spool_dir)) if spool_dir is not None else None,
    )
