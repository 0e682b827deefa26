"""The whole periodic-report cycle with the real background machinery (PostgreSQL, a Redis
broker, a Celery worker, an SMTP server on loopback) and the test's clock:

define (the province asks its communes; the centre asks the province) → requested →
pre-filled → filled → approved by the leader (a signed PDF pdfsig accepts) → submitted by the
clerk → the late commune reminded before, on and after the deadline, in-app and by e-mail, once
each, by the job the worker runs → gathered (fixed-row table summed per cell; XLSX opened cell
by cell) → forwarded up (the province fills its report to the centre from its gathered table)
→ corrected after submission (a new version; both signed PDFs kept and retrievable).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from docflow.directory.passwords import hash_password
from docflow.ids import new_id
from docflow.models import (
    Notification,
    Organization,
    ReminderSent,
    ReportRequest,
    Unit,
    User,
    UserRole,
)
from tests.conftest import DEMO_PASSWORD, Clock, worker_backed_app
from tests.outgoing.conftest import attach_images, demo_pki_dir  # noqa: F401  (the fixture)
from tests.signing.pdfsig import PdfSig
from tests.tasks.test_email import Inbox, smtp  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.pg,
    pytest.mark.redis,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

STAFF = {
    "key": "staff",
    "label": "Cán bộ sử dụng hệ thống",
    "type": "table",
    "rows": [
        {"key": "tinh", "label": "Cán bộ cấp tỉnh"},
        {"key": "xa", "label": "Cán bộ cấp xã"},
    ],
    "columns": [
        {"key": "trained", "label": "Đã tập huấn", "type": "number"},
        {"key": "accounts", "label": "Có tài khoản", "type": "number"},
        {"key": "note", "label": "Ghi chú", "type": "text"},
    ],
}
PROVINCE_FORM = {
    "title": "Báo cáo triển khai Hệ thống cấp xã",
    "fields": [
        {"key": "trained", "label": "Số người được tập huấn", "type": "number"},
        STAFF,
        {"key": "notes", "label": "Khó khăn, vướng mắc", "type": "text"},
    ],
    "period": "monthly",
    "deadline_day": 24,
    "recipients": {"scope": "children"},
}
CENTRE_FORM = {
    "title": "Báo cáo kết quả triển khai Hệ thống",
    "fields": [
        {"key": "trained", "label": "Số người được tập huấn", "type": "number"},
        STAFF,
        {"key": "communes", "label": "Tổng hợp của cấp xã", "type": "gathered"},
        {
            "key": "users",
            "label": "Người dùng hoạt động",
            "type": "number",
            "source": "users_active",
        },
    ],
    "period": "monthly",
    "deadline_day": 25,
    "recipients": {"scope": "children"},
}
XA2 = "Ủy ban MTTQ xã Hai"


def _wait(check: Callable[[], Any], seconds: float = 40) -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("the worker did not get there in time")


@pytest.fixture
def cycle_app(
    tmp_path: Path,
    smtp: tuple[Inbox, int],  # noqa: F811
    demo_pki_dir: Path,  # noqa: F811
) -> Iterator[Any]:
    from app.runtime import runtime

    _, port = smtp
    shutil.copytree(demo_pki_dir, tmp_path / "data" / "pki")
    clock = Clock()  # Monday 23 November 2026, 09:00 in Hà Nội
    with worker_backed_app(
        tmp_path,
        "reports-cycle",
        clock=clock,
        smtp_url=f"smtp://dhtn:s3cret@127.0.0.1:{port}?from=DHTN%20<dhtn@mttq.example>",
    ) as app:
        rt = runtime(app)
        attach_images(rt.session_factory, clock, rt.store)
        # A second commune of the province, whose people have e-mail addresses (and whose leader
        # has no server-held key).
        with rt.session_factory() as s, s.begin():
            tinh = s.scalars(
                select(Organization)
                .where(Organization.level == "province")
                .order_by(Organization.path)
            ).first()
            assert tinh is not None
            org_id = new_id()
            s.add(
                Organization(
                    id=org_id,
                    parent_id=tinh.id,
                    level="commune",
                    name=XA2,
                    abbreviation="MTTQ",
                    code="000.01.09.Z01",
                    path=f"{tinh.path}{org_id}/",
                )
            )
            s.flush()
            unit = Unit(organization_id=org_id, name="Ban Thường trực", abbreviation="BTT")
            s.add(unit)
            s.flush()
            for username, role in (("vanthu.xahai", "clerk"), ("lanhdao.xahai", "leader")):
                s.add(
                    User(
                        organization_id=org_id,
                        unit_id=unit.id,
                        username=username,
                        full_name=f"Người dùng {username}",
                        email=f"{username}@mttq.example",
                        password_hash=hash_password(DEMO_PASSWORD),
                        role_rows=[UserRole(role=role)],
                    )
                )
        yield app


def test_the_whole_cycle_with_the_worker(
    cycle_app: Any,
    smtp: tuple[Inbox, int],  # noqa: F811
    tmp_path: Path,
) -> None:
    from app.celery_app import celery_of
    from app.runtime import runtime

    inbox, _ = smtp
    rt = runtime(cycle_app)
    clock: Clock = rt.clock  # type: ignore[assignment]
    celery = celery_of(cycle_app)
    client = cycle_app.test_client()
    pdfsig = PdfSig(tmp_path)
    tokens: dict[str, dict[str, str]] = {}

    def h(username: str) -> dict[str, str]:
        if username not in tokens:
            r = client.post(
                "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
            )
            assert r.status_code == 200, r.json
            tokens[username] = {"Authorization": f"Bearer {r.json['access_token']}"}
        return tokens[username]

    def post(who: str, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
        r = client.post(f"/api/v1{path}", json=body or {}, headers=h(who))
        assert r.status_code == status, (path, r.json)
        return r.json

    def get(who: str, path: str) -> Any:
        r = client.get(f"/api/v1{path}", headers=h(who))
        assert r.status_code == 200, (path, r.status_code)
        return r

    def request_of(who: str, title: str) -> dict[str, Any]:
        items = get(who, "/report-requests?box=to_fill").json["items"]
        [item] = [i for i in items if i["form"]["title"] == title]
        return item

    def reminders(username: str) -> list[str]:
        with rt.session_factory() as s:
            uid = s.scalars(select(User.id).where(User.username == username)).one()
            return list(
                s.scalars(
                    select(Notification.title)
                    .where(Notification.user_id == uid, Notification.kind == "report_reminder")
                    .order_by(Notification.created_at)
                )
            )

    def run_job(until: Callable[[], Any] | None = None) -> None:
        """Queue the periodic job for the worker; wait for what it should do (or, for a
        repeat that must do nothing, long enough that anything it did would show)."""
        celery.tasks["dhtn.job.periodic_reports"].apply_async()
        if until is None:
            time.sleep(3)
        else:
            _wait(until)

    def mails_to(address: str) -> list[Any]:
        """The reminders e-mailed to ``address`` (not the notice of the new request)."""
        return [
            m
            for m in list(inbox.messages)
            if address in str(m["To"]) and not str(m["Subject"]).startswith("Yêu cầu báo cáo")
        ]

    with start_worker(
        celery, pool="threads", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ):
        # Defined: the province asks its communes (by the 24th), the centre asks the province
        # (by the 25th). Requested: each has its request for November.
        prov_form = post("lanhdao.tinh", "/report-forms", PROVINCE_FORM, 201)["id"]
        centre_form = post("lanhdao.tw", "/report-forms", CENTRE_FORM, 201)["id"]
        ward = request_of("vanthu.phuong", PROVINCE_FORM["title"])
        assert (ward["period"], ward["deadline"], ward["state"]) == (
            "2026-11",
            "2026-11-24",
            "open",
        )
        xa2 = request_of("vanthu.xahai", PROVINCE_FORM["title"])
        # Filled (a fixed-row table), approved by the ward's leader, submitted by its clerk.
        staff = {"tinh": {}, "xa": {"trained": 5, "accounts": 7, "note": "Đủ"}}
        post("vanthu.phuong", f"/report-requests/{ward['id']}/fill", {"values": {"trained": 12}})
        bad = {"values": {"staff": {"xa": {"trained": -1}}}}
        r = client.post(
            f"/api/v1/report-requests/{ward['id']}/fill", json=bad, headers=h("vanthu.phuong")
        )
        assert (
            r.status_code == 422
            and "values.staff.xa.trained" in r.json["error"]["details"]["fields"]
        )
        out = post(
            "vanthu.phuong",
            f"/report-requests/{ward['id']}/fill",
            {"values": {"staff": staff, "notes": "Đường truyền chậm"}},
        )
        assert out["values"]["trained"] == 12 and out["values"]["staff"] == staff
        assert out["allowed_actions"] == ["fill"]  # the clerk: not the leader's approval
        post("lanhdao.phuong", f"/report-requests/{ward['id']}/approve")
        out = post("vanthu.phuong", f"/report-requests/{ward['id']}/submit")
        assert (out["state"], out["version"], out["submitted_late"]) == ("submitted", 1, False)
        ward_pdf = get("lanhdao.tinh", f"/report-requests/{ward['id']}/pdf?version=1").data
        [sig] = pdfsig.run(ward_pdf)
        assert sig.valid
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(ward_pdf)).pages)
        assert "Cán bộ cấp xã" in text and "Đường truyền chậm" in text
        # The second commune's leader holds no server-held key: 409, nothing recorded.
        post("vanthu.xahai", f"/report-requests/{xa2['id']}/fill", {"values": {"trained": 1}})
        r = client.post(
            f"/api/v1/report-requests/{xa2['id']}/approve", json={}, headers=h("lanhdao.xahai")
        )
        assert r.status_code == 409 and r.json["error"]["code"] == "report_signer_unavailable"
        with rt.session_factory() as s:
            row = s.get_one(ReportRequest, uuid.UUID(xa2["id"]))
            assert (row.state, row.pdf_key, row.approved_at) == ("filled", None, None)

        # Reminders, run by the worker: the 23rd, before the deadline; twice, still once.
        run_job(lambda: reminders("vanthu.xahai") and reminders("vanthu.tinh"))
        run_job()
        assert len(reminders("vanthu.xahai")) == 1 and "24/11/2026" in reminders("vanthu.xahai")[0]
        assert reminders("vanthu.phuong") == []  # submitted: nothing to remind
        assert len(reminders("vanthu.tinh")) == 1  # the centre's report, due the 25th
        _wait(lambda: mails_to("vanthu.xahai@mttq.example"))
        # The 24th: the deadline day; the 25th: late (the province is told who is late).
        clock.now = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
        run_job(lambda: len(reminders("vanthu.xahai")) == 2)
        clock.now = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
        tokens.clear()  # two days on: sign in again
        run_job(lambda: len(reminders("vanthu.xahai")) == 3 and len(reminders("vanthu.tinh")) == 2)
        run_job()
        titles = reminders("vanthu.xahai")
        assert len(titles) == 3
        assert "hôm nay" in titles[1] and titles[2].startswith("Quá hạn báo cáo")
        assert len(reminders("vanthu.tinh")) == 2  # before and on the 25th
        mails = _wait(lambda: len(mails_to("vanthu.xahai@mttq.example")) >= 3 or None)
        time.sleep(1)  # a duplicate would show up now
        mails = mails_to("vanthu.xahai@mttq.example")
        assert len(mails) == 3, [m["Subject"] for m in mails]
        assert mails[2]["Subject"].startswith("Quá hạn báo cáo")
        with rt.session_factory() as s:
            told = s.scalars(
                select(Notification.title).where(Notification.kind == "report_late_requester")
            ).all()
            assert told and all(XA2 in t for t in told)
            kinds = s.scalars(
                select(ReminderSent.kind).where(ReminderSent.item_id == uuid.UUID(xa2["id"]))
            ).all()
            assert sorted(kinds) == ["before", "due", "late"]

        # Gathered by the province: who submitted, who is late; sums per cell.
        res = get("lanhdao.tinh", f"/report-forms/{prov_form}/results?period=2026-11").json
        assert res["counts"]["submitted"] == 1 and res["counts"]["overdue"] == 1
        assert res["totals"]["trained"] == 12
        assert res["totals"]["staff"] == {
            "tinh": {"trained": 0, "accounts": 0},
            "xa": {"trained": 5, "accounts": 7},
        }
        x = get("lanhdao.tinh", f"/report-forms/{prov_form}/results?period=2026-11&format=xlsx")
        wb = load_workbook(io.BytesIO(x.data))
        main = wb["Tổng hợp"]
        assert [main.cell(4, c).value for c in range(1, 7)] == [
            "STT", "Tổ chức", "Trạng thái", "Ngày gửi", "Số người được tập huấn",
            "Khó khăn, vướng mắc",
        ]  # fmt: skip
        assert [main.cell(5, c).value for c in (2, 3, 5, 6)] == [
            "Ủy ban Mặt trận Tổ quốc Việt Nam phường Demo", "Đã gửi", 12, "Đường truyền chậm"
        ]  # fmt: skip
        assert [main.cell(6, c).value for c in (2, 3, 5)] == [XA2, "Đã điền, chờ ký duyệt", None]
        assert [main.cell(7, c).value for c in (2, 5)] == ["Tổng cộng", 12]
        table = wb["Cán bộ sử dụng hệ thống"]
        assert [table.cell(4, c).value for c in range(1, 7)] == [
            "STT", "Tổ chức", "Dòng", "Đã tập huấn", "Có tài khoản", "Ghi chú"
        ]  # fmt: skip
        rows = [[table.cell(r, c).value for c in range(2, 7)] for r in range(5, 11)]
        ward_name = "Ủy ban Mặt trận Tổ quốc Việt Nam phường Demo"
        assert rows == [
            [ward_name, "Cán bộ cấp tỉnh", None, None, None],
            [ward_name, "Cán bộ cấp xã", 5, 7, "Đủ"],
            [XA2, "Cán bộ cấp tỉnh", None, None, None],
            [XA2, "Cán bộ cấp xã", None, None, None],
            ["Tổng cộng", "Cán bộ cấp tỉnh", 0, 0, None],
            ["Tổng cộng", "Cán bộ cấp xã", 5, 7, None],
        ]

        # Forwarded up: the province fills its report to the centre from its gathered table.
        prov = request_of("chuyenvien.tinh", CENTRE_FORM["title"])
        r = client.post(
            f"/api/v1/report-requests/{prov['id']}/fill",
            json={"from_results": {"form_id": centre_form}},
            headers=h("chuyenvien.tinh"),
        )
        assert r.status_code == 422 and r.json["error"]["code"] == "invalid_source_form"
        out = post(
            "chuyenvien.tinh",
            f"/report-requests/{prov['id']}/fill",
            {"from_results": {"form_id": prov_form}},
        )
        assert out["state"] == "filled"
        assert out["values"]["trained"] == 12
        assert out["values"]["staff"] == {
            "tinh": {"trained": 0, "accounts": 0},
            "xa": {"trained": 5, "accounts": 7},
        }
        communes = out["values"]["communes"]
        assert communes["form_id"] == prov_form and communes["period"] == "2026-11"
        assert [(row["organization"]["name"], row["values"].get("trained")) for row in communes["rows"]] == [
            (ward_name, 12), (XA2, None)
        ]  # fmt: skip
        assert isinstance(out["values"]["users"], int)  # pre-filled by the system
        post("lanhdao.tinh", f"/report-requests/{prov['id']}/approve")
        out = post("vanthu.tinh", f"/report-requests/{prov['id']}/submit")
        assert (out["state"], out["version"], out["submitted_late"]) == ("submitted", 1, False)

        # The centre gathers, with the province's forwarded table.
        x = get("lanhdao.tw", f"/report-forms/{centre_form}/results?period=2026-11&format=xlsx")
        wb = load_workbook(io.BytesIO(x.data))
        forwarded = wb["Tổng hợp của cấp xã"]
        assert [forwarded.cell(3, c).value for c in range(1, 4)] == [
            "Tổ chức báo cáo", "Tổ chức cấp dưới", "Số người được tập huấn"
        ]  # fmt: skip
        province = "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Demo"
        assert [[forwarded.cell(r, c).value for c in range(1, 4)] for r in range(4, 7)] == [
            [province, ward_name, 12], [province, XA2, None], [province, "Cộng", 12]
        ]  # fmt: skip

        # Corrected after submission: a new version, signed again; both PDFs kept.
        post("lanhdao.tw", f"/report-requests/{prov['id']}/correct", {"comment": "x"}, 403)
        post("chuyenvien.tinh", f"/report-requests/{prov['id']}/correct", {"comment": "Thêm 1"})
        res = get("lanhdao.tw", f"/report-forms/{centre_form}/results?period=2026-11").json
        assert res["items"][0]["values"]["trained"] == 12  # v1 still stands meanwhile
        post("chuyenvien.tinh", f"/report-requests/{prov['id']}/fill", {"values": {"trained": 13}})
        post("vanthu.tinh", f"/report-requests/{prov['id']}/submit", status=409)  # not signed
        post("lanhdao.tinh", f"/report-requests/{prov['id']}/approve")
        out = post(
            "vanthu.tinh", f"/report-requests/{prov['id']}/submit", {"comment": "Đính chính"}
        )
        assert out["version"] == 2 and [v["version"] for v in out["versions"]] == [2, 1]
        assert [v["values"]["trained"] for v in out["versions"]] == [13, 12]
        pdfs = [
            get("lanhdao.tw", f"/report-requests/{prov['id']}/pdf?version={n}").data for n in (1, 2)
        ]
        assert pdfs[0] != pdfs[1]
        for data in pdfs:
            [sig] = pdfsig.run(data)
            assert sig.valid
        res = get("lanhdao.tw", f"/report-forms/{centre_form}/results?period=2026-11").json
        assert res["items"][0]["values"]["trained"] == 13 and res["items"][0]["version"] == 2
