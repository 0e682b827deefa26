"""A demo/test PKI generated at run time: root CA, issuing CA, TSA, OCSP responder, people, seals.

Nothing here is ever committed: keys are generated into a directory the caller owns (the app's
git-ignored data dir, or a pytest tmp dir). Generation is idempotent: what already exists in the
directory is reused, what is missing is added, so the demo seed can run many times. The
certificates' AIA and CRL distribution point URLs are built from ``base_url`` at generation time;
:func:`~signing.testpki.wsgi.make_pki_wsgi_app` serves them.

Names of entities in the directory: ``root``, ``issuing``, ``tsa``, ``ocsp``, ``user:<username>``,
``org:<code>`` and ``extra:<name>`` (test certificates such as an expired one).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing.errors import PkiError

from .profiles import (
    authority_info_access,
    ca_builder,
    crl_distribution_points,
    leaf_builder,
    new_key,
    subject_name,
)

__all__ = [
    "DEFAULT_PKI_BASE_URL",
    "DemoPKI",
    "KeyType",
    "OrgSpec",
    "PkiIdentity",
    "UserSpec",
    "generate_demo_pki",
    "load_demo_pki",
]

DEFAULT_PKI_BASE_URL = "http://127.0.0.1:5000/pki"
KeyType = Literal["rsa", "ec"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

_MANIFEST = "manifest.json"
_REVOCATIONS = "revocations.json"
# RFC 6960 §4.2.2.2.1: lets validators skip revocation checks of the responder's own certificate.
_OCSP_NOCHECK = x509.UnrecognizedExtension(
    x509.ObjectIdentifier("1.3.6.1.5.5.7.48.1.5"), b"\x05\x00"
)
_DEMO_MARK = "DHTN Demo (KHÔNG DÙNG THẬT)"


@dataclass(frozen=True)
class OrgSpec:
    """A demo organisation that gets a seal certificate. ``code`` is its identifier code."""

    code: str
    name: str


@dataclass(frozen=True)
class UserSpec:
    """A demo person (leader or clerk) that gets a personal signing certificate."""

    username: str
    full_name: str
    org_code: str
    key_type: KeyType = "rsa"


@dataclass(frozen=True)
class PkiIdentity:
    """One certificate of the demo PKI and where its private key lives.

    ``key_path`` is ``None`` for certificates whose key was generated elsewhere (a PKCS#11 token).
    """

    name: str
    certificate: x509.Certificate
    key_path: Path | None

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def serial_number(self) -> int:
        return self.certificate.serial_number

    def private_key(self) -> PrivateKey:
        """Load the private key (PKCS#8 PEM, unencrypted: demo keys only), once per key file
        (:data:`_LOADED_KEYS`)."""
        if self.key_path is None:
            raise PkiError(f"Khóa riêng của '{self.name}' không nằm trong thư mục PKI.")
        stat = self.key_path.stat()
        cache_key = (str(self.key_path.resolve()), stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cached = _LOADED_KEYS.get(cache_key)
        if cached is not None:
            return cached
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise PkiError(f"Kiểu khóa của '{self.name}' không được hỗ trợ.")
        _LOADED_KEYS[cache_key] = key
        return key


#: Private keys already loaded, by file (path, modification time, size, inode): loading an RSA
#: key checks it, about 35 ms each, and the demo trust signs two fresh CRLs for every
#: signature check, so that was three quarters of the background worker's CPU for received
#: PDFs in the load test (issue 19). A key file rewritten or replaced is loaded again.
_LOADED_KEYS: dict[tuple[str, int, int, int], PrivateKey] = {}


@dataclass(frozen=True)
class RevocationEntry:
    """A revoked certificate: when and why (an RFC 5280 reason name, e.g. ``key_compromise``)."""

    serial_number: int
    revoked_at: datetime
    reason: str


@dataclass(frozen=True)
class DemoPKI:
    """A loaded demo PKI. Methods that answer TSA/OCSP/CRL requests are pure functions of the files.

    Build it with :func:`generate_demo_pki` or :func:`load_demo_pki`.
    """

    directory: Path
    base_url: str
    identities: dict[str, PkiIdentity]

    # -- lookup -------------------------------------------------------------------------------
    def identity(self, name: str) -> PkiIdentity:
        try:
            return self.identities[name]
        except KeyError:
            raise PkiError(f"Không có chứng thư '{name}' trong PKI thử nghiệm.") from None

    def user(self, username: str) -> PkiIdentity:
        return self.identity(f"user:{username}")

    def organization(self, code: str) -> PkiIdentity:
        return self.identity(f"org:{code}")

    @property
    def root(self) -> PkiIdentity:
        return self.identity("root")

    @property
    def issuing(self) -> PkiIdentity:
        return self.identity("issuing")

    @property
    def tsa(self) -> PkiIdentity:
        return self.identity("tsa")

    @property
    def ocsp_responder(self) -> PkiIdentity:
        return self.identity("ocsp")

    def chain(self) -> tuple[x509.Certificate, ...]:
        """CA certificates a signer should embed next to its own (issuing CA, then root)."""
        return (self.issuing.certificate, self.root.certificate)

    def trust_roots_pem(self) -> bytes:
        """The demo root as a PEM bundle (what ``DHTN_TRUST_ROOTS`` would hold)."""
        return self.root.certificate.public_bytes(serialization.Encoding.PEM)

    def find_by_serial(self, serial: int) -> PkiIdentity | None:
        for ident in self.identities.values():
            if ident.serial_number == serial:
                return ident
        return None

    # -- revocation ---------------------------------------------------------------------------
    def revocations(self) -> dict[int, RevocationEntry]:
        path = self.directory / _REVOCATIONS
        if not path.exists():
            return {}
        raw = json.loads(path.read_text("utf-8"))
        return {
            int(serial, 16): RevocationEntry(
                int(serial, 16), datetime.fromisoformat(entry["at"]), entry["reason"]
            )
            for serial, entry in raw.items()
        }

    def revoke(
        self, name: str, *, reason: str = "key_compromise", at: datetime | None = None
    ) -> RevocationEntry:
        """Revoke a certificate issued by the issuing CA (seen at once by OCSP and the CRL)."""
        ident = self.identity(name)
        entry = RevocationEntry(ident.serial_number, at or datetime.now(UTC), reason)
        with _locked(self.directory):
            path = self.directory / _REVOCATIONS
            raw = json.loads(path.read_text("utf-8")) if path.exists() else {}
            raw[f"{entry.serial_number:x}"] = {"at": entry.revoked_at.isoformat(), "reason": reason}
            _write_private(path, json.dumps(raw, indent=2).encode())
        return entry

    # -- issuing extra certificates (tests, PKCS#11 tokens) -----------------------------------
    def issue_extra(
        self,
        name: str,
        *,
        common_name: str,
        organization: str,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key_type: KeyType = "rsa",
        public_key: PublicKey | None = None,
        key_usage: Literal["signing", "encipherment"] = "signing",
    ) -> PkiIdentity:
        """Issue (or re-issue) ``extra:<name>``: e.g. an expired certificate, or one for a key held
        in a token (pass ``public_key``; then no private key is written)."""
        now = datetime.now(UTC)
        start = not_before or now - timedelta(days=1)
        end = not_after or start + timedelta(days=730)
        key: PrivateKey | None = None
        if public_key is None:
            key = new_key(key_type)
            public_key = key.public_key()
        subject = subject_name(common_name, organization)
        builder = leaf_builder(self, subject, public_key, start, end, key_usage=key_usage)
        with _locked(self.directory):
            ident = _store(self.directory, f"extra:{name}", builder, self.issuing, key)
        self.identities[ident.name] = ident
        return ident

    # -- services (TSA, OCSP, CRL); implemented in pki_services ----------------------------
    def tsa_response(self, request_der: bytes) -> bytes:
        """Answer an RFC 3161 TimeStampReq (DER) with a TimeStampResp (DER)."""
        from .services import tsa_response

        return tsa_response(self, request_der)

    def ocsp_response(self, request_der: bytes) -> bytes:
        """Answer an RFC 6960 OCSPRequest (DER) with a signed OCSPResponse (DER)."""
        from .services import ocsp_response

        return ocsp_response(self, request_der)

    def crl(self, ca: Literal["root", "issuing"] = "issuing") -> bytes:
        """A fresh CRL (DER) of the given CA, valid for one day."""
        from .services import crl_der

        return crl_der(self, ca)


# -- generation ---------------------------------------------------------------------------------


def generate_demo_pki(
    directory: Path,
    *,
    organizations: Sequence[OrgSpec] = (),
    users: Sequence[UserSpec] = (),
    base_url: str = DEFAULT_PKI_BASE_URL,
    now: datetime | None = None,
) -> DemoPKI:
    """Create (or complete) the demo PKI in ``directory`` and load it.

    Idempotent: existing CAs, services and people are reused (their URLs keep the ``base_url`` of
    the first generation); missing organisations and users are issued. Users' ``org_code`` must
    name one of ``organizations`` or an organisation already in the directory.
    """
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        manifest = _read_manifest(directory)
        if manifest is None:
            manifest = {"version": 1, "base_url": base_url.rstrip("/"), "orgs": {}}
            _write_private(directory / _MANIFEST, json.dumps(manifest, indent=2).encode())
        pki = _load(directory, manifest)
        ident = pki.identities
        if "root" not in ident:
            key = new_key("rsa")
            subject = subject_name(f"{_DEMO_MARK} Root CA", _DEMO_MARK)
            b = ca_builder(subject, subject, key.public_key(), now, years=20, path_length=1)
            ident["root"] = _store(directory, "root", b, None, key)
        root = ident["root"]
        if "issuing" not in ident:
            key = new_key("rsa")
            subject = subject_name(f"{_DEMO_MARK} Issuing CA", _DEMO_MARK)
            b = ca_builder(
                subject, root.certificate.subject, key.public_key(), now, years=10, path_length=0
            )
            b = b.add_extension(crl_distribution_points(pki.base_url, "root"), critical=False)
            b = b.add_extension(
                authority_info_access(pki.base_url, "root", ocsp=False), critical=False
            )
            ident["issuing"] = _store(directory, "issuing", b, root, key)
        if "tsa" not in ident:
            key = new_key("rsa")
            b = leaf_builder(
                pki, subject_name(f"{_DEMO_MARK} TSA", _DEMO_MARK), key.public_key(), now
            )
            b = b.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
            ident["tsa"] = _store(directory, "tsa", b, ident["issuing"], key)
        if "ocsp" not in ident:
            key = new_key("rsa")
            b = leaf_builder(
                pki,
                subject_name(f"{_DEMO_MARK} OCSP", _DEMO_MARK),
                key.public_key(),
                now,
                ocsp=False,
            )
            b = b.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
            )
            b = b.add_extension(_OCSP_NOCHECK, critical=False)
            ident["ocsp"] = _store(directory, "ocsp", b, ident["issuing"], key)
        orgs = manifest["orgs"]
        assert isinstance(orgs, dict)
        for org in organizations:
            orgs.setdefault(org.code, org.name)
            if f"org:{org.code}" not in ident:
                key = new_key("rsa")
                subject = subject_name(org.name, org.name, org_code=org.code)
                b = leaf_builder(pki, subject, key.public_key(), now)
                ident[f"org:{org.code}"] = _store(
                    directory, f"org:{org.code}", b, ident["issuing"], key
                )
        for user in users:
            if user.org_code not in orgs:
                raise PkiError(
                    f"Người dùng '{user.username}' thuộc tổ chức chưa có: {user.org_code}"
                )
            if f"user:{user.username}" not in ident:
                key = new_key(user.key_type)
                subject = subject_name(user.full_name, orgs[user.org_code], uid=user.username)
                b = leaf_builder(pki, subject, key.public_key(), now)
                ident[f"user:{user.username}"] = _store(
                    directory, f"user:{user.username}", b, ident["issuing"], key
                )
        _write_private(directory / _MANIFEST, json.dumps(manifest, indent=2).encode())
    return load_demo_pki(directory)


def load_demo_pki(directory: Path) -> DemoPKI:
    """Load a demo PKI generated earlier; raises :class:`PkiError` if there is none."""
    manifest = _read_manifest(directory)
    if manifest is None:
        raise PkiError(f"Chưa có PKI thử nghiệm trong {directory}.")
    pki = _load(directory, manifest)
    for required in ("root", "issuing", "tsa", "ocsp"):
        pki.identity(required)
    return pki


# -- helpers ------------------------------------------------------------------------------------


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    # Several app processes may seed the demo at first start; one generates, the others wait.
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_manifest(directory: Path) -> dict[str, object] | None:
    path = directory / _MANIFEST
    if not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    if not isinstance(data, dict) or data.get("version") != 1:
        raise PkiError(f"Tệp {path} không phải manifest PKI thử nghiệm.")
    return data


def _file_stem(name: str) -> str:
    return name.replace(":", "__").replace("/", "_")


def _load(directory: Path, manifest: dict[str, object]) -> DemoPKI:
    identities: dict[str, PkiIdentity] = {}
    for cert_path in sorted((directory / "certs").glob("*.pem")):
        name = cert_path.stem.replace("__", ":")
        key_path = directory / "keys" / f"{cert_path.stem}.key"
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        identities[name] = PkiIdentity(name, cert, key_path if key_path.exists() else None)
    return DemoPKI(directory, str(manifest["base_url"]), identities)


def _write_private(path: Path, data: bytes) -> None:
    # Write-then-rename so a reader never sees half a file; keys are readable by the owner only.
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _store(
    directory: Path,
    name: str,
    builder: x509.CertificateBuilder,
    issuer: PkiIdentity | None,
    key: PrivateKey | None,
) -> PkiIdentity:
    signing_key = issuer.private_key() if issuer is not None else key
    assert signing_key is not None
    cert = builder.sign(signing_key, hashes.SHA256())
    stem = _file_stem(name)
    (directory / "certs").mkdir(exist_ok=True)
    (directory / "keys").mkdir(exist_ok=True, mode=0o700)
    key_path: Path | None = None
    if key is not None:
        key_path = directory / "keys" / f"{stem}.key"
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(key_path, pem)
    else:
        (directory / "keys" / f"{stem}.key").unlink(missing_ok=True)
    _write_private(
        directory / "certs" / f"{stem}.pem", cert.public_bytes(serialization.Encoding.PEM)
    )
    return PkiIdentity(name, cert, key_path)
