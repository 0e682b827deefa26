"""The Decree 30 signing operations the app calls (DOMAIN.md §5-6), and archive refresh.

Order on an outgoing document: :func:`~signing.prepare.prepare_document` → :func:`sign_as_leader`
(certifies: afterwards only form filling and signatures are allowed) → :func:`issue_document`
(number and date filled, organisation seal signature, one revision). Attachments get
:func:`sign_attachment`; electronic copies of paper documents get :func:`certify_copy`.
:func:`extend_signatures` raises an already signed document to B-LT or B-LTA later, and renews
the archive timestamp of a B-LTA document.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.validation import DocumentSecurityStore, collect_validation_info
from pyhanko_certvalidator.path import ValidationPath

from .appearance import (
    AppearanceSpec,
    attachment_appearance,
    copy_appearance,
    leader_appearance,
    seal_appearance,
)
from .errors import SignatureFieldError
from .options import PadesLevel, SigningOptions
from .pdfio import open_reader
from .pipeline import SignRequest, sign_pdf, translate_pyhanko_errors
from .prepare import (
    FIELD_ATTACHMENT,
    FIELD_COPY,
    FIELD_DATE,
    FIELD_LEADER,
    FIELD_NUMBER,
    FIELD_ORGANIZATION,
    FieldBox,
    attachment_box,
    copy_box,
)
from .signers import KeySigner
from .trust import run_async

__all__ = [
    "attachment_request",
    "certify_copy",
    "copy_request",
    "extend_signatures",
    "issue_document",
    "issue_request",
    "leader_request",
    "sign_as_leader",
    "sign_attachment",
]


def leader_request(
    signature_image: bytes,
    *,
    certify: bool = True,
    reason: str = "Ký phê duyệt văn bản",
    location: str | None = None,
    signed_at: datetime | None = None,
) -> SignRequest:
    """The leader's personal signature in the prepared leader field, showing the signature image.

    With ``certify`` (the default) it is a certification signature allowing only form filling and
    further signatures afterwards, so any later change to the pages shows up in verification.
    """

    def appearance(width: float, height: float, _at: datetime) -> AppearanceSpec:
        return leader_appearance(signature_image, width, height)

    return SignRequest(
        FIELD_LEADER,
        appearance,
        certify=certify,
        reason=reason,
        location=location,
        signed_at=signed_at,
    )


def issue_request(
    *,
    number: str,
    date_text: str,
    seal_image: bytes,
    organization_name: str,
    reason: str = "Ký phát hành văn bản",
    location: str | None = None,
    signed_at: datetime | None = None,
) -> SignRequest:
    """Fill the number/notation and the place-and-date line, and apply the organisation's
    signature with its seal over the left third of the leader's, in one revision."""

    def appearance(width: float, height: float, at: datetime) -> AppearanceSpec:
        return seal_appearance(seal_image, organization_name, at, width, height)

    return SignRequest(
        FIELD_ORGANIZATION,
        appearance,
        fill={FIELD_NUMBER: number, FIELD_DATE: date_text},
        reason=reason,
        location=location,
        signed_at=signed_at,
    )


def attachment_request(
    pdf: bytes,
    *,
    main_notation: str,
    box: FieldBox | None = None,
    reason: str = "Ký phát hành tệp đính kèm",
    signed_at: datetime | None = None,
) -> SignRequest:
    """The organisation's signature on a separate attachment file: top right of page 1, no
    image, the main document's number/notation and the time in 10 pt."""

    def appearance(width: float, height: float, at: datetime) -> AppearanceSpec:
        return attachment_appearance(main_notation, at, width, height)

    return SignRequest(
        FIELD_ATTACHMENT,
        appearance,
        new_field=box or attachment_box(pdf),
        reason=reason,
        signed_at=signed_at,
    )


def copy_request(
    pdf: bytes,
    *,
    seal_image: bytes,
    organization_name: str,
    box: FieldBox | None = None,
    reason: str = "Sao y bản chính",
    signed_at: datetime | None = None,
) -> SignRequest:
    """SAO Y: the copying organisation signs an electronic copy of a paper document, top right
    of page 1, with its seal, "SAO Y", its name and the time."""

    def appearance(width: float, height: float, at: datetime) -> AppearanceSpec:
        return copy_appearance(seal_image, organization_name, at, width, height)

    return SignRequest(
        FIELD_COPY, appearance, new_field=box or copy_box(pdf), reason=reason, signed_at=signed_at
    )


def sign_as_leader(
    pdf: bytes,
    signer: KeySigner,
    *,
    signature_image: bytes,
    options: SigningOptions,
    certify: bool = True,
    reason: str = "Ký phê duyệt văn bản",
    location: str | None = None,
    signed_at: datetime | None = None,
) -> bytes:
    """Sign a prepared document as its leader (see :func:`leader_request`)."""
    request = leader_request(
        signature_image, certify=certify, reason=reason, location=location, signed_at=signed_at
    )
    return sign_pdf(pdf, signer, request, options)


def issue_document(
    pdf: bytes,
    signer: KeySigner,
    *,
    number: str,
    date_text: str,
    seal_image: bytes,
    organization_name: str,
    options: SigningOptions,
    reason: str = "Ký phát hành văn bản",
    location: str | None = None,
    signed_at: datetime | None = None,
) -> bytes:
    """Number, date and the organisation's signature (see :func:`issue_request`)."""
    request = issue_request(
        number=number,
        date_text=date_text,
        seal_image=seal_image,
        organization_name=organization_name,
        reason=reason,
        location=location,
        signed_at=signed_at,
    )
    return sign_pdf(pdf, signer, request, options)


def sign_attachment(
    pdf: bytes,
    signer: KeySigner,
    *,
    main_notation: str,
    options: SigningOptions,
    box: FieldBox | None = None,
    signed_at: datetime | None = None,
) -> bytes:
    """Sign an attachment file for the organisation (see :func:`attachment_request`)."""
    request = attachment_request(pdf, main_notation=main_notation, box=box, signed_at=signed_at)
    return sign_pdf(pdf, signer, request, options)


def certify_copy(
    pdf: bytes,
    signer: KeySigner,
    *,
    seal_image: bytes,
    organization_name: str,
    options: SigningOptions,
    box: FieldBox | None = None,
    signed_at: datetime | None = None,
) -> bytes:
    """Sign an electronic copy of a paper document (see :func:`copy_request`)."""
    request = copy_request(
        pdf,
        seal_image=seal_image,
        organization_name=organization_name,
        box=box,
        signed_at=signed_at,
    )
    return sign_pdf(pdf, signer, request, options)


def extend_signatures(
    pdf: bytes, options: SigningOptions, *, level: PadesLevel = PadesLevel.B_LTA
) -> bytes:
    """Raise every signature of a signed PDF to B-LT (DSS with certificates and revocation data)
    or B-LTA (plus a document timestamp). On a document that already ends with a document
    timestamp, B-LTA renews it (archive refresh): the DSS gets the revocation data of the last
    timestamp and a new timestamp covers everything. Adds incremental revisions only."""
    if not level.at_least(PadesLevel.B_LT):
        raise ValueError("extend_signatures only adds B-LT or B-LTA")
    reader = open_reader(pdf)
    signatures = reader.embedded_signatures
    if not signatures:
        raise SignatureFieldError("Văn bản chưa có chữ ký số nào để gia hạn.")
    context = options.require_trust().validation_context()
    timestamper = options.require_timestamper() if level == PadesLevel.B_LTA else None

    async def run() -> bytes:
        paths: list[ValidationPath] = []
        for embedded in signatures:
            collected = await collect_validation_info(embedded, context)
            paths.extend(collected)
        output = BytesIO(pdf)
        DocumentSecurityStore.add_dss(
            output_stream=output,
            sig_contents=None,
            paths=paths,
            validation_context=context,
            force_write=True,
            strict=False,
        )
        if timestamper is not None:
            writer = IncrementalPdfFileWriter(output, strict=False)
            await PdfTimeStamper(timestamper).async_timestamp_pdf(
                writer, "sha256", context, validation_paths=paths, in_place=True
            )
        return output.getvalue()

    with translate_pyhanko_errors():
        return run_async(run(), context)
