"""Filing suggested when the work is completed: ``suggested_dossiers`` on PostgreSQL (related
dossiers first, then the reader's own, then the unit's of the year; never a dossier the reader
may not file into, one already holding it, or one of another unit), and the pages — an
incoming document completed lands on its page with «Đưa vào hồ sơ» asking and the likely
dossier pre-selected; a task's page files the task."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from docflow.dossiers import suggested_dossiers
from docflow.errors import NotFoundError
from tests.app.test_pages import csrf_of, login
from tests.conftest import Demo
from tests.dossiers.conftest import Dossiers
from tests.pdfs import make_pdf


def _assigned(d: Dossiers, notation: str) -> str:
    """An incoming document directed to the DCGSPBXH unit, not yet completed."""
    pdf = make_pdf(title=f"Văn bản {uuid.uuid4()}")
    r = d.incoming.register(notation=notation, files=[(pdf, "Kế hoạch.pdf", "application/pdf")])
    assert r.status_code == 201, r.get_json()
    doc = str(r.get_json()["id"])
    r = d.incoming.act("vanthu.tw", doc, "submit", to_user_id=d.incoming.user_id("lanhdao.tw"))
    assert r.status_code == 200, r.get_json()
    lead = {"unit_id": d.incoming.unit_id("DCGSPBXH")}
    r = d.incoming.act("lanhdao.tw", doc, "assign", lead=lead, due_in_working_days=5)
    assert r.status_code == 200, r.get_json()
    return doc


def _task(d: Dossiers, document_id: str | None = None) -> str:
    body: dict[str, Any] = {
        "title": "Tổng hợp kết quả giám sát",
        "lead": {"unit_id": d.incoming.unit_id("DCGSPBXH")},
        "due_date": "2026-12-10",
    }
    if document_id:
        body["document_id"] = document_id
    r = d.client.post("/api/v1/tasks", headers=d.h("lanhdao.tw"), json=body)
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["id"])


def _codes(rows: list[Any]) -> list[tuple[str, str]]:
    return [(s.dossier.code, s.reason) for s in rows]


def test_suggestions_rank_related_then_own_then_unit(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    doc = d.done_incoming()
    mine = d.opened("truongban.dcgs", code="01.MINE")
    related = d.opened("truongban.dcgs", code="02.REL")
    unit = d.opened("chuyenvien.dcgs", code="03.UNIT")
    d.opened("chuyenvien.dcgs", code="04.OLD", year=2025)  # of the unit, but not this year
    d.opened("chuyenvien.tg", code="05.TG")  # another unit: not the reader's to file into
    closed = d.opened("truongban.dcgs", code="06.CLOSED")
    task = _task(d, doc)
    # The task of the same document is filed in 02.REL and in the closed one.
    assert d.file("truongban.dcgs", related, task_id=task).status_code == 200
    assert d.file("truongban.dcgs", closed, task_id=task).status_code == 200
    d.ok("truongban.dcgs", closed, "close")
    head = demo.actor("truongban.dcgs")

    got = suggested_dossiers(demo.uow(), head, uuid.UUID(doc))
    assert _codes(got) == [("02.REL", "related"), ("01.MINE", "mine"), ("03.UNIT", "unit_year")]
    assert got[0].reason_label == "Có văn bản, nhiệm vụ liên quan"

    # Filed: the dossier holding it is no longer proposed.
    assert d.file("truongban.dcgs", related, document_id=doc).status_code == 200
    assert [s.dossier.id for s in suggested_dossiers(demo.uow(), head, uuid.UUID(doc))] == [
        uuid.UUID(mine),
        uuid.UUID(unit),
    ]

    # A second task of the same document: the dossier holding the document comes first.
    task2 = _task(d, doc)
    got = suggested_dossiers(demo.uow(), head, task_id=uuid.UUID(task2))
    assert _codes(got)[0] == ("02.REL", "related")
    assert {c for c, _ in _codes(got)} == {"02.REL", "01.MINE", "03.UNIT"}

    # Another unit's specialist sees none of the DCGS dossiers; another organisation, nothing.
    tg = demo.actor("chuyenvien.tg")
    with pytest.raises(NotFoundError):  # the document is not theirs to see
        suggested_dossiers(demo.uow(), tg, uuid.UUID(doc))
    with pytest.raises(NotFoundError):
        suggested_dossiers(demo.uow(), demo.actor("chuyenvien.tinh"), uuid.UUID(doc))
    with pytest.raises(NotFoundError):
        suggested_dossiers(demo.uow(), demo.actor("chuyenvien.tinh"), task_id=uuid.UUID(task))
    with pytest.raises(NotFoundError):
        suggested_dossiers(demo.uow(), head, uuid.uuid4())


def test_completing_lands_on_the_filing_suggestion(app: Any, dossiers: Dossiers) -> None:
    d = dossiers
    doc = _assigned(d, "301/KH-MTTW-BTT")
    d.opened("truongban.dcgs", code="01.MINE")
    related = d.opened("truongban.dcgs", code="02.REL")
    task = _task(d, doc)
    assert d.file("truongban.dcgs", related, task_id=task).status_code == 200

    web = app.test_client()
    assert login(web, "truongban.dcgs").status_code == 302
    page = web.get(f"/documents/{doc}").get_data(as_text=True)
    assert "dhtn-filing-prompt" not in page  # not completed yet: no prompt
    r = web.post(
        f"/documents/{doc}/act",
        data={"action": "complete", "comment": "Đã xử lý xong", "csrf_token": csrf_of(page)},
    )
    assert r.status_code == 302
    assert r.headers["Location"].startswith(f"/documents/{doc}?xong=1")
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "Văn bản đã xử lý xong: đề nghị đưa vào hồ sơ" in page
    chosen = re.search(r'<option value="([^"]+)" selected>([^<]+)</option>', page)
    assert chosen and chosen.group(1) == related and chosen.group(2).startswith("02.REL")
    assert "Gợi ý: <strong>02.REL</strong>" in page

    r = web.post(
        "/dossiers/file",
        data={
            "dossier_id": related,
            "document_ids": doc,
            "back": f"/documents/{doc}",
            "csrf_token": csrf_of(page),
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == f"/documents/{doc}"
    page = web.get(f"/documents/{doc}").get_data(as_text=True)
    assert "Trong hồ sơ" in page and "dhtn-filing-prompt" not in page
    items = d.get("truongban.dcgs", related).get_json()["documents"]
    assert [i.get("document_id") for i in items if i["kind"] == "document"] == [doc]


def test_task_page_files_the_task(app: Any, dossiers: Dossiers) -> None:
    d = dossiers
    doc = d.done_incoming()
    holder = d.opened("truongban.dcgs", code="02.REL")
    d.opened("truongban.dcgs", code="01.MINE")
    assert d.file("truongban.dcgs", holder, document_id=doc).status_code == 200
    task = _task(d, doc)

    web = app.test_client()
    assert login(web, "truongban.dcgs").status_code == 302
    page = web.get(f"/tasks/{task}").get_data(as_text=True)
    assert f'name="task_id" value="{task}"' in page
    chosen = re.search(r'<option value="([^"]+)" selected>', page)
    assert chosen and chosen.group(1) == holder  # the dossier of its source document
    assert "dhtn-filing-prompt" not in page  # the task is not done yet

    # Hostile: a dossier id that is not one, a task id that is not one.
    bad = web.post(
        "/dossiers/file",
        data={"dossier_id": "x", "task_id": task, "csrf_token": csrf_of(page)},
    )
    assert bad.status_code == 404
    r = web.post(
        "/dossiers/file",
        data={
            "dossier_id": holder,
            "task_id": str(uuid.uuid4()),
            "back": f"/tasks/{task}",
            "csrf_token": csrf_of(page),
        },
    )
    assert r.status_code == 302
    assert "Không tìm thấy nhiệm vụ." in web.get(f"/tasks/{task}").get_data(as_text=True)

    r = web.post(
        "/dossiers/file",
        data={
            "dossier_id": holder,
            "task_id": task,
            "back": f"/tasks/{task}",
            "csrf_token": csrf_of(page),
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == f"/tasks/{task}"
    page = web.get(f"/tasks/{task}").get_data(as_text=True)
    assert "Đã đưa nhiệm vụ vào hồ sơ." in page and "Trong hồ sơ" in page
    items = d.get("truongban.dcgs", holder).get_json()["documents"]
    assert [i.get("task_id") for i in items if i["kind"] == "task"] == [task]
