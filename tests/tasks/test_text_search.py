"""Task attachments are read in the background (docflow.search) and the task list finds tasks
by the words of their files — accents and case ignored — only among the tasks the reader may
see (real PostgreSQL, real PDF and DOCX files)."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import select

from docflow.models import TaskAttachment, TaskFileText
from tests.conftest import Demo
from tests.pdfs import make_pdf
from tests.search.files import docx_file, text_pdf
from tests.tasks.conftest import Tasks


def _create(client: Any, api: Any, tasks: Tasks, files: list[tuple[bytes, str]]) -> str:
    meta = {
        "title": "Chuẩn bị hội nghị",
        "lead": {"user_id": str(tasks.uid("chuyenvien.dcgs"))},
        "due_date": "2026-12-04",
    }
    r = client.post(
        "/api/v1/tasks",
        data={"meta": json.dumps(meta), "files": [(io.BytesIO(d), n) for d, n in files]},
        headers=api("lanhdao.tw"),
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.json
    tid: str = r.json["id"]
    return tid


def _found(client: Any, api: Any, who: str, q: str, box: str = "mine") -> list[str]:
    r = client.get("/api/v1/tasks", query_string={"q": q, "box": box}, headers=api(who))
    assert r.status_code == 200, r.json
    return [t["id"] for t in r.json["items"]]


def test_task_files_are_read_and_found_by_their_words_within_visibility(
    client: Any, api: Any, tasks: Tasks, demo: Demo
) -> None:
    table = docx_file(["Biên bản"], [["Nội dung"], ["vận động quỹ vì người nghèo"]])
    tid = _create(
        client,
        api,
        tasks,
        [(text_pdf(), "Kế hoạch.pdf"), (table, "Biên bản.docx"), (make_pdf(), "Bản quét.pdf")],
    )
    other = _create(client, api, tasks, [(make_pdf(), "Khác.pdf")])
    r = client.get(f"/api/v1/tasks/{tid}", headers=api("chuyenvien.dcgs"))
    status = {f["name"]: f["text_status"] for f in r.json["files"]}
    # A PDF without text, OCR off here: failed with its reason; the others read.
    assert status == {"Kế hoạch.pdf": "done", "Biên bản.docx": "done", "Bản quét.pdf": "failed"}
    with demo.factory() as s:
        texts = {
            a.filename: t
            for a, t in s.execute(
                select(TaskAttachment, TaskFileText).join(
                    TaskFileText, TaskFileText.attachment_id == TaskAttachment.id
                )
            )
        }
    assert "phản biện xã hội" in texts["Kế hoạch.pdf"].text
    assert "Tệp là bản quét" in (texts["Bản quét.pdf"].error or "")

    # The lead finds it by words of each file, without accents; a phrase; an exclusion.
    assert _found(client, api, "chuyenvien.dcgs", "cong dich vu cong truc tuyen") == [tid]
    assert _found(client, api, "chuyenvien.dcgs", "QUY VI NGUOI NGHEO") == [tid]
    assert _found(client, api, "chuyenvien.dcgs", '"phan bien xa hoi"') == [tid]
    assert _found(client, api, "chuyenvien.dcgs", "phan bien -ngheo") == []
    # Typed as in the title (case ignored), the title finds both tasks.
    assert set(_found(client, api, "chuyenvien.dcgs", "HỘI NGHỊ")) == {tid, other}
    # The leader sees every task of the organisation; the others never find it.
    assert _found(client, api, "lanhdao.tw", "phan bien xa hoi", box="all") == [tid]
    assert _found(client, api, "chuyenvien.tg", "phan bien xa hoi") == []
    assert _found(client, api, "chuyenvien.tinh", "phan bien xa hoi") == []
    r = client.get(
        "/api/v1/tasks", query_string={"q": "phan bien", "box": "all"}, headers=api("vanthu.tw")
    )
    assert r.status_code == 403
    r = client.get("/api/v1/tasks", query_string={"q": "x"}, headers=api("chuyenvien.dcgs"))
    assert r.status_code == 422


def test_the_task_page_shows_the_text_status_of_its_files(
    app: Any, client: Any, api: Any, tasks: Tasks
) -> None:
    from tests.app.test_pages import login

    tid = _create(client, api, tasks, [(text_pdf(), "Kế hoạch.pdf"), (make_pdf(), "Quét.pdf")])
    browser = app.test_client()
    login(browser, "chuyenvien.dcgs")
    page = browser.get(f"/tasks/{tid}").get_data(as_text=True)
    assert 'data-text-status="done"' in page and "Đã đọc nội dung" in page
    # A file that could not be read says why, as on the document page.
    assert 'data-text-status="failed"' in page and "Tệp là bản quét" in page
