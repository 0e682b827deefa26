"""Actions on an outgoing document (API.md §3 table): who may do each, and what it changes.

Who may do each is :mod:`docflow.outgoing.policy`; the order of the checks (404, 403, 409,
422), the state move and the trail are :mod:`docflow.engine`'s, then one commit.
``issue`` allocates the number late, signs with the number inside, stores, commits: a failed
signature rolls everything back, the number included (see :mod:`docflow.numbering`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from docflow import engine
from docflow.actors import Actor
from docflow.documents import access, trail
from docflow.documents.files import PDF, file_from_ref, read_bytes, store_bytes
from docflow.documents.notices import tell
from docflow.documents.ports import SignerUnavailableError, signing_provider
from docflow.documents.queries import settle
from docflow.documents.views import AnyDocument
from docflow.engine import Effect, Move
from docflow.errors import PermissionDeniedError, ValidationError
from docflow.models import Document, Review, TrailEntry
from docflow.outgoing import dispatch, policy
from docflow.outgoing import issue as outgoing_issue
from docflow.outgoing.commands import (
    Approve,
    Dispatch,
    Issue,
    OutgoingComment,
    Recall,
    RequestChanges,
    Sign,
    SubmitForReview,
)
from docflow.outgoing.policy import OutgoingFacts
from docflow.outgoing.queries import (
    facts_of,
    lock_outgoing,
    org_user,
    prepared_pdf,
    signature_image,
)
from docflow.outgoing.states import (
    OUTGOING_TRANSITIONS,
    OutgoingAction,
    OutgoingState,
    next_outgoing_state,
)
from docflow.transitions import actions_from
from docflow.uow import UnitOfWork
from signing import sign_as_leader

A, S = OutgoingAction, OutgoingState


def possible(doc: Document, action: OutgoingAction) -> bool:
    """The transition table allows ``action`` in the document's state."""
    return action in _FROM_STATE.get(doc.state, ())


#: The moves of the table from each state, in the order the answers list them.
_FROM_STATE = actions_from(OUTGOING_TRANSITIONS, OutgoingAction)


def allowed_actions(actor: Actor, doc: AnyDocument) -> list[str]:
    if doc.state not in _FROM_STATE or doc.direction != "outgoing":
        return []
    if not access.can_see(actor, doc):
        return []
    return list(_allowed(actor, facts_of(doc)))


@functools.lru_cache(maxsize=1024)
def _allowed(actor: Actor, facts: OutgoingFacts) -> tuple[str, ...]:
    """What the table and the policy allow ``actor`` on a document of these facts, decided
    once for the documents that share them (as ``docflow.incoming.actions._allowed``)."""
    return tuple(
        a.value
        for a in _FROM_STATE.get(facts.state.value, ())
        if policy.decide(actor, facts, a).allowed
    )


def may(actor: Actor, doc: Document, action: OutgoingAction) -> bool:
    """The actor sees the document and may do ``action`` to it now."""
    return (
        access.can_see(actor, doc)
        and possible(doc, action)
        and policy.decide(actor, facts_of(doc), action).allowed
    )


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
    to = org_user(uow, actor, cmd.to_user_id, "to_user_id", "Người nhận phải là người của cơ quan.")
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
    doc.submitted_to = to  # the id and the person the answer names
    tell(uow, [to.id], doc, "draft_submitted", "Dự thảo văn bản đi chờ ý kiến của đồng chí")
    return {"to_user_id": str(to.id), "to_name": to.full_name}


def _do_request_changes(
    uow: UnitOfWork, actor: Actor, doc: Document, cmd: RequestChanges
) -> dict[str, Any]:
    review = _open_review(doc, actor.user_id)
    _close_review(uow, doc, actor, "changes_requested", cmd.comment)
    doc.submitted_to = None
    asked_by = review.requested_by_id if review is not None else None
    tell(
        uow,
        [asked_by, doc.created_by_id],
        doc,
        "draft_returned",
        "Dự thảo được trả lại để chỉnh sửa",
        skip=actor.user_id,
    )
    return {}


def _do_approve(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Approve) -> dict[str, Any]:
    prepared_pdf(uow, doc)  # nothing to approve while the PDF is not ready
    _close_review(uow, doc, actor, "approved", cmd.comment)
    return {}


def _do_sign(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Sign) -> dict[str, Any]:
    provider = signing_provider(uow)
    key = provider.personal_signer(actor.username)
    if key is None:
        raise SignerUnavailableError()
    version, source = prepared_pdf(uow, doc)
    signed = sign_as_leader(
        read_bytes(uow, source),
        key,
        signature_image=signature_image(uow, actor.user_id),
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
    ref = store_bytes(uow, signed, PDF)
    uow.session.add(
        file_from_ref(
            ref,
            document_id=doc.id,
            kind="signed",
            version=version,
            name=f"Văn bản đã ký - bản {version}.pdf",
            by=actor.user_id,
        )
    )
    review = _open_review(doc, actor.user_id)
    _close_review(uow, doc, actor, "signed", comment)
    doc.submitted_to = None
    asked_by = review.requested_by_id if review is not None else None
    tell(
        uow,
        [asked_by, doc.created_by_id],
        doc,
        "draft_signed",
        "Văn bản đi đã được ký, chờ phát hành",
        skip=actor.user_id,
    )


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


def run_move(
    uow: UnitOfWork,
    actor: Actor,
    doc: Document,
    kind: OutgoingAction,
    *,
    parse: Callable[[], Any],
    effect: Callable[[Any], Effect],
    preconditions: Iterable[Callable[[], None]] = (),
) -> Move[OutgoingState]:
    """One move of the locked ``doc`` through the engine: 403, 409, then the effect, the new
    state and the trail entry (naming the delegation used). Signing sessions use it too."""

    def set_state(after: OutgoingState) -> None:
        before = doc.state
        doc.state = after.value
        if after.value != before:
            doc.listed_at = uow.now()

    def record(move: Move[OutgoingState], done: Effect) -> TrailEntry:
        details = {**done.details}
        details.setdefault("version", doc.draft_version)
        return trail.append(
            uow,
            doc,
            kind.value,
            actor=actor,
            from_state=move.before.value,
            acting=move.decision.acting,
            comment=done.comment,
            details=details,
        )

    move, _ = engine.perform(
        policy.decide(actor, facts_of(doc), kind),
        S(doc.state),
        lambda state: next_outgoing_state(state, kind),
        forbidden=PermissionDeniedError,
        preconditions=preconditions,
        parse=parse,
        effect=effect,
        set_state=set_state,
        record=record,
    )
    return move


def in_one_transaction(action: str, params: dict[str, Any]) -> bool:
    """Whether :func:`act` runs ``action`` in one transaction that holds no lock while waiting
    on the network, so that a request may run it in the unit its token was read in
    (``app.api.spec.write_scoped``). Signing through a remote service (``method="csc"``)
    commits before it talks to the service and again after: it runs in units of its own."""
    return not (action == A.SIGN.value and params.get("method") == "csc")


def act(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, action: str, params: dict[str, Any]
) -> Document:
    """Run ``action`` with ``params`` on an outgoing document, or refuse and change nothing
    (in the engine's refusal order, :mod:`docflow.engine`)."""
    try:
        kind = OutgoingAction(action)
    except ValueError:
        raise ValidationError.field(
            "action", f"Thao tác «{action}» không tồn tại.", code="unknown_action"
        ) from None
    if not in_one_transaction(action, params):
        # Remote signing talks to the service outside the row lock (see remote_signing).
        from docflow.outgoing.remote_signing import sign_one_remotely

        return sign_one_remotely(uow, actor, document_id, params)
    spec = SPECS[kind]
    with uow:
        doc = lock_outgoing(uow, actor, document_id)

        def effect(cmd: Any) -> Effect:
            details = spec.run(uow, actor, doc, cmd)
            comment = getattr(cmd, spec.comment_field) if spec.comment_field else None
            return Effect(comment, details)

        run_move(
            uow, actor, doc, kind, parse=lambda: spec.params.model_validate(params), effect=effect
        )
        settle(uow, doc)  # the row as the action left it: the answer (app.api.documents)
        uow.commit()
        return doc
