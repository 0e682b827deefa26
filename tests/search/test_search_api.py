"""Text of registered files and full-text search through the API (real PostgreSQL, real
files; OCR is off here: see test_ocr.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from docflow.documents.text import search_text
from docflow.enums import Secrecy
from docflow.models import Document, DocumentFile, DocumentSearch, FileText, OutboxMessage
from docflow.search import refresh_index
from tests.conftest import Demo
from tests.incoming.conftest import Incoming
from tests.pdfs import make_pdf
from tests.search.files import BODY, docx_file, text_pdf

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def search(flow: Incoming, username: str, q: str, **params: str) -> list[dict[str, Any]]:
    r = flow.client.get(
        "/api/v1/documents", query_string={"q": q, **params}, headers=flow.h(username)
    )
    assert r.status_code == 200, r.get_json()
    items: list[dict[str, Any]] = r.get_json()["items"]
    return items


def register(flow: Incoming, files: list[tuple[bytes, str, str]], **meta: Any) -> dict[str, Any]:
    username = meta.pop("username", "vanthu.tw")
    r = flow.register(username, files=files, **meta)
    assert r.status_code == 201, r.get_json()
    doc: dict[str, Any] = flow.get(username, r.get_json()["id"]).get_json()
    return doc


def test_a_registered_pdf_is_read_and_its_text_served(flow: Incoming) -> None:
    doc = register(flow, [(text_pdf(), "Công văn.pdf", "application/pdf")], notation="1/KH-BTT")
    (f,) = doc["files"]
    assert f["text_status"] == "done" and f["derived_from"] is None
    r = flow.client.get(
        f"/api/v1/documents/{doc['id']}/files/{f['id']}/text", headers=flow.h("vanthu.tw")
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "phản biện xã hội" in r.get_data(as_text=True)


def test_a_docx_and_its_table_are_searchable(flow: Incoming) -> None:
    data = docx_file(
        ["Báo cáo sơ kết"],
        [["Đơn vị", "Nội dung"], ["Phường Đống Đa", "vận động quỹ vì người nghèo"]],
    )
    doc = register(
        flow, [(data, "Báo cáo.docx", DOCX)], notation="2/KH-BTT", subject="Kế hoạch năm"
    )
    assert doc["files"][0]["text_status"] == "done"
    items = search(flow, "vanthu.tw", "quy vi nguoi ngheo")
    assert [i["id"] for i in items] == [doc["id"]]
    assert "quỹ vì người nghèo" in items[0]["snippet"]


def test_search_finds_body_words_without_diacritics_with_a_snippet(flow: Incoming) -> None:
    doc = register(flow, [(text_pdf(), "Kế hoạch.pdf", "application/pdf")], notation="3/KH-BTT")
    register(flow, [(make_pdf(), "Trống.pdf", "application/pdf")], notation="4/KH-BTT")
    for q in ["phan bien xa hoi", "PHẢN BIỆN XÃ HỘI", "cong dich vu cong 24/7", "Đề án"]:
        items = search(flow, "vanthu.tw", q)
        assert [i["id"] for i in items] == [doc["id"]], q
    (item,) = search(flow, "vanthu.tw", "phan bien xa hoi")
    start, end = item["snippet_marks"][0]
    assert item["snippet"][start:end] == "phản biện xã hội"
    # "đ" and "d" are one letter for search.
    assert search(flow, "vanthu.tw", "de an cong dich vu")[0]["id"] == doc["id"]


def test_phrases_exclusions_and_filters(flow: Incoming) -> None:
    a = register(flow, [(text_pdf(), "a.pdf", "application/pdf")], notation="5/KH-BTT")
    b = register(
        flow,
        [(text_pdf(["Hội nghị phản biện về đất đai và xã hội học"]), "b.pdf", "application/pdf")],
        notation="6/CV-BTT",
        doc_type="CV",
    )
    both = {i["id"] for i in search(flow, "vanthu.tw", "phan bien xa hoi")}
    assert both == {a["id"], b["id"]}
    assert [i["id"] for i in search(flow, "vanthu.tw", '"phan bien xa hoi"')] == [a["id"]]
    assert [i["id"] for i in search(flow, "vanthu.tw", "phan bien -dat")] == [a["id"]]
    assert [i["id"] for i in search(flow, "vanthu.tw", "phan bien", doc_type="CV")] == [b["id"]]


def test_subject_and_notation_matches_rank_above_body_matches(flow: Incoming) -> None:
    body = register(flow, [(text_pdf(), "a.pdf", "application/pdf")], notation="7/KH-BTT")
    subject = register(
        flow,
        [(make_pdf(), "b.pdf", "application/pdf")],
        notation="8/KH-BTT",
        subject="Về phản biện xã hội đối với dự thảo luật",
    )
    assert [i["id"] for i in search(flow, "vanthu.tw", "phan bien xa hoi")] == [
        subject["id"],
        body["id"],
    ]
    # Part of a notation, marked in the notation (the document's text is not read for it).
    (item,) = search(flow, "vanthu.tw", "8/kh-b")
    assert item["id"] == subject["id"]
    assert item["snippet"] == "8/KH-BTT" and item["snippet_marks"] == [[0, 6]]


def test_bad_files_fail_with_a_reason_and_the_document_stands(flow: Incoming) -> None:
    doc = register(
        flow,
        [
            (text_pdf(), "Tốt.pdf", "application/pdf"),
            (make_pdf(2), "Bản quét.pdf", "application/pdf"),  # a scan, and OCR is off here
        ],
        notation="9/KH-BTT",
    )
    statuses = [f["text_status"] for f in doc["files"]]
    assert statuses == ["done", "failed"]
    r = flow.client.get(
        f"/api/v1/documents/{doc['id']}/files/{doc['files'][1]['id']}/text",
        headers=flow.h("vanthu.tw"),
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "text_failed"
    assert search(flow, "vanthu.tw", "phan bien xa hoi")[0]["id"] == doc["id"]


def test_extraction_is_queued_through_the_outbox_once_per_document(
    flow: Incoming, demo: Demo
) -> None:
    doc = register(
        flow,
        [(text_pdf(), "a.pdf", "application/pdf"), (text_pdf(), "b.pdf", "application/pdf")],
        notation="10/KH-BTT",
    )
    with demo.factory() as s:
        messages = s.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "search.extract")
        ).all()
        mine = [m for m in messages if m.payload["document_id"] == doc["id"]]
        assert len(mine) == 1 and mine[0].done_at is not None
        # The same bytes were read once; the copy reused the result.
        texts = s.scalars(select(FileText).where(FileText.document_id == doc["id"])).all()
        assert len(texts) == 2 and texts[0].text == texts[1].text


def _hidden_document(demo: Demo, org: str, secrecy: Secrecy, words: str) -> tuple[Document, Any]:
    """A document whose body holds ``words`` (written as the worker would have)."""
    now = demo.clock()
    with demo.factory() as s:
        doc = Document(
            organization_id=demo.org_id(org),
            direction="incoming",
            state="registered",
            notation=f"99/{secrecy.value}",
            doc_type="CV",
            subject="Công văn",
            issuer_name="Nơi gửi",
            received_at=now,
            registered_at=now,
            listed_at=now,
            secrecy=secrecy.value,
            secrecy_rank=secrecy.rank,
            source="paper",
            search_text=search_text(f"99/{secrecy.value}", "Công văn", "Nơi gửi"),
            created_at=now,
            updated_at=now,
        )
        s.add(doc)
        s.flush()
        f = DocumentFile(
            document_id=doc.id,
            kind="main",
            name="mat.pdf",
            size=1,
            sha256="0" * 64,
            content_type="application/pdf",
            object_key="sha256/" + "0" * 64,
            text_status="done",
        )
        s.add(f)
        s.flush()
        s.add(FileText(file_id=f.id, document_id=doc.id, method="text_layer", text=words, pages=[]))
        s.commit()
    refresh_index_now(demo, doc.id)
    return doc, f.id


def refresh_index_now(demo: Demo, doc_id: Any) -> None:
    uow = demo.uow()
    with uow:
        refresh_index(uow, uow.session.get_one(Document, doc_id))
        uow.commit()


def test_search_never_shows_what_the_reader_may_not_see(flow: Incoming, demo: Demo) -> None:
    words = "Kế hoạch bí mật về quốc phòng: phản biện xã hội tuyệt mật " + BODY[2]
    secret, secret_file = _hidden_document(demo, "tw", Secrecy.TOP_SECRET, words)
    other_org, _ = _hidden_document(demo, "tinh", Secrecy.NONE, words)
    with demo.factory() as s:
        assert s.get(DocumentSearch, secret.id) is not None
        assert "phan bien xa hoi" in s.get_one(DocumentSearch, other_org.id).body
    for user in ["vanthu.tw", "lanhdao.tw", "chuyenvien.dcgs"]:
        for q in ["phan bien xa hoi tuyet mat", "quoc phong", '"ke hoach bi mat"']:
            r = flow.client.get("/api/v1/documents", query_string={"q": q}, headers=flow.h(user))
            assert r.status_code == 200
            assert r.get_json()["items"] == [], (user, q)
            assert "quốc phòng" not in r.get_data(as_text=True)
        # Nor its text.
        r = flow.client.get(
            f"/api/v1/documents/{secret.id}/files/{secret_file}/text",
            headers=flow.h(user),
        )
        assert r.status_code == 404
    # The province's clerk finds the province's document; a cleared central clerk the secret one.
    assert [i["id"] for i in search(flow, "vanthu.tinh", "quoc phong")] == [str(other_org.id)]
    from tests.security.test_clearance import set_clearance

    set_clearance(demo, "vanthu.tw", Secrecy.TOP_SECRET)
    flow._tokens.clear()
    (item,) = search(flow, "vanthu.tw", "quoc phong")
    assert item["id"] == str(secret.id) and "quốc phòng" in item["snippet"]


def test_listing_without_q_has_no_snippet(flow: Incoming) -> None:
    register(flow, [(text_pdf(), "a.pdf", "application/pdf")], notation="11/KH-BTT")
    r = flow.client.get("/api/v1/documents?box=all", headers=flow.h("vanthu.tw"))
    assert all(i["snippet"] is None for i in r.get_json()["items"])


def test_a_bad_query_is_refused(flow: Incoming) -> None:
    for q in ["a", "-x", '""']:
        r = flow.client.get("/api/v1/documents", query_string={"q": q}, headers=flow.h("vanthu.tw"))
        assert r.status_code == 422, q
    r = flow.client.get(
        "/api/v1/documents",
        query_string={"q": "phan bien", "cursor": "bad"},
        headers=flow.h("vanthu.tw"),
    )
    assert r.status_code == 422


_ = dt


def test_reindex_rebuilds_the_index_and_resumes(flow: Incoming, demo: Demo) -> None:
    from docflow.search import reindex

    doc = register(flow, [(text_pdf(), "a.pdf", "application/pdf")], notation="12/KH-BTT")
    with demo.factory() as s:
        s.get_one(DocumentSearch, doc["id"]).body = ""
        s.execute(
            DocumentSearch.__table__.update()
            .where(DocumentSearch.document_id == doc["id"])
            .values(tsv=None)
        )
        s.commit()
    assert search(flow, "vanthu.tw", "cong dich vu") == []
    steps = list(reindex(demo.uow(), organization_id=demo.org_id("tw"), batch=1))
    assert steps[-1].done == steps[0].total == len(steps)
    assert [i["id"] for i in search(flow, "vanthu.tw", "cong dich vu")] == [doc["id"]]
    # Resuming after the last document has nothing left to do.
    assert (
        list(reindex(demo.uow(), after=steps[-1].last_id, organization_id=demo.org_id("tw"))) == []
    )


def test_the_pages_show_the_text_status_and_highlighted_snippets(flow: Incoming, app: Any) -> None:
    from tests.app.test_pages import login

    doc = register(
        flow,
        [
            (text_pdf(), "Kế hoạch.pdf", "application/pdf"),
            (make_pdf(2), "Bản quét.pdf", "application/pdf"),
        ],
        notation="13/KH-BTT",
    )
    browser = app.test_client()
    login(browser, "vanthu.tw")
    page = browser.get(f"/documents/{doc['id']}").get_data(as_text=True)
    assert "Đã đọc nội dung" in page
    assert "Tệp là bản quét: chưa nhận dạng chữ" in page
    listing = browser.get("/documents?box=all&q=phan+bien+xa+hoi").get_data(as_text=True)
    assert "<mark>phản biện xã hội</mark>" in listing
    # A snippet is text: markup in a file is shown, never run.
    register(
        flow,
        [(text_pdf(["<script>alert(1)</script> phản biện xã hội"]), "x.pdf", "application/pdf")],
        notation="14/KH-BTT",
    )
    listing = browser.get("/documents?box=all&q=phan+bien+xa+hoi").get_data(as_text=True)
    assert "<script>alert(1)" not in listing and "&lt;script&gt;alert(1)" in listing


def test_only_the_newest_matches_are_ranked_with_the_same_rules(
    flow: Incoming, monkeypatch: Any, request: Any
) -> None:
    """Ranking reads the newest CANDIDATES matches only (so a common phrase costs what a rare
    word costs): phrases, exclusions, metadata-first and visibility hold inside that bound."""
    from docflow.documents import shapes
    from docflow.search import queries

    monkeypatch.setattr(queries, "CANDIDATES", 2)
    # The search's statements are kept per reader shape with the bound they were built with:
    # build them again with this one, and again after it for the tests that follow.
    shapes._shared.cache_clear()
    request.addfinalizer(shapes._shared.cache_clear)
    a = register(
        flow, [(text_pdf(), "a.pdf", "application/pdf")], notation="15/BC-BTT", doc_type="BC"
    )
    flow.demo.clock.advance(minutes=5)
    b = register(
        flow,
        [(text_pdf(["Hội nghị phản biện về đất đai và xã hội học"]), "b.pdf", "application/pdf")],
        notation="16/KH-BTT",
    )
    flow.demo.clock.advance(minutes=5)
    c = register(
        flow,
        [(make_pdf(), "c.pdf", "application/pdf")],
        notation="17/KH-BTT",
        subject="Về phản biện xã hội",
    )
    ids = [i["id"] for i in search(flow, "vanthu.tw", "phan bien xa hoi")]
    assert ids == [c["id"], b["id"]]  # the newest two: metadata first; a is beyond the bound
    # A filter that the newest two do not pass: the newest two that the box keeps.
    assert [i["id"] for i in search(flow, "vanthu.tw", "phan bien", doc_type="BC")] == [a["id"]]
    assert [i["id"] for i in search(flow, "vanthu.tw", '"phan bien xa hoi"')] == [c["id"], a["id"]]
    assert [i["id"] for i in search(flow, "vanthu.tw", "phan bien -dat")] == [c["id"], a["id"]]
    assert search(flow, "chuyenvien.tg", "phan bien xa hoi") == []


def test_two_organisations_and_a_secret_series_keep_their_words_to_themselves(
    flow: Incoming, demo: Demo
) -> None:
    """The searched words are in every document: one of the clerk's organisation that all may
    see, a secret record of its secret series (metadata only, as an ordinary deployment keeps
    it), a secret document of that series whose body holds them (as a secret-network deployment
    keeps it), and a document of the province read from its PDF. Each reader finds only what
    they may see — with and without diacritics, as a phrase, by part of the notation — and the
    cleared leader finds the secret ones, so the test is able to fail."""
    from docflow.enums import Direction
    from tests.security.test_clearance import register_secret, secret_register

    words = "Phương án chỉnh trang đô thị văn minh"
    series = secret_register(demo, Direction.INCOMING)
    record = register_secret(demo, Secrecy.SECRET, subject=words)
    body, _ = _hidden_document(demo, "tw", Secrecy.SECRET, f"{words}. " + BODY[0])
    with demo.factory() as s:
        stored = s.get_one(Document, record.id)
        assert stored.register_id == series and stored.files == []
        s.get_one(Document, body.id).register_id = series
        s.get_one(Document, body.id).register_number = 2
        s.commit()
    open_doc = register(
        flow,
        [(text_pdf([words]), "Phương án.pdf", "application/pdf")],
        notation="41/PA-BTT",
        doc_type="PA",
    )
    province = register(
        flow,
        [(text_pdf([words]), "Phương án tỉnh.pdf", "application/pdf")],
        notation="42/PA-MTTQ",
        doc_type="PA",
        username="vanthu.tinh",
    )
    assert open_doc["files"][0]["text_status"] == province["files"][0]["text_status"] == "done"
    secret_ids = {str(record.id), str(body.id)}
    queries = ["chinh trang do thi", "chỉnh trang đô thị", '"phuong an chinh trang"', "van minh"]
    for user, expected in [
        ("vanthu.tw", {open_doc["id"]}),
        ("chuyenvien.dcgs", set()),  # a specialist sees what was sent to them: nothing here
        ("truongban.dcgs", set()),
        ("lanhdao.tw", {open_doc["id"], *secret_ids}),  # cleared for Tối mật
        ("vanthu.tinh", {province["id"]}),
        ("lanhdao.tinh", {province["id"]}),
    ]:
        for q in queries:
            found = {i["id"] for i in search(flow, user, q)}
            assert found == expected, (user, q)
    # Part of the secret record's notation finds it only for the cleared.
    assert search(flow, "vanthu.tw", "9871/KH") == []
    assert [i["id"] for i in search(flow, "lanhdao.tw", "9871/KH")] == [str(record.id)]


def test_those_who_see_part_of_the_organisation_find_what_their_box_shows(
    flow: Incoming,
) -> None:
    """A specialist's or a unit head's search starts from the documents they are involved in
    (their own and their unit's assignments, what they drafted, sign or review: issue 19);
    what it finds is exactly what their box holds among what the clerk (who sees the whole
    organisation) finds. Documents are assigned to the DCGSPBXH unit, to one specialist of it
    by name, and to the TG unit; the box is read apart, by its own index ranges."""
    dcgs = flow.unit_id("DCGSPBXH")
    tg = flow.unit_id("TG")
    to_unit = flow.to_assigned(lead={"unit_id": dcgs}, cooperating=[])
    to_person = flow.to_assigned(lead={"user_id": flow.user_id("chuyenvien.dcgs")}, cooperating=[])
    to_other = flow.to_assigned(lead={"unit_id": tg}, cooperating=[])
    q = "dai doan ket"
    everyone = {i["id"] for i in search(flow, "vanthu.tw", q, limit="100")}
    assert {to_unit, to_person, to_other} <= everyone
    for user in ("chuyenvien.dcgs", "truongban.dcgs", "chuyenvien.tg", "lanhdao.tw"):
        r = flow.client.get(
            "/api/v1/documents", query_string={"box": "all", "limit": "100"}, headers=flow.h(user)
        )
        assert r.status_code == 200 and r.get_json()["next_cursor"] is None
        box = {i["id"] for i in r.get_json()["items"]}
        found = {i["id"] for i in search(flow, user, q, limit="100")}
        assert found == box & everyone, user
    assert {to_unit, to_person} <= {i["id"] for i in search(flow, "chuyenvien.dcgs", q)}
    tg_found = {i["id"] for i in search(flow, "chuyenvien.tg", q, limit="100")}
    assert to_other in tg_found and to_person not in tg_found
