"""Helpers for the incoming flow: register through the API, act, count what is stored."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from docflow.models import Document, Register
from tests.conftest import Demo
from tests.pdfs import make_pdf

META = {
    "notation": "60/KH-MTTW-BTT",
    "doc_type": "KH",
    "subject": "Kế hoạch tổ chức Ngày hội Đại đoàn kết toàn dân tộc năm 2026",
    "issuer": {"name": "Ủy ban MTTQ Việt Nam tỉnh Demo", "code": "000.00.01.Z01"},
    "issued_date": "2026-11-20",
}


class Incoming:
    """Drive the incoming flow through the JSON API as the demo users."""

    def __init__(self, client: Any, api: Any, demo: Demo) -> None:
        self.client, self.api, self.demo = client, api, demo
        self._tokens: dict[str, dict[str, str]] = {}
        self._made = 0

    def h(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            self._tokens[username] = self.api(username)
        return self._tokens[username]

    def register(
        self,
        username: str = "vanthu.tw",
        files: list[tuple[bytes, str, str]] | None = None,
        **meta: Any,
    ) -> Any:
        body = {**META, **meta}
        data: dict[str, Any] = {"meta": json.dumps(body)}
        if files is None:
            files = [(make_pdf(), "Kế hoạch.pdf", "application/pdf")]
        data["files"] = [(io.BytesIO(b), name, ctype) for b, name, ctype in files]
        return self.client.post(
            "/api/v1/incoming",
            headers=self.h(username),
            data=data,
            content_type="multipart/form-data",
        )

    def act(self, username: str, doc_id: str, action: str, **params: Any) -> Any:
        return self.client.post(
            f"/api/v1/documents/{doc_id}/actions",
            headers=self.h(username),
            json={"action": action, **params},
        )

    def get(self, username: str, doc_id: str) -> Any:
        return self.client.get(f"/api/v1/documents/{doc_id}", headers=self.h(username))

    def box(self, username: str, box: str = "inbox", **q: str) -> list[str]:
        params = "&".join(f"{k}={v}" for k, v in {"box": box, **q}.items())
        r = self.client.get(f"/api/v1/documents?{params}", headers=self.h(username))
        assert r.status_code == 200, r.get_json()
        return [d["id"] for d in r.get_json()["items"]]

    def unit_id(self, abbr: str, org: str = "tw") -> str:
        r = self.client.get(
            f"/api/v1/organizations/{self.demo.org_id(org)}/units", headers=self.h("admin")
        )
        return next(u["id"] for u in r.get_json()["items"] if u["abbreviation"] == abbr)

    def user_id(self, username: str) -> str:
        return str(self.demo.user(username).id)

    def counts(self) -> tuple[int, int, int]:
        """(documents, objects in use, numbers consumed) — what a refusal must leave alone."""
        with self.demo.factory() as s:
            docs = s.scalar(select(func.count()).select_from(Document)) or 0
            numbers = s.scalar(select(func.sum(Register.last_number))) or 0
        objects = self.demo.objects_in_use()
        return int(docs), objects, int(numbers)

    def to_assigned(self, **assign: Any) -> str:
        """Register, submit to lanhdao.tw, assign DCGSPBXH lead and TG cooperating."""
        self._made += 1
        doc = self.register(notation=f"{59 + self._made}/KH-MTTW-BTT").get_json()["id"]
        assert (
            self.act("vanthu.tw", doc, "submit", to_user_id=self.user_id("lanhdao.tw")).status_code
            == 200
        )
        params = {
            "lead": {"unit_id": self.unit_id("DCGSPBXH")},
            "cooperating": [{"unit_id": self.unit_id("TG")}],
            "due_in_working_days": 5,
            **assign,
        }
        r = self.act("lanhdao.tw", doc, "assign", **params)
        assert r.status_code == 200, r.get_json()
        return str(doc)


@pytest.fixture
def flow(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)
