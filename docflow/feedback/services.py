"""Use cases of citizen feedback: a citizen's submission, a paper letter registered, every move
of API.md §7, the mailbox settings, reminders and the erasure of senders' details.

Each is one transaction: load (and lock) the item, check who may act (:mod:`policy`), check the
move (:mod:`states`), apply it, append the trail and the audit entry, notify, commit. A refusal
raises before anything is written, so bad input changes nothing. The audit log and the
notifications never carry the sender's details or the content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite

from docflow import audit, engine
from docflow.actors import Actor, DelegatedRole
from docflow.enums import Role
from docflow.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from docflow.feedback import policy
from docflow.feedback.commands import (
    ActionCommand,
    Answer,
    Assign,
    Classify,
    Forward,
    MailboxSettings,
    RegisterPaper,
    Reject,
    RequestExtension,
    Sender,
    SubmitFeedback,
)
from docflow.feedback.letters import draft_letter
from docflow.feedback.queries import (
    FeedbackView,
    Mailbox,
    build_view,
    ensure_officer,
    ensure_visible,
    find_organization,
    load_item,
    mailbox_of,
    root_of,
)
from docflow.feedback.states import Complexity, FeedbackAction, FeedbackState, next_state
from docflow.models import (
    FeedbackFile,
    FeedbackItem,
    FeedbackSettings,
    FeedbackTrailEntry,
    Organization,
    ReminderSent,
    User,
    UserRole,
)
from docflow.notifications import notify
from docflow.outgoing import may_draft
from docflow.tasks import CreateTask, create_task
from docflow.uow import UnitOfWork
from docflow.uploads import FileRefusedError, Upload, store_uploads
from docflow.workdays import due_after, load_calendar, local_date
from storage import FileType, UploadLimits

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_TYPES = frozenset({FileType.JPEG, FileType.PNG, FileType.PDF})
DUPLICATE_WINDOW = dt.timedelta(days=1)
MAX_LINKS = 3
ANSWER_EMAIL_TOPIC = "feedback.answer_email"
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed on a phone


@dataclass(frozen=True)
class Receipt:
    """What the citizen gets back: the code to look the item up with."""

    tracking_code: str
    due_date: dt.date


#: Kept for callers of the feedback surface: a refused file is the one
#: :class:`docflow.uploads.FileRefusedError` every upload path raises.
FeedbackFileRefusedError = FileRefusedError


def content_digest(organization_id: uuid.UUID, content: str) -> str:
    """The same text, whatever the case, spacing and punctuation, to the same organisation."""
    norm = " ".join(re.sub(r"[^\w\s]", " ", content.lower()).split())
    return hashlib.sha256(f"{organization_id}:{norm}".encode()).hexdigest()


def new_tracking_code() -> str:
    body = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))
    return f"PA-{body[:4]}-{body[4:]}"


def _officers(uow: UnitOfWork, organization_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        uow.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.organization_id == organization_id,
                User.active,
                UserRole.role.in_([r.value for r in policy.DECIDING_ROLES | {Role.CLERK}]),
            )
            .distinct()
        )
    )


def _append(
    uow: UnitOfWork,
    item: FeedbackItem,
    action: FeedbackAction,
    *,
    actor: Actor | None,
    from_state: str | None,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
    actor_name: str = "Người dân",
    acting: DelegatedRole | None = None,
) -> FeedbackTrailEntry:
    """One step of the trail and its audit entry; a move made through a delegation names the
    delegator and the competence (in the details, and in the audit entry's own columns)."""
    if acting is not None:
        details = {
            **(details or {}),
            "on_behalf_of_id": str(acting.delegator_id),
            "on_behalf_of_name": acting.delegator_name,
            "competence": acting.competence,
        }
    item.trail_seq += 1
    entry = FeedbackTrailEntry(
        feedback_id=item.id,
        seq=item.trail_seq,
        at=uow.now(),
        actor_id=actor.user_id if actor else None,
        actor_name=actor.full_name if actor else actor_name,
        organization_id=item.organization_id,
        action=action.value,
        from_state=from_state,
        to_state=item.state,
        comment=comment,
        details=details or {},
    )
    uow.session.add(entry)
    audit.record(
        uow,
        f"feedback.{action.value}",
        actor=actor,
        organization_id=item.organization_id,
        object_type="feedback",
        object_id=item.id,
        details={"state": item.state, **(details or {})},
        actor_name=None if actor else actor_name,
        acting_as=acting,
    )
    return entry


def _store_files(uow: UnitOfWork, item: FeedbackItem, uploads: Sequence[Upload]) -> None:
    """Citizens' photos and files take the checked path of every upload, with the mailbox's
    narrower limits (JPEG, PNG, PDF; 10 MB each)."""
    limits = UploadLimits(max_size=MAX_FILE_BYTES, allowed_types=FILE_TYPES)
    for i, stored in enumerate(store_uploads(uow, uploads, limits)):
        checked = stored.checked
        item.files.append(
            FeedbackFile(
                position=i,
                filename=checked.filename,
                content_type=checked.ref.content_type,
                size=checked.ref.size,
                sha256=checked.ref.sha256,
                object_key=checked.ref.key,
                created_at=uow.now(),
            )
        )


def _check_choice(value: str | None, choices: list[str], field: str, label: str) -> str | None:
    if value is None or value == "":
        return None
    if choices and value not in choices:
        raise ValidationError.field(field, f"{label} không có trong danh sách của hòm thư.")
    return value


def _new_item(
    uow: UnitOfWork,
    org: Organization,
    box: Mailbox,
    cmd: Sender,
    *,
    category: str | None,
    place: str | None,
    content: str,
    channel: str,
    received_on: dt.date,
) -> FeedbackItem:
    s = uow.session
    category = _check_choice(category, box.categories, "category", "Lĩnh vực") or (
        "Khác" if "Khác" in box.categories or not box.categories else box.categories[-1]
    )
    place = _check_choice(place, box.places, "place", "Thôn, tổ dân phố")
    due = due_after(s, received_on, Complexity.SIMPLE.working_days)
    code = new_tracking_code()
    while s.scalars(select(FeedbackItem.id).where(FeedbackItem.tracking_code == code)).first():
        code = new_tracking_code()  # pragma: no cover - 32^8 codes
    item = FeedbackItem(
        id=uuid.uuid4(),
        organization_id=org.id,
        tracking_code=code,
        channel=channel,
        category=category,
        place=place,
        content=content,
        sender_name=cmd.name,
        sender_phone=cmd.phone,
        sender_email=cmd.email,
        sender_address=cmd.address,
        consent=True,
        share_contact=cmd.share_contact,
        content_digest=content_digest(org.id, content),
        state=FeedbackState.RECEIVED.value,
        complexity=Complexity.SIMPLE.value,
        received_at=uow.now(),
        received_on=received_on,
        due_date=due,
        original_due_date=due,
        trail_seq=0,
        files=[],
    )
    return item


def _suspicion(uow: UnitOfWork, item: FeedbackItem, honeypot: str | None) -> str | None:
    """Why a submission goes to quarantine instead of the box, if it does."""
    if honeypot:
        return "honeypot"
    if len(re.findall(r"https?://|www\.", item.content, flags=re.IGNORECASE)) >= MAX_LINKS:
        return "links"
    since = uow.now() - DUPLICATE_WINDOW
    twin = uow.session.scalars(
        select(FeedbackItem.id).where(
            FeedbackItem.organization_id == item.organization_id,
            FeedbackItem.content_digest == item.content_digest,
            FeedbackItem.received_at >= since,
        )
    ).first()
    return "duplicate" if twin is not None else None


def submit_feedback(uow: UnitOfWork, cmd: SubmitFeedback, files: Sequence[Upload] = ()) -> Receipt:
    """A citizen's submission through the public page or API (no sign-in).

    Refused (404) for an unknown or closed mailbox; 422 for a category or place not in the
    mailbox's lists or more than :data:`MAX_FILES` files; 413/415/422 for a file the upload
    checks refuse. A suspicious one (honeypot filled, many links, the same text to the same
    organisation within a day) is stored in quarantine and answered like any other.
    """
    with uow:
        s = uow.session
        org = find_organization(s, cmd.organization_code)
        box = mailbox_of(s, org) if org is not None else None
        if org is None or box is None or not box.enabled:
            raise NotFoundError("Không tìm thấy hòm thư góp ý này.", code="mailbox_not_found")
        if len(files) > MAX_FILES:
            raise ValidationError.field("files", f"Gửi tối đa {MAX_FILES} ảnh hoặc tệp.")
        item = _new_item(
            uow,
            org,
            box,
            cmd,
            category=cmd.category,
            place=cmd.place,
            content=cmd.content,
            channel="web",
            received_on=local_date(uow.now()),
        )
        item.quarantine_reason = _suspicion(uow, item, cmd.website)
        _store_files(uow, item, files)
        s.add(item)
        s.flush()
        _append(
            uow,
            item,
            FeedbackAction.RECEIVE,
            actor=None,
            from_state=None,
            details={
                "channel": "web",
                "files": len(files),
                **({"quarantine": item.quarantine_reason} if item.quarantine_reason else {}),
            },
        )
        if item.quarantine_reason is None:
            notify(
                uow,
                _officers(uow, org.id),
                kind="feedback_received",
                title=f"Phản ánh mới {item.tracking_code}",
                body=f"Lĩnh vực: {item.category}. Hạn trả lời: {item.due_date:%d/%m/%Y}.",
                link=f"/feedback/{item.id}",
            )
        receipt = Receipt(item.tracking_code or "", item.due_date)
        uow.commit()
        return receipt


def register_paper(uow: UnitOfWork, actor: Actor, cmd: RegisterPaper) -> FeedbackView:
    """A letter from the backup mailbox, entered by an officer into the same box."""
    ensure_officer(actor)
    with uow:
        s = uow.session
        org = s.get(Organization, actor.organization_id)
        assert org is not None
        box = mailbox_of(s, org)
        today = local_date(uow.now())
        received_on = cmd.received_on or today
        if received_on > today:
            raise ValidationError.field("received_on", "Ngày nhận không được sau hôm nay.")
        item = _new_item(
            uow,
            org,
            box,
            cmd,
            category=cmd.category,
            place=cmd.place,
            content=cmd.content,
            channel="paper",
            received_on=received_on,
        )
        s.add(item)
        s.flush()
        _append(
            uow,
            item,
            FeedbackAction.RECEIVE,
            actor=actor,
            from_state=None,
            details={"channel": "paper", "received_on": received_on.isoformat()},
        )
        view = build_view(uow, actor, item)
        uow.commit()
        return view


def _erase_sender(item: FeedbackItem, now: dt.datetime) -> None:
    item.sender_name = item.sender_phone = item.sender_email = item.sender_address = None
    item.personal_erased_at = now


def _copy_to(uow: UnitOfWork, actor: Actor, item: FeedbackItem, target: Organization) -> None:
    """The item arrives in ``target``'s box with its history; the sender's details only when
    the sender agreed."""
    share = item.share_contact
    root = root_of(uow.session, item)
    copy = FeedbackItem(
        id=uuid.uuid4(),
        organization_id=target.id,
        root_id=root.id,
        origin_id=item.id,
        tracking_code=None,
        channel=item.channel,
        category=item.category,
        place=item.place,
        content=item.content,
        sender_name=item.sender_name if share else None,
        sender_phone=item.sender_phone if share else None,
        sender_email=item.sender_email if share else None,
        sender_address=item.sender_address if share else None,
        consent=item.consent,
        share_contact=share,
        content_digest=content_digest(target.id, item.content),
        state=FeedbackState.RECEIVED.value,
        complexity=item.complexity,
        in_scope=None,
        received_at=uow.now(),
        received_on=local_date(uow.now()),
        # The citizen's deadline travels with the item.
        due_date=item.due_date,
        original_due_date=item.original_due_date,
        trail_seq=0,
        files=[
            FeedbackFile(
                position=f.position,
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                object_key=f.object_key,
                created_at=uow.now(),
            )
            for f in item.files
        ],
    )
    uow.session.add(copy)
    uow.session.flush()
    source = uow.session.get(Organization, item.organization_id)
    _append(
        uow,
        copy,
        FeedbackAction.RECEIVE_FORWARDED,
        actor=actor,
        from_state=None,
        details={"from_organization_id": str(item.organization_id), "origin_id": str(item.id)},
        comment=f"Chuyển từ {source.name if source else ''}",
    )
    notify(
        uow,
        _officers(uow, target.id),
        kind="feedback_forwarded",
        title=f"Phản ánh được chuyển đến ({root.tracking_code})",
        body=f"Hạn trả lời: {copy.due_date:%d/%m/%Y}.",
        link=f"/feedback/{copy.id}",
    )


def _propagate_answer(uow: UnitOfWork, item: FeedbackItem) -> None:
    """The body an item was forwarded to answered: the organisations it passed through see
    the answer too (and the citizen, on the tracking page)."""
    origin_id = item.origin_id
    while origin_id is not None:
        origin = load_item(uow.session, origin_id, lock=True)
        if origin is None:
            return
        if origin.state == FeedbackState.FORWARDED.value:
            before = origin.state
            origin.state = next_state(
                FeedbackState.FORWARDED, FeedbackAction.ANSWERED_BY_RECEIVER
            ).value
            origin.answer = item.answer
            origin.answered_at = item.answered_at
            origin.answered_on = item.answered_on
            origin.answered_by_id = item.answered_by_id
            _append(
                uow,
                origin,
                FeedbackAction.ANSWERED_BY_RECEIVER,
                actor=None,
                actor_name="Hệ thống",
                from_state=before,
                details={"by_organization_id": str(item.organization_id)},
            )
        origin_id = origin.origin_id


def _apply(
    uow: UnitOfWork, actor: Actor, item: FeedbackItem, cmd: ActionCommand
) -> tuple[str | None, dict[str, Any]]:
    """The action's effect on the item; returns the trail comment and details."""
    s = uow.session
    now = uow.now()
    if isinstance(cmd, Reject):
        item.reject_reason = cmd.reason
        return cmd.reason, {}
    if isinstance(cmd, Classify):
        org = s.get(Organization, item.organization_id)
        assert org is not None
        if cmd.category is not None:
            item.category = (
                _check_choice(cmd.category, mailbox_of(s, org).categories, "category", "Lĩnh vực")
                or item.category
            )
        item.complexity = cmd.complexity.value
        item.in_scope = cmd.in_scope
        # Counted from the day the citizen sent it, whoever holds it now.
        start = root_of(s, item).received_on
        due = due_after(s, start, cmd.complexity.working_days)
        if item.extension_reason is None:
            item.due_date = due
        else:
            # Extended before it was found complex (or simple): the new time limit, and the
            # working days the extension granted past the one it extended on top of it.
            cal = load_calendar(
                s,
                min(item.original_due_date, due),
                max(item.due_date, due) + dt.timedelta(days=90),
            )
            granted = max(0, cal.working_days_between(item.original_due_date, item.due_date))
            item.due_date = cal.add_working_days(due, granted)
        item.original_due_date = due
        return cmd.comment, {
            "complexity": cmd.complexity.value,
            "in_scope": cmd.in_scope,
            "category": item.category,
            "due_date": item.due_date.isoformat(),
        }
    if isinstance(cmd, Assign):
        user = s.get(User, cmd.user_id)
        if user is None or user.organization_id != item.organization_id or not user.active:
            raise ValidationError.field("user_id", "Người được giao không thuộc cơ quan của bạn.")
        item.assignee_id = user.id
        details: dict[str, Any] = {"user_id": str(user.id)}
        if actor.has_role(Role.LEADER) or actor.has_role(Role.UNIT_HEAD):
            root = root_of(s, item)
            today = local_date(now)
            task = create_task(
                uow,
                actor,
                CreateTask.model_validate(
                    {
                        "title": f"Xử lý phản ánh {root.tracking_code} ({item.category})",
                        "description": "Nội dung và tệp kèm theo xem trong hòm thư phản ánh.",
                        "lead": {"user_id": user.id},
                        "due_date": max(item.due_date, today),
                    }
                ),
            )
            item.task_id = task.id
            details["task_id"] = str(task.id)
        else:
            notify(
                uow,
                [user.id],
                kind="feedback_assigned",
                title="Được giao xử lý phản ánh",
                body=f"Hạn trả lời: {item.due_date:%d/%m/%Y}.",
                link=f"/feedback/{item.id}",
            )
        return cmd.comment, details
    if isinstance(cmd, Forward):
        if cmd.organization_id is not None:
            target = s.get(Organization, cmd.organization_id)
            if target is None or not target.active:
                raise ValidationError.field("organization_id", "Không tìm thấy tổ chức nhận.")
            if target.id == item.organization_id:
                raise ValidationError.field(
                    "organization_id", "Không chuyển phản ánh cho chính tổ chức đang giữ nó."
                )
            item.forwarded_to_org_id = target.id
            _copy_to(uow, actor, item, target)
            return cmd.comment, {"organization_id": str(target.id), "organization": target.name}
        item.forwarded_to_agency = cmd.agency
        if not cmd.draft_letter:
            return cmd.comment, {"agency": cmd.agency}
        letter = draft_letter(uow, actor, root_of(s, item), item, cmd)
        item.letter_document_id = letter.id
        return cmd.comment, {"agency": cmd.agency, "document_id": str(letter.id)}
    if isinstance(cmd, Answer):
        item.answer = cmd.text
        item.answered_at = now
        item.answered_on = local_date(now)
        item.answered_by_id = actor.user_id
        _propagate_answer(uow, item)
        root = root_of(s, item)
        if root.sender_email and root.personal_erased_at is None:
            uow.enqueue(ANSWER_EMAIL_TOPIC, {"feedback_id": str(root.id)})
        return None, {"on_time": item.answered_on <= item.due_date}
    if isinstance(cmd, RequestExtension):
        if item.extension_reason is not None:
            raise ConflictError("Phản ánh này đã được gia hạn một lần.", code="already_extended")
        cal = load_calendar(s, item.due_date, item.due_date + dt.timedelta(days=90))
        before = item.due_date
        item.due_date = cal.add_working_days(item.due_date, cmd.working_days)
        item.extension_reason = cmd.reason
        return cmd.reason, {"from": before.isoformat(), "to": item.due_date.isoformat()}
    if cmd.action == "close":
        item.closed_at = now
    elif cmd.action == "release":
        item.quarantine_reason = None
    elif cmd.action == "discard":
        item.reject_reason = "Thư rác"
        _erase_sender(item, now)
    return getattr(cmd, "comment", None), {}


def _decision(actor: Actor, action: FeedbackAction) -> engine.Decision:
    """The policy's answer (:func:`policy.may_act` over the actor's own and delegated roles),
    naming the delegation when only a delegated role carries the action."""
    if policy.may_act(actor.roles, action):
        return engine.ALLOWED
    for delegated in actor.delegated:
        if policy.may_act({delegated.role}, action):
            return engine.Decision(True, delegated)
    return engine.REFUSED


def act_on_feedback(
    uow: UnitOfWork, actor: Actor, item_id: uuid.UUID, cmd: ActionCommand
) -> FeedbackView:
    """Apply one action of API.md §7 (``cmd.action``); returns the item after it.

    404 when the item is not in the actor's organisation's box (or the actor is no officer);
    403 when the actor's roles do not carry the action; 409 when the state (or the quarantine)
    does not allow it; 422 for bad parameters.
    """
    with uow:
        s = uow.session
        item = ensure_visible(actor, load_item(s, item_id, lock=True))
        action = FeedbackAction(cmd.action)

        def next_for(before: FeedbackState) -> FeedbackState:
            """409: the quarantine first (its own codes), then the transition table. Before
            them, once the policy allowed the action: a forward that drafts a letter needs a
            person who may draft (403)."""
            drafts = isinstance(cmd, Forward) and bool(cmd.agency) and cmd.draft_letter
            if drafts and not may_draft(actor.effective_roles):
                raise PermissionDeniedError(
                    "Chỉ lãnh đạo hoặc chuyên viên soạn được công văn chuyển phản ánh.",
                    code="letter_draft_forbidden",
                )
            quarantined = item.quarantine_reason is not None and item.state == "received"
            if quarantined != (action in (FeedbackAction.RELEASE, FeedbackAction.DISCARD)):
                raise ConflictError(
                    "Phản ánh đang ở khu cách ly: hãy đưa ra hoặc hủy trước."
                    if quarantined
                    else "Phản ánh không ở khu cách ly.",
                    code="quarantined" if quarantined else "not_quarantined",
                )
            return next_state(before, action)

        def effect(command: ActionCommand) -> engine.Effect:
            comment, details = _apply(uow, actor, item, command)
            return engine.Effect(comment, details)

        def set_state(after: FeedbackState) -> None:
            item.state = after.value

        def record(move: engine.Move[FeedbackState], done: engine.Effect) -> FeedbackTrailEntry:
            return _append(
                uow,
                item,
                action,
                actor=actor,
                from_state=move.before.value,
                comment=done.comment,
                details=done.details,
                acting=move.decision.acting,
            )

        engine.perform(  # 403 → 409 → 422 (the command's checks against the data), then the
            # effect, the state and the trail
            _decision(actor, action),
            FeedbackState(item.state),
            next_for,
            forbidden=lambda: PermissionDeniedError(
                "Chỉ lãnh đạo hoặc cán bộ phụ trách phản ánh được thực hiện thao tác này.",
                code="feedback_action_forbidden",
            ),
            parse=lambda: cmd,
            effect=effect,
            set_state=set_state,
            record=record,
        )
        s.flush()
        view = build_view(uow, actor, item)
        uow.commit()
        return view


def save_mailbox(uow: UnitOfWork, actor: Actor, cmd: MailboxSettings) -> Mailbox:
    """The organisation's categories, villages / residential groups, retention, open or not."""
    if not policy.may_configure(actor.roles | {d.role for d in actor.delegated}):
        raise PermissionDeniedError(
            "Chỉ lãnh đạo, cán bộ phụ trách phản ánh hoặc quản trị cấu hình hòm thư.",
            code="cannot_configure_mailbox",
        )
    with uow:
        s = uow.session
        row = s.get(FeedbackSettings, actor.organization_id, with_for_update=True)
        if row is None:
            row = FeedbackSettings(organization_id=actor.organization_id)
            s.add(row)
        row.categories = list(dict.fromkeys(cmd.categories))
        row.places = list(dict.fromkeys(cmd.places))
        row.retention_days = cmd.retention_days
        row.enabled = cmd.enabled
        row.updated_at = uow.now()
        audit.record(
            uow,
            "feedback.settings",
            actor=actor,
            object_type="organization",
            object_id=actor.organization_id,
            details={"categories": len(row.categories), "places": len(row.places)},
        )
        s.flush()
        org = s.get(Organization, actor.organization_id)
        assert org is not None
        box = mailbox_of(s, org)
        uow.commit()
        return box


def _claim(uow: UnitOfWork, item_id: uuid.UUID, kind: str, due: dt.date) -> bool:
    values = {
        "source": "feedback",
        "item_id": item_id,
        "kind": kind,
        "due_date": due,
        "sent_at": uow.now(),
    }
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = uow.session.execute(
        insert(ReminderSent)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(ReminderSent.item_id)
    )
    return result.first() is not None


def send_feedback_reminders(uow: UnitOfWork, *, days_before: int = 2) -> int:
    """Remind the officers of open items due within ``days_before`` working days (once per
    item, kind and due date), and of overdue ones. Nothing is sent on days off."""
    sent = 0
    with uow:
        s = uow.session
        today = local_date(uow.now())
        cal = load_calendar(s, today - dt.timedelta(days=60), today + dt.timedelta(days=60))
        if not cal.is_working_day(today):
            return 0
        horizon = cal.add_working_days(today, days_before)
        open_states = [st.value for st in FeedbackState if st.is_open]
        rows = s.scalars(
            select(FeedbackItem)
            .where(
                FeedbackItem.state.in_(open_states),
                FeedbackItem.quarantine_reason.is_(None),
                FeedbackItem.due_date <= horizon,
            )
            .order_by(FeedbackItem.due_date, FeedbackItem.id)
        ).all()
        for item in rows:
            late = cal.working_days_between(item.due_date, today) > 0
            kind = "overdue" if late else "due_soon"
            if not _claim(uow, item.id, kind, item.due_date):
                continue
            people = [item.assignee_id] if item.assignee_id else []
            notify(
                uow,
                [*people, *_officers(uow, item.organization_id)],
                kind=f"feedback_{kind}",
                title=("Phản ánh quá hạn trả lời" if late else "Phản ánh sắp đến hạn trả lời"),
                body=f"Hạn trả lời: {item.due_date:%d/%m/%Y}.",
                link=f"/feedback/{item.id}",
            )
            sent += 1
        uow.commit()
    return sent


def erase_expired_senders(uow: UnitOfWork) -> int:
    """Erase the senders' details of items finished longer ago than their organisation's
    retention (``feedback_settings.retention_days``, 730 days by default)."""
    erased = 0
    with uow:
        s = uow.session
        now = uow.now()
        finished = ["answered", "closed", "rejected"]
        rows = s.scalars(
            select(FeedbackItem).where(
                FeedbackItem.state.in_(finished),
                FeedbackItem.personal_erased_at.is_(None),
                FeedbackItem.received_at < now - dt.timedelta(days=30),
            )
        ).all()
        settings = {
            r.organization_id: r.retention_days for r in s.scalars(select(FeedbackSettings))
        }
        for item in rows:
            days = settings.get(item.organization_id, 730)
            ended = item.closed_at or item.answered_at or item.received_at
            if ended < now - dt.timedelta(days=days):
                _erase_sender(item, now)
                erased += 1
        if erased:
            audit.record(
                uow, "feedback.senders_erased", details={"count": erased}, actor_name="Hệ thống"
            )
        uow.commit()
    return erased


@dataclass(frozen=True)
class AnswerEmail:
    to: str
    subject: str
    body: str


def answer_email(
    uow: UnitOfWork, feedback_id: uuid.UUID, public_url: str | None
) -> AnswerEmail | None:
    """The e-mail that tells the sender their item was answered (None when nothing to send)."""
    with uow:
        s = uow.session
        root = s.get(FeedbackItem, feedback_id)
        if root is None or not root.sender_email or root.personal_erased_at is not None:
            return None
        answered = s.scalars(
            select(FeedbackItem)
            .where(
                and_(
                    (FeedbackItem.id == root.id) | (FeedbackItem.root_id == root.id),
                    FeedbackItem.answer.is_not(None),
                )
            )
            .order_by(FeedbackItem.answered_at.desc())
            .limit(1)
        ).first()
        if answered is None:
            return None
        link = (
            f"{public_url.rstrip('/')}/gop-y/tra-cuu?ma={root.tracking_code}" if public_url else ""
        )
        body = (
            f"Phản ánh mã {root.tracking_code} của bạn đã được trả lời:\n\n{answered.answer}\n"
            + (f"\nTra cứu: {link}\n" if link else "")
        )
        return AnswerEmail(
            to=root.sender_email,
            subject=f"Trả lời phản ánh {root.tracking_code}",
            body=body,
        )


def mailbox_poster(
    uow: UnitOfWork, actor: Actor, public_url: str, place_slug: str | None = None
) -> tuple[str, bytes]:
    """The A4 QR poster of the actor's organisation's mailbox (or of one of its villages):
    the file name and the PDF. Leaders, feedback officers and admins print it."""
    from docflow.feedback.poster import place_slug as slug_of
    from docflow.feedback.poster import poster_pdf, poster_url

    if not policy.may_configure(actor.roles | {d.role for d in actor.delegated}):
        raise PermissionDeniedError(
            "Chỉ lãnh đạo, cán bộ phụ trách phản ánh hoặc quản trị in áp phích.",
            code="cannot_configure_mailbox",
        )
    with uow:
        org = uow.session.get(Organization, actor.organization_id)
        assert org is not None
        box = mailbox_of(uow.session, org)
        place = None
        if place_slug:
            place = next((p for p in box.places if slug_of(p) == place_slug), None)
            if place is None:
                raise ValidationError.field("noi", "Không có thôn, tổ dân phố này trong danh sách.")
        url = poster_url(public_url, org.code, place)
        name = f"hom-thu-so-{org.code}{'-' + slug_of(place) if place else ''}.pdf"
        return name, poster_pdf(org.name, url, place)
