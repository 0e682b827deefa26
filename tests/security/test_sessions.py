"""Issue 11, point 5: sessions and tokens end on the server.

Each test plays the attacker who kept a copy of a cookie or a token (a shared computer, a stolen
laptop, a proxy log) and checks that the copy stops working after logout, a password change or
reset, deactivation, "log out everywhere", and after the idle and absolute limits; and that the
cookie flags follow ``DHTN_PUBLIC_URL``.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from docflow.models import ApiToken, UserSession
from tests.conftest import DEMO_PASSWORD, Clock, Demo, make_test_settings

COOKIE = "dhtn_session"
NEW_PASSWORD = "mat-khau-moi-that-dai"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def page_login(client: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    r = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert r.status_code == 302, r.get_data(as_text=True)


def cookie_of(client: Any) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return str(cookie.value)


def replay(app: Flask, cookie: str) -> Any:
    """A different browser presenting a copied cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def signed_in(client: Any) -> bool:
    r = client.get("/account")
    if r.status_code == 302:
        assert "/login" in r.headers["Location"]
        return False
    assert r.status_code == 200
    return True


def token_of(client: Any, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def token_works(client: Any, headers: dict[str, str]) -> bool:
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code in (200, 401)
    return bool(r.status_code == 200)


def live_sessions(demo: Demo, username: str) -> int:
    user = demo.user(username)
    with demo.factory() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(UserSession)
                .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            )
            or 0
        )


def test_logout_ends_the_session_on_the_server(app: Flask, demo: Demo) -> None:
    browser = app.test_client()
    page_login(browser, "vanthu.tw")
    stolen = cookie_of(browser)
    assert signed_in(replay(app, stolen))  # the copy works while the session lives
    home = browser.get("/").get_data(as_text=True)
    browser.post("/logout", data={"csrf_token": csrf_of(home)})
    assert not signed_in(browser)
    # The attack: present the cookie saved before logout.
    assert not signed_in(replay(app, stolen))
    assert live_sessions(demo, "vanthu.tw") == 0


def test_the_cookie_carries_no_identity_of_its_own(app: Flask, demo: Demo) -> None:
    """Someone with the secret key still cannot sign in as a user by naming them: the cookie
    must name a live server-side session (the older epoch format is refused too)."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    user = demo.user("lanhdao.tw")
    for forged in (
        {"uid": str(user.id), "epoch": 0},
        {"sid": str(uuid.uuid4())},
        {"sid": "not-a-uuid"},
    ):
        assert not signed_in(replay(app, serializer.dumps(forged)))


def test_password_change_through_the_api_revokes_every_other_session_and_token(
    app: Flask, demo: Demo
) -> None:
    api = app.test_client()
    laptop, phone = app.test_client(), app.test_client()
    page_login(laptop, "chuyenvien.tg")
    page_login(phone, "chuyenvien.tg")
    laptop_cookie = cookie_of(laptop)
    current, other = token_of(api, "chuyenvien.tg"), token_of(api, "chuyenvien.tg")
    r = api.post(
        "/api/v1/me/password",
        headers=current,
        json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 200
    assert token_works(api, current)  # the token making the change goes on
    assert not token_works(api, other)
    assert not signed_in(laptop) and not signed_in(phone)
    assert not signed_in(replay(app, laptop_cookie))
    assert live_sessions(demo, "chuyenvien.tg") == 0


def test_password_change_on_the_account_page_keeps_only_this_browser(
    app: Flask, demo: Demo
) -> None:
    here, elsewhere, api = app.test_client(), app.test_client(), app.test_client()
    page_login(here, "lanhdao.tw")
    page_login(elsewhere, "lanhdao.tw")
    headers = token_of(api, "lanhdao.tw")
    before = cookie_of(here)
    page = here.get("/account").get_data(as_text=True)
    r = here.post(
        "/account",
        data={
            "current_password": DEMO_PASSWORD,
            "new_password": NEW_PASSWORD,
            "csrf_token": csrf_of(page),
        },
    )
    assert r.status_code == 302
    assert signed_in(here)  # this browser continues, in a re-issued session
    assert cookie_of(here) != before
    assert not signed_in(replay(app, before))  # the pre-change cookie is dead
    assert not signed_in(elsewhere)
    assert not token_works(api, headers)
    assert live_sessions(demo, "lanhdao.tw") == 1


def test_wrong_current_password_changes_nothing(app: Flask, demo: Demo) -> None:
    browser, api = app.test_client(), app.test_client()
    page_login(browser, "lanhdao.tw")
    headers = token_of(api, "lanhdao.tw")
    r = api.post(
        "/api/v1/me/password",
        headers=headers,
        json={"current_password": "khong-phai", "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 422
    assert signed_in(browser) and token_works(api, headers)
    token_of(api, "lanhdao.tw")  # the old password still works


@pytest.mark.parametrize("how", ["reset", "deactivate"])
def test_admin_reset_or_deactivation_ends_everything(app: Flask, demo: Demo, how: str) -> None:
    victim, api = app.test_client(), app.test_client()
    page_login(victim, "vanthu.tw")
    stolen = cookie_of(victim)
    headers = token_of(api, "vanthu.tw")
    admin = token_of(api, "admin")
    uid = demo.user("vanthu.tw").id
    if how == "reset":
        r = api.post(
            f"/api/v1/users/{uid}/password", headers=admin, json={"password": NEW_PASSWORD}
        )
    else:
        r = api.patch(f"/api/v1/users/{uid}", headers=admin, json={"active": False})
    assert r.status_code == 200
    assert not signed_in(victim) and not signed_in(replay(app, stolen))
    assert not token_works(api, headers)
    with demo.factory() as s:
        live = s.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == uid, ApiToken.revoked_at.is_(None))
        )
    assert live == 0


def test_sign_out_everywhere_from_the_account_page(app: Flask, demo: Demo) -> None:
    here, elsewhere, api = app.test_client(), app.test_client(), app.test_client()
    page_login(here, "truongban.dcgs")
    page_login(elsewhere, "truongban.dcgs")
    headers = token_of(api, "truongban.dcgs")
    kept = cookie_of(elsewhere)
    page = here.get("/account").get_data(as_text=True)
    assert "Đăng xuất khỏi mọi thiết bị" in page
    r = here.post("/logout-everywhere", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 302
    assert not signed_in(here) and not signed_in(elsewhere)
    assert not signed_in(replay(app, kept))
    assert not token_works(api, headers)


def test_idle_sessions_end(app: Flask, demo: Demo, clock: Clock) -> None:
    browser = app.test_client()
    page_login(browser, "vanthu.tw")
    clock.advance(minutes=100)
    assert signed_in(browser)  # activity moves the idle limit…
    clock.advance(minutes=100)
    assert signed_in(browser)
    clock.advance(minutes=121)  # …2 hours without a request end it (DHTN_SESSION_IDLE_MINUTES)
    assert not signed_in(browser)


def test_sessions_end_at_their_absolute_limit_however_active(
    app: Flask, demo: Demo, clock: Clock
) -> None:
    browser = app.test_client()
    page_login(browser, "vanthu.tw")
    stolen = cookie_of(browser)
    for _ in range(11):
        clock.advance(minutes=60)
        assert signed_in(browser)
    clock.advance(minutes=61)  # 12 h 01 after login (DHTN_TOKEN_TTL_HOURS)
    assert not signed_in(browser) and not signed_in(replay(app, stolen))


def test_activity_does_not_write_on_every_request(app: Flask, demo: Demo, clock: Clock) -> None:
    browser = app.test_client()
    page_login(browser, "vanthu.tw")
    user = demo.user("vanthu.tw")

    def last_seen() -> Any:
        with demo.factory() as s:
            return s.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user.id))

    first = last_seen()
    for _ in range(3):
        clock.advance(minutes=1)
        assert signed_in(browser)
    assert last_seen() == first  # within the refresh interval: read only
    clock.advance(minutes=5)
    assert signed_in(browser)
    assert last_seen() == clock()


def _app_with(
    tmp_path: Path,
    pg_url: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    **overrides: Any,
) -> Flask:
    from app import create_app

    flask_app = create_app(
        make_test_settings(tmp_path, pg_url, **overrides),
        session_factory=session_factory,
        clock=clock,
    )
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [("https://dhtn.mttq.example.vn", True), ("http://10.0.0.5:8000", False), (None, False)],
)
def test_cookie_flags_follow_the_public_url(
    tmp_path: Path,
    pg_url: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    demo: Demo,
    public_url: str | None,
    secure: bool,
) -> None:
    flask_app = _app_with(tmp_path, pg_url, session_factory, clock, public_url=public_url)
    browser = flask_app.test_client()
    token = csrf_of(browser.get("/login").get_data(as_text=True))
    r = browser.post(
        "/login", data={"username": "vanthu.tw", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302
    [cookie] = [h for h in r.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert "httponly" in flags
    assert "samesite=lax" in cookie.lower()
    assert ("secure" in flags) is secure
    assert ("Strict-Transport-Security" in r.headers) is secure


def test_settings_read_the_public_url() -> None:
    from app.config import Settings

    s = Settings.from_env({"DHTN_PUBLIC_URL": "HTTPS://dhtn.example.vn/"})
    assert s.public_url == "HTTPS://dhtn.example.vn/" and s.cookie_secure
    assert not Settings.from_env({"DHTN_PUBLIC_URL": "http://x"}).cookie_secure
