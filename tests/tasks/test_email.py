"""E-mail copies of notifications through a real SMTP server (aiosmtpd, on loopback, with a
login), sent by the outbox after the commit, once."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select, update

from docflow.models import Notification, OutboxMessage, User
from docflow.outbox import Outcome, process_message
from tests.servers import free_port
from tests.tasks.conftest import Tasks

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"dhtn", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    yield inbox, port
    controller.stop()


def _give_email(tasks: Tasks, username: str, address: str) -> None:
    with tasks.demo.factory() as s, s.begin():
        s.execute(update(User).where(User.username == username).values(email=address))


def test_a_new_task_is_emailed_to_the_lead_after_commit_once(
    app: Any, client: Any, api: Any, tasks: Tasks, smtp: tuple[Inbox, int]
) -> None:
    from app.runtime import runtime

    inbox, port = smtp
    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(
        smtp_url=f"smtp://dhtn:s3cret@127.0.0.1:{port}?from=DHTN%20<dhtn@mttq.example>"
    )
    _give_email(tasks, "chuyenvien.dcgs", "huy@mttq.example")
    r = client.post(
        "/api/v1/tasks",
        json={
            "title": "Rà soát kiến nghị cử tri",
            "lead": {"user_id": str(tasks.uid("chuyenvien.dcgs"))},
            "cooperating": [
                {"user_id": str(tasks.uid("chuyenvien.tg"))}
            ],  # no address: in-app only
            "due_date": "2026-12-04",
        },
        headers=api("lanhdao.tw"),
    )
    assert r.status_code == 201, r.json
    # The outbox message was published after the commit and handled (eager worker).
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["To"] == "Đỗ Quang Huy <huy@mttq.example>"
    assert msg["From"] == "DHTN <dhtn@mttq.example>"
    assert msg["Subject"] == "Nhiệm vụ mới: Rà soát kiến nghị cử tri"
    body = msg.get_content()
    assert "Hạn hoàn thành: 04/12/2026." in body and f"/tasks/{r.json['id']}" in body
    with tasks.demo.factory() as s:
        note = s.scalars(
            select(Notification).where(Notification.user_id == tasks.uid("chuyenvien.dcgs"))
        ).one()
        assert note.emailed_at is not None
        [message] = s.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "notify.email")
        ).all()
        assert message.payload == {"notification_ids": [str(note.id)]} and message.done_at
        message_id = message.id
    # Delivered again (a relay after a crash): marked as sent, so nothing goes out twice.
    with tasks.demo.factory() as s, s.begin():
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(done_at=None))
    assert process_message(rt.uow(), message_id, rt.handlers) is Outcome.DONE
    assert len(inbox.messages) == 1


def test_a_server_refusing_the_login_means_retry_not_loss(
    app: Any, tasks: Tasks, smtp: tuple[Inbox, int]
) -> None:
    from app.runtime import runtime

    inbox, port = smtp
    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(smtp_url=f"smtp://dhtn:wrong@127.0.0.1:{port}")
    _give_email(tasks, "truongban.dcgs", "hanh@mttq.example")
    tasks.create(unit="DCGSPBXH")
    assert inbox.messages == []
    with tasks.demo.factory() as s:
        message = s.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "notify.email")
        ).one()
        note = s.scalars(select(Notification).where(Notification.kind == "task_assigned")).one()
        assert message.done_at is None and message.attempts == 0  # not handled: no publisher
        assert note.emailed_at is None
    outcome = process_message(rt.uow(), message.id, rt.handlers)
    assert outcome is Outcome.RETRY and inbox.messages == []
    rt.settings = rt.settings.with_overrides(smtp_url=f"smtp://dhtn:s3cret@127.0.0.1:{port}")
    tasks.set_today(tasks.demo.clock().date(), hour=12)  # past the backoff
    assert process_message(rt.uow(), message.id, rt.handlers) is Outcome.DONE
    assert [m["To"] for m in inbox.messages] == ["Phạm Thị Hạnh <hanh@mttq.example>"]
