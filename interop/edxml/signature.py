"""The organisation's XML signature of an edXML package (XML-DSig in ``edXML:Signature``).

**What is signed.** One enveloped XML-DSig signature (``ds:Signature``) inside the header's
``edXML:Signature`` (DOMAIN.md §7), with a single ``Reference URI=""``: the whole package, header,
manifest and the base64 attachments, minus the signature itself (transforms: enveloped-signature,
then Canonical XML 1.0). Signature method RSA-SHA256 (PKCS#1 v1.5; ECDSA-SHA256 for EC keys,
RSA-PSS only for a back-end set up for nothing else), digest SHA-256, the signing certificate
and its CA certificates (not the root) in ``KeyInfo/X509Data``. Every common XML-DSig
implementation (xmlsec1, Apache Santuario, .NET ``SignedXml``) verifies that shape.

**Signing** goes through :class:`PackageSigner`, a certificate and a callback that performs one
private-key operation over the canonical ``SignedInfo``: the key stays in its back-end
(:meth:`signing.KeySigner.sign_bytes`: in memory for a PKCS#12 seal, a token or remote service
otherwise).

**Verifying** (:func:`verify_package_signature`) never raises for a bad signature; it reports:

* ``unsigned``  no ``ds:Signature`` anywhere (other systems may not sign): accepted;
* ``invalid``   the content changed after signing, the value does not match the certificate's
  key, the signature is malformed, the certificate is revoked, or a trusted certificate names
  another organisation than the package's ``From``: the caller refuses the package;
* ``untrusted`` the signature matches but the certificate does not chain to the configured
  roots (or is expired, not yet valid, not for signing), no roots are configured, its algorithm
  is not accepted (SHA-1), it covers only part of the package, or the certificate cannot be tied
  to the sender: accepted and shown with the reason;
* ``valid``     everything above holds.

**Sender rule.** The certificate belongs to the ``From`` organisation when one of its subject's
identifier codes (``organizationIdentifier``, or a ``UID``/``serialNumber``/``OU`` holding an
identifier code of the national format) equals ``From/OrganId``; when the certificate carries no
identifier code, when its ``O`` or ``CN`` equals ``From/OrganName`` (case, accents and spacing
ignored). A certificate with codes none of which is the sender's is another organisation's.

Parsing is hardened (no DTD, no entities, no network; huge text nodes allowed because the
attachments' base64 is one text node each: the package already passed the streaming reader's
limits). Certificate checks use only the configured trust (roots, intermediates, CRLs/OCSP given
in advance): nothing is fetched, no URL of the received certificate is followed. The whole
package is held in memory while signing or verifying (a few times its size).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any, Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.exceptions import InvalidDigest, InvalidSignature, SignXMLException
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from interop.edxml.codes import EDXML_NS, LEGACY_EDXML_NS
from interop.edxml.model import Organ
from interop.errors import EdxmlBuildError
from signing import CertificateError, KeySigner, TrustSettings, check_signing_certificate
from signing.errors import (
    CertificateExpiredError,
    CertificateKeyUsageError,
    CertificateNotYetValidError,
    CertificateRevokedError,
)
from signing.signers import SignatureAlgorithm

__all__ = [
    "DS_NS",
    "PackageSignatureReport",
    "PackageSigner",
    "SignatureStatus",
    "contains_signature",
    "sign_package_bytes",
    "verify_package_signature",
]

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_CODE_IN_TEXT = re.compile(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}")

# rsa-sha256 first: what every verifier knows (xmlsec1 before 1.3 has no RSA-PSS).
_PREFERRED: tuple[SignatureAlgorithm, ...] = (
    "rsassa_pkcs1v15_sha256",
    "ecdsa_sha256",
    "rsassa_pss_sha256",
)
_XML_METHOD: dict[SignatureAlgorithm, SignatureMethod] = {
    "rsassa_pkcs1v15_sha256": SignatureMethod.RSA_SHA256,
    "ecdsa_sha256": SignatureMethod.ECDSA_SHA256,
    "rsassa_pss_sha256": SignatureMethod.SHA256_RSA_MGF1,
}
_ACCEPTED_METHODS = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
        SignatureMethod.SHA256_RSA_MGF1,
        SignatureMethod.SHA384_RSA_MGF1,
        SignatureMethod.SHA512_RSA_MGF1,
    }
)
_ACCEPTED_DIGESTS = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)


def hardened_parser() -> etree.XMLParser:
    """No DTD, no entities, no network; huge text nodes (one base64 attachment each)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=True,
    )


# --- signing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageSigner:
    """A seal as XML-DSig needs it: the certificate and CA chain for ``KeyInfo``, the algorithm,
    and ``sign``: one private-key operation over the given bytes (SHA-256 inside; ECDSA
    signatures DER-encoded), wherever the key lives."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    algorithm: SignatureAlgorithm
    sign: Callable[[bytes], bytes] = field(repr=False)

    @classmethod
    def of(cls, key: KeySigner) -> PackageSigner:
        """The signer of a :class:`signing.KeySigner` (PKCS#12, PKCS#11, remote service)."""
        algorithm = next((a for a in _PREFERRED if a in key.raw_algorithms), key.algorithm)
        certificate = x509.load_der_x509_certificate(key.certificate.dump())
        chain = tuple(
            x509.load_der_x509_certificate(c.dump())
            for c in key.chain
            if c.subject != c.issuer and c.dump() != key.certificate.dump()
        )

        def sign(data: bytes) -> bytes:
            return key.sign_bytes(data, algorithm)

        return cls(certificate, chain, algorithm, sign)


class _CallbackKey:
    """What signxml calls ``key``: ``sign`` goes to the callback, the key never comes here."""

    def __init__(self, signer: PackageSigner) -> None:
        self._signer = signer
        public = signer.certificate.public_key()
        if not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            raise EdxmlBuildError("Chứng thư của con dấu không dùng khóa RSA/ECDSA.")
        self._public = public
        self.key_size = public.key_size
        self.curve = public.curve if isinstance(public, ec.EllipticCurvePublicKey) else None

    def public_key(self) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
        return self._public

    def sign(self, data: bytes, *args: object, **kwargs: object) -> bytes:
        # signxml asks for the padding/hash of the SignatureMethod chosen from the same algorithm
        return self._signer.sign(data)


def _signature_holder(root: etree._Element) -> etree._Element | None:
    """The header's ``edXML:Signature`` (documented layout, or the envelope as the root)."""
    for ns in (EDXML_NS, *LEGACY_EDXML_NS):
        for path in (
            f"{{{ns}}}edXMLEnvelope/{{{ns}}}edXMLHeader/{{{ns}}}Signature",
            f"{{{ns}}}edXMLHeader/{{{ns}}}Signature",
        ):
            found = root.find(path)
            if found is not None:
                return found
    return None


def sign_package_bytes(unsigned: bytes, signer: PackageSigner) -> bytes:
    """The package with the seal's signature in ``edXML:Signature`` (replacing what was there).

    The same package and key give the same bytes (RSA PKCS#1 v1.5 is deterministic).
    """
    root = etree.fromstring(unsigned, parser=hardened_parser())
    holder = _signature_holder(root)
    if holder is None:
        raise EdxmlBuildError("Gói tin không có phần tử edXML:Signature để đặt chữ ký số.")
    for child in list(holder):
        holder.remove(child)
    holder.text = None
    # signxml replaces the placeholder by the signature and leaves it out of the digest.
    etree.SubElement(holder, f"{{{DS_NS}}}Signature", Id="placeholder", nsmap={"ds": DS_NS})
    xml_signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=_XML_METHOD[signer.algorithm],
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    # signxml copies the document through its parser: ours, for the attachments' huge text nodes.
    xml_signer._parser = hardened_parser()
    key: Any = _CallbackKey(signer)
    signed = xml_signer.sign(root, key=key, cert=[signer.certificate, *signer.chain])
    out: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return out


# --- verifying --------------------------------------------------------------------------------


class SignatureStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNTRUSTED = "untrusted"
    UNSIGNED = "unsigned"


STATUS_LABELS = {
    SignatureStatus.VALID: "Chữ ký số của gói tin hợp lệ",
    SignatureStatus.INVALID: "Chữ ký số của gói tin không hợp lệ",
    SignatureStatus.UNTRUSTED: "Chữ ký số của gói tin chưa được tin cậy",
    SignatureStatus.UNSIGNED: "Gói tin không có chữ ký số",
}


@dataclass(frozen=True)
class PackageSignatureReport:
    """The result of checking a received package's signature (see the module docstring).

    ``reasons`` are Vietnamese sentences (empty when valid); ``signer``/``certificate`` describe
    the signing certificate as found in the package (what it claims, even when not trusted);
    ``coverage`` is ``package`` (the whole package) or ``part``; ``sender_match`` how the
    certificate was tied to ``From`` (``code``, ``name``) or None.
    """

    status: SignatureStatus
    reasons: tuple[str, ...] = ()
    signer_name: str | None = None
    signer_organization: str | None = None
    signer_organization_code: str | None = None
    certificate_serial: str | None = None
    certificate_issuer: str | None = None
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    algorithm: str | None = None
    coverage: Literal["package", "part"] | None = None
    sender_match: Literal["code", "name"] | None = None
    checked_at: dt.datetime | None = None

    @property
    def refused(self) -> bool:
        return self.status is SignatureStatus.INVALID

    @property
    def reason(self) -> str:
        return " ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """JSON for the stored field and the API (``package_signature``)."""
        certificate = None
        if self.certificate_serial is not None:
            certificate = {
                "serial": self.certificate_serial,
                "issuer": self.certificate_issuer,
                "not_before": self.not_before.isoformat() if self.not_before else None,
                "not_after": self.not_after.isoformat() if self.not_after else None,
            }
        signer = None
        if self.signer_name is not None or self.signer_organization is not None:
            signer = {
                "name": self.signer_name,
                "organization": self.signer_organization,
                "organization_code": self.signer_organization_code,
            }
        return {
            "status": str(self.status),
            "label": STATUS_LABELS[self.status],
            "reason": self.reason,
            "signer": signer,
            "certificate": certificate,
            "algorithm": self.algorithm,
            "coverage": self.coverage,
            "sender_match": self.sender_match,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
        }


class _FoundSignature(Exception):
    pass


class _SignatureFinder:
    """Parser target that stops at the first ``ds:Signature`` start tag."""

    def start(self, tag: str, attrib: object, nsmap: object = None) -> None:
        if tag == f"{{{DS_NS}}}Signature":
            raise _FoundSignature

    def close(self) -> None:
        return None


def contains_signature(stream: IO[bytes]) -> bool:
    """Whether a package holds a ``ds:Signature`` anywhere, read in chunks (memory stays flat
    whatever the attachments' size). The stream must already have passed the hardened reader."""
    parser = etree.XMLParser(
        target=_SignatureFinder(),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    )
    try:
        while chunk := stream.read(256 * 1024):
            parser.feed(chunk)
        parser.close()
    except _FoundSignature:
        return True
    except etree.XMLSyntaxError:
        return True  # unreadable here: let the full check say why
    return False


def _report(status: SignatureStatus, *reasons: str, **fields: Any) -> PackageSignatureReport:
    return PackageSignatureReport(status, tuple(r for r in reasons if r), **fields)


def verify_package_signature(
    data: bytes,
    *,
    trust: TrustSettings | None,
    sender: Organ | None = None,
    at: dt.datetime | None = None,
) -> PackageSignatureReport:
    """Check the signature of a received package (its exact bytes); never raises for a bad one.

    ``trust`` None: no trust roots configured (the best result is then ``untrusted``). Nothing
    is fetched whatever ``trust`` allows. ``sender`` is the package's ``From``.
    """
    at = at or dt.datetime.now(dt.UTC)
    try:
        root = etree.fromstring(data, parser=hardened_parser())
    except etree.XMLSyntaxError:
        return _report(SignatureStatus.INVALID, "Không đọc được gói tin để kiểm tra chữ ký số.")
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return _report(SignatureStatus.INVALID, "Gói tin có khai báo DTD: không kiểm tra.")
    signatures = root.findall(f".//{{{DS_NS}}}Signature")
    if not signatures:
        return _report(SignatureStatus.UNSIGNED, checked_at=at)
    # The one in edXML:Signature where the layout puts it; else (the default placement of
    # most libraries: the last child of the root) the first one found.
    holder = _signature_holder(root)
    placed = [s for s in signatures if holder is not None and s.getparent() is holder]
    signature = (placed or signatures)[0]
    notes = []
    if len(signatures) > 1:
        notes.append(f"Gói tin có {len(signatures)} chữ ký; đã kiểm tra chữ ký trong phần đầu.")
    try:
        certificates = _certificates(signature)
    except ValueError:
        return _report(
            SignatureStatus.INVALID, "Chứng thư số trong chữ ký bị hỏng.", *notes, checked_at=at
        )
    method = signature.find(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}SignatureMethod")
    algorithm = method.get("Algorithm") if method is not None else None
    if not certificates:
        return _report(
            SignatureStatus.UNTRUSTED,
            "Chữ ký không kèm chứng thư số (X509Data): không xác định được người ký.",
            *notes,
            algorithm=algorithm,
            checked_at=at,
        )
    unsupported = _unsupported(signature, algorithm)
    if unsupported:
        return _report(
            SignatureStatus.UNTRUSTED,
            unsupported,
            *notes,
            algorithm=algorithm,
            checked_at=at,
            **_describe(certificates[0]),
        )
    leaf, problem = _verify_value(root, signature, certificates, at)
    described = _describe(leaf or certificates[0])
    if leaf is None:
        return _report(
            SignatureStatus.INVALID,
            problem,
            *notes,
            algorithm=algorithm,
            checked_at=at,
            **described,
        )
    coverage: Literal["package", "part"] = "package" if _covers_all(signature, root) else "part"
    others = [c for c in certificates if c is not leaf]
    status, reasons = SignatureStatus.VALID, list(notes)
    trusted, chain_problem, revoked = _chain(leaf, others, trust, at)
    match, sender_problem, other_org = _sender_binding(leaf, sender)
    if revoked or (other_org and trusted):
        status = SignatureStatus.INVALID
    elif not trusted or coverage == "part" or sender_problem:
        status = SignatureStatus.UNTRUSTED
    reasons[:0] = [chain_problem, sender_problem]
    if coverage == "part":
        reasons.append("Chữ ký chỉ bao phủ một phần gói tin (tệp đính kèm có thể bị thay).")
    return _report(
        status,
        *reasons,
        algorithm=algorithm,
        coverage=coverage,
        sender_match=match,
        checked_at=at,
        **described,
    )


def _certificates(signature: etree._Element) -> list[x509.Certificate]:
    out = []
    for element in signature.iterfind(
        f"{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"
    ):
        text = "".join((element.text or "").split())
        try:
            out.append(x509.load_der_x509_certificate(base64.b64decode(text, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise ValueError("bad certificate") from exc
    return out


def _unsupported(signature: etree._Element, algorithm: str | None) -> str:
    """Why this signature cannot be judged (weak or unknown algorithm), or ``""``."""
    known = {m.value: m for m in SignatureMethod}
    if algorithm is None or known.get(algorithm) not in _ACCEPTED_METHODS:
        return f"Thuật toán ký không được chấp nhận ({algorithm or 'không có'}): không kiểm tra."
    digests = {d.value: d for d in DigestAlgorithm}
    for method in signature.iterfind(
        f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference/{{{DS_NS}}}DigestMethod"
    ):
        name = method.get("Algorithm") or ""
        if digests.get(name) not in _ACCEPTED_DIGESTS:
            return f"Thuật toán băm không được chấp nhận ({name or 'không có'}): không kiểm tra."
    return ""


def _candidates(certificates: list[x509.Certificate]) -> list[x509.Certificate]:
    """The certificates in the order to try as the signer's: those issuing none of the others
    (the end-entity ones) first."""
    subjects_issued = {c.issuer for c in certificates if c.issuer != c.subject}
    leaves = [c for c in certificates if c.subject not in subjects_issued]
    return leaves + [c for c in certificates if c not in leaves]


def _location(signature: etree._Element) -> str:
    """signxml's path (relative to the root) of the element holding ``signature``."""
    steps = [a.tag for a in signature.iterancestors() if isinstance(a.tag, str)][:-1]
    return "./" + "".join(f"{tag}/" for tag in reversed(steps))


def _verify_value(
    root: etree._Element,
    signature: etree._Element,
    certificates: list[x509.Certificate],
    at: dt.datetime,
) -> tuple[x509.Certificate | None, str]:
    """(the certificate whose key verifies the signature, "") or (None, why not)."""
    problem = "Giá trị chữ ký không khớp với khóa công khai của chứng thư số."
    for certificate in _candidates(certificates):
        # Validity is judged with the chain below; signxml's own date check must not cut the
        # cryptographic check short, so it looks at a moment inside the validity period.
        moment = min(max(at, certificate.not_valid_before_utc), certificate.not_valid_after_utc)
        config = SignatureConfiguration(
            require_x509=True,
            location=_location(signature),
            expect_references=True,
            signature_methods=_ACCEPTED_METHODS,
            digest_algorithms=_ACCEPTED_DIGESTS,
            verification_time=moment,
            default_reference_c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0,
        )
        try:
            XMLVerifier().verify(
                root, x509_cert=certificate, parser=hardened_parser(), expect_config=config
            )
        except InvalidDigest:
            return None, "Nội dung gói tin đã bị thay đổi sau khi ký (mã băm không khớp)."
        except InvalidSignature:
            continue
        except (SignXMLException, ValueError, etree.LxmlError) as exc:
            return None, f"Chữ ký số của gói tin bị hỏng ({str(exc)[:120]})."
        return certificate, ""
    return None, problem


_ID_HOLDERS = "//*[@*[local-name() = 'Id' or local-name() = 'ID' or local-name() = 'id'] = $v]"


def _covers_all(signature: etree._Element, root: etree._Element) -> bool:
    """Whether a reference covers the whole package: ``URI=""``, or ``#id`` naming the root and
    nothing else. signxml resolves ``#id`` by trying ``Id``, then ``ID``, then ``id`` (any
    namespace); a root with ``ID="x"`` and a wrapped copy of another signed element with
    ``Id="x"`` inside would otherwise pass for a signature of the whole package."""
    for reference in signature.iterfind(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference"):
        uri = reference.get("URI")
        if uri == "":
            return True
        if uri and uri.startswith("#"):
            holders = root.xpath(_ID_HOLDERS, v=uri[1:])
            if isinstance(holders, list) and len(holders) == 1 and holders[0] is root:
                return True
    return False


def _chain(
    leaf: x509.Certificate,
    others: Iterable[x509.Certificate],
    trust: TrustSettings | None,
    at: dt.datetime,
) -> tuple[bool, str, bool]:
    """(trusted, why not, revoked): the configured trust only, nothing fetched."""
    if trust is None or not trust.roots:
        return (
            False,
            "Chưa cấu hình chứng thư gốc tin cậy: không xác minh được chứng thư số.",
            False,
        )
    offline = dataclasses.replace(trust, allow_fetching=False)
    asn1 = asn1_x509.Certificate.load(leaf.public_bytes(serialization.Encoding.DER))
    chain = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in others]
    try:
        check_signing_certificate(asn1, chain=chain, trust=offline, at=at)
    except CertificateRevokedError:
        return False, "Chứng thư số của chữ ký đã bị thu hồi.", True
    except CertificateExpiredError:
        return False, "Chứng thư số của chữ ký đã hết hạn.", False
    except CertificateNotYetValidError:
        return False, "Chứng thư số của chữ ký chưa đến thời hạn có hiệu lực.", False
    except CertificateKeyUsageError:
        return False, "Chứng thư số không được cấp cho mục đích ký số.", False
    except CertificateError:
        return (
            False,
            "Chứng thư số không xác minh được đến một chứng thư gốc tin cậy đã cấu hình.",
            False,
        )
    return True, "", False


def _attribute_values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def _certificate_codes(certificate: x509.Certificate) -> set[str]:
    """The organisation identifier codes a certificate's subject carries."""
    subject = certificate.subject
    codes = {
        v.strip().upper()
        for v in _attribute_values(subject, NameOID.ORGANIZATION_IDENTIFIER)
        if v.strip()
    }
    for oid in (
        NameOID.ORGANIZATION_IDENTIFIER,
        NameOID.USER_ID,
        NameOID.SERIAL_NUMBER,
        NameOID.ORGANIZATIONAL_UNIT_NAME,
    ):
        for value in _attribute_values(subject, oid):
            codes.update(_CODE_IN_TEXT.findall(value.upper()))
    return codes


def _fold(text: str) -> str:
    """Case, accents (đ too) and spacing ignored."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _sender_binding(
    certificate: x509.Certificate, sender: Organ | None
) -> tuple[Literal["code", "name"] | None, str, bool]:
    """(how the certificate is tied to ``From``, the problem if not, whether it is definitely
    another organisation's)."""
    if sender is None:
        return None, "", False
    codes = _certificate_codes(certificate)
    organ_id = sender.organ_id.strip().upper()
    if organ_id and organ_id in codes:
        return "code", "", False
    if codes:
        listed = ", ".join(sorted(codes))
        return (
            None,
            f"Chứng thư số thuộc cơ quan mã {listed}, không phải nơi gửi {sender.organ_id}.",
            True,
        )
    names = _attribute_values(certificate.subject, NameOID.ORGANIZATION_NAME)
    names += _attribute_values(certificate.subject, NameOID.COMMON_NAME)
    wanted = _fold(sender.organ_name)
    if wanted and any(_fold(n) == wanted for n in names):
        return "name", "", False
    return None, "Không xác định được chứng thư số thuộc cơ quan gửi gói tin.", False


def _describe(certificate: x509.Certificate) -> dict[str, Any]:
    subject = certificate.subject
    cn = _attribute_values(subject, NameOID.COMMON_NAME)
    org = _attribute_values(subject, NameOID.ORGANIZATION_NAME)
    codes = sorted(_certificate_codes(certificate))
    return {
        "signer_name": cn[0] if cn else None,
        "signer_organization": org[0] if org else None,
        "signer_organization_code": codes[0] if codes else None,
        "certificate_serial": format(certificate.serial_number, "x"),
        "certificate_issuer": certificate.issuer.rfc4514_string(),
        "not_before": certificate.not_valid_before_utc,
        "not_after": certificate.not_valid_after_utc,
    }
