"""Replacing documents and corrections (Decree 30/2020 Art. 10(3), DOMAIN.md §5): "errors of
content are fixed by a replacing document; errors of form by a correction (đính chính)".

* **Drafting** (:func:`replaced_for_draft`): a draft names the issued document of its
  organisation it replaces (``replaces_document_id``, ``replaces_kind="replace"``) or corrects
  (``"correct"``). The drafter must see that document. A replacement is a document of the same
  kind (văn bản có hình thức tương đương: a plan by a plan); a correction is a công văn (CV).
  Without recipients of its own, the draft goes to those of the document it acts upon.
* **Issuing** (:func:`ensure_replaceable`, before the number; :func:`record_issued`): a
  document is replaced once: a second replacement, while the first stands (issued, not
  recalled), is 409 ``already_replaced`` naming it, and no number is consumed. Corrections may
  be several. The replaced or corrected document keeps its state and gets a trail step
  (``replaced`` / ``corrected``) naming the new one.
* **Dispatching** to an organisation of this installation (:func:`link_copy`): the recipient's
  new copy names its copy of the earlier document; a replacement ends that copy at once
  (recalled, "Được thay thế bởi văn bản số …", 15 back to us), as a replacement received
  through the axis does (``interop.inbox``); a correction leaves it as it is.
* **Through the axis** (``interop.outbox.package_for``): to a recipient we sent the earlier
  document to, a replacement leaves with BussinessDocType 3 (replace), Bussiness/DocumentId and
  ReplacementInfoList naming the DocumentId we sent it under; a correction with 2 (update),
  naming it the same way. A recipient that never got the earlier document gets a new (0)
  package: a replace or update naming a document it does not have would be refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Row, select

from docflow.actors import Actor
from docflow.documents import access, trail
from docflow.documents.views import AnyDocument
from docflow.enums import Secrecy
from docflow.errors import ConflictError, ValidationError
from docflow.models import Delivery, Document, DocumentType, DraftVersion
from docflow.outgoing import policy
from docflow.outgoing.commands import RecipientRef
from docflow.outgoing.states import REPLACES_LABELS, DeliveryState, OutgoingState, ReplacesKind
from docflow.uow import UnitOfWork
from docflow.workdays import local_date

CORRECTION_TYPE = "CV"  # đính chính bằng công văn (Decree 30 Art. 10(3))


#: The trail step written on the earlier document when its replacement or correction is issued.
TRAIL_ACTION = {ReplacesKind.REPLACE: "replaced", ReplacesKind.CORRECT: "corrected"}
TRAIL_LABELS = {"replaced": "Bị thay thế", "corrected": "Được đính chính"}

#: States of an outgoing document that a replacement or correction may act upon: it has its
#: number (a recalled one too: recalled, then replaced by a right one).
ACTED_UPON = frozenset(
    {OutgoingState.ISSUED.value, OutgoingState.DISPATCHED.value, OutgoingState.RECALLED.value}
)
#: States in which a replacement stands (a recalled one replaces nothing any more).
STANDING = frozenset({OutgoingState.ISSUED.value, OutgoingState.DISPATCHED.value})

FIELD = "replaces_document_id"


def replaced_for_draft(
    uow: UnitOfWork,
    actor: Actor,
    document_id: uuid.UUID,
    kind: ReplacesKind,
    doc_type: str,
    secrecy: Secrecy,
) -> Document:
    """The issued document a new draft replaces or corrects, checked (422 on the field that
    is wrong, 409 when it was replaced already). A replacement or a correction is at least as
    secret as the document it acts upon: it carries its content, or names it."""
    old = access.find_visible(uow.session, actor, document_id)
    if old is None or old.direction != "outgoing":
        raise ValidationError.field(
            FIELD, "Không tìm thấy văn bản đi được thay thế, đính chính.", code="document_not_found"
        )
    if old.state not in ACTED_UPON or not old.notation:
        raise ValidationError.field(
            FIELD,
            "Chỉ văn bản đã ban hành (đã có số) mới được thay thế hoặc đính chính.",
            code="not_issued",
        )
    if secrecy.rank < old.secrecy_rank:
        raise ValidationError.field(
            "secrecy",
            "Văn bản thay thế, đính chính phải có độ mật không thấp hơn văn bản được thay thế,"
            f" đính chính ({Secrecy(old.secrecy).label}).",
            code="replacement_secrecy",
        )
    if kind is ReplacesKind.REPLACE and doc_type != old.doc_type:
        name = _type_name(uow, old.doc_type)
        raise ValidationError.field(
            "doc_type",
            f"Văn bản thay thế phải có hình thức tương đương văn bản bị thay thế ({name}).",
            code="replacement_type",
        )
    if kind is ReplacesKind.CORRECT and doc_type != CORRECTION_TYPE:
        raise ValidationError.field(
            "doc_type",
            "Văn bản có sai sót về thể thức được đính chính bằng công văn.",
            code="correction_type",
        )
    if kind is ReplacesKind.REPLACE:
        _not_replaced(uow, old, None)
    return old


def ensure_replaceable(uow: UnitOfWork, doc: Document) -> Document | None:
    """At issuing, before the number: the document ``doc`` replaces, locked (two clerks issuing
    two replacements of it take turns), and not replaced meanwhile by another (409)."""
    if doc.replaces_id is None:
        return None
    old = uow.session.scalars(
        select(Document).where(Document.id == doc.replaces_id).with_for_update(of=Document)
    ).one()
    if kind_of(doc) is ReplacesKind.REPLACE:
        _not_replaced(uow, old, doc.id)
    return old


def kinds_offered(uow: UnitOfWork, actor: Actor, doc: AnyDocument) -> tuple[ReplacesKind, ...]:
    """What ``actor`` may start drafting for ``doc`` from its page: a correction of an issued
    document, and a replacement unless a standing one exists (looked for only when some
    document names it)."""
    if not policy.may_draft(actor.effective_roles) or doc.state not in ACTED_UPON:
        return ()
    if doc.has_replacements:
        with uow:
            if _standing_replacement(uow, doc.id, None) is not None:
                return (ReplacesKind.CORRECT,)
    return (ReplacesKind.REPLACE, ReplacesKind.CORRECT)


def _standing_replacement(
    uow: UnitOfWork, document_id: uuid.UUID, other_than: uuid.UUID | None
) -> Row[str | None, int] | None:
    """The notation and secrecy of a standing replacement of ``document_id`` (other than
    ``other_than``), if there is one."""
    stmt = select(Document.notation, Document.secrecy_rank).where(
        Document.replaces_id == document_id,
        Document.replaces_kind == ReplacesKind.REPLACE.value,
        Document.state.in_(STANDING),
    )
    if other_than is not None:
        stmt = stmt.where(Document.id != other_than)
    return uow.session.execute(stmt.limit(1)).first()


def _not_replaced(uow: UnitOfWork, old: Document, other_than: uuid.UUID | None) -> None:
    """409 when a standing replacement of ``old`` exists; it is named only when it is no more
    secret than ``old`` (whoever may act on ``old`` may not be cleared for a secret one)."""
    by = _standing_replacement(uow, old.id, other_than)
    if by is not None:
        named = f"văn bản số {by.notation}" if by.secrecy_rank <= old.secrecy_rank else None
        raise ConflictError(
            f"Văn bản {old.notation} đã được thay thế bởi {named}; hãy thay thế văn bản đó nếu cần."
            if named
            else f"Văn bản {old.notation} đã được thay thế bởi một văn bản khác.",
            code="already_replaced",
        )


def record_issued(uow: UnitOfWork, actor: Actor, doc: Document) -> None:
    """The issued replacement or correction, on the document it acts upon: a trail step. The
    check of :func:`ensure_replaceable` is made again: a signing session reserved the number
    before another replacement may have been issued meanwhile."""
    old = ensure_replaceable(uow, doc)
    if old is None:
        return
    kind = kind_of(doc)
    # A replacement more secret than ``old`` is not named on its trail, which readers of
    # ``old`` without that clearance read.
    named = doc.secrecy_rank <= old.secrecy_rank
    trail.append(
        uow,
        old,
        TRAIL_ACTION[kind],
        actor=actor,
        from_state=old.state,
        details={"notation": doc.notation, "replacement_id": str(doc.id)} if named else {},
    )


def kind_of(doc: Document) -> ReplacesKind:
    """What ``doc`` does to the document it names (set with it: ck_documents_replaces_kind)."""
    assert doc.replaces_kind is not None, doc.id
    return ReplacesKind(doc.replaces_kind)


def earlier_note(verb: str, earlier: Document) -> str:
    """The note of a received copy that replaces or corrects ``earlier``, our copy of the
    document its sender acted upon: «Thay thế văn bản 60/KH-… đã nhận ngày 18/06/2026.»"""
    at = earlier.received_at or earlier.created_at
    return f"{verb} văn bản {earlier.notation or ''} đã nhận ngày {local_date(at):%d/%m/%Y}."


def link(later: Document, earlier: Document, kind: ReplacesKind | str) -> None:
    """``later`` replaces or corrects ``earlier``; ``earlier`` is marked as named, so that the
    answers look for what replaces it (``Document.has_replacements``)."""
    later.replaces_id, later.replaces_kind = earlier.id, ReplacesKind(kind).value
    earlier.has_replacements = True


def previous_recipients(uow: UnitOfWork, old: Document) -> list[RecipientRef]:
    """The recipients of ``old`` (as a draft's ``recipients``), those it was not cancelled for,
    in their order."""
    rows = uow.session.scalars(
        select(Delivery)
        .where(Delivery.document_id == old.id, Delivery.state != DeliveryState.CANCELLED.value)
        .order_by(Delivery.position)
    )
    return [
        RecipientRef(organization_id=d.recipient_organization_id)
        if d.recipient_organization_id is not None
        else RecipientRef(code=d.recipient_code, name=d.recipient_name)
        for d in rows
        if d.recipient_organization_id is not None or d.recipient_code
    ]


def link_copy(
    uow: UnitOfWork, sender: Document, organization_id: uuid.UUID, copy: Document
) -> list[Document]:
    """An internal recipient's copy of a replacement or correction: it names the recipient's
    copy of the earlier document (the first one given, if it was given twice). Returns the
    copies a replacement ends (every copy of the earlier document; none for a correction),
    which the caller recalls at once, as a replacement from the axis does."""
    if sender.replaces_id is None:
        return []
    earlier = list(
        uow.session.scalars(
            select(Document)
            .join(Delivery, Delivery.recipient_document_id == Document.id)
            .where(
                Delivery.document_id == sender.replaces_id,
                Delivery.recipient_organization_id == organization_id,
            )
            .order_by(Document.received_at, Document.id)
        )
    )
    if not earlier:
        return []  # it never had the earlier document: a new one to it
    kind = kind_of(sender)
    first = earlier[0]
    link(copy, first, kind)
    copy.note = earlier_note(kind.label, first)
    if kind is ReplacesKind.CORRECT:
        mark_corrected(uow, first, sender.notation)
        return []
    return earlier


def arrived_after(
    uow: UnitOfWork, sender: Document, organization_id: uuid.UUID, copy: Document
) -> str | None:
    """An internal recipient's copy of ``sender`` that arrives after a standing replacement or
    correction of it (urgent mail overtakes the queue): the copy of the later one, already
    there, is linked to it now; a correction marks it; a replacement ends it at once: its
    notation is returned for the caller to recall ``copy`` with."""
    later = uow.session.execute(
        select(Document, Delivery.recipient_document_id)
        .join(Delivery, Delivery.document_id == Document.id)
        .where(
            Document.replaces_id == sender.id,
            Document.state.in_(STANDING),
            Delivery.recipient_organization_id == organization_id,
            Delivery.recipient_document_id.is_not(None),
        )
        .order_by(Document.issued_at, Document.id)
    ).all()
    ended_by: str | None = None
    for doc, copy_id in later:
        theirs = uow.session.get_one(Document, copy_id)
        if theirs.replaces_id is None:
            link(theirs, copy, kind_of(doc))
        if kind_of(doc) is ReplacesKind.CORRECT:
            mark_corrected(uow, copy, doc.notation)
        elif ended_by is None:
            ended_by = doc.notation or ""
    return ended_by


def mark_corrected(uow: UnitOfWork, copy: Document, notation: str | None) -> None:
    """A received copy whose sender corrected it: it stays as it is, with a trail step naming
    the correction (its readers see it, and its change log moves: a phone's cached copy is
    read again)."""
    trail.append(
        uow,
        copy,
        TRAIL_ACTION[ReplacesKind.CORRECT],
        actor=None,
        from_state=copy.state,
        details={"notation": notation},
    )


@dataclass(frozen=True)
class DraftForm:
    """What the drafting form starts from for a replacement or a correction of ``replaced``:
    its kind of document (a công văn for a correction), a subject, its recipients (ours by id,
    the others by code and name), and whether a replacement still may be drafted."""

    replaced: Document
    kind: ReplacesKind
    doc_type: str
    subject: str
    organization_ids: list[str]
    external: list[tuple[str, str]]
    refused: str | None
    body: str = ""  # a replacement starts from the text of the document it replaces


def draft_form(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, kind: ReplacesKind
) -> DraftForm | None:
    """The form's start for a replacement or correction of ``document_id`` (None when
    ``actor`` may not see such a document); ``refused`` says why it cannot be drafted now."""
    with uow:
        old = access.find_visible(uow.session, actor, document_id)
        if old is None or old.direction != "outgoing":
            return None
        doc_type = old.doc_type if kind is ReplacesKind.REPLACE else CORRECTION_TYPE
        refused = None
        try:
            replaced_for_draft(uow, actor, old.id, kind, doc_type, Secrecy(old.secrecy))
        except (ValidationError, ConflictError) as exc:
            refused = exc.message
        recipients = previous_recipients(uow, old)
        subject = (
            old.subject
            if kind is ReplacesKind.REPLACE
            else f"V/v đính chính {_type_name(uow, old.doc_type).lower()} số {old.notation}"
        )
        body = ""
        if kind is ReplacesKind.REPLACE:
            params = uow.session.scalar(
                select(DraftVersion.template).where(
                    DraftVersion.document_id == old.id,
                    DraftVersion.version == old.draft_version,
                )
            )
            body = str((params or {}).get("body") or "")
        return DraftForm(
            old,
            kind,
            doc_type,
            subject,
            [str(r.organization_id) for r in recipients if r.organization_id is not None],
            [(r.code, r.name or "") for r in recipients if r.code is not None],
            refused,
            body,
        )


def _type_name(uow: UnitOfWork, code: str) -> str:
    row = uow.session.get(DocumentType, code)
    return row.name if row is not None else code


__all__ = [
    "CORRECTION_TYPE",
    "REPLACES_LABELS",
    "TRAIL_LABELS",
    "DraftForm",
    "ReplacesKind",
    "arrived_after",
    "draft_form",
    "earlier_note",
    "ensure_replaceable",
    "kind_of",
    "kinds_offered",
    "link",
    "link_copy",
    "mark_corrected",
    "previous_recipients",
    "record_issued",
    "replaced_for_draft",
]
