"""The directory as three CSV files, written here by hand (not by our exporter): UTF-8 with and
without a BOM, English or Vietnamese headers, commas or semicolons; the same checks, messages
(file, row, column) and idempotence as the workbook, on the CLI's reader and the admin page."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from docflow import imports
from docflow.models import AuditEntry, Organization, Unit, User
from tests.app.test_pages import csrf_of, login
from tests.imports.test_directory_import import counts

# Vietnamese headers, a BOM (as Excel's "CSV UTF-8" writes it), commas.
ORGS = (
    "\ufeffMã định danh,Mã tổ chức cấp trên,Cấp,Tên tổ chức,Tên viết tắt,Địa chỉ,Thư điện tử,"
    "Điện thoại\n"
    '000.01.02.Z01,000.00.01.Z01,commune,"Ủy ban MTTQ xã Thử, Một",MTTQ,Xã Thử,'
    "xa1@thu.example,0243 111 2222\n"
    "000.01.03.Z01,000.00.01.Z01,Xã,Ủy ban MTTQ xã Thử Hai,MTTQ,,,\n"
)
# English headers, no BOM, semicolons (a spreadsheet set to Vietnamese), a parent unit.
UNITS = (
    "organization_code;abbreviation;name;parent unit\n"
    "000.01.02.Z01;BTT;Ban Thường trực;\n"
    "000.01.02.Z01;VP;Văn phòng;BTT\n"
    "000.01.03.Z01;BTT;Ban Thường trực;\n"
)
USERS = (
    "username,full_name,organization_code,unit_abbreviation,position,roles,clearance,email,"
    "phone,active\n"
    "nguoi.mot,Người Một,000.01.02.Z01,VP,Chuyên viên,specialist;clerk,none,mot@thu.example,"
    "0912345678,có\n"
    "nguoi.hai,Người Hai,000.01.03.Z01,BTT,Chủ tịch,Lãnh đạo,Thường,,,\n"
    "\n"
    "NGUOI.BA,Người Ba,000.00.01.Z01,,,specialist,,,+84 912 000 111,không\n"
)


def write(folder: Path, orgs: str = ORGS, units: str = UNITS, users: str = USERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "organizations.csv").write_text(orgs, encoding="utf-8")
    (folder / "units.csv").write_text(units, encoding="utf-8")
    (folder / "users.csv").write_text(users, encoding="utf-8")
    return folder


def run(demo: Any, folder: Path) -> imports.ImportResult:
    return imports.import_directory(
        demo.uow(), demo.actor("admin"), imports.open_directory(folder), source="csv"
    )


def test_three_csv_files_import_and_again_change_nothing(demo: Any, tmp_path: Path) -> None:
    folder = write(tmp_path / "csv")
    rows = imports.open_directory(folder)
    assert rows.problems == [] and rows.files == {
        "organizations": "organizations.csv",
        "units": "units.csv",
        "users": "users.csv",
    }
    plan = imports.plan_directory_import(demo.uow(), demo.actor("admin"), rows)
    assert plan.ok, [p.describe() for p in plan.problems]
    before = counts(demo)
    result = run(demo, folder)
    assert result.counts["organizations_created"] == 2
    assert result.counts["units_created"] == 3
    assert result.counts["users_created"] == 3
    with demo.factory() as s:
        ward = s.scalars(select(Organization).where(Organization.code == "000.01.02.Z01")).one()
        assert ward.name == "Ủy ban MTTQ xã Thử, Một" and ward.phone == "0243 111 2222"
        vp = s.scalars(
            select(Unit).where(Unit.organization_id == ward.id, Unit.abbreviation == "VP")
        ).one()
        assert vp.parent_id is not None
        mot = s.scalars(select(User).where(User.username == "nguoi.mot")).one()
        assert mot.unit_id == vp.id and mot.roles == {"specialist", "clerk"}
        ba = s.scalars(select(User).where(User.username == "nguoi.ba")).one()
        assert ba.active is False and ba.phone == "+84 912 000 111"
    after = counts(demo)
    assert after["User"] == before["User"] + 3
    # The same files again: nothing changes, not even the audit log.
    again = run(demo, folder)
    assert not any(again.counts.values()) and again.activations == []
    assert counts(demo) == after
    # A changed row in users.csv: one update.
    write(folder, users=USERS.replace("Người Hai", "Người Hai Đổi Tên"))
    changed = run(demo, folder)
    assert changed.counts["users_updated"] == 1 and sum(changed.counts.values()) == 1
    assert counts(demo)["AuditEntry"] == after["AuditEntry"] + 1


def test_errors_in_each_file_name_the_file_row_and_column(demo: Any, tmp_path: Path) -> None:
    orgs = ORGS.replace("000.01.03.Z01,000.00.01.Z01,Xã", "000.01.03,000.00.01.Z01,Xã")
    units = UNITS.replace("000.01.02.Z01;VP;Văn phòng;BTT", "000.09.09.Z01;VP;Văn phòng;")
    users = USERS.replace("mot@thu.example", "mot-at-thu").replace("Lãnh đạo", "Thủ quỹ")
    folder = write(tmp_path / "bad", orgs, units, users)
    before = counts(demo)
    try:
        run(demo, folder)
    except imports.ImportInvalidError as exc:
        problems = exc.problems
    else:
        raise AssertionError("a file with errors was imported")
    assert counts(demo) == before  # nothing written
    where = {(p.file, p.row, p.column) for p in problems}
    assert ("organizations.csv", 3, "code") in where
    assert ("units.csv", 3, "organization_code") in where
    assert ("users.csv", 2, "email") in where
    assert ("users.csv", 3, "roles") in where
    text = [p.describe() for p in problems]
    assert any(t.startswith("Tệp «users.csv», dòng 2, cột «Thư điện tử» (email)") for t in text)
    assert any("Tệp «organizations.csv», dòng 3, cột «Mã định danh»" in t for t in text)
    # The people who would be in the commune with the wrong code are refused too.
    assert ("users.csv", 3, "organization_code") in where


def test_shape_problems_of_csv_files(demo: Any, tmp_path: Path) -> None:
    folder = tmp_path / "shape"
    folder.mkdir()
    (folder / "users.csv").write_bytes("username,full_name\nb.one,Bé Một\n".encode())
    rows = imports.open_directory(folder)
    assert [(p.file, p.row, p.column) for p in rows.problems] == [
        ("users.csv", 1, "organization_code")
    ]
    # Not UTF-8 (a legacy Vietnamese code page): refused before anything is checked.
    (folder / "users.csv").write_bytes(
        "username,full_name,organization_code\nb.one,Bé Na,000.00.01.Z01\n".encode("cp1258")
    )
    rows = imports.open_directory(folder)
    assert len(rows.problems) == 1 and "UTF-8" in rows.problems[0].describe()
    assert rows.problems[0].describe().startswith("Tệp «users.csv»")
    # A file whose name is none of the three.
    other = imports.CsvRows([("nguoi.csv", b"username\n")])
    assert "organizations.csv, units.csv hoặc users.csv" in other.problems[0].describe()


def test_the_admin_page_takes_the_three_files_in_one_upload(client: Any, demo: Any) -> None:
    assert login(client, "admin").status_code == 302
    page = client.get("/admin/import")
    assert 'accept=".xlsx,.csv" multiple' in page.text
    csrf = csrf_of(page.text)
    before = counts(demo)
    bad = USERS.replace("mot@thu.example", "mot-at-thu")
    r = client.post(
        "/admin/import",
        data={
            "csrf_token": csrf,
            "file": [
                (io.BytesIO(ORGS.encode()), "organizations.csv"),
                (io.BytesIO(UNITS.encode()), "units.csv"),
                (io.BytesIO(bad.encode()), "users.csv"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "Tệp có 1 lỗi" in r.text and "users.csv" in r.text
    assert 'name="token"' not in r.text and counts(demo) == before
    r = client.post(
        "/admin/import",
        data={
            "csrf_token": csrf,
            "file": [
                (io.BytesIO(ORGS.encode()), "organizations.csv"),
                (io.BytesIO(UNITS.encode()), "units.csv"),
                (io.BytesIO(USERS.encode()), "users.csv"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and "Xác nhận nhập" in r.text, r.text
    token = re.search(r'name="token" value="([^"]+)"', r.text)
    assert token and counts(demo) == before  # the preview wrote nothing
    done = client.post("/admin/import", data={"csrf_token": csrf, "token": token.group(1)})
    assert done.status_code == 200
    sheet = load_workbook(io.BytesIO(done.data)).active
    assert sorted(sheet.cell(i, 1).value for i in range(2, 5)) == [
        "nguoi.ba",
        "nguoi.hai",
        "nguoi.mot",
    ]
    after = counts(demo)
    assert (
        after["User"] == before["User"] + 3 and after["Organization"] == before["Organization"] + 2
    )
    with demo.factory() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.event == "directory_imported").limit(1)
        ).one()
        assert "organizations.csv" in entry.details["source"]
    # A workbook and CSV files together: refused, nothing written.
    r = client.post(
        "/admin/import",
        data={
            "csrf_token": csrf,
            "file": [
                (io.BytesIO(USERS.encode()), "users.csv"),
                (io.BytesIO(b"PK\x03\x04"), "danh-muc.xlsx"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and counts(demo) == after
