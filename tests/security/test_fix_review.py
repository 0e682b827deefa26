"""Review of the day's security fixes (390b5a2 input, d6f2e41 read, 5ff200f / 6b68cea
exchange), attacked from outside as a client would.

Each ``FINDING`` test failed on the code as reviewed (d6f2e41) and passes since the gap it names
was closed the same session (one clamped day-to-instant function for every date filter; a
reader not shown every entry of a dossier gets the figures and the trail of what they are
shown; every file name of a multipart body checked); each ``HELD`` test is an attack on a fix
that the fix withstood. PostgreSQL, through the
public API and pages where possible; exceptions are not propagated, so a crash is the 500 a
client would get.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from typing import Any

import pytest

from tests.conftest import Demo
from tests.incoming.conftest import Incoming
from tests.interop.conftest import rt, sim, spools  # noqa: F401  (the exchange's fixtures)
from tests.security.test_input_review import signed_in
from tests.security.test_read_review import _assign_to_unit


@pytest.fixture
def web(client: Any) -> Any:
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    return client


@pytest.fixture
def flow(web: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(web, api, demo)


# ------------------------------------------------------------------------------- findings


def test_document_list_date_filter_past_the_calendar_is_a_500(
    web: Any, api: Any, demo: Demo
) -> None:
    """FINDING 1 (Low): the input review's out-of-range dates were clamped in the audit filter
    only (docflow/audit.py ``_start_of``); the document list's twin (docflow/documents/queries.py
    ``_filters`` / ``_start_of``, lines 219-247) still turns ``to + 1 day`` and ``from`` at
    Vietnamese midnight into UTC unbounded: ``GET /api/v1/documents?to=9999-12-31`` (date
    overflow) and ``?from=0001-01-01`` (OverflowError going to UTC) answer 500
    ``internal_error`` with a logged traceback, as does the ``/documents`` page with the same
    query, for any signed-in user or a link sent to one. Expected: 200 (clamped, as the audit
    filter now does) or 422."""
    headers = api("vanthu.phuong")
    clerk = signed_in(web, "vanthu.phuong")
    crashed = []
    for query in ("to=9999-12-31", "from=0001-01-01", "from=0001-01-01&to=9999-12-31"):
        r = web.get(f"/api/v1/documents?{query}", headers=headers)
        if r.status_code >= 500:
            crashed.append(f"GET /api/v1/documents?{query}")
        if clerk.get(f"/documents?{query}").status_code >= 500:
            crashed.append(f"GET /documents?{query}")
    assert crashed == [], f"500 instead of 200/422: {crashed}"


def _unit_dossier(flow: Incoming, code: str) -> str:
    r = flow.client.post(
        "/api/v1/dossiers",
        headers=flow.h("vanthu.tw"),
        json={
            "organization_id": str(flow.demo.org_id("tw")),
            "year": 2026,
            "code": code,
            "title": "Hồ sơ của ban",
            "retention_years": 10,
            "unit_id": flow.unit_id("DCGSPBXH"),
        },
    )
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["id"])


def _file(flow: Incoming, dossier: str, doc: str) -> None:
    r = flow.client.post(
        f"/api/v1/dossiers/{dossier}/documents",
        headers=flow.h("vanthu.tw"),
        json={"document_id": doc},
    )
    assert r.status_code == 200, r.get_json()


def _hidden_item_dossier(flow: Incoming, code: str, *, close: bool) -> tuple[str, str]:
    """A DCGSPBXH dossier into which the clerk filed one document routed only to unit TG,
    issued on 2019-03-14 with 37 pages (the DCGSPBXH specialist gets 404 on it)."""
    r = flow.register(
        notation=f"9{code[1]}/KH-MTTW-BTT",
        subject=f"Văn bản riêng của Ban Tuyên giáo {code}",
        issued_date="2019-03-14",
        page_count=37,
    )
    assert r.status_code == 201, r.get_json()
    doc = str(r.get_json()["id"])
    _assign_to_unit(flow, doc, "TG")
    assert flow.get("chuyenvien.dcgs", doc).status_code == 404
    dossier = _unit_dossier(flow, code)
    _file(flow, dossier, doc)
    if close:
        r = flow.client.post(
            f"/api/v1/dossiers/{dossier}/actions",
            headers=flow.h("vanthu.tw"),
            json={"action": "close"},
        )
        assert r.status_code == 200, r.get_json()
    return dossier, doc


def test_closed_dossier_tells_hidden_items_pages_and_dates(flow: Incoming) -> None:
    """FINDING 2 (Low): the read fix leaves a hidden item "no row and no count"
    (docflow/dossiers/queries.py ``item_views``), but ``build_view`` (queries.py ~300-330)
    still reads the closed dossier's stored totals: ``page_total`` falls back to
    ``d.page_total`` (every item's pages) when the reader sees no item with a page count, and
    ``start_date`` / ``end_date`` are the dates of every item. A DCGSPBXH specialist who is
    shown 0 documents of the closed dossier (GET /api/v1/dossiers/{id}, and the dossier page:
    «Văn bản trong hồ sơ (0, 37 tờ)», «Thời gian 14/03/2019 – …») reads that hidden pages
    exist, how many, and the hidden document's issue date. Expected: totals and dates computed
    from the items the reader is shown (or left out for a reader not shown every item)."""
    dossier, _ = _hidden_item_dossier(flow, "R2.DCGS", close=True)
    office = flow.client.get(f"/api/v1/dossiers/{dossier}", headers=flow.h("vanthu.tw")).get_json()
    assert office["document_count"] == 1 and office["page_count"], office
    r = flow.client.get(f"/api/v1/dossiers/{dossier}", headers=flow.h("chuyenvien.dcgs"))
    assert r.status_code == 200
    seen = r.get_json()
    assert seen["document_count"] == 0 and seen["documents"] == []
    leaked = {
        k: seen[k]
        for k in ("page_count", "start_date", "end_date")
        if seen[k] is not None and seen[k] == office[k]
    }
    assert leaked == {}, f"hidden items' totals shown to a reader shown none: {leaked}"


def test_dossier_trail_tells_hidden_filings(flow: Incoming) -> None:
    """FINDING 3 (Low): the dossier's trail (GET /api/v1/dossiers/{id}/events, the «Diễn biến»
    list of /dossiers/{id}; docflow/dossiers/queries.py ``dossier_events``) lists every
    «Đưa vào hồ sơ» step with who and when, whatever was filed: a reader shown none of the
    dossier's documents (item_views) sees a filing by the clerk, i.e. that a document they may
    not see is in the dossier and when it came, the presence the read fix meant to hide ("no
    row and no count"). Expected: a filing (and taking out) step of an item the reader is not
    shown is left out of their trail (or shown without telling a document came in)."""
    dossier, _ = _hidden_item_dossier(flow, "R3.DCGS", close=False)
    r = flow.client.get(f"/api/v1/dossiers/{dossier}", headers=flow.h("chuyenvien.dcgs"))
    assert r.status_code == 200 and r.get_json()["documents"] == []
    r = flow.client.get(f"/api/v1/dossiers/{dossier}/events", headers=flow.h("chuyenvien.dcgs"))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    events = body["items"] if isinstance(body, dict) else body
    filings = [e for e in events if e["action"] in ("file", "unfile")]
    assert filings == [], f"filing steps of hidden items in the trail: {filings}"


def test_only_the_first_file_of_a_part_has_its_name_checked(web: Any, demo: Demo) -> None:
    """FINDING 4 (Low): the app-wide text rule checks file names with
    ``for part in request.files.values()`` (app/api/__init__.py:27), and a werkzeug MultiDict's
    ``values()`` yields only the FIRST file of each part name: a NUL (``filename*=UTF-8''b%00c``)
    in the name of the first ``files`` part is refused 422 ``invalid_text``, the same name on the
    second part is accepted (201, unauthenticated, POST /api/v1/public/feedback; the same on
    every upload: documents, tasks, the pages). Nothing crashes today only because
    storage/filenames.py ``normalize_filename`` drops control characters before the name is
    stored; any path that records the raw name (``FileRefusedError`` details, a future audit
    entry) gets it. Expected: every part checked (``request.files.items(multi=True)`` or
    ``to_dict(flat=False)``), 422 like the first."""
    from tests.feedback.conftest import meta, photo

    def part(name: bytes) -> bytes:
        return (
            b"\r\n--B\r\nContent-Disposition: form-data; name=\"files\"; " + name
            + b"\r\nContent-Type: image/png\r\n\r\n" + photo()
        )  # fmt: skip

    head = b'--B\r\nContent-Disposition: form-data; name="meta"\r\n\r\n'
    hostile = b"filename*=UTF-8''b%00c.png"
    answers = []
    for parts in ([hostile, b'filename="a.png"'], [b'filename="a.png"', hostile]):
        body = head + json.dumps(meta()).encode() + b"".join(part(p) for p in parts)
        r = web.post(
            "/api/v1/public/feedback",
            data=body + b"\r\n--B--\r\n",
            content_type="multipart/form-data; boundary=B",
        )
        answers.append(r.status_code)
    assert answers[0] == 422, answers
    assert answers == [422, 422], f"NUL name of the second file not refused: {answers}"


# ----------------------------------------------------------------------------------- held


def test_held_unstorable_text_is_refused_before_the_database(web: Any, demo: Demo) -> None:
    """HELD: the app-wide text rule (app/api/__init__.py ``_refuse_unstorable_text``, now a
    before_app_request) against other carriers: a bearer token with a NUL (hashed before the
    lookup: 401), a forged session cookie with a NUL (ignored: the login page), an encoded
    surrogate in a page path or query (werkzeug decodes it to U+FFFD or leaves it escaped: no
    500), a NUL in a JSON key and a surrogate escape in a multipart ``meta`` key (422), a file
    name with an RFC 5987 ``%00`` (422). None answers 500."""
    from tests.feedback.conftest import meta

    results = {}
    r = web.get("/api/v1/me", headers={"Authorization": "Bearer abc\x00def"})
    results["bearer NUL"] = r.status_code
    web.set_cookie("dhtn_session", "eyJzaWQiOiJ4In0\x00.zz.yy")
    results["cookie NUL"] = web.get("/documents").status_code
    web.delete_cookie("dhtn_session")
    for path in (
        "/gop-y/%ED%A0%80/ket-qua",
        "/gop-y/tra-cuu?ma=%ED%A0%80",
        "/login?next=%ED%A0%80",
    ):
        results[path] = web.get(path).status_code
    r = web.post(
        "/api/v1/auth/token",
        data='{"username":"a","password":"b","x\\u0000":1}',
        content_type="application/json",
    )
    results["json key NUL"] = r.status_code
    body = json.dumps(meta()).replace('"consent"', '"\\ud800": 1, "consent"')
    r = web.post("/api/v1/public/feedback", data={"meta": body}, content_type="multipart/form-data")
    results["meta key surrogate"] = r.status_code
    raw = (
        b'--B\r\nContent-Disposition: form-data; name="meta"\r\n\r\n'
        + json.dumps(meta()).encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="files"; '
        b"filename*=UTF-8''anh%00.png\r\nContent-Type: image/png\r\n\r\nx\r\n--B--\r\n"
    )
    r = web.post(
        "/api/v1/public/feedback", data=raw, content_type="multipart/form-data; boundary=B"
    )
    results["file name %00"] = r.status_code
    assert results["bearer NUL"] == 401 and results["cookie NUL"] == 302, results
    assert results["json key NUL"] == results["meta key surrogate"] == 422, results
    assert results["file name %00"] == 422, results
    assert all(code < 500 for code in results.values()), results


def test_held_other_read_paths_of_a_dossier_hide_its_hidden_items(flow: Incoming) -> None:
    """HELD: around the read fix's ``item_views``, for the DCGSPBXH specialist and a document
    filed by the clerk that is routed only to TG: the dossier search (``q=`` on the hidden
    subject) does not find the dossier; «dossiers of a document» is 404 (the document is);
    filing it again is ``document_not_found`` (not ``already_filed``), taking it out is
    ``item_not_found`` as for a document not filed; the transfer list and the dossier page do
    not name it; the package and table of contents are 403; the specialist's own close of
    the dossier records the whole of it (the office's package holds the hidden document)."""
    dossier, doc = _hidden_item_dossier(flow, "R4.DCGS", close=False)
    h = flow.h("chuyenvien.dcgs")
    c = flow.client
    r = c.get("/api/v1/dossiers?q=Tuy%C3%AAn%20gi%C3%A1o%20R4", headers=h)
    assert r.status_code == 200 and dossier not in r.get_data(as_text=True)
    assert c.get(f"/api/v1/documents/{doc}/dossiers", headers=h).status_code == 404
    r = c.post(f"/api/v1/dossiers/{dossier}/documents", headers=h, json={"document_id": doc})
    assert r.status_code == 422, r.get_json()
    assert "document_not_found" in r.get_data(as_text=True)
    assert "already_filed" not in r.get_data(as_text=True)
    gone = c.delete(f"/api/v1/dossiers/{dossier}/documents/{uuid.uuid4()}", headers=h)
    hidden = c.delete(f"/api/v1/dossiers/{dossier}/documents/{doc}", headers=h)
    assert (hidden.status_code, hidden.get_json()["error"]["code"]) == (
        gone.status_code,
        gone.get_json()["error"]["code"],
    )
    r = c.post(f"/api/v1/dossiers/{dossier}/actions", headers=h, json={"action": "close"})
    assert r.status_code == 200, r.get_json()
    for record in ("package", "table-of-contents"):
        r = c.get(f"/api/v1/dossiers/{dossier}/{record}", headers=h)
        assert r.status_code == 403 and doc.encode() not in r.data
    page = signed_in(c, "chuyenvien.dcgs").get(f"/dossiers/{dossier}").get_data(as_text=True)
    assert "R4.DCGS" in page and "Ban Tuyên giáo R4" not in page and doc not in page
    r = c.get("/api/v1/dossiers/transfer-list?year=2026", headers=h)
    assert r.status_code == 200 and b"R4.DCGS" not in r.data  # not transferred yet
    r = c.get(f"/api/v1/dossiers/{dossier}/package", headers=flow.h("vanthu.tw"))
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        blob = b"".join(z.read(n) for n in z.namelist())
    assert "Ban Tuyên giáo R4".encode() in blob


def _received(web: Any, month: str | None = None) -> tuple[int, str]:
    from tests.feedback.conftest import WARD

    r = web.get(f"/gop-y/{WARD}/ket-qua" + (f"?thang={month}" if month else ""))
    assert r.status_code == 200, r.status_code
    text = r.get_data(as_text=True)
    m = re.search(r"Tiếp nhận: <strong>(\d+)</strong>", text)
    assert m is not None
    as_of = re.search(r"Số liệu đến hết ngày (\d\d/\d\d/\d{4})", text)
    return int(m.group(1)), as_of.group(1) if as_of else ""


def test_held_public_results_at_the_month_boundary_in_vietnam_time(
    web: Any, demo: Demo, clock: Any
) -> None:
    """HELD: the public monthly results counted to the end of yesterday (docflow/feedback/
    statistics.py ``monthly_summary``) at the month's edge in Vietnam time (UTC+7): an item
    sent at 23:30 on 30 November (16:30 UTC) is not counted that evening, is counted in
    November from 00:10 on 1 December (the month is over), never in December; on 1 December
    the month's page counts nothing yet; a future month counts nothing."""
    from tests.feedback.conftest import WARD, meta

    clock.advance(days=7, hours=14, minutes=30)  # 30/11 23:30 in Hà Nội
    before, as_of = _received(web, "2026-11")
    assert as_of == "29/11/2026"
    data = {"meta": json.dumps(meta(content="Cống thoát nước tổ 3 bị tắc, đề nghị nạo vét."))}
    r = web.post("/api/v1/public/feedback", data=data, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    assert _received(web, "2026-11")[0] == before
    clock.advance(minutes=40)  # 1/12 00:10
    assert _received(web, "2026-11") == (before + 1, "")
    # On the first of the month the page does not name the previous month's last day.
    assert _received(web) == (0, "")
    assert "Hôm nay là ngày đầu tháng" in web.get(f"/gop-y/{WARD}/ket-qua").get_data(as_text=True)
    assert _received(web, "2027-01") == (0, "")
    clock.advance(days=1)
    assert _received(web, "2026-12") == (0, "01/12/2026")
    assert _received(web, "2026-11") == (before + 1, "")


def test_held_a_download_broken_mid_file_leaves_nothing_for_the_retry(
    rt: Any,  # noqa: F811
    demo: Demo,
    sim: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    spools: list[str],  # noqa: F811
) -> None:
    """HELD: the exchange's per-round spool (interop/exchange.py ``_receive_one``, 6b68cea):
    a waiting revocation whose download breaks after half the bytes (the axis drops the
    connection: AxisUnavailableError) leaves no partial file that a later try would import;
    the next round downloads it whole, and with its document arrived it recalls it; the
    round's folders are gone."""
    from pathlib import Path

    from app.exchange import poll_axis
    from interop.axis_client import AxisClient
    from interop.errors import AxisUnavailableError
    from tests.interop.conftest import SECRET_B, SYSTEM_B, client_for
    from tests.interop.test_exchange_crossings import _bussiness, _copies, _did
    from tests.interop.test_review_attacks import PEER, TW, package

    real = AxisClient.download_edoc
    broken: list[str] = []

    def flaky(self: AxisClient, doc_id: str, sink: Any) -> Any:
        if doc_id == revoke_id and not broken:
            broken.append(doc_id)
            sink.write(b'<?xml version="1.0" encoding="UTF-8"?><edXML:edXML')
            raise AxisUnavailableError(reason="ConnectionError")
        return real(self, doc_id, sink)

    monkeypatch.setattr(AxisClient, "download_edoc", flaky)
    revoke = package(
        sender=PEER, number="87", document_id=_did("87"), trace=_bussiness(1, _did("86"))
    )
    with client_for(sim.url, SYSTEM_B, SECRET_B) as peer:
        peer.register_agency(PEER, "Sở Thử nghiệm")
        revoke_id = peer.send_edoc(revoke, [TW], from_code=PEER).doc_id
        assert poll_axis(rt) == 0 and broken == [revoke_id]
        peer.send_edoc(
            package(sender=PEER, number="86", document_id=_did("86")), [TW], from_code=PEER
        )
        assert poll_axis(rt) == 2
    assert _copies(demo, "86/SNV-VP") == ["recalled"]
    assert spools and not any(Path(f).exists() for f in spools), spools
