"""Receiving packages: an edXML file becomes an ``arrived`` incoming document, once.

Every package is hostile input: it is parsed by the hardened reader (which also refuses a text
field longer than ``interop.edxml.fields`` allows), its attachments go through the same upload
checks as a person's files, and it is stored only if all of it passes.

**Sender binding.** What a package does to an earlier document only applies to a document that
the same organisation (the package's ``From/OrganId``) sent to this organisation:

* a new package is keyed by its DocumentId *and its sender*: a second sender reusing a
  DocumentId gets its own document;
* a revocation (BussinessDocType 1), an update (2) or a replacement (3) must name a document
  received from that sender; a copy that only arrived is recalled at once (15 goes back), a
  handled one waits for the clerk (``accept_recall`` / ``refuse_recall``, 15 or 16);
* a reply (``ResponseFor`` naming one of our documents) must answer a document we sent to that
  sender; it is then linked to it (``Document.in_reply_to_id``);
* over the axis, the package's ``From`` must be the agency the axis names as the sender.

Anything else is refused (:class:`PackageRefusedError`, 422, stable ``code``) with nothing
changed; the error carries the :class:`Notice` (status 02 or 16) to send back, which
:func:`record_refusal` logs once per package so that a polling job answers once.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import or_, select

from docflow.actors import Actor, require_role
from docflow.enums import Role
from docflow.errors import ConflictError
from docflow.incoming.services import receive_document
from docflow.models import Delivery, Document, DocumentType, Organization
from docflow.models.exchange import ExchangeMessage
from docflow.outgoing.dispatch import (
    AUTO_RECALL_STATES,
    ENDED_STATES,
    end_replaced,
    receive_recall,
)
from docflow.outgoing.replacements import ReplacesKind, earlier_note, link, mark_corrected
from docflow.uow import UnitOfWork
from docflow.uploads import Upload, store_uploads
from interop.edxml import fields
from interop.edxml.codes import BussinessDocType, StatusCode, is_number
from interop.edxml.model import EdxmlPackage, Organ, ResponseFor, StatusMessage
from interop.edxml.parse import ParseResult, parse_package, read_envelope
from interop.errors import EdxmlFieldTooLongError, InteropError
from interop.package_signatures import check_package_signature

log = logging.getLogger(__name__)

REFUSED = "refused"  # ExchangeMessage.kind of a logged refusal


@dataclass(frozen=True)
class Notice:
    """The status message a refused package is answered with."""

    to: str  # the sender's OrganId
    from_: Organ  # our organisation
    status_code: str  # 02 (not accepted) or 16 (recall / update refused)
    response_for: ResponseFor
    description: str

    def message(self, timestamp: Any) -> StatusMessage:
        """The status message (values cut to the limits: it quotes what may be too long)."""
        about = self.response_for
        return StatusMessage(
            response_for=ResponseFor(
                about.organ_id[: fields.ORGAN_ID],
                about.code[: fields.FIELD_LIMITS["ResponseFor.code"]],
                about.promulgation_date,
                about.document_id[: fields.DOCUMENT_ID],
            ),
            from_=self.from_,
            status_code=self.status_code,
            timestamp=timestamp,
            description=self.description[: fields.REASON],
        )


class PackageRefusedError(ConflictError):
    """A package that cannot become a document (malformed, hostile, not addressed to us, too
    long a field, acting on a document its sender did not send us)."""

    kind = "invalid"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        notice: Notice | None = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.notice = notice


@dataclass(frozen=True)
class ImportResult:
    """The document the package became; ``created`` False when it had arrived before."""

    document: Document
    created: bool


# ----------------------------------------------------------------- columns fed from packages

# Every String column a received package fills, with the longest value it can receive (from
# the reader's limits). tests/interop/test_field_sizes.py checks each column is that wide, and
# that every String column of these tables is either here or in NOT_FROM_PACKAGES.
L = fields.FIELD_LIMITS
COLUMN_SOURCES: dict[str, int] = {  # "table.column": longest value
    "documents.notation": L["Code.number"] + 1 + L["Code.notation"],
    "documents.issuer_name": max(L["Organ.organ_name"], L["Organ.organ_id"]),
    "documents.issuer_code": L["Organ.organ_id"],
    "documents.signer_name": L["SignerInfo.full_name"],
    "documents.signer_position": L["SignerInfo.position"],
    "documents.signer_competence": L["SignerInfo.competence"],
    "document_files.name": L["Attachment.name"],
    # _key, and a status we sent about a copy: "#s" and its trail step (interop.exchange)
    "exchange_messages.key": L["EdxmlPackage.document_id"] + len("#3#") + 16 + len("#s") + 10,
    "exchange_messages.peer_code": L["Organ.organ_id"],
    "deliveries.recipient_code": L["Organ.organ_id"],  # compared with a package's From
}
# Filled by us, not by a package (codes of our closed lists, our ids, detected types...).
NOT_FROM_PACKAGES = frozenset(
    {
        "documents.direction", "documents.state", "documents.doc_type", "documents.urgency",
        "documents.secrecy", "documents.source", "documents.issue_place",
        "documents.signer_authority", "documents.replaces_kind", "document_files.kind", "document_files.sha256", "document_files.text_status",
        "document_files.content_type", "document_files.object_key",
        "exchange_messages.direction", "exchange_messages.kind", "exchange_messages.status_code",
        "exchange_messages.channel", "exchange_messages.axis_doc_id", "exchange_messages.sha256",
        "exchange_messages.state", "deliveries.recipient_name",
        "deliveries.channel", "deliveries.state", "deliveries.status_code",
        "delivery_events.status_code",
    }
)  # fmt: skip


# ----------------------------------------------------------------- what a package becomes


def _doc_type(uow: UnitOfWork, package: EdxmlPackage) -> str:
    """Our document type: from the notation's type part ("KH-MTTW"), else the edXML code."""
    s = uow.session
    head = package.code.notation.split("-", 1)[0]
    by_abbr = s.scalars(select(DocumentType.code).where(DocumentType.abbreviation == head)).first()
    if by_abbr:
        return by_abbr
    code = package.document_type.type_code
    if is_number(code) and len(code) <= 4:  # the column is a 32-bit integer
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
    """What makes a package the same package (with its sender, ``peer_code``): its DocumentId
    for a new document; an update or a replacement may reuse the DocumentId, so its content
    decides. A package without a DocumentId (none written, no readable date to derive it
    from) is known by its content only: two such packages are two documents."""
    if not package.document_id:
        return f"sha256:{sha256}"
    if package.bussiness.doc_type is BussinessDocType.NEW:
        return package.document_id
    return f"{package.document_id}#{int(package.bussiness.doc_type)}#{sha256[:16]}"


def _sender(package: EdxmlPackage) -> str:
    return package.from_.organ_id


# ----------------------------------------------------------------- sender binding


def _received_from(
    uow: UnitOfWork, org_id: uuid.UUID, sender: str, document_id: str
) -> list[Document]:
    """Our copies of the document ``sender`` sent to ``org_id`` under ``document_id``: the
    package of that DocumentId first, then the updates and replacements it sent under the same
    DocumentId (logged under ``<DocumentId>#<type>#<digest>``, :func:`_key`), oldest first. A
    revocation naming the DocumentId recalls them all: an update is the document's current
    text, and a replacement's own DocumentId names it (before, only an exact key matched, and
    neither could be revoked)."""
    origins = uow.session.scalars(
        select(ExchangeMessage)
        .where(
            ExchangeMessage.direction == "in",
            ExchangeMessage.kind == "edoc",
            ExchangeMessage.organization_id == org_id,
            or_(
                ExchangeMessage.key == document_id,
                ExchangeMessage.key.startswith(f"{document_id}#", autoescape=True),
            ),
            ExchangeMessage.peer_code == sender,
            ExchangeMessage.document_id.is_not(None),
        )
        .order_by(ExchangeMessage.key != document_id, ExchangeMessage.created_at)
    ).all()
    # The prefix is the index's pre-filter; the key itself decides (SQLite's LIKE ignores case,
    # and a DocumentId may itself hold a "#": "X#2" is another document than X's update).
    found = [
        uow.session.get(Document, o.document_id)
        for o in origins
        if o.key == document_id or wire_document_id(o.key) == document_id
    ]
    return [d for d in found if d is not None]


_COPY_KEY = re.compile(r"(?P<document_id>.+)#[23]#[0-9a-f]{16}")


def wire_document_id(key: str) -> str:
    """The DocumentId a received package's sender wrote, from the key it is logged under
    (:func:`_key`: an update's or a replacement's copy carries ``#<type>#<digest>`` after it):
    what our status messages about that copy answer."""
    copy = _COPY_KEY.fullmatch(key)
    return copy["document_id"] if copy else key


def _sent_to(
    uow: UnitOfWork, org: Organization, sender: str, response: ResponseFor
) -> Document | bool | None:
    """The outgoing document of ``org`` a reply answers, if ``org`` sent it to ``sender``;
    ``False`` when it names a document of ours that was not sent to ``sender`` (a forgery or a
    mistake); ``None`` when it names nothing of ours."""
    s = uow.session
    if response.organ_id != org.code:
        return None
    out = s.scalars(
        select(ExchangeMessage).where(
            ExchangeMessage.direction == "out",
            ExchangeMessage.kind == "edoc",
            ExchangeMessage.organization_id == org.id,
            ExchangeMessage.key == response.document_id,
        )
    ).all()
    ours = [m.document_id for m in out if m.document_id is not None]
    if not ours and response.promulgation_date is not None and response.code:
        ours = list(
            s.scalars(
                select(Document.id).where(
                    Document.organization_id == org.id,
                    Document.direction == "outgoing",
                    Document.notation == response.code,
                    Document.issued_date == response.promulgation_date,
                )
            )
        )
    if not ours:
        return None
    for doc_id in ours:
        delivered = s.scalars(
            select(Delivery.id).where(
                Delivery.document_id == doc_id,
                Delivery.recipient_code == sender,
                Delivery.state.in_(("queued", "sent", "failed")),
            )
        ).first()
        if delivered is not None or any(
            m.document_id == doc_id and m.peer_code == sender for m in out
        ):
            return s.get(Document, doc_id)
    return False


def _notice(package: EdxmlPackage, org: Organization, code: StatusCode, description: str) -> Notice:
    about = package.as_response_for()
    if code is StatusCode.RECALL_REFUSED and package.bussiness.document_id:
        about = ResponseFor(
            _sender(package), "", None, package.bussiness.document_id
        )  # the document the refused recall / update named
    return Notice(_sender(package), Organ(org.code, org.name), str(code), about, description)


def _refuse(
    package: EdxmlPackage,
    org: Organization,
    code: str,
    message: str,
    *,
    field: str,
    status: StatusCode = StatusCode.REJECTED,
) -> PackageRefusedError:
    log.warning(
        "package %r from %r to %s refused: %s",
        package.document_id,
        _sender(package),
        org.code,
        code,
    )
    return PackageRefusedError(
        message,
        code=code,
        details={"fields": {field: message}, "sender": _sender(package)},
        notice=_notice(package, org, status, message),
    )


def _check_axis_sender(package: EdxmlPackage, orgs: list[Organization], axis_from: str) -> None:
    """Over the axis the sender is known: the package may not speak for another agency."""
    vouched = axis_from.strip()
    if vouched and vouched != _sender(package):
        error = _refuse(
            package,
            orgs[0],
            "sender_mismatch",
            f"Cơ quan gửi trong gói tin ({_sender(package)}) khác cơ quan gửi mà trục liên thông"
            f" xác nhận ({vouched}).",
            field="From/OrganId",
        )
        if error.notice is not None:  # answered to whom really sent it
            error.notice = replace(error.notice, to=vouched)
        raise error


def _targets(uow: UnitOfWork, package: EdxmlPackage, org: Organization) -> list[Document]:
    """For a revocation, update or replacement: our copies of the document it acts upon, which
    its sender must have sent us (refused otherwise), the first sent first: a revocation or a
    replacement ends them all, an update is noted as of the first (:func:`_received_from`)."""
    kind = package.bussiness.doc_type
    if kind is BussinessDocType.NEW:
        return []
    named = package.bussiness.document_id or package.document_id
    found = _received_from(uow, org.id, _sender(package), named)
    if not found:
        verb = {BussinessDocType.REVOKE: "thu hồi", BussinessDocType.UPDATE: "cập nhật"}.get(
            kind, "thay thế"
        )
        raise _refuse(
            package,
            org,
            "revoke_unknown" if kind is BussinessDocType.REVOKE else "update_unknown",
            f"Không có văn bản {named} do {_sender(package)} gửi đến {org.code} để {verb}.",
            field="Bussiness/DocumentId",
            status=StatusCode.RECALL_REFUSED,
        )
    return found


def _require_seal(
    package: EdxmlPackage, org: Organization, target: Document, signature: dict[str, Any]
) -> None:
    """A document that arrived validly sealed is revoked, updated or replaced only by a package
    validly sealed too: stripping the signature off a forged revocation is no way round the
    sender binding (an unsigned one from a sender that seals is refused)."""
    sealed = (target.package_signature or {}).get("status") == "valid"
    if sealed and signature.get("status") != "valid":
        raise _refuse(
            package,
            org,
            "package_signature_required",
            f"Văn bản {target.notation or package.bussiness.document_id} đã nhận có chữ ký số hợp"
            " lệ của cơ quan gửi; gói tin thu hồi, cập nhật hoặc thay thế nó cũng phải có chữ ký"
            " số hợp lệ.",
            field="Signature",
            status=StatusCode.RECALL_REFUSED,
        )


def _reply_to(uow: UnitOfWork, package: EdxmlPackage, org: Organization) -> Document | None:
    for response in package.response_for:
        found = _sent_to(uow, org, _sender(package), response)
        if found is False:
            raise _refuse(
                package,
                org,
                "reply_unknown",
                f"Văn bản {response.code or response.document_id} của {org.code} không được gửi"
                f" đến {_sender(package)}; không thể nhận văn bản trả lời.",
                field="ResponseFor",
            )
        if isinstance(found, Document):
            return found
    return None


# ----------------------------------------------------------------- the import


def _revoke(
    uow: UnitOfWork,
    package: EdxmlPackage,
    orgs: list[Organization],
    channel: str,
    signature: dict[str, Any],
) -> list[ImportResult]:
    """A revoke package (BussinessDocType 1): the document it names is recalled here, once, or
    waits for the clerk's decision when it was already handled."""
    s = uow.session
    key = package.bussiness.document_id or package.document_id
    # All bound before any change: every organisation's copies of it (the document, and the
    # updates and replacements sent under its DocumentId).
    targets = [(org, doc) for org in orgs for doc in _targets(uow, package, org)]
    for org, doc in targets:
        _require_seal(package, org, doc, signature)
    # The copies of one document in one organisation are decided together, so that its sender
    # gets one answer: recalled at once when none was handled yet, else each waits for the
    # clerk (an update that only arrived beside a registered original included; recalled at
    # once, it answered 15 while the clerk went on to refuse the original, 16).
    handled = {
        org.id
        for org, doc in targets
        if doc.state not in AUTO_RECALL_STATES and doc.state not in ENDED_STATES
    }
    out = []
    for org, doc in targets:
        receive_recall(
            uow,
            doc.id,
            package.bussiness.reason or "Thu hồi văn bản",
            by=package.from_.organ_name or _sender(package),
            notation=str(package.code),
            at_once=org.id not in handled,
        )
        seen = s.scalars(
            select(ExchangeMessage.id).where(
                ExchangeMessage.direction == "in",
                ExchangeMessage.kind == "revoke",
                ExchangeMessage.organization_id == org.id,
                ExchangeMessage.key == key,
                ExchangeMessage.peer_code == _sender(package),
            )
        ).first()
        if seen is None:
            s.add(_logged(uow, "revoke", org, key, package, channel, doc.id))
        out.append(ImportResult(s.get_one(Document, doc.id), created=False))
    uow.commit()
    return out


def _logged(
    uow: UnitOfWork,
    kind: str,
    org: Organization,
    key: str,
    package: EdxmlPackage,
    channel: str,
    document_id: uuid.UUID | None,
    **more: Any,
) -> ExchangeMessage:
    return ExchangeMessage(
        direction="in",
        kind=kind,
        organization_id=org.id,
        key=key,
        channel=channel,
        peer_code=_sender(package),
        document_id=document_id,
        state="received",
        created_at=uow.now(),
        updated_at=uow.now(),
        **more,
    )


def _uploads(result: ParseResult) -> list[Upload]:
    return [
        Upload(
            a.open(),
            a.attachment.name,
            a.attachment.content_type,
            "main" if i == 0 else "attachment",
        )
        for i, a in enumerate(result.attachments)
    ]


def _refs(stored: Sequence[Any]) -> Iterator[dict[str, Any]]:
    for item in stored:
        yield {
            "kind": item.upload.kind,
            "version": 1,
            "name": item.checked.filename,
            "size": item.checked.ref.size,
            "sha256": item.checked.ref.sha256,
            "content_type": item.checked.ref.content_type,
            "object_key": item.checked.ref.key,
        }


def import_package(
    uow: UnitOfWork,
    source: bytes | Path | BinaryIO,
    *,
    channel: str,
    actor: Actor | None = None,
    axis_doc_id: str | None = None,
    axis_from: str | None = None,
    axis_to: Sequence[str] = (),
) -> list[ImportResult]:
    """Turn a package into an arrived document for each of our organisations it addresses
    (only the actor's own one for a manual import). Nothing is stored if anything is refused.
    ``axis_from``: the sender the axis vouches for (its list's ``from``); ``axis_to``: the
    agencies the axis delivered it to (a package's own ``To`` may name more of ours than the
    sender addressed on the axis: those are not reached through the back door)."""
    if actor is not None:
        require_role(actor, Role.CLERK)
    try:
        result = parse_package(source)
    except InteropError as exc:
        notice = _too_long_notice(uow, source, exc, axis_from) if channel == "axis" else None
        raise PackageRefusedError(
            exc.message, code=exc.code, details=dict(exc.details), notice=notice
        ) from exc
    with result, uow:
        package = result.package
        assert package is not None
        s = uow.session
        codes = [o.organ_id for o in package.to]
        orgs = list(s.scalars(select(Organization).where(Organization.code.in_(codes))))
        if actor is not None:
            orgs = [o for o in orgs if o.id == actor.organization_id]
        routed = {code.strip() for code in axis_to if code.strip()}
        if routed:
            orgs = [o for o in orgs if o.code in routed]
        if not orgs:
            raise PackageRefusedError(
                "Gói tin không gửi đến cơ quan này.",
                code="not_addressed",
                details={"fields": {"to": "Gói tin không gửi đến cơ quan này."}},
            )
        if axis_from is not None:
            _check_axis_sender(package, orgs, axis_from)
        signature = check_package_signature(uow, source, package)  # refuses a failing one
        if package.bussiness.doc_type is BussinessDocType.REVOKE:
            return _revoke(uow, package, orgs, channel, signature)
        key = _key(package, result.sha256)
        plans: list[tuple[Organization, uuid.UUID | None, list[Document], Document | None]] = []
        for org in orgs:  # every binding is checked before anything is written
            seen = s.scalars(
                select(ExchangeMessage).where(
                    ExchangeMessage.direction == "in",
                    ExchangeMessage.kind == "edoc",
                    ExchangeMessage.organization_id == org.id,
                    ExchangeMessage.key == key,
                    ExchangeMessage.status_code == "",
                    ExchangeMessage.peer_code == _sender(package),
                )
            ).first()
            if seen is not None and seen.document_id is not None:
                plans.append((org, seen.document_id, [], None))
            else:
                copies = _targets(uow, package, org)
                for copy in copies:
                    _require_seal(package, org, copy, signature)
                plans.append((org, None, copies, _reply_to(uow, package, org)))
        out: list[ImportResult] = []
        stored: Sequence[Any] | None = None
        for org, existing, copies, answered in plans:
            previous = copies[0] if copies else None
            if existing is not None:
                out.append(ImportResult(s.get_one(Document, existing), created=False))
                continue
            if stored is None:
                stored = store_uploads(uow, _uploads(result))
            meta = _meta(uow, package)
            if previous is not None:
                verb = (
                    "Thay thế"
                    if package.bussiness.doc_type is BussinessDocType.REPLACE
                    else "Cập nhật"
                )
                meta["note"] = earlier_note(verb, previous)
            doc = receive_document(
                uow, org.id, meta=meta, file_refs=list(_refs(stored)), source="axis"
            )
            if answered is not None:
                doc.in_reply_to_id = answered.id
            replacing = package.bussiness.doc_type is BussinessDocType.REPLACE
            if previous is not None:  # the copy it replaces or corrects (an update: a correction)
                link(doc, previous, ReplacesKind.REPLACE if replacing else ReplacesKind.CORRECT)
                if not replacing:
                    mark_corrected(uow, previous, str(package.code))
            doc.package_signature = signature
            # A replacement ends every copy of what it replaces (an earlier replacement sent
            # under the same DocumentId included, which the first copy alone left live).
            for copy in copies if replacing else ():
                end_replaced(
                    uow, copy.id, str(package.code), by=package.from_.organ_name or _sender(package)
                )
            s.add(
                _logged(
                    uow,
                    "edoc",
                    org,
                    key,
                    package,
                    channel,
                    doc.id,
                    axis_doc_id=axis_doc_id,
                    sha256=result.sha256,
                )
            )
            out.append(ImportResult(doc, created=True))
        uow.commit()
        return out


def _too_long_notice(
    uow: UnitOfWork, source: bytes | Path | BinaryIO, error: InteropError, axis_from: str | None
) -> Notice | None:
    """A package refused for a field over its limit is still readable: answer its sender 02
    naming the field, but only a sender the axis vouches for (a package naming another
    organisation as its ``From`` must not make us tell that organisation we refused its
    document). Other unreadable packages get no answer (nobody to trust)."""
    if not isinstance(error, EdxmlFieldTooLongError):
        return None
    try:
        if not isinstance(source, bytes | Path):
            source.seek(0)
        envelope = read_envelope(source)
    except (InteropError, OSError):
        return None
    package = envelope.package
    if package is None or (axis_from or "").strip() != _sender(package):
        return None
    with uow:
        org = uow.session.scalars(
            select(Organization).where(Organization.code.in_([o.organ_id for o in package.to]))
        ).first()
        if org is None:
            return None
        return _notice(package, org, StatusCode.REJECTED, error.message)


def record_refusal(
    uow: UnitOfWork, error: PackageRefusedError, *, channel: str, axis_doc_id: str | None = None
) -> bool:
    """Log a refused package (``exchange_messages`` kind ``refused``, with the reason) once;
    ``True`` the first time, when its notice should be sent back."""
    notice = error.notice
    if notice is None:
        return False
    with uow:
        s = uow.session
        org = s.scalars(
            select(Organization).where(Organization.code == notice.from_.organ_id)
        ).one()
        key = notice.response_for.document_id[: fields.DOCUMENT_ID]
        seen = s.scalars(
            select(ExchangeMessage.id).where(
                ExchangeMessage.direction == "in",
                ExchangeMessage.kind == REFUSED,
                ExchangeMessage.organization_id == org.id,
                ExchangeMessage.key == key,
                ExchangeMessage.status_code == notice.status_code,
                ExchangeMessage.peer_code == notice.to[: fields.ORGAN_ID],
            )
        ).first()
        if seen is not None:
            return False
        s.add(
            ExchangeMessage(
                direction="in",
                kind=REFUSED,
                organization_id=org.id,
                key=key,
                status_code=notice.status_code,
                channel=channel,
                peer_code=notice.to[: fields.ORGAN_ID],
                axis_doc_id=axis_doc_id,
                state=REFUSED,
                last_error=f"{error.code}: {error.message}",
                created_at=uow.now(),
                updated_at=uow.now(),
            )
        )
        uow.commit()
        return True
