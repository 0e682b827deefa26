"""The answer to a document action is built from the row the action locked and changed
(``app.api.documents.acted_json``, issue 19), not read again.

The other tests run with ``check_action_answers`` on (``make_test_settings``): every action's
answer is also read afresh and must be the same. Here: that check is live (an action whose
loaded parts were not brought up to date fails it), and with it off, as in production, the
answers of the incoming flow's actions — those that set a person (submit), add rows to the
lists (assign: lead, cooperating, informed) and change a row in them (start, complete) — are
what a fresh read gives, on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.runtime import runtime
from tests.conftest import Demo
from tests.incoming.conftest import Incoming

pytestmark = [pytest.mark.pg]


def _check(app: Any, on: bool) -> None:
    rt = runtime(app)
    rt.settings = replace(rt.settings, check_action_answers=on)


def test_answers_are_what_a_fresh_read_gives(client: Any, app: Any, api: Any, demo: Demo) -> None:
    _check(app, False)
    flow = Incoming(client, api, demo)
    doc = flow.register().get_json()["id"]
    steps = [
        ("vanthu.tw", "submit", {"to_user_id": flow.user_id("lanhdao.tw")}),
        (
            "lanhdao.tw",
            "assign",
            {
                "lead": {"user_id": flow.user_id("chuyenvien.dcgs")},
                "cooperating": [{"unit_id": flow.unit_id("TG")}],
                "informed": [{"user_id": flow.user_id("chuyenvien.tg")}],
                "due_in_working_days": 5,
            },
        ),
        ("chuyenvien.dcgs", "start", {}),
        ("chuyenvien.dcgs", "complete", {"comment": "Đã xử lý."}),
    ]
    for username, action, params in steps:
        r = flow.act(username, doc, action, **params)
        assert r.status_code == 200, (action, r.get_json())
        fresh = flow.get(username, doc)
        assert fresh.status_code == 200
        assert r.get_json() == fresh.get_json(), action
    answer = r.get_json()
    assert answer["state"] == "done"
    assert [a["role"] for a in answer["assignments"]] == ["lead", "cooperating", "informed"]
    assert answer["submitted_to"]["name"]


def _submit_setting_the_column_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Submitting as an action that sets ``submitted_to_id`` and leaves the person loaded
    with the row as it was (what ``settle`` is there for)."""
    from dataclasses import replace as replaced

    from sqlalchemy.orm.attributes import set_committed_value

    import docflow.incoming.actions as actions
    from docflow.incoming.states import IncomingAction

    spec = actions.SPECS[IncomingAction.SUBMIT]

    def run(uow: Any, actor: Any, doc: Any, cmd: Any) -> Any:
        out = spec.run(uow, actor, doc, cmd)
        set_committed_value(doc, "submitted_to", None)
        return out

    monkeypatch.setitem(actions.SPECS, IncomingAction.SUBMIT, replaced(spec, run=run))


def test_an_action_that_sets_only_a_column_is_answered_with_the_person(
    client: Any, app: Any, api: Any, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _submit_setting_the_column_only(monkeypatch)
    _check(app, False)
    flow = Incoming(client, api, demo)
    doc = flow.register().get_json()["id"]
    r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200
    assert r.get_json()["submitted_to"]["id"] == flow.user_id("lanhdao.tw")
    assert r.get_json() == flow.get("vanthu.tw", doc).get_json()


def test_the_check_finds_an_answer_the_action_left_behind(
    client: Any,
    app: Any,
    api: Any,
    demo: Demo,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same action with ``settle`` skipped answers without the leader: the check refuses
    that answer; without the check (production) it would have gone out."""
    import docflow.incoming.actions as actions

    _submit_setting_the_column_only(monkeypatch)
    monkeypatch.setattr(actions, "settle", lambda uow, doc: None)
    flow = Incoming(client, api, demo)
    docs = [flow.register(notation=f"{n}/KH-MTTW-BTT").get_json()["id"] for n in (70, 71)]
    _check(app, True)
    r = flow.act("vanthu.tw", docs[0], "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 500
    assert "differs from a fresh read in ['submitted_to']" in caplog.text
    _check(app, False)
    r = flow.act("vanthu.tw", docs[1], "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200
    assert r.get_json()["submitted_to"] is None
    assert flow.get("vanthu.tw", docs[1]).get_json()["submitted_to"] is not None


def test_a_document_the_action_took_out_of_sight_is_answered_as_a_read(
    client: Any, app: Any, api: Any, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the caller may no longer see the document after their action, the answer is not
    built from the row: it is a read with visibility applied (as before issue 19: 404 when
    hidden). Here the view is told the document is out of sight and reads it again."""
    from types import SimpleNamespace

    import app.api.documents as view
    from tests.app.test_query_counts import counting

    _check(app, False)
    flow = Incoming(client, api, demo)
    doc = flow.register().get_json()["id"]
    monkeypatch.setattr(view, "access", SimpleNamespace(can_see=lambda actor, d: False))
    from sqlalchemy.engine import Engine

    with counting(Engine) as statements:
        r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200
    reads = [
        s
        for s in statements
        if " ".join(s.split()).startswith(
            (
                "SELECT documents.organization_id, documents.direction",  # the ORM's (the lock)
                "SELECT documents.id, documents.organization_id",  # docflow.documents.views
            )
        )
    ]
    assert len(reads) == 2, reads  # the lock, then the read of the answer


def test_an_action_that_takes_the_document_out_of_sight_is_committed_and_answered_404(
    client: Any, app: Any, api: Any, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should an action take the document out of the caller's sight, its answer is a read's
    (404), made after the action committed in the request's unit: the 404 does not undo the
    action. (Simulated: the answer's visibility test says no and the read finds nothing.)"""
    from types import SimpleNamespace

    from sqlalchemy import select

    import app.api.documents as view
    from docflow.errors import NotFoundError
    from docflow.models import Document

    flow = Incoming(client, api, demo)
    doc = flow.register().get_json()["id"]

    def not_found(_document_id: Any) -> Any:
        raise NotFoundError("Không tìm thấy văn bản.", code="document_not_found")

    monkeypatch.setattr(view, "access", SimpleNamespace(can_see=lambda _a, _d: False))
    monkeypatch.setattr(view, "answer_json", not_found)
    r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 404, r.get_json()
    with demo.factory() as s:
        assert s.scalar(select(Document.state).where(Document.id == doc)) == "submitted"
