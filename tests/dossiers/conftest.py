"""Dossier tests run on PostgreSQL and S3 (SeaweedFS, a fresh prefix per test), with the demo
PKI and a warm LibreOffice so that outgoing documents can be signed and tables of contents
converted to PDF. ``dossiers`` drives the API as the demo users."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.conversion import LibreOfficeConverter
from storage import open_store
from storage.s3 import S3Backend
from tests.conftest import Clock, Demo, make_test_settings
from tests.incoming.conftest import Incoming
from tests.outgoing.conftest import (  # noqa: F401  (fixtures)
    Outgoing,
    attach_images,
    converter,
    demo_pki_dir,
)
from tests.pdfs import make_pdf
from tests.storage.helpers import with_prefix

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def s3_base(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DHTN_TEST_S3_URL")
    if url:
        return url
    lock_path = tmp_path_factory.getbasetemp().parent / "dhtn-s3-server.lock"
    script = ROOT / "scripts" / "s3-server.sh"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([str(script), "start"], check=True, timeout=120)
    return subprocess.run(
        [str(script), "url"], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def s3_url(s3_base: str) -> str:
    return with_prefix(s3_base, f"dossiers-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(s3_url: str) -> Iterator[Any]:
    """The S3 store the test's app uses too (same prefix); emptied afterwards."""
    s = open_store(s3_url)
    s.initialize()
    yield s
    backend = s.backend
    if isinstance(backend, S3Backend):
        for obj in backend.client.list_objects(
            backend.bucket, prefix=backend.prefix, recursive=True
        ):
            if obj.object_name:
                backend.client.remove_object(backend.bucket, obj.object_name)


@pytest.fixture
def app(
    tmp_path: Path,
    pg_url: str,
    s3_url: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    demo: Demo,
    demo_pki_dir: Path,  # noqa: F811
    converter: LibreOfficeConverter,  # noqa: F811
) -> Any:
    from app import create_app
    from app.runtime import runtime

    shutil.copytree(demo_pki_dir, tmp_path / "data" / "pki")
    attach_images(session_factory, clock, demo.store)
    flask_app = create_app(
        make_test_settings(tmp_path, pg_url, storage_url=s3_url),
        session_factory=session_factory,
        clock=clock,
    )
    runtime(flask_app).converter = converter
    flask_app.config.update(TESTING=True)
    return flask_app


class Dossiers:
    """Drive dossiers through the JSON API; ``incoming``/``outgoing`` make documents."""

    def __init__(self, client: Any, api: Any, demo: Demo) -> None:
        self.client, self.api, self.demo = client, api, demo
        self.incoming = Incoming(client, api, demo)
        self.outgoing = Outgoing(client, api, demo)
        self._n = 0

    def h(self, username: str) -> dict[str, str]:
        return self.incoming.h(username)

    def open(self, username: str = "chuyenvien.dcgs", **body: Any) -> Any:
        self._n += 1
        payload = {
            "organization_id": str(self.demo.org_id("tw")),
            "year": 2026,
            "code": f"{self._n:02d}.DCGS",
            "title": "Hồ sơ giám sát việc thực hiện chính sách an sinh xã hội năm 2026",
            "retention_years": 10,
            **body,
        }
        return self.client.post("/api/v1/dossiers", headers=self.h(username), json=payload)

    def opened(self, username: str = "chuyenvien.dcgs", **body: Any) -> str:
        r = self.open(username, **body)
        assert r.status_code == 201, r.get_json()
        return str(r.get_json()["id"])

    def file(self, username: str, dossier: str, **body: Any) -> Any:
        return self.client.post(
            f"/api/v1/dossiers/{dossier}/documents", headers=self.h(username), json=body
        )

    def act(self, username: str, dossier: str, action: str, **body: Any) -> Any:
        return self.client.post(
            f"/api/v1/dossiers/{dossier}/actions",
            headers=self.h(username),
            json={"action": action, **body},
        )

    def ok(self, username: str, dossier: str, action: str, **body: Any) -> dict[str, Any]:
        r = self.act(username, dossier, action, **body)
        assert r.status_code == 200, (action, r.get_json())
        out: dict[str, Any] = r.get_json()
        return out

    def get(self, username: str, dossier: str) -> Any:
        return self.client.get(f"/api/v1/dossiers/{dossier}", headers=self.h(username))

    def package(self, username: str, dossier: str) -> Any:
        return self.client.get(f"/api/v1/dossiers/{dossier}/package", headers=self.h(username))

    def done_incoming(self) -> str:
        """An incoming document (its own PDF: no object shared with another) handled to the
        end by the DCGSPBXH unit."""
        self._n += 1
        pdf = make_pdf(title=f"Văn bản {uuid.uuid4()}")
        r = self.incoming.register(
            notation=f"{100 + self._n}/KH-MTTW-BTT",
            files=[(pdf, "Kế hoạch.pdf", "application/pdf")],
        )
        assert r.status_code == 201, r.get_json()
        doc = str(r.get_json()["id"])
        lead = {"unit_id": self.incoming.unit_id("DCGSPBXH")}
        r = self.incoming.act(
            "vanthu.tw", doc, "submit", to_user_id=self.incoming.user_id("lanhdao.tw")
        )
        assert r.status_code == 200, r.get_json()
        r = self.incoming.act("lanhdao.tw", doc, "assign", lead=lead, due_in_working_days=5)
        assert r.status_code == 200, r.get_json()
        r = self.incoming.act("truongban.dcgs", doc, "complete", comment="Đã xử lý xong")
        assert r.status_code == 200, r.get_json()
        return doc


@pytest.fixture
def dossiers(client: Any, api: Any, demo: Demo) -> Dossiers:
    return Dossiers(client, api, demo)
