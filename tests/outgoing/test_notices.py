"""Outgoing documents tell their people (the bell, and so a push): a draft submitted waits for
the person it was sent to; a draft returned or signed is told to whoever submitted it and to its
drafter, never to the person acting."""

from __future__ import annotations

from sqlalchemy import select

from docflow.models import Notification, OutboxMessage
from docflow.push import PUSH_TOPIC
from tests.conftest import Demo
from tests.outgoing.conftest import Outgoing

S, H, L = "chuyenvien.dcgs", "truongban.dcgs", "lanhdao.tw"


def _notes(demo: Demo, username: str, doc: str) -> list[tuple[str, str]]:
    with demo.factory() as s:
        rows = s.scalars(
            select(Notification)
            .where(
                Notification.user_id == demo.user(username).id,
                Notification.link == f"/documents/{doc}",
            )
            .order_by(Notification.created_at, Notification.id)
        ).all()
        return [(n.kind, n.title) for n in rows]


def test_submitted_returned_and_signed_drafts_tell_their_people(flow: Outgoing, demo: Demo) -> None:
    doc = str(flow.template(S).get_json()["id"])
    flow.ok(S, doc, "submit_for_review", to_user_id=flow.user_id(H))
    assert [k for k, _ in _notes(demo, H, doc)] == ["draft_submitted"]
    assert _notes(demo, S, doc) == []  # the drafter acted: not told

    flow.ok(H, doc, "request_changes", comment="Bổ sung thời hạn.")
    assert [k for k, _ in _notes(demo, S, doc)] == ["draft_returned"]
    assert [k for k, _ in _notes(demo, H, doc)] == ["draft_submitted"]  # not told of own act

    flow.ok(S, doc, "submit_for_review", to_user_id=flow.user_id(H))
    flow.ok(H, doc, "submit_for_review", to_user_id=flow.user_id(L))
    assert [k for k, _ in _notes(demo, L, doc)] == ["draft_submitted"]
    flow.ok(L, doc, "sign")
    # The head who submitted it and the drafter learn it is signed; the leader is not told.
    assert [k for k, _ in _notes(demo, H, doc)][-1] == "draft_signed"
    assert [k for k, _ in _notes(demo, S, doc)][-1] == "draft_signed"
    assert [k for k, _ in _notes(demo, L, doc)] == ["draft_submitted"]
    subject = flow.get(S, doc).get_json()["subject"]
    with demo.factory() as s:
        signed = s.scalars(
            select(Notification).where(
                Notification.kind == "draft_signed", Notification.link == f"/documents/{doc}"
            )
        ).all()
        assert {n.body for n in signed} == {subject}
        # A person without a push subscription gets the bell only: nothing queued to push.
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.topic == PUSH_TOPIC)).all() == []
