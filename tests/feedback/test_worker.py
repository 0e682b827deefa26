"""The citizen's path with the real background machinery: PostgreSQL, a Redis broker and a
Celery worker (as tests/test_background.py), an SMTP server on loopback. A public submission
with a photo → the ward's box → answered: the answer e-mail leaves through the outbox and the
worker (after the commit, once); the deadline reminder job runs in the worker and notifies the
ward's officers once, with nothing personal in what they receive."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select, update

from docflow.models import FeedbackItem, Notification, OutboxMessage, ReminderSent
from docflow.workdays import local_date
from tests.conftest import DEMO_PASSWORD, Clock, worker_backed_app
from tests.feedback.conftest import (
    PUBLIC_URL,
    SECRET_ADDRESS,
    SECRET_EMAIL,
    SECRET_NAME,
    SECRET_PHONE,
    meta,
    photo,
)
from tests.tasks.test_email import Inbox, smtp  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.pg,
    pytest.mark.redis,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]


def _wait(check: Callable[[], Any], seconds: float = 30) -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("the worker did not get there in time")


@pytest.fixture
def worker_app(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[Any]:  # noqa: F811
    _, port = smtp
    with worker_backed_app(
        tmp_path,
        "feedback-worker",
        clock=Clock(),  # Monday 23 November 2026, a working day
        public_url=PUBLIC_URL,
        smtp_url=f"smtp://dhtn:s3cret@127.0.0.1:{port}?from=MTTQ%20<gopy@mttq.example>",
    ) as app:
        yield app


def test_public_submission_answer_email_and_reminders_through_the_worker(
    worker_app: Any,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    from app.celery_app import celery_of
    from app.runtime import runtime

    inbox, _ = smtp
    rt = runtime(worker_app)
    celery = celery_of(worker_app)
    client = worker_app.test_client()

    def headers(username: str) -> dict[str, str]:
        r = client.post(
            "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert r.status_code == 200, r.json
        return {"Authorization": f"Bearer {r.json['access_token']}"}

    with start_worker(
        celery, pool="threads", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ):
        # The citizen sends, with a photo, through the public API.
        r = client.post(
            "/api/v1/public/feedback",
            data={"meta": json.dumps(meta()), "files": [(io.BytesIO(photo()), "rac.png")]},
            content_type="multipart/form-data",
        )
        assert r.status_code == 201, r.json
        code = r.json["tracking_code"]
        leader = headers("lanhdao.phuong")
        box = client.get("/api/v1/feedback?box=inbox", headers=leader).json["items"]
        assert [i["tracking_code"] for i in box] == [code]
        item_id = box[0]["id"]

        # The deadline reminder job, run by the worker: the item is due tomorrow.
        today = local_date(rt.clock())
        with rt.session_factory() as s, s.begin():
            s.execute(
                update(FeedbackItem)
                .where(FeedbackItem.id == uuid.UUID(item_id))
                .values(due_date=today + dt.timedelta(days=1))
            )
        celery.tasks["dhtn.job.feedback_reminders"].apply_async()

        def reminded() -> list[Notification]:
            with rt.session_factory() as s:
                return list(
                    s.scalars(select(Notification).where(Notification.kind == "feedback_due_soon"))
                )

        notes = _wait(reminded)
        celery.tasks["dhtn.job.feedback_reminders"].apply_async()  # twice: still once
        time.sleep(2)
        assert len(reminded()) == len(notes) >= 1
        with rt.session_factory() as s:
            claims = s.scalars(select(ReminderSent).where(ReminderSent.source == "feedback")).all()
            assert len(claims) == 1
        for note in notes:
            text = f"{note.title} {note.body}"
            for secret in (SECRET_NAME, SECRET_PHONE, SECRET_EMAIL, SECRET_ADDRESS):
                assert secret not in text

        # Accepted and answered: the answer e-mail goes out through the outbox and the worker.
        for action, params in (("accept", {}), ("answer", {"text": "Đã thu gom rác ngõ 12."})):
            r = client.post(
                f"/api/v1/feedback/{item_id}/actions",
                json={"action": action, **params},
                headers=leader,
            )
            assert r.status_code == 200, r.json
        mine = _wait(lambda: [m for m in inbox.messages if m["To"] == SECRET_EMAIL])
        time.sleep(1)  # a second copy would show up now
        mine = [m for m in inbox.messages if m["To"] == SECRET_EMAIL]
        assert len(mine) == 1
        assert mine[0]["Subject"] == f"Trả lời phản ánh {code}"
        body = mine[0].get_content()
        assert "Đã thu gom rác ngõ 12." in body and f"{PUBLIC_URL}/gop-y/tra-cuu?ma={code}" in body

    with rt.session_factory() as s:
        answer_msgs = s.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "feedback.answer_email")
        ).all()
        assert len(answer_msgs) == 1 and answer_msgs[0].done_at is not None
    public = client.get(f"/api/v1/public/feedback/{code}").json
    assert public["state"] == "answered" and public["answer"] == "Đã thu gom rác ngõ 12."
    for secret in (SECRET_NAME, SECRET_PHONE, SECRET_EMAIL, SECRET_ADDRESS):
        assert secret not in json.dumps(public)
