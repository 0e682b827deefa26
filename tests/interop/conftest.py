"""Fixtures of the interop suite: sample packages and the axis simulator served on loopback.

The simulator is the real peer of these tests (no mocks): ``sim`` runs
:func:`interop.make_sim_app` in a werkzeug server thread on a free port, over a fresh data
directory, with two systems (an installation of the central committee, one of a province) whose
agencies are registered by the ``client_a`` / ``client_b`` fixtures.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, make_server

from docflow.db import utcnow
from interop import (
    Attachment,
    AxisClient,
    Bussiness,
    Code,
    DocumentType,
    EdxmlPackage,
    Organ,
    OtherInfo,
    Priority,
    PromulgationInfo,
    SignerInfo,
    StaffInfo,
    TraceHeader,
    make_sim_app,
)
from interop.edxml.dates import VN_TZ

FIXTURES = Path(__file__).parent / "fixtures"

SYSTEM_A, SECRET_A = "SYS.TW.Z01", "bí-mật-trung-ương-1"
SYSTEM_B, SECRET_B = "SYS.TINH.Z01", "secret:with:colons-2"
ORG_TW = Organ("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam")
ORG_TINH = Organ("000.00.01.Z01", "Ủy ban MTTQ Việt Nam tỉnh Demo")
ORG_PHUONG = Organ("000.01.01.Z01", "Ủy ban MTTQ Việt Nam phường Demo")


def sample_package(
    number: str = "60", attachments: tuple[Attachment, ...] | None = None, **changes: Any
) -> EdxmlPackage:
    """A plan of the central committee to the province, with a PDF and an appendix."""
    if attachments is None:
        attachments = (
            Attachment("Kế hoạch 60.pdf", "application/pdf", "kh", "Văn bản chính",
                       content=b"%PDF-1.7\n" + "Kế hoạch tổ chức".encode() * 50),
            Attachment("Phụ lục.docx", "application/vnd.openxmlformats-officedocument."
                       "wordprocessingml.document", "pl", content=bytes(range(256)) * 20),
        )  # fmt: skip
    values: dict[str, Any] = {
        "from_": ORG_TW,
        "to": (ORG_TINH,),
        "code": Code(number, "KH-MTTW-BTT"),
        "promulgation": PromulgationInfo(dt.date(2026, 6, 18), "Hà Nội"),
        "subject": "Kế hoạch tổ chức Ngày hội Đại đoàn kết toàn dân tộc năm 2026",
        "document_type": DocumentType("10", "Kế hoạch"),
        "signer": SignerInfo("TM. BAN THƯỜNG TRỰC", "Phó Chủ tịch", "Nguyễn Thị Hồng"),
        "other_info": OtherInfo(priority=Priority.URGENT, page_amount=4),
        "trace_headers": (
            TraceHeader(ORG_TW.organ_id, dt.datetime(2026, 6, 18, 9, 30, tzinfo=VN_TZ)),
        ),
        "bussiness": Bussiness(staff=StaffInfo("Văn phòng", "Trần Văn Thư")),
        "attachments": attachments,
    }
    values.update(changes)
    return EdxmlPackage(**values)


@dataclass
class Sim:
    url: str
    port: int
    data_dir: Path
    server: BaseWSGIServer


def start_sim(data_dir: Path, port: int = 0, app: Any = None) -> Sim:
    app = app or make_sim_app(data_dir, {SYSTEM_A: SECRET_A, SYSTEM_B: SECRET_B})
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return Sim(f"http://127.0.0.1:{server.port}", server.port, data_dir, server)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    running = start_sim(tmp_path / "axis")
    yield running
    running.server.shutdown()
    running.server.server_close()


def client_for(url: str, system: str, secret: str, **options: Any) -> AxisClient:
    options.setdefault("retries", 0)
    options.setdefault("timeout", 10.0)
    return AxisClient(url, system, secret, **options)


@pytest.fixture
def client_a(sim: Sim) -> Iterator[AxisClient]:
    with client_for(sim.url, SYSTEM_A, SECRET_A) as client:
        client.register_agency(ORG_TW.organ_id, ORG_TW.organ_name)
        yield client


@pytest.fixture
def client_b(sim: Sim, client_a: AxisClient) -> Iterator[AxisClient]:
    with client_for(sim.url, SYSTEM_B, SECRET_B) as client:
        for organ in (ORG_TINH, ORG_PHUONG):
            client.register_agency(organ.organ_id, organ.organ_name, parent_code="000.00.00.Z01")
        yield client


class AheadClock:
    """The real clock, moved ahead by the test (``ahead``): the polling job's clock."""

    def __init__(self) -> None:
        self.ahead = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return utcnow() + self.ahead


@pytest.fixture
def rt(app: Any, sim: Sim) -> Iterator[Any]:
    """The app's runtime wired to the simulator as SYSTEM_A, its organisations registered
    with it, on a clock the test moves ahead (``rt.clock.ahead``), not sleeps."""
    from app.exchange import register_agencies
    from app.runtime import runtime

    wired = runtime(app)
    wired.settings = wired.settings.with_overrides(
        axis_url=sim.url, axis_system_id=SYSTEM_A, axis_secret=SECRET_A
    )
    before = wired.clock
    wired.clock = AheadClock()
    register_agencies(wired)
    try:
        yield wired
    finally:
        wired.clock = before


class ForwardingGateway:
    """A gateway in front of the axis: it forwards each request to ``upstream`` (the axis
    stores what was sent) and lets ``answer(handler, upstream_response)`` write what the
    client gets instead of the axis's answer."""

    def __init__(self, upstream: str, answer: Callable[[Any, requests.Response], None]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                answer(self, requests.post(upstream + self.path, data=body, headers=headers,
                                           timeout=10))  # fmt: skip

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ForwardingGateway:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def spools(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders the polling rounds made (``tempfile.TemporaryDirectory``), by name: a test
    checks that none is left behind."""
    import tempfile

    made = tempfile.TemporaryDirectory
    names: list[str] = []

    def spool(*args: Any, **kw: Any) -> Any:
        folder = made(*args, **kw)
        names.append(folder.name)
        return folder

    monkeypatch.setattr(tempfile, "TemporaryDirectory", spool)
    return names


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The axis message ids our client downloads, in order."""
    from interop.axis_client import AxisClient

    real = AxisClient.download_edoc
    ids: list[str] = []

    def counting(self: AxisClient, doc_id: str, sink: Any) -> Any:
        ids.append(doc_id)
        return real(self, doc_id, sink)

    monkeypatch.setattr(AxisClient, "download_edoc", counting)
    return ids
