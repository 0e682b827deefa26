"""Domain-rule review, second pass: what the first (test_domain_review.py) did not reach. The
outgoing review chain and its versions, recall and the status codes each recipient's system
sends back, replacement; the incoming direction's co-operating units and the printed
registers; the file plan, the transfer to the archive, its hand-over record and reminders, the
BagIt package; the processing statistics by unit; who sees what.

Each ``FINDING`` test asserts the behaviour the rule asks for and failed on the code as
reviewed. Eight of the nine are fixed ("fixed" says how); the one left is marked
``xfail(strict=True)`` (it starts passing, and so fails the file, once fixed): drafting a
replacing document or a correction. Each
``HELD`` test pins a rule that holds on specific values. The clock starts on Monday 23 November
2026, 09:00 in Hà Nội (02:00 UTC, tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import bagit
import openpyxl
import pytest
from docx import Document as Docx
from sqlalchemy import select

from docflow.dossiers.reminders import send_transfer_reminders
from docflow.models import Document, Notification
from tests.conftest import Demo
from tests.docflow.test_domain_review import _dossier_act
from tests.incoming.conftest import Incoming
from tests.outgoing.conftest import (  # noqa: F401  (fixtures)
    Outgoing,
    app,
    converter,
    demo_pki_dir,
    demo_pki_loaded,
)

UTC = dt.UTC


@pytest.fixture
def out(client: Any, api: Any, demo: Demo) -> Outgoing:
    return Outgoing(client, api, demo)


@pytest.fixture
def inc(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


def _at(*drivers: Incoming | Outgoing, when: dt.datetime) -> None:
    """Set the clock (UTC) and drop the tokens issued before (they may have expired)."""
    drivers[0].demo.clock.now = when.replace(tzinfo=UTC)
    for d in drivers:
        d._tokens.clear()


def _copy_of(demo: Demo, org: str) -> str:
    """The incoming copy an internal dispatch made in ``org``."""
    with demo.factory() as s:
        return str(
            s.scalars(
                select(Document.id).where(
                    Document.organization_id == demo.org_id(org),
                    Document.direction == "incoming",
                )
            ).one()
        )


def _status(out: Outgoing, doc: str) -> dict[str, tuple[str, str]]:
    """Per recipient code: the status the sender sees (code, text)."""
    return {
        d["recipient"]["code"]: (d["status_code"], d["status_text"])
        for d in out.deliveries("vanthu.tw", doc)
    }


TINH, PHUONG = "000.00.01.Z01", "000.01.01.Z01"


# ---------------------------------------------------------------- §5 outgoing


def test_a_draft_sent_back_keeps_every_version_and_goes_up_again(out: Outgoing) -> None:
    """HELD. §5: "Drafts go up a chain (specialist → unit head → leader); any reviewer can send
    it back with comments; every version is kept." The unit head sends version 1 back with a
    comment; only the drafter may then add a version (the unit head 403); version 2 goes up
    again; both versions stay listed with their own digests, and the trail names each step
    in order with the version it concerned."""
    doc = out.template().get_json()["id"]
    head, leader = out.user_id("truongban.dcgs"), out.user_id("lanhdao.tw")
    out.ok("chuyenvien.dcgs", doc, "submit_for_review", to_user_id=head)
    back = out.ok("truongban.dcgs", doc, "request_changes", comment="Bổ sung thời hạn báo cáo.")
    assert back["state"] == "changes_requested"
    # The leader, its designated signer, may not sign a draft that was sent back.
    assert out.act("lanhdao.tw", doc, "sign").status_code == 409

    def version(user: str) -> Any:
        return out.client.post(
            f"/api/v1/documents/{doc}/versions/template",
            headers=out.h(user),
            json={"body": "Báo cáo kết quả trước ngày 10 tháng 12 năm 2026.", "note": "Bản 2"},
        )

    assert version("truongban.dcgs").status_code == 403
    r = version("chuyenvien.dcgs")
    assert r.status_code == 201, r.get_json()
    out.ok("chuyenvien.dcgs", doc, "submit_for_review", to_user_id=head)
    out.ok("truongban.dcgs", doc, "submit_for_review", to_user_id=leader)
    signed = out.ok("lanhdao.tw", doc, "sign")
    assert (signed["state"], signed["draft_version"]) == ("signed", 2)
    versions = out.client.get(f"/api/v1/documents/{doc}/versions", headers=out.h("lanhdao.tw"))
    assert versions.status_code == 200, versions.get_json()
    items = versions.get_json()["items"]
    assert sorted(v["version"] for v in items) == [1, 2]
    drafts = {f["version"]: f["sha256"] for f in signed["files"] if f["kind"] == "draft"}
    assert set(drafts) == {1, 2} and drafts[1] != drafts[2]
    signed_files = [f["version"] for f in signed["files"] if f["kind"] == "signed"]
    assert signed_files == [2]  # the signature is of version 2, the one reviewed last
    trail = out.client.get(f"/api/v1/documents/{doc}/trail", headers=out.h("lanhdao.tw"))
    steps = [e["action"] for e in trail.get_json()["items"]]
    core = [s for s in steps if s in ("submit_for_review", "request_changes", "sign")]
    assert core == [
        "submit_for_review",
        "request_changes",
        "submit_for_review",
        "submit_for_review",
        "sign",
    ]


def test_recipients_systems_report_each_step_with_its_status_code(
    out: Outgoing, inc: Incoming
) -> None:
    """HELD. §4.1 and §7: the recipient sends 01 on arrival, 03 on registration, 04 assigned, 05
    in progress, 06 done; an invalid or mis-addressed document is returned with a reason (02).
    The sender's clerk sees, per recipient, the latest code: the province's register number
    with its 03, then 06; the ward's 02 with its reason."""
    doc = out.to_dispatched()
    assert _status(out, doc) == {TINH: ("01", "Đã đến"), PHUONG: ("01", "Đã đến")}
    tinh, phuong = _copy_of(out.demo, "tinh"), _copy_of(out.demo, "phuong")
    assert inc.act("vanthu.tinh", tinh, "register").status_code == 200
    assert _status(out, doc)[TINH] == ("03", "Đã tiếp nhận (vào sổ), số đến 01")
    r = inc.act("vanthu.phuong", phuong, "reject", reason="Gửi nhầm nơi nhận.")
    assert r.status_code == 200, r.get_json()
    leader = inc.user_id("lanhdao.tinh")
    assert inc.act("vanthu.tinh", tinh, "submit", to_user_id=leader).status_code == 200
    lead = {"user_id": inc.user_id("chuyenvien.tinh")}
    r = inc.act("lanhdao.tinh", tinh, "assign", lead=lead, due_date="2026-12-04")
    assert r.status_code == 200, r.get_json()
    codes_seen = [_status(out, doc)[TINH][0]]
    assert inc.act("chuyenvien.tinh", tinh, "start").status_code == 200
    codes_seen.append(_status(out, doc)[TINH][0])
    r = inc.act("chuyenvien.tinh", tinh, "complete", comment="Đã triển khai.")
    assert r.status_code == 200, r.get_json()
    codes_seen.append(_status(out, doc)[TINH][0])
    assert codes_seen == ["04", "05", "06"]
    assert _status(out, doc) == {
        TINH: ("06", "Hoàn thành"),
        PHUONG: ("02", "Từ chối tiếp nhận: Gửi nhầm nơi nhận."),
    }
    history = {
        d["recipient"]["code"]: [e["status_code"] for e in d["events"]]
        for d in out.deliveries("vanthu.tw", doc)
    }
    assert history == {TINH: ["01", "03", "04", "05", "06"], PHUONG: ["01", "02"]}


def test_a_recall_reaches_copies_nobody_handled_and_keeps_the_record(
    out: Outgoing, inc: Incoming
) -> None:
    """HELD. §5: "Recall (thu hồi): the sender recalls; each recipient cancels the document in
    its system and answers (status 13 from the sender; 15 agreed …)". Only a dispatched
    document is recalled (an issued one: 409; a specialist: 403); the copies that only
    arrived are cancelled, each delivery's history reads 01, 13, 15, the copy says why and by
    whom, and the sender's document keeps its number."""
    issued = out.to_signed()
    out.ok("vanthu.tw", issued, "issue")
    assert out.act("vanthu.tw", issued, "recall", reason="Sai sót").status_code == 409
    out.ok("vanthu.tw", issued, "dispatch")
    assert out.act("chuyenvien.dcgs", issued, "recall", reason="Sai sót").status_code == 403
    recalled = out.ok("vanthu.tw", issued, "recall", reason="Ghi sai thời hạn báo cáo.")
    assert (recalled["state"], recalled["notation"]) == ("recalled", "01/KH-MTTW-DCGSPBXH")
    history = {
        d["recipient"]["code"]: [(e["status_code"], e["status_text"]) for e in d["events"]]
        for d in out.deliveries("vanthu.tw", issued)
    }
    for code in (TINH, PHUONG):
        assert history[code] == [
            ("01", "Đã đến"),
            ("13", "Đã yêu cầu thu hồi: Ghi sai thời hạn báo cáo."),
            ("15", "Đồng ý thu hồi"),
        ]
    copy = _copy_of(out.demo, "tinh")
    got = inc.get("vanthu.tinh", copy).get_json()
    assert (got["state"], got["allowed_actions"]) == ("recalled", [])
    trail = inc.client.get(f"/api/v1/documents/{copy}/trail", headers=inc.h("vanthu.tinh"))
    last = trail.get_json()["items"][-1]
    assert (last["action"], last["comment"]) == ("recall", "Ghi sai thời hạn báo cáo.")
    assert inc.act("vanthu.tinh", copy, "register").status_code == 409


def test_a_handled_copy_is_recalled_only_when_its_organisation_agrees(
    out: Outgoing, inc: Incoming
) -> None:
    """FINDING (severity: medium), fixed. §5: "each recipient cancels the document in its system and
    answers (status 13 from the sender; 15 agreed / 16 refused from the recipient)"; §7: 15
    "đồng ý thu hồi" and 16 "từ chối thu hồi" are sent by the recipient. The province
    registered, assigned and completed the centre's plan (06); the centre recalls it. The
    province's copy becomes ``recalled`` at once, its open work cancelled, and the centre is
    told "15 Đồng ý thu hồi" although nobody in the province agreed (the trail entry has no
    actor); the province can neither refuse (16) nor keep the copy it has acted on. A copy
    received through the axis in the same state waits for the clerk (accept_recall /
    refuse_recall): the internal one must too. Now its clerk decides, as for a copy from the axis."""
    doc = out.to_dispatched()
    tinh = _copy_of(out.demo, "tinh")
    inc.act("vanthu.tinh", tinh, "register")
    inc.act("vanthu.tinh", tinh, "submit", to_user_id=inc.user_id("lanhdao.tinh"))
    lead = {"user_id": inc.user_id("chuyenvien.tinh")}
    inc.act("lanhdao.tinh", tinh, "assign", lead=lead, due_date="2026-12-04")
    done = inc.act("chuyenvien.tinh", tinh, "complete", comment="Đã tổ chức hội nghị.")
    assert done.get_json()["state"] == "done"
    out.ok("vanthu.tw", doc, "recall", reason="Ghi sai thời hạn báo cáo.")
    copy = inc.get("vanthu.tinh", tinh).get_json()
    assert copy["state"] == "done", copy["state"]
    assert {"accept_recall", "refuse_recall"} <= set(copy["allowed_actions"])
    assert _status(out, doc)[TINH][0] == "13"
    r = inc.act("vanthu.tinh", tinh, "refuse_recall", reason="Hội nghị đã tổ chức xong.")
    assert r.status_code == 200 and r.get_json()["state"] == "done"
    assert _status(out, doc)[TINH] == ("16", "Từ chối thu hồi: Hội nghị đã tổ chức xong.")


def test_a_replacing_document_names_the_one_it_replaces(out: Outgoing) -> None:
    """FINDING (severity: medium). §5: "Errors of content are fixed by a replacing document;
    errors of form by a correction (đính chính)"; §7: BussinessDocType 3 = replace, with
    ReplacementInfoList. A plan was issued and dispatched with a wrong deadline. Its
    replacement cannot say what it replaces: ``replaces_document_id`` in the draft's meta is
    refused (422 "Trường này không được chấp nhận"), no other field exists, and the outgoing
    flow never emits an update (2) or replace (3) package (interop/outbox.py builds only new
    and revoke). The recipients get an unrelated new plan beside the old one. Now fixed: a
    draft names the document it replaces or corrects (docflow.outgoing.replacements; the whole
    behaviour in tests/outgoing/test_replacements.py)."""
    old = out.to_dispatched()
    r = out.template(
        subject="Kế hoạch giám sát (thay thế Kế hoạch số 01/KH-MTTW-DCGSPBXH)",
        replaces_document_id=old,
    )
    assert r.status_code == 201, r.get_json()
    new = r.get_json()
    assert new["replaces"]["id"] == old, new.get("replaces")


# ---------------------------------------------------------------- §4 incoming


def test_a_cooperating_unit_cannot_undo_the_leaders_direction(inc: Incoming) -> None:
    """FINDING (severity: high), fixed. §4.3: "The leader records the direction: the lead unit …
    (chủ trì), co-operating units (phối hợp) … Unit heads can pass it on inside their unit."
    The leader gives the lead to Ban Tuyên giáo and the co-operation to Ban Dân chủ. The head
    of the co-operating Ban Dân chủ (truongban.dcgs) is offered ``return`` and uses it: the
    document goes back to the clerk (``registered``), and the lead unit's assignment and his
    own are cancelled, undoing the leader's direction. A co-operating unit passes its part on
    inside the unit; returning the document is for the leader and the lead. Now only the lead unit's head, or a leader, sends it back."""
    doc = inc.register(notation="70/KH-MTTQ-BTT").get_json()["id"]
    inc.act("vanthu.tw", doc, "submit", to_user_id=inc.user_id("lanhdao.tw"))
    r = inc.act(
        "lanhdao.tw",
        doc,
        "assign",
        lead={"unit_id": inc.unit_id("TG")},
        cooperating=[{"unit_id": inc.unit_id("DCGSPBXH")}],
        due_date="2026-11-30",
    )
    assert r.status_code == 200, r.get_json()
    offered = inc.get("truongban.dcgs", doc).get_json()["allowed_actions"]
    assert "assign" in offered  # passing his unit's part on inside the unit: right
    assert "return" not in offered
    back = inc.act("truongban.dcgs", doc, "return", comment="Không thuộc chức năng của Ban.")
    assert back.status_code == 403, back.get_json()
    after = inc.get("lanhdao.tw", doc).get_json()
    assert after["state"] == "assigned"
    assert {(a["role"], a["state"]) for a in after["assignments"]} == {
        ("lead", "pending"),
        ("cooperating", "pending"),
    }


def _xlsx_rows(data: bytes) -> list[tuple[Any, ...]]:
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def _docx_table(data: bytes, n: int = 0) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in Docx(io.BytesIO(data)).tables[n].rows]


def test_the_incoming_register_prints_every_column_of_decree_30(inc: Incoming) -> None:
    """HELD. §4.2: fields of the register "ngày đến, số đến, tác giả / nơi gửi, số ký hiệu, ngày
    tháng văn bản, tên loại và trích yếu, đơn vị / người nhận, ký nhận, ghi chú"; "Registers
    kept in the system must be printable with all their columns". XLSX and DOCX carry the nine
    columns in that order; a row carries the arrival day in Hà Nội (a document received at
    23:30 on 23 November is of 23/11, though 16:30 UTC), the number with its leading zero,
    the lead unit the leader chose, and a công văn without a type name."""
    _at(inc, when=dt.datetime(2026, 11, 23, 16, 30))
    doc = inc.register(notation="71/KH-MTTQ-BTT").get_json()
    inc.act("vanthu.tw", doc["id"], "submit", to_user_id=inc.user_id("lanhdao.tw"))
    lead = {"unit_id": inc.unit_id("DCGSPBXH")}
    inc.act("lanhdao.tw", doc["id"], "assign", lead=lead, due_date="2026-12-04")
    cv = inc.register(notation="72/MTTQ-BTT", doc_type="CV", subject="V/v cử cán bộ dự hội nghị")
    assert cv.status_code == 201, cv.get_json()
    url = f"/api/v1/reports/registers/{doc['register']['id']}?year=2026"
    xlsx = inc.client.get(url + "&format=xlsx", headers=inc.h("vanthu.tw"))
    assert xlsx.status_code == 200
    rows = _xlsx_rows(xlsx.data)
    columns = [
        "Ngày đến",
        "Số đến",
        "Tác giả (nơi gửi)",
        "Số, ký hiệu",
        "Ngày tháng văn bản",
        "Tên loại và trích yếu nội dung",
        "Đơn vị hoặc người nhận",
        "Ký nhận",
        "Ghi chú",
    ]
    header = rows.index(tuple(columns))
    assert rows[header + 1][:7] == (
        "23/11/2026",
        "01",
        "Ủy ban MTTQ Việt Nam tỉnh Demo",
        "71/KH-MTTQ-BTT",
        "20/11/2026",
        "KH: Kế hoạch tổ chức Ngày hội Đại đoàn kết toàn dân tộc năm 2026",
        "Ban Dân chủ, Giám sát và Phản biện xã hội",
    )
    assert rows[header + 2][:6] == (
        "23/11/2026",
        "02",
        "Ủy ban MTTQ Việt Nam tỉnh Demo",
        "72/MTTQ-BTT",
        "20/11/2026",
        "V/v cử cán bộ dự hội nghị",
    )
    docx = inc.client.get(url + "&format=docx", headers=inc.h("vanthu.tw"))
    table = _docx_table(docx.data)
    assert table[0] == columns
    assert [r[1] for r in table[1:]] == ["01", "02"]
    # The register is the office's: a specialist may not print it.
    assert inc.client.get(url + "&format=xlsx", headers=inc.h("chuyenvien.dcgs")).status_code == 403


def test_the_outgoing_register_shows_when_each_document_left(out: Outgoing) -> None:
    """FINDING (severity: low), fixed. §5: "number and time → register → … → dispatch (phát hành) the
    same day or the next working day → file the original (lưu)"; §4.2 and §5: registers are
    printed "with all their columns". The outgoing register has a «Ngày chuyển» (day sent)
    column; the system fills it with the issue time (``registered_at``), so a plan issued on
    Tuesday 24 and dispatched on Wednesday 25 November reads 24/11/2026, and a document
    issued but never dispatched reads as sent. «Đơn vị, người nhận bản lưu» (who keeps the
    original: the notation's drafting unit, "Lưu: VT, <unit>") is always empty though the
    system knows it. Now «Ngày chuyển» is the dispatch's day and the copy is kept by «Văn thư, <drafting unit>»."""
    first, second = out.to_signed(), out.to_signed()
    _at(out, when=dt.datetime(2026, 11, 24, 2, 0))
    out.ok("vanthu.tw", first, "issue")
    issued = out.ok("vanthu.tw", second, "issue")
    _at(out, when=dt.datetime(2026, 11, 25, 2, 0))
    out.ok("vanthu.tw", first, "dispatch")
    url = f"/api/v1/reports/registers/{issued['register']['id']}?year=2026&format=docx"
    r = out.client.get(url, headers=out.h("vanthu.tw"))
    table = _docx_table(r.data)
    head = table[0]
    rows = {row[0]: dict(zip(head, row, strict=True)) for row in table[1:]}
    one, two = rows["01/KH-MTTW-DCGSPBXH"], rows["02/KH-MTTW-DCGSPBXH"]
    assert one["Ngày tháng văn bản"] == "24/11/2026"
    assert (one["Ngày chuyển"], two["Ngày chuyển"]) == ("25/11/2026", "")
    assert "Ban Dân chủ, Giám sát và Phản biện xã hội" in one["Đơn vị, người nhận bản lưu"]


# ---------------------------------------------------------------- §10 dossiers and archive


def _plan_with_item(inc: Incoming, code: str, retention: int | None, keeper: str) -> str:
    """An approved 2026 file plan with one dossier of Ban Dân chủ; the item's id."""
    tw = str(inc.demo.org_id("tw"))
    r = inc.client.post(
        "/api/v1/file-plans", headers=inc.h("vanthu.tw"), json={"organization_id": tw, "year": 2026}
    )
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()["id"]
    r = inc.client.post(
        f"/api/v1/file-plans/{plan}/headings",
        headers=inc.h("vanthu.tw"),
        json={"code": "I", "title": "Ban Dân chủ", "unit_id": inc.unit_id("DCGSPBXH")},
    )
    heading = r.get_json()["headings"][0]["id"]
    r = inc.client.post(
        f"/api/v1/file-plans/{plan}/items",
        headers=inc.h("vanthu.tw"),
        json={
            "heading_id": heading,
            "code": code,
            "title": "Hồ sơ giám sát an sinh xã hội năm 2026",
            "retention_years": retention,
            "unit_id": inc.unit_id("DCGSPBXH"),
            "keeper_id": inc.user_id(keeper),
        },
    )
    assert r.status_code == 200, r.get_json()
    item = r.get_json()["headings"][0]["items"][0]["id"]
    r = inc.client.post(
        f"/api/v1/file-plans/{plan}/actions",
        headers=inc.h("lanhdao.tw"),
        json={"action": "approve"},
    )
    assert r.status_code == 200 and r.get_json()["state"] == "approved", r.get_json()
    return str(item)


def _open_from_plan(inc: Incoming, user: str, item: str, **extra: Any) -> Any:
    return inc.client.post(
        "/api/v1/dossiers",
        headers=inc.h(user),
        json={
            "organization_id": str(inc.demo.org_id("tw")),
            "year": 2026,
            "plan_item_id": item,
            **extra,
        },
    )


def test_a_planned_dossier_keeps_the_retention_the_head_approved(inc: Incoming) -> None:
    """FINDING (severity: high), fixed. §10: "Each organisation approves at the start of the year its
    file plan: … for each dossier … a retention period: permanent (vĩnh viễn) or a number of
    years"; "permanent dossiers are never destroyed". The head approved 01.DCGS as permanent.
    The specialist opens it from the plan with ``retention_years: 2``: 201, the dossier is
    kept 2 years (``planned: true``), the plan still says permanent, nothing awaits the head's
    approval, and the dossier will be due for disposal at the end of 2028. A planned dossier
    takes the plan's retention; a different one is a change of the plan for the head. Now another period is refused (422 on retention_years, naming the plan's)."""
    item = _plan_with_item(inc, "01.DCGS", None, "chuyenvien.dcgs")
    r = _open_from_plan(inc, "chuyenvien.dcgs", item, retention_years=2)
    assert r.status_code == 422, r.get_json()
    assert "retention_years" in r.get_json()["error"]["details"]["fields"]
    assert "vĩnh viễn" in r.get_json()["error"]["details"]["fields"]["retention_years"]
    r = _open_from_plan(inc, "chuyenvien.dcgs", item)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["retention_years"], body["retention_until"], body["planned"]) == (
        None,
        None,
        True,
    )


def test_a_planned_dossier_is_kept_by_the_person_the_plan_names(inc: Incoming) -> None:
    """FINDING (severity: low), fixed. §10: the file plan names for each dossier "the unit/person who
    keeps it (người lập hồ sơ)". The plan names Đỗ Quang Huy for 01.DCGS; the clerk opens it
    for the unit: the dossier's keeper is the clerk (Trần Thị Thu), so the transfer reminders
    (docflow/dossiers/reminders.py, sent to ``keeper_id``) go to the clerk and the table of
    contents names her as người lập hồ sơ. Now the plan's keeper keeps it."""
    item = _plan_with_item(inc, "01.DCGS", 10, "chuyenvien.dcgs")
    r = _open_from_plan(inc, "vanthu.tw", item)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["keeper"]["name"] == "Đỗ Quang Huy"


def test_an_unplanned_dossier_joins_the_plan_awaiting_the_head(inc: Incoming) -> None:
    """HELD. §10: "Dossiers not in the plan may be opened and are added to it." After the plan
    was approved, the specialist opens 09.PS outside it: the dossier is ``planned: false``,
    and the plan gains 09.PS under its unit's heading, marked as arising outside the plan and
    not approved (one pending change); the head's approval approves it. An approved item
    is opened once only (409 plan_item_taken)."""
    item = _plan_with_item(inc, "01.DCGS", 10, "chuyenvien.dcgs")
    r = inc.client.post(
        "/api/v1/dossiers",
        headers=inc.h("chuyenvien.dcgs"),
        json={
            "organization_id": str(inc.demo.org_id("tw")),
            "year": 2026,
            "code": "09.PS",
            "title": "Hồ sơ đoàn công tác tại tỉnh Demo",
            "retention_years": 5,
        },
    )
    assert r.status_code == 201 and r.get_json()["planned"] is False, r.get_json()
    plans = inc.client.get("/api/v1/file-plans", headers=inc.h("vanthu.tw")).get_json()
    plan_id = plans["items"][0]["id"]
    plan = inc.client.get(f"/api/v1/file-plans/{plan_id}", headers=inc.h("vanthu.tw")).get_json()
    assert plan["pending_changes"] == 1
    items = {i["code"]: i for h in plan["headings"] for i in h["items"]}
    assert (items["09.PS"]["approved"], items["09.PS"]["retention_years"]) == (False, 5)
    assert items["09.PS"]["note"] == "Hồ sơ phát sinh ngoài danh mục"
    r = inc.client.post(
        f"/api/v1/file-plans/{plan_id}/actions",
        headers=inc.h("lanhdao.tw"),
        json={"action": "approve"},
    )
    assert r.status_code == 200 and r.get_json()["pending_changes"] == 0
    assert _open_from_plan(inc, "chuyenvien.dcgs", item).status_code == 201
    again = _open_from_plan(inc, "truongban.dcgs", item)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "plan_item_taken"


def _dossier(inc: Incoming, code: str, *docs: str, user: str = "vanthu.tw") -> str:
    r = inc.client.post(
        "/api/v1/dossiers",
        headers=inc.h(user),
        json={
            "organization_id": str(inc.demo.org_id("tw")),
            "year": 2026,
            "code": code,
            "title": f"Hồ sơ {code}",
            "retention_years": 10,
            "unit_id": inc.unit_id("DCGSPBXH"),
        },
    )
    assert r.status_code == 201, r.get_json()
    dossier = str(r.get_json()["id"])
    for doc in docs:
        f = inc.client.post(
            f"/api/v1/dossiers/{dossier}/documents",
            headers=inc.h(user),
            json={"document_id": doc},
        )
        assert f.status_code == 200, f.get_json()
    return dossier


def _doc(inc: Incoming, n: int, issued: str, pages: int) -> str:
    r = inc.register(notation=f"{n}/KH-MTTQ-BTT", issued_date=issued, page_count=pages)
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["id"])


def test_closed_dossiers_are_reminded_before_and_after_the_one_year_deadline(
    inc: Incoming,
) -> None:
    """HELD. §10: "Closed dossiers go to the organisation's archive within one year of the end
    of the work". A dossier whose work ended on 10 December 2025 (its last document) is due
    by 10 December 2026: on 23 November its keeper is told once that the day is near (a rerun
    sends nothing), on 11 December once that it has passed; a transferred dossier of the
    same age is not reminded."""
    a = _doc(inc, 81, "2025-12-10", 2)
    b = _doc(inc, 82, "2025-12-09", 1)
    late = _dossier(inc, "11.DCGS", a)
    gone = _dossier(inc, "12.DCGS", b)
    for d in (late, gone):
        closed = _dossier_act(inc, "vanthu.tw", d, "close")
        assert closed.status_code == 200, closed.get_json()
    assert _dossier_act(inc, "vanthu.tw", gone, "transfer").status_code == 200
    assert send_transfer_reminders(inc.demo.uow()) == 1
    assert send_transfer_reminders(inc.demo.uow()) == 0
    _at(inc, when=dt.datetime(2026, 12, 11, 2, 0))
    assert send_transfer_reminders(inc.demo.uow()) == 1
    assert send_transfer_reminders(inc.demo.uow()) == 0
    with inc.demo.factory() as s:
        got = [
            (n.kind, n.body)
            for n in s.scalars(
                select(Notification)
                .where(Notification.user_id == inc.demo.user("vanthu.tw").id)
                .order_by(Notification.created_at)
            )
            if n.kind.startswith("dossier_")
        ]
    assert got == [
        (
            "dossier_transfer_soon",
            "Hồ sơ số 11.DCGS (năm 2026): nộp lưu chậm nhất ngày 10/12/2026.",
        ),
        (
            "dossier_transfer_overdue",
            "Hồ sơ số 11.DCGS (năm 2026): đã quá hạn nộp lưu (hạn chậm nhất ngày 10/12/2026).",
        ),
    ]


def test_the_archivist_checks_and_holds_but_does_not_rework_a_dossier(inc: Incoming) -> None:
    """HELD. §10: the unit hands over; "the archive checks the files and metadata … before
    accepting; what it holds is read-only". The archivist may not close, transfer, file into
    or take out of a unit's dossier (403); they may return a transfer, with a reason (422
    without), which goes back to the unit as ``closed``; once accepted, nothing is taken out
    (409) and the leader may not reopen it (409)."""
    a, b = _doc(inc, 91, "2026-11-02", 2), _doc(inc, 92, "2026-11-03", 1)
    d = _dossier(inc, "21.DCGS", a)
    add_b = inc.client.post(
        f"/api/v1/dossiers/{d}/documents", headers=inc.h("luutru.tw"), json={"document_id": b}
    )
    assert add_b.status_code == 403, add_b.get_json()
    assert _dossier_act(inc, "luutru.tw", d, "close").status_code == 403
    assert _dossier_act(inc, "vanthu.tw", d, "close").status_code == 200
    assert _dossier_act(inc, "luutru.tw", d, "transfer").status_code == 403
    assert _dossier_act(inc, "vanthu.tw", d, "transfer").status_code == 200
    no_reason = _dossier_act(inc, "luutru.tw", d, "return")
    assert no_reason.status_code == 422, no_reason.get_json()
    back = _dossier_act(inc, "luutru.tw", d, "return", comment="Thiếu bản gốc có chữ ký số.")
    assert back.status_code == 200 and back.get_json()["state"] == "closed"
    assert _dossier_act(inc, "vanthu.tw", d, "transfer").status_code == 200
    assert _dossier_act(inc, "luutru.tw", d, "accept").get_json()["state"] == "archived"
    out = inc.client.delete(f"/api/v1/dossiers/{d}/documents/{a}", headers=inc.h("vanthu.tw"))
    assert out.status_code == 409, out.get_json()
    assert _dossier_act(inc, "lanhdao.tw", d, "reopen", comment="Bổ sung").status_code == 409
    final = inc.client.get(f"/api/v1/dossiers/{d}", headers=inc.h("luutru.tw")).get_json()
    assert (final["state"], final["document_count"], final["page_count"]) == ("archived", 1, 2)


def test_the_hand_over_record_lists_what_was_handed_over(inc: Incoming) -> None:
    """HELD. §10: "the unit hands over the dossiers with a list (mục lục hồ sơ nộp lưu) and a
    hand-over record (biên bản giao nhận) signed by both sides." Two dossiers handed over (one
    accepted, one waiting) and one still with the unit: the list names the two, with their
    dates, retention and sheets; the record counts 2 dossiers and 5 sheets and has a
    signature block for each side."""
    d1 = _dossier(inc, "31.DCGS", _doc(inc, 101, "2026-03-02", 3))
    d2 = _dossier(inc, "32.DCGS", _doc(inc, 102, "2026-05-04", 2))
    d3 = _dossier(inc, "33.DCGS", _doc(inc, 103, "2026-06-01", 4))
    for d in (d1, d2, d3):
        assert _dossier_act(inc, "vanthu.tw", d, "close").status_code == 200
    for d in (d1, d2):
        assert _dossier_act(inc, "vanthu.tw", d, "transfer").status_code == 200
    assert _dossier_act(inc, "luutru.tw", d1, "accept").status_code == 200
    r = inc.client.get(
        f"/api/v1/dossiers/transfer-list?year=2026&unit_id={inc.unit_id('DCGSPBXH')}",
        headers=inc.h("luutru.tw"),
    )
    assert r.status_code == 200, r.data[:300]
    listing = _docx_table(r.data)
    assert listing[1:] == [
        ["1", "31.DCGS", "Hồ sơ 31.DCGS", "02/03/2026 – 02/03/2026", "10 năm", "3", ""],
        ["2", "32.DCGS", "Hồ sơ 32.DCGS", "04/05/2026 – 04/05/2026", "10 năm", "2", ""],
    ]
    text = "\n".join(p.text for p in Docx(io.BytesIO(r.data)).paragraphs)
    assert "BIÊN BẢN GIAO NHẬN TÀI LIỆU" in text
    assert "số lượng: 2 hồ sơ, 5 tờ" in text
    assert "bên giao là Ban Dân chủ, Giám sát và Phản biện xã hội" in text
    signatures = _docx_table(r.data, 1)
    assert signatures[0] == ["ĐẠI DIỆN BÊN GIAO", "ĐẠI DIỆN BÊN NHẬN"]


def _package(inc: Incoming, dossier: str, where: Path) -> Path:
    r = inc.client.get(f"/api/v1/dossiers/{dossier}/package", headers=inc.h("luutru.tw"))
    assert r.status_code == 200, r.data[:300]
    assert r.headers["Content-Type"].startswith("application/zip")
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        z.extractall(where)
    return where


def _archived(inc: Incoming, code: str, *docs: str) -> str:
    d = _dossier(inc, code, *docs)
    for user, action in (
        ("vanthu.tw", "close"),
        ("vanthu.tw", "transfer"),
        ("luutru.tw", "accept"),
    ):
        r = _dossier_act(inc, user, d, action)
        assert r.status_code == 200, (action, r.get_json())
    return d


def test_the_archive_package_is_a_bag_whose_fixity_holds(inc: Incoming, tmp_path: Path) -> None:
    """HELD. §10: "For electronic dossiers the archive checks the files and metadata (fixity,
    format) before accepting"; API.md §7: the package is "a BagIt bag (bagit.txt,
    manifest-sha256.txt, data/… with every file and the metadata)". The bag of an archived
    dossier of two documents validates; each file's SHA-256 is the one the API gives for
    it; the dossier's metadata carries its archival code, retention and 5 sheets; a changed
    byte in a file makes the bag invalid."""
    a, b = _doc(inc, 111, "2026-11-02", 3), _doc(inc, 112, "2026-11-05", 2)
    d = _archived(inc, "41.DCGS", a, b)
    bag_dir = _package(inc, d, tmp_path / "bag")
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.algorithms == ["sha256"]
    meta = json.loads((bag_dir / "data" / "dossier.json").read_text("utf-8"))
    values = {k: v["value"] for k, v in meta["metadata"].items()}
    assert "000.00.00.Z01.2026.41.DCGS" in values.values()
    assert "10 năm" in values.values() and 5 in values.values()
    api_sums = {
        f["sha256"]
        for doc in (a, b)
        for f in inc.get("vanthu.tw", doc).get_json()["files"]
        if f["kind"] == "main"
    }
    bag_sums = {
        sums["sha256"]
        for path, sums in bag.entries.items()
        if path.startswith("data/documents/") and path.endswith(".pdf")
    }
    assert api_sums and api_sums <= bag_sums
    pdf = next(p for p in (bag_dir / "data" / "documents").rglob("*.pdf"))
    pdf.write_bytes(pdf.read_bytes() + b"\n%")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate()


def test_the_bagging_date_is_the_day_in_hanoi(inc: Incoming, tmp_path: Path) -> None:
    """FINDING (severity: low), fixed. §8: "All times are stored in UTC and shown in
    Asia/Ho_Chi_Minh." The archivist makes the package at 06:30 on Tuesday 24 November in Hà
    Nội (23:30 UTC on Monday 23): bag-info.txt says ``Bagging-Date: 2026-11-23``, the day
    before the one the archivist records in the hand-over. Now Hà Nội's day (as are a filed task's date and an undated document's in the dossier's list, and a one-off report's period)."""
    d = _archived(inc, "42.DCGS", _doc(inc, 121, "2026-11-02", 1))
    _at(inc, when=dt.datetime(2026, 11, 23, 23, 30))
    bag = bagit.Bag(str(_package(inc, d, tmp_path / "bag")))
    assert bag.info["Bagging-Date"] == "2026-11-24"


# ---------------------------------------------------------------- §9 processing statistics


def _assigned(inc: Incoming, n: int, unit: str, due: str | None) -> str:
    doc = inc.register(notation=f"{n}/KH-MTTQ-BTT").get_json()["id"]
    r = inc.act("vanthu.tw", doc, "submit", to_user_id=inc.user_id("lanhdao.tw"))
    assert r.status_code == 200, r.get_json()
    params: dict[str, Any] = {"lead": {"unit_id": inc.unit_id(unit)}}
    if due is not None:
        params["due_date"] = due
    r = inc.act("lanhdao.tw", doc, "assign", **params)
    assert r.status_code == 200, r.get_json()
    return str(doc)


def _report(inc: Incoming, user: str, group_by: str = "unit") -> Any:
    return inc.client.get(
        f"/api/v1/reports/processing?from=2026-11-01&to=2026-11-30&group_by={group_by}",
        headers=inc.h(user),
    )


def _figures(body: dict[str, Any]) -> dict[str, tuple[int, int, int, int, int]]:
    keys = ("received", "done_on_time", "done_late", "open", "overdue")
    rows = {i["group"]["name"]: tuple(i[k] for k in keys) for i in body["items"]}
    rows["Tổng cộng"] = tuple(body["total"][k] for k in keys)
    return rows  # type: ignore[return-value]


DCGS, TG = "Ban Dân chủ, Giám sát và Phản biện xã hội", "Ban Tuyên giáo"


def test_processing_figures_match_the_documents_they_count(inc: Incoming) -> None:
    """HELD. §9: "Processing statistics: received / handled on time / late / still open, by
    unit and by person". On Monday 23 November the leader directs four documents to Ban Dân
    chủ: three due Wednesday 25 (one done on Tuesday, one done on Friday 27: two working
    days late, one left open, which the unit head passes to Đỗ Quang Huy) and one due 4
    December (open, not late). On Friday 27 November the November figures by unit are 4
    received, 1 on time, 1 late, 1 open, 1 overdue, and the total row is their sum; by
    person, Đỗ Quang Huy has received 1, overdue 1. The unit head sees his unit's row; a
    specialist may not read the figures by unit (403) and by person sees only himself."""
    on_time = _assigned(inc, 131, "DCGSPBXH", "2026-11-25")
    late = _assigned(inc, 132, "DCGSPBXH", "2026-11-25")
    passed = _assigned(inc, 133, "DCGSPBXH", "2026-11-25")
    _assigned(inc, 134, "DCGSPBXH", "2026-12-04")
    huy = {"user_id": inc.user_id("chuyenvien.dcgs")}
    assert inc.act("truongban.dcgs", passed, "assign", lead=huy).status_code == 200
    _at(inc, when=dt.datetime(2026, 11, 24, 2, 0))
    assert inc.act("truongban.dcgs", on_time, "complete", comment="Xong").status_code == 200
    _at(inc, when=dt.datetime(2026, 11, 27, 2, 0))
    assert inc.act("truongban.dcgs", late, "complete", comment="Xong").status_code == 200
    r = _report(inc, "lanhdao.tw")
    assert r.status_code == 200, r.get_json()
    assert _figures(r.get_json()) == {DCGS: (4, 1, 1, 1, 1), "Tổng cộng": (4, 1, 1, 1, 1)}
    head = _report(inc, "truongban.dcgs")
    assert _figures(head.get_json()) == {DCGS: (4, 1, 1, 1, 1), "Tổng cộng": (4, 1, 1, 1, 1)}
    by_person = {"Đỗ Quang Huy": (1, 0, 0, 0, 1), "Tổng cộng": (1, 0, 0, 0, 1)}
    assert _figures(_report(inc, "lanhdao.tw", "user").get_json()) == by_person
    assert _figures(_report(inc, "chuyenvien.dcgs", "user").get_json()) == by_person
    assert _report(inc, "chuyenvien.dcgs").status_code == 403


def test_a_document_led_by_a_person_counts_for_their_unit(inc: Incoming) -> None:
    """FINDING (severity: medium), fixed. §9: statistics "by unit and by person"; §4.3: the leader
    names "the lead unit or person (chủ trì)". The leader gives a document due 25 November to
    Vũ Thị Lan (chuyenvien.tg) of Ban Tuyên giáo, who finishes it on the due day. By person
    she has 1 received, 1 on time; by unit Ban Tuyên giáo does not appear at all: the lead
    assignment is stored with ``unit_id`` NULL when the leader names a person (the unit is
    filled in only when a unit head passes work on), and the unit figures group by it. Now it counts for the person's unit too."""
    doc = inc.register(notation="161/KH-MTTQ-BTT").get_json()["id"]
    inc.act("vanthu.tw", doc, "submit", to_user_id=inc.user_id("lanhdao.tw"))
    lead = {"user_id": inc.user_id("chuyenvien.tg")}
    r = inc.act("lanhdao.tw", doc, "assign", lead=lead, due_date="2026-11-25")
    assert r.status_code == 200, r.get_json()
    _at(inc, when=dt.datetime(2026, 11, 25, 9, 0))  # 16:00 on the due day
    assert inc.act("chuyenvien.tg", doc, "complete", comment="Xong").status_code == 200
    person = _figures(_report(inc, "lanhdao.tw", "user").get_json())
    assert person["Vũ Thị Lan"] == (1, 1, 0, 0, 0), person
    assert _figures(_report(inc, "lanhdao.tw").get_json()) == {
        TG: (1, 1, 0, 0, 0),
        "Tổng cộng": (1, 1, 0, 0, 0),
    }


def test_documents_without_a_deadline_count_as_received(inc: Incoming) -> None:
    """FINDING (severity: medium), fixed. §9: "Processing statistics: received / handled on time /
    late / still open, by unit and by person"; §4.2: the deadline (hạn giải quyết) is one of
    the fields the system keeps, not every document has one. The leader directs two
    documents to Ban Dân chủ, one due 25 November and one without a deadline; the unit
    finishes both the same day. The statistics say the unit received 1 and handled 1: the
    document with no deadline is in neither figure (a document with no deadline cannot be
    late: it is handled on time). Now counted: received, and done on time (never late nor overdue)."""
    for n, due in ((141, "2026-11-25"), (142, None)):
        doc = _assigned(inc, n, "DCGSPBXH", due)
        assert inc.act("truongban.dcgs", doc, "complete", comment="Xong").status_code == 200
    figures = _figures(_report(inc, "lanhdao.tw").get_json())
    assert figures[DCGS] == (2, 2, 0, 0, 0), figures


# ---------------------------------------------------------------- §1 roles


def test_who_sees_a_draft_and_a_directed_document(out: Outgoing, inc: Incoming) -> None:
    """HELD. §1: the specialist drafts, the unit head "reviews drafts of the unit before they
    go up", the leader approves and signs, the clerk numbers and dispatches; "each
    organisation sees only its own documents". A draft of Ban Dân chủ in review with its
    head: the head may pass it up or send it back, the leader may not sign it yet (it is not
    before him), the clerk has nothing to do; a specialist of another unit, the archivist and
    the province's leader do not see it (404). An incoming document led by Ban Dân chủ is
    not shown to Ban Tuyên giáo's specialist nor to the archivist."""
    draft = out.template().get_json()["id"]
    out.ok("chuyenvien.dcgs", draft, "submit_for_review", to_user_id=out.user_id("truongban.dcgs"))

    def actions(user: str) -> set[str]:
        r = out.get(user, draft)
        assert r.status_code == 200, (user, r.get_json())
        return set(r.get_json()["allowed_actions"]) - {"comment"}

    assert actions("truongban.dcgs") == {"submit_for_review", "request_changes"}
    assert actions("lanhdao.tw") == set()
    assert actions("vanthu.tw") == set()
    assert actions("chuyenvien.dcgs") == set()
    assert out.act("lanhdao.tw", draft, "sign").status_code == 403
    for user in ("chuyenvien.tg", "luutru.tw", "lanhdao.tinh"):
        assert out.get(user, draft).status_code == 404, user
    doc = _assigned(inc, 151, "DCGSPBXH", "2026-12-04")
    assert inc.get("truongban.dcgs", doc).status_code == 200
    for user in ("chuyenvien.tg", "luutru.tw", "vanthu.tinh"):
        assert inc.get(user, doc).status_code == 404, user
