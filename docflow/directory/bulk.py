"""Bulk actions of the admin's people list (issue 15): lock, reopen, move to another unit,
hand out a new activation code. All or nothing: every selected person is checked first
(visibility, then permission), and one refusal changes nothing. Each person's change is one
audit entry (``user_bulk_<action>``), as if done on their page."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select

from docflow import audit
from docflow.actors import Actor
from docflow.directory.commands import BulkUserAction
from docflow.directory.identity import end_activation_codes, end_user_sessions
from docflow.directory.policy import ensure_can_bulk_change, ensure_can_manage_user
from docflow.errors import ValidationError
from docflow.models import Unit, User, UserActivation
from docflow.uow import UnitOfWork

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class IssuedCode:
    """A new activation code, shown once to the admin who hands it out."""

    username: str
    full_name: str
    organization_code: str
    code: str
    expires_at: dt.datetime


@dataclass
class BulkResult:
    changed: int = 0
    codes: list[IssuedCode] = field(default_factory=list)
    emailed: int = 0


def bulk_change_users(
    uow: UnitOfWork, actor: Actor, cmd: BulkUserAction, *, email_links: bool = False
) -> BulkResult:
    """With ``email_links``, a new activation for a person with an e-mail address is not a
    code shown to the admin: the worker issues it and e-mails them its link (the imports'
    ``ACTIVATION_EMAIL_TOPIC``); the others' codes come back as before."""
    # Imported here: the imports capability builds on the directory (its activation codes
    # are the ones people type on the activation page).
    from docflow.imports import (
        ACTIVATION_DAYS,
        ACTIVATION_EMAIL_TOPIC,
        UNUSABLE_PASSWORD,
        activation_email_payload,
        activation_hash,
    )

    result = BulkResult()
    with uow:
        s = uow.session
        ids = list(dict.fromkeys(cmd.user_ids))
        users = {u.id: u for u in s.scalars(select(User).where(User.id.in_(ids))).unique()}
        for uid in ids:
            user = ensure_can_manage_user(actor, users.get(uid))
            ensure_can_bulk_change(actor, user, cmd.action)
        unit: Unit | None = None
        if cmd.action == "move_unit":
            unit = s.get(Unit, cmd.unit_id)
            if unit is None or any(users[u].organization_id != unit.organization_id for u in ids):
                raise ValidationError.field(
                    "unit_id", "Đơn vị phải thuộc cùng tổ chức với mọi người được chọn."
                )
        now = uow.now()
        expires = now + dt.timedelta(days=ACTIVATION_DAYS)
        to_email: list[str] = []
        for uid in ids:
            user = users[uid]
            details: dict[str, object] = {"bulk": len(ids)}
            if cmd.action == "deactivate":
                if not user.active:
                    continue
                user.active = False
                end_user_sessions(uow, user.id)
            elif cmd.action == "activate":
                if user.active:
                    continue
                user.active = True
            elif cmd.action == "move_unit":
                assert unit is not None
                if user.unit_id == unit.id:
                    continue
                details |= {"from_unit_id": str(user.unit_id), "unit_id": str(unit.id)}
                user.unit_id = unit.id
            elif email_links and user.email and user.active:
                end_activation_codes(uow, user.id)
                user.password_hash = UNUSABLE_PASSWORD
                end_user_sessions(uow, user.id)
                to_email.append(str(user.id))
                details |= {"emailed": True}
            else:
                raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
                code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
                end_activation_codes(uow, user.id)
                s.add(
                    UserActivation(
                        user_id=user.id,
                        code_hash=activation_hash(code),
                        created_by_id=actor.user_id,
                        created_at=now,
                        expires_at=expires,
                    )
                )
                user.password_hash = UNUSABLE_PASSWORD
                end_user_sessions(uow, user.id)
                result.codes.append(
                    IssuedCode(user.username, user.full_name, user.organization.code, code, expires)
                )
                details |= {"expires_at": expires.isoformat()}
            audit.record(
                uow,
                f"user_bulk_{cmd.action}",
                actor=actor,
                organization_id=user.organization_id,
                object_type="user",
                object_id=user.id,
                details=details,
            )
            result.changed += 1
        if to_email:
            uow.enqueue(
                ACTIVATION_EMAIL_TOPIC,
                activation_email_payload(to_email, actor.user_id, now, ACTIVATION_DAYS),
            )
            result.emailed = len(to_email)
        uow.commit()
    return result


__all__ = ["BulkResult", "IssuedCode", "bulk_change_users"]
