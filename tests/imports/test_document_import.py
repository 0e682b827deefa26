"""Documents from an old system (issue 15), against PostgreSQL and the S3 store: a manifest
written here by hand (not by a builder of ours) with good and bad rows, the same folder again,
and a folder of hand-written edXML packages."""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from docflow import imports
from docflow.errors import PermissionDeniedError
from docflow.models import (
    Assignment,
    AuditEntry,
    Document,
    DocumentFile,
    DocumentImport,
    Register,
)
from docflow.numbering import allocate_number
from docflow.workdays import VN_TZ
from tests.conftest import Demo
from tests.pdfs import make_pdf, make_png

TW = "000.00.00.Z01"
IN_2025 = "Sổ văn bản đến năm 2025"
OUT_2025 = "Sổ văn bản đi năm 2025"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    """The S3 store (SeaweedFS) under a prefix of this test's own when the services are up
    (``DHTN_TEST_S3_URL``); the local store otherwise."""
    from storage import open_store

    base = os.environ.get("DHTN_TEST_S3_URL")
    if not base:
        s = open_store(f"file://{tmp_path / 'data' / 'objects'}")
        s.initialize()
        yield s
        return
    from tests.storage.helpers import with_prefix

    s = open_store(with_prefix(base, f"docimport-{uuid.uuid4().hex[:12]}"))
    s.initialize()
    yield s
    for info in list(s.list()):
        s.delete(info.key)


def add_registers(demo: Demo, year: int = 2025) -> dict[str, uuid.UUID]:
    org = demo.org(TW)
    out = {}
    with demo.factory() as s:
        for direction, name in (("incoming", IN_2025), ("outgoing", OUT_2025)):
            reg = Register(organization_id=org.id, direction=direction, year=year, name=name)
            s.add(reg)
            s.flush()
            out[direction] = reg.id
        s.commit()
    return out


HEADER = (
    'Văn bản đến/đi,Sổ văn bản,Năm,Số,"Số, ký hiệu",Loại văn bản,Trích yếu,Cơ quan ban hành,'
    "Ngày văn bản,Ngày đến/ban hành,Độ khẩn,Độ mật,Trạng thái,Người xử lý,Tệp\n"
)
ROWS = [
    # 2: imported, two files, a handler, Vietnamese values
    "đến,Sổ văn bản đến năm 2025,2025,15,12/CV-UBND,CV,Về việc tổ chức hội nghị,"
    "UBND tỉnh Thử,03/02/2025,05/02/2025,Khẩn,,Hoàn thành,chuyenvien.dcgs,cv15.pdf;phu luc.png",
    # 3: imported, no file (a paper record), state code
    "incoming,Sổ văn bản đến năm 2025,2025,7,5/TB-SNV,TB,Thông báo lịch họp,Sở Nội vụ,"
    "2025-01-10,2025-01-12,normal,none,in_progress,lanhdao.tw,",
    # 4: unknown register
    "đến,Sổ không có,2025,16,1/CV,CV,Không có sổ,Nơi gửi,01/03/2025,02/03/2025,,,,,",
    # 5: the number of row 2 again
    "đến,Sổ văn bản đến năm 2025,2025,15,99/CV,CV,Trùng số,Nơi gửi,01/03/2025,02/03/2025,,,,,",
    # 6: a file the folder does not hold
    "đến,Sổ văn bản đến năm 2025,2025,20,2/CV,CV,Thiếu tệp,Nơi gửi,01/03/2025,02/03/2025,,,,,"
    "khong-co.pdf",
    # 7: a file the upload checks refuse (text named .pdf)
    "đến,Sổ văn bản đến năm 2025,2025,21,3/CV,CV,Tệp giả,Nơi gửi,01/03/2025,02/03/2025,,,,,gia.pdf",
    # 8: a date that does not exist
    "đến,Sổ văn bản đến năm 2025,2025,22,4/CV,CV,Ngày sai,Nơi gửi,31/02/2025,02/03/2025,,,,,",
    # 9: a handler nobody is
    "đến,Sổ văn bản đến năm 2025,2025,23,5/CV,CV,Người lạ,Nơi gửi,01/03/2025,02/03/2025,,,"
    "Hoàn thành,khong.ai,",
    # 10: outgoing, imported
    "đi,Sổ văn bản đi năm 2025,2025,3,3/KH-MTTW,KH,Kế hoạch năm,UB MTTQ,"
    "20/03/2025,20/03/2025,,,Đã ban hành,,kh3.pdf",
    # 11: this year's register of the demo, imported
    "đến,Sổ văn bản đến năm 2026,2026,40,40/CV,CV,Văn bản năm nay,Nơi gửi,"
    "02/11/2026,03/11/2026,,,,,",
    # 12: a good file then a refused one: refused, and the good one is not stored either
    "đến,Sổ văn bản đến năm 2025,2025,30,6/CV,CV,Một tốt một xấu,Nơi gửi,01/03/2025,"
    "02/03/2025,,,,,tot.pdf;gia.pdf",
]


def write_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.csv").write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    (folder / "cv15.pdf").write_bytes(make_pdf(title="Công văn 15"))
    (folder / "phu luc.png").write_bytes(make_png())
    (folder / "gia.pdf").write_bytes(b"this is not a pdf at all\n")
    (folder / "kh3.pdf").write_bytes(make_pdf(title="Kế hoạch 3"))
    (folder / "tot.pdf").write_bytes(make_pdf(title="Tệp tốt của dòng 12"))


def run(demo: Demo, folder: Path, **kw: Any) -> tuple[dict[str, int], list[imports.ItemOutcome]]:
    outcomes: list[imports.ItemOutcome] = []
    result = imports.import_documents(
        demo.uow(),
        demo.actor("admin"),
        imports.read_manifest(folder),
        on_outcome=outcomes.append,
        **kw,
    )
    return result.counts, outcomes


def table_counts(demo: Demo) -> dict[str, int]:
    with demo.factory() as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Document, DocumentFile, DocumentImport, AuditEntry, Assignment)
        }


def stored_keys(demo: Demo) -> set[str]:
    return {info.key for info in demo.store.list()}


def referenced(demo: Demo) -> set[str]:
    from docflow.objects import referenced_keys

    return set(referenced_keys(demo.uow()))


def last_number(demo: Demo, reg_id: uuid.UUID) -> int:
    with demo.factory() as s:
        return s.get_one(Register, reg_id).last_number


def this_year_register(demo: Demo) -> uuid.UUID:
    with demo.factory() as s:
        return s.scalars(
            select(Register.id).where(
                Register.organization_id == demo.org(TW).id,
                Register.direction == "incoming",
                Register.year == 2026,
            )
        ).one()


def test_a_hand_written_manifest_keeps_numbers_dates_and_states(demo: Demo, tmp_path: Path) -> None:
    regs = add_registers(demo)
    folder = tmp_path / "xuat-tu-he-thong-cu"
    write_folder(folder)
    before = table_counts(demo)
    objects_before = stored_keys(demo)

    counts, outcomes = run(demo, folder)

    by_row = {o.item.row: o for o in outcomes}
    assert sorted(by_row) == list(range(2, 2 + len(ROWS)))
    assert {r for r, o in by_row.items() if o.status == "imported"} == {2, 3, 10, 11}
    assert counts == {"imported": 4, "skipped": 0, "refused": 7}
    reasons = {r: " ".join(o.reasons) for r, o in by_row.items()}
    assert "Không có sổ «Sổ không có»" in reasons[4]
    assert "Trùng với dòng 2" in reasons[5] and "Số 15" in reasons[5]
    assert "Không thấy tệp «khong-co.pdf»" in reasons[6]
    assert "Tệp bị từ chối" in reasons[7] and "gia.pdf" in reasons[7]
    assert "Ngày văn bản" in reasons[8] and "31/02/2025" in reasons[8]
    assert "Không có người xử lý «khong.ai»" in reasons[9]
    assert "gia.pdf" in reasons[12]

    with demo.factory() as s:
        docs = {
            (d.register_id, d.register_number): d
            for d in s.scalars(select(Document).where(Document.source == "import"))
        }
        assert set(docs) == {
            (regs["incoming"], 15),
            (regs["incoming"], 7),
            (regs["outgoing"], 3),
            (this_year_register(demo), 40),
        }
        d15 = docs[(regs["incoming"], 15)]
        assert d15.state == "done" and d15.urgency == "urgent" and d15.direction == "incoming"
        assert d15.issued_date == dt.date(2025, 2, 3)
        assert d15.received_at is not None
        assert d15.received_at.astimezone(VN_TZ).date() == dt.date(2025, 2, 5)
        assert d15.notation == "12/CV-UBND" and d15.issuer_name == "UBND tỉnh Thử"
        assert sorted((f.kind, f.name) for f in d15.files) == [
            ("attachment", "phu luc.png"),
            ("main", "cv15.pdf"),
        ]
        lead = s.scalars(select(Assignment).where(Assignment.document_id == d15.id)).one()
        assert lead.user_id == demo.user("chuyenvien.dcgs").id and lead.state == "done"
        assert docs[(regs["incoming"], 7)].state == "in_progress"
        d3 = docs[(regs["outgoing"], 3)]
        assert d3.direction == "outgoing" and d3.state == "issued" and d3.doc_type == "KH"
        origin = s.scalars(select(DocumentImport).where(DocumentImport.document_id == d15.id)).one()
        assert (origin.source, origin.source_row) == ("manifest.csv", 2)
        assert origin.identity == f"register:{regs['incoming']}:15"
        audits = s.scalars(select(AuditEntry).where(AuditEntry.event == "document_import")).all()
        assert len(audits) == 4
        assert {a.actor_id for a in audits} == {demo.user("admin").id}

    # The register's next number moved past the imported ones (not filled in below them).
    assert last_number(demo, regs["incoming"]) == 15
    assert last_number(demo, regs["outgoing"]) == 3
    this_year = this_year_register(demo)
    assert last_number(demo, this_year) == 40
    with demo.uow() as u:
        assert allocate_number(u.session, this_year, year=2026) == 41
        u.rollback()

    after = table_counts(demo)
    assert after["documents"] - before["documents"] == 4
    assert after["document_imports"] - before["document_imports"] == 4
    # Every object the import stored is referenced: the good file of row 12 was not stored.
    new_objects = stored_keys(demo) - objects_before
    assert len(new_objects) == 3  # cv15.pdf, phu luc.png, kh3.pdf
    assert new_objects <= referenced(demo)

    # The same folder again: nothing changes (rows, audit entries, objects).
    objects_after = stored_keys(demo)
    counts2, outcomes2 = run(demo, folder)
    assert counts2 == {"imported": 0, "skipped": 4, "refused": 7}
    assert {o.item.row for o in outcomes2 if o.status == "skipped"} == {2, 3, 10, 11}
    assert table_counts(demo) == after
    assert stored_keys(demo) == objects_after
    assert last_number(demo, regs["incoming"]) == 15


def test_a_number_registered_by_hand_is_refused_and_the_counter_never_goes_back(
    demo: Demo, tmp_path: Path
) -> None:
    this_year = this_year_register(demo)
    org = demo.org(TW)
    with demo.uow() as u:
        for _ in range(50):
            allocate_number(u.session, this_year, year=2026)
        u.session.add(
            Document(
                organization_id=org.id,
                direction="incoming",
                state="registered",
                register_id=this_year,
                register_number=12,
                doc_type="CV",
                subject="Vào sổ bằng tay",
                source="paper",
            )
        )
        u.commit()
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "manifest.csv").write_text(
        "direction;register;year;number;subject\n"
        "incoming;Sổ văn bản đến năm 2026;2026;12;Số đã có văn bản\n"
        "incoming;Sổ văn bản đến năm 2026;2026;30;Số nhỏ hơn số cuối, còn trống\n"
        "incoming;Sổ văn bản đến năm 2026;2026;60;Số lớn hơn số cuối\n",
        encoding="utf-8",
    )
    counts, outcomes = run(demo, folder)
    assert counts == {"imported": 2, "skipped": 0, "refused": 1}
    refused = next(o for o in outcomes if o.status == "refused")
    assert refused.item.row == 2 and "Số 12 đã có trong sổ" in refused.reasons[0]
    assert last_number(demo, this_year) == 60


def test_only_an_admin_imports_documents(demo: Demo, tmp_path: Path) -> None:
    with pytest.raises(PermissionDeniedError):
        imports.import_documents(demo.uow(), demo.actor("vanthu.tw"), [])


def test_an_xlsx_manifest_with_english_headers_and_a_dry_run(demo: Demo, tmp_path: Path) -> None:
    regs = add_registers(demo)
    folder = tmp_path / "x"
    folder.mkdir()
    wb = Workbook()
    ws = wb.active
    ws.title = "manifest"
    ws.append(["direction", "register", "year", "number", "subject", "issued_date", "files"])
    ws.append(["incoming", IN_2025, 2025, 1, "Một", dt.date(2025, 4, 1), "a.pdf"])
    ws.append(["incoming", IN_2025, 2025, 2, "Hai", dt.datetime(2025, 4, 2), "b.pdf"])
    wb.save(folder / "manifest.xlsx")
    (folder / "a.pdf").write_bytes(make_pdf(title="A"))
    (folder / "b.pdf").write_bytes(b"not a pdf")
    before = table_counts(demo)
    objects = stored_keys(demo)
    counts, outcomes = run(demo, folder, dry_run=True)
    assert counts == {"imported": 1, "skipped": 0, "refused": 1}
    assert table_counts(demo) == before and stored_keys(demo) == objects
    assert last_number(demo, regs["incoming"]) == 0
    report = imports.ReportWriter()
    for o in outcomes:
        report.add(o)
    report.save(tmp_path / "r.xlsx", dry_run=True)
    sheet = load_workbook(tmp_path / "r.xlsx")["Kết quả nhập"]
    lines = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[6]) for r in lines] == [(2, "Đã nhập"), (3, "Từ chối")]
    counts, _ = run(demo, folder)
    assert counts["imported"] == 1
    with demo.factory() as s:
        doc = s.scalars(select(Document).where(Document.register_id == regs["incoming"])).one()
        assert doc.issued_date == dt.date(2025, 4, 1)


# ------------------------------------------------------------------ edXML packages

PACKAGE = """<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016" xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
  <edXML:edXMLEnvelope>
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From><edXML:OrganId>000.00.05.H26</edXML:OrganId><edXML:OrganName>Sở Nội vụ tỉnh Thử</edXML:OrganName></edXML:From>
        <edXML:To><edXML:OrganId>000.00.00.Z01</edXML:OrganId></edXML:To>
        <edXML:Code><edXML:CodeNumber>{number}</edXML:CodeNumber><edXML:CodeNotation>TB-SNV</edXML:CodeNotation></edXML:Code>
        <edXML:PromulgationInfo><edXML:PromulgationDate>2025/05/{day:02d}</edXML:PromulgationDate></edXML:PromulgationInfo>
        <edXML:Subject>{subject}</edXML:Subject>
        <edXML:OtherInfo><edXML:Priority>{priority}</edXML:Priority></edXML:OtherInfo>
        {document_id}
      </edXML:MessageHeader>
    </edXML:edXMLHeader>
  </edXML:edXMLEnvelope>
  <edXML:AttachmentEncoded>
    <edXML:Attachment>
      <edXML:ContentId>1</edXML:ContentId>
      <edXML:AttachmentName>{name}</edXML:AttachmentName>
      <edXML:ContentType>application/pdf</edXML:ContentType>
      <edXML:ContentTransferEncoded>{content}</edXML:ContentTransferEncoded>
    </edXML:Attachment>
  </edXML:AttachmentEncoded>
</edXML>
"""


def package(number: int, subject: str, *, with_id: bool = True, priority: int = 0) -> str:
    doc_id = (
        f"<edXML:DocumentId>000.00.05.H26,2025/05/{number:02d},{number}/TB-SNV</edXML:DocumentId>"
        if with_id
        else ""
    )
    pdf = base64.b64encode(make_pdf(title=f"Thông báo {number}")).decode()
    return PACKAGE.format(
        number=number,
        day=number,
        subject=subject,
        priority=priority,
        document_id=doc_id,
        name=f"TB{number}.pdf",
        content=pdf,
    )


def test_a_folder_of_hand_written_edxml_packages(demo: Demo, tmp_path: Path) -> None:
    from app.document_import import EdxmlFolder

    folder = tmp_path / "goi"
    folder.mkdir()
    (folder / "01.edxml").write_text(package(1, "Thông báo một", priority=1), encoding="utf-8")
    (folder / "02.edxml").write_text(package(2, "Thông báo hai"), encoding="utf-8")
    (folder / "03.edxml").write_text(package(3, "Không có DocumentId", with_id=False))
    (folder / "04.edxml").write_text("<edXML>không phải gói</edXML>", encoding="utf-8")
    before = table_counts(demo)
    objects = stored_keys(demo)

    def go() -> tuple[dict[str, int], list[imports.ItemOutcome]]:
        outcomes: list[imports.ItemOutcome] = []
        # A batch larger than the folder: its files are stored after the last package is read.
        with EdxmlFolder(folder) as packages:
            result = imports.import_documents(
                demo.uow(),
                demo.actor("admin"),
                packages,
                on_outcome=outcomes.append,
                batch_size=3,
            )
        return result.counts, outcomes

    counts, outcomes = go()
    assert counts == {"imported": 3, "skipped": 0, "refused": 1}
    bad = next(o for o in outcomes if o.status == "refused")
    assert bad.item.source == "04.edxml" and "edXML" in bad.reasons[0]
    with demo.factory() as s:
        docs = s.scalars(select(Document).where(Document.source == "import")).all()
        assert sorted(d.notation or "" for d in docs) == ["1/TB-SNV", "2/TB-SNV", "3/TB-SNV"]
        assert all(d.state == "done" and d.register_number is None for d in docs)
        assert all(d.organization_id == demo.org(TW).id for d in docs)
        one = next(d for d in docs if d.notation == "1/TB-SNV")
        assert one.issuer_name == "Sở Nội vụ tỉnh Thử" and one.issued_date == dt.date(2025, 5, 1)
        assert one.urgency == "urgent" and [f.name for f in one.files] == ["TB1.pdf"]
        identities = set(s.scalars(select(DocumentImport.identity)))
        assert "edxml:000.00.05.H26,2025/05/01,1/TB-SNV" in identities
    assert stored_keys(demo) - objects <= referenced(demo)
    after = table_counts(demo)
    assert after["documents"] - before["documents"] == 3
    counts, _ = go()
    assert counts == {"imported": 0, "skipped": 3, "refused": 1}
    assert table_counts(demo) == after
