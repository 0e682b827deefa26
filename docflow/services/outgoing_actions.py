"""Actions on an outgoing document (API.md §3 table): who may do each, and what it changes.

Same shape as the incoming flow: load and lock the document (404 if invisible), the state
decides what is possible (409), then who may (403), then the action, the trail and one commit.
``issue`` allocates the number late, signs with the number inside, stores, commits: a failed
signature rolls everything back, the number included (see :mod:`docflow.numbering`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from docflow.actors import Actor
from docflow.documents import access, trail
from docflow.documents.outgoing_commands import (
    Approve,
    Dispatch,
    Issue,
    OutgoingComment,
    Recall,
    RequestChanges,
    Sign,
    SubmitForReview,
)
from docflow.documents.ports import SignerUnavailable
from docflow.documents.states import (
    OUTGOING_TRANSITIONS,
    OutgoingAction,
    OutgoingState,
    next_outgoing_state,
)
from docflow.enums import Role
from docflow.errors import PermissionDeniedError, ValidationError
from docflow.models import Document, Review
from docflow.services import dispatch, outgoing_issue
from docflow.services import outgoing_support as sup
from docflow.uow import UnitOfWork
from signing import sign_as_leader

A, S = OutgoingAction, OutgoingState
_KEYS = frozenset(OUTGOING_TRANSITIONS)


def _may(actor: Actor, doc: Document, action: OutgoingAction) -> bool:
    state = S(doc.state)
    if (state, action) not in _KEYS:
        return False
    me = actor.user_id
    if action is A.SUBMIT_FOR_REVIEW:
        if state is S.IN_REVIEW:
            return doc.submitted_to_id == me  # the reviewer passes it up the chain
        return doc.created_by_id == me
    if action is A.REQUEST_CHANGES:
        return doc.submitted_to_id == me
    if action is A.APPROVE:
        return doc.signer_user_id == me and doc.submitted_to_id == me
    if action is A.SIGN:
        return doc.signer_user_id == me and (state is S.APPROVED or doc.submitted_to_id == me)
    if action in (A.ISSUE, A.DISPATCH, A.RECALL):
        return actor.has_role(Role.CLERK)
    return action is A.COMMENT


def allowed_actions(actor: Actor, doc: Document) -> list[str]:
    if doc.direction != "outgoing" or not access.can_see(actor, doc):
        return []
    return [a.value for a in OutgoingAction if _may(actor, doc, a)]


def may(actor: Actor, doc: Document, action: OutgoingAction) -> bool:
    return access.can_see(actor, doc) and _may(actor, doc, action)


# --- the actions


def _open_review(doc: Document, reviewer: uuid.UUID | None) -> Review | None:
    return next(
        (r for r in reversed(doc.reviews) if r.reviewer_id == reviewer and r.outcome == "pending"),
        None,
    )


def _close_review(
    uow: UnitOfWork, doc: Document, actor: Actor, outcome: str, comment: str | None
) -> None:
    review = _open_review(doc, actor.user_id)
    if review is not None:
        review.outcome = outcome
        review.version_seen = doc.draft_version
        review.response_comment = comment
        review.responded_at = uow.now()


def _do_submit(
    uow: UnitOfWork, actor: Actor, doc: Document, cmd: SubmitForReview
) -> dict[str, Any]:
    to = sup.org_user(
        uow, actor, cmd.to_user_id, "to_user_id", "Người nhận phải là người của cơ quan."
    )
    if to.id == actor.user_id:
        raise ValidationError.field("to_user_id", "Chọn một người khác để trình.")
    if not access.user_cleared_for(to, doc.secrecy_rank):
        raise ValidationError.field(
            "to_user_id",
            "Người nhận chưa được phép xem văn bản có độ mật này.",
            code="recipient_not_cleared",
        )
    _close_review(uow, doc, actor, "forwarded", cmd.comment)
    uow.session.add(
        Review(
            document_id=doc.id,
            reviewer_id=to.id,
            reviewer_name=to.full_name,
            requested_by_id=actor.user_id,
            requested_at=uow.now(),
            request_comment=cmd.comment,
            version_requested=doc.draft_version or 1,
        )
    )
    doc.submitted_to_id = to.id
    return {"to_user_id": str(to.id), "to_name": to.full_name}


def _do_request_changes(
    uow: UnitOfWork, actor: Actor, doc: Document, cmd: RequestChanges
) -> dict[str, Any]:
    _close_review(uow, doc, actor, "changes_requested", cmd.comment)
    doc.submitted_to_id = None
    return {}


def _do_approve(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Approve) -> dict[str, Any]:
    sup.prepared_pdf(uow, doc)  # nothing to approve while the PDF is not ready
    _close_review(uow, doc, actor, "approved", cmd.comment)
    return {}


def _do_sign(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Sign) -> dict[str, Any]:
    provider = sup.signing_provider(uow)
    key = provider.personal_signer(actor.username)
    if key is None:
        raise SignerUnavailable()
    version, source = sup.prepared_pdf(uow, doc)
    signed = sign_as_leader(
        sup.read_bytes(uow, source),
        key,
        signature_image=sup.signature_image(uow, actor.user_id),
        options=provider.options(),
        location=doc.issue_place,
    )
    record_signed(uow, actor, doc, signed, version.version, cmd.comment)
    return {"via": "server_credential", "file": f"bản {version.version}"}


def record_signed(
    uow: UnitOfWork,
    actor: Actor,
    doc: Document,
    signed: bytes,
    version: int,
    comment: str | None,
) -> None:
    """Store the leader-signed PDF (also used by signing sessions); it belongs to ``version``."""
    ref = sup.store_bytes(uow, signed, sup.PDF)
    uow.session.add(
        sup.file_from_ref(
            ref,
            document_id=doc.id,
            kind="signed",
            version=version,
            name=f"Văn bản đã ký - bản {version}.pdf",
            by=actor.user_id,
        )
    )
    _close_review(uow, doc, actor, "signed", comment)
    doc.submitted_to_id = None


def _do_issue(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Issue) -> dict[str, Any]:
    return outgoing_issue.issue_with_server_seal(uow, actor, doc, cmd.register_id)


def _do_dispatch(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Dispatch) -> dict[str, Any]:
    return dispatch.queue_deliveries(uow, doc)


def _do_recall(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Recall) -> dict[str, Any]:
    return dispatch.recall_deliveries(uow, doc, cmd.reason)


def _do_comment(
    uow: UnitOfWork, actor: Actor, doc: Document, cmd: OutgoingComment
) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class _Spec:
    params: type[BaseModel]
    run: Callable[[UnitOfWork, Actor, Document, Any], dict[str, Any]]
    comment_field: str | None = "comment"


SPECS: dict[OutgoingAction, _Spec] = {
    A.SUBMIT_FOR_REVIEW: _Spec(SubmitForReview, _do_submit),
    A.REQUEST_CHANGES: _Spec(RequestChanges, _do_request_changes),
    A.APPROVE: _Spec(Approve, _do_approve),
    A.SIGN: _Spec(Sign, _do_sign),
    A.ISSUE: _Spec(Issue, _do_issue, None),
    A.DISPATCH: _Spec(Dispatch, _do_dispatch, None),
    A.RECALL: _Spec(Recall, _do_recall, "reason"),
    A.COMMENT: _Spec(OutgoingComment, _do_comment),
}


def act(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, action: str, params: dict[str, Any]
) -> Document:
    """Run ``action`` with ``params`` on an outgoing document, or refuse and change nothing."""
    try:
        kind = OutgoingAction(action)
    except ValueError:
        raise ValidationError.field(
            "action", f"Thao tác «{action}» không tồn tại.", code="unknown_action"
        ) from None
    spec = SPECS[kind]
    cmd = spec.params.model_validate(params)
    with uow:
        doc = sup.lock_outgoing(uow, actor, document_id)
        before = S(doc.state)
        after = next_outgoing_state(before, kind)  # 409 first: the state decides
        if not _may(actor, doc, kind):
            raise PermissionDeniedError()
        details = spec.run(uow, actor, doc, cmd)
        doc.state = after.value
        if after is not before:
            doc.listed_at = uow.now()
        details.setdefault("version", doc.draft_version)
        trail.append(
            uow,
            doc,
            kind.value,
            actor=actor,
            from_state=before.value,
            acting=actor.acting_for(Role.CLERK)
            if kind in (A.ISSUE, A.DISPATCH, A.RECALL)
            else None,
            comment=getattr(cmd, spec.comment_field) if spec.comment_field else None,
            details=details,
        )
        uow.commit()
        return doc
