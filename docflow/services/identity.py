"""Logging in, tokens and sessions.

Failures are recorded (throttle counter, audit entry) and committed before the refusal is
raised, so that an attacker's attempts are counted even though they fail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from docflow import audit
from docflow.actors import Actor, actor_from_user
from docflow.commands import ChangeOwnPassword
from docflow.errors import AuthenticationError, ThrottledError, ValidationError
from docflow.models import ApiToken, LoginThrottle, User
from docflow.passwords import hash_password, needs_rehash, verify_password
from docflow.uow import UnitOfWork
from docflow.workdays import local_date

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
TOKEN_PREFIX = "dhtn_"


@dataclass(frozen=True)
class IssuedToken:
    """A new bearer token: ``token`` is shown once and never stored."""

    token: str
    expires_at: dt.datetime
    user_id: uuid.UUID


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(uow: UnitOfWork, username: str, password: str, *, channel: str) -> User:
    """Check credentials; on success return the user (committed last-login), else raise.

    Unknown usernames and wrong passwords give the same error and take the same time.
    """
    key = username.strip().lower()[:128]
    with uow:
        now = uow.now()
        throttle = uow.session.get(LoginThrottle, key, with_for_update=True)
        if throttle and throttle.locked_until and throttle.locked_until > now:
            audit.record(uow, "login_locked", actor_name=key, details={"channel": channel})
            uow.commit()
            raise ThrottledError(
                details={"retry_after": int((throttle.locked_until - now).total_seconds())}
            )
        user = uow.session.scalars(select(User).where(User.username == key)).one_or_none()
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or user is None or not user.active:
            if throttle is None:
                throttle = LoginThrottle(key=key, failures=0, window_start=now)
                uow.session.add(throttle)
            if now - throttle.window_start > FAILURE_WINDOW:
                throttle.failures, throttle.window_start = 0, now
            throttle.failures += 1
            if throttle.failures >= MAX_FAILURES:
                throttle.locked_until = now + LOCKOUT
            audit.record(
                uow,
                "login_failed",
                organization_id=user.organization_id if user else None,
                actor_name=key,
                details={"channel": channel, "failures": throttle.failures},
            )
            uow.commit()
            raise AuthenticationError()
        if throttle is not None:
            uow.session.delete(throttle)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = now
        actor = actor_from_user(uow.session, user, local_date(now))
        audit.record(uow, "login", actor=actor, details={"channel": channel})
        uow.commit()
        return user


def issue_token(uow: UnitOfWork, user_id: uuid.UUID, *, ttl: dt.timedelta) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow:
        expires_at = uow.now() + ttl
        uow.session.add(
            ApiToken(user_id=user_id, token_hash=_hash_token(token), expires_at=expires_at)
        )
        uow.commit()
    return IssuedToken(token=token, expires_at=expires_at, user_id=user_id)


def resolve_token(uow: UnitOfWork, token: str) -> Actor:
    """The actor behind a bearer token; expired, revoked or unknown tokens are refused alike."""
    with uow:
        now = uow.now()
        row = uow.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == _hash_token(token))
        ).one_or_none()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise AuthenticationError(
                "Phiên đăng nhập không hợp lệ hoặc đã hết hạn.", code="invalid_token"
            )
        actor = actor_from_user(uow.session, row.user, local_date(now))
        # Coarse last-use tracking: one write per token per minute at most.
        if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
            row.last_used_at = now
            uow.commit()
        return actor


def revoke_token(uow: UnitOfWork, token: str) -> None:
    with uow:
        row = uow.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == _hash_token(token))
        ).one_or_none()
        if row is not None and row.revoked_at is None:
            row.revoked_at = uow.now()
            actor = actor_from_user(uow.session, row.user, local_date(uow.now()))
            audit.record(uow, "logout", actor=actor, details={"channel": "api"})
            uow.commit()


def logout_everywhere(uow: UnitOfWork, actor: Actor) -> None:
    """Revoke every token and end every cookie session of the actor."""
    with uow:
        now = uow.now()
        uow.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == actor.user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        user = uow.session.get_one(User, actor.user_id)
        user.session_epoch += 1
        audit.record(uow, "logout_everywhere", actor=actor)
        uow.commit()


def session_is_current(uow: UnitOfWork, user_id: uuid.UUID, epoch: int) -> Actor | None:
    """The actor for a cookie session, or None if the session was ended everywhere."""
    with uow:
        user = uow.session.get(User, user_id)
        if user is None or not user.active or user.session_epoch != epoch:
            return None
        return actor_from_user(uow.session, user, local_date(uow.now()))


def change_own_password(uow: UnitOfWork, actor: Actor, cmd: ChangeOwnPassword) -> None:
    with uow:
        user = uow.session.get_one(User, actor.user_id)
        if not verify_password(user.password_hash, cmd.current_password):
            raise ValidationError.field("current_password", "Mật khẩu hiện tại không đúng.")
        user.password_hash = hash_password(cmd.new_password)
        user.session_epoch += 1
        audit.record(uow, "password_changed", actor=actor, object_type="user", object_id=user.id)
        uow.commit()
