"""Two installations of DHTN (two databases, two object stores) exchange a document through
`dhtn axis-sim`, which is stopped and restarted in the middle: nothing is lost or duplicated,
and every status the recipient's work produces reaches the sender (01, 03, 04, 05, 06)."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_PASSWORD, fresh_pg_database, make_test_settings
from tests.pdfs import make_pdf
from tests.servers import free_port

pytestmark = [pytest.mark.pg, pytest.mark.slow]


@dataclass
class Sim:
    port: int
    data: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        dhtn = str(Path(sys.executable).with_name("dhtn"))
        self.proc = subprocess.Popen(
            [
                dhtn,
                "axis-sim",
                "--port",
                str(self.port),
                "--data",
                str(self.data),
                "--system",
                "SYS.A:bí-mật-a",
                "--system",
                "SYS.B:secret-b",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("axis-sim did not start")

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)


@dataclass
class Installation:
    app: Any
    suffix: str
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def rt(self) -> Any:
        from app.runtime import runtime

        return runtime(self.app)

    def user(self, name: str) -> str:
        return name  # DHTN_DEMO_SUFFIX changes organisation codes only

    def h(self, name: str) -> dict[str, str]:
        user = self.user(name)
        if user not in self.tokens:
            r = self.app.test_client().post(
                "/api/v1/auth/token", json={"username": user, "password": DEMO_PASSWORD}
            )
            assert r.status_code == 200, r.get_json()
            self.tokens[user] = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
        return self.tokens[user]

    def api(self, method: str, path: str, who: str, **kw: Any) -> Any:
        r = getattr(self.app.test_client(), method)(f"/api/v1{path}", headers=self.h(who), **kw)
        assert r.status_code in (200, 201), (path, r.get_json())
        return r.get_json()

    def act(self, who: str, doc: str, action: str, **params: Any) -> Any:
        return self.api("post", f"/documents/{doc}/actions", who, json={"action": action, **params})


def _installation(
    tmp: Path, name: str, suffix: str, sim: Sim, system: str, secret: str
) -> Installation:
    from app import create_app
    from app.pki import ensure_demo_pki
    from app.runtime import build_runtime
    from docflow.demo import seed_demo
    from migrations import upgrade

    url = fresh_pg_database(f"_e2e_{name}")
    upgrade(url)
    settings = make_test_settings(
        tmp / name,
        url,
        axis_url=sim.url,
        axis_system_id=system,
        axis_secret=secret,
        demo_suffix=suffix,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    rt = build_runtime(settings)
    seed_demo(rt.uow(), password=DEMO_PASSWORD, suffix=suffix)
    ensure_demo_pki(rt)
    assert rt.engine is not None
    rt.engine.dispose()
    return Installation(create_app(settings), suffix)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Sim, Installation, Installation]]:
    sim = Sim(free_port(), tmp_path / "axis")
    sim.start()
    a = _installation(tmp_path, "a", "Z01", sim, "SYS.A", "bí-mật-a")
    b = _installation(tmp_path, "b", "Z02", sim, "SYS.B", "secret-b")
    yield sim, a, b
    sim.stop()
    for inst in (a, b):
        if inst.rt.engine is not None:
            inst.rt.engine.dispose()


def _dispatched(a: Installation, subject: str) -> str:
    """An official letter of A's central committee to B's province, signed, issued and
    dispatched (queued for the axis); its id."""
    lead = a.api("get", "/me", "lanhdao.tw")["id"]
    meta = {
        "doc_type": "CV",
        "subject": subject,
        "signer_user_id": lead,
        "competence": "TM.",
        "authority": "Ban Thường trực",
        "recipients": [{"code": "000.00.01.Z02"}],
    }
    draft = a.api(
        "post",
        "/outgoing",
        "chuyenvien.dcgs",
        content_type="multipart/form-data",
        data={
            "meta": json.dumps(meta),
            "files": [(io.BytesIO(make_pdf(title=subject)), "Công văn.pdf", "application/pdf")],
        },
    )
    doc: str = draft["id"]
    a.act("chuyenvien.dcgs", doc, "submit_for_review", to_user_id=lead)
    a.act("lanhdao.tw", doc, "sign")
    a.act("vanthu.tw", doc, "issue")
    a.act("vanthu.tw", doc, "dispatch")
    return doc


def _delivery_codes(a: Installation, doc: str) -> tuple[str, list[str]]:
    [delivery] = a.api("get", f"/documents/{doc}/deliveries", "vanthu.tw")["items"]
    return delivery["status_code"], [e["status_code"] for e in delivery["events"]]


def test_document_goes_from_a_to_b_and_every_status_comes_back(
    world: tuple[Sim, Installation, Installation],
) -> None:
    from app.exchange import poll_axis, register_agencies, send_to_axis

    sim, a, b = world
    assert register_agencies(a.rt) == 3 and register_agencies(b.rt) == 3
    doc = _dispatched(a, "V/v phối hợp giám sát chính sách an sinh xã hội")
    assert send_to_axis(a.rt) == 1

    sim.stop()  # the axis goes down between sending and receiving…
    sim.start()  # …and comes back with what it held

    assert poll_axis(b.rt) == 1
    assert send_to_axis(a.rt) == 0 and poll_axis(b.rt) == 0  # nothing sent or received twice
    inbox = b.api("get", "/documents?box=inbox", "vanthu.tinh")["items"]
    assert [(d["state"], d["source"], d["issuer"]["code"]) for d in inbox] == [
        ("arrived", "axis", "000.00.00.Z01")
    ]
    received = inbox[0]["id"]
    b.act("vanthu.tinh", received, "register")
    units = {
        u["abbreviation"]: u["id"]
        for u in b.api("get", f"/organizations/{inbox[0]['organization_id']}/units", "vanthu.tinh")[
            "items"
        ]
    }
    b.act("lanhdao.tinh", received, "assign", lead={"unit_id": units["VP"]}, due_in_working_days=5)
    specialist = b.api("get", "/me", "chuyenvien.tinh")["id"]
    b.act("lanhdao.tinh", received, "assign", lead={"user_id": specialist})
    b.act("chuyenvien.tinh", received, "start")
    b.act("chuyenvien.tinh", received, "complete", comment="Đã phối hợp xong")
    poll_axis(a.rt)
    [delivery] = a.api("get", f"/documents/{doc}/deliveries", "vanthu.tw")["items"]
    assert (delivery["state"], delivery["status_code"]) == ("sent", "06")
    codes = [e["status_code"] for e in delivery["events"]]
    # Each code once, in order (the leader's second direction repeats 04 on B's side, the
    # sender keeps the history it received).
    assert [c for i, c in enumerate(codes) if c not in codes[:i]] == ["01", "03", "04", "05", "06"]
    assert poll_axis(a.rt) == 0 and poll_axis(b.rt) == 0

    # A recalls a second document after B received it; B's copy is recalled and B answers 15.
    second = _dispatched(a, "V/v điều chỉnh kế hoạch (sẽ thu hồi)")
    send_to_axis(a.rt)
    poll_axis(b.rt)
    a.act("vanthu.tw", second, "recall", reason="Ban hành nhầm, sẽ gửi văn bản thay thế")
    assert send_to_axis(a.rt) == 1  # the revocation
    poll_axis(b.rt)
    copies = b.api("get", "/documents?box=all&state=recalled", "vanthu.tinh")["items"]
    assert [d["subject"] for d in copies] == ["V/v điều chỉnh kế hoạch (sẽ thu hồi)"]
    poll_axis(a.rt)
    [recalled] = a.api("get", f"/documents/{second}/deliveries", "vanthu.tw")["items"]
    assert recalled["status_code"] == "15"
    assert send_to_axis(a.rt) == 0  # the revocation leaves once


def test_a_status_that_crossed_the_recall_does_not_stop_the_revocation(
    world: tuple[Sim, Installation, Installation],
) -> None:
    """B's 01 ("arrived") was still on the axis when A's clerk recalled the document; A took it
    in after the recall, it replaced the 13 that the revocation leaves from, and B's copy was
    never recalled (the fresh installations' test, on a slow machine). The 13 stays shown until
    B answers; the late 01 goes into the history."""
    from app.exchange import poll_axis, register_agencies, send_to_axis

    _sim, a, b = world
    assert register_agencies(a.rt) == 3 and register_agencies(b.rt) == 3
    doc = _dispatched(a, "V/v điều chỉnh lịch làm việc (thu hồi khi đang gửi)")
    assert send_to_axis(a.rt) == 1
    assert poll_axis(b.rt) == 1  # B's copy arrives; its 01 leaves for A…
    a.act("vanthu.tw", doc, "recall", reason="Ban hành nhầm")  # …and A recalls before reading it
    assert poll_axis(a.rt) == 1
    assert _delivery_codes(a, doc) == ("13", ["13", "01"])
    assert send_to_axis(a.rt) == 1  # the revocation leaves all the same…
    assert send_to_axis(a.rt) == 0  # …once, though B has not answered it yet
    assert poll_axis(b.rt) == 1
    [copy] = b.api("get", "/documents?box=all", "vanthu.tinh")["items"]
    assert copy["state"] == "recalled"
    assert poll_axis(a.rt) == 1
    assert _delivery_codes(a, doc) == ("15", ["13", "01", "15"])
    assert send_to_axis(a.rt) == 0  # once
