"""X.509 profiles of the demo PKI: names, keys, CA and end-entity certificate templates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from signing.errors import PkiError

if TYPE_CHECKING:
    from .pki import DemoPKI, KeyType, PrivateKey, PublicKey


def new_key(key_type: KeyType) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def subject_name(
    common_name: str, organization: str, *, uid: str | None = None, org_code: str | None = None
) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ]
    if org_code is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, org_code))
    if uid is not None:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def crl_distribution_points(base_url: str, ca: str) -> x509.CRLDistributionPoints:
    url = f"{base_url}/crl/{ca}.crl"
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


def authority_info_access(
    base_url: str, issuer: str, *, ocsp: bool
) -> x509.AuthorityInformationAccess:
    descriptions = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(f"{base_url}/certs/{issuer}.cer"),
        )
    ]
    if ocsp:
        descriptions.insert(
            0,
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(f"{base_url}/ocsp"),
            ),
        )
    return x509.AuthorityInformationAccess(descriptions)


def ca_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: PublicKey,
    now: datetime,
    *,
    years: int,
    path_length: int,
) -> x509.CertificateBuilder:
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage_extension(ca=True), critical=True)
        .add_extension(ski, critical=False)
    )
    return builder


def key_usage_extension(*, ca: bool = False, encipherment: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca and not encipherment,
        content_commitment=not ca and not encipherment,
        key_encipherment=encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def leaf_builder(
    pki: DemoPKI,
    subject: x509.Name,
    public_key: PublicKey,
    not_before: datetime,
    not_after: datetime | None = None,
    *,
    ocsp: bool = True,
    key_usage: Literal["signing", "encipherment"] = "signing",
) -> x509.CertificateBuilder:
    issuing = pki.identities.get("issuing")
    if issuing is None:
        raise PkiError("PKI thử nghiệm chưa có CA cấp chứng thư.")
    issuer_cert = issuing.certificate
    start = not_before - timedelta(minutes=5) if not_after is None else not_before
    end = not_after or not_before + timedelta(days=730)
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
        issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage_extension(encipherment=key_usage == "encipherment"), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(aki, critical=False)
        .add_extension(crl_distribution_points(pki.base_url, "issuing"), critical=False)
        .add_extension(authority_info_access(pki.base_url, "issuing", ocsp=ocsp), critical=False)
    )
