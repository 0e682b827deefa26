"""What the feedback lists and pages read: one item (with its sender only for those who may),
the boxes, the public status behind a tracking code, and the organisation's mailbox settings.

Lists never carry the sender's details; opening an item whose sender is shown is logged as a
read (``feedback.sender_read``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from docflow import audit
from docflow.actors import Actor
from docflow.enums import Role
from docflow.errors import NotFoundError, PermissionDeniedError
from docflow.feedback import policy
from docflow.feedback.states import FeedbackAction, FeedbackState, allowed_in
from docflow.models import (
    FeedbackFile,
    FeedbackItem,
    FeedbackSettings,
    FeedbackTrailEntry,
    Organization,
    User,
)
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.uow import UnitOfWork
from docflow.workdays import last_working_day, load_calendar, local_date

DEFAULT_CATEGORIES = (
    "Đất đai, xây dựng",
    "Môi trường, vệ sinh",
    "An sinh xã hội, chính sách",
    "Thái độ, tác phong cán bộ",
    "An ninh, trật tự",
    "Giao thông, hạ tầng",
    "Khác",
)
DEFAULT_RETENTION_DAYS = 730


class FeedbackBox(StrEnum):
    INBOX = "inbox"  # open items, quarantine excluded
    ALL = "all"
    QUARANTINE = "quarantine"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class SenderView:
    name: str | None
    phone: str | None
    email: str | None
    address: str | None
    share_contact: bool


@dataclass(frozen=True)
class FileView:
    id: uuid.UUID
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class TrailStep:
    seq: int
    at: dt.datetime
    actor_name: str
    organization_name: str
    action: str
    action_label: str
    to_state: str
    comment: str | None


@dataclass(frozen=True)
class FeedbackSummary:
    """A line of a box: no personal data."""

    id: uuid.UUID
    tracking_code: str | None
    channel: str
    category: str
    place: str | None
    excerpt: str
    state: FeedbackState
    quarantine_reason: str | None
    complexity: str
    received_at: dt.datetime
    due_date: dt.date
    is_overdue: bool


@dataclass(frozen=True)
class FeedbackView:
    """One item as an officer sees it. ``sender`` is None when hidden from this officer
    (``sender_hidden``) or when the citizen gave nothing."""

    id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    tracking_code: str
    channel: str
    category: str
    place: str | None
    content: str
    state: FeedbackState
    quarantine_reason: str | None
    complexity: str
    in_scope: bool | None
    received_at: dt.datetime
    due_date: dt.date
    original_due_date: dt.date
    extension_reason: str | None
    is_overdue: bool
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    task_id: uuid.UUID | None
    forwarded_to_org_id: uuid.UUID | None
    forwarded_to_agency: str | None
    letter_document_id: uuid.UUID | None
    origin_id: uuid.UUID | None
    answer: str | None
    answered_at: dt.datetime | None
    reject_reason: str | None
    sender: SenderView | None
    sender_hidden: bool
    files: list[FileView]
    trail: list[TrailStep]
    allowed_actions: list[str]


@dataclass(frozen=True)
class PublicStatus:
    """What anyone holding the tracking code sees: nothing personal, no internal names."""

    tracking_code: str
    organization_name: str
    category: str
    state: FeedbackState
    received_at: dt.datetime
    due_date: dt.date
    answer: str | None
    answered_at: dt.datetime | None


@dataclass(frozen=True)
class Mailbox:
    """An organisation's public mailbox."""

    organization_id: uuid.UUID
    code: str
    name: str
    categories: list[str]
    places: list[str]
    retention_days: int
    enabled: bool


def mailbox_of(session: Session, org: Organization) -> Mailbox:
    row = session.get(FeedbackSettings, org.id)
    return Mailbox(
        organization_id=org.id,
        code=org.code,
        name=org.name,
        categories=list(row.categories) if row else list(DEFAULT_CATEGORIES),
        places=list(row.places) if row else [],
        retention_days=row.retention_days if row else DEFAULT_RETENTION_DAYS,
        enabled=row.enabled if row else True,
    )


def find_organization(session: Session, code: str) -> Organization | None:
    org = session.scalars(
        select(Organization).where(Organization.code == code.strip().upper())
    ).one_or_none()
    return org if org is not None and org.active else None


def get_mailbox(uow: UnitOfWork, code: str) -> Mailbox:
    """The public mailbox of the organisation with ``code`` (404 when none, or closed)."""
    with uow:
        org = find_organization(uow.session, code)
        box = mailbox_of(uow.session, org) if org is not None else None
        if box is None or not box.enabled:
            raise NotFoundError("Không tìm thấy hòm thư góp ý này.", code="mailbox_not_found")
        return box


def overdue_cutoff(session: Session, today: dt.date) -> dt.date:
    """Open items due before this date are overdue (at least one working day late)."""
    cal = load_calendar(session, today - dt.timedelta(days=45), today)
    return last_working_day(cal, today)


def _is_overdue(item: FeedbackItem, cutoff: dt.date) -> bool:
    return FeedbackState(item.state).is_open and item.due_date < cutoff


def ensure_officer(actor: Actor) -> None:
    if not policy.is_officer(actor.roles | {d.role for d in actor.delegated}):
        raise PermissionDeniedError(
            "Chỉ cán bộ tiếp nhận phản ánh, văn thư hoặc lãnh đạo xem được hòm thư phản ánh.",
            code="not_feedback_officer",
        )


def is_feedback_officer(actor: Actor) -> bool:
    """Works in the organisation's feedback box (sees its items)."""
    return policy.is_officer(roles_of(actor))


def roles_of(actor: Actor) -> frozenset[Role]:
    return frozenset(actor.roles | {d.role for d in actor.delegated})


def load_item(session: Session, item_id: uuid.UUID, *, lock: bool = False) -> FeedbackItem | None:
    stmt = select(FeedbackItem).where(FeedbackItem.id == item_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def ensure_visible(actor: Actor, item: FeedbackItem | None) -> FeedbackItem:
    if item is None or not policy.can_view(
        actor.organization_id,
        roles_of(actor),
        item.organization_id,
    ):
        raise NotFoundError("Không tìm thấy phản ánh.", code="feedback_not_found")
    return item


def root_of(session: Session, item: FeedbackItem) -> FeedbackItem:
    if item.root_id is None:
        return item
    root = session.get(FeedbackItem, item.root_id)
    assert root is not None
    return root


def build_view(uow: UnitOfWork, actor: Actor, item: FeedbackItem) -> FeedbackView:
    s = uow.session
    root = root_of(s, item)
    org = s.get(Organization, item.organization_id)
    assert org is not None
    today = local_date(uow.now())
    shown = policy.can_see_sender(
        actor.organization_id,
        roles_of(actor),
        item.organization_id,
        is_root=item.root_id is None,
        share_contact=item.share_contact,
        erased=item.personal_erased_at is not None,
    )
    has_any = any((item.sender_name, item.sender_phone, item.sender_email, item.sender_address))
    sender = (
        SenderView(
            item.sender_name,
            item.sender_phone,
            item.sender_email,
            item.sender_address,
            item.share_contact,
        )
        if shown and has_any
        else None
    )
    assignee = s.get(User, item.assignee_id) if item.assignee_id else None
    orgs: dict[uuid.UUID, str] = {}
    trail = []
    for t in s.scalars(
        select(FeedbackTrailEntry)
        .where(FeedbackTrailEntry.feedback_id == item.id)
        .order_by(FeedbackTrailEntry.seq)
    ):
        if t.organization_id not in orgs:
            o = s.get(Organization, t.organization_id)
            orgs[t.organization_id] = o.name if o else ""
        trail.append(
            TrailStep(
                t.seq,
                t.at,
                t.actor_name,
                orgs[t.organization_id],
                t.action,
                FeedbackAction(t.action).label,
                t.to_state,
                t.comment,
            )
        )
    state = FeedbackState(item.state)
    if item.quarantine_reason and state is FeedbackState.RECEIVED:
        actions = {FeedbackAction.RELEASE, FeedbackAction.DISCARD}
    elif item.quarantine_reason:
        actions = set()
    else:
        actions = set(allowed_in(state)) - {FeedbackAction.RELEASE, FeedbackAction.DISCARD}
        if item.extension_reason is not None:
            actions.discard(FeedbackAction.REQUEST_EXTENSION)
    roles = roles_of(actor)
    allowed = sorted(a.value for a in actions if policy.may_act(roles, a))
    return FeedbackView(
        id=item.id,
        organization_id=item.organization_id,
        organization_name=org.name,
        tracking_code=root.tracking_code or "",
        channel=item.channel,
        category=item.category,
        place=item.place,
        content=item.content,
        state=state,
        quarantine_reason=item.quarantine_reason,
        complexity=item.complexity,
        in_scope=item.in_scope,
        received_at=item.received_at,
        due_date=item.due_date,
        original_due_date=item.original_due_date,
        extension_reason=item.extension_reason,
        is_overdue=_is_overdue(item, overdue_cutoff(s, today)),
        assignee_id=item.assignee_id,
        assignee_name=assignee.full_name if assignee else None,
        task_id=item.task_id,
        forwarded_to_org_id=item.forwarded_to_org_id,
        forwarded_to_agency=item.forwarded_to_agency,
        letter_document_id=item.letter_document_id,
        origin_id=item.origin_id,
        answer=item.answer,
        answered_at=item.answered_at,
        reject_reason=item.reject_reason,
        sender=sender,
        sender_hidden=sender is None
        and any((root.sender_name, root.sender_phone, root.sender_email, root.sender_address)),
        files=[FileView(f.id, f.filename, f.content_type, f.size) for f in item.files],
        trail=trail,
        allowed_actions=allowed,
    )


def get_feedback(uow: UnitOfWork, actor: Actor, item_id: uuid.UUID) -> FeedbackView:
    """One item of the actor's organisation's box (404 otherwise); reading a sender is logged."""
    with uow:
        item = ensure_visible(actor, load_item(uow.session, item_id))
        view = build_view(uow, actor, item)
        audit.record_read(
            uow,
            actor,
            "feedback.sender_read" if view.sender is not None else "feedback.read",
            object_type="feedback",
            object_id=item.id,
        )
        return view


def _box_filter(stmt: Any, box: FeedbackBox, cutoff: dt.date) -> Any:
    open_states = [s.value for s in FeedbackState if s.is_open]
    if box is FeedbackBox.INBOX:
        return stmt.where(
            FeedbackItem.state.in_(open_states), FeedbackItem.quarantine_reason.is_(None)
        )
    if box is FeedbackBox.QUARANTINE:
        return stmt.where(
            FeedbackItem.quarantine_reason.is_not(None), FeedbackItem.state == "received"
        )
    if box is FeedbackBox.OVERDUE:
        return stmt.where(
            FeedbackItem.state.in_(open_states),
            FeedbackItem.quarantine_reason.is_(None),
            FeedbackItem.due_date < cutoff,
        )
    return stmt


def list_feedback(
    uow: UnitOfWork,
    actor: Actor,
    *,
    box: FeedbackBox = FeedbackBox.INBOX,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[FeedbackSummary]:
    """A box of the actor's organisation, newest first (keyset pages)."""
    ensure_officer(actor)
    size = clamp_limit(limit)
    with uow:
        s = uow.session
        cutoff = overdue_cutoff(s, local_date(uow.now()))
        stmt = select(FeedbackItem).where(FeedbackItem.organization_id == actor.organization_id)
        stmt = _box_filter(stmt, box, cutoff)
        after = decode_cursor(cursor)
        if after is not None:
            at, last = dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])
            stmt = stmt.where(
                or_(
                    FeedbackItem.received_at < at,
                    and_(FeedbackItem.received_at == at, FeedbackItem.id < last),
                )
            )
        rows = list(
            s.scalars(
                stmt.order_by(FeedbackItem.received_at.desc(), FeedbackItem.id.desc()).limit(
                    size + 1
                )
            )
        )
        roots = {
            r.id: r.tracking_code
            for r in s.scalars(
                select(FeedbackItem).where(
                    FeedbackItem.id.in_([x.root_id for x in rows if x.root_id])
                )
            )
        }
        items = [
            FeedbackSummary(
                id=r.id,
                tracking_code=r.tracking_code or roots.get(r.root_id or r.id),
                channel=r.channel,
                category=r.category,
                place=r.place,
                excerpt=r.content[:160],
                state=FeedbackState(r.state),
                quarantine_reason=r.quarantine_reason,
                complexity=r.complexity,
                received_at=r.received_at,
                due_date=r.due_date,
                is_overdue=_is_overdue(r, cutoff),
            )
            for r in rows[:size]
        ]
        nxt = (
            encode_cursor([rows[size - 1].received_at.isoformat(), rows[size - 1].id])
            if len(rows) > size
            else None
        )
        return Page(items, nxt)


def public_status(uow: UnitOfWork, tracking_code: str) -> PublicStatus:
    """The status behind a tracking code (404 for an unknown one): the item the citizen sent,
    followed to where it is now when it was forwarded inside the tree."""
    code = tracking_code.strip().upper()
    with uow:
        s = uow.session
        root = s.scalars(
            select(FeedbackItem).where(FeedbackItem.tracking_code == code)
        ).one_or_none()
        if root is None:
            raise NotFoundError("Không tìm thấy mã theo dõi này.", code="tracking_code_not_found")
        current = (
            s.scalars(
                select(FeedbackItem)
                .where(FeedbackItem.root_id == root.id)
                .order_by(FeedbackItem.received_at.desc(), FeedbackItem.id.desc())
                .limit(1)
            ).first()
            or root
        )
        # A quarantined or discarded item looks like any received one: no signal to a sender
        # of spam about what was detected.
        state = FeedbackState(current.state)
        if root.quarantine_reason:
            state = FeedbackState.RECEIVED
        answered = current if current.answer else root
        org = s.get(Organization, root.organization_id)
        assert org is not None
        return PublicStatus(
            tracking_code=code,
            organization_name=org.name,
            category=root.category,
            state=state,
            received_at=root.received_at,
            due_date=current.due_date,
            answer=answered.answer,
            answered_at=answered.answered_at,
        )


def get_file(uow: UnitOfWork, actor: Actor, item_id: uuid.UUID, file_id: uuid.UUID) -> FeedbackFile:
    with uow:
        item = ensure_visible(actor, load_item(uow.session, item_id))
        row = next((f for f in item.files if f.id == file_id), None)
        if row is None:
            raise NotFoundError("Không tìm thấy tệp.", code="file_not_found")
        audit.record_read(
            uow, actor, "feedback.file_read", object_type="feedback", object_id=item.id
        )
        return row


def own_mailbox(uow: UnitOfWork, actor: Actor) -> Mailbox:
    """The actor's organisation's mailbox settings (open or closed)."""
    with uow:
        org = uow.session.get(Organization, actor.organization_id)
        assert org is not None
        return mailbox_of(uow.session, org)


def handling_choices(
    uow: UnitOfWork, actor: Actor
) -> tuple[list[tuple[uuid.UUID, str]], list[tuple[uuid.UUID, str]]]:
    """Whom an officer may assign an item to (people of the organisation), and where it may be
    forwarded inside the tree (the levels above and the organisations directly below)."""
    ensure_officer(actor)
    with uow:
        s = uow.session
        people = [
            (u.id, u.full_name)
            for u in s.scalars(
                select(User)
                .where(User.organization_id == actor.organization_id, User.active)
                .order_by(User.full_name)
            )
        ]
        above = [uuid.UUID(p) for p in actor.organization_path.strip("/").split("/") if p]
        orgs = [
            (o.id, o.name)
            for o in s.scalars(
                select(Organization)
                .where(
                    or_(
                        Organization.id.in_(above),
                        Organization.parent_id == actor.organization_id,
                    ),
                    Organization.id != actor.organization_id,
                    Organization.active,
                )
                .order_by(Organization.path)
            )
        ]
        return people, orgs
