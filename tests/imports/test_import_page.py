"""The admin's import page: upload → preview → confirm, through the checked upload path."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from docflow.models import User
from tests.app.test_pages import csrf_of, login


def _book(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "users"
    ws.append(["username", "full_name", "organization_code", "email"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _users(demo: Any) -> int:
    with demo.factory() as s:
        return s.scalar(select(func.count()).select_from(User)) or 0


def test_upload_preview_confirm(client: Any, demo: Any) -> None:
    assert login(client, "admin").status_code == 302
    page = client.get("/admin/import")
    assert page.status_code == 200 and "Tải tệp mẫu" in page.text
    tpl = client.get("/admin/import/template.xlsx")
    assert tpl.status_code == 200 and "users" in load_workbook(io.BytesIO(tpl.data)).sheetnames
    csrf = csrf_of(page.text)
    before = _users(demo)
    # A file with errors: every problem listed, nothing written, no confirm button.
    bad = _book([["p.one", "Một", "000.00.01.Z01", "sai"], ["p.two", "Hai", "123", None]])
    r = client.post(
        "/admin/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(bad), "bad.xlsx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "Tệp có 2 lỗi" in r.text and 'name="token"' not in r.text
    assert _users(demo) == before
    # Not a workbook: the upload checks refuse it.
    r = client.post(
        "/admin/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(b"%PDF-1.4\n%%EOF"), "x.xlsx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and _users(demo) == before
    good = _book([["p.one", "Một", "000.00.01.Z01", "mot@thu.example"]])
    r = client.post(
        "/admin/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(good), "good.xlsx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and "Xác nhận nhập" in r.text
    token = re.search(r'name="token" value="([^"]+)"', r.text)
    assert token and _users(demo) == before  # the preview wrote nothing
    demo.add_admin("admin2", org="tw")
    before = _users(demo)
    thief = client.application.test_client()
    assert login(thief, "admin2").status_code == 302
    csrf2 = csrf_of(thief.get("/admin/import").text)
    stolen = thief.post("/admin/import", data={"csrf_token": csrf2, "token": token.group(1)})
    assert stolen.status_code == 302 and _users(demo) == before  # bound to the previewing admin
    done = client.post("/admin/import", data={"csrf_token": csrf, "token": token.group(1)})
    assert done.status_code == 200
    codes = load_workbook(io.BytesIO(done.data)).active
    assert codes["A2"].value == "p.one" and codes["D2"].value
    assert _users(demo) == before + 1
    again = client.post("/admin/import", data={"csrf_token": csrf, "token": token.group(1)})
    assert again.status_code == 302 and _users(demo) == before + 1
    forged = client.post("/admin/import", data={"csrf_token": csrf, "token": "x" + token.group(1)})
    assert forged.status_code == 302 and _users(demo) == before + 1


def test_not_for_non_admins(client: Any, demo: Any) -> None:
    assert login(client, "vanthu.tw").status_code == 302
    assert client.get("/admin/import").status_code == 403
    assert client.get("/admin/import/template.xlsx").status_code == 403
