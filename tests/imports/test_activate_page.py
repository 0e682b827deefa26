"""The activation page: a link's code and a chosen password activate once; then the person
signs in; the same link again is refused."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook

from docflow import imports


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m
    return m.group(1)


def test_activation_page(client: Any, demo: Any) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "users"
    ws.append(["Tên đăng nhập", "Họ và tên", "Mã tổ chức"])
    ws.append(["moi.kich.hoat", "Người Mới", "000.00.01.Z01"])
    buf = io.BytesIO()
    wb.save(buf)
    result = imports.import_directory(
        demo.uow(), demo.actor("admin"), imports.read_directory(buf.getvalue())
    )
    code = result.activations[0].code
    # No password signs the new person in before activation.
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": "moi.kich.hoat", "password": "", "csrf_token": _token(page.text)},
    )
    assert r.status_code == 401
    page = client.get(f"/activate?u=moi.kich.hoat&code={code}")
    assert page.status_code == 200 and code in page.text and "Kích hoạt tài khoản" in page.text
    form = {
        "username": "moi.kich.hoat",
        "code": code,
        "password": "mat-khau-cua-toi-1",
        "password2": "khac-hoan-toan-1",
        "csrf_token": _token(page.text),
    }
    r = client.post("/activate", data=form)
    assert r.status_code == 422 and "không khớp" in r.text
    form["password2"] = form["password"]
    r = client.post("/activate", data=form)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    r = client.post("/activate", data=form)  # single use
    assert r.status_code == 422 and "đã dùng" in r.text
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "moi.kich.hoat",
            "password": "mat-khau-cua-toi-1",
            "csrf_token": _token(page.text),
        },
    )
    assert r.status_code == 302
