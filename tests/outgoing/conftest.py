"""Helpers for the outgoing flow: a demo PKI for the session (copied into each test's data
dir, as ``dhtn demo seed`` makes it), one warm LibreOffice for the whole session, and a driver
of the flow through the JSON API as the demo users."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.conversion import LibreOfficeConverter
from docflow import UnitOfWork
from docflow.demo import DEMO_ORGS, attach_signature_images, signing_people
from docflow.models import Document, Register
from signing import (
    render_signature_image,
)
from signing.testpki import (
    DemoPKI,
    OrgSpec,
    UserSpec,
    generate_demo_pki,
)
from tests.conftest import Clock, Demo, make_test_settings

BODY = (
    "Thực hiện Chương trình phối hợp giám sát năm 2026, Ban Thường trực Ủy ban Trung ương Mặt "
    "trận Tổ quốc Việt Nam đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam các tỉnh, thành phố tổ chức "
    "giám sát việc thực hiện chính sách an sinh xã hội tại địa phương.\n"
    "Báo cáo kết quả gửi về Ban Dân chủ, Giám sát và Phản biện xã hội trước ngày 15 tháng 12."
)


def _full_names() -> dict[str, str]:
    return {u.username: u.full_name for o in DEMO_ORGS for u in o.users}


@pytest.fixture(scope="session")
def demo_pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo PKI for the demo organisations and their leaders and clerks (once a session)."""
    from docflow.enums import Role

    directory = tmp_path_factory.mktemp("outgoing-pki") / "pki"
    orgs = [OrgSpec(code=o.code_prefix + "Z01", name=o.name) for o in DEMO_ORGS]
    users = [
        UserSpec(username=u.username, full_name=u.full_name, org_code=o.code_prefix + "Z01")
        for o in DEMO_ORGS
        for u in o.users
        if set(u.roles) & {Role.LEADER, Role.CLERK}
    ]
    generate_demo_pki(directory, organizations=orgs, users=users)
    return directory


@pytest.fixture(scope="session")
def demo_pki_loaded(demo_pki_dir: Path) -> DemoPKI:
    from signing.testpki import load_demo_pki

    return load_demo_pki(demo_pki_dir)


@pytest.fixture(scope="session")
def converter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LibreOfficeConverter]:
    conv = LibreOfficeConverter(tmp_path_factory.mktemp("converter"), timeout=60)
    yield conv
    conv.close()


def attach_images(factory: sessionmaker[Session], clock: Clock, store: Any) -> None:
    uow = UnitOfWork(factory, clock=clock, store=store)
    keys = {}
    for p in signing_people(uow):
        keys[p.user_id] = store.put(
            io.BytesIO(render_signature_image(p.full_name)), "image/png"
        ).key
    attach_signature_images(UnitOfWork(factory, clock=clock, store=store), keys)


@pytest.fixture
def app(
    tmp_path: Path,
    pg_url: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    demo: Demo,
    demo_pki_dir: Path,
    converter: LibreOfficeConverter,
) -> Any:
    """The app with the demo PKI in its data dir and the session's warm converter."""
    from app import create_app
    from app.runtime import runtime

    shutil.copytree(demo_pki_dir, tmp_path / "data" / "pki")
    attach_images(session_factory, clock, demo.store)
    flask_app = create_app(
        make_test_settings(tmp_path, pg_url), session_factory=session_factory, clock=clock
    )
    runtime(flask_app).converter = converter
    flask_app.config.update(TESTING=True)
    return flask_app


class Outgoing:
    """Drive the outgoing flow through the JSON API as the demo users."""

    def __init__(self, client: Any, api: Any, demo: Demo) -> None:
        self.client, self.api, self.demo = client, api, demo
        self._tokens: dict[str, dict[str, str]] = {}

    def h(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            self._tokens[username] = self.api(username)
        return self._tokens[username]

    def user_id(self, username: str) -> str:
        return str(self.demo.user(username).id)

    def meta(self, **extra: Any) -> dict[str, Any]:
        return {
            "doc_type": "KH",
            "subject": "Kế hoạch giám sát việc thực hiện chính sách an sinh xã hội năm 2026",
            "signer_user_id": self.user_id("lanhdao.tw"),
            "competence": "TM.",
            "authority": "Ban Thường trực",
            "recipients": [
                {"organization_id": str(self.demo.org_id("tinh"))},
                {"organization_id": str(self.demo.org_id("phuong"))},
            ],
            **extra,
        }

    def template(self, username: str = "chuyenvien.dcgs", **extra: Any) -> Any:
        body = {**self.meta(), "body": BODY, **extra}
        return self.client.post("/api/v1/outgoing/template", headers=self.h(username), json=body)

    def upload(
        self,
        data: bytes,
        name: str,
        content_type: str,
        username: str = "chuyenvien.dcgs",
        **extra: Any,
    ) -> Any:
        return self.client.post(
            "/api/v1/outgoing",
            headers=self.h(username),
            data={
                "meta": json.dumps({**self.meta(), **extra}),
                "files": [(io.BytesIO(data), name, content_type)],
            },
            content_type="multipart/form-data",
        )

    def new_version(
        self, username: str, doc_id: str, data: bytes, name: str, content_type: str, **form: Any
    ) -> Any:
        return self.client.post(
            f"/api/v1/documents/{doc_id}/files",
            headers=self.h(username),
            data={"files": [(io.BytesIO(data), name, content_type)], **form},
            content_type="multipart/form-data",
        )

    def act(self, username: str, doc_id: str, action: str, **params: Any) -> Any:
        return self.client.post(
            f"/api/v1/documents/{doc_id}/actions",
            headers=self.h(username),
            json={"action": action, **params},
        )

    def ok(self, username: str, doc_id: str, action: str, **params: Any) -> dict[str, Any]:
        r = self.act(username, doc_id, action, **params)
        assert r.status_code == 200, (action, r.get_json())
        body: dict[str, Any] = r.get_json()
        return body

    def get(self, username: str, doc_id: str) -> Any:
        return self.client.get(f"/api/v1/documents/{doc_id}", headers=self.h(username))

    def deliveries(self, username: str, doc_id: str) -> list[dict[str, Any]]:
        r = self.client.get(f"/api/v1/documents/{doc_id}/deliveries", headers=self.h(username))
        assert r.status_code == 200, r.get_json()
        items: list[dict[str, Any]] = r.get_json()["items"]
        return items

    def file_bytes(self, username: str, doc_id: str, file_id: str) -> bytes:
        r = self.client.get(
            f"/api/v1/documents/{doc_id}/files/{file_id}/content", headers=self.h(username)
        )
        assert r.status_code == 200
        return bytes(r.data)

    def main_pdf(self, username: str, doc_id: str) -> bytes:
        doc = self.get(username, doc_id).get_json()
        main = next(f for f in doc["files"] if f["kind"] == "main")
        return self.file_bytes(username, doc_id, main["id"])

    def to_signed(self, **extra: Any) -> str:
        """Template draft by the specialist → unit head → leader, who signs."""
        doc = self.template(**extra).get_json()["id"]
        self.ok(
            "chuyenvien.dcgs", doc, "submit_for_review", to_user_id=self.user_id("truongban.dcgs")
        )
        self.ok("truongban.dcgs", doc, "submit_for_review", to_user_id=self.user_id("lanhdao.tw"))
        self.ok("lanhdao.tw", doc, "sign")
        return str(doc)

    def to_dispatched(self, **extra: Any) -> str:
        doc = self.to_signed(**extra)
        self.ok("vanthu.tw", doc, "issue")
        self.ok("vanthu.tw", doc, "dispatch")
        return doc

    def counts(self) -> tuple[int, int, int]:
        """(documents, objects in use, numbers consumed) — what a refusal must leave alone."""
        with self.demo.factory() as s:
            docs = s.scalar(select(func.count()).select_from(Document)) or 0
            numbers = s.scalar(select(func.sum(Register.last_number))) or 0
        objects = self.demo.objects_in_use()
        return int(docs), objects, int(numbers)


@pytest.fixture
def flow(client: Any, api: Any, demo: Demo) -> Outgoing:
    return Outgoing(client, api, demo)
