"""The demo PKI's online services as pure functions: RFC 3161 TSA, RFC 6960 OCSP, CRLs, PKCS#12.

They read the PKI directory on every call (revocations included), hold no state, and do no I/O
beyond that, so the app can serve them from any process (see :mod:`signing.testpki.wsgi`) and the
signing code can call them in-process when the app would otherwise have to call itself over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from signing.errors import PkiError

from .pki import DemoPKI, PkiIdentity

__all__ = ["DemoTimeStamper", "crl_der", "export_user_p12", "ocsp_response", "tsa_response"]

_REASONS = {flag.name: flag for flag in x509.ReasonFlags}


class DemoTimeStamper(DummyTimeStamper):
    """An in-process RFC 3161 time-stamper backed by the demo TSA key (no HTTP round trip)."""

    def __init__(self, pki: DemoPKI) -> None:
        tsa = pki.tsa
        key_der = tsa.private_key().private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        super().__init__(
            tsa_cert=_asn1_cert(tsa),
            tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
            certs_to_embed=[_asn1_cert(pki.issuing)],  # type: ignore[arg-type]
        )


def tsa_response(pki: DemoPKI, request_der: bytes) -> bytes:
    """Answer a DER TimeStampReq with a granted DER TimeStampResp (or a rejection if malformed)."""
    try:
        req = tsp.TimeStampReq.load(request_der)
        req.native  # noqa: B018  (forces a full parse so garbage is rejected here)
    except (ValueError, TypeError):
        # RFC 3161 §2.4.2: a rejection carries only the status (asn1crypto's schema makes the
        # token mandatory, so the SEQUENCE is written by hand).
        status = tsp.PKIStatusInfo({"status": "rejection", "fail_info": {"bad_data_format"}})
        body: bytes = status.dump()
        return b"\x30" + _der_length(body) + body
    response = DemoTimeStamper(pki).request_tsa_response(req)
    return bytes(response.dump())


def ocsp_response(pki: DemoPKI, request_der: bytes, *, now: datetime | None = None) -> bytes:
    """Answer a DER OCSPRequest about certificates of the issuing CA, signed by the responder."""
    now = now or datetime.now(UTC)
    try:
        request = ocsp.load_der_ocsp_request(request_der)
    except ValueError:
        malformed = ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.MALFORMED_REQUEST
        )
        return malformed.public_bytes(serialization.Encoding.DER)
    issuing = pki.issuing.certificate
    algorithm = request.hash_algorithm
    name_hash, key_hash = _issuer_hashes(issuing, algorithm)
    if (request.issuer_name_hash, request.issuer_key_hash) != (name_hash, key_hash):
        unauthorized = ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.UNAUTHORIZED
        )
        return unauthorized.public_bytes(serialization.Encoding.DER)
    serial = request.serial_number
    revoked = pki.revocations().get(serial)
    known = pki.find_by_serial(serial) is not None
    status = ocsp.OCSPCertStatus.GOOD
    if revoked is not None:
        status = ocsp.OCSPCertStatus.REVOKED
    elif not known:
        status = ocsp.OCSPCertStatus.UNKNOWN
    responder = pki.ocsp_responder
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        issuer_name_hash=name_hash,
        issuer_key_hash=key_hash,
        serial_number=serial,
        algorithm=algorithm,
        cert_status=status,
        this_update=now - timedelta(minutes=1),
        next_update=now + timedelta(hours=12),
        revocation_time=revoked.revoked_at if revoked else None,
        revocation_reason=_REASONS.get(revoked.reason) if revoked else None,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder.certificate)
    builder = builder.certificates([responder.certificate])
    for ext in request.extensions:
        if isinstance(ext.value, x509.OCSPNonce):
            builder = builder.add_extension(ext.value, critical=False)
    response = builder.sign(responder.private_key(), hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def crl_der(
    pki: DemoPKI, ca: Literal["root", "issuing"] = "issuing", *, now: datetime | None = None
) -> bytes:
    """A CRL of ``ca`` listing what it revoked, valid from a minute ago for one day."""
    now = now or datetime.now(UTC)
    authority = pki.identity(ca)
    ski = authority.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + timedelta(days=1))
        # A monotonic CRL number without keeping a counter: seconds since the epoch.
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value),
            critical=False,
        )
    )
    for entry in pki.revocations().values():
        ident = pki.find_by_serial(entry.serial_number)
        if ident is None or ident.certificate.issuer != authority.certificate.subject:
            continue
        revoked = x509.RevokedCertificateBuilder().serial_number(entry.serial_number)
        revoked = revoked.revocation_date(entry.revoked_at)
        reason = _REASONS.get(entry.reason)
        if reason is not None:
            revoked = revoked.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    crl = builder.sign(authority.private_key(), hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


def export_user_p12(pki: DemoPKI, username: str, password: str) -> bytes:
    """The user's certificate, key and CA chain as a password-protected PKCS#12 (AES-256)."""
    if not password:
        raise PkiError("Cần mật khẩu để bảo vệ tệp PKCS#12.")
    ident = pki.user(username)
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password.encode("utf-8"))
    )
    return pkcs12.serialize_key_and_certificates(
        name=username.encode("utf-8"),
        key=ident.private_key(),
        cert=ident.certificate,
        cas=list(pki.chain()),
        encryption_algorithm=encryption,
    )


def _der_length(content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([size])
    encoded = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _issuer_hashes(
    issuer: x509.Certificate, algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    # RFC 6960 CertID: hash of the issuer's DER name and of its public key's BIT STRING contents.
    name_digest = hashes.Hash(algorithm)
    name_digest.update(issuer.subject.public_bytes())
    spki = asn1_keys.PublicKeyInfo.load(
        issuer.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    key_digest = hashes.Hash(algorithm)
    key_digest.update(bytes(spki["public_key"].contents[1:]))  # drop the unused-bits octet
    return name_digest.finalize(), key_digest.finalize()


def _asn1_cert(ident: PkiIdentity) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(ident.certificate_der)
