"""Commands of the outgoing flow (API.md §3), validated before anything is stored."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from docflow.commands import Command, exactly_one_of
from docflow.documents.commands import Comment, Text
from docflow.enums import Secrecy, Urgency

CODE_PATTERN = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"
Competence = Literal["", "TM.", "KT.", "TL.", "TUQ.", "Q."]


class RecipientRef(Command):
    """An organisation of this installation (``organization_id``) or any organisation by its
    identifier code (``code``; internal if it is one of ours, else through the national axis)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("organization_id", "code"))

    organization_id: uuid.UUID | None = None
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=CODE_PATTERN)] | None = (
        None
    )
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> RecipientRef:
        if (self.organization_id is None) == (self.code is None):
            raise ValueError("Mỗi nơi nhận là một cơ quan (organization_id) hoặc một mã định danh.")
        return self


class DraftMeta(Command):
    """The ``meta`` of ``POST /outgoing``: what every draft has, however it was written."""

    doc_type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8)]
    subject: Text
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NONE
    signer_user_id: uuid.UUID
    recipients: list[RecipientRef] = Field(default_factory=list, max_length=300)
    due_date: dt.date | None = None
    competence: Competence = ""
    authority: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] = ""
    place: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    note: Comment | None = None
    replaces_document_id: uuid.UUID | None = Field(
        default=None,
        description="An issued outgoing document of the organisation that this one replaces "
        "(errors of content: a document of the same type) or corrects (errors of form: a "
        "công văn, `doc_type` CV), as `replaces_kind` says (Decree 30 Art. 10(3)). Without "
        "`recipients`, the draft goes to the recipients of that document.",
    )
    replaces_kind: Literal["replace", "correct"] = Field(
        default="replace",
        description="With `replaces_document_id`: `replace` (văn bản thay thế) or `correct` "
        "(đính chính).",
    )


class TemplateDraft(DraftMeta):
    """A draft written in the Decree 30 template: the body is plain paragraphs."""

    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50000)]


class TemplateVersion(Command):
    """A new version of a template draft: the changed body (and subject)."""

    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50000)]
    subject: Text | None = None
    note: Comment | None = None


class SubmitForReview(Command):
    to_user_id: uuid.UUID
    comment: Comment | None = None


class RequestChanges(Command):
    comment: Text


class Approve(Command):
    comment: Comment | None = None


SignMethod = Literal["server", "csc"]
CredentialId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)
]
Secret = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Sign(Command):
    """``method``: ``server`` (the key the server holds for the person: the demo PKI) or ``csc``
    (the operator's remote signing service; the key stays there). With ``csc``: ``pin`` and/or
    ``otp`` as the service asks, typed now and never stored; ``credential_id`` only to use
    another credential than the one linked to the account."""

    comment: Comment | None = None
    method: SignMethod = "server"
    credential_id: CredentialId | None = None
    pin: Secret | None = Field(default=None, repr=False)
    otp: Secret | None = Field(default=None, repr=False)


BULK_MAX = 50
"""The most documents one bulk action takes."""


class BulkSign(Sign):
    """``POST /documents/bulk-actions``: sign each of ``document_ids`` (1-50, no repeats) as
    :class:`Sign` would, each decided and recorded on its own."""

    action: Literal["sign"]
    document_ids: Annotated[
        list[uuid.UUID],
        Field(min_length=1, max_length=BULK_MAX, json_schema_extra={"uniqueItems": True}),
    ]

    @field_validator("document_ids")
    @classmethod
    def _unique(cls, ids: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(ids)) != len(ids):
            raise ValueError("Mỗi văn bản chỉ được chọn một lần.")
        return ids


class LinkRemoteSigning(Command):
    """Link the person's credential at the operator's remote signing service."""

    credential_id: CredentialId


class Issue(Command):
    register_id: uuid.UUID | None = None


class Dispatch(Command):
    pass


class Recall(Command):
    reason: Text


class OutgoingComment(Command):
    comment: Text


class StartSigningSession(Command):
    """``POST /documents/{id}/signing-sessions``: the client's certificate and chain (PEM)."""

    kind: Literal["personal", "organization"]
    certificate: Annotated[str, StringConstraints(min_length=100, max_length=20000)]
    chain: list[Annotated[str, StringConstraints(max_length=20000)]] = Field(
        default_factory=list, max_length=8
    )
    register_id: uuid.UUID | None = None


class CompleteSigningSession(Command):
    signature: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=8, max_length=4096)
    ]
