"""JSON shapes of documents (API.md §3), built from docflow's objects."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from docflow import Actor, incoming
from docflow.documents.queries import Deadline, DocumentLinks, state_label
from docflow.documents.views import AnyDocument
from docflow.models import Document, TrailEntry
from docflow.outgoing import actions as outgoing_actions


def allowed_actions(actor: Actor, doc: AnyDocument) -> list[str]:
    """The actions ``actor`` may take now, from the transition table of the document's direction."""
    if doc.direction == "outgoing":
        return outgoing_actions.allowed_actions(actor, doc)
    return incoming.allowed_actions(actor, doc)


class Ref(BaseModel):
    id: uuid.UUID
    name: str


class Issuer(BaseModel):
    name: str | None
    code: str | None


class Signer(BaseModel):
    name: str | None
    position: str | None
    competence: str | None


class DocumentLink(BaseModel):
    """Another document, as a link: enough to show and open it."""

    id: uuid.UUID
    direction: str
    notation: str | None
    subject: str
    issued_date: dt.date | None
    state: str

    @classmethod
    def of(cls, doc: Document) -> DocumentLink:
        return cls(
            id=doc.id,
            direction=doc.direction,
            notation=doc.notation,
            subject=doc.subject,
            issued_date=doc.issued_date,
            state=doc.state,
        )


class ReplacementLink(DocumentLink):
    """A document replaced or corrected by another, or replacing or correcting it (Decree 30
    Art. 10(3)): ``kind`` is ``replace`` (văn bản thay thế) or ``correct`` (đính chính)."""

    kind: Literal["replace", "correct"]

    @classmethod
    def linked(cls, doc: Document, kind: str | None) -> ReplacementLink:
        return cls(
            **DocumentLink.of(doc).model_dump(), kind="correct" if kind == "correct" else "replace"
        )


class RecallRequestOut(BaseModel):
    """A recall the sender asked for after the document was handled: the clerk decides
    (``accept_recall`` → 15, ``refuse_recall`` with ``reason`` → 16)."""

    reason: str | None
    by: str | None
    notation: str | None
    at: dt.datetime | None


class FileOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    version: int
    size: int
    sha256: str
    content_type: str
    verification: dict[str, Any] | None = None
    text_status: Literal["none", "pending", "done", "failed"] = Field(
        default="none",
        description="Text extraction: none (not read: a kind of file we do not read, or a "
        "searchable PDF made from a scan), pending (being read / OCR), done, failed.",
    )
    derived_from: uuid.UUID | None = Field(
        default=None,
        description="The id of the file this one was made from (the searchable PDF/A of a "
        "scan, kind `searchable`); null for files as they were received or uploaded.",
    )


class PackageSignerOut(BaseModel):
    name: str | None = None
    organization: str | None = None
    organization_code: str | None = None


class PackageCertificateOut(BaseModel):
    serial: str
    issuer: str | None = None
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None


class PackageSignatureOut(BaseModel):
    """The check of the XML signature of the edXML package a document arrived in.

    ``status``: ``valid``; ``untrusted`` (the signature matches but the certificate does not
    chain to the configured trust roots, or is expired, or cannot be tied to the sender, or the
    signature covers only part of the package); ``unsigned`` (other systems may not sign:
    accepted). A package whose signature is ``invalid`` (content changed after signing, wrong
    key, revoked certificate, a trusted certificate of another organisation) is refused with 422
    ``package_signature_invalid`` and never becomes a document. The certificate belongs to the
    sender when an identifier code in its subject (``organizationIdentifier``, or a UID /
    serialNumber / OU holding one) equals ``From/OrganId``, or, without any code, when its O or
    CN equals ``From/OrganName`` (case and accents ignored).
    """

    model_config = ConfigDict(extra="ignore")

    status: Literal["valid", "invalid", "untrusted", "unsigned"]
    label: str | None = None
    reason: str = ""
    signer: PackageSignerOut | None = None
    certificate: PackageCertificateOut | None = None
    algorithm: str | None = None
    coverage: Literal["package", "part"] | None = None
    sender_match: Literal["code", "name"] | None = None
    checked_at: dt.datetime | None = None


class AssignmentOut(BaseModel):
    id: uuid.UUID
    role: str
    unit_id: uuid.UUID | None
    unit_name: str | None = None
    user_id: uuid.UUID | None
    user_name: str | None = None
    due_date: dt.date | None
    state: str
    parent_id: uuid.UUID | None = None


class DeadlineOut(BaseModel):
    days_left: int
    overdue: bool
    due_soon: bool


# API.md names the field "register"; pydantic warns that it shadows ABCMeta.register, which
# these models never use.
warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)


class DocumentOut(BaseModel):
    id: uuid.UUID
    direction: str
    organization_id: uuid.UUID
    state: str
    state_label: str
    register: Ref | None = None
    register_number: int | None
    notation: str | None
    doc_type: str
    subject: str
    issuer: Issuer
    issued_date: dt.date | None
    received_at: dt.datetime | None
    signer: Signer
    urgency: str
    secrecy: str
    due_date: dt.date | None
    deadline: DeadlineOut | None = None
    page_count: int | None
    source: str
    submitted_to: Ref | None = None
    # Outgoing documents: the designated signer, the drafting unit, the current draft version
    # and when the clerk issued it.
    designated_signer: Ref | None = None
    drafting_unit_id: uuid.UUID | None = None
    draft_version: int | None = None
    issued_at: dt.datetime | None = None
    verification: dict[str, Any] | None = None
    # Received through the exchange: the check of the package's XML signature (else null).
    package_signature: PackageSignatureOut | None = None
    files: list[FileOut]
    assignments: list[AssignmentOut]
    allowed_actions: list[str]
    # Exchange between systems: the outgoing document of ours an arrived one answers (edXML
    # ResponseFor, only when we sent it to that sender), the replies an outgoing one received,
    # and a recall waiting for the clerk's decision.
    in_reply_to: DocumentLink | None = None
    replies: list[DocumentLink] = []
    # A replacing document or a correction (Decree 30 Art. 10(3)): the earlier document it
    # replaces or corrects (on a received copy: our copy of what its sender replaced), and the
    # documents that replace or correct this one; only those the reader may see.
    replaces: ReplacementLink | None = None
    replaced_by: list[ReplacementLink] = []
    recall_request: RecallRequestOut | None = None
    snippet: str | None = Field(
        default=None,
        description="With `q`: the text around the first match, taken from the files' text "
        "(or the subject), with its diacritics; null when the words were found elsewhere.",
    )
    snippet_marks: list[tuple[int, int]] | None = Field(
        default=None,
        description="With `q`: [start, end) character offsets in `snippet` of each match, "
        "for highlighting.",
    )

    @classmethod
    def of(
        cls,
        doc: AnyDocument,
        actor: Actor,
        deadline: Deadline | None = None,
        links: DocumentLinks | None = None,
    ) -> DocumentOut:
        links = links or DocumentLinks()
        return cls(
            in_reply_to=DocumentLink.of(links.in_reply_to) if links.in_reply_to else None,
            replies=[DocumentLink.of(r) for r in links.replies],
            replaces=ReplacementLink.linked(links.replaces, doc.replaces_kind)
            if links.replaces
            else None,
            replaced_by=[ReplacementLink.linked(r, r.replaces_kind) for r in links.replaced_by],
            recall_request=RecallRequestOut.model_validate(doc.recall_request)
            if doc.recall_request
            else None,
            id=doc.id,
            direction=doc.direction,
            organization_id=doc.organization_id,
            state=doc.state,
            state_label=state_label(doc.direction, doc.state),
            register=Ref(id=doc.register.id, name=doc.register.name) if doc.register else None,
            register_number=doc.register_number,
            notation=doc.notation,
            doc_type=doc.doc_type,
            subject=doc.subject,
            issuer=Issuer(name=doc.issuer_name, code=doc.issuer_code),
            issued_date=doc.issued_date,
            received_at=doc.received_at,
            signer=Signer(
                name=doc.signer_name, position=doc.signer_position, competence=doc.signer_competence
            ),
            urgency=doc.urgency,
            secrecy=doc.secrecy,
            due_date=doc.due_date,
            deadline=DeadlineOut(
                days_left=deadline.days_left, overdue=deadline.overdue, due_soon=deadline.due_soon
            )
            if deadline
            else None,
            page_count=doc.page_count,
            source=doc.source,
            submitted_to=Ref(id=doc.submitted_to.id, name=doc.submitted_to.full_name)
            if doc.submitted_to
            else None,
            designated_signer=Ref(id=doc.signer_user_id, name=doc.signer_name or "")
            if doc.signer_user_id
            else None,
            drafting_unit_id=doc.drafting_unit_id,
            draft_version=doc.draft_version,
            issued_at=doc.issued_at,
            verification=doc.verification,
            package_signature=PackageSignatureOut.model_validate(doc.package_signature)
            if doc.package_signature
            else None,
            files=[
                FileOut(
                    id=f.id,
                    name=f.name,
                    kind=f.kind,
                    version=f.version,
                    size=f.size,
                    sha256=f.sha256,
                    content_type=f.content_type,
                    verification=f.verification,
                    text_status=f.text_status,  # type: ignore[arg-type]
                    derived_from=f.derived_from_id,
                )
                for f in doc.files
            ],
            assignments=[
                AssignmentOut(
                    id=a.id,
                    role=a.role,
                    unit_id=a.unit_id,
                    unit_name=a.unit.name if a.unit else None,
                    user_id=a.user_id,
                    user_name=a.user.full_name if a.user else None,
                    due_date=a.due_date,
                    state=a.state,
                    parent_id=a.parent_id,
                )
                for a in doc.assignments
            ],
            allowed_actions=allowed_actions(actor, doc),
        )


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    next_cursor: str | None


class TrailOut(BaseModel):
    seq: int
    actor: dict[str, Any]
    unit: dict[str, Any] | None
    on_behalf_of: dict[str, Any] | None = None
    competence: str | None = None
    action: str
    from_state: str | None
    to_state: str
    comment: str | None
    details: dict[str, Any]
    at: dt.datetime

    @classmethod
    def of(cls, e: TrailEntry) -> TrailOut:
        return cls(
            seq=e.seq,
            actor={"id": str(e.actor_id) if e.actor_id else None, "name": e.actor_name},
            unit={"id": str(e.unit_id), "name": e.unit_name} if e.unit_id else None,
            on_behalf_of={"id": str(e.on_behalf_of_id), "name": e.on_behalf_of_name}
            if e.on_behalf_of_id
            else None,
            competence=e.competence,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            comment=e.comment,
            details=e.details,
            at=e.at,
        )


class TrailList(BaseModel):
    items: list[TrailOut]


class ActionRequest(BaseModel):
    """``{"action": "<name>", …parameters}`` — the parameters depend on the action."""

    model_config = ConfigDict(extra="allow")
    action: str = Field(
        description="incoming: register, reject, submit, assign, start, complete, return, "
        "comment, accept_recall (`comment`?; the sender's recall of a handled document stands: "
        "recalled, status 15 back), refuse_recall (`reason`; the document stays, status 16 back "
        "with the reason); both only while `recall_request` is set (a handled copy, or one that "
        "only arrived beside a handled copy of the same document). outgoing: "
        "submit_for_review, request_changes, approve, sign, issue, dispatch, recall, comment. "
        "sign takes `comment`?, `method` = `server` (default: the key the server holds) or "
        "`csc` (remote signing at the operator's CSC service: `otp` and/or `pin`, typed now and "
        "never stored; `credential_id`? else the linked one, PUT /me/remote-signing); a wrong "
        "PIN/OTP is 422 `remote_signing_otp_invalid`, the service's timeout 504 "
        "`remote_signing_timeout`, and nothing is signed. issue takes `register_id`? (else this "
        "year's register of the series); a number and notation another register of the "
        "organisation gave this year is 409 `duplicate_notation` (none consumed), and a number "
        "a signing session reserved in an earlier year is released for this year's"
    )
