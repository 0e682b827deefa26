"""Replacing documents and corrections (Decree 30 Art. 10(3), DOMAIN.md §5: "errors of content
are fixed by a replacing document; errors of form by a correction (đính chính)").

A plan issued and dispatched to the province and the ward is replaced by a plan, or corrected
by a công văn: the draft names it (``replaces_document_id``, ``replaces_kind``), the issued
replacement is linked both ways, each recipient's new copy names its copy of the earlier one,
and a replacement ends that copy while a correction leaves it. Through the axis, the package
names the DocumentId the earlier one was sent under (BussinessDocType 3 with its
ReplacementInfoList, or 2), read here with XPath on the bytes, not with our parser; packages
written by hand in another system's shape link the same way on the way in. Refusals change
nothing: no document, no object, no number."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document as DocxFile
from lxml import etree
from sqlalchemy import select, update
from sqlalchemy.exc import DataError, IntegrityError

from docflow.models import Delivery, Document
from tests.interop.conftest import (
    SECRET_A,
    SECRET_B,
    SYSTEM_A,
    SYSTEM_B,
    Sim,
    client_for,
    start_sim,
)
from tests.outgoing.conftest import BODY, Outgoing
from tests.outgoing.test_pages import _login

TINH, PHUONG = "000.00.01.Z01", "000.01.01.Z01"
EXTERNAL = {"code": "000.00.00.Y95", "name": "Sở Thử nghiệm thay thế (ngoài hệ thống)"}
NEWCOMER = {"code": "000.00.00.Y94", "name": "Sở chưa nhận văn bản cũ (ngoài hệ thống)"}
NS = {"e": "http://www.mic.gov.vn/TBT/QCVN_102_2016"}


def _copies(flow: Outgoing, doc: str) -> dict[str, Document]:
    """Recipient organisation code → the recipient's copy of ``doc``."""
    with flow.demo.factory() as s:
        rows = s.execute(
            select(Delivery.recipient_code, Document)
            .join(Document, Document.id == Delivery.recipient_document_id)
            .where(Delivery.document_id == doc)
        ).all()
        s.expunge_all()
    return {code: copy for code, copy in rows}


def _trail(flow: Outgoing, username: str, doc: str) -> list[dict[str, Any]]:
    r = flow.client.get(f"/api/v1/documents/{doc}/trail", headers=flow.h(username))
    assert r.status_code == 200, r.get_json()
    items: list[dict[str, Any]] = r.get_json()["items"]
    return items


def test_a_replacing_plan_replaces_the_plan_here_and_at_each_recipient(flow: Outgoing) -> None:
    old = flow.to_dispatched()
    old_notation = flow.get("vanthu.tw", old).get_json()["notation"]
    before = _copies(flow, old)
    assert set(before) == {TINH, PHUONG}

    r = flow.template(
        subject="Kế hoạch giám sát (thay thế Kế hoạch đã ban hành)",
        replaces_document_id=old,
        recipients=[],  # none given: those of the plan it replaces
    )
    assert r.status_code == 201, r.get_json()
    draft = r.get_json()
    assert draft["replaces"]["id"] == old and draft["replaces"]["kind"] == "replace"
    assert draft["replaces"]["notation"] == old_notation
    assert {d["recipient"]["code"] for d in flow.deliveries("chuyenvien.dcgs", draft["id"])} == {
        TINH,
        PHUONG,
    }
    new = draft["id"]
    flow.ok("chuyenvien.dcgs", new, "submit_for_review", to_user_id=flow.user_id("truongban.dcgs"))
    flow.ok("truongban.dcgs", new, "submit_for_review", to_user_id=flow.user_id("lanhdao.tw"))
    flow.ok("lanhdao.tw", new, "sign")
    flow.ok("vanthu.tw", new, "issue")
    new_notation = flow.get("vanthu.tw", new).get_json()["notation"]
    assert new_notation != old_notation

    # Here: linked both ways; the replaced plan keeps its state, its trail names the new one.
    earlier = flow.get("vanthu.tw", old).get_json()
    assert earlier["state"] == "dispatched"
    assert [(x["id"], x["kind"], x["notation"]) for x in earlier["replaced_by"]] == [
        (new, "replace", new_notation)
    ]
    step = _trail(flow, "vanthu.tw", old)[-1]
    assert step["action"] == "replaced" and step["details"]["notation"] == new_notation

    # At each recipient: the new copy names its copy of the plan, which is ended at once.
    flow.ok("vanthu.tw", new, "dispatch")
    after = _copies(flow, new)
    for code in (TINH, PHUONG):
        assert after[code].replaces_id == before[code].id
        assert after[code].replaces_kind == "replace"
        assert after[code].state == "arrived"
        assert old_notation in (after[code].note or "")
    for code, copy in _copies(flow, old).items():
        assert copy.state == "recalled", code
    clerk = "vanthu.tinh"
    seen = flow.get(clerk, str(after[TINH].id)).get_json()
    assert seen["replaces"]["id"] == str(before[TINH].id) and seen["replaces"]["kind"] == "replace"
    replaced = flow.get(clerk, str(before[TINH].id)).get_json()
    assert [x["id"] for x in replaced["replaced_by"]] == [str(after[TINH].id)]
    assert _trail(flow, clerk, str(before[TINH].id))[-1]["action"] == "recall"
    # The sender hears that the earlier copies were ended (15), as from another system.
    codes = {d["recipient"]["code"]: d["status_code"] for d in flow.deliveries("vanthu.tw", old)}
    assert codes == {TINH: "15", PHUONG: "15"}


def test_a_correction_is_a_cong_van_and_leaves_the_corrected_copy_as_it_is(
    flow: Outgoing,
) -> None:
    old = flow.to_dispatched()
    before = _copies(flow, old)
    counts = flow.counts()
    wrong = flow.template(replaces_document_id=old, replaces_kind="correct", recipients=[])
    assert wrong.status_code == 422, wrong.get_json()
    error = wrong.get_json()["error"]
    assert (
        error["code"] == "correction_type" and "công văn" in error["details"]["fields"]["doc_type"]
    )
    assert flow.counts() == counts  # nothing stored

    new = flow.to_dispatched(
        doc_type="CV",
        subject="V/v đính chính Kế hoạch giám sát",
        replaces_document_id=old,
        replaces_kind="correct",
        recipients=[],
    )
    doc = flow.get("vanthu.tw", new).get_json()
    assert doc["replaces"]["id"] == old and doc["replaces"]["kind"] == "correct"
    assert [(x["id"], x["kind"]) for x in flow.get("vanthu.tw", old).get_json()["replaced_by"]] == [
        (new, "correct")
    ]
    assert _trail(flow, "vanthu.tw", old)[-1]["action"] == "corrected"
    after = _copies(flow, new)
    for code in (TINH, PHUONG):
        assert after[code].replaces_id == before[code].id
        assert after[code].replaces_kind == "correct"
    for code, copy in _copies(flow, old).items():
        assert copy.state == "arrived", code  # corrected, not ended
    step = _trail(flow, "vanthu.phuong", str(before[PHUONG].id))[-1]
    assert step["action"] == "corrected"
    assert step["details"]["notation"] == doc["notation"]
    # Several corrections may follow one another; a replacement after them is still allowed.
    assert (
        flow.template(doc_type="CV", replaces_document_id=old, replaces_kind="correct").status_code
        == 201
    )
    assert flow.template(replaces_document_id=old).status_code == 201


def test_what_cannot_be_replaced_is_refused_and_nothing_is_stored(flow: Outgoing) -> None:
    issued = flow.to_dispatched()
    draft = flow.template().get_json()["id"]
    counts = flow.counts()

    def refused(username: str = "chuyenvien.dcgs", **extra: Any) -> tuple[int, str, str]:
        r = flow.template(username, **extra)
        body = r.get_json()["error"]
        return r.status_code, body["code"], next(iter(body.get("details", {}).get("fields", {})))

    assert refused(replaces_document_id=draft) == (422, "not_issued", "replaces_document_id")
    assert refused(replaces_document_id=issued, doc_type="CV") == (
        422,
        "replacement_type",
        "doc_type",
    )
    # Another organisation's document, and one that does not exist, read the same.
    unknown = "00000000-0000-7000-8000-000000000000"
    assert refused(replaces_document_id=unknown) == (
        422,
        "document_not_found",
        "replaces_document_id",
    )
    tinh_copy = _copies(flow, issued)[TINH]
    assert refused(replaces_document_id=str(tinh_copy.id)) == (
        422,
        "document_not_found",
        "replaces_document_id",
    )
    # A kind outside the closed list is refused before anything is read.
    status, _code, field = refused(replaces_document_id=issued, replaces_kind="replacement")
    assert (status, field) == (422, "replaces_kind")
    assert flow.counts() == counts


def test_the_database_keeps_the_kind_to_its_closed_list(flow: Outgoing) -> None:
    """``replaces_kind`` (String(8)) is written by us only; the database itself refuses a value
    outside ``replace``/``correct`` and a kind without the document it names, so nothing longer
    or stray can reach the column (PostgreSQL as SQLite)."""
    issued = flow.to_dispatched()
    other = flow.template().get_json()["id"]
    for values in (
        {"replaces_id": issued, "replaces_kind": "replacement"},
        {"replaces_id": issued, "replaces_kind": "x"},
        {"replaces_id": None, "replaces_kind": "replace"},
        {"replaces_id": issued, "replaces_kind": None},
    ):
        with flow.demo.factory() as s, pytest.raises((IntegrityError, DataError)):
            s.execute(update(Document).where(Document.id == other).values(**values))
            s.flush()
    with flow.demo.factory() as s:
        s.execute(
            update(Document)
            .where(Document.id == other)
            .values(replaces_id=issued, replaces_kind="correct")
        )
        s.flush()
        s.rollback()


def test_a_document_is_replaced_once_and_the_second_issue_consumes_no_number(
    flow: Outgoing,
) -> None:
    old = flow.to_dispatched()
    first = flow.to_signed(replaces_document_id=old)
    second = flow.to_signed(replaces_document_id=old)  # drafted while the first was unissued
    flow.ok("vanthu.tw", first, "issue")
    counts = flow.counts()
    r = flow.act("vanthu.tw", second, "issue")
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["error"]["code"] == "already_replaced"
    assert flow.get("vanthu.tw", first).get_json()["notation"] in r.get_json()["error"]["message"]
    assert flow.counts() == counts  # no number consumed, no file stored
    assert flow.get("vanthu.tw", second).get_json()["state"] == "signed"
    late = flow.template(replaces_document_id=old)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "already_replaced"
    # Once the replacement is recalled, the plan may be replaced again.
    flow.ok("vanthu.tw", first, "dispatch")
    flow.ok("vanthu.tw", first, "recall", reason="Ban hành nhầm")
    assert flow.act("vanthu.tw", second, "issue").status_code == 200


def test_links_show_only_what_the_reader_may_see(flow: Outgoing) -> None:
    """The specialist who drafted the plan sees it replaced only if they may see the
    replacement: one the unit head drafts is not theirs to read until it involves them (every
    read path applies visibility, the list as the document). A specialist of another unit
    cannot name a plan they do not see."""
    old = flow.to_dispatched()
    assert flow.template("chuyenvien.tg", replaces_document_id=old).status_code == 422
    r = flow.template("truongban.dcgs", replaces_document_id=old)
    assert r.status_code == 201, r.get_json()
    new = r.get_json()["id"]
    assert [x["id"] for x in flow.get("vanthu.tw", old).get_json()["replaced_by"]] == [new]
    assert [x["id"] for x in flow.get("truongban.dcgs", old).get_json()["replaced_by"]] == [new]
    assert flow.get("chuyenvien.dcgs", old).get_json()["replaced_by"] == []
    listed = flow.client.get(
        "/api/v1/documents?direction=outgoing&box=all", headers=flow.h("chuyenvien.dcgs")
    ).get_json()["items"]
    assert next(d for d in listed if d["id"] == old)["replaced_by"] == []
    listed = flow.client.get(
        "/api/v1/documents?direction=outgoing&box=all", headers=flow.h("vanthu.tw")
    ).get_json()["items"]
    assert [x["id"] for x in next(d for d in listed if d["id"] == old)["replaced_by"]] == [new]


# ---------------------------------------------------------------- through the axis


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    running = start_sim(tmp_path / "axis")
    yield running
    running.server.shutdown()
    running.server.server_close()


def _sent(system: Any, to: dict[str, str]) -> list[etree._Element]:
    """The packages the axis holds for the organisation ``to`` of ``system``, as XML trees read
    from their bytes."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    trees = [
        etree.fromstring(system.get_edoc(item.doc_id), parser)
        for item in system.get_received_list("edoc")
    ]
    return [t for t in trees if _text(t, "//e:MessageHeader/e:To/e:OrganId/text()") == [to["code"]]]


def _text(tree: etree._Element, path: str) -> list[str]:
    return [str(x).strip() for x in tree.xpath(path, namespaces=NS)]


def test_through_the_axis_a_replacement_names_the_document_id_it_was_sent_under(
    flow: Outgoing, app: Any, sim: Sim
) -> None:
    from app.exchange import register_agencies, send_to_axis
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(
        axis_url=sim.url, axis_system_id=SYSTEM_A, axis_secret=SECRET_A
    )
    register_agencies(rt)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as other:  # another vendor's system
        other.register_agency(EXTERNAL["code"], EXTERNAL["name"])
        other.register_agency(NEWCOMER["code"], NEWCOMER["name"])
        old = flow.to_dispatched(recipients=[EXTERNAL])
        assert send_to_axis(rt) == 1
        [first] = _sent(other, EXTERNAL)
        old_id = _text(first, "//e:MessageHeader/e:DocumentId/text()")[0]
        for item in other.get_received_list("edoc"):
            other.update_status(item.doc_id, "done")

        new = flow.to_dispatched(replaces_document_id=old, recipients=[EXTERNAL, NEWCOMER])
        correction = flow.to_dispatched(
            doc_type="CV", replaces_document_id=old, replaces_kind="correct", recipients=[EXTERNAL]
        )
        assert send_to_axis(rt) == 3
        packages = _sent(other, EXTERNAL)
        by_id = {_text(p, "//e:MessageHeader/e:DocumentId/text()")[0]: p for p in packages}
        assert old_id not in by_id  # each leaves under its own DocumentId
        replacing = next(p for p in packages if _text(p, "//e:BussinessDocType/text()") == ["3"])
        assert _text(replacing, "//e:Bussiness/e:DocumentId/text()") == [old_id]
        assert _text(
            replacing, "//e:ReplacementInfoList/e:ReplacementInfo/e:DocumentId/text()"
        ) == [old_id]
        assert _text(replacing, "//e:ReplacementInfo/e:OrganIdList/e:OrganId/text()") == [
            EXTERNAL["code"]
        ]
        new_notation = flow.get("vanthu.tw", new).get_json()["notation"]
        assert _text(replacing, "//e:MessageHeader/e:Code/e:CodeNumber/text()")[0] in new_notation
        correcting = next(p for p in packages if _text(p, "//e:BussinessDocType/text()") == ["2"])
        assert _text(correcting, "//e:Bussiness/e:DocumentId/text()") == [old_id]
        assert not correcting.xpath("//e:ReplacementInfoList", namespaces=NS)
        cv = flow.get("vanthu.tw", correction).get_json()["notation"]
        assert _text(correcting, "//e:MessageHeader/e:Code/e:CodeNumber/text()")[0] in cv
        # The recipient that never had the plan gets the replacement as a new document.
        [fresh] = _sent(other, NEWCOMER)
        assert _text(fresh, "//e:BussinessDocType/text()") == ["0"]
        assert not fresh.xpath("//e:ReplacementInfoList", namespaces=NS)


# ---------------------------------------------------------------- received from another system


FIXTURES = Path(__file__).parents[1] / "interop" / "fixtures"
IMPORT = "/api/v1/interop/packages"


def _original_of(replacement: bytes) -> bytes:
    """The plan the hand-written replacement (replace.edxml: 62/KH-MTTW-BTT of 22 June
    replacing 60/KH-MTTW-BTT of 18 June) acts upon: the same package without its Bussiness,
    numbered 60 of 18 June."""
    start, end = replacement.index(b"<edXML:Bussiness>"), replacement.index(b"</edXML:Bussiness>")
    plan = replacement[:start] + replacement[end + len(b"</edXML:Bussiness>") :]
    for a, b in (
        (b"2026/06/22,62/", b"2026/06/18,60/"),
        (b"<edXML:CodeNumber>62</edXML:CodeNumber>", b"<edXML:CodeNumber>60</edXML:CodeNumber>"),
        (b"2026/06/22</edXML:PromulgationDate>", b"2026/06/18</edXML:PromulgationDate>"),
    ):
        assert a in plan
        plan = plan.replace(a, b)
    return plan


def test_a_hand_written_update_links_the_correction_and_keeps_the_copy(
    client: Any, api: Any
) -> None:
    """An update (BussinessDocType 2) in another vendor's shape: a new copy naming the one it
    corrects, which stays as it was, its trail saying it was corrected."""
    h = api("vanthu.tinh")
    replacement = (FIXTURES / "replace.edxml").read_bytes()
    r = client.post(
        IMPORT, headers=h, data=_original_of(replacement), content_type="application/xml"
    )
    assert r.status_code == 201, r.get_json()
    first = r.get_json()["id"]
    three = b"<edXML:BussinessDocType>3</edXML:BussinessDocType>"
    update = replacement.replace(three, b"<edXML:BussinessDocType>2</edXML:BussinessDocType>")
    r = client.post(IMPORT, headers=h, data=update, content_type="application/xml")
    assert r.status_code == 201, r.get_json()
    corrected = r.get_json()
    assert corrected["replaces"]["id"] == first and corrected["replaces"]["kind"] == "correct"
    earlier = client.get(f"/api/v1/documents/{first}", headers=h).get_json()
    assert earlier["state"] == "arrived"
    assert [(x["id"], x["kind"]) for x in earlier["replaced_by"]] == [(corrected["id"], "correct")]
    trail = client.get(f"/api/v1/documents/{first}/trail", headers=h).get_json()["items"]
    assert trail[-1]["action"] == "corrected"
    assert trail[-1]["details"]["notation"] == "62/KH-MTTW-BTT"


def test_a_hand_written_replacement_links_the_new_copy_to_the_one_it_ends(
    client: Any, api: Any
) -> None:
    h = api("vanthu.tinh")
    replacement = (FIXTURES / "replace.edxml").read_bytes()
    r = client.post(
        IMPORT, headers=h, data=_original_of(replacement), content_type="application/xml"
    )
    assert r.status_code == 201, r.get_json()
    first = r.get_json()["id"]
    r = client.post(IMPORT, headers=h, data=replacement, content_type="application/xml")
    assert r.status_code == 201, r.get_json()
    new = r.get_json()
    assert new["replaces"]["id"] == first and new["replaces"]["kind"] == "replace"
    old = client.get(f"/api/v1/documents/{first}", headers=h).get_json()
    assert old["state"] == "recalled"
    assert [x["id"] for x in old["replaced_by"]] == [new["id"]]


# ---------------------------------------------------------------- on the pages


def _field(page: str, name: str) -> str:
    """The value a form's input, hidden input or selected option gives ``name``."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page) or re.search(
        rf'name="{name}"[^>]*>(?:(?!</select>).)*?<option value="([^"]*)" selected',
        page,
        re.S,
    )
    assert found is not None, name
    return html.unescape(found.group(1))


def test_the_pages_start_a_correction_from_the_document_and_show_both_links(
    flow: Outgoing, app: Any
) -> None:
    """From the issued plan's page, «Soạn công văn đính chính» opens the form filled in from
    it (a công văn, its recipients, the plan named in hidden fields); saving it drafts the
    correction; the plan's page, the correction's and the ward's copies then name each other."""
    old = flow.to_dispatched()
    notation = flow.get("vanthu.tw", old).get_json()["notation"]
    spec = app.test_client()
    _login(spec, "chuyenvien.dcgs")
    page = spec.get(f"/outgoing/{old}").get_data(as_text=True)
    assert "Soạn văn bản thay thế" in page and "Soạn công văn đính chính" in page
    start = spec.get(f"/outgoing/new?replaces={old}&kind=correct")
    assert start.status_code == 200
    form = start.get_data(as_text=True)
    assert 'id="replacing"' in form and notation in form
    assert _field(form, "doc_type") == "CV"
    assert _field(form, "replaces_document_id") == old
    assert _field(form, "replaces_kind") == "correct"
    assert f"V/v đính chính kế hoạch số {notation}" in html.unescape(form)
    chosen = re.findall(r'name="recipient_org" value="([^"]+)"[^>]*checked', form)
    assert set(chosen) == {str(flow.demo.org_id("tinh")), str(flow.demo.org_id("phuong"))}
    r = spec.post(
        "/outgoing/new",
        data={
            "csrf_token": _field(form, "csrf_token"),
            "mode": "template",
            "doc_type": "CV",
            "subject": _field(form, "subject"),
            "signer_user_id": _field(form, "signer_user_id"),
            "body": "Đính chính ngày báo cáo tại mục 2: 15 tháng 12 thay cho 15 tháng 11.",
            "recipient_org": chosen,
            "replaces_document_id": old,
            "replaces_kind": "correct",
        },
    )
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:2000]
    new = r.headers["Location"].rsplit("/", 1)[-1]
    draft = flow.get("chuyenvien.dcgs", new).get_json()
    assert (draft["replaces"]["id"], draft["replaces"]["kind"]) == (old, "correct")
    shown = spec.get(f"/outgoing/{new}").get_data(as_text=True)
    assert 'id="replaces"' in shown and notation in shown
    plan = spec.get(f"/outgoing/{old}").get_data(as_text=True)
    assert 'id="replaced-by"' in plan and "Đang soạn công văn đính chính" in plan
    # A replacement starts from the plan's own text (the same type, the same recipients).
    again = html.unescape(
        spec.get(f"/outgoing/new?replaces={old}&kind=replace").get_data(as_text=True)
    )
    assert BODY.splitlines()[0] in again and _field(again, "doc_type") == "KH"
    # A document not seen reads as one that does not exist.
    other = app.test_client()
    _login(other, "chuyenvien.tg")
    assert other.get(f"/outgoing/new?replaces={old}&kind=replace").status_code == 404
    assert spec.get("/outgoing/new?replaces=not-an-id").status_code == 404


def test_the_outgoing_register_notes_what_each_document_replaces_or_corrects(
    flow: Outgoing,
) -> None:
    """The register's «Ghi chú» (Decree 30 Appendix IV) of a replacing document and of a
    correction names the document each acts upon, in the printed register as in the XLSX."""
    old = flow.to_dispatched()
    new = flow.to_dispatched(replaces_document_id=old, recipients=[])
    fix = flow.to_dispatched(
        doc_type="CV", replaces_document_id=old, replaces_kind="correct", recipients=[]
    )
    notation = {d: flow.get("vanthu.tw", d).get_json()["notation"] for d in (old, new, fix)}
    issued = flow.get("vanthu.tw", old).get_json()
    year = issued["issued_date"][:4]
    url = f"/api/v1/reports/registers/{issued['register']['id']}?year={year}&format=docx"
    r = flow.client.get(url, headers=flow.h("vanthu.tw"))
    assert r.status_code == 200, r.get_json()
    table = [[c.text for c in row.cells] for row in DocxFile(io.BytesIO(r.data)).tables[0].rows]
    rows = {row[0]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    assert rows[notation[old]]["Ghi chú"] == ""
    assert rows[notation[new]]["Ghi chú"] == f"Thay thế văn bản số {notation[old]}"
    assert rows[notation[fix]]["Ghi chú"] == f"Đính chính văn bản số {notation[old]}"
    xlsx = flow.client.get(url.replace("docx", "xlsx"), headers=flow.h("vanthu.tw"))
    cells = [
        c
        for row in openpyxl.load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True)
        for c in row
    ]
    assert f"Thay thế văn bản số {notation[old]}" in cells
