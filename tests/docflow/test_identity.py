"""Logging in, throttling, tokens and "log out everywhere", through the docflow services."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from docflow import AuthenticationError, ThrottledError, directory
from docflow.models import AuditEntry
from tests.conftest import DEMO_PASSWORD, Demo


def _events(demo: Demo, event: str) -> list[AuditEntry]:
    with demo.factory() as s:
        # In the order they were written (ids are time-ordered; entries wait unchained, with no
        # seq yet, until the chaining job runs, and rows come back in no particular order).
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.event == event).order_by(AuditEntry.id))
        )


def test_login_succeeds_and_is_audited(demo: Demo) -> None:
    user = directory.authenticate(demo.uow(), "VanThu.TW ", DEMO_PASSWORD, channel="web")
    assert user.username == "vanthu.tw"
    assert user.last_login_at == demo.clock()
    [entry] = _events(demo, "login")
    assert entry.actor_id == user.id and entry.details == {"channel": "web"}


def test_wrong_password_and_unknown_user_fail_alike_and_are_audited(demo: Demo) -> None:
    with pytest.raises(AuthenticationError) as wrong:
        directory.authenticate(demo.uow(), "vanthu.tw", "not-the-password", channel="api")
    with pytest.raises(AuthenticationError) as unknown:
        directory.authenticate(demo.uow(), "nobody.here", "whatever", channel="api")
    assert (wrong.value.code, wrong.value.message) == (unknown.value.code, unknown.value.message)
    failed = _events(demo, "login_failed")
    assert [e.actor_name for e in failed] == ["vanthu.tw", "nobody.here"]
    assert failed[0].organization_id == demo.org_id("tw")


def test_five_failures_from_one_client_lock_that_client_out_for_a_while(demo: Demo) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            directory.authenticate(demo.uow(), "lanhdao.tw", "wrong-password", channel="web")
    # Even the right password is refused while locked, and the answer says to wait.
    with pytest.raises(ThrottledError) as info:
        directory.authenticate(demo.uow(), "lanhdao.tw", DEMO_PASSWORD, channel="web")
    assert info.value.details["retry_after"] > 0
    demo.clock.advance(minutes=16)
    assert directory.authenticate(demo.uow(), "lanhdao.tw", DEMO_PASSWORD, channel="web")


def test_failures_outside_the_window_do_not_add_up(demo: Demo) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            directory.authenticate(demo.uow(), "lanhdao.tw", "wrong-password", channel="web")
    demo.clock.advance(minutes=20)
    with pytest.raises(AuthenticationError):
        directory.authenticate(demo.uow(), "lanhdao.tw", "wrong-password", channel="web")
    assert directory.authenticate(demo.uow(), "lanhdao.tw", DEMO_PASSWORD, channel="web")


def test_token_is_stored_hashed_expires_and_can_be_revoked(demo: Demo) -> None:
    user = demo.user("vanthu.tw")
    issued = directory.issue_token(demo.uow(), user.id, ttl=dt.timedelta(hours=1))
    assert directory.resolve_token(demo.uow(), issued.token).username == "vanthu.tw"
    with demo.factory() as s:
        from docflow.models import ApiToken

        stored = s.scalars(select(ApiToken.token_hash)).all()
    assert issued.token not in stored
    demo.clock.advance(hours=2)
    with pytest.raises(AuthenticationError):
        directory.resolve_token(demo.uow(), issued.token)
    fresh = directory.issue_token(demo.uow(), user.id, ttl=dt.timedelta(hours=1))
    directory.revoke_token(demo.uow(), fresh.token)
    with pytest.raises(AuthenticationError):
        directory.resolve_token(demo.uow(), fresh.token)


LIMITS = directory.SessionLimits(idle=dt.timedelta(hours=1), absolute=dt.timedelta(hours=8))


def test_logout_everywhere_ends_tokens_and_sessions(demo: Demo) -> None:
    user = demo.user("lanhdao.tw")
    a = directory.issue_token(demo.uow(), user.id, ttl=dt.timedelta(hours=1))
    b = directory.issue_token(demo.uow(), user.id, ttl=dt.timedelta(hours=1))
    sid = directory.start_session(demo.uow(), user.id, limits=LIMITS)
    assert directory.session_actor(demo.uow(), sid, idle=LIMITS.idle) is not None
    directory.logout_everywhere(demo.uow(), demo.actor("lanhdao.tw"))
    for token in (a.token, b.token):
        with pytest.raises(AuthenticationError):
            directory.resolve_token(demo.uow(), token)
    assert directory.session_actor(demo.uow(), sid, idle=LIMITS.idle) is None


def test_sessions_end_when_idle_and_at_their_absolute_end(demo: Demo) -> None:
    user = demo.user("lanhdao.tw")
    sid = directory.start_session(demo.uow(), user.id, limits=LIMITS)
    # Used every 50 minutes, the session lives until its absolute end (8 hours)...
    for _ in range(9):
        demo.clock.advance(minutes=50)
        assert directory.session_actor(demo.uow(), sid, idle=LIMITS.idle) is not None
    demo.clock.advance(minutes=40)  # 8h10 after the start
    assert directory.session_actor(demo.uow(), sid, idle=LIMITS.idle) is None
    # ...and unused, it ends after the idle limit.
    idle = directory.start_session(demo.uow(), user.id, limits=LIMITS)
    demo.clock.advance(minutes=61)
    assert directory.session_actor(demo.uow(), idle, idle=LIMITS.idle) is None
