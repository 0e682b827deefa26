"""The signing pipeline every operation goes through: one incremental revision per call.

Steps: open the PDF (never rewriting earlier revisions), check the signer's certificate, fill
prepared form fields if asked (same revision as the signature, so an earlier certification
signature sees only form filling), draw the appearance, reserve the signature container once per
signer and level (no dry-run signature), sign with one private-key operation, and for B-LT/B-LTA
let pyHanko append the DSS and the document timestamp.

At B-B the CMS comes from the signer's template (:mod:`signing.fastcms`: the same bytes pyHanko
would build, without rebuilding them with asn1crypto per document) and no event loop is started:
what is left besides the private-key operation is pyHanko reading the PDF and writing the new
revision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.form_tools import annot_width_height, get_single_field_annot
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter, VisibleSigSettings
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

from .appearance import AppearanceSpec, SpecStampStyle, TextItem
from .errors import (
    CertificateExpiredError,
    CertificateRevokedError,
    CertificateUntrustedError,
    SignatureFieldError,
    SigningError,
    TimestampError,
)
from .fastcms import CmsTemplate
from .fonts import FontConfig
from .options import PadesLevel, SigningOptions
from .pdfio import open_incremental
from .prepare import FIELD_DATE, FieldBox
from .signers import KeySigner
from .trust import check_signing_certificate, run_async

__all__ = ["AppearanceBuilder", "SignRequest", "sign_pdf"]

AppearanceBuilder = Callable[[float, float, datetime], AppearanceSpec]
"""Builds a widget's appearance from its width, height and the signing time."""


@dataclass(frozen=True)
class SignRequest:
    """One signature to add.

    ``field`` names an empty signature field; with ``new_field`` it is created in the signing
    revision (attachments, copies). ``fill`` maps prepared text fields to their values, written in
    the same revision. ``certify`` makes it a certification (author) signature that allows only
    form filling and further signatures afterwards.
    """

    field: str
    appearance: AppearanceBuilder | None = None
    new_field: FieldBox | None = None
    fill: Mapping[str, str] | None = None
    certify: bool = False
    reason: str | None = None
    location: str | None = None
    signed_at: datetime | None = None


def sign_pdf(pdf: bytes, signer: KeySigner, request: SignRequest, options: SigningOptions) -> bytes:
    """Add one PAdES signature at ``options.level`` and return the new PDF bytes."""
    signed_at = (request.signed_at or datetime.now(UTC)).replace(microsecond=0)
    level = options.level
    wants_lt = level.at_least(PadesLevel.B_LT)
    if options.check_certificate:
        # At B-LT pyHanko validates the chain itself while collecting revocation data; checking
        # it here too would fetch everything twice.
        trust = None if wants_lt else options.trust
        check_signing_certificate(signer.certificate, chain=signer.chain, trust=trust, at=signed_at)
    writer = open_incremental(pdf)
    if request.fill:
        fill_text_fields(writer, request.fill, options.fonts)
    box = target_box(writer, request)
    spec = request.appearance(box[0], box[1], signed_at) if request.appearance else AppearanceSpec()
    timestamper = options.get_timestamper()
    context: ValidationContext | None = None
    if wants_lt:
        context = options.require_trust().validation_context(extra_certs=signer.chain)
    meta = PdfSignatureMetadata(
        field_name=request.field,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        certify=request.certify,
        docmdp_permissions=MDPPerm.FILL_FORMS,
        reason=request.reason,
        location=request.location,
        embed_validation_info=wants_lt,
        use_pades_lta=level == PadesLevel.B_LTA,
        validation_context=context,
        # Our own check accepts either usage; national CAs differ in which one they set.
        signer_key_usage=set(),
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
    pdf_signer = PdfSigner(
        meta,
        signer.signer,
        timestamper=timestamper,
        stamp_style=SpecStampStyle(spec=spec, fonts=options.fonts),
        new_field_spec=field_spec,
    )
    reservation_key = (level.value, id(timestamper))
    basic = timestamper is None and not wants_lt

    async def run() -> bytes:
        session = pdf_signer.init_signing_session(
            writer, existing_fields_only=request.new_field is None
        )
        # The time drawn in the appearance must be the time in the signature.
        session.system_time = signed_at
        info = await session.perform_presign_validation(writer)
        reserved = signer.reservations.get(reservation_key)
        if reserved is None:
            reserved = await session.estimate_signature_container_size(info, tight=False)
            signer.reservations[reservation_key] = reserved
        tbs = session.prepare_tbs_document(validation_info=info, bytes_reserved=reserved)
        digest, output = tbs.digest_tbs_document()
        post = await tbs.perform_signature(
            digest.document_digest, PdfCMSSignedAttributes(signing_time=signed_at)
        )
        await post.post_signature_processing(output)
        output.seek(0)
        signed: bytes = output.read()
        return signed

    with translate_pyhanko_errors():
        if basic:
            template = cms_template(signer)
            if template is not None:
                return _sign_basic(
                    pdf_signer, writer, request, signer, signed_at, template, reservation_key
                )
        return run_async(run(), context)


def cms_template(signer: KeySigner) -> CmsTemplate | None:
    """The signer's B-B CMS template, built on first use; ``None`` if its CMS does not fit one."""
    if signer.cms_template is None:
        try:
            signer.cms_template = run_async(CmsTemplate.for_signer(signer.signer))
        except ValueError:
            signer.cms_template = False
    return signer.cms_template or None


def _sign_basic(
    pdf_signer: PdfSigner,
    writer: IncrementalPdfFileWriter,
    request: SignRequest,
    signer: KeySigner,
    signed_at: datetime,
    template: CmsTemplate,
    reservation_key: tuple[str, int],
) -> bytes:
    """B-B without an event loop: pyHanko lays out the revision and hashes the byte range, the
    CMS comes from the signer's template around one raw signature (what pyHanko would have
    built, byte for byte, see :mod:`signing.fastcms`)."""
    session = pdf_signer.init_signing_session(
        writer, existing_fields_only=request.new_field is None
    )
    session.system_time = signed_at
    # No validation context at B-B, so pyHanko's pre-sign validation has nothing to do.
    reserved = signer.reservations.get(reservation_key)
    if reserved is None:
        reserved = run_async(session.estimate_signature_container_size(None, tight=False))
        signer.reservations[reservation_key] = reserved
    tbs = session.prepare_tbs_document(validation_info=None, bytes_reserved=reserved)
    digest, output = tbs.digest_tbs_document()
    attributes = template.signed_attributes(digest.document_digest)
    digest.fill_with_cms(output, template.assemble(attributes, signer.sign_bytes(attributes)))
    output.seek(0)
    signed: bytes = output.read()
    return signed


@contextmanager
def translate_pyhanko_errors() -> Iterator[None]:
    """Turn pyHanko/certvalidator exceptions into our hierarchy (ours pass through)."""
    try:
        try:
            yield
        except PyhankoSigningError as exc:
            # pyHanko wraps certificate-validation failures; surface the real cause.
            cause = exc.__cause__ or exc.__context__
            if isinstance(
                cause, RevokedError | ExpiredError | PathBuildingError | PathValidationError
            ):
                raise cause from exc
            raise
    except SigningError:
        raise
    except RevokedError as exc:
        raise CertificateRevokedError(details={"reason": str(exc)}) from exc
    except ExpiredError as exc:
        raise CertificateExpiredError(details={"reason": str(exc)}) from exc
    except (PathBuildingError, PathValidationError) as exc:
        raise CertificateUntrustedError(details={"reason": str(exc)}) from exc
    except TimestampRequestError as exc:
        raise TimestampError(details={"reason": str(exc)}) from exc
    except PyhankoSigningError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, TimestampRequestError):
            raise TimestampError(details={"reason": str(cause)}) from exc
        raise SigningError(details={"reason": str(exc)}) from exc


def target_box(writer: IncrementalPdfFileWriter, request: SignRequest) -> tuple[float, float]:
    if request.new_field is not None:
        if _find_field(writer, request.field) is not None:
            raise SignatureFieldError(
                "Ô chữ ký đã có trên văn bản.", details={"field": request.field}
            )
        return request.new_field.width, request.new_field.height
    field = _find_field(writer, request.field)
    if field is None or field.get("/FT") != "/Sig":
        raise SignatureFieldError(details={"field": request.field})
    if "/V" in field:
        raise SignatureFieldError("Ô chữ ký này đã được ký.", details={"field": request.field})
    w, h = annot_width_height(get_single_field_annot(field))
    return float(w), float(h)


def _find_field(writer: IncrementalPdfFileWriter, name: str) -> generic.DictionaryObject | None:
    try:
        fields = writer.root["/AcroForm"]["/Fields"]
    except KeyError:
        return None
    for ref in fields:
        field = ref.get_object()
        if str(field.get("/T", "")) == name:
            return field  # type: ignore[no-any-return]
    return None


def fill_text_fields(
    writer: IncrementalPdfFileWriter, values: Mapping[str, str], fonts: FontConfig
) -> None:
    """Set the value and appearance of prepared text fields. Only ``/V`` and ``/AP`` change, so
    an earlier certification signature sees plain form filling."""
    for name, value in values.items():
        field = _find_field(writer, name)
        if field is None or field.get("/FT") != "/Tx":
            raise SignatureFieldError(
                "Không có ô số/ngày đã chuẩn bị trên văn bản.", details={"field": name}
            )
        if field.get("/V"):
            raise SignatureFieldError("Ô này đã được điền.", details={"field": name})
        annot = get_single_field_annot(field)
        w, h = annot_width_height(annot)
        size = 13.0
        baseline = (float(h) - size) / 2 + 2
        italic = name == FIELD_DATE  # Decree 30: the place and date are set in italics
        item = TextItem(
            value,
            float(w) / 2 if italic else 0.0,
            baseline,
            size,
            align="center" if italic else "left",
            max_width=float(w),
            style="italic" if italic else "regular",
        )
        stamp = SpecStampStyle(spec=AppearanceSpec(texts=(item,)), fonts=fonts).create_stamp(
            writer, BoxConstraints(width=float(w), height=float(h)), {}
        )
        stamp.apply_appearance(annot)
        field["/V"] = generic.TextStringObject(value)
        writer.update_container(annot)
        writer.update_container(field)
