"""Directory import against PostgreSQL, with workbooks written here by openpyxl (not by the
template writer under test)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from docflow import audit, imports
from docflow.errors import PermissionDeniedError, ValidationError
from docflow.models import (
    AuditEntry,
    Organization,
    PrivilegeRequest,
    Unit,
    User,
    UserActivation,
)

ORG_H = [
    "Mã định danh",
    "Mã tổ chức cấp trên",
    "Cấp",
    "Tên tổ chức",
    "Tên viết tắt",
    "Địa chỉ",
    "Thư điện tử",
    "Điện thoại",
]
UNIT_H = ["organization_code", "abbreviation", "name", "parent unit"]
USER_H = [
    "username",
    "full_name",
    "organization_code",
    "unit_abbreviation",
    "position",
    "roles",
    "clearance",
    "email",
    "phone",
    "active",
]

PROVINCE = "000.00.01.Z01"  # demo province
WARD = "000.01.01.Z01"


def book(orgs: list[list[Any]], units: list[list[Any]], users: list[list[Any]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, headers, rows in (
        ("organizations", ORG_H, orgs),
        ("units", UNIT_H, units),
        ("users", USER_H, users),
    ):
        ws = wb.create_sheet(title)
        ws.append(headers)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def valid_rows() -> tuple[list[list[Any]], list[list[Any]], list[list[Any]]]:
    orgs = [
        [
            "000.01.02.Z01",
            PROVINCE,
            "commune",
            "Ủy ban MTTQ xã Thử Một",
            "MTTQ",
            "Xã Thử",
            "xa1@thu.example",
            "0243 111 2222",
        ],
        [
            "000.01.03.Z01",
            PROVINCE,
            "Xã, phường, đặc khu",
            "Ủy ban MTTQ xã Thử Hai",
            "MTTQ",
            None,
            None,
            None,
        ],
    ]
    units = [
        ["000.01.02.Z01", "BTT", "Ban Thường trực", None],
        ["000.01.02.Z01", "VP", "Văn phòng", "BTT"],
        ["000.01.03.Z01", "BTT", "Ban Thường trực", None],
    ]
    users = [
        [
            "nguoi.mot",
            "Người Một",
            "000.01.02.Z01",
            "VP",
            "Chuyên viên",
            "specialist;clerk",
            "none",
            "mot@thu.example",
            "0912345678",
            "có",
        ],
        [
            "nguoi.hai",
            "Người Hai",
            "000.01.03.Z01",
            "BTT",
            "Chủ tịch",
            "Lãnh đạo",
            "Thường",
            None,
            None,
            None,
        ],
        [
            "NGUOI.BA",
            "Người Ba",
            PROVINCE,
            None,
            None,
            "specialist",
            None,
            None,
            "+84 912 000 111",
            "không",
        ],
    ]
    return orgs, units, users


def counts(demo: Any) -> dict[str, int]:
    with demo.factory() as s:
        return {
            m.__name__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Organization, Unit, User, UserActivation, PrivilegeRequest, AuditEntry)
        }


def run(demo: Any, data: bytes, as_user: str = "admin") -> imports.ImportResult:
    return imports.import_directory(
        demo.uow(), demo.actor(as_user), imports.read_directory(data), source="t.xlsx"
    )


def test_valid_import_creates_everything_and_reimport_changes_nothing(demo: Any) -> None:
    data = book(*valid_rows())
    plan = imports.plan_directory_import(
        demo.uow(), demo.actor("admin"), imports.read_directory(data)
    )
    assert (
        plan.ok and plan.counts["organizations_created"] == 2 and plan.counts["users_created"] == 3
    )
    before = counts(demo)
    assert counts(demo) == before  # the dry run wrote nothing
    result = run(demo, data)
    assert result.counts["organizations_created"] == 2
    assert result.counts["units_created"] == 3
    assert result.counts["users_created"] == 3
    assert len(result.activations) == 3
    with demo.factory() as s:
        ward = s.scalars(select(Organization).where(Organization.code == "000.01.02.Z01")).one()
        prov = s.scalars(select(Organization).where(Organization.code == PROVINCE)).one()
        assert ward.path == f"{prov.path}{ward.id}/" and ward.level == "commune"
        vp = s.scalars(
            select(Unit).where(Unit.organization_id == ward.id, Unit.abbreviation == "VP")
        ).one()
        btt = s.scalars(
            select(Unit).where(Unit.organization_id == ward.id, Unit.abbreviation == "BTT")
        ).one()
        assert vp.parent_id == btt.id
        mot = s.scalars(select(User).where(User.username == "nguoi.mot")).one()
        assert mot.unit_id == vp.id and {r.role for r in mot.role_rows} == {"specialist", "clerk"}
        assert mot.password_hash == imports.UNUSABLE_PASSWORD
        ba = s.scalars(select(User).where(User.username == "nguoi.ba")).one()
        assert ba.active is False
        touched = s.scalars(
            select(AuditEntry.object_id).where(AuditEntry.event == "directory_imported")
        ).all()
        # Two new communes and the province (a user added): one entry per organisation and
        # batch of people written (one batch here; several when the batch is one person).
        assert len(set(touched)) == 3
    after = counts(demo)
    # The same file again: nothing changes, not even the audit log.
    again = run(demo, data)
    assert counts(demo) == after
    assert again.activations == [] and not any(again.counts.values())


def test_changed_row_updates_that_record_only(demo: Any) -> None:
    orgs, units, users = valid_rows()
    run(demo, book(orgs, units, users))
    before = counts(demo)
    users[0][1] = "Người Một Đổi Tên"
    users[0][5] = "specialist"  # clerk dropped
    result = run(demo, book(orgs, units, users))
    assert result.counts["users_updated"] == 1
    assert sum(result.counts.values()) == 1
    after = counts(demo)
    assert after["AuditEntry"] == before["AuditEntry"] + 1
    assert {k: v for k, v in after.items() if k != "AuditEntry"} == {
        k: v for k, v in before.items() if k != "AuditEntry"
    }
    audit.chain_all_pending(demo.uow())  # the changes' entries take their places in the chain
    with demo.factory() as s:
        mot = s.scalars(select(User).where(User.username == "nguoi.mot")).one()
        assert mot.full_name == "Người Một Đổi Tên" and mot.roles == {"specialist"}
        entry = s.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.event == "directory_imported",
                AuditEntry.object_id == str(mot.organization_id),
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.seq.desc())
        ).first()
        assert entry is not None and entry.details["users_updated"] == ["nguoi.mot"]
        assert entry.actor_name and entry.actor_id == demo.user("admin").id


def test_every_kind_of_error_is_reported_with_its_place_and_nothing_is_written(demo: Any) -> None:
    orgs = [
        [
            "000.01.02.Z01",
            PROVINCE,
            "commune",
            "Xã A",
            "MTTQ",
            None,
            "khong-phai-thu",
            "12",
        ],  # email, phone
        ["12.34", PROVINCE, "commune", "Xã B", "MTTQ", None, None, None],  # code format
        [
            "000.01.04.Z01",
            "000.09.09.Z09",
            "commune",
            "Xã C",
            "MTTQ",
            None,
            None,
            None,
        ],  # parent missing
        ["000.02.01.Z01", "000.02.02.Z01", "village", "Thôn D", "T", None, None, None],  # cycle
        ["000.02.02.Z01", "000.02.01.Z01", "village", "Thôn E", "T", None, None, None],  # cycle
        ["000.01.05.Z01", PROVINCE, "tầng mây", "Xã F", "MTTQ", None, None, None],  # level
        ["000.01.06.Z01", PROVINCE, "province", "Xã G", "MTTQ", None, None, None],  # level depth
    ]
    units = [
        ["000.01.02.Z01", "A", "Ban A", "B"],
        ["000.01.02.Z01", "B", "Ban B", "A"],  # unit cycle
        ["000.01.02.Z01", "C", "Ban C", "KHONGCO"],  # parent unit missing
    ]
    users = [
        ["ok.user", "Được", "000.01.02.Z01", None, None, "specialist", None, None, None, None],
        [
            "ok.user",
            "Lặp",
            "000.01.02.Z01",
            None,
            None,
            "specialist",
            None,
            None,
            None,
            None,
        ],  # duplicate
        ["x", "Ngắn", "000.01.02.Z01", None, None, "", None, None, None, None],  # username shape
        [
            "u.role",
            "Vai trò lạ",
            "000.01.02.Z01",
            None,
            None,
            "specialist;vua",
            None,
            None,
            None,
            None,
        ],
        ["u.clear", "Độ mật lạ", "000.01.02.Z01", None, None, None, "siêu mật", None, None, None],
        ["u.mail", "Thư sai", "000.01.02.Z01", None, None, None, None, "a@b", "abc", "có lẽ"],
        ["u.unit", "Đơn vị lạ", "000.01.02.Z01", "ZZZ", None, None, None, None, None, None],
        ["u.org", "Tổ chức lạ", "000.07.07.Z07", None, None, None, None, None, None, None],
        ["u.noname", None, "000.01.02.Z01", None, None, None, None, None, None, None],
    ]
    before = counts(demo)
    with pytest.raises(imports.ImportInvalidError) as err:
        run(demo, book(orgs, units, users))
    assert counts(demo) == before
    found = {(p.sheet, p.row, p.column) for p in err.value.problems}
    expected = {
        ("organizations", 2, "email"),
        ("organizations", 2, "phone"),
        ("organizations", 3, "code"),
        ("organizations", 4, "parent_code"),
        ("organizations", 5, "parent_code"),
        ("organizations", 6, "parent_code"),
        ("organizations", 7, "level"),
        ("organizations", 8, "level"),
        ("units", 2, "parent_abbreviation"),
        ("units", 3, "parent_abbreviation"),
        ("units", 4, "parent_abbreviation"),
        ("users", 3, "username"),
        ("users", 4, "username"),
        ("users", 5, "roles"),
        ("users", 6, "clearance"),
        ("users", 7, "email"),
        ("users", 7, "phone"),
        ("users", 7, "active"),
        ("users", 8, "unit_abbreviation"),
        ("users", 9, "organization_code"),
        ("users", 10, "full_name"),
    }
    assert expected <= found, expected - found
    text = err.value.problems[0].describe()
    assert "dòng" in text and "cột" in text and "Trang" in text
    assert isinstance(err.value, ValidationError)


def test_missing_column_and_not_a_workbook(demo: Any) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "users"
    ws.append(["username", "full_name"])  # organization_code missing
    ws.append(["a.b", "A B"])
    buf = io.BytesIO()
    wb.save(buf)
    f = imports.read_directory(buf.getvalue())
    assert [(p.sheet, p.row, p.column) for p in f.problems] == [("users", 1, "organization_code")]
    bad = imports.read_directory(b"%PDF-1.4 not a workbook")
    assert bad.problems and "Excel" in bad.problems[0].message
    with pytest.raises(imports.ImportInvalidError):
        run(demo, b"garbage")


def test_admin_imports_only_into_their_subtree(demo: Any) -> None:
    demo.add_admin("admin.tinh", org="tinh")
    orgs, units, users = valid_rows()
    # Into the province's own subtree: fine.
    imports.plan_directory_import(
        demo.uow(), demo.actor("admin.tinh"), imports.read_directory(book(orgs, units, users))
    )
    # A commune under the central committee, a user of the central committee, an existing
    # username of another organisation: refused, nothing written.
    other = [["000.00.02.Z01", "000.00.00.Z01", "province", "Tỉnh khác", "MTTQ", None, None, None]]
    users_other = [
        ["nguoi.tw", "Người TW", "000.00.00.Z01", None, None, "specialist", None, None, None, None],
        ["vanthu.tw", "Chiếm tên", PROVINCE, None, None, "specialist", None, None, None, None],
    ]
    before = counts(demo)
    with pytest.raises(imports.ImportInvalidError) as err:
        run(demo, book(other, [], users_other), as_user="admin.tinh")
    assert counts(demo) == before
    found = {(p.sheet, p.row, p.column) for p in err.value.problems}
    assert {
        ("organizations", 2, "parent_code"),
        ("users", 2, "organization_code"),
        ("users", 3, "username"),
    } <= found
    # Not an admin: refused outright.
    with pytest.raises(PermissionDeniedError):
        run(demo, book(*valid_rows()), as_user="vanthu.tinh")


def test_privileged_grants_become_pending_requests(demo: Any) -> None:
    orgs, units, users = valid_rows()
    users[0][5] = "specialist;admin"
    users[0][6] = "secret"
    result = run(demo, book(orgs, units, users))
    assert result.pending_requests == 1
    with demo.factory() as s:
        mot = s.scalars(select(User).where(User.username == "nguoi.mot")).one()
        assert mot.roles == {"specialist"} and mot.clearance == "none"
        req = s.scalars(select(PrivilegeRequest).where(PrivilegeRequest.user_id == mot.id)).one()
        assert req.state == "pending" and req.roles == ["admin"] and req.clearance == "secret"
        assert req.requested_by_id == demo.user("admin").id
    before = counts(demo)
    again = run(demo, book(orgs, units, users))  # no second request for the same grant
    assert again.pending_requests == 0 and counts(demo) == before
    # Raising an existing person's clearance waits too.
    users[1][6] = "confidential"
    third = run(demo, book(orgs, units, users))
    assert third.pending_requests == 1
    with demo.factory() as s:
        hai = s.scalars(select(User).where(User.username == "nguoi.hai")).one()
        assert hai.clearance == "none"


def test_own_privileges_cannot_be_changed_by_import(demo: Any) -> None:
    users = [
        ["admin", "Quản trị", "000.00.00.Z01", None, None, "specialist", None, None, None, "không"]
    ]
    with pytest.raises(imports.ImportInvalidError) as err:
        run(demo, book([], [], users))
    assert {p.column for p in err.value.problems} == {"roles", "active"}


def test_activation_is_single_use_and_expires(demo: Any) -> None:
    from docflow.directory.passwords import verify_password

    result = run(demo, book(*valid_rows()))
    line = next(a for a in result.activations if a.username == "nguoi.mot")
    other = next(a for a in result.activations if a.username == "nguoi.hai")
    wrong = imports.ActivateAccount(
        username="nguoi.mot", code=other.code, password="mat-khau-moi-123"
    )
    with pytest.raises(ValidationError):
        imports.activate_account(demo.uow(), wrong)
    cmd = imports.ActivateAccount(
        username="nguoi.mot", code=line.code.lower(), password="mat-khau-moi-123"
    )
    imports.activate_account(demo.uow(), cmd)
    assert verify_password(demo.user("nguoi.mot").password_hash, "mat-khau-moi-123")
    with pytest.raises(ValidationError):
        imports.activate_account(demo.uow(), cmd)  # used
    demo.clock.advance(days=imports.ACTIVATION_DAYS, seconds=1)
    late = imports.ActivateAccount(
        username="nguoi.hai", code=other.code, password="mat-khau-moi-123"
    )
    with pytest.raises(ValidationError):
        imports.activate_account(demo.uow(), late)  # expired
    assert not verify_password(demo.user("nguoi.hai").password_hash, "mat-khau-moi-123")
