"""Issue 11, point 6: the login throttle slows the attacker, not the rightful user, and its
table stays bounded however many usernames an attacker invents.

Clients are told apart by their address (``REMOTE_ADDR``, as a WSGI server sets it). Every test
goes through the public API (``POST /api/v1/auth/token``) or the login page.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.runtime import runtime
from docflow.login_throttle import ThrottlePolicy, client_key
from docflow.models import AuditEntry, LoginThrottle
from tests.conftest import DEMO_PASSWORD, Clock, Demo, make_test_settings

ATTACKER = "203.0.113.66"
VICTIM_HOME = "198.51.100.7"


def token(client: Any, username: str, password: str, ip: str, **headers: str) -> Any:
    return client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
    )


def page_login(client: Any, username: str, password: str, ip: str) -> Any:
    env = {"REMOTE_ADDR": ip}
    html = client.get("/login", environ_base=env).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": match.group(1)},
        environ_base=env,
    )


def throttled(r: Any) -> None:
    """429 in the API's error shape, with a Vietnamese message and Retry-After."""
    assert r.status_code == 429, r.get_data(as_text=True)
    body = r.get_json()
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "too_many_attempts"
    assert "thử lại" in body["error"]["message"]
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
    assert body["error"]["details"]["retry_after"] == int(r.headers["Retry-After"])


def rows(demo: Demo) -> int:
    with demo.factory() as s:
        return int(s.scalar(select(func.count()).select_from(LoginThrottle)) or 0)


def audit_count(demo: Demo) -> int:
    with demo.factory() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_an_attacker_locks_out_only_themselves(client: Any, demo: Demo) -> None:
    for i in range(5):
        r = token(client, "lanhdao.tw", f"doan-{i}", ATTACKER)
        assert r.status_code == 401
    # The attacker is now refused, even with the right password (no oracle)…
    throttled(token(client, "lanhdao.tw", DEMO_PASSWORD, ATTACKER))
    assert page_login(client, "lanhdao.tw", DEMO_PASSWORD, ATTACKER).status_code == 429
    # …while the rightful user, from their own address, signs in through the API and the page.
    assert token(client, "lanhdao.tw", DEMO_PASSWORD, VICTIM_HOME).status_code == 200
    r = page_login(client, "lanhdao.tw", DEMO_PASSWORD, VICTIM_HOME)
    assert r.status_code == 302
    assert client.get("/account", environ_base={"REMOTE_ADDR": VICTIM_HOME}).status_code == 200


def test_page_refusal_says_when_to_retry(client: Any, demo: Demo) -> None:
    for _ in range(5):
        assert page_login(client, "vanthu.tw", "sai-mat-khau", ATTACKER).status_code == 401
    r = page_login(client, "vanthu.tw", DEMO_PASSWORD, ATTACKER)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Vui lòng thử lại" in r.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # not signed in


def test_page_and_api_failures_count_together(client: Any, demo: Demo) -> None:
    for i in range(5):
        if i % 2:
            assert page_login(client, "vanthu.tw", "sai", ATTACKER).status_code == 401
        else:
            assert token(client, "vanthu.tw", "sai", ATTACKER).status_code == 401
    throttled(token(client, "vanthu.tw", DEMO_PASSWORD, ATTACKER))


def test_forged_x_forwarded_for_does_not_reset_the_count(client: Any, demo: Demo) -> None:
    """No proxy configured: the header is the attacker's word, and it is ignored."""
    for i in range(5):
        r = token(client, "lanhdao.tw", "sai", ATTACKER, **{"X-Forwarded-For": f"10.9.8.{i}"})
        assert r.status_code == 401
    throttled(
        token(client, "lanhdao.tw", DEMO_PASSWORD, ATTACKER, **{"X-Forwarded-For": VICTIM_HOME})
    )
    with demo.factory() as s:
        ips = set(s.scalars(select(AuditEntry.ip).where(AuditEntry.event == "login_failed")))
    assert ips == {ATTACKER}


def test_behind_a_configured_proxy_the_forwarded_address_counts(
    tmp_path: Path, pg_url: str, session_factory: sessionmaker[Session], clock: Clock, demo: Demo
) -> None:
    from app import create_app

    proxied = create_app(
        make_test_settings(tmp_path, pg_url, trusted_proxies=1),
        session_factory=session_factory,
        clock=clock,
    )
    proxied.config.update(TESTING=True)
    client = proxied.test_client()
    proxy = "10.0.0.1"
    for _ in range(5):
        r = token(client, "lanhdao.tw", "sai", proxy, **{"X-Forwarded-For": ATTACKER})
        assert r.status_code == 401
    throttled(token(client, "lanhdao.tw", DEMO_PASSWORD, proxy, **{"X-Forwarded-For": ATTACKER}))
    # Another person behind the same proxy is not the attacker.
    ok = token(client, "lanhdao.tw", DEMO_PASSWORD, proxy, **{"X-Forwarded-For": VICTIM_HOME})
    assert ok.status_code == 200
    # Only the last hop (the one the proxy appended) is believed, not what the client sent.
    spoofed = {"X-Forwarded-For": f"{VICTIM_HOME}, {ATTACKER}"}
    throttled(token(client, "lanhdao.tw", DEMO_PASSWORD, proxy, **spoofed))


def test_a_client_spraying_many_accounts_is_stopped(client: Any, demo: Demo) -> None:
    names = [
        "vanthu.tw",
        "lanhdao.tw",
        "truongban.dcgs",
        "chuyenvien.dcgs",
        "chuyenvien.tg",
        "lanhdao.tinh",
    ]
    for attempt in range(5):
        for name in names:
            assert token(client, name, f"Mua-He-{attempt}", ATTACKER).status_code == 401
    # 30 failures from one address: accounts it never tried are refused to it too.
    throttled(token(client, "vanthu.tinh", DEMO_PASSWORD, ATTACKER))
    throttled(token(client, "ai.do.moi", "x", ATTACKER))
    assert token(client, "vanthu.tinh", DEMO_PASSWORD, VICTIM_HOME).status_code == 200


def test_an_ipv6_attacker_cannot_rotate_addresses_within_a_slash_64(
    client: Any, demo: Demo
) -> None:
    for i in range(5):
        r = token(client, "lanhdao.tw", "sai", f"2001:db8:1:2::{i + 1:x}")
        assert r.status_code == 401
    throttled(token(client, "lanhdao.tw", DEMO_PASSWORD, "2001:db8:1:2:ffff::9"))
    assert token(client, "lanhdao.tw", DEMO_PASSWORD, "2001:db8:1:3::1").status_code == 200
    assert client_key("::ffff:203.0.113.66") == ATTACKER


def test_distributed_guessing_hits_the_account_ceiling(app: Flask, client: Any, demo: Demo) -> None:
    """Failures from many addresses, each under every per-client limit, lock the account at
    its ceiling (100 by default; 12 here to keep the test short)."""
    assert ThrottlePolicy().account_limit >= 10 * ThrottlePolicy().pair_limit
    rt = runtime(app)
    rt.config = replace(
        rt.config, login_throttle=replace(rt.config.login_throttle, account_limit=12)
    )
    for i in range(12):
        assert token(client, "lanhdao.tw", f"doan-{i}", f"192.0.2.{i + 1}").status_code == 401
    throttled(token(client, "lanhdao.tw", DEMO_PASSWORD, VICTIM_HOME))
    # Other accounts are untouched.
    assert token(client, "vanthu.tw", DEMO_PASSWORD, VICTIM_HOME).status_code == 200


def test_locks_end_after_the_lockout(client: Any, demo: Demo, clock: Clock) -> None:
    for _ in range(5):
        token(client, "lanhdao.tw", "sai", ATTACKER)
    throttled(token(client, "lanhdao.tw", DEMO_PASSWORD, ATTACKER))
    clock.advance(minutes=16)
    assert token(client, "lanhdao.tw", DEMO_PASSWORD, ATTACKER).status_code == 200


def test_a_refused_attempt_writes_nothing(client: Any, demo: Demo) -> None:
    for _ in range(5):
        token(client, "lanhdao.tw", "sai", ATTACKER)
    before = (rows(demo), audit_count(demo))
    with demo.factory() as s:
        state = [(r.key, r.failures, r.locked_until) for r in s.scalars(select(LoginThrottle))]
    for _ in range(20):
        throttled(token(client, "lanhdao.tw", "sai", ATTACKER))
    assert (rows(demo), audit_count(demo)) == before
    with demo.factory() as s:
        assert [(r.key, r.failures, r.locked_until) for r in s.scalars(select(LoginThrottle))] == (
            state
        )


def test_unknown_usernames_do_not_grow_the_table(app: Flask, client: Any, demo: Demo) -> None:
    """Small buckets so the bound is reached: 90 invented usernames from 90 addresses would be
    270 counters unbounded; the table never exceeds the bucket count."""
    policy = ThrottlePolicy(pair_buckets=16, client_buckets=16, account_buckets=4)
    rt = runtime(app)
    rt.config = replace(rt.config, login_throttle=replace(policy, key=b"test-key"))
    assert rows(demo) == 0
    for i in range(90):
        r = token(client, f"khong-co-{i}", "x", f"10.0.{i}.1")
        assert r.status_code in (401, 429)
    assert 0 < rows(demo) <= policy.max_bucket_rows == 36
    with demo.factory() as s:
        keys = s.scalars(select(LoginThrottle.key)).all()
    assert all(re.fullmatch(r"(pair|client|acct):\d+", k) for k in keys)  # no usernames stored


def test_bucket_hashing_is_keyed() -> None:
    """Without the installation's key nobody can choose usernames that share a victim's bucket."""
    a = ThrottlePolicy(key=b"installation-a").counters("lanhdao.tw", VICTIM_HOME, None)
    b = ThrottlePolicy(key=b"installation-b").counters("lanhdao.tw", VICTIM_HOME, None)
    assert [c.key for c in a] != [c.key for c in b]


@pytest.mark.parametrize("bad", ["", "not-an-ip", "999.1.1.1"])
def test_odd_client_addresses_are_counted_together(bad: str) -> None:
    assert client_key(bad) == "unknown"
