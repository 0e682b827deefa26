"""Functional review of the pages' forms, as their users use them (tests/app/test_forms_review.py).

A review found that both forms of the admin's "edit a person" page had answered 422 to every
submission since the project began: a hidden field reached a command that refuses unknown
fields, and no test had ever posted the form. Here every form that changes something is sent
the way a browser sends it: the page is opened, the form is read from the HTML as rendered
(hidden fields and their values, checked boxes, the selected option of each select, the empty
part of a file input left empty, the button pressed), the visible fields are filled with what a
person would type, the browser's own checks (``required``) are honoured, and the effect is
asserted in the database or on the next page.

Each test's docstring says HELD (the form works) or FINDING (with a severity: high, a task users
cannot do at all; medium, works only with a workaround or loses input; low, cosmetic). A FINDING
asserts the correct behaviour and fails until the application is fixed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lhtml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import MultiDict

from tests.conftest import DEMO_PASSWORD, Clock, Demo, make_test_settings
from tests.outgoing.conftest import (  # noqa: F401  (fixtures)
    BODY,
    attach_images,
    converter,
    demo_pki_dir,
)

# ----------------------------------------------------------------------------- the browser


class Form:
    """One <form> as a browser would send it: its successful controls, changed only the way a
    person can change them (typing into a field the page shows, choosing an option it offers,
    ticking a box it renders, pressing one of its buttons)."""

    def __init__(self, browser: Browser, page_url: str, el: Any) -> None:
        self.browser, self.page_url, self.el = browser, page_url, el
        self.values: list[tuple[str, str]] = []
        self.kinds: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self.files: dict[str, list[tuple[bytes, str, str]]] = {}
        for c in el.iter("input", "select", "textarea"):
            name = c.get("name")
            if not name or c.get("disabled") is not None:
                continue
            if c.tag == "select":
                opts = [o.get("value", o.text_content()) for o in c.iter("option")]
                self.options[name] = opts
                self.kinds[name] = "select-multiple" if c.get("multiple") is not None else "select"
                chosen = [
                    o.get("value", o.text_content())
                    for o in c.iter("option")
                    if o.get("selected") is not None
                ]
                if self.kinds[name] == "select" and not chosen and opts:
                    chosen = [opts[0]]
                self.values += [(name, v) for v in chosen]
                continue
            if c.tag == "textarea":
                self.kinds[name] = "textarea"
                text = c.text or ""
                self.values.append((name, text[1:] if text.startswith("\n") else text))
                continue
            kind = (c.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                continue
            if kind in ("checkbox", "radio"):
                self.kinds[name] = kind
                self.options.setdefault(name, []).append(c.get("value", "on"))
                if c.get("checked") is not None:
                    self.values.append((name, c.get("value", "on")))
                continue
            if kind == "file":
                self.kinds[name] = "file"
                continue
            self.kinds[name] = kind
            self.values.append((name, c.get("value", "")))

    # What a person does -------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.values if k == name), None)

    def set(self, name: str, value: str | Iterable[str]) -> Form:
        """Type into a field, or choose among a select's options (several for a multiple one),
        or tick exactly these boxes of a group."""
        assert name in self.kinds, f"the form shows no field {name!r}: {sorted(self.kinds)}"
        values = [value] if isinstance(value, str) else list(value)
        kind = self.kinds[name]
        if kind in ("select", "select-multiple", "checkbox", "radio"):
            for v in values:
                assert v in self.options[name], f"{name!r} offers no {v!r}: {self.options[name]}"
        if kind in ("select", "radio") or kind not in ("select-multiple", "checkbox"):
            assert len(values) == 1, name
        if kind == "file":
            raise AssertionError("use attach() for a file input")
        self.values = [(k, v) for k, v in self.values if k != name] + [(name, v) for v in values]
        return self

    def fill(self, **fields: str | Iterable[str]) -> Form:
        for name, value in fields.items():
            self.set(name, value)
        return self

    def check(self, name: str, value: str = "on") -> Form:
        assert self.kinds.get(name) == "checkbox", f"no checkbox {name!r}"
        assert value in self.options[name], f"{name!r} has no box {value!r}"
        if (name, value) not in self.values:
            self.values.append((name, value))
        return self

    def uncheck(self, name: str, value: str | None = None) -> Form:
        assert self.kinds.get(name) == "checkbox", f"no checkbox {name!r}"
        self.values = [
            (k, v) for k, v in self.values if not (k == name and (value is None or v == value))
        ]
        return self

    def attach(self, name: str, data: bytes, filename: str, ctype: str) -> Form:
        assert self.kinds.get(name) == "file", f"no file input {name!r}"
        self.files.setdefault(name, []).append((data, filename, ctype))
        return self

    def _check_required(self, novalidate: bool) -> None:
        if novalidate or self.el.get("novalidate") is not None:
            return
        for c in self.el.iter("input", "select", "textarea"):
            name = c.get("name")
            if not name or c.get("required") is None or c.get("disabled") is not None:
                continue
            if self.kinds.get(name) == "file":
                assert self.files.get(name), f"the browser asks for a file in {name!r}"
                continue
            sent = [v for k, v in self.values if k == name]
            assert any(v.strip() for v in sent), f"the browser refuses an empty {name!r}"

    def submit(self, button: str | None = None, *, follow: bool = False) -> Any:
        """Press the submit button whose text contains ``button`` (the first one when None)."""
        buttons = [
            b
            for b in self.el.iter("button", "input")
            if (b.tag == "button" and (b.get("type") or "submit") == "submit")
            or (b.tag == "input" and (b.get("type") or "").lower() == "submit")
        ]
        assert buttons, "the form has no submit button"
        if button is not None:
            buttons = [
                b for b in buttons if button in (b.text_content() or "") + (b.get("value") or "")
            ]
            assert buttons, f"no button {button!r}"
        pressed = buttons[0]
        self._check_required(pressed.get("formnovalidate") is not None)
        pairs = list(self.values)
        if pressed.get("name"):
            pairs.append((pressed.get("name"), pressed.get("value", "")))
        multipart = (self.el.get("enctype") or "").lower() == "multipart/form-data"
        data: MultiDict[str, Any] = MultiDict(pairs)
        if multipart:
            for name, kind in self.kinds.items():
                if kind != "file":
                    continue
                chosen = self.files.get(name) or [(b"", "", "application/octet-stream")]
                for content, filename, ctype in chosen:
                    data.add(name, (io.BytesIO(content), filename, ctype))
        else:
            assert not self.files, "a form without multipart sends no files"
        action = self.el.get("action") or self.page_url
        r = self.browser.client.post(
            action,
            data=data,
            content_type="multipart/form-data" if multipart else None,
            follow_redirects=follow,
        )
        self.browser.last = r
        return r


class Page:
    def __init__(self, browser: Browser, url: str, response: Any) -> None:
        self.browser, self.url, self.response = browser, url, response
        self.text: str = response.get_data(as_text=True)
        self.doc = lhtml.fromstring(self.text) if self.text.strip() else None

    def forms(self) -> list[Any]:
        return [f for f in self.doc.iter("form") if (f.get("method") or "").lower() == "post"]

    def form(self, action: str | None = None, has: str | None = None, index: int = 0) -> Form:
        """The POST form whose action contains ``action`` and whose HTML contains ``has``."""
        found = []
        for f in self.forms():
            if f.get("data-sign-out") is not None and "logout" not in (action or ""):
                continue  # the navbar's «Đăng xuất», on every page
            if action is not None and action not in (f.get("action") or self.url):
                continue
            if has is not None and has not in lhtml.tostring(f, encoding="unicode"):
                continue
            found.append(f)
        assert len(found) > index, f"no form action={action!r} has={has!r} on {self.url}"
        return Form(self.browser, self.url, found[index])

    def has_form(self, action: str | None = None, has: str | None = None) -> bool:
        try:
            self.form(action, has)
        except AssertionError:
            return False
        return True


class Browser:
    def __init__(self, app: Any, username: str | None = None) -> None:
        self.client = app.test_client()
        self.last: Any = None
        if username:
            self.login(username)

    def open(self, url: str, status: int = 200) -> Page:
        r = self.client.get(url)
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:2000])
        return Page(self, url, r)

    def follow(self, r: Any) -> Page:
        """The page a form's answer sends the browser to (flash messages included)."""
        if r.status_code not in (302, 303):
            text = r.get_data(as_text=True)
            raise AssertionError(
                f"answered {r.status_code}, not a redirect: alerts «{alerts(text)}», "
                f"field errors «{field_errors(text)}»"
            )
        return self.open(r.headers["Location"])

    def login(self, username: str, password: str = DEMO_PASSWORD) -> Any:
        form = self.open("/login").form()
        r = form.fill(username=username, password=password).submit()
        assert r.status_code == 302, r.get_data(as_text=True)[:2000]
        return r


def alerts(page: Page | str) -> str:
    """The text of the page's alert boxes (flash messages, form errors)."""
    text = page.text if isinstance(page, Page) else page
    if not text.strip():
        return ""
    doc = lhtml.fromstring(text)
    return " | ".join(
        " ".join(a.text_content().split())
        for a in doc.iter()
        if isinstance(a.tag, str) and "alert" in (a.get("class") or "").split()
    )


def field_errors(page: Page | str) -> str:
    text = page.text if isinstance(page, Page) else page
    if not text.strip():
        return ""
    doc = lhtml.fromstring(text)
    return " | ".join(
        " ".join(e.text_content().split())
        for e in doc.iter()
        if isinstance(e.tag, str)
        and any(c in (e.get("class") or "").split() for c in ("invalid-feedback", "text-danger"))
        and e.text_content().strip() not in ("", "*")
    )


ENGLISH = re.compile(
    r"\b(Field required|Input should|value is not|validation error|Traceback|Internal Server)\b"
)


def pdf_bytes(title: str = "Văn bản thử") -> bytes:
    from tests.pdfs import make_pdf

    return make_pdf(title=title)


def png_bytes() -> bytes:
    from tests.pdfs import make_png

    return make_png()


def docx_bytes(paragraphs: list[str]) -> bytes:
    from docx import Document as Docx

    d = Docx()
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def one(demo: Demo, model: Any, *where: Any) -> Any:
    with demo.factory() as s:
        return s.scalars(select(model).where(*where)).one()


def count(demo: Demo, model: Any, *where: Any) -> int:
    with demo.factory() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# ----------------------------------------------------------------------------- the app


@pytest.fixture
def app(
    tmp_path: Path,
    pg_url: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    demo: Demo,
    demo_pki_dir: Path,  # noqa: F811
    converter: Any,  # noqa: F811
) -> Any:
    """The app as ``dhtn demo seed`` leaves it: the demo PKI (server-held keys of leaders and
    clerks, for signing), the signature images, and the session's warm converter."""
    from app import create_app
    from app.runtime import runtime

    shutil.copytree(demo_pki_dir, tmp_path / "data" / "pki")
    attach_images(session_factory, clock, demo.store)
    flask_app = create_app(
        make_test_settings(tmp_path, pg_url), session_factory=session_factory, clock=clock
    )
    runtime(flask_app).converter = converter
    flask_app.config.update(TESTING=True, FORMREV_DEMO=demo)
    return flask_app


def browser(app: Any, username: str) -> Browser:
    return Browser(app, username)


def user(demo: Demo, username: str) -> Any:
    from docflow.models import User

    return one(demo, User, User.username == username)


# ============================================================================ account


def test_sign_in_sign_out_and_sign_out_everywhere(app: Any, demo: Demo) -> None:
    """HELD: the sign-in form (login.html), the navbar's «Đăng xuất» (base.html → logout) and
    the account page's «Đăng xuất khỏi mọi thiết bị» (account.html → logout_everywhere)."""
    phone, laptop = browser(app, "lanhdao.tw"), browser(app, "lanhdao.tw")
    assert "Xin chào" in phone.open("/").text
    r = phone.open("/account").form(action="/logout-everywhere").submit()
    assert r.headers["Location"].endswith("/login")
    assert phone.client.get("/").status_code == 302
    assert laptop.client.get("/").status_code == 302  # the other device too
    clerk = browser(app, "vanthu.tw")
    r = clerk.open("/").form(action="/logout").submit()
    assert "Bạn đã đăng xuất" in alerts(clerk.follow(r))
    assert clerk.client.get("/").status_code == 302


def test_change_own_password(app: Any, demo: Demo) -> None:
    """HELD: «Đổi mật khẩu» (account.html → account → ChangeOwnPassword): a wrong current
    password is refused in Vietnamese; the right one changes it, ends the other sessions and
    keeps this one."""
    b, other = browser(app, "chuyenvien.tg"), browser(app, "chuyenvien.tg")
    wrong = b.open("/account").form(has="current_password")
    r = wrong.fill(current_password="khong-dung-mat-khau", new_password="MatKhauMoi#2026").submit()
    assert r.status_code == 422 and alerts(r.get_data(as_text=True))
    assert not ENGLISH.search(r.get_data(as_text=True))
    form = b.open("/account").form(has="current_password")
    r = form.fill(current_password=DEMO_PASSWORD, new_password="MatKhauMoi#2026").submit()
    assert "Đã đổi mật khẩu" in alerts(b.follow(r))
    assert other.client.get("/").status_code == 302
    Browser(app).login("chuyenvien.tg", "MatKhauMoi#2026")


# ============================================================================ admin: directory


def test_admin_adds_an_organisation(app: Any, demo: Demo) -> None:
    """HELD: «Thêm tổ chức» (admin/org_form.html → admin_org_new → CreateOrganization)."""
    from docflow.models import Organization

    b = browser(app, "admin")
    form = b.open("/admin/organizations/new").form()
    form.fill(
        parent_id=str(demo.org_id("tinh")),
        level="commune",
        name="Ủy ban Mặt trận Tổ quốc Việt Nam xã Đông Sơn",
        abbreviation="MTTQ",
        code="000.01.02.Z01",
        address="Xã Đông Sơn, tỉnh Demo",
        email="mttq.dongson@demo.example",
        phone="0237 3851 234",
    )
    page = b.follow(form.submit())
    assert "Đã thêm tổ chức" in alerts(page)
    org = one(demo, Organization, Organization.code == "000.01.02.Z01")
    assert (org.parent_id, org.level, org.phone) == (
        demo.org_id("tinh"),
        "commune",
        "0237 3851 234",
    )


def test_admin_edits_an_organisation(app: Any, demo: Demo) -> None:
    """HELD: «Sửa tổ chức» (admin/org_form.html → admin_org_edit → UpdateOrganization): the
    name, address and phone typed are saved, the «Đang hoạt động» box as rendered keeps it open."""
    from docflow.models import Organization

    b = browser(app, "admin")
    org_id = demo.org_id("tinh")
    form = b.open(f"/admin/organizations/{org_id}/edit").form()
    assert form.get("active") == "on"
    form.fill(address="Số 5 đường Trần Hưng Đạo, tỉnh Demo", phone="0237 3852 000")
    page = b.follow(form.submit())
    assert "Đã lưu thông tin tổ chức" in alerts(page)
    org = one(demo, Organization, Organization.id == org_id)
    assert (org.address, org.phone, org.active) == (
        "Số 5 đường Trần Hưng Đạo, tỉnh Demo",
        "0237 3852 000",
        True,
    )


def test_admin_clears_an_organisations_phone(app: Any, demo: Demo) -> None:
    """FINDING (medium): emptying «Điện thoại» (or «Địa chỉ», «Thư điện tử») on «Sửa tổ
    chức» and pressing «Lưu» says «Đã lưu» but keeps the old value: app.pages.forms.parse_form
    drops every empty field, and UpdateOrganization reads a missing field as «unchanged», so a
    page can never clear an optional field (the API can, with null)."""
    from docflow.models import Organization

    b = browser(app, "admin")
    org_id = demo.org_id("tinh")
    form = b.open(f"/admin/organizations/{org_id}/edit").form()
    b.follow(form.fill(phone="0237 3852 000", email="mttq@demo.example").submit())
    form = b.open(f"/admin/organizations/{org_id}/edit").form()
    assert form.get("phone") == "0237 3852 000"
    page = b.follow(form.fill(phone="", email="").submit())
    assert "Đã lưu thông tin tổ chức" in alerts(page)
    org = one(demo, Organization, Organization.id == org_id)
    assert (org.phone, org.email) == (None, None), "the emptied fields were kept"


def test_admin_adds_and_edits_units(app: Any, demo: Demo) -> None:
    """HELD: «Thêm đơn vị» and «Sửa đơn vị» (admin/unit_form.html → admin_unit_new /
    admin_unit_edit → CreateUnit / UpdateUnit): a unit under another, renamed later."""
    from docflow.models import Unit

    b = browser(app, "admin")
    org_id = demo.org_id("tw")
    vp = one(demo, Unit, Unit.organization_id == org_id, Unit.abbreviation == "VP")
    form = b.open(f"/admin/organizations/{org_id}/units/new").form()
    form.fill(name="Phòng Hành chính - Quản trị", abbreviation="HCQT", parent_id=str(vp.id))
    assert "Đã thêm đơn vị" in alerts(b.follow(form.submit()))
    unit = one(demo, Unit, Unit.organization_id == org_id, Unit.abbreviation == "HCQT")
    assert unit.parent_id == vp.id
    form = b.open(f"/admin/units/{unit.id}/edit").form()
    assert form.get("active") == "on" and form.get("parent_id") == str(vp.id)
    form.fill(name="Phòng Quản trị - Tài vụ", abbreviation="QTTV")
    assert "Đã lưu đơn vị" in alerts(b.follow(form.submit()))
    unit = one(demo, Unit, Unit.id == unit.id)
    assert (unit.name, unit.abbreviation, unit.parent_id, unit.active) == (
        "Phòng Quản trị - Tài vụ",
        "QTTV",
        vp.id,
        True,
    )


def test_admin_makes_a_unit_top_level(app: Any, demo: Demo) -> None:
    """FINDING (medium): on «Sửa đơn vị», choosing «Trực thuộc đơn vị: — Không —» (to make
    the unit a top unit) is ignored: the option's value is empty, parse_form drops empty
    fields, and UpdateUnit reads a missing parent_id as «unchanged». A unit placed under
    another can never be moved back to the top from the page."""
    from docflow.models import Unit

    b = browser(app, "admin")
    org_id = demo.org_id("tw")
    vp = one(demo, Unit, Unit.organization_id == org_id, Unit.abbreviation == "VP")
    form = b.open(f"/admin/organizations/{org_id}/units/new").form()
    form.fill(name="Tổ Lưu trữ", abbreviation="TLT", parent_id=str(vp.id))
    b.follow(form.submit())
    unit = one(demo, Unit, Unit.organization_id == org_id, Unit.abbreviation == "TLT")
    form = b.open(f"/admin/units/{unit.id}/edit").form()
    assert "" in form.options["parent_id"]  # «— Không —» is offered
    assert "Đã lưu đơn vị" in alerts(b.follow(form.fill(parent_id="").submit()))
    assert one(demo, Unit, Unit.id == unit.id).parent_id is None, "still under Văn phòng"


def test_admin_adds_a_person(app: Any, demo: Demo) -> None:
    """HELD: «Thêm người dùng» (admin/user_form.html, hidden form=profile → admin_user_new →
    CreateUser): roles ticked, unit chosen, then the person signs in."""
    from docflow.models import Unit

    b = browser(app, "admin")
    org_id = demo.org_id("tw")
    tg = one(demo, Unit, Unit.organization_id == org_id, Unit.abbreviation == "TG")
    form = b.open(f"/admin/organizations/{org_id}/users/new").form()
    assert form.get("form") == "profile"
    form.fill(
        full_name="Nguyễn Thị Bích Ngọc",
        username="nguyenthibichngoc",
        position="Chuyên viên",
        unit_id=str(tg.id),
        email="ngoc.ntb@mttq.example",
        phone="0912 345 678",
        roles=["specialist"],
        clearance="none",
        password="BanDau#2026-mttq",
    )
    assert "Đã thêm người dùng" in alerts(b.follow(form.submit()))
    person = user(demo, "nguyenthibichngoc")
    assert (person.full_name, person.unit_id, {r.value for r in person.roles}) == (
        "Nguyễn Thị Bích Ngọc",
        tg.id,
        {"specialist"},
    )
    Browser(app).login("nguyenthibichngoc", "BanDau#2026-mttq")


def test_admin_edits_a_person_and_resets_the_password(app: Any, demo: Demo) -> None:
    """HELD: both forms of «Sửa người dùng» (admin/user_form.html, hidden form=profile /
    form=password → admin_user_edit → UpdateUser / SetPassword): position, unit and roles
    saved; the new password works and the person's sessions end."""
    from docflow.models import Unit

    b = browser(app, "admin")
    person = user(demo, "chuyenvien.tg")
    victim_session = browser(app, "chuyenvien.tg")
    vp = one(demo, Unit, Unit.organization_id == person.organization_id, Unit.abbreviation == "VP")
    page = b.open(f"/admin/users/{person.id}/edit")
    form = page.form(has='value="profile"')
    assert form.get("active") == "on" and "specialist" in [
        v for k, v in form.values if k == "roles"
    ]
    form.fill(position="Chuyên viên chính", unit_id=str(vp.id)).check("roles", "clerk")
    assert "Đã lưu người dùng" in alerts(b.follow(form.submit()))
    changed = user(demo, "chuyenvien.tg")
    assert (changed.position, changed.unit_id) == ("Chuyên viên chính", vp.id)
    assert {r.value for r in changed.roles} == {"specialist", "clerk"} and changed.active
    form = b.open(f"/admin/users/{person.id}/edit").form(has='value="password"')
    assert "Đã đặt lại mật khẩu" in alerts(b.follow(form.fill(password="DatLai#2026-abc").submit()))
    assert victim_session.client.get("/").status_code == 302
    Browser(app).login("chuyenvien.tg", "DatLai#2026-abc")


def test_admin_clears_a_persons_position_and_unit(app: Any, demo: Demo) -> None:
    """FINDING (medium): on «Sửa người dùng», emptying «Chức vụ» (or «Thư điện tử», «Điện
    thoại») or choosing «Đơn vị: — Không —» says «Đã lưu người dùng» but keeps the old values:
    parse_form drops empty fields and UpdateUser reads them as «unchanged». A person who left
    their unit cannot be taken out of it from the page."""
    b = browser(app, "admin")
    person = user(demo, "chuyenvien.tg")
    assert person.unit_id is not None and person.position
    form = b.open(f"/admin/users/{person.id}/edit").form(has='value="profile"')
    assert "" in form.options["unit_id"]
    assert "Đã lưu người dùng" in alerts(b.follow(form.fill(position="", unit_id="").submit()))
    changed = user(demo, "chuyenvien.tg")
    assert (changed.position, changed.unit_id) == (None, None), "the emptied fields were kept"


def test_raised_clearance_waits_for_a_second_admin_who_approves_or_rejects(
    app: Any, demo: Demo
) -> None:
    """HELD: raising a clearance on «Sửa người dùng» becomes a request; «Phê duyệt» and «Từ
    chối» (admin/privilege_requests.html → admin_privilege_decide) by a second admin."""
    from docflow.models import PrivilegeRequest

    demo.add_admin("admin2", org="tw")
    b, second = browser(app, "admin"), browser(app, "admin2")
    org_id = demo.org_id("tw")
    for username in ("chuyenvien.tg", "chuyenvien.dcgs"):
        person = user(demo, username)
        form = b.open(f"/admin/users/{person.id}/edit").form(has='value="profile"')
        r = form.fill(clearance="secret").submit()
        assert r.headers["Location"].endswith(f"/admin/organizations/{org_id}/privilege-requests")
    assert user(demo, "chuyenvien.tg").clearance == "none"
    page = second.open(f"/admin/organizations/{org_id}/privilege-requests")
    tg_id, dcgs_id = user(demo, "chuyenvien.tg").id, user(demo, "chuyenvien.dcgs").id
    tg_req = one(demo, PrivilegeRequest, PrivilegeRequest.user_id == tg_id)
    dcgs_req = one(demo, PrivilegeRequest, PrivilegeRequest.user_id == dcgs_id)
    r = page.form(action=f"/admin/privilege-requests/{tg_req.id}/approve").submit()
    assert "Đã phê duyệt" in alerts(second.follow(r))
    page = second.open(f"/admin/organizations/{org_id}/privilege-requests")
    r = page.form(action=f"/admin/privilege-requests/{dcgs_req.id}/reject").submit()
    assert "Đã từ chối" in alerts(second.follow(r))
    assert user(demo, "chuyenvien.tg").clearance == "secret"
    assert user(demo, "chuyenvien.dcgs").clearance == "none"


def test_admin_opens_a_register(app: Any, demo: Demo) -> None:
    """HELD: «Mở sổ văn bản» (admin/register_form.html → admin_register_new → CreateRegister),
    with the «Sổ riêng cho văn bản mật» box ticked."""
    from docflow.models import Register

    b = browser(app, "admin")
    org_id = demo.org_id("tw")
    form = b.open(f"/admin/organizations/{org_id}/registers/new").form()
    assert form.get("year") == "2026"
    form.fill(direction="outgoing", year="2027", name="Sổ văn bản mật đi năm 2027")
    form.check("secret_series")
    assert "Đã mở sổ văn bản" in alerts(b.follow(form.submit()))
    reg = one(demo, Register, Register.organization_id == org_id, Register.year == 2027)
    assert (reg.direction, reg.secret_series, reg.name) == (
        "outgoing",
        True,
        "Sổ văn bản mật đi năm 2027",
    )


def test_holidays_added_and_deleted(app: Any, demo: Demo) -> None:
    """HELD: «Thêm hoặc sửa một ngày» and «Xóa» (admin/holidays.html → admin_holidays →
    SetHoliday / delete_holiday)."""
    from docflow.models import Holiday

    b = browser(app, "admin")
    form = b.open("/admin/holidays").form(has='name="day"')
    form.fill(day="2026-12-31", name="Nghỉ bù Tết Dương lịch", kind="holiday")
    page = b.follow(form.submit())
    assert "Đã cập nhật lịch" in alerts(page)
    assert count(demo, Holiday, Holiday.day == dt.date(2026, 12, 31)) == 1
    page = b.open("/admin/holidays?year=2026")
    r = page.form(has='value="2026-12-31"').submit()
    assert "Đã xóa ngày" in alerts(b.follow(r))
    assert count(demo, Holiday, Holiday.day == dt.date(2026, 12, 31)) == 0


# ============================================================================ delegations


def test_leader_delegates_and_revokes(app: Any, demo: Demo) -> None:
    """HELD: «Ủy quyền mới» by a leader (delegation_form.html → delegation_new →
    CreateDelegation, the delegator being the leader) and «Thu hồi» (_delegations.html on the
    account page → delegation_revoke)."""
    from docflow.models import Delegation

    b = browser(app, "lanhdao.tw")
    delegate = user(demo, "truongban.dcgs")
    form = b.open("/delegations/new").form()
    assert "delegator_id" not in form.kinds
    form.fill(delegate_id=str(delegate.id), roles=["leader"], competence="KT.")
    form.fill(reason="Đi công tác tại tỉnh Demo từ 23 đến 30/11")
    page = b.follow(form.submit())
    assert "Đã ủy quyền" in alerts(page)
    d = one(demo, Delegation, Delegation.delegate_id == delegate.id)
    assert (d.roles, d.competence, d.end_date) == (["leader"], "KT.", dt.date(2026, 11, 30))
    r = page.form(action=f"/delegations/{d.id}/revoke").submit()
    assert "Đã thu hồi ủy quyền" in alerts(b.follow(r))
    assert one(demo, Delegation, Delegation.id == d.id).revoked_at is not None


def test_admin_records_a_delegation_for_a_leader(app: Any, demo: Demo) -> None:
    """HELD: «Ủy quyền mới» by an admin, who chooses the delegator (delegation_form.html)."""
    from docflow.models import Delegation

    b = browser(app, "admin")
    form = b.open("/delegations/new").form()
    form.fill(
        delegator_id=str(user(demo, "lanhdao.tw").id),
        delegate_id=str(user(demo, "truongban.dcgs").id),
        roles=["leader"],
        competence="TUQ.",
        start_date="2026-11-24",
        end_date="2026-11-27",
    )
    assert "Đã ủy quyền" in alerts(b.follow(form.submit()))
    d = one(demo, Delegation, Delegation.delegator_id == user(demo, "lanhdao.tw").id)
    assert (d.start_date, d.created_by_id) == (dt.date(2026, 11, 24), user(demo, "admin").id)


# ============================================================================ people, import


def _activate(app: Any, username: str, code: str, password: str) -> Page:
    b = Browser(app)
    form = b.open("/activate").form()
    form.fill(username=username, code=code, password=password, password2=password)
    page = b.follow(form.submit())
    assert "Đã kích hoạt tài khoản" in alerts(page)
    return page


def test_people_bulk_actions_and_activation(app: Any, demo: Demo) -> None:
    """HELD: «Với những người đã chọn» on the people list (admin/people.html, hidden «back» →
    admin_people_bulk → BulkUserAction): move to a unit, lock, issue activation codes (an XLSX);
    then the person activates the account with the code (activate.html → activate)."""
    from openpyxl import load_workbook

    from docflow.models import Unit

    b = browser(app, "admin")
    org_id = demo.org_id("tw")
    person = user(demo, "chuyenvien.tg")
    vp = one(demo, Unit, Unit.organization_id == org_id, Unit.abbreviation == "VP")
    page = b.open(f"/admin/people?organization={org_id}")
    form = page.form(action="/admin/people/bulk")
    form.check("user_ids", str(person.id)).fill(action="move_unit", unit_id=str(vp.id))
    page = b.follow(form.submit())
    assert "đã thay đổi 1 người" in alerts(page)
    assert user(demo, "chuyenvien.tg").unit_id == vp.id
    form = page.form(action="/admin/people/bulk")
    form.check("user_ids", str(person.id)).fill(action="deactivate")
    assert "đã thay đổi 1 người" in alerts(b.follow(form.submit()))
    assert not user(demo, "chuyenvien.tg").active
    form = b.open(f"/admin/people?organization={org_id}").form(action="/admin/people/bulk")
    form.check("user_ids", str(person.id)).fill(action="activate")
    b.follow(form.submit())
    form = b.open(f"/admin/people?organization={org_id}").form(action="/admin/people/bulk")
    r = form.check("user_ids", str(person.id)).fill(action="reset_activation").submit()
    assert r.status_code == 200 and r.mimetype.endswith("sheet")
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert sheet["A2"].value == "chuyenvien.tg"
    _activate(app, "chuyenvien.tg", str(sheet["D2"].value), "KichHoat#2026-tg")
    Browser(app).login("chuyenvien.tg", "KichHoat#2026-tg")


def test_directory_import_preview_confirm(app: Any, demo: Demo) -> None:
    """HELD: «Tải lên và xem trước» then «Xác nhận nhập» (admin/import.html, hidden «token» →
    admin_import): the new person gets an activation code and activates the account."""
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "users"
    ws.append(["username", "full_name", "organization_code", "position", "roles"])
    ws.append(["tranvanbinh", "Trần Văn Bình", "000.00.01.Z01", "Chuyên viên", "specialist"])
    buf = io.BytesIO()
    wb.save(buf)
    b = browser(app, "admin")
    form = b.open("/admin/import").form(has='name="file"')
    form.attach("file", buf.getvalue(), "nhap-nguoi-dung.xlsx", "application/octet-stream")
    r = form.submit()
    assert r.status_code == 200, alerts(r.get_data(as_text=True))
    preview = Page(b, "/admin/import", r)
    r = preview.form(has='name="token"').submit()
    assert r.status_code == 200 and r.mimetype.endswith("sheet"), r.get_data(as_text=True)[:500]
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert sheet["A2"].value == "tranvanbinh"
    assert user(demo, "tranvanbinh").full_name == "Trần Văn Bình"
    _activate(app, "tranvanbinh", str(sheet["D2"].value), "KichHoat#2026-binh")


# ============================================================================ incoming documents


def doc_row(demo: Demo, document_id: Any) -> Any:
    from docflow.models import Document

    return one(demo, Document, Document.id == uuid.UUID(str(document_id)))


def register_incoming(b: Browser, notation: str, *, button: str = "Vào sổ") -> Any:
    form = b.open("/incoming/new").form(has='name="notation"')
    form.fill(
        notation=notation,
        doc_type="CV",
        subject="Về việc tổ chức Hội nghị lấy ý kiến nhân dân về dự thảo sửa đổi Hiến pháp",
        issuer_name="Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Demo",
        issued_date="2026-11-20",
        urgency="urgent",
        page_count="2",
        due_in_working_days="5",
        recipients_text="Ban Dân chủ, Giám sát và Phản biện xã hội",
    )
    form.attach("files", pdf_bytes("Cong van 125"), "cong-van-125.pdf", "application/pdf")
    return form.submit(button)


def test_clerk_registers_an_incoming_document(app: Any, demo: Demo) -> None:
    """HELD: «Vào sổ văn bản đến» (documents/new.html → incoming_new → RegisterIncoming): the
    fields typed, the file, the register number; «Vào sổ và nhập văn bản tiếp» returns to an
    empty form; the same document again warns of a duplicate and «Vẫn vào sổ» registers it."""
    from docflow.models import Document

    b = browser(app, "vanthu.tw")
    r = register_incoming(b, "125/MTTQ-BTT")
    page = b.follow(r)
    assert "Đã vào sổ: số đến 01" in alerts(page)
    doc = one(demo, Document, Document.notation == "125/MTTQ-BTT")
    assert (doc.state, doc.urgency, doc.page_count, doc.register_number) == (
        "registered",
        "urgent",
        2,
        1,
    )
    assert [f.kind for f in doc.files] == ["main"]
    r = register_incoming(b, "126/MTTQ-BTT", button="nhập văn bản tiếp")
    assert r.headers["Location"].endswith("/incoming/new")
    again = register_incoming(b, "125/MTTQ-BTT")
    assert again.status_code == 409
    page = Page(b, "/incoming/new", again)
    form = page.form(has='name="notation"')
    assert form.get("notation") == "125/MTTQ-BTT"  # what was typed is kept
    form.check("confirm_duplicate")
    form.attach("files", pdf_bytes("Cong van 125"), "cong-van-125.pdf", "application/pdf")
    assert "Đã vào sổ: số đến 03" in alerts(b.follow(form.submit()))
    assert count(demo, Document, Document.notation == "125/MTTQ-BTT") == 2


def test_incoming_document_through_its_action_forms(app: Any, demo: Demo) -> None:
    """HELD: the action forms of an incoming document (documents/_actions.html → document_act):
    «Trình» to the leader, «Giao xử lý» to a unit with co-operating and informed parties and a
    deadline in working days, the unit head's «Giao cho cán bộ», «Bắt đầu xử lý», «Gửi ý kiến»,
    «Hoàn thành»; then «Đưa vào hồ sơ» (dossiers/_filing.html → dossier_file_chosen)."""
    from docflow.models import Document, Unit

    clerk = browser(app, "vanthu.tw")
    b = clerk
    b.follow(register_incoming(b, "77/MTTQ-BTT"))
    doc = one(demo, Document, Document.notation == "77/MTTQ-BTT")
    page = clerk.open(f"/documents/{doc.id}")
    form = page.form(has='value="submit"')
    form.fill(to_user_id=str(user(demo, "lanhdao.tw").id), comment="Kính trình đồng chí xem xét.")
    assert "Đã thực hiện: Trình lãnh đạo" in alerts(clerk.follow(form.submit()))
    assert doc_row(demo, doc.id).state == "submitted"

    leader = browser(app, "lanhdao.tw")
    org = demo.org_id("tw")
    dcgs = one(demo, Unit, Unit.organization_id == org, Unit.abbreviation == "DCGSPBXH")
    tg = one(demo, Unit, Unit.organization_id == org, Unit.abbreviation == "TG")
    form = leader.open(f"/documents/{doc.id}").form(has='value="assign"')
    form.fill(lead=f"unit:{dcgs.id}", due_date="", due_in_working_days="7")
    form.check("cooperating", f"user:{user(demo, 'chuyenvien.tg').id}")
    form.check("informed", f"unit:{tg.id}")
    form.fill(comment="Giao Ban Dân chủ chủ trì, Ban Tuyên giáo phối hợp tham mưu.")
    assert "Đã thực hiện: Giao xử lý" in alerts(leader.follow(form.submit()))
    assert doc_row(demo, doc.id).state == "assigned"

    head = browser(app, "truongban.dcgs")
    form = head.open(f"/documents/{doc.id}").form(has='value="assign"')
    form.fill(lead=f"user:{user(demo, 'chuyenvien.dcgs').id}", comment="Đồng chí Huy xử lý.")
    head.follow(form.submit())

    spec = browser(app, "chuyenvien.dcgs")
    page = spec.open(f"/documents/{doc.id}")
    spec.follow(page.form(has='value="start"').submit())
    assert doc_row(demo, doc.id).state == "in_progress"
    form = spec.open(f"/documents/{doc.id}").form(has='value="comment"')
    form.fill(comment="Đã liên hệ Ban Thường trực tỉnh để nắm thêm thông tin.")
    assert "Đã thực hiện: Cho ý kiến" in alerts(spec.follow(form.submit()))
    form = spec.open(f"/documents/{doc.id}").form(has='value="complete"')
    form.fill(comment="Đã tham mưu văn bản trả lời, trình lãnh đạo ký ngày 25/11.")
    r = form.submit()
    assert doc_row(demo, doc.id).state == "done"
    page = spec.follow(r)
    assert "Đã thực hiện: Hoàn thành" in alerts(page)
    # «Đưa vào hồ sơ»: a dossier of the unit, then the card on the document page.
    _open_dossier(spec, "05/HS-DCGS", "Hồ sơ lấy ý kiến nhân dân về sửa đổi Hiến pháp")
    page = spec.open(f"/documents/{doc.id}")
    form = page.form(action="/dossiers/file")
    r = form.submit()
    assert r.headers["Location"].endswith(f"/documents/{doc.id}")
    assert "Đã đưa 1 văn bản vào hồ sơ" in alerts(spec.follow(r))


def test_incoming_document_returned_and_commented(app: Any, demo: Demo) -> None:
    """HELD: «Trả lại» by the leader (documents/_actions.html → document_act, action=return):
    the document is back with the clerk, the reason in its trail."""
    from docflow.models import Document

    clerk = browser(app, "vanthu.tw")
    clerk.follow(register_incoming(clerk, "12/MTTQ-VP"))
    doc = one(demo, Document, Document.notation == "12/MTTQ-VP")
    form = clerk.open(f"/documents/{doc.id}").form(has='value="submit"')
    clerk.follow(form.fill(to_user_id=str(user(demo, "lanhdao.tw").id)).submit())
    leader = browser(app, "lanhdao.tw")
    form = leader.open(f"/documents/{doc.id}").form(has='value="return"')
    r = form.fill(comment="Văn bản gửi nhầm, đề nghị văn thư chuyển Ban Tuyên giáo.").submit()
    leader.follow(r)
    assert doc_row(demo, doc.id).state == "registered"
    assert "Văn bản gửi nhầm" in clerk.open(f"/documents/{doc.id}").text


# ============================================================================ dossiers


def _open_dossier(b: Browser, code: str, title: str, **extra: str) -> Any:
    from docflow.models import Dossier

    form = b.open("/dossiers/new").form()
    form.fill(code=code, title=title, retention_years="10", note="Hồ sơ mở theo yêu cầu công việc")
    form.fill(**extra)
    page = b.follow(form.submit())
    assert "Đã mở hồ sơ" in alerts(page)
    return one(b_demo(b), Dossier, Dossier.code == code)


def b_demo(b: Browser) -> Demo:
    return b.client.application.config["FORMREV_DEMO"]


def test_dossier_opened_filed_closed_transferred_archived(app: Any, demo: Demo) -> None:
    """HELD: «Mở hồ sơ» (dossiers/new.html → dossier_create → OpenDossier), «Đưa các văn bản
    đã chọn vào hồ sơ» (dossiers/show.html → dossier_file), and each «Thao tác» form
    (dossier_act): close, the leader's reopen and hold/release with a reason, transfer, the
    archivist's return with a reason and accept."""
    from docflow.models import Document, Dossier, DossierItem

    clerk = browser(app, "vanthu.tw")
    clerk.follow(register_incoming(clerk, "31/CV-MTTQ"))
    doc = one(demo, Document, Document.notation == "31/CV-MTTQ")
    dossier = _open_dossier(clerk, "02/HS-VP", "Hồ sơ công văn đến về công tác dân vận năm 2026")
    assert (dossier.retention_years, dossier.year, dossier.state) == (10, 2026, "open")
    page = clerk.open(f"/dossiers/{dossier.id}")
    form = page.form(action=f"/dossiers/{dossier.id}/file")
    form.check("document_ids", str(doc.id))
    assert "Đã đưa 1 văn bản vào hồ sơ" in alerts(clerk.follow(form.submit()))
    assert count(demo, DossierItem, DossierItem.dossier_id == dossier.id) == 1

    def act(b: Browser, action: str, reason: str | None = None) -> None:
        form = b.open(f"/dossiers/{dossier.id}").form(has=f'name="action" value="{action}"')
        if reason is not None:
            form.fill(comment=reason)
        page = b.follow(form.submit())
        assert "Đã ghi nhận" in alerts(page), alerts(page)

    act(clerk, "close")
    leader, archivist = browser(app, "lanhdao.tw"), browser(app, "luutru.tw")
    act(leader, "reopen", "Bổ sung báo cáo kết quả hội nghị tháng 12.")
    assert one(demo, Dossier, Dossier.id == dossier.id).state == "open"
    act(clerk, "close")
    act(clerk, "transfer")
    act(archivist, "return", "Thiếu mục lục văn bản, đề nghị bổ sung.")
    assert one(demo, Dossier, Dossier.id == dossier.id).state == "closed"
    act(clerk, "transfer")
    act(archivist, "accept")
    act(leader, "hold", "Đang phục vụ thanh tra, giữ lại không tiêu hủy.")
    assert one(demo, Dossier, Dossier.id == dossier.id).legal_hold
    act(leader, "release")
    final = one(demo, Dossier, Dossier.id == dossier.id)
    assert (final.state, final.legal_hold) == ("archived", None)


def test_dossier_opened_permanent_for_another_unit(app: Any, demo: Demo) -> None:
    """HELD: «Mở hồ sơ» with «Vĩnh viễn» chosen, another unit and a secrecy level (the radio
    and the selects of dossiers/new.html)."""
    from docflow.models import Unit

    leader = browser(app, "lanhdao.tw")
    btt = one(demo, Unit, Unit.organization_id == demo.org_id("tw"), Unit.abbreviation == "BTT")
    dossier = _open_dossier(
        leader,
        "01/HS-BTT",
        "Hồ sơ Hội nghị Ban Thường trực mở rộng năm 2026",
        retention="permanent",
        unit_id=str(btt.id),
        secrecy="confidential",
    )
    assert (dossier.retention_years, dossier.unit_id, dossier.secrecy) == (
        None,
        btt.id,
        "confidential",
    )


def test_the_dossier_form_offers_only_levels_the_person_may_open(app: Any, demo: Demo) -> None:
    """FINDING (side note, low): «Mở hồ sơ» offered every secrecy level to a clerk without
    clearance, each above it refused after submitting. Now the select offers the levels up to
    the person's clearance: the clerk sees «Thường» only, the cleared leader up to «Mật»."""
    import re as _re

    def offered(username: str) -> list[str]:
        html = browser(app, username).open("/dossiers/new").text
        select = _re.search(r'<select[^>]*name="secrecy"[^>]*>(.*?)</select>', html, _re.S)
        assert select, html[:2000]
        return _re.findall(r'<option value="([^"]*)"', select.group(1))

    assert offered("vanthu.tw") == ["none"]
    assert offered("lanhdao.tw") == ["none", "confidential", "secret"]


def _plan_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["DANH MỤC HỒ SƠ NĂM 2027"])
    ws.append(["Số và ký hiệu hồ sơ", "Tên đề mục và tiêu đề hồ sơ", "Thời hạn", "Đơn vị", ""])
    ws.append(["I", "Công tác dân chủ, giám sát", None, None, None])
    ws.append(["01.DCGS", "Hồ sơ giám sát an sinh xã hội năm 2027", "10 năm", "DCGSPBXH", None])
    ws.append(["02.DCGS", "Hồ sơ phản biện xã hội năm 2027", "Vĩnh viễn", "DCGSPBXH", None])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_file_plan_created_imported_approved_copied_and_used(app: Any, demo: Demo) -> None:
    """HELD: the file plan page's forms (dossiers/plan.html → file_plan_post): «Lập danh mục
    trống», «Nhập» from Excel, the leader's «Phê duyệt», «Sao chép danh mục năm trước»; then
    «Mở hồ sơ» from a plan item (dossiers/new.html, plan_item_id)."""
    from docflow.models import Dossier, FilePlan

    clerk, leader = browser(app, "vanthu.tw"), browser(app, "lanhdao.tw")
    page = clerk.open("/file-plan?year=2026")
    r = page.form(has='value="create"').submit("Lập danh mục trống")
    assert "Đã lập danh mục hồ sơ" in alerts(clerk.follow(r))
    plan = one(demo, FilePlan, FilePlan.year == 2026)
    form = clerk.open("/file-plan?year=2026").form(has='value="import"')
    form.attach("file", _plan_xlsx(), "danh-muc-2026.xlsx", "application/octet-stream")
    page = clerk.follow(form.submit("Nhập"))
    assert "Đã nhập danh mục hồ sơ" in alerts(page), alerts(page)
    assert "Hồ sơ phản biện xã hội năm 2027" in page.text
    r = leader.open("/file-plan?year=2026").form(has='value="approve"').submit()
    assert "Đã phê duyệt danh mục hồ sơ" in alerts(leader.follow(r))
    assert one(demo, FilePlan, FilePlan.id == plan.id).state == "approved"
    r = clerk.open("/file-plan?year=2027").form(has='value="copy"').submit("Sao chép")
    assert "Đã lập danh mục hồ sơ" in alerts(clerk.follow(r))
    assert count(demo, FilePlan, FilePlan.year == 2027) == 1
    # A dossier of the 2026 plan, opened by the unit's specialist.
    spec = browser(app, "chuyenvien.dcgs")
    form = spec.open("/dossiers/new").form()
    item = next(v for v in form.options["plan_item_id"] if v)
    page = spec.follow(form.fill(plan_item_id=item).submit())
    assert "Đã mở hồ sơ" in alerts(page)
    opened = one(demo, Dossier, Dossier.plan_item_id == uuid.UUID(item))
    assert opened.code in ("01.DCGS", "02.DCGS")


# ============================================================================ tasks


def task_row(demo: Demo, task_id: Any) -> Any:
    from docflow.models import Task

    return one(demo, Task, Task.id == uuid.UUID(str(task_id)))


def _new_task(b: Browser, demo: Demo, title: str, **fields: Any) -> Any:
    from docflow.models import Task

    form = b.open("/tasks/new").form()
    form.fill(title=title, description="Tổng hợp ý kiến, kiến nghị của cử tri gửi kỳ họp.")
    form.fill(**fields)
    form.attach("files", pdf_bytes("Ke hoach"), "ke-hoach-trien-khai.pdf", "application/pdf")
    page = b.follow(form.submit())
    assert "Đã giao nhiệm vụ" in alerts(page), alerts(page)
    return one(demo, Task, Task.title == title)


def test_task_created_split_and_carried_through_every_action_form(app: Any, demo: Demo) -> None:
    """HELD: «Giao nhiệm vụ» (tasks/new.html → task_new → CreateTask, with a file and a
    co-operating person chosen in the multiple select), «Giao việc con» (tasks/detail.html →
    task_split → CreateSubtask), and the action forms (task_act): start, progress with a file,
    extension asked and granted (the «Đồng ý gia hạn» button's approve=true), completion
    reported, sent back («Trả lại, làm tiếp»), reported again and approved."""
    from docflow.models import Unit

    leader = browser(app, "lanhdao.tw")
    dcgs = one(
        demo, Unit, Unit.organization_id == demo.org_id("tw"), Unit.abbreviation == "DCGSPBXH"
    )
    task = _new_task(
        leader,
        demo,
        "Tổng hợp ý kiến cử tri trước kỳ họp thứ 11",
        lead=f"unit:{dcgs.id}",
        cooperating=[f"user:{user(demo, 'chuyenvien.tg').id}"],
        due_in_working_days="10",
        priority="high",
    )
    assert (task.lead_unit_id, task.priority, task.state) == (dcgs.id, "high", "assigned")
    head = browser(app, "truongban.dcgs")
    form = head.open(f"/tasks/{task.id}").form(action=f"/tasks/{task.id}/subtasks")
    assert form.get("due_date") == task.due_date.isoformat()
    form.fill(title="Tổng hợp ý kiến khu vực miền Trung")
    form.fill(lead_user_id=str(user(demo, "chuyenvien.dcgs").id))
    page = head.follow(form.submit())
    assert "Đã giao việc con" in alerts(page)
    sub_id = re.search(r"/tasks/([0-9a-f-]{36})$", page.url)
    assert sub_id is not None and sub_id.group(1) != str(task.id)
    sub = sub_id.group(1)

    spec = browser(app, "chuyenvien.dcgs")

    def act(b: Browser, action: str, button: str | None = None, **fields: str) -> Page:
        page = b.open(f"/tasks/{sub}")
        form = page.form(action=f"/tasks/{sub}/act", has=f'value="{action}"')
        form.fill(**fields)
        if action == "report_progress":
            form.attach("files", png_bytes(), "anh-hoi-nghi.png", "image/png")
        page = b.follow(form.submit(button))
        assert "Đã ghi nhận" in alerts(page), alerts(page)
        return page

    act(spec, "start")
    act(spec, "report_progress", percent="50", comment="Đã tổng hợp 8/15 tỉnh.")
    assert task_row(demo, sub).progress == 50
    due = task_row(demo, sub).due_date
    new_due = (due + dt.timedelta(days=7)).isoformat()
    act(spec, "request_extension", new_due_date=new_due, reason="Chờ số liệu của 3 tỉnh.")
    # Beyond the parent task's deadline: the leader who gave the parent task decides.
    act(leader, "decide_extension", "Đồng ý gia hạn", comment="Đồng ý, đề nghị khẩn trương.")
    assert task_row(demo, sub).due_date.isoformat() == new_due
    act(spec, "submit_completion", comment="Đã hoàn thành báo cáo tổng hợp.")
    act(head, "approve_completion", "Trả lại, làm tiếp", comment="Bổ sung số liệu tỉnh Demo.")
    assert task_row(demo, sub).state == "in_progress"
    act(spec, "submit_completion", comment="Đã bổ sung số liệu tỉnh Demo.")
    act(head, "approve_completion", "Duyệt hoàn thành", comment="Đạt yêu cầu.")
    assert task_row(demo, sub).state == "done"


def test_task_cancelled_with_a_reason(app: Any, demo: Demo) -> None:
    """HELD: «Hủy nhiệm vụ» (tasks/detail.html → task_act, action=cancel, reason)."""
    leader = browser(app, "lanhdao.tw")
    task = _new_task(
        leader,
        demo,
        "Chuẩn bị hội nghị sơ kết quý IV",
        lead=f"user:{user(demo, 'chuyenvien.tg').id}",
        due_date="2026-12-15",
    )
    assert task.due_date == dt.date(2026, 12, 15)
    form = leader.open(f"/tasks/{task.id}").form(has='value="cancel"')
    page = leader.follow(form.fill(reason="Hội nghị được ghép vào tổng kết năm.").submit())
    assert "Đã ghi nhận" in alerts(page)
    assert task_row(demo, task.id).state == "cancelled"


def test_notifications_opened_and_all_read(app: Any, demo: Demo) -> None:
    """HELD: opening a notification (tasks/notifications.html → notification_open) marks it
    read and goes to its link; «Đánh dấu đã đọc tất cả» (notifications_read_all)."""
    from docflow.models import Notification

    leader = browser(app, "lanhdao.tw")
    for title in ("Rà soát danh sách hộ nghèo", "Báo cáo công tác tháng 11"):
        _new_task(
            leader,
            demo,
            title,
            lead=f"user:{user(demo, 'chuyenvien.tg').id}",
            due_in_working_days="5",
        )
    spec = browser(app, "chuyenvien.tg")
    uid = user(demo, "chuyenvien.tg").id
    unread = count(demo, Notification, Notification.user_id == uid, Notification.read_at.is_(None))
    assert unread >= 2
    note = one(
        demo, Notification, Notification.user_id == uid, Notification.title.contains("hộ nghèo")
    )
    page = spec.open("/notifications")
    r = page.form(action=f"/notifications/{note.id}/open").submit()
    assert r.headers["Location"] == note.link
    assert one(demo, Notification, Notification.id == note.id).read_at is not None
    page = spec.open("/notifications")
    r = page.form(action="/notifications/read-all").submit()
    spec.follow(r)
    assert (
        count(demo, Notification, Notification.user_id == uid, Notification.read_at.is_(None)) == 0
    )


# ============================================================================ feedback


PHUONG = "000.01.01.Z01"


def _mailbox(app: Any) -> Browser:
    leader = browser(app, "lanhdao.phuong")
    form = leader.open("/feedback/mailbox").form(has='name="categories"')
    form.fill(
        categories="Môi trường, vệ sinh\nAn ninh trật tự\nĐất đai, xây dựng\nKhác",
        places="Tổ dân phố số 1\nTổ dân phố số 2\nThôn Đông",
        retention_days="730",
    )
    form.check("enabled", "1")
    page = leader.follow(form.submit())
    assert "Đã lưu cấu hình hòm thư" in alerts(page)
    return leader


def _citizen_sends(app: Any, content: str, **fields: str) -> str:
    citizen = Browser(app)
    form = citizen.open(f"/gop-y/{PHUONG}").form(has='name="content"')
    assert "csrf_token" not in form.kinds  # the public form is exempt
    form.fill(category="Môi trường, vệ sinh", place="Tổ dân phố số 2", content=content)
    form.fill(**fields)
    form.check("consent", "1")
    form.attach("files", png_bytes(), "rac-thai.png", "image/png")
    r = form.submit()
    assert r.status_code == 303, alerts(r.get_data(as_text=True))
    code = re.search(r"ma=([A-Za-z0-9-]+)", r.headers["Location"])
    assert code is not None
    done = citizen.open(r.headers["Location"])
    assert code.group(1) in done.text
    return code.group(1)


def fb_row(demo: Demo, code: str) -> Any:
    from docflow.models import FeedbackItem

    return one(demo, FeedbackItem, FeedbackItem.tracking_code == code)


def test_mailbox_settings_public_form_and_officers_moves(app: Any, demo: Demo) -> None:
    """HELD: «Lưu» of the mailbox settings (feedback/mailbox.html → feedback_mailbox_page →
    MailboxSettings), a citizen's «Gửi ý kiến» with a photo (feedback/public_form.html →
    feedback_public_form → SubmitFeedback), and the officers' forms (feedback/show.html →
    feedback_action_page): classify, assign, extend, answer, close; reject on another."""
    leader = _mailbox(app)
    code = _citizen_sends(
        app,
        "Bãi rác tự phát ở đầu ngõ 12 tổ dân phố số 2 gây ô nhiễm, đề nghị phường xử lý.",
        name="Nguyễn Văn Hùng",
        phone="0912 345 678",
        email="hung.nv@thu.example",
        address="Số 3 ngõ 12, tổ dân phố số 2",
    )
    item = fb_row(demo, code)
    assert (item.place, item.sender_phone, len(item.files)) == ("Tổ dân phố số 2", "0912345678", 1)
    clerk = browser(app, "vanthu.phuong")

    def act(b: Browser, action: str, **fields: str) -> None:
        form = b.open(f"/feedback/{item.id}").form(has=f'name="action" value="{action}"')
        page = b.follow(form.fill(**fields).submit())
        assert "Đã cập nhật phản ánh" in alerts(page), alerts(page)

    act(clerk, "classify", category="Môi trường, vệ sinh", complexity="complex", in_scope="1")
    assert (fb_row(demo, code).state, fb_row(demo, code).complexity) == ("accepted", "complex")
    form = leader.open(f"/feedback/{item.id}").form(has='value="assign"')
    assignee = form.get("user_id")
    leader.follow(form.fill(comment="Giao đồng chí kiểm tra thực tế.").submit())
    assert str(fb_row(demo, code).assignee_id) == assignee
    act(leader, "request_extension", working_days="5", reason="Chờ ý kiến của đơn vị môi trường.")
    act(leader, "answer", text="Phường đã chỉ đạo thu dọn bãi rác ngày 25/11 và lắp biển cấm.")
    assert fb_row(demo, code).state == "answered"
    act(leader, "close")
    assert fb_row(demo, code).state == "closed"
    other = _citizen_sends(app, "Đề nghị kiểm tra tiếng ồn của quán karaoke Hoa Mai về đêm.")
    item = fb_row(demo, other)
    act(clerk, "reject", reason="Nội dung trùng với phản ánh đã giải quyết tuần trước.")
    assert fb_row(demo, other).state == "rejected"


def test_feedback_forwarded_to_an_organisation_and_to_an_outside_body(app: Any, demo: Demo) -> None:
    """HELD: «Chuyển cơ quan có thẩm quyền» (feedback/show.html, forward): to an organisation of
    the tree chosen in the select, and to an outside body typed by name (the select left at
    «— Cơ quan ngoài —»)."""
    leader = _mailbox(app)
    for content, org in (
        ("Đường liên xã qua thôn Đông xuống cấp nghiêm trọng, đề nghị sửa chữa.", "tinh"),
        ("Trạm biến áp ở thôn Đông thường xuyên mất điện vào buổi tối.", None),
    ):
        code = _citizen_sends(app, content)
        item = fb_row(demo, code)
        form = leader.open(f"/feedback/{item.id}").form(has='value="forward"')
        if org:
            form.fill(organization_id=str(demo.org_id(org)))
        else:
            form.fill(agency="Công ty Điện lực tỉnh Demo")
        form.fill(comment="Chuyển để giải quyết theo thẩm quyền.")
        page = leader.follow(form.submit())
        assert "Đã cập nhật phản ánh" in alerts(page), alerts(page)
        assert fb_row(demo, code).state == "forwarded"


def test_paper_letter_registered(app: Any, demo: Demo) -> None:
    """HELD: «Vào sổ» of a paper letter (feedback/paper.html → feedback_paper_page →
    RegisterPaper)."""
    from docflow.models import FeedbackItem

    _mailbox(app)
    clerk = browser(app, "vanthu.phuong")
    form = clerk.open("/feedback/new").form(has='name="content"')
    form.fill(
        category="Đất đai, xây dựng",
        place="Thôn Đông",
        content="Hộ ông Trần Văn Tư xây tường lấn sang lối đi chung của xóm.",
        name="Lê Thị Hồng",
        phone="0987 654 321",
        address="Thôn Đông",
    )
    page = clerk.follow(form.submit())
    assert "Đã vào sổ thư giấy" in alerts(page)
    item = one(demo, FeedbackItem, FeedbackItem.channel == "paper")
    assert (item.category, item.place, item.sender_name, item.sender_phone) == (
        "Đất đai, xây dựng",
        "Thôn Đông",
        "Lê Thị Hồng",
        "0987654321",
    )


def test_paper_letter_with_a_wrong_phone_keeps_what_was_typed(app: Any, demo: Demo) -> None:
    """FINDING (medium): on «Vào sổ thư góp ý giấy», a wrong phone number («091 234», one
    digit group missing) re-shows the form with the error, but the sender's name, address, the
    chosen category and village are gone (feedback/paper.html renders those inputs without
    their submitted values; only «Nội dung» is kept): the officer types the letter's details
    again."""
    _mailbox(app)
    clerk = browser(app, "vanthu.phuong")
    form = clerk.open("/feedback/new").form(has='name="content"')
    form.fill(
        category="Đất đai, xây dựng",
        place="Thôn Đông",
        content="Hộ ông Trần Văn Tư xây tường lấn sang lối đi chung của xóm.",
        name="Lê Thị Hồng",
        phone="091 234",
        address="Thôn Đông",
    )
    r = form.submit()
    assert r.status_code in (200, 422)
    again = Page(clerk, "/feedback/new", r).form(has='name="content"')
    assert "Số điện thoại không hợp lệ" in field_errors(r.get_data(as_text=True))
    kept = {k: again.get(k) for k in ("category", "place", "name", "phone", "address")}
    assert kept == {
        "category": "Đất đai, xây dựng",
        "place": "Thôn Đông",
        "name": "Lê Thị Hồng",
        "phone": "091 234",
        "address": "Thôn Đông",
    }, f"what the page shows again: {kept}"


def test_mailbox_settings_refused_value_is_explained(app: Any, demo: Demo) -> None:
    """FINDING (low): saving the mailbox settings with a village name longer than 150
    characters (a whole address pasted into «Thôn, tổ dân phố») saves nothing and shows
    nothing: no message, no marked field, and the textarea is back to the saved list
    (feedback/mailbox.html shows errors of «categories» only, and renders the stored settings,
    not what was typed; the answer is 200)."""
    leader = _mailbox(app)
    long_place = "Tổ dân phố số 3, " + "khu tái định cư phía Bắc đường vành đai " * 4
    assert len(long_place) > 150
    form = leader.open("/feedback/mailbox").form(has='name="categories"')
    r = form.fill(places=f"Tổ dân phố số 1\n{long_place}").submit()
    text = r.get_data(as_text=True)
    assert alerts(text) or field_errors(text), f"no message at all (answered {r.status_code})"
    assert long_place.strip() in text, "what was typed is lost"
    assert r.status_code == 422, r.status_code


# ============================================================================ verify


def test_verify_a_pdf(app: Any, demo: Demo) -> None:
    """HELD: «Kiểm tra» (verify.html → verify_page): an unsigned PDF is reported as having no
    signature, in Vietnamese."""
    b = Browser(app)
    form = b.open("/verify").form(has='name="file"')
    r = form.attach("file", pdf_bytes("Khong ky"), "cong-van.pdf", "application/pdf").submit()
    text = r.get_data(as_text=True)
    assert r.status_code in (200, 422)
    assert "Tệp không có chữ ký số nào" in text or "chữ ký" in alerts(text), alerts(text)


# ============================================================================ outgoing documents


def _draft(b: Browser, demo: Demo, subject: str, **fields: Any) -> Any:
    from docflow.models import Document

    form = b.open("/outgoing/new").form(has='name="subject"')
    assert form.get("mode") == "template" and form.get("authority") == "Ban Thường trực"
    form.fill(
        doc_type="KH",
        urgency="normal",
        subject=subject,
        body=BODY,
        signer_user_id=str(user(demo, "lanhdao.tw").id),
        competence="TM.",
        place="Hà Nội",
        due_date="2026-12-15",
    )
    form.check("recipient_org", str(demo.org_id("tinh")))
    form.check("recipient_org", str(demo.org_id("phuong")))
    form.fill(**fields)
    page = b.follow(form.submit("Tạo dự thảo"))
    assert "Đã tạo dự thảo" in alerts(page), alerts(page)
    return one(demo, Document, Document.subject == subject)


def out_act(b: Browser, doc_id: Any, action: str, url: str | None = None, **fields: str) -> Page:
    page = b.open(url or f"/outgoing/{doc_id}")
    form = page.form(action=f"/outgoing/{doc_id}/act", has=f'name="action" value="{action}"')
    page = b.follow(form.fill(**fields).submit())
    assert "Đã thực hiện" in alerts(page), alerts(page)
    return page


def test_outgoing_document_from_draft_to_recall(app: Any, demo: Demo) -> None:
    """HELD: «Soạn văn bản đi» in the template mode (outgoing/new.html → outgoing_new →
    TemplateDraft), «Trình», «Yêu cầu chỉnh sửa», «Lưu bản mới» (outgoing_template_version),
    «Gửi góp ý», the leader's «Ký số» (outgoing/sign.html, hidden «back»), the clerk's «Cấp số
    và ký phát hành» (outgoing/issue.html, hidden register_id) and «Phát hành», the receiving
    clerks' «Vào sổ» and «Từ chối tiếp nhận» (documents/_actions.html), «Thu hồi»
    (outgoing/deliveries.html), and the receiving clerk's «Đồng ý thu hồi» of the registered
    copy."""
    from docflow.models import Delivery

    spec = browser(app, "chuyenvien.dcgs")
    subject = "Kế hoạch giám sát việc thực hiện chính sách an sinh xã hội năm 2026"
    doc = _draft(spec, demo, subject)
    assert (doc.state, doc.signer_user_id, doc.doc_type) == (
        "draft",
        user(demo, "lanhdao.tw").id,
        "KH",
    )
    with demo.factory() as s:
        planned = s.scalars(select(Delivery).where(Delivery.document_id == doc.id)).all()
    assert {d.recipient_organization_id for d in planned} == {
        demo.org_id("tinh"),
        demo.org_id("phuong"),
    }
    head, leader = browser(app, "truongban.dcgs"), browser(app, "lanhdao.tw")
    out_act(spec, doc.id, "submit_for_review", to_user_id=str(user(demo, "truongban.dcgs").id))
    out_act(head, doc.id, "request_changes", comment="Bổ sung thời gian giám sát cụ thể.")
    assert doc_row(demo, doc.id).state == "changes_requested"
    form = spec.open(f"/outgoing/{doc.id}").form(action=f"/outgoing/{doc.id}/versions/template")
    form.fill(body=BODY + "\nThời gian giám sát: từ ngày 01/12 đến ngày 15/12/2026.")
    page = spec.follow(form.fill(note="Đã bổ sung thời gian giám sát").submit())
    assert "Đã lưu bản dự thảo 2" in alerts(page), alerts(page)
    out_act(spec, doc.id, "submit_for_review", to_user_id=str(user(demo, "truongban.dcgs").id))
    out_act(head, doc.id, "comment", comment="Nội dung đã đạt, trình lãnh đạo ký.")
    assert doc_row(demo, doc.id).state == "in_review"
    # The unit head passes it on to the signer.
    out_act(head, doc.id, "submit_for_review", to_user_id=str(user(demo, "lanhdao.tw").id))
    out_act(leader, doc.id, "sign", url=f"/outgoing/{doc.id}/sign", comment="Đồng ý ban hành.")
    assert doc_row(demo, doc.id).state == "signed"
    clerk = browser(app, "vanthu.tw")
    page = out_act(clerk, doc.id, "issue", url=f"/outgoing/{doc.id}/issue")
    assert doc_row(demo, doc.id).state == "issued" and doc_row(demo, doc.id).register_number
    out_act(clerk, doc.id, "dispatch", url=f"/outgoing/{doc.id}/issue")
    assert doc_row(demo, doc.id).state == "dispatched"
    # The receivers: the province registers it, the ward refuses it.
    with demo.factory() as s:
        copies = {
            d.recipient_organization_id: d.recipient_document_id
            for d in s.scalars(select(Delivery).where(Delivery.document_id == doc.id))
        }
    tinh = browser(app, "vanthu.tinh")
    copy = copies[demo.org_id("tinh")]
    form = tinh.open(f"/documents/{copy}").form(has='value="register"')
    assert "Đã thực hiện: Vào sổ" in alerts(tinh.follow(form.submit()))
    assert doc_row(demo, copy).state == "registered"
    phuong = browser(app, "vanthu.phuong")
    ward_copy = copies[demo.org_id("phuong")]
    form = phuong.open(f"/documents/{ward_copy}").form(has='value="reject"')
    phuong.follow(form.fill(reason="Văn bản không thuộc phạm vi của phường.").submit())
    assert doc_row(demo, ward_copy).state == "rejected"
    out_act(
        clerk,
        doc.id,
        "recall",
        url=f"/outgoing/{doc.id}/deliveries",
        reason="Văn bản có sai sót về thời gian, sẽ ban hành văn bản thay thế.",
    )
    # The registered copy waits for its clerk (DOMAIN.md §5: each recipient answers), who
    # agrees with «Đồng ý thu hồi» on the document's page.
    assert doc_row(demo, copy).state == "registered"
    form = tinh.open(f"/documents/{copy}").form(has='value="accept_recall"')
    tinh.follow(form.submit())
    assert doc_row(demo, copy).state == "recalled"


def test_outgoing_uploaded_draft_new_version_approve_and_bulk_sign(app: Any, demo: Demo) -> None:
    """HELD: «Soạn văn bản đi» in the upload mode with a DOCX (outgoing/new.html, mode=upload →
    DraftMeta + the file), «Tải lên» of a new version (outgoing/_actions.html →
    outgoing_upload_version), the leader's «Duyệt» (outgoing/sign.html, approve) and «Ký các văn
    bản đã chọn» (outgoing/bulk_sign.html → outgoing_bulk_sign_post → BulkSign)."""
    from docflow.models import Document

    spec = browser(app, "chuyenvien.dcgs")
    form = spec.open("/outgoing/new").form(has='name="subject"')
    subject = "Báo cáo kết quả giám sát tháng 11 năm 2026"
    form.fill(mode="upload", doc_type="BC", subject=subject)
    form.fill(signer_user_id=str(user(demo, "lanhdao.tw").id))
    form.check("recipient_org", str(demo.org_id("tinh")))
    form.attach(
        "files",
        docx_bytes(["BÁO CÁO", "Kết quả giám sát tháng 11 năm 2026.", "Nơi nhận: như trên."]),
        "bao-cao-giam-sat.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    page = spec.follow(form.submit("Tạo dự thảo"))
    assert "Đã tạo dự thảo" in alerts(page), alerts(page)
    doc = one(demo, Document, Document.subject == subject)
    form = spec.open(f"/outgoing/{doc.id}").form(action=f"/outgoing/{doc.id}/versions")
    form.attach("files", pdf_bytes("Bao cao v2"), "bao-cao-giam-sat-v2.pdf", "application/pdf")
    page = spec.follow(form.fill(note="Sửa số liệu mục II").submit())
    assert "Đã lưu bản dự thảo 2" in alerts(page), alerts(page)
    out_act(spec, doc.id, "submit_for_review", to_user_id=str(user(demo, "lanhdao.tw").id))
    leader = browser(app, "lanhdao.tw")
    out_act(leader, doc.id, "approve", url=f"/outgoing/{doc.id}/sign", comment="Nội dung đạt.")
    assert doc_row(demo, doc.id).state == "approved"
    page = leader.open("/outgoing/ky-nhieu")
    form = page.form(action="/outgoing/ky-nhieu")
    form.check("document_id", str(doc.id)).fill(comment="Ký ban hành.")
    r = form.submit()
    assert r.status_code == 200, alerts(r.get_data(as_text=True))
    assert doc_row(demo, doc.id).state == "signed"


# ============================================================================ reports


def test_report_filled_approved_submitted_and_corrected(app: Any, demo: Demo, api: Any) -> None:
    """HELD: a report request's forms (reports/request.html → report_request_page): «Lưu, trình
    ký duyệt» (the typed values, a text field), the leader's «Ký duyệt», «Gửi báo cáo» and
    «Đính chính» with a reason."""
    from tests.reports.test_periodic import FORM

    r = app.test_client().post("/api/v1/report-forms", json=FORM, headers=api("lanhdao.tw"))
    assert r.status_code == 201, r.get_json()
    clerk, leader = browser(app, "vanthu.tinh"), browser(app, "lanhdao.tinh")
    box = clerk.open("/bao-cao").text
    found = re.search(r"/bao-cao/yeu-cau/([0-9a-f-]{36})", box)
    assert found
    url = f"/bao-cao/yeu-cau/{found.group(1)}"
    form = clerk.open(url).form(has='value="fill"')
    form.fill(v_trained="45", v_notes="Một số xã chưa có đường truyền ổn định.")
    page = clerk.follow(form.submit())
    assert "Đã lưu báo cáo" in alerts(page), alerts(page)
    form = page.form(has='value="fill"')
    assert (form.get("v_trained"), form.get("v_notes")) == (
        "45",
        "Một số xã chưa có đường truyền ổn định.",
    )
    page = leader.follow(leader.open(url).form(has='value="approve"').submit())
    assert "Đã ký duyệt báo cáo" in alerts(page), alerts(page)
    page = clerk.follow(clerk.open(url).form(has='value="submit"').submit())
    assert "Đã gửi báo cáo" in alerts(page), alerts(page)
    form = clerk.open(url).form(has='value="correct"')
    page = clerk.follow(form.fill(reason="Sửa số người được tập huấn.").submit())
    assert "Đã mở đính chính" in alerts(page), alerts(page)


def test_disposal_proposed_by_the_archive_and_approved(app: Any, demo: Demo) -> None:
    """HELD: «Đề xuất tiêu hủy» (dossiers/disposals.html → disposal_propose → ProposeDisposal)
    of an archived dossier past its retention, and the leader's «Phê duyệt tiêu hủy» (the
    button's action=approve → disposal_act)."""
    from docflow.models import Disposal, Document, Dossier

    clerk, archivist = browser(app, "vanthu.tw"), browser(app, "luutru.tw")
    leader = browser(app, "lanhdao.tw")
    clerk.follow(register_incoming(clerk, "9/MTTQ-VP"))
    doc = one(demo, Document, Document.notation == "9/MTTQ-VP")
    dossier = _open_dossier(clerk, "09/HS-VP", "Hồ sơ giấy mời hội nghị năm 2026")
    form = clerk.open(f"/dossiers/{dossier.id}").form(action=f"/dossiers/{dossier.id}/file")
    clerk.follow(form.check("document_ids", str(doc.id)).submit())
    for b, action in ((clerk, "close"), (clerk, "transfer"), (archivist, "accept")):
        form = b.open(f"/dossiers/{dossier.id}").form(has=f'name="action" value="{action}"')
        b.follow(form.submit())
    assert one(demo, Dossier, Dossier.id == dossier.id).state == "archived"
    demo.clock.advance(days=366 * 11)
    archivist, leader = browser(app, "luutru.tw"), browser(app, "lanhdao.tw")  # years later
    form = archivist.open("/disposals").form(action="/disposals")
    form.check("dossier_ids", str(dossier.id))
    form.fill(reason="Hết thời hạn bảo quản 10 năm, không còn giá trị tham khảo.")
    page = archivist.follow(form.submit())
    assert "Đã gửi đề xuất tiêu hủy" in alerts(page), alerts(page)
    proposal = one(demo, Disposal, Disposal.organization_id == demo.org_id("tw"))
    form = leader.open("/disposals").form(action=f"/disposals/{proposal.id}/act")
    page = leader.follow(form.fill(comment="Đồng ý tiêu hủy.").submit("Phê duyệt tiêu hủy"))
    assert "Đề xuất tiêu hủy" in alerts(page), alerts(page)
    assert one(demo, Dossier, Dossier.id == dossier.id).state == "disposed"


def test_axis_delivery_retried_and_cancelled(app: Any, demo: Demo, client: Any, api: Any) -> None:
    """HELD: «Gửi lại» on the exchange page (admin/exchange.html, hidden «back» →
    outgoing_delivery_act) and «Hủy gửi» on the document's deliveries page
    (outgoing/deliveries.html) for a delivery to a body outside, through the national axis
    (not configured here: it waits)."""
    from docflow.models import Delivery
    from tests.outgoing.conftest import Outgoing

    flow = Outgoing(client, api, demo)
    doc = flow.to_dispatched(
        recipients=[
            {"code": "000.00.02.H01", "name": "Văn phòng Chính phủ"},
            {"code": "000.00.03.H01", "name": "Bộ Nội vụ"},
        ]
    )
    clerk = browser(app, "vanthu.tw")
    with demo.factory() as s:
        rows = s.scalars(
            select(Delivery)
            .where(Delivery.document_id == uuid.UUID(doc))
            .order_by(Delivery.position)
        ).all()
    first, second = rows[0], rows[1]
    with demo.factory() as s:  # the axis refused the first one (as the sender job records it)
        row = s.get_one(Delivery, first.id)
        row.state, row.last_error = "failed", "Trục liên thông từ chối: mã cơ quan không có."
        s.commit()
    page = clerk.open("/admin/exchange")
    assert page.has_form(action=f"/deliveries/{first.id}/act"), alerts(page)
    form = page.form(action=f"/deliveries/{first.id}/act", has='value="retry"')
    r = form.submit()
    assert r.headers["Location"].endswith("/admin/exchange")
    assert "Đã thực hiện" in alerts(clerk.follow(r))
    assert one(demo, Delivery, Delivery.id == first.id).state == "queued"
    page = clerk.open(f"/outgoing/{doc}/deliveries")
    form = page.form(action=f"/deliveries/{second.id}/act", has='value="cancel"')
    assert "Đã thực hiện" in alerts(clerk.follow(form.submit()))
    assert one(demo, Delivery, Delivery.id == second.id).state == "cancelled"
