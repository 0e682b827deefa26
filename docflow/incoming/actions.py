"""Actions on an incoming document (API.md §3 table): what each changes.

Who may do each is :mod:`docflow.incoming.policy`; the order of the checks, the state move and
the trail are :mod:`docflow.engine`'s.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from docflow import engine, outgoing
from docflow.actors import Actor
from docflow.documents import access, trail
from docflow.documents.notices import tell
from docflow.documents.queries import lock_document, settle
from docflow.documents.views import AnyDocument
from docflow.engine import Effect, Move
from docflow.enums import Role, Secrecy
from docflow.errors import (
    PermissionDeniedError,
    TransitionNotAllowedError,
    ValidationError,
)
from docflow.incoming import policy
from docflow.incoming.commands import (
    AcceptRecall,
    AddComment,
    Assign,
    Complete,
    NoParams,
    RegisterArrived,
    Reject,
    Return,
    Submit,
    Target,
)
from docflow.incoming.policy import Holder, IncomingFacts
from docflow.incoming.queries import OPEN, facts_of, leader_directs, open_assignments
from docflow.incoming.services import incoming_register, number_in_register
from docflow.incoming.states import (
    INCOMING_TRANSITIONS,
    AssignmentRole,
    AssignmentState,
    IncomingAction,
    IncomingState,
    next_incoming_state,
)
from docflow.models import Assignment, Document, TrailEntry, Unit, User
from docflow.statistics import statistics_changed
from docflow.transitions import actions_from
from docflow.uow import UnitOfWork
from docflow.workdays import due_after, local_date

A = IncomingAction


def _unit_assignment_of(actor: Actor, doc: Document) -> Assignment | None:
    """The open unit-level assignment a unit head may pass on inside the unit."""
    if not actor.has_role(Role.UNIT_HEAD) or actor.unit_id is None:
        return None
    for a in open_assignments(doc):
        if (
            a.unit_id == actor.unit_id
            and a.user_id is None
            and a.role != AssignmentRole.INFORMED.value
        ):
            return a
    return None


#: The moves of the table from each state, in the order the answers list them.
_FROM_STATE = actions_from(INCOMING_TRANSITIONS, IncomingAction)


def _possible(doc: AnyDocument, action: IncomingAction) -> bool:
    """The table allows the move now (and a recall decision has a request to decide)."""
    return _possible_in(doc.state, doc.recall_request is not None, action)


def _possible_in(state: str, recall_requested: bool, action: IncomingAction) -> bool:
    if action not in _FROM_STATE.get(state, ()):
        return False
    return action not in RECALL_DECISIONS or recall_requested


def allowed_actions(actor: Actor, doc: AnyDocument) -> list[str]:
    if doc.state not in _FROM_STATE or doc.direction != "incoming":
        return []
    if not access.can_see(actor, doc):
        return []
    return list(_allowed(actor, facts_of(doc), doc.recall_request is not None))


@functools.lru_cache(maxsize=1024)
def _allowed(actor: Actor, facts: IncomingFacts, recall_requested: bool) -> tuple[str, ...]:
    """What the table (:func:`_possible`) and the policy allow ``actor`` on a document of these
    facts. Neither reads anything else, so the documents of a page that share their facts (the
    state, the same holders) are decided once, and again only for another reader (issue 19:
    deciding each document's moves was a twelfth of a box page's CPU)."""
    return tuple(
        a.value
        for a in _FROM_STATE.get(facts.state.value, ())
        if _possible_in(facts.state.value, recall_requested, a)
        and policy.decide(actor, facts, a).allowed
    )


# --- the actions


NOT_CLEARED = "Người nhận chưa được phép xem văn bản có độ mật này."


def _target_in_org(
    uow: UnitOfWork, actor: Actor, t: Target, field: str, doc: Document
) -> tuple[Unit | None, User | None]:
    s = uow.session
    if t.unit_id is not None:
        unit = s.get(Unit, t.unit_id)
        if unit is None or unit.organization_id != actor.organization_id or not unit.active:
            raise ValidationError.field(field, "Đơn vị không thuộc cơ quan này.")
        return unit, None
    user = s.get(User, t.user_id)
    if user is None or user.organization_id != actor.organization_id or not user.active:
        raise ValidationError.field(field, "Người nhận không thuộc cơ quan này.")
    if not access.user_cleared_for(user, doc.secrecy_rank):
        raise ValidationError.field(field, NOT_CLEARED, code="recipient_not_cleared")
    return None, user


def _due(uow: UnitOfWork, cmd: Assign) -> dt.date | None:
    if cmd.due_in_working_days is None:
        return cmd.due_date
    return due_after(uow.session, local_date(uow.now()), cmd.due_in_working_days)


def _do_register(
    uow: UnitOfWork, actor: Actor, doc: Document, cmd: RegisterArrived
) -> dict[str, Any]:
    reg = incoming_register(uow, actor, cmd.register_id, Secrecy(doc.secrecy))
    number_in_register(uow, doc, reg)
    doc.registered_at = uow.now()
    return {"register_number": doc.register_number}


def _do_reject(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Reject) -> dict[str, Any]:
    return {"reason": cmd.reason}


def _do_submit(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Submit) -> dict[str, Any]:
    leader = uow.session.get(User, cmd.to_user_id)
    if (
        leader is None
        or leader.organization_id != actor.organization_id
        or not leader.active
        or Role.LEADER not in leader.roles
    ):
        raise ValidationError.field("to_user_id", "Người nhận phải là lãnh đạo của cơ quan.")
    if not access.user_cleared_for(leader, doc.secrecy_rank):
        raise ValidationError.field("to_user_id", NOT_CLEARED, code="recipient_not_cleared")
    doc.submitted_to = leader  # the id and the person the answer names
    tell(uow, [leader.id], doc, "document_submitted", "Văn bản đến chờ ý kiến chỉ đạo")
    return {"to_user_id": str(leader.id), "to_name": leader.full_name}


def _do_assign(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Assign) -> dict[str, Any]:
    s = uow.session
    now = uow.now()
    parent = None
    if not leader_directs(actor, doc):
        parent = _unit_assignment_of(actor, doc)
        if parent is None:
            raise PermissionDeniedError()
        # Inside the unit: only people of the unit, the unit's deadline at the latest.
        for field, t in [("lead", cmd.lead), *[("cooperating", c) for c in cmd.cooperating]]:
            _, user = _target_in_org(uow, actor, t, field, doc)
            if user is None or user.unit_id != actor.unit_id:
                raise ValidationError.field(field, "Chỉ giao cho người trong đơn vị của mình.")
        if cmd.informed:
            raise ValidationError.field("informed", "Trong đơn vị chỉ giao chủ trì và phối hợp.")
    due = _due(uow, cmd)
    if due is not None and due < local_date(now):
        raise ValidationError.field("due_date", "Hạn giải quyết không được trước hôm nay.")
    if parent is None:
        for old in open_assignments(doc):  # the leader's new direction replaces the old one
            old.state = AssignmentState.CANCELLED.value
        doc.due_date = due
    else:
        parent.state = AssignmentState.PASSED_ON.value
        due = due or parent.due_date
    made = []
    named: list[uuid.UUID] = []
    groups = [
        (AssignmentRole.LEAD, [cmd.lead]),
        (AssignmentRole.COOPERATING, cmd.cooperating),
        (AssignmentRole.INFORMED, cmd.informed),
    ]
    seen: set[tuple[uuid.UUID | None, uuid.UUID | None]] = set()
    for role, targets in groups:
        for t in targets:
            key = (t.unit_id, t.user_id)
            if key in seen:
                raise ValidationError.field(
                    role.value, "Một đơn vị hoặc người chỉ được giao một vai trò."
                )
            seen.add(key)
            unit, user = _target_in_org(uow, actor, t, role.value, doc)
            role_here = (
                role
                if parent is None or role is not AssignmentRole.LEAD
                else AssignmentRole(parent.role)
            )
            a = Assignment(
                document_id=doc.id,
                role=role_here.value,
                unit_id=unit.id if unit else (user.unit_id if user and parent else None),
                user_id=user.id if user else None,
                parent_id=parent.id if parent else None,
                due_date=due,
                state=(
                    AssignmentState.DONE
                    if role is AssignmentRole.INFORMED
                    else AssignmentState.PENDING
                ).value,
                assigned_by_id=actor.user_id,
                assigned_at=now,
                comment=cmd.comment,
            )
            s.add(a)
            if user is not None:
                named.append(user.id)
            made.append(
                {
                    "role": role_here.value,
                    "unit": unit.name if unit else None,
                    "user": user.full_name if user else None,
                }
            )
    s.flush()
    s.refresh(doc, ["assignments"])
    tell(
        uow,
        [u for u in named if u != actor.user_id],
        doc,
        "document_assigned",
        "Văn bản đến được giao xử lý",
    )
    return {
        "assignments": made,
        "due_date": due.isoformat() if due else None,
        "within_unit": parent is not None,
    }


def _do_start(uow: UnitOfWork, actor: Actor, doc: Document, cmd: NoParams) -> dict[str, Any]:
    for a in open_assignments(doc, AssignmentRole.LEAD):
        if policy.holds(actor, Holder(a.user_id, a.unit_id)):
            a.state = AssignmentState.IN_PROGRESS.value
    return {}


def _do_complete(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Complete) -> dict[str, Any]:
    if cmd.reply_document_id is not None:
        # Only a document the handler can see (same organisation, within their clearance):
        # an invisible one is answered exactly like a missing one.
        reply = access.find_visible(uow.session, actor, cmd.reply_document_id)
        if reply is None or reply.id == doc.id:
            raise ValidationError.field("reply_document_id", "Không tìm thấy văn bản trả lời.")
        doc.reply_document_id = reply.id
    now = uow.now()
    today = local_date(now)
    for a in doc.assignments:
        # Open ones, and unit-level ones passed on to a person: the work is done for all.
        if a.state in OPEN or a.state == AssignmentState.PASSED_ON.value:
            a.state = AssignmentState.DONE.value
            a.completed_at = now
            a.finished_on = today
    return {"reply_document_id": str(cmd.reply_document_id) if cmd.reply_document_id else None}


def _do_return(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Return) -> dict[str, Any]:
    for a in open_assignments(doc):
        a.state = AssignmentState.CANCELLED.value
    doc.submitted_to = None
    return {}


def _do_comment(uow: UnitOfWork, actor: Actor, doc: Document, cmd: AddComment) -> dict[str, Any]:
    return {}


RECALL_DECISIONS = (A.ACCEPT_RECALL, A.REFUSE_RECALL)


def _recall_details(doc: Document) -> dict[str, Any]:
    request = dict(doc.recall_request or {})
    doc.recall_request = None
    return {"request_reason": request.get("reason"), "by": request.get("by")}


def _do_accept_recall(
    uow: UnitOfWork, actor: Actor, doc: Document, cmd: AcceptRecall
) -> dict[str, Any]:
    """The sender's recall stands: open work is cancelled, the register entry and trail stay."""
    for a in open_assignments(doc):
        a.state = AssignmentState.CANCELLED.value
    doc.submitted_to = None
    return _recall_details(doc)


def _do_refuse_recall(uow: UnitOfWork, actor: Actor, doc: Document, cmd: Reject) -> dict[str, Any]:
    """The copy stays as it is; the sender gets 16 with the reason."""
    return {**_recall_details(doc), "reason": cmd.reason}


@dataclass(frozen=True)
class _Spec:
    params: type[BaseModel]
    run: Callable[[UnitOfWork, Actor, Document, Any], dict[str, Any]]
    comment_field: str | None = "comment"


SPECS: dict[IncomingAction, _Spec] = {
    A.REGISTER: _Spec(RegisterArrived, _do_register, None),
    A.REJECT: _Spec(Reject, _do_reject, "reason"),
    A.SUBMIT: _Spec(Submit, _do_submit),
    A.ASSIGN: _Spec(Assign, _do_assign),
    A.START: _Spec(NoParams, _do_start, None),
    A.COMPLETE: _Spec(Complete, _do_complete),
    A.RETURN: _Spec(Return, _do_return),
    A.COMMENT: _Spec(AddComment, _do_comment),
    A.ACCEPT_RECALL: _Spec(AcceptRecall, _do_accept_recall),
    A.REFUSE_RECALL: _Spec(Reject, _do_refuse_recall, "reason"),
}


# The actions that change the lead assignments the processing statistics count.
COUNTED_ACTIONS = frozenset({A.ASSIGN, A.COMPLETE, A.RETURN, A.ACCEPT_RECALL})


def in_one_transaction(action: str, params: dict[str, Any]) -> bool:
    """Whether :func:`act` runs ``action`` in one transaction that holds no lock while waiting
    on the network (``app.api.spec.write_scoped``): every incoming action does."""
    del action, params
    return True


def act(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, action: str, params: dict[str, Any]
) -> Document:
    """Run ``action`` with ``params`` on an incoming document, or refuse and change nothing
    (in the engine's refusal order, :mod:`docflow.engine`)."""
    try:
        kind = IncomingAction(action)
    except ValueError:
        raise ValidationError.field(
            "action", f"Thao tác «{action}» không tồn tại.", code="unknown_action"
        ) from None
    spec = SPECS[kind]
    with uow:
        # Lock the row (not the joined ones): concurrent actions on one document queue up.
        doc = lock_document(uow, actor, document_id, "incoming")

        def no_request() -> None:
            if kind in RECALL_DECISIONS and doc.recall_request is None:
                raise TransitionNotAllowedError(
                    "Văn bản này không có yêu cầu thu hồi đang chờ xử lý.",
                    code="no_recall_request",
                    details={"state": doc.state, "action": kind.value},
                )

        def effect(cmd: Any) -> Effect:
            details = spec.run(uow, actor, doc, cmd)
            comment = getattr(cmd, spec.comment_field) if spec.comment_field else None
            return Effect(comment, details)

        def set_state(after: IncomingState) -> None:
            doc.state = after.value
            if kind is A.REGISTER or kind is A.RETURN:
                doc.listed_at = uow.now()

        def record(move: Move[IncomingState], done: Effect) -> TrailEntry:
            entry = trail.append(
                uow,
                doc,
                kind.value,
                actor=actor,
                from_state=move.before.value,
                acting=move.decision.acting,
                comment=done.comment,
                details=done.details,
            )
            if move.after is not move.before:
                # A document another organisation sent us: its sender follows our progress.
                reason = done.comment if kind is A.REJECT else None
                outgoing.notify_state_change(uow, doc, entry.seq, reason=reason)
            elif kind is A.REFUSE_RECALL:
                outgoing.notify_state_change(uow, doc, entry.seq, reason=done.comment, code="16")
            return entry

        engine.perform(
            policy.decide(actor, facts_of(doc), kind),
            IncomingState(doc.state),
            lambda state: next_incoming_state(state, kind),
            forbidden=PermissionDeniedError,
            preconditions=[no_request],
            parse=lambda: spec.params.model_validate(params),
            effect=effect,
            set_state=set_state,
            record=record,
        )
        if kind in COUNTED_ACTIONS:
            statistics_changed(uow, doc.organization_id)
        settle(uow, doc)  # the row as the action left it: the answer (app.api.documents)
        uow.commit()
        return doc
