"""Administration and directory through the API: validation (422), isolation (404), roles (403)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Demo


def test_directory_lists_organisations_with_keyset_pages(client: Any, api: Any) -> None:
    headers = api("vanthu.phuong")
    first = client.get("/api/v1/organizations?limit=2", headers=headers).get_json()
    assert [o["code"] for o in first["items"]] == ["000.00.00.Z01", "000.00.01.Z01"]
    second = client.get(
        f"/api/v1/organizations?limit=2&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    assert [o["code"] for o in second["items"]] == ["000.01.01.Z01"] and second[
        "next_cursor"
    ] is None
    assert client.get("/api/v1/organizations?limit=500", headers=headers).status_code == 422
    assert client.get("/api/v1/organizations?cursor=%%%", headers=headers).status_code == 422


def test_admin_creates_an_organisation(client: Any, api: Any, demo: Demo) -> None:
    r = client.post(
        "/api/v1/organizations",
        headers=api("admin"),
        json={
            "parent_id": str(demo.org_id("tinh")),
            "level": "commune",
            "name": "Ủy ban MTTQ xã Thử",
            "abbreviation": "MTTQ",
            "code": "000.03.01.Z01",
        },
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["code"] == "000.03.01.Z01"


def test_invalid_identifier_code_is_422_with_the_field(client: Any, api: Any, demo: Demo) -> None:
    r = client.post(
        "/api/v1/organizations",
        headers=api("admin"),
        json={
            "parent_id": str(demo.org_id("tw")),
            "level": "province",
            "name": "X",
            "abbreviation": "X",
            "code": "H49",
        },
    )
    assert r.status_code == 422
    assert "Mã định danh" in r.get_json()["error"]["details"]["fields"]["code"]


def test_unknown_field_is_422(client: Any, api: Any, demo: Demo) -> None:
    r = client.post(
        "/api/v1/units",
        headers=api("admin"),
        json={
            "organization_id": str(demo.org_id("tw")),
            "name": "Ban mới",
            "abbreviation": "BM",
            "budget": 1,
        },
    )
    assert r.status_code == 422 and "budget" in r.get_json()["error"]["details"]["fields"]


def test_another_organisations_objects_are_404(client: Any, api: Any, demo: Demo) -> None:
    headers = api("vanthu.tinh")
    tw = demo.org_id("tw")
    assert client.get(f"/api/v1/organizations/{tw}/users", headers=headers).status_code == 404
    assert client.get(f"/api/v1/organizations/{tw}/units", headers=headers).status_code == 404
    assert client.get(f"/api/v1/organizations/{tw}/registers", headers=headers).status_code == 404
    assert (
        client.get(f"/api/v1/users/{demo.user('lanhdao.tw').id}", headers=headers).status_code
        == 404
    )
    # …while its own are there.
    own = client.get(
        f"/api/v1/organizations/{demo.org_id('tinh')}/users", headers=headers
    ).get_json()
    assert {u["username"] for u in own["items"]} == {
        "vanthu.tinh",
        "lanhdao.tinh",
        "chuyenvien.tinh",
    }


def test_clerk_may_not_administer_its_own_organisation(client: Any, api: Any, demo: Demo) -> None:
    r = client.post(
        "/api/v1/units",
        headers=api("vanthu.tw"),
        json={"organization_id": str(demo.org_id("tw")), "name": "Ban mới", "abbreviation": "BM"},
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_user_creation_and_role_change_round_trip(client: Any, api: Any, demo: Demo) -> None:
    headers = api("admin")
    r = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "organization_id": str(demo.org_id("tw")),
            "username": "Nguyen.Moi",
            "full_name": "Nguyễn Mới",
            "password": "mat-khau-ban-dau",
            "roles": ["specialist"],
        },
    )
    assert r.status_code == 201 and r.get_json()["username"] == "nguyen.moi"
    uid = r.get_json()["id"]
    r = client.patch(
        f"/api/v1/users/{uid}",
        headers=headers,
        json={"roles": ["specialist", "clerk"], "clearance": "confidential"},
    )
    # The role applies at once; the higher clearance waits for a second admin.
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["roles"] == ["clerk", "specialist"] and body["clearance"] == "none"
    assert body["pending_request"]["clearance"] == "confidential"
    demo.add_admin("admin2")
    ok = client.post(
        f"/api/v1/privilege-requests/{body['pending_request']['id']}/approve",
        headers=api("admin2"),
    )
    assert ok.status_code == 200 and ok.get_json()["state"] == "approved"
    me = client.get(f"/api/v1/users/{uid}", headers=headers)
    assert me.status_code == 200 and me.get_json()["clearance"] == "confidential"
    dup = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "organization_id": str(demo.org_id("tw")),
            "username": "nguyen.moi",
            "full_name": "X",
            "password": "mat-khau-ban-dau",
        },
    )
    assert dup.status_code == 409


def test_working_days_endpoint(client: Any, api: Any) -> None:
    r = client.get(
        "/api/v1/calendar/working-days?start=2026-02-13&add=1&end=2026-02-23",
        headers=api("vanthu.tw"),
    )
    assert r.get_json() == {
        "start": "2026-02-13",
        "add": 1,
        "due_date": "2026-02-23",
        "end": "2026-02-23",
        "working_days": 1,
    }
    assert (
        client.get(
            "/api/v1/calendar/working-days?start=13/02/2026", headers=api("vanthu.tw")
        ).status_code
        == 422
    )


def test_holidays_are_edited_by_the_central_admin_only(client: Any, api: Any) -> None:
    body = {"day": "2027-01-01", "name": "Tết Dương lịch", "kind": "holiday"}
    assert client.put("/api/v1/holidays", headers=api("vanthu.tw"), json=body).status_code == 403
    assert client.put("/api/v1/holidays", headers=api("admin"), json=body).status_code == 200
    listed = client.get("/api/v1/holidays?year=2027", headers=api("vanthu.tinh")).get_json()
    assert listed["items"] == [body]
    assert client.delete("/api/v1/holidays/2027-01-01", headers=api("admin")).status_code == 204
    assert client.delete("/api/v1/holidays/not-a-date", headers=api("admin")).status_code == 422
