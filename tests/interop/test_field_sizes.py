"""Fields from other systems at real sizes, on PostgreSQL: the reader's limits table and the
columns cannot drift apart, values up to the limits are stored whole (Vietnamese, composed or
decomposed), values over them are refused with a 422 naming the field and change nothing, in
the manual import and in the axis polling job (which answers 02 and goes on)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import typing
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, func, select

import interop.edxml.model as edxml_model
from docflow.db import Base
from docflow.models import Document, DocumentFile
from docflow.models.exchange import ExchangeMessage
from interop import (
    Attachment,
    Code,
    EdxmlPackage,
    Organ,
    PromulgationInfo,
    SignerInfo,
    build_package_bytes,
    parse_status,
)
from interop.edxml.fields import FIELD_LIMITS, text_fields
from interop.inbox import COLUMN_SOURCES, NOT_FROM_PACKAGES, import_package
from tests.conftest import Demo
from tests.interop.conftest import FIXTURES, SECRET_B, SYSTEM_B, Sim, client_for
from tests.interop.test_axis_exchange import _wire
from tests.pdfs import make_pdf

TABLES = ("documents", "document_files", "exchange_messages", "deliveries", "delivery_events")
COMPETENCE_LIMIT = FIELD_LIMITS["SignerInfo.competence"]


# ------------------------------------------------------------------ the table and the columns


def test_every_string_column_fed_from_a_package_is_as_wide_as_the_reader_allows() -> None:
    tables = Base.metadata.tables
    for name, longest in COLUMN_SOURCES.items():
        table, column = name.split(".")
        col = tables[table].c[column]
        length = getattr(col.type, "length", None)
        assert length is None or length >= longest, f"{name}: {length} < {longest}"
    # every String column of these tables is classified: fed from packages, or not
    for table in TABLES:
        for col in tables[table].c:
            if isinstance(col.type, String) and col.type.length is not None:
                name = f"{table}.{col.name}"
                assert name in COLUMN_SOURCES or name in NOT_FROM_PACKAGES, name


def test_every_text_field_of_the_model_has_a_limit() -> None:
    for obj in vars(edxml_model).values():
        if not (dataclasses.is_dataclass(obj) and isinstance(obj, type)):
            continue
        hints = typing.get_type_hints(obj)
        for f in dataclasses.fields(obj):
            hint = str(hints[f.name])
            if f.compare and (hints[f.name] is str or hint == "tuple[str, ...]"):
                assert f"{obj.__name__}.{f.name}" in FIELD_LIMITS, f"{obj.__name__}.{f.name}"


def test_the_walk_names_nested_fields_as_edxml_does() -> None:
    package = EdxmlPackage(
        from_=Organ("A"),
        to=(Organ("B"), Organ("C", "Tên")),
        code=Code("1", "CV"),
        promulgation=PromulgationInfo(dt.date(2026, 1, 1)),
        subject="x",
        signer=SignerInfo("KT. CHỦ NHIỆM"),
    )
    found = {f.path: f.element for f in text_fields(package)}
    assert found["signer.competence"] == "SignerInfo/Competence"
    assert found["to[1].organ_name"] == "To[1]/OrganName"
    assert found["code.number"] == "Code/CodeNumber"


# ------------------------------------------------------------------ the manual import


def _package(number: str, **changes: Any) -> EdxmlPackage:
    values: dict[str, Any] = {
        "from_": Organ("000.00.07.H31", "Sở Nội vụ tỉnh Thử"),
        "to": (Organ("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam"),),
        "code": Code(number, "SNV-VP"),
        "promulgation": PromulgationInfo(dt.date(2026, 11, 25), "Thử"),
        "subject": "Về việc phối hợp",
        "attachments": (Attachment("Văn bản.pdf", "application/pdf", content=make_pdf()),),
    }
    values.update(changes)
    return EdxmlPackage(**values)


def _over_limit(data: bytes, old: str, new: str) -> bytes:
    """The package with a value replaced by hand (our writer refuses to write it)."""
    assert old.encode() in data
    return data.replace(old.encode(), new.encode())


def _post(client: Any, api: Any, data: bytes) -> Any:
    return client.post(
        "/api/v1/interop/packages",
        headers=api("vanthu.tw"),
        data=data,
        content_type="application/xml",
    )


def _counts(demo: Demo) -> tuple[int, int, int, int]:
    with demo.factory() as s:
        return (
            s.scalar(select(func.count()).select_from(Document)) or 0,
            s.scalar(select(func.count()).select_from(DocumentFile)) or 0,
            s.scalar(select(func.count()).select_from(ExchangeMessage)) or 0,
            sum(1 for _ in demo.store.list()),
        )


def test_competence_with_title_at_the_limit_is_stored_whole(
    client: Any, api: Any, demo: Demo
) -> None:
    # The case, then the longest allowed, decomposed (each tone mark counts).
    at_limit = unicodedata.normalize("NFD", "TM. ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM TỈNH ")
    at_limit = (at_limit * 20)[:COMPETENCE_LIMIT]
    for number, competence in (("1", "KT. CHỦ NHIỆM"), ("2", at_limit)):
        data = build_package_bytes(_package(number, signer=SignerInfo(competence, "Phó", "A")))
        r = _post(client, api, data)
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["signer"]["competence"] == competence
        with demo.factory() as s:
            assert s.get_one(Document, r.get_json()["id"]).signer_competence == competence


@pytest.mark.parametrize(
    ("old", "new", "field", "element"),
    [
        ("KT. GIÁM ĐỐC", "KT. " + "GIÁM ĐỐC " * 60, "signer.competence", "SignerInfo/Competence"),
        ("Sở Nội vụ tỉnh Thử", "Sở " * 300, "from_.organ_name", "From/OrganName"),
        ("SNV-VP", "SNV-" + "VP" * 150, "code.notation", "Code/CodeNotation"),
        ("Văn bản.pdf", "Văn bản " * 40 + ".pdf", "attachments[0].name", "Attachment[0]/AttachmentName"),
    ],
)  # fmt: skip
def test_a_value_over_its_limit_is_refused_naming_it_and_nothing_changes(
    client: Any, api: Any, demo: Demo, old: str, new: str, field: str, element: str
) -> None:
    data = build_package_bytes(_package("3", signer=SignerInfo("KT. GIÁM ĐỐC", "Phó", "B")))
    before = _counts(demo)
    r = _post(client, api, _over_limit(data, old, new))
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "edxml_field_too_long"
    assert element in error["message"] and "giới hạn" in error["message"]
    assert (error["details"]["field"], error["details"]["element"]) == (field, element)
    assert error["details"]["length"] > error["details"]["limit"]
    assert _counts(demo) == before


# ------------------------------------------------------------------ property: reader → import

_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
    "AÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐEÈÉẺẼẸÊỀẾỂỄỆIÌÍỈĨỊOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢUÙÚỦŨỤƯỪỨỬỮỰYỲÝỶỸỴ"
    ".,-/()&<>\"'_"
)


def _text(limit: int, *, spaces: bool = True) -> st.SearchStrategy[str]:
    """Vietnamese text of a realistic length or exactly the limit, composed or decomposed."""

    def make(base: str, form: str, length: int) -> str:
        text = unicodedata.normalize(form, base.replace("_", " ") if spaces else base)
        text = (text * (length // len(text) + 1))[:length]
        return "Đ" + text[1:-1] + "Đ" if len(text) > 1 else "Đ"  # no blank ends

    return st.builds(
        make,
        st.text(st.sampled_from(_LETTERS), min_size=1, max_size=40),
        st.sampled_from(["NFC", "NFD"]),
        st.one_of(st.integers(1, min(limit, 120)), st.just(limit)),
    )


_numbers = itertools.count(1000)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    subject=_text(3000),
    organ_name=_text(FIELD_LIMITS["Organ.organ_name"]),
    competence=_text(COMPETENCE_LIMIT),
    position=_text(FIELD_LIMITS["SignerInfo.position"]),
    full_name=_text(FIELD_LIMITS["SignerInfo.full_name"]),
    notation=_text(FIELD_LIMITS["Code.notation"], spaces=False),
)
def test_vietnamese_values_up_to_the_limits_arrive_whole_on_postgresql(
    demo: Demo,
    subject: str,
    organ_name: str,
    competence: str,
    position: str,
    full_name: str,
    notation: str,
) -> None:
    number = str(next(_numbers))
    package = _package(
        number,
        from_=Organ("000.00.07.H31", organ_name),
        code=Code(number, notation),
        subject=subject,
        signer=SignerInfo(competence, position, full_name),
    )
    [result] = import_package(
        demo.uow(),
        io.BytesIO(build_package_bytes(package)),
        channel="manual",
        actor=demo.actor("vanthu.tw"),
    )
    assert result.created
    with demo.factory() as s:
        row = s.get_one(Document, result.document.id)
        assert (row.subject, row.issuer_name, row.notation) == (
            subject,
            organ_name,
            f"{number}/{notation}",
        )
        assert (row.signer_competence, row.signer_position, row.signer_name) == (
            competence,
            position,
            full_name,
        )


# ------------------------------------------------------------------ the axis polling job


def test_polling_job_refuses_a_too_long_package_answers_02_and_goes_on(
    app: Any, client: Any, api: Any, sim: Sim, demo: Demo
) -> None:
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    good = (FIXTURES / "foreign_sdk_ns2_prefix.edxml").read_bytes()
    bad = _over_limit(
        (FIXTURES / "foreign_vendor_default_ns.edxml").read_bytes(),
        "<Competence>KT. CHỦ NHIỆM<",
        "<Competence>" + "KT. CHỦ NHIỆM " * 40 + "<",
    )
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency("000.12.30.H49", "Văn phòng Đoàn ĐBQH và HĐND tỉnh")
        external.register_agency("000.00.12.H41.VP01", "Văn phòng Ban Chỉ đạo tỉnh")
        external.send_edoc(bad, ["000.00.00.Z01"], from_code="000.12.30.H49")
        external.send_edoc(good, ["000.00.00.Z01"], from_code="000.00.12.H41.VP01")
        assert poll_axis(rt) == 1  # the good one, after the refused one
        box = client.get("/api/v1/documents?box=inbox", headers=api("vanthu.tw")).get_json()
        assert [d["issuer"]["code"] for d in box["items"]] == ["000.00.12.H41.VP01"]
        notices = []
        for item in external.get_received_list("status"):
            with parse_status(io.BytesIO(external.get_edoc(item.doc_id))) as result:
                assert result.status is not None
                notices.append(result.status)
        refusal = [n for n in notices if n.status_code == "02"]
        assert len(refusal) == 1
        assert refusal[0].response_for.document_id == (
            "000.12.30.H49,2026/11/20,1520/VPĐĐBQH&HĐND-TTDN"
        )
        assert refusal[0].response_for.organ_id == "000.12.30.H49"
        assert "SignerInfo/Competence" in refusal[0].description
        with demo.factory() as s:
            logged = s.scalars(
                select(ExchangeMessage).where(ExchangeMessage.kind == "refused")
            ).one()
            assert logged.last_error is not None
            assert logged.last_error.startswith("edxml_field_too_long")
        poll_axis(rt)  # listed again (transport "fail"), answered only once
        assert [i.messagetype for i in external.get_received_list("status")].count("status") == len(
            notices
        )
