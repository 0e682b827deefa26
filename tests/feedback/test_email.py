"""The answer is e-mailed to a sender who gave an address (real SMTP server on loopback, the
outbox after the commit), with the tracking link on DHTN_PUBLIC_URL; officers' e-mails carry no
personal data of the sender."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from docflow.models import FeedbackItem
from tests.conftest import Demo
from tests.feedback.conftest import PUBLIC_URL, SECRET_EMAIL
from tests.tasks.test_email import Inbox, smtp  # noqa: F401  (the fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def test_answer_is_emailed_to_the_sender(
    app: Any,
    demo: Demo,
    submit: Any,
    act: Any,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    from app.runtime import runtime

    inbox, port = smtp
    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(
        smtp_url=f"smtp://dhtn:s3cret@127.0.0.1:{port}?from=MTTQ%20<gopy@mttq.example>"
    )
    code = submit().json["tracking_code"]
    with demo.factory() as s:
        item_id = s.scalars(select(FeedbackItem.id).where(FeedbackItem.tracking_code == code)).one()
    act("lanhdao.phuong", str(item_id), "accept")
    assert act("lanhdao.phuong", str(item_id), "answer", text="Đã thu gom.").status_code == 200
    mine = [m for m in inbox.messages if m["To"] == SECRET_EMAIL]
    assert len(mine) == 1
    body = mine[0].get_content()
    assert mine[0]["Subject"] == f"Trả lời phản ánh {code}"
    assert "Đã thu gom." in body and f"{PUBLIC_URL}/gop-y/tra-cuu?ma={code}" in body
    for other in inbox.messages:
        if other is not mine[0]:
            assert SECRET_EMAIL not in other.get_content()
