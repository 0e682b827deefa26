"""signing: PAdES signing and verification of PDFs (pyHanko).

Signer back-ends (PKCS#12, PKCS#11, two-phase external, remote CSC), the Decree 30 appearances
and verification reports. This package imports nothing else of DHTN's. The demo/test PKI is
:mod:`signing.testpki`, on top of the library (which never imports it).

The flow of an outgoing document (DOMAIN.md §5-6)::

    prepared = prepare_document(pdf, layout)                   # number/date fields, sig fields
    signed = sign_as_leader(prepared, leader, signature_image=png, options=opts)   # certifies
    issued = issue_document(signed, seal, number=..., date_text=..., seal_image=...,
                            organization_name=..., options=opts)   # fill + seal, one revision
    report = verify_pdf(issued, trust)                         # report.to_dict() is API.md §4

Keys the server never holds: :func:`prepare_external_signature` then
:func:`finish_external_signature` (API.md §3). Later: :func:`extend_signatures` (B-LT/B-LTA,
archive refresh). Errors: one hierarchy under :class:`SigningError`, each with a stable ``code``
and a Vietnamese ``message``.
"""

from .appearance import AppearanceSpec, ImageItem, TextItem, format_signing_time, mm
from .config import Pkcs12Config, SignerConfig, open_signer
from .csc import (
    CscConfig,
    CscCredential,
    CscKeySigner,
    CscProvider,
    fetch_credential,
    open_csc_signer,
    sign_hashes,
)
from .errors import (
    CertificateError,
    CertificateExpiredError,
    CertificateKeyUsageError,
    CertificateNotYetValidError,
    CertificateRevokedError,
    CertificateUntrustedError,
    InvalidDocumentError,
    PkiError,
    RemoteSigningAuthError,
    RemoteSigningTimeoutError,
    SignatureFieldError,
    SignatureValueError,
    SignerUnavailableError,
    SigningConfigError,
    SigningError,
    SigningSessionError,
    SigningSessionExpiredError,
    TimestampError,
    VerificationLimitError,
)
from .external import PreparedSignature, finish_external_signature, prepare_external_signature
from .fetching import FetchPolicy, PolicyFetcherBackend, PolicyTimeStamper
from .fonts import FontConfig
from .images import SEAL_DIAMETER_MM, render_seal_image, render_signature_image
from .operations import (
    attachment_request,
    certify_copy,
    copy_request,
    extend_signatures,
    issue_document,
    issue_request,
    leader_request,
    sign_as_leader,
    sign_attachment,
)
from .options import PadesLevel, SigningOptions
from .pipeline import SignRequest, sign_pdf
from .pkcs11 import Pkcs11Config, Pkcs11KeySigner, open_pkcs11_signer
from .prepare import (
    FIELD_ATTACHMENT,
    FIELD_COPY,
    FIELD_DATE,
    FIELD_LEADER,
    FIELD_NUMBER,
    FIELD_ORGANIZATION,
    DocumentLayout,
    FieldBox,
    format_issue_date,
    prepare_document,
    seal_box_for,
)
from .report import (
    CertificateInfo,
    Coverage,
    Modifications,
    Refusal,
    SignatureReport,
    SignerInfo,
    Summary,
    TimestampReport,
    VerificationReport,
)
from .samples import SampleDocument, make_sample_attachment, make_sample_document
from .signers import (
    KeySigner,
    LocalKeySigner,
    SignatureAlgorithm,
    load_pem_signer,
    load_pkcs12_signer,
)
from .trust import TrustSettings, check_signing_certificate, load_certificates
from .verify import VerificationLimits, verify_pdf

__all__ = [
    "FIELD_ATTACHMENT",
    "FIELD_COPY",
    "FIELD_DATE",
    "FIELD_LEADER",
    "FIELD_NUMBER",
    "FIELD_ORGANIZATION",
    "SEAL_DIAMETER_MM",
    "AppearanceSpec",
    "CertificateError",
    "CertificateExpiredError",
    "CertificateInfo",
    "CertificateKeyUsageError",
    "CertificateNotYetValidError",
    "CertificateRevokedError",
    "CertificateUntrustedError",
    "Coverage",
    "CscConfig",
    "CscCredential",
    "CscKeySigner",
    "CscProvider",
    "DocumentLayout",
    "FetchPolicy",
    "FieldBox",
    "FontConfig",
    "ImageItem",
    "InvalidDocumentError",
    "KeySigner",
    "LocalKeySigner",
    "Modifications",
    "PadesLevel",
    "Pkcs11Config",
    "Pkcs11KeySigner",
    "Pkcs12Config",
    "PkiError",
    "PolicyFetcherBackend",
    "PolicyTimeStamper",
    "PreparedSignature",
    "Refusal",
    "RemoteSigningAuthError",
    "RemoteSigningTimeoutError",
    "SampleDocument",
    "SignRequest",
    "SignatureAlgorithm",
    "SignatureFieldError",
    "SignatureReport",
    "SignatureValueError",
    "SignerConfig",
    "SignerInfo",
    "SignerUnavailableError",
    "SigningConfigError",
    "SigningError",
    "SigningOptions",
    "SigningSessionError",
    "SigningSessionExpiredError",
    "Summary",
    "TextItem",
    "TimestampError",
    "TimestampReport",
    "TrustSettings",
    "VerificationLimitError",
    "VerificationLimits",
    "VerificationReport",
    "attachment_request",
    "certify_copy",
    "check_signing_certificate",
    "copy_request",
    "extend_signatures",
    "fetch_credential",
    "finish_external_signature",
    "format_issue_date",
    "format_signing_time",
    "issue_document",
    "issue_request",
    "leader_request",
    "load_certificates",
    "load_pem_signer",
    "load_pkcs12_signer",
    "make_sample_attachment",
    "make_sample_document",
    "mm",
    "open_csc_signer",
    "open_pkcs11_signer",
    "open_signer",
    "prepare_document",
    "prepare_external_signature",
    "render_seal_image",
    "render_signature_image",
    "seal_box_for",
    "sign_as_leader",
    "sign_attachment",
    "sign_hashes",
    "sign_pdf",
    "verify_pdf",
]
