"""Domain-rule review: what a clerk, a leader, a specialist and an archivist would notice if a
rule of DOMAIN.md were wrong, checked through the paths they use (the JSON API), on PostgreSQL.

Each ``FINDING`` test asserts the behaviour the rule asks for: it failed on the code as
reviewed (five findings, all fixed since: "fixed" says how). Each ``HELD`` test pins a rule that holds, on the specific
values (numbers, dates, notations), so that it fails if the rule broke. The app is the outgoing
tests' one (demo PKI, warm LibreOffice) so drafts can be signed and issued.

The clock starts on Monday 23 November 2026, 09:00 in Hà Nội (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from docflow.models import AuditEntry, Document, FeedbackItem, Register, User
from docflow.reports.prefill import system_figures
from signing.testpki import DemoPKI
from tests.conftest import Demo
from tests.incoming.conftest import Incoming
from tests.outgoing.conftest import (  # noqa: F401  (fixtures)
    Outgoing,
    app,
    converter,
    demo_pki_dir,
    demo_pki_loaded,
)
from tests.outgoing.test_signing_sessions import Token

UTC = dt.UTC
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def out(client: Any, api: Any, demo: Demo) -> Outgoing:
    return Outgoing(client, api, demo)


@pytest.fixture
def inc(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


def _at(demo: Demo, *args: int) -> None:
    """Set the clock to a UTC instant."""
    demo.clock.now = dt.datetime(*args, tzinfo=UTC)


def _local(text: str) -> dt.datetime:
    """An API time (ISO 8601 with an offset) as a naive wall-clock time in Hà Nội."""
    return dt.datetime.fromisoformat(text).astimezone(VN).replace(tzinfo=None)


def _open_register(
    inc: Incoming, direction: str, year: int, name: str, *, secret: bool = False
) -> str:
    r = inc.client.post(
        "/api/v1/registers",
        headers=inc.h("admin"),
        json={
            "organization_id": str(inc.demo.org_id("tw")),
            "direction": direction,
            "year": year,
            "name": name,
            "secret_series": secret,
        },
    )
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["id"])


def _last_numbers(demo: Demo, org: str = "tw") -> dict[tuple[str, int, str], int]:
    with demo.factory() as s:
        return {
            (r.direction, r.year, r.name): r.last_number
            for r in s.scalars(select(Register).where(Register.organization_id == demo.org_id(org)))
        }


def _registered(inc: Incoming, n: int, **meta: Any) -> dict[str, Any]:
    r = inc.register(notation=f"{n}/KH-MTTQ-BTT", **meta)
    assert r.status_code == 201, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


# ---------------------------------------------------------------- §2 numbers of incoming


def test_incoming_numbers_run_per_register_without_gap_after_refusals(inc: Incoming) -> None:
    """HELD. §2: incoming numbers run "one yearly series per incoming register"; ARCHITECTURE
    §4: a refused request "changes nothing: … no consumed number". Refusals of every kind in
    between (bad notation 422, duplicate 409, a type not in the list 422, wrong register 422)
    leave the series 1, 2, 3 unbroken; another organisation's series is its own."""
    assert _registered(inc, 10)["register_number"] == 1
    refusals = [
        inc.register(notation="10-KH-MTTQ"),  # not a notation
        inc.register(notation="10/KH-MTTQ-BTT"),  # the same document again (possible_duplicate)
        inc.register(notation="11/XX-MTTQ", doc_type="XX"),  # no such type
        inc.register(notation="11/MTTQ-BTT", doc_type="KH"),  # KH without its type part
    ]
    assert [r.status_code for r in refusals] == [422, 409, 422, 422]
    assert refusals[1].get_json()["error"]["details"]["register_number"] == 1
    assert _registered(inc, 12)["register_number"] == 2
    # A công văn has no type part: "491/MTTW-BTT".
    cv = inc.register(notation="491/MTTQ-BTT", doc_type="CV")
    assert cv.status_code == 201 and cv.get_json()["register_number"] == 3
    assert _last_numbers(inc.demo)[("incoming", 2026, "Sổ văn bản đến năm 2026")] == 3
    assert _last_numbers(inc.demo)[("outgoing", 2026, "Sổ văn bản đi năm 2026")] == 0
    # The province's register starts its own series.
    prov = inc.register(username="vanthu.tinh", notation="60/KH-MTTW-BTT")
    assert prov.status_code == 201 and prov.get_json()["register_number"] == 1


def test_incoming_numbers_restart_on_1_january_in_vietnam_time(inc: Incoming) -> None:
    """HELD. §2: numbers "run from 01 on 1 January to 31 December and restart each year"; §8:
    times stored in UTC, the day is Hà Nội's. At 23:59 on 31 December (16:59 UTC) the 2026
    register numbers; one minute later (17:00 UTC, still 31 December in UTC) it is 2027: the
    2026 register no longer numbers (even when named), nothing is consumed, and the 2027
    register the admin opened starts at 1."""
    demo = inc.demo
    _at(demo, 2026, 12, 31, 16, 59)
    first = _registered(inc, 1, issued_date="2026-12-30")
    assert first["register_number"] == 1
    assert _local(first["received_at"]) == dt.datetime(2026, 12, 31, 23, 59)
    _at(demo, 2026, 12, 31, 17, 0)
    no_register = inc.register(notation="2/KH-MTTQ-BTT", issued_date="2026-12-30")
    assert no_register.status_code == 422, no_register.get_json()
    old = inc.register(
        notation="2/KH-MTTQ-BTT", issued_date="2026-12-30", register_id=first["register"]["id"]
    )
    assert old.status_code == 422, old.get_json()
    reg_2027 = _open_register(inc, "incoming", 2027, "Sổ văn bản đến năm 2027")
    new = _registered(inc, 2, issued_date="2026-12-30")
    assert (new["register_number"], new["register"]["id"]) == (1, reg_2027)
    assert _local(new["received_at"]) == dt.datetime(2027, 1, 1, 0, 0)
    numbers = _last_numbers(demo)
    assert numbers[("incoming", 2026, "Sổ văn bản đến năm 2026")] == 1
    assert numbers[("incoming", 2027, "Sổ văn bản đến năm 2027")] == 1


def test_secret_documents_have_their_own_series_and_no_content(inc: Incoming) -> None:
    """HELD. §2: "secret documents always have their own series"; §3: "on an ordinary
    deployment a secret document can be registered as a paper record (metadata only, no
    content upload)". A cleared clerk registering a Mật document before a secret register is
    open is refused; with a file it is refused (metadata only); neither consumes a number.
    Registered without content, it is number 1 of the secret register, and the ordinary
    register's series is untouched (the next ordinary document is its number 1)."""
    with inc.demo.factory() as s:
        s.scalars(select(User).where(User.username == "vanthu.tw")).one().clearance = "secret"
        s.commit()
    no_series = inc.register(notation="3/KH-MTTQ-BTT", secrecy="confidential", files=[])
    assert no_series.status_code == 422, no_series.get_json()
    secret_reg = _open_register(inc, "incoming", 2026, "Sổ văn bản mật đến năm 2026", secret=True)
    with_file = inc.register(notation="3/KH-MTTQ-BTT", secrecy="confidential")
    assert with_file.status_code == 422
    assert with_file.get_json()["error"]["code"] == "secret_metadata_only"
    secret = _registered(inc, 3, secrecy="confidential", files=[])
    assert (secret["register_number"], secret["register"]["id"]) == (1, secret_reg)
    assert secret["files"] == []
    ordinary = _registered(inc, 4)
    assert ordinary["register_number"] == 1 and ordinary["register"]["id"] != secret_reg
    numbers = _last_numbers(inc.demo)
    assert numbers[("incoming", 2026, "Sổ văn bản mật đến năm 2026")] == 1
    assert numbers[("incoming", 2026, "Sổ văn bản đến năm 2026")] == 1
    # The secret record is not shown to a colleague without clearance.
    assert inc.get("lanhdao.tw", secret["id"]).status_code == 200  # cleared to Tối mật
    assert inc.get("chuyenvien.dcgs", secret["id"]).status_code == 404


# ---------------------------------------------------------------- §2 numbers of outgoing


def test_outgoing_number_and_notation_are_given_at_issue(out: Outgoing) -> None:
    """HELD. §2: "the system assigns the number and the issuing time at the moment the clerk
    issues the document"; "Số: 60/KH-MTTW-BTT", a công văn "491/MTTW-BTT"; "numbers below 10
    are written with a leading zero". A signed document has no number yet; the first issued is
    01 with the type, the organisation and the drafting unit; a công văn has no type part."""
    kh = out.to_signed()
    signed = out.get("vanthu.tw", kh).get_json()
    assert (signed["state"], signed["register_number"], signed["notation"]) == (
        "signed",
        None,
        None,
    )
    assert _last_numbers(out.demo)[("outgoing", 2026, "Sổ văn bản đi năm 2026")] == 0
    out.demo.clock.advance(days=1, hours=6)  # Tuesday 24 November, 15:00 in Hà Nội
    out._tokens.clear()  # fresh tokens after the clock moved
    issued = out.ok("vanthu.tw", kh, "issue")
    assert (issued["register_number"], issued["notation"]) == (1, "01/KH-MTTW-DCGSPBXH")
    assert issued["issued_date"] == "2026-11-24"
    cv = out.to_signed(doc_type="CV", subject="V/v giám sát an sinh xã hội")
    issued = out.ok("vanthu.tw", cv, "issue")
    assert (issued["register_number"], issued["notation"]) == (2, "02/MTTW-DCGSPBXH")
    assert _last_numbers(out.demo)[("outgoing", 2026, "Sổ văn bản đi năm 2026")] == 2


def test_outgoing_moves_keep_their_order_and_refusals_take_no_number(out: Outgoing) -> None:
    """HELD. §5: "draft → review and approve → … → sign → number and time → … → dispatch";
    only the clerk numbers and dispatches; §2: "never a gap caused by a failed transaction".
    An unsigned draft is not issued (409), a leader may not issue (403), a signed document is
    not dispatched before it is issued (409); none of this takes a number, and the document
    then issued is 01."""
    r = out.template()
    assert r.status_code == 201, r.get_json()
    draft = str(r.get_json()["id"])
    assert out.act("vanthu.tw", draft, "issue").status_code == 409
    out.ok("chuyenvien.dcgs", draft, "submit_for_review", to_user_id=out.user_id("lanhdao.tw"))
    assert out.act("vanthu.tw", draft, "issue").status_code == 409  # in review, not signed
    # The specialist may not approve or sign in the leader's place.
    assert out.act("chuyenvien.dcgs", draft, "sign").status_code == 403
    out.ok("lanhdao.tw", draft, "sign")
    assert out.act("lanhdao.tw", draft, "issue").status_code == 403
    assert out.act("vanthu.tw", draft, "dispatch").status_code == 409
    assert _last_numbers(out.demo)[("outgoing", 2026, "Sổ văn bản đi năm 2026")] == 0
    issued = out.ok("vanthu.tw", draft, "issue")
    assert (issued["state"], issued["notation"]) == ("issued", "01/KH-MTTW-DCGSPBXH")
    assert out.act("vanthu.tw", draft, "issue").status_code == 409  # never numbered twice
    assert out.ok("vanthu.tw", draft, "dispatch")["state"] == "dispatched"
    assert _last_numbers(out.demo)[("outgoing", 2026, "Sổ văn bản đi năm 2026")] == 1


def test_number_and_notation_are_unique_within_the_year_across_registers(
    out: Outgoing, inc: Incoming
) -> None:
    """FINDING (severity: medium), fixed. §2: "number + notation is unique within the year.
    The head of the organisation decides how many series (registers, sổ) exist". With a
    second (ordinary) outgoing register for 2026, two Kế hoạch of the same unit issued one
    from each register both got "01/KH-MTTW-DCGSPBXH". The second issue is now refused (409
    ``duplicate_notation``, naming the register that gave it) and consumes no number; from
    the first register it gets the next number."""
    second = _open_register(inc, "outgoing", 2026, "Sổ kế hoạch năm 2026")
    a = out.to_signed()
    b = out.to_signed()
    first = out.ok("vanthu.tw", a, "issue")
    assert first["notation"] == "01/KH-MTTW-DCGSPBXH"
    r = out.act("vanthu.tw", b, "issue", register_id=second)
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["error"]["code"] == "duplicate_notation"
    assert "Sổ văn bản đi năm 2026" in r.get_json()["error"]["message"]
    numbers = _last_numbers(out.demo)
    assert numbers[("outgoing", 2026, "Sổ kế hoạch năm 2026")] == 0  # nothing consumed
    assert out.get("vanthu.tw", b).get_json()["register_number"] is None
    again = out.ok("vanthu.tw", b, "issue")
    assert again["notation"] == "02/KH-MTTW-DCGSPBXH"


def test_a_number_reserved_in_december_is_not_issued_in_january(
    out: Outgoing,
    inc: Incoming,
    demo_pki_loaded: DemoPKI,  # noqa: F811
) -> None:
    """FINDING (severity: medium), fixed. §2: numbers "run from 01 on 1 January to 31
    December and restart each year; number + notation is unique within the year". An
    organisation signing session opened on 31 December reserves number 01 of the 2026
    register; the token holder never answers; on 4 January 2027 the clerk issues with the
    server seal. The document was issued on 2027-01-04 under the 2026 register's "01/…", and
    the 2027 register then gave the next Kế hoạch "01/KH-MTTW-DCGSPBXH" again. Now the 2026
    reservation is released (an audit entry says which number of which register) and the
    number comes from the 2027 register."""
    demo = out.demo
    _at(demo, 2026, 12, 31, 8, 0)  # 15:00 in Hà Nội
    doc = out.to_signed()
    seal = Token(demo_pki_loaded, "org:000.00.00.Z01")
    r = out.client.post(
        f"/api/v1/documents/{doc}/signing-sessions",
        headers=out.h("vanthu.tw"),
        json=seal.body("organization"),
    )
    assert r.status_code == 201, r.get_json()
    assert out.get("vanthu.tw", doc).get_json()["register_number"] == 1
    _at(demo, 2027, 1, 4, 2, 0)
    reg_2027 = _open_register(inc, "outgoing", 2027, "Sổ văn bản đi năm 2027")
    out._tokens.clear()  # fresh tokens after the days passed
    issued = out.ok("vanthu.tw", doc, "issue")
    other = out.to_signed()
    second = out.ok("vanthu.tw", other, "issue")
    assert issued["issued_date"] == "2027-01-04"
    assert issued["register"]["id"] == reg_2027, issued["register"]
    assert (issued["notation"], second["notation"]) == (
        "01/KH-MTTW-DCGSPBXH",
        "02/KH-MTTW-DCGSPBXH",
    )
    with demo.factory() as s:
        (released,) = s.scalars(
            select(AuditEntry).where(AuditEntry.event == "number_released")
        ).all()
    assert released.object_id == str(doc)
    assert released.details["year"] == 2026 and released.details["number"] == 1
    assert released.details["notation"] == "01/KH-MTTW-DCGSPBXH"


# ---------------------------------------------------------------- §8 working days


def _set_day(inc: Incoming, day: str, kind: str, name: str) -> None:
    r = inc.client.put(
        "/api/v1/holidays", headers=inc.h("admin"), json={"day": day, "name": name, "kind": kind}
    )
    assert r.status_code == 200, r.get_json()


def test_deadlines_in_working_days_follow_the_calendar_admins_keep(inc: Incoming) -> None:
    """HELD. §8: "Deadlines are counted in working days: Monday-Friday minus public holidays
    (… 30/4, 1/5, … Giỗ Tổ Hùng Vương, and the government's yearly swap days). The holiday
    calendar is data that admins maintain". On Friday 24 April 2026, 3 working days skip the
    weekend, Monday 27 April (Giỗ Tổ, observed), 30 April and 1 May: Monday 4 May. Once the
    admin records Saturday 2 May as a swapped working day, the same 3 days end on that
    Saturday; the document is not overdue on Sunday 3 May and is one working day late on
    Monday 4 May."""
    demo = inc.demo
    _at(demo, 2026, 4, 24, 2, 0)  # Friday 09:00 in Hà Nội
    inc._tokens.clear()
    doc = inc.register(notation="31/KH-MTTQ-BTT", due_in_working_days=3, issued_date="2026-04-22")
    assert doc.status_code == 201, doc.get_json()
    assert doc.get_json()["due_date"] == "2026-05-04"
    _set_day(inc, "2026-05-02", "workday", "Làm bù cho ngày 30/4")
    doc_id = doc.get_json()["id"]
    r = inc.act(
        "lanhdao.tw",
        doc_id,
        "assign",
        lead={"unit_id": inc.unit_id("DCGSPBXH")},
        due_in_working_days=3,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["due_date"] == "2026-05-02"
    assert {a["due_date"] for a in r.get_json()["assignments"]} == {"2026-05-02"}
    _at(demo, 2026, 5, 3, 2, 0)  # Sunday
    inc._tokens.clear()
    sunday = inc.get("lanhdao.tw", doc_id).get_json()["deadline"]
    assert (sunday["overdue"], sunday["days_left"]) == (False, 0)
    _at(demo, 2026, 5, 4, 2, 0)  # Monday
    inc._tokens.clear()
    monday = inc.get("lanhdao.tw", doc_id).get_json()["deadline"]
    assert (monday["overdue"], monday["days_left"]) == (True, -1)


def test_task_lateness_counts_working_days_only(inc: Incoming) -> None:
    """HELD. §8 and API.md §5: "Overdue is derived (is_overdue, days_late in working days)". A
    task due Friday 24 April 2026 is not overdue on the holiday Monday 27 April; on Tuesday
    5 May it is 4 working days late (28, 29 April, 4, 5 May: the weekends, 30/4 and 1/5 do not
    count)."""
    demo = inc.demo
    _at(demo, 2026, 4, 23, 2, 0)
    inc._tokens.clear()
    r = inc.client.post(
        "/api/v1/tasks",
        headers=inc.h("lanhdao.tw"),
        json={
            "title": "Tổng hợp kết quả giám sát quý I",
            "description": "Gửi Ban Thường trực.",
            "lead": {"unit_id": inc.unit_id("DCGSPBXH")},
            "due_date": "2026-04-24",
            "priority": "normal",
        },
    )
    assert r.status_code == 201, r.get_json()
    task_id = r.get_json()["id"]

    def status() -> tuple[bool, int]:
        inc._tokens.clear()
        t = inc.client.get(f"/api/v1/tasks/{task_id}", headers=inc.h("lanhdao.tw")).get_json()
        return t["is_overdue"], t["days_late"]

    _at(demo, 2026, 4, 27, 9, 0)  # Monday 27 April, a day off
    assert status() == (False, 0)
    _at(demo, 2026, 5, 5, 2, 0)  # Tuesday 5 May
    assert status() == (True, 4)


# ---------------------------------------------------------------- §3, §4 incoming flow


def test_urgent_documents_come_first_in_the_leaders_box(inc: Incoming) -> None:
    """HELD. §3: "Urgent documents are registered, presented and forwarded immediately". In
    the leader's box a Hỏa tốc document presented after two ordinary ones is listed first, a
    Khẩn one next, then the ordinary ones newest first."""
    leader = inc.user_id("lanhdao.tw")
    made = {}
    for n, urgency in ((41, "normal"), (42, "normal"), (43, "flash"), (44, "urgent")):
        doc = _registered(inc, n, urgency=urgency)["id"]
        r = inc.act("vanthu.tw", doc, "submit", to_user_id=leader)
        assert r.status_code == 200, r.get_json()
        made[doc] = n
        inc.demo.clock.advance(minutes=5)
    box = [made[d] for d in inc.box("lanhdao.tw", "inbox") if d in made]
    assert box == [43, 44, 42, 41]


def test_incoming_moves_follow_the_order_and_the_roles(inc: Incoming) -> None:
    """HELD. §4: "tiếp nhận → đăng ký → trình, chuyển giao → giải quyết"; the leader records the
    direction, the lead handler handles it; API.md §3 refusal order 403 before 409. A
    registered paper document cannot be rejected (only an arrived one is returned to its
    sender); it is presented only to a leader; a specialist may not direct it; the cooperating
    unit may neither complete nor re-direct it; the deadline cannot be in the past; a unit
    lead is held by the unit head, who passes it on inside the unit (§4.3)."""
    doc = _registered(inc, 51)["id"]
    assert inc.act("vanthu.tw", doc, "reject", reason="Sai địa chỉ").status_code == 409
    not_leader = inc.act("vanthu.tw", doc, "submit", to_user_id=inc.user_id("truongban.dcgs"))
    assert not_leader.status_code == 422, not_leader.get_json()
    # Not routed to the specialist yet: not visible (404, API.md §7 refusal order).
    assert inc.act("chuyenvien.dcgs", doc, "complete", comment="Xong").status_code == 404
    ok = inc.act("vanthu.tw", doc, "submit", to_user_id=inc.user_id("lanhdao.tw"))
    assert ok.status_code == 200 and ok.get_json()["state"] == "submitted"
    lead = {"unit_id": inc.unit_id("DCGSPBXH")}
    past = inc.act("lanhdao.tw", doc, "assign", lead=lead, due_date="2026-11-20")
    assert past.status_code == 422, past.get_json()
    r = inc.act(
        "lanhdao.tw",
        doc,
        "assign",
        lead=lead,
        cooperating=[{"unit_id": inc.unit_id("TG")}],
        due_date="2026-11-27",
    )
    assert r.status_code == 200 and r.get_json()["state"] == "assigned"
    assert inc.act("chuyenvien.tg", doc, "complete", comment="Xong").status_code == 403
    assert inc.act("chuyenvien.tg", doc, "assign", lead=lead).status_code == 403
    # The unit is the lead: its head holds it until passing it on to a person of the unit.
    early = inc.act("chuyenvien.dcgs", doc, "complete", comment="Xong")
    assert early.status_code == 403, early.get_json()
    passed = inc.act(
        "truongban.dcgs", doc, "assign", lead={"user_id": inc.user_id("chuyenvien.dcgs")}
    )
    assert passed.status_code == 200 and passed.get_json()["state"] == "assigned"
    done = inc.act("chuyenvien.dcgs", doc, "complete", comment="Đã báo cáo Ban Thường trực.")
    assert done.status_code == 200 and done.get_json()["state"] == "done"
    trail = inc.client.get(f"/api/v1/documents/{doc}/trail", headers=inc.h("lanhdao.tw"))
    items = trail.get_json()["items"]
    assert [(e["action"], e["actor"]["name"]) for e in items] == [
        ("register", "Trần Thị Thu"),
        ("submit", "Trần Thị Thu"),
        ("assign", "Lê Văn Minh"),
        ("assign", "Phạm Thị Hạnh"),
        ("complete", "Đỗ Quang Huy"),
    ]


# ---------------------------------------------------------------- §10 dossiers and archive


def _dossier(inc: Incoming, code: str, retention: int | None, *docs: str) -> str:
    r = inc.client.post(
        "/api/v1/dossiers",
        headers=inc.h("vanthu.tw"),
        json={
            "organization_id": str(inc.demo.org_id("tw")),
            "year": 2026,
            "code": code,
            "title": f"Hồ sơ {code}",
            "retention_years": retention,
            "unit_id": inc.unit_id("DCGSPBXH"),
        },
    )
    assert r.status_code == 201, r.get_json()
    dossier = str(r.get_json()["id"])
    for doc in docs:
        f = inc.client.post(
            f"/api/v1/dossiers/{dossier}/documents",
            headers=inc.h("vanthu.tw"),
            json={"document_id": doc},
        )
        assert f.status_code == 200, f.get_json()
    return dossier


def _dossier_act(inc: Incoming, user: str, dossier: str, action: str, **body: Any) -> Any:
    return inc.client.post(
        f"/api/v1/dossiers/{dossier}/actions",
        headers=inc.h(user),
        json={"action": action, **body},
    )


def test_closing_fixes_the_dossier_and_the_archive_holds_it_read_only(inc: Incoming) -> None:
    """HELD. §10: "When the work ends the dossier is closed: its contents are fixed, … its
    dates and page counts recorded"; closed dossiers go to the archive, which accepts them
    after checking; "what it holds is read-only". Closing records the earliest and latest
    document dates and the pages (3 + 2); a closed dossier takes no document; only the
    archivist accepts the transfer; an archived dossier is neither reopened nor added to; the
    retention ends on 31 December of the end year + 10."""
    a = _registered(inc, 61, issued_date="2026-11-20", page_count=3)["id"]
    b = _registered(inc, 62, issued_date="2026-10-05", page_count=2)["id"]
    c = _registered(inc, 63, issued_date="2026-11-21")["id"]
    dossier = _dossier(inc, "05.DCGS", 10, a, b)
    closed = _dossier_act(inc, "vanthu.tw", dossier, "close")
    assert closed.status_code == 200, closed.get_json()
    body = closed.get_json()
    assert (body["state"], body["start_date"], body["end_date"]) == (
        "closed",
        "2026-10-05",
        "2026-11-20",
    )
    assert (body["page_count"], body["document_count"]) == (5, 2)
    assert body["retention_until"] == "2036-12-31"
    late = inc.client.post(
        f"/api/v1/dossiers/{dossier}/documents", headers=inc.h("vanthu.tw"), json={"document_id": c}
    )
    assert late.status_code == 409, late.get_json()
    assert _dossier_act(inc, "vanthu.tw", dossier, "transfer").get_json()["state"] == "transferred"
    assert _dossier_act(inc, "vanthu.tw", dossier, "accept").status_code == 403
    accepted = _dossier_act(inc, "luutru.tw", dossier, "accept")
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "archived"
    assert _dossier_act(inc, "lanhdao.tw", dossier, "reopen", comment="Bổ sung").status_code == 409
    again = inc.client.post(
        f"/api/v1/dossiers/{dossier}/documents", headers=inc.h("vanthu.tw"), json={"document_id": c}
    )
    assert again.status_code == 409
    final = inc.client.get(f"/api/v1/dossiers/{dossier}", headers=inc.h("luutru.tw")).get_json()
    assert (final["document_count"], final["page_count"]) == (2, 5)


def test_permanent_dossiers_are_never_proposed_for_disposal(inc: Incoming) -> None:
    """HELD. §10: "At the end of the retention period documents are reviewed; disposal needs
    the head's decision …; permanent dossiers are never destroyed". Three archived dossiers:
    one of 2010 kept 10 years (ended 31/12/2020: due for review), one of 2010 kept permanently,
    one of 2026 kept 10 years. Only the first is listed as due and may be proposed."""
    old = _registered(inc, 71, issued_date="2010-03-15")["id"]
    old2 = _registered(inc, 72, issued_date="2010-04-15")["id"]
    new = _registered(inc, 73, issued_date="2026-11-02")["id"]
    ids = {}
    for code, retention, doc in (("01.X", 10, old), ("02.X", None, old2), ("03.X", 10, new)):
        d = _dossier(inc, code, retention, doc)
        for user, action in (
            ("vanthu.tw", "close"),
            ("vanthu.tw", "transfer"),
            ("luutru.tw", "accept"),
        ):
            r = _dossier_act(inc, user, d, action)
            assert r.status_code == 200, (action, r.get_json())
        ids[code] = d
    due = inc.client.get("/api/v1/disposals/due", headers=inc.h("luutru.tw")).get_json()
    assert [x["code"] for x in due["items"]] == ["01.X"]

    def propose(code: str) -> Any:
        return inc.client.post(
            "/api/v1/disposals",
            headers=inc.h("luutru.tw"),
            json={"dossier_ids": [ids[code]], "reason": "Hết thời hạn bảo quản"},
        )

    assert propose("02.X").get_json()["error"]["code"] == "permanent_dossier"
    assert propose("03.X").get_json()["error"]["code"] == "retention_not_reached"
    assert propose("01.X").status_code == 201


# ---------------------------------------------------------------- §11 citizen feedback

WARD = "000.01.01.Z01"


def _feedback(inc: Incoming, lane: int = 7) -> tuple[str, dict[str, Any]]:
    """A citizen's submission to the ward through the public form; (item id, public answer)."""
    meta = {
        "organization_code": WARD,
        "category": "Môi trường, vệ sinh",
        "content": f"Đèn chiếu sáng ngõ {lane} hỏng nhiều ngày, đi lại buổi tối nguy hiểm.",
        "consent": True,
    }
    r = inc.client.post(
        "/api/v1/public/feedback",
        data={"meta": json.dumps(meta), "files": []},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["tracking_code"]
    public = inc.client.get(f"/api/v1/public/feedback/{code}").get_json()
    inc._tokens.clear()
    box = inc.client.get("/api/v1/feedback?box=all", headers=inc.h("vanthu.phuong")).get_json()
    item = next(i["id"] for i in box["items"] if i["tracking_code"] == code)
    return str(item), public


def _fb_act(inc: Incoming, user: str, item: str, action: str, **params: Any) -> Any:
    return inc.client.post(
        f"/api/v1/feedback/{item}/actions", headers=inc.h(user), json={"action": action, **params}
    )


def test_feedback_time_limits_count_from_the_day_received_in_hanoi(inc: Incoming) -> None:
    """HELD. §11: "Items within its authority are answered within 7 working days; complex
    cases within 20"; §8: the day is Hà Nội's. Sent at 23:59 on Sunday 22 November (16:59 UTC)
    the 7 working days run Monday to Tuesday 1 December; sent one minute later (Monday 00:00)
    they end Wednesday 2 December. Classified complex, the first is due 20 working days after
    Sunday 22 November: Friday 18 December; the second, 20 after Monday: 21 December."""
    _at(inc.demo, 2026, 11, 22, 16, 59)
    sunday, public = _feedback(inc)
    assert public["due_date"] == "2026-12-01"
    _at(inc.demo, 2026, 11, 22, 17, 0)
    monday, public = _feedback(inc, lane=9)
    assert public["due_date"] == "2026-12-02"
    r = _fb_act(inc, "vanthu.phuong", sunday, "classify", complexity="complex")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["due_date"] == "2026-12-18"
    r = _fb_act(inc, "vanthu.phuong", monday, "classify", complexity="complex")
    assert r.status_code == 200 and r.get_json()["due_date"] == "2026-12-21", r.get_json()
    assert "Đèn chiếu sáng" not in str(public) and set(public) >= {"due_date", "state"}


def test_a_case_found_complex_after_an_extension_gets_the_20_days(inc: Incoming) -> None:
    """FINDING (severity: low), fixed. §11: "complex cases within 20 [working days]". Received on
    Monday 23 November (simple: due 2 December), extended by 3 working days (7 December), then
    found complex: the deadline must be at least 20 working days from receipt (21 December,
    plus the extension: 24 December). The system keeps 7 December because an extension was
    granted (docflow/feedback/services.py: ``if item.extension_reason is None``), so the item
    shows overdue from 8 December although the rule gives it until 21 December. Now it gets
    the 20 days and the extension's 3 on top: 24 December; found simple again, 7 December."""
    item, public = _feedback(inc)
    assert public["due_date"] == "2026-12-02"
    assert _fb_act(inc, "vanthu.phuong", item, "accept").status_code == 200
    r = _fb_act(
        inc, "lanhdao.phuong", item, "request_extension", working_days=3, reason="Chờ xác minh"
    )
    assert r.status_code == 200 and r.get_json()["due_date"] == "2026-12-07", r.get_json()
    r = _fb_act(inc, "vanthu.phuong", item, "classify", complexity="complex")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["due_date"] == "2026-12-24", r.get_json()["due_date"]
    r = _fb_act(inc, "vanthu.phuong", item, "classify", complexity="simple")
    assert r.status_code == 200 and r.get_json()["due_date"] == "2026-12-07", r.get_json()


# ---------------------------------------------------------------- §12 periodic reports


def _form(inc: Incoming, period: str, fields: list[dict[str, Any]], **extra: Any) -> None:
    r = inc.client.post(
        "/api/v1/report-forms",
        headers=inc.h("lanhdao.tw"),
        json={
            "title": f"Báo cáo {period}",
            "fields": fields,
            "period": period,
            "recipients": {"scope": "children"},
            **extra,
        },
    )
    assert r.status_code == 201, r.get_json()


def _requests(inc: Incoming, user: str = "vanthu.tinh") -> dict[str, dict[str, Any]]:
    r = inc.client.get("/api/v1/report-requests?box=to_fill", headers=inc.h(user))
    assert r.status_code == 200, r.get_json()
    return {i["form"]["title"]: i for i in r.get_json()["items"]}


def test_report_periods_and_their_deadlines(inc: Incoming) -> None:
    """HELD. §11, §12: "monthly before a day such as the 25th, weekly, quarterly"; the ward
    "reports quarterly to the level above before the 25th of the quarter's last month". On
    Monday 23 November 2026 the province is asked: monthly by the 25th (2026-11-25), quarterly
    by the 25th of December for the whole fourth quarter, weekly by Friday of ISO week 48, and
    monthly by "the 31st" on the month's last day."""
    number = [{"key": "n", "label": "Số liệu", "type": "number"}]
    _form(inc, "monthly", number, deadline_day=25)
    _form(inc, "quarterly", number, deadline_day=25)
    _form(inc, "weekly", number)
    _form(inc, "monthly", number, deadline_day=31, title="Báo cáo cuối tháng")
    got = {
        t: (i["period"], i["period_start"], i["period_end"], i["deadline"], i["state"])
        for t, i in _requests(inc).items()
    }
    assert got == {
        "Báo cáo monthly": ("2026-11", "2026-11-01", "2026-11-30", "2026-11-25", "open"),
        "Báo cáo quarterly": ("2026-Q4", "2026-10-01", "2026-12-31", "2026-12-25", "open"),
        "Báo cáo weekly": ("2026-W48", "2026-11-23", "2026-11-29", "2026-11-27", "open"),
        "Báo cáo cuối tháng": ("2026-11", "2026-11-01", "2026-11-30", "2026-11-30", "open"),
    }


def test_a_refused_document_is_not_counted_as_received(out: Outgoing, inc: Incoming) -> None:
    """FINDING (severity: low), fixed. §12: figures "documents received … electronically … should be
    filled in by [the system]"; §4.1 and §7: an invalid or mis-addressed document is refused
    (02 "từ chối tiếp nhận", refused reception) as opposed to 03 "đã tiếp nhận" (received). The
    province registers one paper document and refuses the one the centre sent it through the
    system: its report is pre-filled with 2 documents received, 1 of them electronically
    (docflow/reports/prefill.py counts every incoming row created in the period, whatever its
    state). It received one, none electronically: now the figures count the documents
    registered in the period."""
    doc = out.to_dispatched()
    with out.demo.factory() as s:
        copy = s.scalars(
            select(Document.id).where(
                Document.organization_id == out.demo.org_id("tinh"),
                Document.direction == "incoming",
            )
        ).one()
    assert doc
    r = inc.act("vanthu.tinh", str(copy), "reject", reason="Gửi nhầm, không thuộc thẩm quyền.")
    assert r.status_code == 200 and r.get_json()["state"] == "rejected", r.get_json()
    paper = inc.register(username="vanthu.tinh", notation="15/KH-MTTW-BTT")
    assert paper.status_code == 201, paper.get_json()
    _form(
        inc,
        "monthly",
        [
            {
                "key": "rec",
                "label": "Văn bản đến",
                "type": "number",
                "source": "documents_received",
            },
            {
                "key": "rec_e",
                "label": "Văn bản đến điện tử",
                "type": "number",
                "source": "documents_received_electronic",
            },
        ],
        deadline_day=25,
    )
    req = _requests(inc)["Báo cáo monthly"]
    got = inc.client.get(f"/api/v1/report-requests/{req['id']}", headers=inc.h("vanthu.tinh"))
    prefilled = got.get_json()["prefilled"]
    assert (prefilled["rec"], prefilled["rec_e"]) == (1, 0), prefilled


def test_feedback_answered_on_time_is_a_figure_the_system_fills(inc: Incoming) -> None:
    """FINDING (severity: low), fixed. §12: "Many figures (documents received and sent
    electronically, share signed digitally, tasks on time, feedback answered on time) are known
    to the system and should be filled in by it." A form field's ``source`` may name only the
    figures of docflow/reports/commands.py ``SYSTEM_SOURCES`` (documents, signatures, users,
    tasks): no feedback figure exists, so the ward's quarterly report to the level above
    (§11) cannot be pre-filled with the items answered on time, though
    ``GET /feedback/statistics`` knows them. The API description lists what a source may be;
    it now names the feedback received, answered and answered on time, counted as the
    quarterly feedback report counts them."""
    spec = inc.client.get("/api/v1/openapi.json").get_json()
    sources: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            desc = str(node.get("description", ""))
            if desc.startswith("Số liệu hệ thống tự điền: "):
                sources.update(x.strip(" .") for x in desc.split(":", 1)[1].split(","))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    assert "documents_received_electronic" in sources, sources  # the list was found
    assert {"feedback_received", "feedback_answered", "feedback_on_time_percent"} <= sources
    # The figures, for the ward's month: three items received, one answered by its deadline,
    # one after it, one open; an item set aside (quarantine) is not counted.
    items = [_feedback(inc, lane=n)[0] for n in (1, 2, 3, 4)]
    with inc.demo.factory() as s, s.begin():
        rows = [s.get_one(FeedbackItem, uuid.UUID(i)) for i in items]
        rows[0].answered_on = rows[0].due_date
        rows[1].answered_on = rows[1].due_date + dt.timedelta(days=3)
        rows[3].quarantine_reason = "honeypot"
    with inc.demo.uow() as uow:
        figures = system_figures(
            uow, inc.demo.org_id("phuong"), dt.date(2026, 11, 1), dt.date(2026, 11, 30)
        )
    got = {k: v for k, v in figures.items() if k.startswith("feedback_")}
    assert got == {
        "feedback_received": 3,
        "feedback_answered": 2,
        "feedback_on_time_percent": 50.0,
    }
