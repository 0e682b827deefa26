"""API authentication (API.md §2) and the error shape for bad input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from docflow.demo import DEMO_USERNAMES
from docflow.models import AuditEntry
from tests.conftest import DEMO_PASSWORD, Demo


def _error(r: Any) -> dict[str, Any]:
    body = r.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_every_demo_account_gets_a_token(client: Any, username: str) -> None:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200
    body = r.get_json()
    assert body["token_type"] == "Bearer" and body["access_token"].startswith("dhtn_")
    assert body["user"]["username"] == username and body["expires_at"].endswith("Z")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["organization"]["code"].endswith(".Z01")


def test_me_has_roles_unit_and_organization(client: Any, api: Any) -> None:
    me = client.get("/api/v1/me", headers=api("truongban.dcgs")).get_json()
    assert me["roles"] == ["unit_head"]
    assert me["unit"]["abbreviation"] == "DCGSPBXH"
    assert me["organization"]["code"] == "000.00.00.Z01"


def test_wrong_password_is_401_audited_and_says_nothing_of_the_account(
    client: Any, demo: Demo
) -> None:
    wrong = client.post("/api/v1/auth/token", json={"username": "vanthu.tw", "password": "nope"})
    unknown = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert _error(wrong) == _error(unknown)
    assert "vanthu" not in wrong.get_data(as_text=True)
    with demo.factory() as s:
        events = s.scalars(select(AuditEntry).where(AuditEntry.event == "login_failed")).all()
    assert {e.actor_name for e in events} == {"vanthu.tw", "ghost"}
    assert all(e.details["channel"] == "api" for e in events)


def test_lockout_answers_429_with_retry_after(client: Any) -> None:
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "lanhdao.tw", "password": "bad"})
    r = client.post(
        "/api/v1/auth/token", json={"username": "lanhdao.tw", "password": DEMO_PASSWORD}
    )
    assert r.status_code == 429 and _error(r)["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"username": "a",', "application/json", 400, "malformed_json"),
        ("[1, 2]", "application/json", 400, "malformed_json"),
        ("username=a", "application/x-www-form-urlencoded", 400, "malformed_json"),
        ('{"username": "a"}', "application/json", 422, "invalid_field"),
        (
            '{"username": "a", "password": "b", "remember": true}',
            "application/json",
            422,
            "invalid_field",
        ),
    ],
)
def test_bad_token_requests(
    client: Any, body: str, content_type: str, status: int, code: str
) -> None:
    r = client.post("/api/v1/auth/token", data=body, content_type=content_type)
    assert r.status_code == status
    assert _error(r)["code"] == code


def test_unknown_field_is_named_in_the_details(client: Any) -> None:
    r = client.post("/api/v1/auth/token", json={"username": "a", "password": "b", "remember": True})
    assert _error(r)["details"]["fields"] == {"remember": "Trường này không được chấp nhận."}


def test_revoked_token_no_longer_works(client: Any, api: Any) -> None:
    headers = api("vanthu.tw")
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and _error(r)["code"] == "invalid_token"


def test_no_token_and_garbage_token_are_401(client: Any) -> None:
    assert _error(client.get("/api/v1/me"))["code"] == "unauthenticated"
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer dhtn_forged"})
    assert r.status_code == 401


def test_logout_everywhere_revokes_every_token(client: Any, api: Any) -> None:
    a, b = api("lanhdao.tw"), api("lanhdao.tw")
    assert client.post("/api/v1/auth/logout-everywhere", headers=a).status_code == 204
    assert client.get("/api/v1/me", headers=b).status_code == 401


def test_flask_own_errors_use_the_api_shape(client: Any, api: Any) -> None:
    r404 = client.get("/api/v1/no-such-thing")
    assert r404.status_code == 404 and _error(r404)["code"] == "not_found"
    r405 = client.put("/api/v1/me", headers=api("vanthu.tw"))
    assert r405.status_code == 405 and _error(r405)["code"] == "method_not_allowed"
    assert "GET" in r405.headers["Allow"]


def test_oversized_body_is_413_in_the_api_shape(app: Any, client: Any) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    r = client.post("/api/v1/auth/token", data=b"x" * (limit + 1), content_type="application/json")
    assert r.status_code == 413 and _error(r)["code"] == "payload_too_large"


def test_change_own_password(client: Any, api: Any) -> None:
    headers = api("chuyenvien.tg")
    r = client.post(
        "/api/v1/me/password",
        headers=headers,
        json={"current_password": "wrong", "new_password": "mat-khau-moi-dai"},
    )
    assert r.status_code == 422 and "current_password" in _error(r)["details"]["fields"]
    r = client.post(
        "/api/v1/me/password",
        headers=headers,
        json={"current_password": DEMO_PASSWORD, "new_password": "mat-khau-moi-dai"},
    )
    assert r.status_code == 200
    ok = client.post(
        "/api/v1/auth/token", json={"username": "chuyenvien.tg", "password": "mat-khau-moi-dai"}
    )
    assert ok.status_code == 200
