"""storage: the object store of DHTN.

One protocol, two back-ends (S3 through the ``minio`` SDK, and the local filesystem), content
addressing by SHA-256, streaming, integrity checks and encryption at rest. This package imports
nothing else of DHTN's: it is a library that could be published on its own.

Opening a store (the app's composition root, from ``DHTN_STORAGE_URL``)::

    store = open_store(url)                                   # file:///abs/path or s3://K:S@h:p/b
    store = open_store(url, master_key=path, encrypt=True)    # secret-network profile
    store.initialize()                                        # create the dir/bucket if missing
    store.ping()                                              # for /readyz; raises when unusable

Storing and reading (type against :class:`ObjectStore`)::

    ref = store.put(stream, "application/pdf")     # ObjectRef(key, sha256, size, content_type)
    with store.open(ref.key) as reader:            # ObjectReader: read(), iter_chunks()
        ...
    store.open(key, offset=100, length=50)         # byte range; open(key, verify=True) hashes
    store.stat(key) / store.exists(key) / store.delete(key) / store.list()
    store.download_url(key, filename="Tờ trình.pdf")   # presigned S3 URL, or None: stream it

The same bytes give the same key, so they are stored once. ``put`` and uploads read their input
once, to the end, into a spool (a temporary file, ciphertext when encrypting) while hashing;
memory stays flat whatever the size.

Uploads from people go through the checks, which store nothing unless everything passes::

    try:
        upload = store_upload(store, f.stream, f.filename, f.mimetype, UploadLimits())
    except UploadRefusedError as exc:   # exc.code, exc.http_status (413/415/422), exc.message
        ...
    upload.ref, upload.filename, upload.file_type  # ref.content_type is the detected type
    content_disposition(upload.filename)            # RFC 5987 header value for a download

The database side: record ``ref`` in the row *after* ``put`` returned and in the same
transaction as the rest; if it rolls back, the object is an orphan that
``sweep_orphans(store, grace=timedelta(days=1), is_referenced=...)`` removes later, never one that
is referenced. ``verify_store(store, referenced_keys, deep=False)`` reports missing, corrupted
(deep), orphaned and malformed keys (``dhtn storage verify``).

Encryption at rest: AES-256-GCM in 64 KiB authenticated segments, one data key per object,
wrapped by a master key (:class:`FileKeyWrapper` from ``DHTN_MASTER_KEY_FILE``, or any
:class:`KeyWrapper`, e.g. an HSM). Rotation: ``rotate_key_file(path)``, reopen the store,
``rewrap_store(store)``, then ``retire_key(path, old_id)``.

Errors: everything raised is a :class:`StorageError` with ``code``, ``http_status``,
``message`` (Vietnamese) and ``details``.
"""

from storage.checks import (
    DEFAULT_LIMITS,
    CheckedUpload,
    UploadLimits,
    check_upload,
    store_upload,
)
from storage.errors import (
    ConfigurationError,
    EmptyFileError,
    EncryptedPdfError,
    FileTooLargeError,
    FileTypeMismatchError,
    IntegrityError,
    InvalidKeyError,
    MalformedOfficeFileError,
    MalformedPdfError,
    MasterKeyError,
    ObjectNotFoundError,
    RangeNotSatisfiableError,
    StorageAccessDeniedError,
    StorageError,
    StorageUnavailableError,
    UnsupportedFileTypeError,
    UploadRefusedError,
    ZipBombError,
)
from storage.filenames import content_disposition, normalize_filename
from storage.filetypes import FileType
from storage.integrity import VerifyReport, verify_store
from storage.keyring import (
    FileKeyWrapper,
    KeyWrapper,
    create_key_file,
    retire_key,
    rotate_key_file,
)
from storage.objects import ObjectInfo, ObjectRef
from storage.readers import ObjectReader
from storage.rotation import RewrapReport, rewrap_store
from storage.spool import Spool
from storage.store import ContentStore, ObjectStore
from storage.sweeper import SweepReport, sweep_orphans
from storage.url import open_store

__all__ = [
    "DEFAULT_LIMITS",
    "CheckedUpload",
    "ConfigurationError",
    "ContentStore",
    "EmptyFileError",
    "EncryptedPdfError",
    "FileKeyWrapper",
    "FileTooLargeError",
    "FileType",
    "FileTypeMismatchError",
    "IntegrityError",
    "InvalidKeyError",
    "KeyWrapper",
    "MalformedOfficeFileError",
    "MalformedPdfError",
    "MasterKeyError",
    "ObjectInfo",
    "ObjectNotFoundError",
    "ObjectReader",
    "ObjectRef",
    "ObjectStore",
    "RangeNotSatisfiableError",
    "RewrapReport",
    "Spool",
    "StorageAccessDeniedError",
    "StorageError",
    "StorageUnavailableError",
    "SweepReport",
    "UnsupportedFileTypeError",
    "UploadLimits",
    "UploadRefusedError",
    "VerifyReport",
    "ZipBombError",
    "check_upload",
    "content_disposition",
    "create_key_file",
    "normalize_filename",
    "open_store",
    "retire_key",
    "rewrap_store",
    "rotate_key_file",
    "store_upload",
    "sweep_orphans",
    "verify_store",
]
