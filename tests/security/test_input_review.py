"""Hostile input through the web pages and the public (unauthenticated) surfaces, reviewed as an
attacker (input review, after issue 11's rounds).

The rule of the house: bad input gets a clear error (Vietnamese for people, a stable code for
programs) and changes nothing; a 500 is a finding. Each ``FINDING`` test failed on the code as
reviewed (80174f1) and passes since its fix in the same session (NUL refused app-wide with 422
``invalid_text``, JSON nested past the parser a 400, years and dates bounded); each ``HELD``
test is an attack tried that the code withstood (kept so that it keeps withstanding it).

The app is the ordinary test app (PostgreSQL, demo seeded); exceptions are not propagated to
the test, so a crash is seen as the 500 a client would get.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from docflow.models import Document, FeedbackFile, FeedbackItem, Register
from storage import content_disposition
from tests.app.test_pages import csrf_of, login
from tests.conftest import Demo
from tests.feedback.conftest import WARD, photo
from tests.pdfs import make_pdf

NUL = "\x00"


@pytest.fixture
def web(client: Any) -> Any:
    """The anonymous client of an app that answers a crash with its 500 page, as in production."""
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    return client


def signed_in(web: Any, username: str) -> Any:
    other = web.application.test_client()
    r = login(other, username)
    assert r.status_code == 302, r.status_code
    return other


def _feedback_rows(demo: Demo) -> tuple[int, int]:
    with demo.factory() as s:
        return (
            s.scalar(select(func.count()).select_from(FeedbackItem)) or 0,
            s.scalar(select(func.count()).select_from(FeedbackFile)) or 0,
        )


# ------------------------------------------------------------------------------- findings


def test_nul_in_public_pages_crashes_them(web: Any, demo: Demo) -> None:
    """FINDING 1 (Medium): a NUL (``%00``) in the address or a form field of the public,
    unauthenticated pages reaches PostgreSQL, which refuses NUL in text: the page answers 500
    and the server logs a full traceback per request (log flooding, error alerts at will).
    The API refuses the same text with 422 ``invalid_text`` (``app/api/__init__.py``'s
    ``_refuse_unstorable_text``), but that guard is a before_request of the API blueprint only:
    the pages blueprint (``/login``, ``/activate``, ``/gop-y/…``) has none, and path parameters
    (``/api/v1/public/feedback/<tracking_code>``) are not checked even in the API."""
    crashed = []
    for path in [
        "/gop-y/tra-cuu?ma=PA-AB%00C",
        f"/gop-y/{WARD}/da-gui?ma=PA%00",
        "/gop-y/000%00",
        "/gop-y/000%00/ket-qua",
        "/api/v1/public/feedback/PA%00X",
    ]:
        if web.get(path).status_code >= 500:
            crashed.append(f"GET {path}")
    token = csrf_of(web.get("/login").get_data(as_text=True))
    r = web.post("/login", data={"username": f"ad{NUL}min", "password": "x", "csrf_token": token})
    if r.status_code >= 500:
        crashed.append("POST /login (username with NUL)")
    token = csrf_of(web.get("/activate").get_data(as_text=True))
    r = web.post(
        "/activate",
        data={
            "csrf_token": token,
            "username": f"ad{NUL}m",
            "code": "AAAA-BBBB-CCCC",
            "password": "x" * 12,
            "password2": "x" * 12,
        },
    )
    if r.status_code >= 500:
        crashed.append("POST /activate (username with NUL)")
    assert crashed == [], f"500 instead of a 4xx refusal: {crashed}"


def test_deeply_nested_json_crashes_the_public_api(web: Any, demo: Demo) -> None:
    """FINDING 2 (Medium): a JSON body nested a few hundred thousand levels deep (200 KB of
    ``[``) makes Python's json module raise RecursionError, which is not the ValueError that
    ``request.get_json(silent=True)`` (``app/api/spec.py`` ``parse_body``), ``app/uploads.py``
    ``meta()`` and ``json_or_multipart`` expect: 500 ``internal_error`` and a logged
    traceback, without signing in, on ``POST /api/v1/auth/token`` and on the ``meta`` of
    ``POST /api/v1/public/feedback`` (and every JSON endpoint behind a token). Expected: 400
    ``malformed_json``."""
    before = _feedback_rows(demo)
    deep = "[" * 200_000
    r = web.post("/api/v1/auth/token", data=deep, content_type="application/json")
    assert r.status_code == 400, r.get_data(as_text=True)[:200]
    assert r.json["error"]["code"] == "malformed_json"
    r = web.post(
        "/api/v1/public/feedback",
        # 100 KB of "[" (a form field over the 500 KB form memory limit is a 413 before any
        # parsing: this one reaches the JSON parser).
        data={"meta": "[" * 100_000},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400, r.get_data(as_text=True)[:200]
    assert r.json["error"]["code"] == "malformed_json"
    assert _feedback_rows(demo) == before


def test_nul_in_signed_in_pages_crashes_them(web: Any, demo: Demo) -> None:
    """FINDING 3 (Low): the same gap on the signed-in pages: a NUL in a search box, a filter or
    a form field is a 500 with a traceback (any clerk, or a link sent to one: the GETs need no
    form), and the mailbox settings store a NUL (in a JSON column) that the public form then
    serves to citizens as U+0000 inside the page, where a submission choosing that village is
    refused by the API's text check. Pages: ``/documents`` (q, doc_type, state), ``/outgoing``,
    ``/dossiers``, ``/outgoing/agencies``, ``/admin/people``, ``/admin/tree``,
    ``/admin/audit?object_id=``, ``POST /incoming/new`` (a clerk's registration with a valid
    PDF and a NUL in the subject; rolled back, no number consumed), ``POST /feedback/new``,
    ``POST /feedback/mailbox``."""
    clerk = signed_in(web, "vanthu.phuong")
    leader = signed_in(web, "lanhdao.phuong")
    admin = signed_in(web, "admin")
    crashed = []
    for who, path in [
        (clerk, "/documents?q=a%00b"),
        (clerk, "/documents?doc_type=%00"),
        (clerk, "/documents?state=%00"),
        (clerk, "/outgoing?q=a%00b"),
        (clerk, "/dossiers?q=a%00b"),
        (clerk, "/outgoing/agencies?q=a%00"),
        (admin, "/admin/people?q=a%00"),
        (admin, "/admin/tree?q=%00"),
        (admin, "/admin/audit?object_id=%00"),
    ]:
        r = who.get(path)
        if r.status_code >= 500:
            crashed.append(f"GET {path}")
    with demo.factory() as s:
        numbers = {r.id: r.last_number for r in s.scalars(select(Register))}
        documents = s.scalar(select(func.count()).select_from(Document))
    token = csrf_of(clerk.get("/incoming/new").get_data(as_text=True))
    r = clerk.post(
        "/incoming/new",
        data={
            "csrf_token": token,
            "notation": "12/UBND",
            "doc_type": "CV",
            "subject": f"Về việc x{NUL}y",
            "issued_date": "2026-11-20",
            "issuer_name": "UBND phường",
            "urgency": "normal",
            "secrecy": "none",
            "files": (io.BytesIO(make_pdf()), "van-ban.pdf"),
        },
        content_type="multipart/form-data",
    )
    if r.status_code >= 500:
        crashed.append("POST /incoming/new (subject with NUL)")
    with demo.factory() as s:  # the crash at least rolled back: no number, no document
        assert {r.id: r.last_number for r in s.scalars(select(Register))} == numbers
        assert s.scalar(select(func.count()).select_from(Document)) == documents
    token = csrf_of(leader.get("/feedback/new").get_data(as_text=True))
    before = _feedback_rows(demo)
    r = leader.post(
        "/feedback/new",
        data={
            "csrf_token": token,
            "content": f"Thư giấy có ký tự lạ ở cuối{NUL}",
            "category": "Khác",
        },
    )
    if r.status_code >= 500:
        crashed.append("POST /feedback/new (content with NUL)")
    assert _feedback_rows(demo) == before
    token = csrf_of(leader.get("/feedback/mailbox").get_data(as_text=True))
    leader.post(
        "/feedback/mailbox",
        data={
            "csrf_token": token,
            "categories": "Khác",
            "places": f"Tổ 1{NUL}",
            "retention_days": "730",
            "enabled": "1",
        },
    )
    public = web.get(f"/gop-y/{WARD}").get_data(as_text=True)
    if NUL in public:
        crashed.append("POST /feedback/mailbox stored a NUL, served on the public form")
    assert crashed == [], f"NUL not refused with a 4xx: {crashed}"


def test_out_of_range_years_and_dates_crash_pages_and_the_audit_api(
    web: Any, api: Any, demo: Demo
) -> None:
    """FINDING 4 (Low): numbers and dates outside what Python or PostgreSQL can hold are not
    bounded before use: ``/admin/holidays?year=99999`` or ``year=-5`` (any signed-in person:
    ``dt.date`` ValueError in ``docflow/directory/queries.py`` ``list_holidays``),
    ``/dossiers?year=99999999999`` (integer out of range in PostgreSQL),
    ``/admin/audit?from=0001-01-01`` and ``GET /api/v1/audit?from=0001-01-01`` /
    ``?to=9999-12-31`` (OverflowError in ``docflow/audit.py`` ``_start_of`` when the local
    day is turned into UTC) all answer 500. The API of holidays and dossiers bounds the same
    values (422 ``invalid_field``); the pages and the audit query do not."""
    leader = signed_in(web, "lanhdao.phuong")
    admin = signed_in(web, "admin")
    crashed = []
    for who, path in [
        (leader, "/admin/holidays?year=99999"),
        (leader, "/admin/holidays?year=-5"),
        (leader, "/dossiers?year=99999999999"),
        (leader, "/file-plan?year=99999999999"),
        (leader, "/feedback/statistics.xlsx?year=99999"),
        (leader, "/feedback/statistics.xlsx?quarter=7"),
        (admin, "/admin/audit?from=0001-01-01"),
    ]:
        if who.get(path).status_code >= 500:
            crashed.append(f"GET {path}")
    headers = api("admin")
    for path in ["/api/v1/audit?from=0001-01-01", "/api/v1/audit?to=9999-12-31"]:
        r = web.get(path, headers=headers)
        if r.status_code >= 500:
            crashed.append(f"GET {path}")
        else:
            assert r.status_code in (200, 422), r.status_code
    assert crashed == [], f"500 instead of 422: {crashed}"


# ----------------------------------------------------------------------------------- held


def test_login_next_never_leaves_the_site(web: Any, demo: Demo) -> None:
    """HELD: ``/login?next=`` open redirects: scheme-relative, backslash (browsers read ``/\\``
    as ``//``), tab-smuggled, scheme-only and ``javascript:`` targets all end on this site
    (the backslash is percent-encoded by werkzeug, so it stays a path)."""
    for target in [
        "//evil.example/",
        "///evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "/\t/evil.example",
        "https:evil.example",
        "https://evil.example",
        "javascript:alert(1)",
    ]:
        c = web.application.test_client()
        r = login(c, "vanthu.phuong", query_string={"next": target})
        assert r.status_code == 302
        location = r.headers["Location"]
        assert location.startswith("/") and not location.startswith("//"), (target, location)
        assert "\\" not in location, (target, location)


def test_logout_needs_a_post_with_the_form_token(web: Any, demo: Demo) -> None:
    """HELD: no sign-out by a link or an image (GET is 405), nor by a cross-site form without
    the CSRF token (400); the session still works after both."""
    c = signed_in(web, "vanthu.phuong")
    assert c.get("/logout").status_code == 405
    assert c.post("/logout").status_code == 400
    assert c.get("/").status_code == 200


def test_api_ignores_the_page_session_cookie(web: Any, demo: Demo) -> None:
    """HELD: the API is CSRF-exempt, so it must not accept the browser's session cookie as
    credentials: a forged cross-site POST carrying only the cookie is 401 and changes
    nothing."""
    c = signed_in(web, "lanhdao.phuong")
    before = _feedback_rows(demo)
    r = c.post(
        "/api/v1/feedback",
        json={"content": "Giả mạo từ trang khác, không được vào sổ.", "category": "Khác"},
    )
    assert r.status_code == 401
    assert c.get("/api/v1/me").status_code == 401
    assert _feedback_rows(demo) == before


def test_public_pages_carry_a_strict_policy(web: Any, demo: Demo) -> None:
    """HELD: the citizen pages and the login page send a CSP without inline script or
    ``unsafe-*`` sources, nosniff, and refuse framing by other sites; the pages themselves
    carry no inline script or handler."""
    for path in [f"/gop-y/{WARD}", "/gop-y/tra-cuu?ma=PA-ZZZZ-ZZZZ", "/login", "/verify"]:
        r = web.get(path)
        csp = r.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "unsafe" not in csp, (path, csp)
        assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
        assert r.headers.get("X-Content-Type-Options") == "nosniff"
        html = r.get_data(as_text=True)
        assert "<script>" not in html and " onclick=" not in html and " onerror=" not in html


def test_hostile_text_on_the_public_form_is_refused_and_stores_nothing(
    web: Any, demo: Demo
) -> None:
    """HELD: NUL in the content, the name or the honeypot, an over-long honeypot, and text in
    the numeric-looking fields: the public form answers 422 in Vietnamese, and no item or file
    row is written."""
    before = _feedback_rows(demo)
    base = {"category": "Khác", "consent": "1", "content": "Nội dung phản ánh đủ dài để nhận."}
    for extra in [
        {"content": f"Có ký tự NUL ở giữa{NUL} nội dung"},
        {"name": f"Tên{NUL}"},
        {"website": f"x{NUL}"},
        {"website": "x" * 600},
        {"phone": "0912345678' OR 1=1 --"},
        {"email": '"><script>@x.vn'},
    ]:
        r = web.post(
            f"/gop-y/{WARD}",
            data={**base, **extra, "files": (io.BytesIO(photo()), "anh.png")},
            content_type="multipart/form-data",
        )
        assert r.status_code == 422, (extra, r.status_code)
        assert "Vui lòng kiểm tra lại" in r.get_data(as_text=True) or "không hợp lệ" in (
            r.get_data(as_text=True)
        )
    assert _feedback_rows(demo) == before


def test_malformed_json_bodies_get_stable_codes(web: Any, demo: Demo) -> None:
    """HELD: a huge integer (past Python's 4300-digit limit), invalid UTF-8, a JSON NUL escape
    and a lone surrogate escape: 400 ``malformed_json`` or 422 (``invalid_text``, or pydantic's
    ``invalid_field`` for the surrogate), never 500."""
    for body, status, codes in [
        ('{"username":' + "9" * 5000 + "}", 400, {"malformed_json"}),
        (b'{"username":"\xff\xfe","password":"x"}', 400, {"malformed_json"}),
        (json.dumps({"username": f"a{NUL}", "password": "x"}), 422, {"invalid_text"}),
        ('{"username":"\\ud800","password":"x"}', 422, {"invalid_text", "invalid_field"}),
    ]:
        r = web.post("/api/v1/auth/token", data=body, content_type="application/json")
        assert r.status_code == status and r.json["error"]["code"] in codes, body[:40]


def test_hostile_file_names_make_a_safe_content_disposition(web: Any, demo: Demo) -> None:
    """HELD: a citizen's photo named with quotes, CR/LF (header injection), a right-to-left
    override (``gnp.exe`` disguise), a path and non-ASCII is stored under a cleaned name, and
    the officer's download is an attachment with one Content-Disposition line, an ASCII
    fallback and the RFC 5987 UTF-8 name."""
    hostile = '..\\..\\a"b\r\nX-Evil: 1;\u202egnp.exe ảnh.png'
    header = content_disposition(hostile)
    assert "\r" not in header and "\n" not in header and "\u202e" not in header
    assert header.startswith('attachment; filename="') and "filename*=UTF-8''" in header
    assert header.count('"') == 2
    r = web.post(
        f"/gop-y/{WARD}",
        data={
            "category": "Khác",
            "consent": "1",
            "content": "Ảnh có tên tệp lạ đính kèm phản ánh này.",
            "files": (io.BytesIO(photo()), 'a"b;\u202egnp.exe ảnh.png'),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    with demo.factory() as s:
        item = s.scalars(select(FeedbackItem).order_by(FeedbackItem.received_at.desc())).first()
        assert item is not None
        row = item.files[0]
        item_id, file_id, stored = item.id, row.id, row.filename
    assert "\u202e" not in stored and '"' not in stored
    officer = signed_in(web, "lanhdao.phuong")
    r = officer.get(f"/feedback/{item_id}/files/{file_id}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("attachment;")


def test_a_refused_registration_consumes_no_number(web: Any, demo: Demo) -> None:
    """HELD: registration forms refused for hostile fields (over-long notation, subject,
    issuer, absurd page count and number of working days) leave every register's counter where it was."""
    with demo.factory() as s:
        before = {r.id: r.last_number for r in s.scalars(select(Register))}
    clerk = signed_in(web, "vanthu.phuong")
    token = csrf_of(clerk.get("/incoming/new").get_data(as_text=True))
    good = {
        "csrf_token": token,
        "notation": "12/UBND",
        "doc_type": "CV",
        "subject": "Về việc kiểm tra",
        "issued_date": "2026-11-20",
        "issuer_name": "UBND phường",
        "urgency": "normal",
        "secrecy": "none",
    }

    def post(extra: dict[str, str]) -> Any:
        data: dict[str, Any] = {**good, **extra}
        data["files"] = (io.BytesIO(make_pdf()), "van-ban.pdf")
        return clerk.post("/incoming/new", data=data, content_type="multipart/form-data")

    for extra in [
        {"subject": "x" * 5000},
        {"notation": "n" * 500},
        {"issuer_name": "i" * 2000},
        {"page_count": "9" * 30},
        {"due_in_working_days": "9" * 20},
    ]:
        r = post(extra)
        assert 400 <= r.status_code < 500, (extra, r.status_code)
    with demo.factory() as s:
        assert {r.id: r.last_number for r in s.scalars(select(Register))} == before
    # The same form without the hostile field is registered: the refusals above were theirs.
    assert post({}).status_code == 302
    with demo.factory() as s:
        after = {r.id: r.last_number for r in s.scalars(select(Register))}
    assert sum(after.values()) == sum(before.values()) + 1
