"""Logging in, tokens and page sessions.

Failures are recorded (throttle counters, audit entry) and committed before the refusal is
raised, so that an attacker's attempts are counted even though they fail.

Page sessions are rows (``user_sessions``); the signed cookie carries only the row's id. Each
request reads the row (one primary-key lookup, with the user) and writes to it at most every
``SEEN_REFRESH``, so ending a session anywhere takes effect on the next request of every worker.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError

from docflow import audit
from docflow.actors import ACTOR_TODAY, Actor, actor_columns, actor_from_row, actor_from_user
from docflow.db import rows
from docflow.directory.commands import ChangeOwnPassword
from docflow.directory.passwords import hash_password, needs_rehash, verify_password
from docflow.errors import AuthenticationError, ThrottledError, ValidationError
from docflow.login_throttle import Counter, ThrottlePolicy
from docflow.models import (
    ApiToken,
    LoginThrottle,
    Organization,
    PushSubscription,
    User,
    UserActivation,
    UserSession,
)
from docflow.uow import UnitOfWork
from docflow.workdays import local_date

TOKEN_PREFIX = "dhtn_"
# A session's last_seen_at is refreshed at most this often: no database write per request.
SEEN_REFRESH = dt.timedelta(minutes=5)
# Ended and expired sessions are purged at the user's next login after this grace period.
SESSION_PURGE_AFTER = dt.timedelta(days=1)


@dataclass(frozen=True)
class IssuedToken:
    """A new bearer token: ``token`` is shown once and never stored."""

    token: str
    expires_at: dt.datetime
    user_id: uuid.UUID


@dataclass(frozen=True)
class SessionLimits:
    """How long a page session lives: ``idle`` without a request, ``absolute`` in all."""

    idle: dt.timedelta
    absolute: dt.timedelta


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _locked_until(uow: UnitOfWork, counters: list[Counter], now: dt.datetime) -> dt.datetime | None:
    rows = uow.session.scalars(
        select(LoginThrottle).where(LoginThrottle.key.in_([c.key for c in counters]))
    ).all()
    ends = [r.locked_until for r in rows if r.locked_until is not None and r.locked_until > now]
    return max(ends, default=None)


def _count_failure(
    uow: UnitOfWork, counters: list[Counter], now: dt.datetime, policy: ThrottlePolicy
) -> list[str]:
    """Add one failure to each counter; return the keys this failure locked."""
    s = uow.session
    locked: list[str] = []
    for counter in counters:  # sorted by key: concurrent attempts lock rows in the same order
        row = s.get(LoginThrottle, counter.key, with_for_update=True)
        if row is None:
            try:
                with s.begin_nested():
                    s.add(LoginThrottle(key=counter.key, failures=0, window_start=now))
            except IntegrityError:  # a concurrent attempt created it first
                pass
            row = s.get_one(
                LoginThrottle, counter.key, with_for_update=True, populate_existing=True
            )
        if now - row.window_start > policy.window:
            row.failures, row.window_start, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= counter.limit and (row.locked_until is None or row.locked_until <= now):
            row.locked_until = now + policy.lockout
            locked.append(counter.key.partition(":")[0])
    return locked


def authenticate(
    uow: UnitOfWork, username: str, password: str, *, channel: str, client: str | None = None
) -> User:
    """Check credentials; on success return the user (committed last-login), else raise.

    Unknown usernames and wrong passwords give the same error and take the same time. While a
    counter of this attempt (docflow.login_throttle) is locked the attempt is refused without
    checking the password and without writing anything.
    """
    key = username.strip().lower()[:128]
    policy = uow.config.login_throttle
    # The hash check (argon2id, a third of a second of CPU) runs between two short
    # transactions, not inside one: a burst of sign-ins must not hold the pool's connections.
    with uow:
        now = uow.now()
        user = uow.session.scalars(select(User).where(User.username == key)).one_or_none()
        counters = policy.counters(key, client, user.id if user else None)
        until = _locked_until(uow, counters, now)
        if until is not None:
            raise ThrottledError(
                details={"retry_after": max(1, ceil((until - now).total_seconds()))}
            )
        checked_hash = user.password_hash if user else None
    ok = verify_password(checked_hash, password)
    new_hash = (
        hash_password(password) if ok and checked_hash and needs_rehash(checked_hash) else None
    )
    with uow:
        now = uow.now()
        user = uow.session.scalars(select(User).where(User.username == key)).one_or_none()
        if ok and (user is None or user.password_hash != checked_hash):
            # The password was changed (or the account removed) while we hashed: check again.
            ok = verify_password(user.password_hash if user else None, password)
            new_hash = None
        if not ok or user is None or not user.active or not user.organization.active:
            locked = _count_failure(uow, counters, now, policy)
            org_id = user.organization_id if user else None
            audit.record(
                uow,
                "login_failed",
                organization_id=org_id,
                actor_name=key,
                details={"channel": channel},
            )
            if locked:
                audit.record(
                    uow,
                    "login_throttled",
                    organization_id=org_id,
                    actor_name=key,
                    details={"channel": channel, "scopes": sorted(locked)},
                )
            uow.commit()
            raise AuthenticationError()
        # The pair's count starts again; the account's and the client's run out with the window.
        for counter in counters:
            if counter.key.startswith("pair:"):
                uow.session.execute(delete(LoginThrottle).where(LoginThrottle.key == counter.key))
        if new_hash is not None:
            user.password_hash = new_hash
        user.last_login_at = now
        actor = actor_from_user(uow.session, user, local_date(now))
        audit.record(uow, "login", actor=actor, details={"channel": channel})
        uow.commit()
        return user


def start_session(
    uow: UnitOfWork, user_id: uuid.UUID, *, limits: SessionLimits, ip: str | None = None
) -> uuid.UUID:
    """Open a page session for a user who just proved who they are; return its id."""
    with uow:
        session_id = _new_session(uow, user_id, limits, ip)
        uow.commit()
        return session_id


def _new_session(
    uow: UnitOfWork, user_id: uuid.UUID, limits: SessionLimits, ip: str | None
) -> uuid.UUID:
    now = uow.now()
    stale = now - SESSION_PURGE_AFTER
    uow.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user_id,
            (UserSession.expires_at < stale)
            | (UserSession.revoked_at < stale)
            | (UserSession.last_seen_at < stale - limits.idle),
        )
    )
    row = UserSession(
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + limits.absolute,
        ip=(ip or "")[:64] or None,
    )
    uow.session.add(row)
    uow.session.flush()
    return row.id


def session_actor(uow: UnitOfWork, session_id: uuid.UUID, *, idle: dt.timedelta) -> Actor | None:
    """The actor of a page session, or None if it ended (logout, password change, idle, age)."""
    with uow:
        now = uow.now()
        row = uow.session.get(UserSession, session_id)
        if (
            row is None
            or row.revoked_at is not None
            or row.expires_at <= now
            or now - row.last_seen_at > idle
            or not row.user.active
        ):
            return None
        actor = actor_from_user(uow.session, row.user, local_date(now))
        if now - row.last_seen_at > SEEN_REFRESH:
            row.last_seen_at = now
            uow.commit()
        return actor


def end_session(uow: UnitOfWork, session_id: uuid.UUID) -> None:
    """Logout: this session ends on the server, so a copy of its cookie is worthless."""
    with uow:
        ended = uow.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=uow.now())
            .returning(UserSession.user_id)
        ).scalar_one_or_none()
        if ended is None:
            return
        user = uow.session.get_one(User, ended)
        if user.active:
            actor = actor_from_user(uow.session, user, local_date(uow.now()))
            audit.record(uow, "logout", actor=actor, details={"channel": "web"})
        uow.commit()


def end_user_sessions(
    uow: UnitOfWork,
    user_id: uuid.UUID,
    *,
    keep_token: str | None = None,
) -> None:
    """Inside the caller's transaction: end every page session and bearer token of a user
    (except the token ``keep_token``, the one making a password change through the API), and
    forget the devices they had asked pushes for: a lost phone must not go on showing their
    notifications. A device of theirs that signs in again registers anew (the notifications
    page does it by itself; ``POST /me/push-subscriptions`` for the phone)."""
    _end_sessions(uow, [user_id], keep_token=keep_token)


def end_organization_sessions(uow: UnitOfWork, organization_id: uuid.UUID) -> None:
    """Inside the caller's transaction: :func:`end_user_sessions` for every person of the
    organisation (it closes: its reopening must not bring their sessions back)."""
    _end_sessions(uow, select(User.id).where(User.organization_id == organization_id))


def _end_sessions(
    uow: UnitOfWork, users: Sequence[uuid.UUID] | Select[Any], *, keep_token: str | None = None
) -> None:
    now = uow.now()
    uow.session.execute(
        update(UserSession)
        .where(UserSession.user_id.in_(users), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    tokens = update(ApiToken).where(ApiToken.user_id.in_(users), ApiToken.revoked_at.is_(None))
    if keep_token is not None:
        tokens = tokens.where(ApiToken.token_hash != _hash_token(keep_token))
    uow.session.execute(tokens.values(revoked_at=now))
    uow.session.execute(delete(PushSubscription).where(PushSubscription.user_id.in_(users)))


def end_activation_codes(uow: UnitOfWork, user_id: uuid.UUID) -> None:
    """Inside the caller's transaction: the person's activation codes not yet used expire now.
    Whenever a password is set otherwise (by an admin, by the person, or a new code replacing
    the old), a code left alive would let whoever holds it replace that password."""
    now = uow.now()
    uow.session.execute(
        update(UserActivation)
        .where(
            UserActivation.user_id == user_id,
            UserActivation.used_at.is_(None),
            UserActivation.expires_at > now,
        )
        .values(expires_at=now)
    )


def replace_password(
    uow: UnitOfWork, user: User, password_hash: str, *, keep_token: str | None = None
) -> None:
    """Inside the caller's transaction: ``user``'s password becomes ``password_hash``; their
    sessions and tokens end (but ``keep_token``, :func:`end_user_sessions`), and so do their
    unused activation codes (:func:`end_activation_codes`)."""
    user.password_hash = password_hash
    end_user_sessions(uow, user.id, keep_token=keep_token)
    end_activation_codes(uow, user.id)


def issue_token(uow: UnitOfWork, user_id: uuid.UUID, *, ttl: dt.timedelta) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow:
        expires_at = uow.now() + ttl
        uow.session.add(
            ApiToken(user_id=user_id, token_hash=_hash_token(token), expires_at=expires_at)
        )
        uow.commit()
    return IssuedToken(token=token, expires_at=expires_at, user_id=user_id)


@functools.cache
def _token_actor() -> Select[Any]:
    """The token and its actor in one statement, built once (its SQL is cached by
    SQLAlchemy; building it again per request cost a few percent of the web's CPU)."""
    return (
        select(ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at)
        .add_columns(*actor_columns())
        .join(User, User.id == ApiToken.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


def resolve_token(uow: UnitOfWork, token: str) -> Actor:
    """The actor behind a bearer token; expired, revoked or unknown tokens are refused alike.

    Every API request starts here: the token, the person, their organisation, roles and
    whether a delegation runs today come in one statement as plain rows (no objects)."""
    with uow:
        now = uow.now()
        today = local_date(now)
        row = rows(
            uow.session, _token_actor(), {"token_hash": _hash_token(token), ACTOR_TODAY: today}
        ).one_or_none()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise AuthenticationError(
                "Phiên đăng nhập không hợp lệ hoặc đã hết hạn.", code="invalid_token"
            )
        actor = actor_from_row(uow.session, row, today)
        # Coarse last-use tracking: one write per token per minute at most, skipped when
        # another request of the same token is writing it (nobody waits for it: a read's unit
        # of work holds the row until it answers, app.runtime.open_read_scope).
        if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
            free = (
                select(ApiToken.id)
                .where(ApiToken.id == row.id)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            uow.session.execute(
                update(ApiToken).where(ApiToken.id == free).values(last_used_at=now)
            )
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
    """Revoke every token and end every page session of the actor, this one included."""
    with uow:
        end_user_sessions(uow, actor.user_id)
        audit.record(uow, "logout_everywhere", actor=actor)
        uow.commit()


def change_own_password(
    uow: UnitOfWork,
    actor: Actor,
    cmd: ChangeOwnPassword,
    *,
    keep_token: str | None = None,
    reissue: SessionLimits | None = None,
    ip: str | None = None,
) -> uuid.UUID | None:
    """Change one's password; every other session and token of the user ends.

    Through the API the bearer token used (``keep_token``) keeps working; on a page the
    current session ends too and, with ``reissue``, a fresh one is returned for the browser.
    """
    policy = uow.config.login_throttle
    with uow:
        now = uow.now()
        user = uow.session.get_one(User, actor.user_id)
        # The current password is a password guess like a login's: the same counters, so a
        # stolen session cannot try passwords here without limit.
        counters = policy.counters(user.username, ip or uow.context.get("ip"), user.id)
        until = _locked_until(uow, counters, now)
        if until is not None:
            raise ThrottledError(
                details={"retry_after": max(1, ceil((until - now).total_seconds()))}
            )
        if not verify_password(user.password_hash, cmd.current_password):
            locked = _count_failure(uow, counters, now, policy)
            audit.record(
                uow,
                "login_failed",
                actor=actor,
                details={
                    "channel": "password_change",
                    **({"locked": sorted(locked)} if locked else {}),
                },
            )
            uow.commit()
            raise ValidationError.field("current_password", "Mật khẩu hiện tại không đúng.")
        # Locked only now (after the throttle rows a failure locks, never before them, as a
        # login does); a change that committed meanwhile makes the checked password stale.
        checked = user.password_hash
        uow.session.refresh(user, with_for_update={"of": User})
        if user.password_hash != checked:
            raise ValidationError.field("current_password", "Mật khẩu hiện tại không đúng.")
        if cmd.new_password == cmd.current_password:
            raise ValidationError.field(
                "new_password",
                "Mật khẩu mới phải khác mật khẩu hiện tại.",
                code="password_unchanged",
            )
        replace_password(uow, user, hash_password(cmd.new_password), keep_token=keep_token)
        new_session = _new_session(uow, user.id, reissue, ip) if reissue else None
        audit.record(uow, "password_changed", actor=actor, object_type="user", object_id=user.id)
        uow.commit()
        return new_session
