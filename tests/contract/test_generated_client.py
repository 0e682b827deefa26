"""A client generated from the description drives the flows (issue #20).

At test time, ``openapi-python-client`` generates a Python client from the server's own
``/api/v1/openapi.json`` into a temporary directory; the test imports it and, through it alone
(its models, its multipart encoding, its response parsing), runs the incoming flow, the outgoing
flow with a signing session, and a task's life against the app (over WSGI: the same requests a
phone would send over HTTP). If the description drifts from the server, generating, encoding or
parsing breaks here. (One spelling is translated for the generator, which reads OpenAPI 3.0's
``format: binary`` and not 3.1's ``contentMediaType``: see :func:`as_generator_reads`.)
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from signing.testpki import DemoPKI
from tests.conftest import DEMO_PASSWORD, Demo
from tests.outgoing.conftest import (  # noqa: F401  (fixtures: the app with PKI and converter)
    app,
    converter,
    demo_pki_dir,
    demo_pki_loaded,
)
from tests.outgoing.test_signing_sessions import Token
from tests.pdfs import make_pdf

pytestmark = pytest.mark.pg

#: Binary downloads: the generator types only JSON and octet-stream bodies; the others are
#: read as bytes (the description itself is right to name the real media types).
GENERATOR_CONFIG = """\
content_type_overrides:
  application/pdf: application/octet-stream
"""
_GENERATED: dict[str, ModuleType] = {}
#: OpenAPI 3.1 says a file as ``contentMediaType: application/octet-stream``; the generator reads
#: only 3.0's ``format: binary`` (the same thing, by the 3.0 → 3.1 migration rules). That one
#: spelling is translated; nothing else of the description is touched.
FILE_31 = {"type": "string", "contentMediaType": "application/octet-stream"}


def as_generator_reads(node: Any) -> Any:
    """The description with 3.1 file schemas also spelt the 3.0 way."""
    if isinstance(node, dict):
        out = {k: as_generator_reads(v) for k, v in node.items()}
        if all(out.get(k) == v for k, v in FILE_31.items()):
            out["format"] = "binary"
        return out
    if isinstance(node, list):
        return [as_generator_reads(v) for v in node]
    return node


def generated_client(spec: bytes, where: Path) -> ModuleType:
    """Generate (once per description) and import the client package."""
    digest = hashlib.sha256(spec).hexdigest()[:12]
    if digest in _GENERATED:
        return _GENERATED[digest]
    (where / "openapi.json").write_bytes(spec)
    (where / "config.yaml").write_text(GENERATOR_CONFIG)
    name = f"dhtn_client_{digest}"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            str(where / "openapi.json"),
            "--config",
            str(where / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(where / name),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    # Media types it cannot type are noted; a schema it cannot read is a broken description.
    assert "Unable to parse" not in out, out
    sys.path.insert(0, str(where))
    try:
        package = importlib.import_module(name)
    finally:
        sys.path.remove(str(where))
    _GENERATED[digest] = package
    return package


class Api:
    """The generated package, a transport into the app, and one authenticated client per
    demo user (logged in through the generated ``create_token``)."""

    def __init__(self, package: ModuleType, flask_app: Any, demo: Demo) -> None:
        self.pkg = package
        self.demo = demo
        self.transport = httpx.WSGITransport(app=flask_app)
        self._clients: dict[str, Any] = {}

    def mod(self, name: str) -> Any:
        return importlib.import_module(f"{self.pkg.__name__}.{name}")

    @property
    def models(self) -> Any:
        return self.mod("models")

    def as_(self, username: str) -> Any:
        if username not in self._clients:
            anon = self.pkg.Client(
                base_url="http://dhtn.test", httpx_args={"transport": self.transport}
            )
            login = self.mod("api.auth.create_token").sync_detailed(
                client=anon,
                body=self.models.TokenRequest(username=username, password=DEMO_PASSWORD),
            )
            assert login.status_code == 200, login.content
            self._clients[username] = self.pkg.AuthenticatedClient(
                base_url="http://dhtn.test",
                token=login.parsed.access_token,
                httpx_args={"transport": self.transport},
            )
        return self._clients[username]

    def call(self, op: str, username: str, status: int = 200, **kwargs: Any) -> Any:
        r = self.mod(f"api.{op}").sync_detailed(client=self.as_(username), **kwargs)
        assert r.status_code == status, (op, r.status_code, r.content[:2000])
        return r.parsed

    def act(self, username: str, doc_id: uuid.UUID, action: str, **params: Any) -> Any:
        body = self.models.ActionRequest(action=action)
        body.additional_properties.update(params)
        return self.call("documents.document_action", username, document_id=doc_id, body=body)

    def user_id(self, username: str) -> uuid.UUID:
        return self.demo.user(username).id


@pytest.fixture
def api_client(
    client: Any,
    app: Any,  # noqa: F811  (the fixture imported above)
    demo: Demo,
    tmp_path_factory: pytest.TempPathFactory,
) -> Api:
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    translated = json.dumps(as_generator_reads(spec.json), ensure_ascii=False).encode()
    package = generated_client(translated, tmp_path_factory.mktemp("generated"))
    return Api(package, app, demo)


def test_the_incoming_flow(api_client: Api) -> None:
    m, types = api_client.models, api_client.mod("types")
    meta = m.RegisterIncoming(
        notation="61/KH-MTTW-BTT",
        doc_type="KH",
        subject="Kế hoạch tổ chức Ngày hội Đại đoàn kết toàn dân tộc năm 2026",
        issuer=m.IssuerRef(name="Ủy ban MTTQ Việt Nam tỉnh Demo", code="000.00.01.Z01"),
        issued_date=__import__("datetime").date(2026, 11, 20),
    )
    pdf = types.File(
        payload=io.BytesIO(make_pdf()), file_name="ke-hoach.pdf", mime_type="application/pdf"
    )
    doc = api_client.call(
        "documents.register_incoming",
        "vanthu.tw",
        201,
        body=m.RegisterIncomingBody(meta=meta, files=[pdf]),
    )
    assert doc.state == "registered" and doc.register_number >= 1
    assert [f.kind for f in doc.files] == ["main"]
    handler = "chuyenvien.dcgs"
    doc = api_client.act(
        "lanhdao.tw",
        doc.id,
        "assign",
        lead={"user_id": str(api_client.user_id(handler))},
        due_in_working_days=5,
        comment="Đề nghị Ban DCGS chủ trì.",
    )
    assert doc.state == "assigned"
    inbox = api_client.call("documents.list_documents", handler, box=m.ListDocumentsBox("inbox"))
    assert doc.id in [d.id for d in inbox.items]
    assert api_client.act(handler, doc.id, "start").state == "in_progress"
    done = api_client.act(handler, doc.id, "complete", comment="Đã tổ chức, báo cáo kèm theo.")
    assert done.state == "done"
    trail = api_client.call("documents.get_trail", "vanthu.tw", document_id=doc.id)
    assert [e.action for e in trail.items][-3:] == ["assign", "start", "complete"]


def test_the_outgoing_flow_with_a_signing_session(
    api_client: Api,
    demo_pki_loaded: DemoPKI,  # noqa: F811
) -> None:
    m, types = api_client.models, api_client.mod("types")
    leader = "lanhdao.tw"
    meta = m.DraftMeta(
        doc_type="KH",
        subject="Kế hoạch giám sát việc thực hiện chính sách an sinh xã hội năm 2026",
        signer_user_id=api_client.user_id(leader),
        recipients=[m.RecipientRef(organization_id=api_client.demo.org_id("tinh"))],
    )
    draft = types.File(
        payload=io.BytesIO(make_pdf()), file_name="du-thao.pdf", mime_type="application/pdf"
    )
    doc = api_client.call(
        "outgoing.create_outgoing",
        "chuyenvien.dcgs",
        201,
        body=m.CreateOutgoingBody(meta=meta, files=[draft]),
    )
    assert doc.state == "draft"
    doc = api_client.act(
        "chuyenvien.dcgs", doc.id, "submit_for_review", to_user_id=str(api_client.user_id(leader))
    )
    assert doc.state == "in_review"
    token = Token(demo_pki_loaded, f"user:{leader}")
    body = token.body("personal")
    session = api_client.call(
        "signing.start_signing_session",
        leader,
        201,
        document_id=doc.id,
        body=m.StartSigningSession(
            kind=m.StartSigningSessionKind("personal"),
            certificate=body["certificate"],
            chain=body["chain"],
        ),
    )
    signature = token.sign(session.to_dict())
    signed = api_client.call(
        "signing.complete_signing_session",
        leader,
        session_id=session.id,
        body=m.CompleteSigningSession(signature=signature),
    )
    assert signed.state == "signed"
    issued = api_client.act("vanthu.tw", doc.id, "issue")
    assert issued.state == "issued" and issued.register_number >= 1 and issued.notation


def test_a_tasks_life(api_client: Api) -> None:
    m = api_client.models
    lead = "chuyenvien.tg"
    task = api_client.call(
        "tasks.tasks_create",
        "lanhdao.tw",
        201,
        body=m.CreateTask(
            title="Tổng hợp ý kiến cử tri trước kỳ họp",
            lead=m.Party(user_id=api_client.user_id(lead)),
            due_in_working_days=5,
        ),
    )
    assert task.state == "assigned"
    act = "tasks.tasks_action"
    api_client.call(act, lead, task_id=task.id, body=m.Start())
    progress = api_client.call(
        act, lead, task_id=task.id, body=m.ReportProgress(percent=60, comment="Đã tổng hợp 3/5 xã")
    )
    assert progress.progress == 60
    sent = api_client.call(
        act, lead, task_id=task.id, body=m.SubmitCompletion(comment="Đã tổng hợp xong.")
    )
    assert sent.state == "awaiting_approval"
    done = api_client.call(act, "lanhdao.tw", task_id=task.id, body=m.ApproveCompletion())
    assert done.state == "done"
    mine = api_client.call("tasks.tasks_list", lead, box=m.Box("mine"))
    assert task.id in [t.id for t in mine.items]
