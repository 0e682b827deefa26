"""Activation links by e-mail, through a real SMTP server (aiosmtpd on loopback, with a login):
the import (and the people page's "new activation code") asks the worker, through the outbox,
to e-mail each new person with an address their one-time link. The link arrives, works once,
expires; its code is nowhere in the database, the outbox or the logs."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from docflow import imports
from docflow.models import AuditEntry, OutboxMessage, User, UserActivation
from tests.app.test_pages import login
from tests.imports.test_activate_page import _token
from tests.imports.test_directory_import import book
from tests.tasks.test_email import Inbox, smtp  # noqa: F401  (the fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

PUBLIC = "https://dhtn.mttq.example"


def _mail_settings(app: Any, port: int) -> Any:
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(
        smtp_url=f"smtp://dhtn:s3cret@127.0.0.1:{port}?from=DHTN%20<dhtn@mttq.example>",
        public_url=PUBLIC,
    )
    return rt


def _link(body: str) -> str:
    m = re.search(r"(https://dhtn\.mttq\.example/activate\?\S+)", body)
    assert m, body
    return m.group(1)


def _activate(client: Any, link: str, password: str) -> Any:
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    return client.post(
        "/activate",
        data={
            "username": query["u"][0],
            "code": query["code"][0],
            "password": password,
            "password2": password,
            "csrf_token": _token(page.text),
        },
    )


def test_imported_people_receive_a_single_use_expiring_link(
    app: Any,
    client: Any,
    demo: Any,
    smtp: tuple[Inbox, int],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox, port = smtp
    rt = _mail_settings(app, port)
    caplog.set_level(logging.DEBUG)
    users = [
        ["thu.mot", "Người Thư Một", "000.00.01.Z01", "", "", "", "", "mot@mttq.example", "", ""],
        ["thu.hai", "Người Thư Hai", "000.00.01.Z01", "", "", "", "", "hai@mttq.example", "", ""],
        ["khong.thu", "Không Có Thư", "000.00.01.Z01", "", "", "", "", "", "", ""],
    ]
    result = imports.import_directory(
        rt.uow(),
        demo.actor("admin"),
        imports.read_directory(book([], [], users)),
        link_base=PUBLIC,
        email_links=True,
    )
    assert result.counts["users_created"] == 3 and result.counts["activations_emailed"] == 2
    # The one without an address is on the admin's sheet; the others are not.
    assert [a.username for a in result.activations] == ["khong.thu"]
    # The outbox message was handled after the commit (eager worker): one e-mail each.
    with demo.factory() as s:
        errors = s.scalars(select(OutboxMessage.last_error)).all()
        assert not any(errors), errors
    assert sorted(str(m["To"]) for m in inbox.messages) == [
        "Người Thư Hai <hai@mttq.example>",
        "Người Thư Một <mot@mttq.example>",
    ]
    bodies = {str(m["To"]).split("<")[1].rstrip(">"): m.get_content() for m in inbox.messages}
    for body in bodies.values():
        assert "Kích hoạt tài khoản" in inbox.messages[0]["Subject"]
        assert "chỉ dùng được một lần" in body and "hết hạn" in body
    link_mot, link_hai = _link(bodies["mot@mttq.example"]), _link(bodies["hai@mttq.example"])
    code_mot = parse_qs(urlsplit(link_mot).query)["code"][0]
    # The code is nowhere but in the e-mail: not in the outbox, the activations (hash only),
    # the audit log, nor any log line.
    with demo.factory() as s:
        payloads = [
            str(m.payload)
            for m in s.scalars(
                select(OutboxMessage).where(OutboxMessage.topic == imports.ACTIVATION_EMAIL_TOPIC)
            )
        ]
        assert payloads and all(code_mot not in p and "code" not in p for p in payloads)
        hashes = s.scalars(select(UserActivation.code_hash)).all()
        assert imports.activation_hash(code_mot) in hashes and code_mot not in hashes
        details = " ".join(str(d) for d in s.scalars(select(AuditEntry.details)).all())
        assert code_mot not in details
    # (The test's SMTP server logs what it receives: its lines are not the application's.)
    ours = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    assert code_mot not in ours and link_mot not in ours
    # The link works once.
    r = _activate(client, link_mot, "mat-khau-thu-mot-1")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    r = _activate(client, link_mot, "mat-khau-thu-mot-2")
    assert r.status_code == 422 and "đã dùng" in r.text
    # The other one expires: after its fourteen days it is refused.
    demo.clock.advance(days=imports.ACTIVATION_DAYS, seconds=1)
    r = _activate(client, link_hai, "mat-khau-thu-hai-1")
    assert r.status_code == 422 and "hết hạn" in r.text
    with demo.factory() as s:
        hai = s.scalars(select(User).where(User.username == "thu.hai")).one()
        assert hai.password_hash == imports.UNUSABLE_PASSWORD


def test_the_message_delivered_again_sends_nothing_twice(
    app: Any,
    demo: Any,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    from docflow.outbox import Outcome, process_message

    inbox, port = smtp
    rt = _mail_settings(app, port)
    users = [["lai.mot", "Lại Một", "000.00.01.Z01", "", "", "", "", "lai@mttq.example", "", ""]]
    imports.import_directory(
        rt.uow(),
        demo.actor("admin"),
        imports.read_directory(book([], [], users)),
        email_links=True,
    )
    assert len(inbox.messages) == 1
    with demo.factory() as s, s.begin():
        message = s.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == imports.ACTIVATION_EMAIL_TOPIC)
        ).one()
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(done_at=None))
    assert process_message(rt.uow(), message.id, rt.handlers) is Outcome.DONE
    assert len(inbox.messages) == 1


def test_new_activation_code_from_the_people_page_by_email(
    app: Any,
    client: Any,
    demo: Any,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp
    _mail_settings(app, port)
    with demo.factory() as s, s.begin():
        s.execute(
            update(User).where(User.username == "vanthu.tinh").values(email="vt@mttq.example")
        )
        target = s.scalars(select(User).where(User.username == "vanthu.tinh")).one()
    assert login(client, "admin").status_code == 302
    page = client.get("/admin/people")
    assert page.status_code == 200 and 'name="email_links"' in page.text
    r = client.post(
        "/admin/people/bulk",
        data={
            "csrf_token": _token(page.text),
            "action": "reset_activation",
            "user_ids": [str(target.id)],
            "email_links": "1",
        },
    )
    assert r.status_code == 302  # no sheet to download: the code went by e-mail
    with demo.factory() as s:
        [(payload, error)] = s.execute(
            select(OutboxMessage.payload, OutboxMessage.last_error).where(
                OutboxMessage.topic == imports.ACTIVATION_EMAIL_TOPIC
            )
        ).all()
        assert payload["user_ids"] == [str(target.id)] and error is None, error
    [msg] = inbox.messages
    assert str(msg["To"]).endswith("<vt@mttq.example>")
    r = _activate(client, _link(msg.get_content()), "mat-khau-van-thu-moi-1")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
