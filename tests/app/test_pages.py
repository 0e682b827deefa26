"""Pages: login with CSRF, the home page by role, admin pages and their permissions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import DEMO_PASSWORD, Demo


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no CSRF token"
    return match.group(1)


def login(client: Any, username: str, password: str = DEMO_PASSWORD, **kw: Any) -> Any:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, **kw
    )


def test_home_needs_login(client: Any) -> None:
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_login_without_csrf_token_is_refused(client: Any) -> None:
    r = client.post("/login", data={"username": "vanthu.tw", "password": DEMO_PASSWORD})
    assert r.status_code == 400
    assert "Phiên làm việc của biểu mẫu đã hết hạn" in r.get_data(as_text=True)


def test_clerk_logs_in_and_sees_home_in_vietnamese(client: Any) -> None:
    r = login(client, "vanthu.tw", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Xin chào, Trần Thị Thu" in html
    assert "Sổ văn bản đến năm 2026" in html and "Sổ văn bản đi năm 2026" in html
    assert 'lang="vi"' in html
    assert "Quản trị" not in html.split("</nav>")[0]  # no admin menu for a clerk


def test_wrong_password_shows_a_vietnamese_error(client: Any) -> None:
    r = login(client, "vanthu.tw", "wrong-password")
    assert r.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in r.get_data(as_text=True)


def test_login_redirects_only_to_this_site(client: Any) -> None:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    data = {"username": "vanthu.tw", "password": DEMO_PASSWORD, "csrf_token": token}
    r = client.post("/login?next=//evil.example/x", data=data)
    assert r.headers["Location"] == "/"


def test_logout_ends_the_session(client: Any) -> None:
    login(client, "vanthu.tw")
    home = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_of(home)})
    assert client.get("/").status_code == 302


def test_logout_everywhere_ends_other_browsers(app: Any) -> None:
    first, second = app.test_client(), app.test_client()
    login(first, "lanhdao.tw")
    login(second, "lanhdao.tw")
    home = first.get("/").get_data(as_text=True)
    first.post("/logout-everywhere", data={"csrf_token": csrf_of(home)})
    assert second.get("/").status_code == 302


def test_admin_pages_render_and_create_a_unit(client: Any, demo: Demo) -> None:
    login(client, "admin")
    assert "Tổ chức do tôi quản trị" in client.get("/admin").get_data(as_text=True)
    org_id = demo.org_id("tinh")
    page = client.get(f"/admin/organizations/{org_id}/units/new").get_data(as_text=True)
    r = client.post(
        f"/admin/organizations/{org_id}/units/new",
        data={"name": "Ban Tuyên giáo", "abbreviation": "TG", "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    assert "Đã thêm đơn vị." in r.get_data(as_text=True)
    assert "Ban Tuyên giáo" in client.get(f"/admin/organizations/{org_id}").get_data(as_text=True)


def test_admin_form_errors_are_shown_per_field(client: Any, demo: Demo) -> None:
    login(client, "admin")
    page = client.get("/admin/organizations/new").get_data(as_text=True)
    r = client.post(
        "/admin/organizations/new",
        data={
            "parent_id": str(demo.org_id("tw")),
            "level": "province",
            "name": "Tỉnh Thử",
            "abbreviation": "MTTQ",
            "code": "12345",
            "csrf_token": csrf_of(page),
        },
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "is-invalid" in html and "Mã định danh phải có dạng 000.00.00.A00" in html


def test_admin_pages_are_closed_to_non_admins_and_other_trees(client: Any, demo: Demo) -> None:
    login(client, "vanthu.tinh")
    assert client.get("/admin").status_code == 403
    assert client.get(f"/admin/organizations/{demo.org_id('tw')}").status_code == 404


def test_every_page_a_role_links_to_renders(client: Any, demo: Demo) -> None:
    login(client, "admin")
    for url in [
        "/",
        "/account",
        "/admin",
        "/admin/holidays",
        "/admin/organizations/new",
        f"/admin/organizations/{demo.org_id('tw')}",
        f"/admin/organizations/{demo.org_id('tw')}/edit",
        f"/admin/organizations/{demo.org_id('tw')}/users/new",
        f"/admin/organizations/{demo.org_id('tw')}/registers/new",
        f"/admin/users/{demo.user('vanthu.tw').id}/edit",
        "/delegations/new",
    ]:
        assert client.get(url).status_code == 200, url


def test_leader_delegates_from_the_page(client: Any, demo: Demo) -> None:
    login(client, "lanhdao.tw")
    page = client.get("/delegations/new").get_data(as_text=True)
    r = client.post(
        "/delegations/new",
        data={
            "delegate_id": str(demo.user("truongban.dcgs").id),
            "roles": ["leader"],
            "competence": "KT.",
            "start_date": "2026-11-23",
            "end_date": "2026-11-30",
            "csrf_token": csrf_of(page),
        },
        follow_redirects=True,
    )
    assert "Đã ủy quyền." in r.get_data(as_text=True)
    assert demo.actor("truongban.dcgs").acting_for(__import__("docflow").Role.LEADER) is not None


# What a page loads beside it (answered by the app in the embedded profile; nginx serves
# /static itself in production).
PAGE_FILES = (
    "/static/dhtn.css",
    "/bootstrap/static/css/bootstrap.min.css",
    "/manifest.webmanifest",
    "/sw.js",
    "/icons/192.png",
)


def _session_cookies(response: Any) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("dhtn_session=")]


def _arrives(browser: Any, set_cookie: str) -> None:
    """What a browser does with an answer's Set-Cookie: the last one to arrive wins."""
    value = set_cookie.split(";", 1)[0].split("=", 1)[1]
    if not value or "Max-Age=0" in set_cookie or "1970" in set_cookie:
        browser.delete_cookie("dhtn_session")
    else:
        browser.set_cookie("dhtn_session", value)


def test_answers_that_change_nothing_send_no_session_cookie(client: Any) -> None:
    """A signed-in user's pages and files come without the session cookie: it is sent only
    when the session changes. (It was sent with every answer, the files' public, cacheable
    ones too.)"""
    login(client, "vanthu.tw")
    # The first page after signing in stores the token of its forms (sign-out): a change.
    assert _session_cookies(client.get("/"))
    for path in (*PAGE_FILES, "/", "/notifications", "/tasks"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert _session_cookies(r) == [], path


@pytest.mark.parametrize("handled", ["before the sign-out", "after the sign-out"])
def test_a_late_answer_does_not_undo_a_new_sign_in(app: Any, handled: str) -> None:
    """The files a page asked for before its user signed out can be answered after the sign-in
    page has set its cookie (a slow server, a manifest fetched late). Their answers must not
    put the old cookie back, nor delete the new one: the sign-in form then failed its CSRF
    check ("Phiên làm việc của biểu mẫu đã hết hạn"), seen in the PWA browser test."""
    browser = app.test_client()
    login(browser, "lanhdao.tw")
    home = browser.get("/").get_data(as_text=True)  # the cookie a page's requests carry
    old = browser.get_cookie("dhtn_session").value

    def sent_with_the_old_cookie() -> list[Any]:
        earlier = app.test_client()
        earlier.set_cookie("dhtn_session", old)
        # The page's files, and what else it can still be asking for: a page the worker
        # fetches, a scripted fetch (the agency search), the task list.
        late = [earlier.get(path) for path in (*PAGE_FILES, "/", "/tasks")]
        assert [r.status_code for r in late] == [200] * len(PAGE_FILES) + (
            [200, 200] if handled == "before the sign-out" else [302, 302]
        )
        return late

    late = sent_with_the_old_cookie() if handled == "before the sign-out" else []
    assert browser.post("/logout", data={"csrf_token": csrf_of(home)}).status_code == 302
    if handled == "after the sign-out":
        late = sent_with_the_old_cookie()  # the session they name has ended
    token = csrf_of(browser.get("/login").get_data(as_text=True))
    for answer in late:  # their answers reach the browser only now
        for set_cookie in _session_cookies(answer):
            _arrives(browser, set_cookie)
    r = browser.post(
        "/login", data={"username": "lanhdao.tw", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302 and r.headers["Location"] == "/", r.get_data(as_text=True)[:300]
    assert browser.get("/").status_code == 200


def test_a_missing_file_leaves_the_session_alone(client: Any) -> None:
    """Right after signing out, the cookie holds only the sign-in page's message. A file the
    page asked for that does not exist is answered in plain text, without the error page that
    would take the message (and so change or delete a cookie that may be newer by then)."""
    login(client, "vanthu.tw")
    home = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_of(home)})
    for path in ("/icons/999.png", "/static/missing.css"):
        r = client.get(path)
        assert _session_cookies(r) == [], path
        assert r.status_code == 404 and r.mimetype == "text/plain", path
        assert r.get_data(as_text=True) == "Không tìm thấy."
    assert "Bạn đã đăng xuất." in client.get("/login").get_data(as_text=True)


def test_every_kind_of_an_outgoing_documents_file_has_a_vietnamese_label() -> None:
    """The draft page lists a document's files by kind; the OCR's searchable copy of a scanned
    draft was shown as «searchable · 5 KB» (the accessibility review's screenshot)."""
    from app.pages.outgoing import FILE_KINDS
    from docflow.search.services import SEARCHABLE_KIND

    kinds = {"draft", "prepared", "signed", "main", "attachment", SEARCHABLE_KIND}
    assert kinds <= set(FILE_KINDS)
    assert all(label and label[0].isupper() for label in FILE_KINDS.values())
