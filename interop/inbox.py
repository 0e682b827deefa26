"""Receiving packages: an edXML file becomes an ``arrived`` incoming document, once.

Every package is hostile input: it is parsed by the hardened reader, its attachments go through
the same upload checks as a person's files, and it is stored only if all of it passes. The
package's DocumentId and the recipient organisation make the import idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from docflow.actors import Actor
from docflow.documents.files import Upload, store_uploads
from docflow.enums import Role
from docflow.errors import ConflictError, ValidationError
from docflow.models import Document, DocumentType, Organization
from docflow.models.exchange import ExchangeMessage
from docflow.policies import require_role
from docflow.services.dispatch import recall_received
from docflow.services.incoming import receive_document
from docflow.uow import UnitOfWork
from interop.edxml.codes import BussinessDocType
from interop.edxml.model import EdxmlPackage
from interop.edxml.parse import parse_package
from interop.errors import InteropError
from interop.package_signatures import check_package_signature


class PackageRefusedError(ConflictError):
    """A package that cannot become a document (malformed, hostile, not addressed to us)."""

    kind = "invalid"


@dataclass(frozen=True)
class ImportResult:
    """The document the package became; ``created`` False when it had arrived before."""

    document: Document
    created: bool


def _doc_type(uow: UnitOfWork, package: EdxmlPackage) -> str:
    """Our document type: from the notation's type part ("KH-MTTW"), else the edXML code."""
    s = uow.session
    head = package.code.notation.split("-", 1)[0]
    by_abbr = s.scalars(select(DocumentType.code).where(DocumentType.abbreviation == head)).first()
    if by_abbr:
        return by_abbr
    code = package.document_type.type_code
    if code.isdigit():
        found = s.scalars(
            select(DocumentType.code).where(DocumentType.edxml_type == int(code))
        ).first()
        if found:
            return found
    return "CV"


def _meta(uow: UnitOfWork, package: EdxmlPackage) -> dict[str, Any]:
    signer = package.signer
    return {
        "notation": str(package.code) or None,
        "doc_type": _doc_type(uow, package),
        "subject": package.subject or "(không có trích yếu)",
        "issuer_name": package.from_.organ_name or package.from_.organ_id,
        "issuer_code": package.from_.organ_id or None,
        "issued_date": package.promulgation.date,
        "urgency": str(package.urgency),
        "due_date": package.due_date,
        "page_count": package.other_info.page_amount or None,
        "signer_name": (signer.full_name or None) if signer else None,
        "signer_position": (signer.position or None) if signer else None,
        "signer_competence": (signer.competence or None) if signer else None,
    }


def _key(package: EdxmlPackage, sha256: str) -> str:
    """What makes a package the same package: its DocumentId for a new document; an update or
    a replacement may reuse the DocumentId, so its content decides."""
    if package.bussiness.doc_type is BussinessDocType.NEW:
        return package.document_id
    return f"{package.document_id}#{int(package.bussiness.doc_type)}#{sha256[:16]}"


def _previous(uow: UnitOfWork, org_id: Any, package: EdxmlPackage) -> Document | None:
    """For an update or a replacement: our copy of the document it acts upon."""
    if package.bussiness.doc_type not in (BussinessDocType.UPDATE, BussinessDocType.REPLACE):
        return None
    target = package.bussiness.document_id or package.document_id
    origin = uow.session.scalars(
        select(ExchangeMessage).where(
            ExchangeMessage.direction == "in",
            ExchangeMessage.kind == "edoc",
            ExchangeMessage.organization_id == org_id,
            ExchangeMessage.key == target,
        )
    ).first()
    if origin is None or origin.document_id is None:
        return None
    return uow.session.get(Document, origin.document_id)


def _revoke(
    uow: UnitOfWork, package: EdxmlPackage, orgs: list[Organization], channel: str
) -> list[ImportResult]:
    """A revoke package (BussinessDocType 1): the document it names is recalled here, once."""
    s = uow.session
    key = package.bussiness.document_id or package.document_id
    out = []
    for org in orgs:
        origin = s.scalars(
            select(ExchangeMessage).where(
                ExchangeMessage.direction == "in",
                ExchangeMessage.kind == "edoc",
                ExchangeMessage.organization_id == org.id,
                ExchangeMessage.key == key,
            )
        ).first()
        if origin is None or origin.document_id is None:
            raise ValidationError.field(
                "bussiness", "Không có văn bản được thu hồi trong hệ thống.", code="revoke_unknown"
            )
        recall_received(
            uow,
            origin.document_id,
            package.bussiness.reason or "Thu hồi văn bản",
            by=package.from_.organ_name or package.from_.organ_id,
            notation=str(package.code),
        )
        seen = s.scalars(
            select(ExchangeMessage.id).where(
                ExchangeMessage.direction == "in",
                ExchangeMessage.kind == "revoke",
                ExchangeMessage.organization_id == org.id,
                ExchangeMessage.key == key,
            )
        ).first()
        if seen is None:
            s.add(
                ExchangeMessage(
                    direction="in",
                    kind="revoke",
                    organization_id=org.id,
                    key=key,
                    channel=channel,
                    peer_code=package.from_.organ_id or None,
                    document_id=origin.document_id,
                    state="received",
                    created_at=uow.now(),
                    updated_at=uow.now(),
                )
            )
        out.append(ImportResult(s.get_one(Document, origin.document_id), created=False))
    uow.commit()
    return out


def import_package(
    uow: UnitOfWork,
    source: bytes | Path | BinaryIO,
    *,
    channel: str,
    actor: Actor | None = None,
    axis_doc_id: str | None = None,
) -> list[ImportResult]:
    """Turn a package into an arrived document for each of our organisations it addresses
    (only the actor's own one for a manual import). Nothing is stored if anything is refused."""
    if actor is not None:
        require_role(actor, Role.CLERK)
    try:
        result = parse_package(source)
    except InteropError as exc:
        raise PackageRefusedError(exc.message, code=exc.code, details=dict(exc.details)) from exc
    with result, uow:
        package = result.package
        assert package is not None
        s = uow.session
        codes = [o.organ_id for o in package.to]
        orgs = list(s.scalars(select(Organization).where(Organization.code.in_(codes))))
        if actor is not None:
            orgs = [o for o in orgs if o.id == actor.organization_id]
        if not orgs:
            raise ValidationError.field(
                "to", "Gói tin không gửi đến cơ quan này.", code="not_addressed"
            )
        signature = check_package_signature(uow, source, package)  # refuses a failing one
        if package.bussiness.doc_type is BussinessDocType.REVOKE:
            return _revoke(uow, package, orgs, channel)
        out: list[ImportResult] = []
        stored: Sequence[Any] | None = None
        key = _key(package, result.sha256)
        for org in orgs:
            seen = s.scalars(
                select(ExchangeMessage).where(
                    ExchangeMessage.direction == "in",
                    ExchangeMessage.kind == "edoc",
                    ExchangeMessage.organization_id == org.id,
                    ExchangeMessage.key == key,
                    ExchangeMessage.status_code == "",
                )
            ).first()
            if seen is not None and seen.document_id is not None:
                out.append(ImportResult(s.get_one(Document, seen.document_id), created=False))
                continue
            if stored is None:
                uploads = [
                    Upload(
                        a.open(),
                        a.attachment.name,
                        a.attachment.content_type,
                        "main" if i == 0 else "attachment",
                    )
                    for i, a in enumerate(result.attachments)
                ]
                stored = store_uploads(uow, uploads)
            refs = [
                {
                    "kind": item.upload.kind,
                    "version": 1,
                    "name": item.checked.filename,
                    "size": item.checked.ref.size,
                    "sha256": item.checked.ref.sha256,
                    "content_type": item.checked.ref.content_type,
                    "object_key": item.checked.ref.key,
                }
                for item in stored
            ]
            meta = _meta(uow, package)
            previous = _previous(uow, org.id, package)
            if previous is not None:
                verb = (
                    "Thay thế"
                    if package.bussiness.doc_type is BussinessDocType.REPLACE
                    else "Cập nhật"
                )
                meta["note"] = (
                    f"{verb} văn bản {previous.notation or ''} đã nhận ngày {previous.received_at:%d/%m/%Y}."
                )
            doc = receive_document(uow, org.id, meta=meta, file_refs=refs, source="axis")
            doc.package_signature = signature
            if previous is not None and package.bussiness.doc_type is BussinessDocType.REPLACE:
                recall_received(
                    uow,
                    previous.id,
                    f"Được thay thế bởi văn bản {package.code}",
                    by=package.from_.organ_name or package.from_.organ_id,
                    notation=str(package.code),
                )
            s.add(
                ExchangeMessage(
                    direction="in",
                    kind="edoc",
                    organization_id=org.id,
                    key=key,
                    channel=channel,
                    peer_code=package.from_.organ_id or None,
                    document_id=doc.id,
                    axis_doc_id=axis_doc_id,
                    sha256=result.sha256,
                    state="received",
                    created_at=uow.now(),
                    updated_at=uow.now(),
                )
            )
            out.append(ImportResult(doc, created=True))
        uow.commit()
        return out
