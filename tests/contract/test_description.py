"""What Schemathesis found, pinned as plain tests (fast, no server): the description states the
limits the server enforces, and the server refuses what the description calls invalid with 422,
never 500."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.conftest import Demo

pytestmark = pytest.mark.pg

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    return dict(client.get("/api/v1/openapi.json").get_json())


def _op(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return dict(spec["paths"]["/api/v1" + path][method])


def _param(op: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in op["parameters"] if p["name"] == name)


def test_the_description_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)


def test_every_list_declares_its_limit_and_cursor(spec: dict[str, Any]) -> None:
    lists = 0
    for item in spec["paths"].values():
        for op in item.values():
            for p in op.get("parameters", []):
                if p["name"] == "limit":
                    lists += 1
                    assert p["schema"]["minimum"] == 1 and p["schema"]["maximum"] == 200
                    assert "422" in op["responses"]
                if p["name"] == "cursor":
                    assert p["schema"]["pattern"] and p["schema"]["maxLength"]
                    assert any("cursor" in rule for rule in op["x-business-rules"])
    assert lists >= 6


def test_formats_ranges_and_exclusive_fields_are_declared(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    registers = _op(spec, "/organizations/{org_id}/registers", "get")
    assert _param(registers, "org_id")["schema"] == {"type": "string", "format": "uuid"}
    year = _param(registers, "year")["schema"]
    assert (year["minimum"], year["maximum"]) == (2000, 2100)
    day = _param(_op(spec, "/holidays/{day}", "delete"), "day")["schema"]
    assert day["format"] == "date"
    # "exactly one of unit_id / user_id", "organization_id or code": oneOf.
    # (inside an allOf, so that a generated client keeps the properties)
    assert len(schemas["Party"]["allOf"][0]["oneOf"]) == 2
    assert len(schemas["RecipientRef"]["allOf"][0]["oneOf"]) == 2
    # A stripped text must have that many non-blank characters: "   " is not a subject.
    assert "pattern" in schemas["RegisterIncoming"]["properties"]["subject"]
    # Every tagged union names its tag as required in each branch.
    assert "action" in schemas["Cancel"]["required"]


def test_downloads_list_every_content_type_they_answer(spec: dict[str, Any]) -> None:
    export = _op(spec, "/reports/registers/{register_id}", "get")
    assert DOCX in export["responses"]["200"]["content"]
    content = _op(spec, "/documents/{document_id}/files/{file_id}/content", "get")
    assert {"application/pdf", DOCX, "image/png"} <= set(content["responses"]["200"]["content"])


def test_creating_operations_link_to_those_that_use_them(spec: dict[str, Any]) -> None:
    links = _op(spec, "/tasks", "post")["responses"]["201"]["links"]
    assert links["tasks_get"]["parameters"] == {"task_id": "$response.body#/id"}
    incoming = _op(spec, "/incoming", "post")["responses"]["201"]["links"]
    assert incoming["file_content"]["parameters"] == {
        "document_id": "$response.body#/id",
        "file_id": "$response.body#/files/0/id",
    }


def _pointer_resolves(schema: dict[str, Any], pointer: str, spec: dict[str, Any]) -> bool:
    """Whether a JSON pointer (``/items/0/id``) names a property the response schema declares."""
    for part in pointer.strip("/").split("/"):
        while "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for sub in schema["allOf"]:
                while "$ref" in sub:
                    sub = spec["components"]["schemas"][sub["$ref"].rsplit("/", 1)[-1]]
                merged.update(sub.get("properties", {}))
            schema = {"properties": merged}
        if part.isdigit():
            if schema.get("type") != "array":
                return False
            schema = schema["items"]
        elif part in schema.get("properties", {}):
            schema = schema["properties"][part]
        else:
            return False
    return True


def test_every_link_is_well_formed(spec: dict[str, Any]) -> None:
    """Every link names an operation, fills exactly its path parameters, from the response body
    (a property the response declares) or the request's own path; lists link their first item
    to the operations on it, so a stateful tester starts from real resources."""
    ops = {op["operationId"]: op for item in spec["paths"].values() for op in item.values()}
    count = 0
    for item in spec["paths"].values():
        for op in item.values():
            own = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            for response in op["responses"].values():
                for name, link in response.get("links", {}).items():
                    count += 1
                    target = ops[link["operationId"]]
                    wanted = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                    given = link["parameters"]
                    if link["operationId"] == op["operationId"]:  # the feed's "next"
                        continue
                    assert set(given) == wanted, (op["operationId"], name)
                    body = response["content"]["application/json"]["schema"]
                    for value in given.values():
                        if value.startswith("$request.path."):
                            assert value.removeprefix("$request.path.") in own, (name, value)
                        else:
                            assert value.startswith("$response.body#/"), (name, value)
                            pointer = value.removeprefix("$response.body#")
                            assert _pointer_resolves(body, pointer, spec), (op["operationId"], name)
    assert count > 120  # 87 from the creating operations, the rest from the lists
    lists = _op(spec, "/documents", "get")["responses"]["200"]["links"]
    assert lists["get_document"]["parameters"] == {"document_id": "$response.body#/items/0/id"}
    users = _op(spec, "/organizations/{org_id}/users", "get")["responses"]["200"]["links"]
    assert set(users) == {"get_user"}  # never an account changed as a whole from a list


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/organizations/{org}/registers?year=99999999999999999999",
        "/api/v1/organizations/{org}/registers?year=1",
        "/api/v1/calendar/working-days?start=0",
        "/api/v1/documents?limit=0",
        "/api/v1/documents?limit=201",
        "/api/v1/tasks?overdue=1",
        "/api/v1/documents?q=a%00b",
        "/api/v1/documents?cursor=%21%21",
    ],
)
def test_out_of_range_and_malformed_queries_are_422(
    client: Any, api: Any, demo: Demo, url: str
) -> None:
    r = client.get(url.format(org=demo.org_id("tw")), headers=api("admin"))
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["details"]["fields"]


def test_bodies_are_held_to_the_published_schema(client: Any, api: Any, demo: Demo) -> None:
    admin = api("admin")
    # pydantic alone would take 0 as 1970-01-01.
    r = client.put(
        "/api/v1/holidays", headers=admin, json={"day": 0, "name": "x", "kind": "holiday"}
    )
    assert r.status_code == 422 and "day" in r.get_json()["error"]["details"]["fields"]
    org = demo.org_id("phuong")
    for body in ({"name": None}, {"active": None}, {"phone": "0" * 33}, {"name": "a\u0000b"}):
        r = client.patch(f"/api/v1/organizations/{org}", headers=admin, json=body)
        assert r.status_code == 422, (body, r.get_json())
    assert demo.org("000.01.01.Z01").name  # nothing changed


def test_an_admin_cannot_lock_themselves_out(client: Any, api: Any, demo: Demo) -> None:
    admin = api("admin")
    r = client.patch(
        f"/api/v1/organizations/{demo.org_id('tw')}", headers=admin, json={"active": False}
    )
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "own_organization"
    me = demo.user("admin")
    r = client.patch(f"/api/v1/users/{me.id}", headers=admin, json={"active": False})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "own_account"
    assert client.get("/api/v1/me", headers=admin).status_code == 200


def test_a_public_operation_documents_401_for_a_bad_token(spec: dict[str, Any]) -> None:
    assert "401" in _op(spec, "/verifications", "post")["responses"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/dossiers?limit=0",
        "/api/v1/dossiers?year=99999999999999999999",
        "/api/v1/dossiers?cursor=%21%21",
        "/api/v1/dossiers/transfer-list?year=1",
        "/api/v1/feedback?limit=201",
        "/api/v1/feedback/statistics?year=99999&quarter=1",
        "/api/v1/report-requests?limit=0",
        "/api/v1/report-requests?cursor=%21%21",
    ],
)
def test_the_new_lists_hold_to_the_shared_limits(client: Any, api: Any, url: str) -> None:
    r = client.get(url, headers=api("vanthu.tw"))
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["details"]["fields"]


def test_the_new_operations_state_their_rules_and_links(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert len(schemas["FileInto"]["allOf"][0]["oneOf"]) == 3
    assert len(schemas["OpenDossier"]["allOf"][0]["anyOf"]) == 2
    assert len(schemas["Recipients"]["allOf"][0]["oneOf"]) == 2
    links = _op(spec, "/dossiers", "post")["responses"]["201"]["links"]
    assert links["dossiers_get"]["parameters"] == {"dossier_id": "$response.body#/id"}
    public = _op(spec, "/public/feedback", "post")["responses"]["201"]["links"]
    assert public["public_feedback_get"]["parameters"] == {
        "tracking_code": "$response.body#/tracking_code"
    }
    for path in ("/feedback", "/file-plans", "/disposals", "/report-forms"):
        assert _op(spec, path, "post")["responses"]["201"]["links"], path
    imports = _op(spec, "/file-plans/{plan_id}/xlsx", "post")
    assert imports["requestBody"]["content"]["multipart/form-data"]["schema"]["required"] == [
        "file"
    ]
    stats = _op(spec, "/feedback/statistics", "get")["responses"]["200"]["content"]
    assert set(stats) == {"application/json", XLSX}
    toc = _op(spec, "/dossiers/{dossier_id}/table-of-contents", "get")["responses"]["200"]
    assert set(toc["content"]) == {DOCX, "application/pdf"}


def test_nul_in_a_new_body_is_422(client: Any, api: Any) -> None:
    r = client.put(
        "/api/v1/feedback/mailbox",
        headers=api("vanthu.tw"),
        json={"categories": ["a\u0000b"]},
    )
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_text"
