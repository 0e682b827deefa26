"""A fortnight of work in the demo organisations (issue 15): what ``dhtn demo seed`` (and so
``make run``'s first start) adds after the accounts, so that each demo account opens on its
own day's work instead of empty boxes.

Everything goes through the real JSON API (the same commands, policies, numbering, signing,
issuing, internal dispatch and notifications as a person's clicks), driven by the app's test
client with a clock that walks through the last ten working days: documents are registered,
directed, signed and issued on those days, so deadlines fall where they would and some are
overdue today. The text comes from fixed templates (obviously fictitious: "tỉnh Mẫu", "Demo"),
the order is fixed, so two runs on the same day produce the same documents.

Idempotent: if the demo central committee already has a document, nothing is added.
``DHTN_DEMO_ACTIVITY=off`` leaves it out (the test fixtures that start ``dhtn run`` do).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from app.config import Settings, demo_password
from docflow.models import Document, Organization, Unit, User
from docflow.workdays import VN_TZ as LOCAL_TZ
from signing import make_sample_document

WORKING_DAYS = 10  # the fortnight
ISSUERS = {
    "ubnd": {"name": "Ủy ban nhân dân tỉnh Mẫu (giả lập)", "code": "000.00.71.Z98"},
    "hnd": {"name": "Hội Nông dân tỉnh Mẫu (giả lập)"},
    "sld": {"name": "Sở Nội vụ tỉnh Mẫu (giả lập)"},
    "hlhpn": {"name": "Hội Liên hiệp Phụ nữ tỉnh Mẫu (giả lập)"},
}


class WalkingClock:
    """The clock the seeding app reads; the script moves it from day to day."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class ActivityResult:
    created: bool
    incoming: int = 0
    outgoing: int = 0
    tasks: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def working_days(today: dt.date, n: int = WORKING_DAYS) -> list[dt.date]:
    """The last ``n`` weekdays up to today (today included when it is one), oldest first."""
    days: list[dt.date] = []
    day = today
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


def _pdf(doc_type: str, subject: str, signer: str, org: str, pages: int = 1) -> bytes:
    return make_sample_document(
        pages,
        organization=org.upper(),
        doc_type=doc_type.upper(),
        subject=subject,
        signer_name=signer,
    ).pdf


class _Driver:
    """The API as the demo people, on the walking clock."""

    def __init__(self, client: Any, clock: WalkingClock, password: str, days: list[dt.date]):
        self.client, self.clock, self.password, self.days = client, clock, password, days
        self._tokens: dict[str, dict[str, str]] = {}
        self.ids: dict[str, str] = {}
        self.units: dict[tuple[str, str], str] = {}
        self.counts = {"incoming": 0, "outgoing": 0, "tasks": 0}

    def at(self, day: int, hour: int = 9, minute: int = 0) -> None:
        """Move to working day ``day`` (0 = ten working days ago … 9 = today), local time."""
        local = dt.datetime.combine(self.days[day], dt.time(hour, minute), LOCAL_TZ)
        # Never in the future (seeded at 7 a.m., today's work happens "now"), never backwards.
        at = min(local.astimezone(dt.UTC), dt.datetime.now(dt.UTC))
        self.clock.now = max(self.clock.now, at)

    def h(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = self.client.post(
                "/api/v1/auth/token", json={"username": username, "password": self.password}
            )
            if r.status_code != 200:
                raise RuntimeError(f"demo activity: cannot sign in as {username}: {r.get_json()}")
            self._tokens[username] = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
        return self._tokens[username]

    def ok(self, r: Any, what: str) -> dict[str, Any]:
        if r.status_code not in (200, 201):
            raise RuntimeError(f"demo activity: {what}: {r.status_code} {r.get_json()}")
        body: dict[str, Any] = r.get_json()
        return body

    def act(self, username: str, doc_id: str, action: str, **params: Any) -> dict[str, Any]:
        r = self.client.post(
            f"/api/v1/documents/{doc_id}/actions",
            headers=self.h(username),
            json={"action": action, **params},
        )
        return self.ok(r, f"{username} {action}")

    def register(
        self, clerk: str, notation: str, doc_type: str, subject: str, issuer: str, **meta: Any
    ) -> str:
        issued = self.clock.now.astimezone(LOCAL_TZ).date() - dt.timedelta(days=2)
        body = {
            "notation": notation,
            "doc_type": doc_type,
            "subject": subject,
            "issuer": ISSUERS[issuer],
            "issued_date": issued.isoformat(),
            "source": "paper",
            **meta,
        }
        pdf = _pdf(doc_type, subject, "Nguyễn Văn Mẫu", ISSUERS[issuer]["name"])
        r = self.client.post(
            "/api/v1/incoming",
            headers=self.h(clerk),
            data={"meta": json.dumps(body), "files": [(io.BytesIO(pdf), "van-ban.pdf")]},
            content_type="multipart/form-data",
        )
        self.counts["incoming"] += 1
        return str(self.ok(r, f"register {notation}")["id"])

    def draft(
        self,
        author: str,
        signer: str,
        doc_type: str,
        subject: str,
        org_name: str,
        recipients: list[str],
        **meta: Any,
    ) -> str:
        body = {
            "doc_type": doc_type,
            "subject": subject,
            "signer_user_id": self.ids[signer],
            "competence": "TM.",
            "authority": "Ban Thường trực",
            "recipients": [{"organization_id": self.ids[r]} for r in recipients],
            **meta,
        }
        pdf = _pdf(doc_type, subject, "Lê Văn Minh", org_name, pages=2)
        r = self.client.post(
            "/api/v1/outgoing",
            headers=self.h(author),
            data={"meta": json.dumps(body), "files": [(io.BytesIO(pdf), "du-thao.pdf")]},
            content_type="multipart/form-data",
        )
        self.counts["outgoing"] += 1
        return str(self.ok(r, f"draft {subject[:30]}")["id"])

    def task(self, by: str, title: str, lead: dict[str, str], days: int, **extra: Any) -> str:
        body = {"title": title, "lead": lead, "due_in_working_days": days, **extra}
        r = self.client.post("/api/v1/tasks", headers=self.h(by), json=body)
        self.counts["tasks"] += 1
        return str(self.ok(r, f"task {title[:30]}")["id"])

    def task_act(self, by: str, task_id: str, action: str, **params: Any) -> None:
        r = self.client.post(
            f"/api/v1/tasks/{task_id}/actions",
            headers=self.h(by),
            json={"action": action, **params},
        )
        self.ok(r, f"task {action}")

    def user(self, username: str) -> dict[str, str]:
        return {"user_id": self.ids[username]}

    def unit(self, org: str, abbr: str) -> dict[str, str]:
        return {"unit_id": self.units[(org, abbr)]}

    def arrived(self, clerk: str) -> Iterator[str]:
        """The internal deliveries waiting for ``clerk`` to register (state ``arrived``)."""
        r = self.client.get("/api/v1/documents?box=inbox&state=arrived", headers=self.h(clerk))
        for item in self.ok(r, "arrived")["items"]:
            yield str(item["id"])


def _script(d: _Driver, year: int) -> None:
    """The fortnight, in order. Working day 0 is ten working days ago; 9 is today."""
    u, unit = d.user, d.unit
    n = iter(range(100, 1000))

    def no(kind: str, issuer: str = "UBND") -> str:
        return f"{next(n)}/{kind}-{issuer}"

    # ---- day 0-1: a plan from the centre goes down to the province and the ward
    d.at(0, 8, 30)
    o1 = d.draft(
        "chuyenvien.dcgs",
        "lanhdao.tw",
        "KH",
        f"Kế hoạch giám sát việc thực hiện chính sách an sinh xã hội năm {year} (mẫu)",
        "Ủy ban Trung ương MTTQ Việt Nam",
        ["tinh", "phuong"],
    )
    d.act("chuyenvien.dcgs", o1, "submit_for_review", to_user_id=d.ids["truongban.dcgs"])
    d.at(0, 14)
    d.act("truongban.dcgs", o1, "submit_for_review", to_user_id=d.ids["lanhdao.tw"])
    i1 = d.register(
        "vanthu.tw",
        no("BC"),
        "BC",
        "Báo cáo kết quả thực hiện Cuộc vận động «Toàn dân đoàn kết xây dựng nông thôn mới, "
        "đô thị văn minh» (số liệu giả lập)",
        "ubnd",
    )
    d.act("vanthu.tw", i1, "submit", to_user_id=d.ids["lanhdao.tw"])
    d.at(1, 9)
    d.act("lanhdao.tw", o1, "sign")
    d.act(
        "lanhdao.tw",
        i1,
        "assign",
        lead=unit("tw", "DCGSPBXH"),
        cooperating=[unit("tw", "TG")],
        due_in_working_days=5,
        comment="Ban DCGSPBXH chủ trì tổng hợp, đề xuất nội dung giám sát.",
    )
    d.at(1, 10)
    d.act("vanthu.tw", o1, "issue")
    d.act("vanthu.tw", o1, "dispatch")
    t1 = d.task(
        "lanhdao.tw",
        "Xây dựng đề cương báo cáo giám sát an sinh xã hội (mẫu)",
        u("chuyenvien.dcgs"),
        6,
        description="Đề cương gồm các phần: tình hình, kết quả, tồn tại, kiến nghị.",
        priority="high",
    )
    d.task_act("chuyenvien.dcgs", t1, "start")

    # ---- day 2-3: the province registers the plan; letters come in at the centre
    d.at(2, 8, 15)
    for doc in list(d.arrived("vanthu.tinh")):
        d.act("vanthu.tinh", doc, "register")
        d.act("vanthu.tinh", doc, "submit", to_user_id=d.ids["lanhdao.tinh"])
        d.at(2, 11)
        d.act(
            "lanhdao.tinh",
            doc,
            "assign",
            lead=u("chuyenvien.tinh"),
            due_in_working_days=4,
            comment="Đồng chí chuyên viên xây dựng kế hoạch của tỉnh.",
        )
    i2 = d.register(
        "vanthu.tw",
        no("CV", "HND"),
        "CV",
        "Đề nghị phối hợp tổ chức Hội nghị biểu dương nông dân tiêu biểu (giả lập)",
        "hnd",
    )
    d.act("vanthu.tw", i2, "submit", to_user_id=d.ids["lanhdao.tw"])
    d.at(3, 9)
    d.act(
        "lanhdao.tw",
        i2,
        "assign",
        lead=u("chuyenvien.dcgs"),
        due_in_working_days=3,
        comment="Chuẩn bị nội dung phối hợp.",
    )
    d.act("chuyenvien.dcgs", i2, "start")
    t2 = d.task(
        "lanhdao.tw",
        "Tổng hợp ý kiến góp ý dự thảo Quy chế phối hợp (mẫu)",
        u("chuyenvien.tg"),
        3,
    )
    d.task_act("chuyenvien.tg", t2, "start")

    # ---- day 4-5: work is done; an urgent letter; the province answers up
    d.at(4, 10)
    d.act("chuyenvien.dcgs", i2, "complete", comment="Đã phối hợp, gửi danh sách đề xuất.")
    i3 = d.register(
        "vanthu.tw",
        no("CV"),
        "CV",
        "Về việc cung cấp thông tin phục vụ kỳ họp Hội đồng nhân dân tỉnh (giả lập)",
        "ubnd",
        urgency="urgent",
    )
    d.act("vanthu.tw", i3, "submit", to_user_id=d.ids["lanhdao.tw"])
    d.at(4, 15)
    d.act(
        "lanhdao.tw",
        i3,
        "assign",
        lead=u("chuyenvien.tg"),
        cooperating=[u("chuyenvien.dcgs")],
        due_in_working_days=2,
        comment="Khẩn: chuẩn bị thông tin trong 2 ngày.",
    )
    d.act("chuyenvien.tg", i3, "start")
    d.at(5, 9)
    d.task_act("chuyenvien.tg", t2, "submit_completion", comment="Đã tổng hợp 27 ý kiến.")
    d.task_act("lanhdao.tw", t2, "approve_completion", comment="Đạt yêu cầu.")
    o2 = d.draft(
        "chuyenvien.tinh",
        "lanhdao.tinh",
        "BC",
        f"Báo cáo kết quả công tác Mặt trận tháng {d.days[5].month} của tỉnh Demo (giả lập)",
        "Ủy ban MTTQ Việt Nam tỉnh Demo",
        ["tw"],
    )
    d.act("chuyenvien.tinh", o2, "submit_for_review", to_user_id=d.ids["lanhdao.tinh"])
    d.at(5, 14)
    d.act("lanhdao.tinh", o2, "sign")
    d.act("vanthu.tinh", o2, "issue")
    d.act("vanthu.tinh", o2, "dispatch")
    t3 = d.task(
        "lanhdao.tinh",
        "Rà soát danh sách hộ nghèo được hỗ trợ xây nhà Đại đoàn kết (mẫu)",
        u("chuyenvien.tinh"),
        3,
    )
    d.task_act("chuyenvien.tinh", t3, "start")

    # ---- day 6-7: more letters; the ward's work
    d.at(6, 8, 45)
    i4 = d.register(
        "vanthu.tw",
        no("KH", "HLHPN"),
        "KH",
        "Kế hoạch phối hợp tuyên truyền phòng, chống bạo lực gia đình (giả lập)",
        "hlhpn",
    )
    d.act("vanthu.tw", i4, "submit", to_user_id=d.ids["lanhdao.tw"])
    d.at(6, 10)
    d.act(
        "lanhdao.tw", i4, "assign", lead=unit("tw", "TG"), due_in_working_days=8, comment="Ban TG."
    )
    for doc in list(d.arrived("vanthu.phuong")):
        d.act("vanthu.phuong", doc, "register")
        d.act("vanthu.phuong", doc, "submit", to_user_id=d.ids["lanhdao.phuong"])
    t4 = d.task(
        "lanhdao.phuong",
        "Lập danh sách khu dân cư tổ chức Ngày hội Đại đoàn kết (mẫu)",
        u("vanthu.phuong"),
        5,
    )
    d.at(7, 9)
    t5 = d.task(
        "lanhdao.tw",
        "Chuẩn bị báo cáo sơ kết 6 tháng công tác giám sát (mẫu)",
        unit("tw", "DCGSPBXH"),
        7,
        priority="urgent",
    )
    t6 = d.task(
        "lanhdao.tw",
        "Cập nhật danh bạ liên hệ các Ban của Ủy ban Trung ương (mẫu)",
        u("chuyenvien.tg"),
        4,
    )
    d.task_act("chuyenvien.tg", t6, "start")
    d.task_act("chuyenvien.tg", t6, "submit_completion", comment="Đã cập nhật 48 đầu mối.")
    _ = (t4, t5)

    # ---- day 8: drafts in review, one signed waiting for its number
    d.at(8, 9)
    o3 = d.draft(
        "chuyenvien.tg",
        "lanhdao.tw",
        "CV",
        "Về việc tuyên truyền kỷ niệm Ngày truyền thống Mặt trận Tổ quốc Việt Nam (mẫu)",
        "Ủy ban Trung ương MTTQ Việt Nam",
        ["tinh"],
    )
    d.act("chuyenvien.tg", o3, "submit_for_review", to_user_id=d.ids["lanhdao.tw"])
    d.at(8, 11)
    d.act("lanhdao.tw", o3, "sign")
    o4 = d.draft(
        "chuyenvien.dcgs",
        "lanhdao.tw",
        "TB",
        "Thông báo kết luận của Ban Thường trực về công tác giám sát quý (mẫu)",
        "Ủy ban Trung ương MTTQ Việt Nam",
        ["tinh", "phuong"],
        urgency="urgent",
    )
    d.act("chuyenvien.dcgs", o4, "submit_for_review", to_user_id=d.ids["truongban.dcgs"])
    d.at(8, 15)
    d.act("truongban.dcgs", o4, "submit_for_review", to_user_id=d.ids["lanhdao.tw"])
    o5 = d.draft(
        "chuyenvien.tinh",
        "lanhdao.tinh",
        "KH",
        f"Kế hoạch tổ chức Ngày hội Đại đoàn kết toàn dân tộc năm {year} của tỉnh Demo (mẫu)",
        "Ủy ban MTTQ Việt Nam tỉnh Demo",
        ["phuong"],
    )
    d.act("chuyenvien.tinh", o5, "submit_for_review", to_user_id=d.ids["lanhdao.tinh"])

    # ---- day 9 (today): the morning's post
    d.at(9, 7, 45)
    for doc in list(d.arrived("vanthu.tw")):
        d.act("vanthu.tw", doc, "register")
    i5 = d.register(
        "vanthu.tw",
        no("CV"),
        "CV",
        "Về việc đăng ký tham gia Hội thi tìm hiểu pháp luật năm nay (giả lập)",
        "sld",
        urgency="very_urgent",
    )
    d.act("vanthu.tw", i5, "submit", to_user_id=d.ids["lanhdao.tw"])
    d.register(
        "vanthu.tw",
        no("GM"),
        "GM",
        "Giấy mời dự Hội nghị tổng kết công tác dân vận (giả lập)",
        "ubnd",
        urgency="urgent",
    )
    d.register(
        "vanthu.tw",
        no("CV", "HND"),
        "CV",
        "Đề nghị cử đại biểu dự Đại hội Hội Nông dân cấp tỉnh (giả lập)",
        "hnd",
    )
    i6 = d.register(
        "vanthu.tinh",
        no("CV"),
        "CV",
        "Về việc phối hợp kiểm tra công trình nhà Đại đoàn kết (giả lập)",
        "ubnd",
    )
    d.act("vanthu.tinh", i6, "submit", to_user_id=d.ids["lanhdao.tinh"])
    d.register(
        "vanthu.phuong",
        no("TB"),
        "TB",
        "Thông báo lịch tiếp công dân tháng này của phường Demo (giả lập)",
        "ubnd",
    )
    o6 = d.draft(
        "chuyenvien.dcgs",
        "lanhdao.tw",
        "CV",
        "Về việc góp ý dự thảo Hướng dẫn giám sát đầu tư của cộng đồng (mẫu)",
        "Ủy ban Trung ương MTTQ Việt Nam",
        ["tinh"],
    )
    d.act("chuyenvien.dcgs", o6, "submit_for_review", to_user_id=d.ids["truongban.dcgs"])
    # Yesterday's signed letter is numbered and sent: the province's clerk finds it arrived.
    d.at(9, 8, 30)
    d.act("vanthu.tw", o3, "issue")
    d.act("vanthu.tw", o3, "dispatch")
    o7 = d.draft(
        "chuyenvien.tg",
        "lanhdao.tw",
        "GM",
        "Giấy mời dự Hội nghị trực tuyến triển khai công tác tuyên truyền (mẫu)",
        "Ủy ban Trung ương MTTQ Việt Nam",
        ["tinh", "phuong"],
    )
    d.act("chuyenvien.tg", o7, "submit_for_review", to_user_id=d.ids["lanhdao.tw"])
    d.at(9, 9, 15)
    d.act("lanhdao.tw", o7, "sign")  # signed: the clerk numbers and sends it


def seed_activity(settings: Settings) -> ActivityResult:
    """Add the fortnight to the demo organisations (once; idempotent, see the module)."""
    from app import create_app
    from app.runtime import runtime
    from docflow.workdays import local_date

    started = time.perf_counter()
    today = local_date(dt.datetime.now(dt.UTC))
    days = working_days(today)
    start = dt.datetime.combine(days[0], dt.time(8, 0), LOCAL_TZ).astimezone(dt.UTC)
    clock = WalkingClock(start)
    app = create_app(
        settings.with_overrides(tasks_eager=True, ocr=False, token_ttl_hours=24 * 30),
        clock=clock,
    )
    app.config.update(TESTING=True)
    rt = runtime(app)
    try:
        with rt.session_factory() as s:
            tw = s.scalars(
                select(Organization).where(Organization.code == f"000.00.00.{settings.demo_suffix}")
            ).one_or_none()
            if tw is None:
                raise RuntimeError("demo activity: seed the demo organisations first")
            if s.scalar(select(func.count()).where(Document.organization_id == tw.id)):
                return ActivityResult(created=False, seconds=time.perf_counter() - started)
            driver = _Driver(app.test_client(), clock, demo_password(settings), days)
            codes = {
                "tw": f"000.00.00.{settings.demo_suffix}",
                "tinh": f"000.00.01.{settings.demo_suffix}",
                "phuong": f"000.01.01.{settings.demo_suffix}",
            }
            for key, code in codes.items():
                org = s.scalars(select(Organization).where(Organization.code == code)).one()
                driver.ids[key] = str(org.id)
                for unit in s.scalars(select(Unit).where(Unit.organization_id == org.id)):
                    driver.units[(key, unit.abbreviation)] = str(unit.id)
                for user in s.scalars(select(User).where(User.organization_id == org.id)):
                    driver.ids[user.username] = str(user.id)
        _script(driver, today.year)
        return ActivityResult(
            created=True,
            incoming=driver.counts["incoming"],
            outgoing=driver.counts["outgoing"],
            tasks=driver.counts["tasks"],
            seconds=time.perf_counter() - started,
        )
    finally:
        if rt.engine is not None:
            rt.engine.dispose()
