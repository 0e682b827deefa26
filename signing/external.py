# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Two-phase signing where the server never holds the key (USB token, SIM, remote service).

:func:`prepare_external_signature` writes the document in its final pre-signing state, builds the
CMS signed attributes and returns the exact bytes the key must sign (API.md §3), with an opaque
state to persist. Minutes may pass (a phone confirmation); then
:func:`finish_external_signature` checks the returned signature against the certificate, embeds
it (adding the signature timestamp for B-T and above, then DSS and document timestamp for
B-LT/B-LTA), and verifies the result before handing it back.

State format: ``DHTN-SIGNING-SESSION/1`` line, a JSON line, then the prepared PDF bytes. It holds
no secret (the key never came here) but must be stored as the server's own data: whoever can
change it can change what gets signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from asn1crypto.algos import DSASignature
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter, VisibleSigSettings
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import ExternalSigner, PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .appearance import AppearanceSpec, SpecStampStyle
from .errors import SignatureValueError, SigningSessionError, SigningSessionExpiredError
from .operations import extend_signatures
from .options import PadesLevel, SigningOptions
from .pdfio import open_incremental
from .pipeline import SignRequest, fill_text_fields, target_box, translate_pyhanko_errors
from .signers import (
    SignatureAlgorithm,
    default_algorithm,
    raw_signature_size,
    signature_mechanism,
    verify_raw_signature,
)
from .trust import TrustSettings, check_signing_certificate, load_certificates, run_async
from .verify import verify_pdf

__all__ = ["PreparedSignature", "finish_external_signature", "prepare_external_signature"]

_MAGIC = b"DHTN-SIGNING-SESSION/1\n"
DEFAULT_TTL = timedelta(minutes=15)


@dataclass(frozen=True)
class PreparedSignature:
    """What the client needs to sign, and the state the server keeps until it answers."""

    to_be_signed: bytes
    """The DER of the CMS signed attributes: exactly the bytes the key signs."""
    digest: bytes
    """SHA-256 of ``to_be_signed``, for tokens that sign a precomputed digest."""
    signature_algorithm: SignatureAlgorithm
    expires_at: datetime
    state: bytes
    """Opaque; persist it and pass it to :func:`finish_external_signature`."""


def prepare_external_signature(
    pdf: bytes,
    certificate: bytes,
    chain: Sequence[bytes],
    request: SignRequest,
    options: SigningOptions,
    *,
    prefer_pss: bool = True,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> PreparedSignature:
    """Phase one. ``certificate`` and ``chain`` are PEM or DER (the client's token supplies them)."""
    cert = load_certificates(certificate)[0]
    chain_certs = [c for blob in chain for c in load_certificates(blob)]
    signed_at = (request.signed_at or now or datetime.now(UTC)).replace(microsecond=0)
    if options.check_certificate:
        check_signing_certificate(cert, chain=chain_certs, trust=options.trust, at=signed_at)
    algorithm = default_algorithm(cert, prefer_pss=prefer_pss)
    writer = open_incremental(pdf)
    if request.fill:
        fill_text_fields(writer, request.fill, options.fonts)
    width, height = target_box(writer, request)
    spec = request.appearance(width, height, signed_at) if request.appearance else AppearanceSpec()
    registry = SimpleCertificateStore()
    registry.register_multiple(chain_certs)
    placeholder = ExternalSigner(
        cert, registry, bytes(raw_signature_size(cert)), signature_mechanism(algorithm)
    )
    field_spec = None
    if request.new_field is not None:
        x0, y0, x1, y1 = request.new_field.rect()
        field_spec = SigFieldSpec(
            request.field,
            on_page=request.new_field.page,
            box=(x0, y0, x1, y1),  # type: ignore[arg-type]
            visible_sig_settings=VisibleSigSettings(print_signature=True),
        )
    meta = PdfSignatureMetadata(
        field_name=request.field,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        certify=request.certify,
        docmdp_permissions=MDPPerm.FILL_FORMS,
        reason=request.reason,
        location=request.location,
    )
    # The timestamper only sizes the container here; the token is fetched at finish time.
    timestamper = options.get_timestamper()
    pdf_signer = PdfSigner(
        meta,
        placeholder,
        timestamper=timestamper,
        stamp_style=SpecStampStyle(spec=spec, fonts=options.fonts),
        new_field_spec=field_spec,
    )

    async def run() -> tuple[bytes, PreparedByteRangeDigest, cms.CMSAttributes]:
        session = pdf_signer.init_signing_session(
            writer, existing_fields_only=request.new_field is None
        )
        session.system_time = signed_at
        reserved = await session.estimate_signature_container_size(None, tight=False)
        # Room for a client whose ECDSA or PSS output is a little larger than our estimate.
        tbs = session.prepare_tbs_document(validation_info=None, bytes_reserved=reserved + 1024)
        digest, output = tbs.digest_tbs_document()
        attrs = await placeholder.signed_attrs(
            digest.document_digest,
            "sha256",
            attr_settings=PdfCMSSignedAttributes(signing_time=signed_at),
            use_pades=True,
        )
        output.seek(0)
        return output.read(), digest, attrs

    with translate_pyhanko_errors():
        prepared_pdf, digest, attrs = run_async(run())
    to_be_signed = bytes(attrs.dump())
    expires_at = (now or datetime.now(UTC)) + ttl
    header = {
        "expires_at": expires_at.isoformat(),
        "algorithm": algorithm,
        "level": options.level.value,
        "field": request.field,
        "certificate": _b64(cert.dump()),
        "chain": [_b64(c.dump()) for c in chain_certs],
        "signed_attrs": _b64(to_be_signed),
        "document_digest": _b64(digest.document_digest),
        "region": [digest.reserved_region_start, digest.reserved_region_end],
        "pdf_sha256": hashlib.sha256(prepared_pdf).hexdigest(),
    }
    state = _MAGIC + json.dumps(header).encode() + b"\n" + prepared_pdf
    return PreparedSignature(
        to_be_signed, hashlib.sha256(to_be_signed).digest(), algorithm, expires_at, state
    )


def finish_external_signature(
    state: bytes,
    raw_signature: bytes,
    options: SigningOptions,
    *,
    now: datetime | None = None,
) -> bytes:
    """Phase two: embed the client's raw signature and return the signed PDF.

    Refuses an expired session, a signature that does not verify against the certificate, and a
    result that does not verify as a whole. ECDSA signatures may come as DER or as raw r||s.
    """
    header, prepared_pdf = _parse_state(state)
    if (now or datetime.now(UTC)) > datetime.fromisoformat(header["expires_at"]):
        raise SigningSessionExpiredError(details={"expires_at": header["expires_at"]})
    algorithm: SignatureAlgorithm = header["algorithm"]
    cert = asn1_x509.Certificate.load(_unb64(header["certificate"]))
    chain = [asn1_x509.Certificate.load(_unb64(c)) for c in header["chain"]]
    signed_attrs = cms.CMSAttributes.load(_unb64(header["signed_attrs"]))
    if algorithm == "ecdsa_sha256" and len(raw_signature) == 64:
        raw_signature = DSASignature.from_p1363(raw_signature).dump()
    if not verify_raw_signature(cert, signed_attrs.dump(), raw_signature, algorithm):
        raise SignatureValueError()
    registry = SimpleCertificateStore()
    registry.register_multiple(chain)
    signer = ExternalSigner(cert, registry, raw_signature, signature_mechanism(algorithm))
    level = PadesLevel(header["level"])
    timestamper = SigningOptions(
        level=level, tsa_url=options.tsa_url, timestamper=options.timestamper
    ).get_timestamper()
    start, end = header["region"]
    digest = PreparedByteRangeDigest(_unb64(header["document_digest"]), start, end)

    async def run() -> bytes:
        signature_cms = await signer.async_sign_prescribed_attributes(
            "sha256", signed_attrs, timestamper=timestamper
        )
        output = BytesIO(prepared_pdf)
        await PdfTBSDocument.async_finish_signing(output, digest, signature_cms)
        return output.getvalue()

    with translate_pyhanko_errors():
        signed = run_async(run())
    if level.at_least(PadesLevel.B_LT):
        signed = extend_signatures(signed, options, level=level)
    _check_result(signed, header["field"], cert, chain, options.trust)
    return signed


def _check_result(
    pdf: bytes,
    field: str,
    cert: asn1_x509.Certificate,
    chain: list[asn1_x509.Certificate],
    trust: TrustSettings | None,
) -> None:
    # Without configured trust, still prove the bytes verify: trust the chain's own root.
    roots = [c.dump() for c in chain if c.self_signed != "no"] or [cert.dump()]
    report = verify_pdf(pdf, trust or TrustSettings(roots=tuple(roots), allow_fetching=False))
    ours = [sig for sig in report.signatures if sig.field_name == field]
    if not ours or not (ours[0].intact and ours[0].valid):
        raise SignatureValueError("Văn bản sau khi ký không xác minh được; chữ ký bị từ chối.")
    if trust is not None and not ours[0].trusted:
        raise SignatureValueError(
            "Chứng thư số không được tin cậy khi xác minh văn bản đã ký.",
            details={"problems": list(ours[0].problems)},
        )


def _parse_state(state: bytes) -> tuple[dict[str, Any], bytes]:
    if not state.startswith(_MAGIC):
        raise SigningSessionError()
    try:
        header_line, prepared_pdf = state[len(_MAGIC) :].split(b"\n", 1)
        header = json.loads(header_line)
    except ValueError as exc:
        raise SigningSessionError() from exc
    if hashlib.sha256(prepared_pdf).hexdigest() != header.get("pdf_sha256"):
        raise SigningSessionError("Dữ liệu phiên ký đã bị hỏng.")
    return header, prepared_pdf


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    return base64.b64decode(str(text))
