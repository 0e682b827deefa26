"""Hypothesis strategies for the edXML model, heavy on Vietnamese text.

Free text may be any XML character (Vietnamese letters with every tone mark, other scripts,
emoji, tabs, newlines, carriage returns, leading and trailing spaces): the writer must carry it
exactly. Identifiers, codes and e-mails are trimmed tokens, as the reader trims them.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from interop import (
    DOCUMENT_TYPES,
    Attachment,
    Bussiness,
    BussinessDocType,
    BussinessDocumentInfo,
    Code,
    DocumentType,
    EdxmlPackage,
    Organ,
    OtherInfo,
    Priority,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusMessage,
    SteeringType,
    TraceHeader,
    make_document_id,
)
from interop.edxml.dates import VN_TZ

VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
    "AÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐEÈÉẺẼẸÊỀẾỂỄỆIÌÍỈĨỊOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢUÙÚỦŨỤƯỪỨỬỮỰYỲÝỶỸỴ"
    " .,;:/-–()\"'&<>]]>\t\n\r"
)
_other = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co"))
text = st.text(st.one_of(st.sampled_from(VIETNAMESE), _other), max_size=40)
nonblank = text.filter(lambda value: value.strip() != "")
token = st.text(
    st.sampled_from("0123456789ABCDEFGHZabcxyz.-_ĐƯƠđươ"), min_size=1, max_size=16
).filter(lambda value: value == value.strip())
optional_token = st.one_of(st.just(""), token)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31))
times = (
    st.datetimes(min_value=dt.datetime(1990, 1, 2), max_value=dt.datetime(2099, 12, 30))
    .map(lambda moment: moment.replace(microsecond=0))
    .flatmap(
        lambda moment: st.sampled_from([dt.UTC, VN_TZ, dt.timezone(dt.timedelta(hours=-5))]).map(
            lambda zone: moment.replace(tzinfo=zone)
        )
    )
)
organ_ids = st.from_regex(r"\A\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}\Z")

organs = st.builds(
    Organ,
    organ_id=organ_ids,
    organ_name=text,
    organization_in_charge=text,
    organ_add=text,
    email=optional_token,
    telephone=optional_token,
    fax=optional_token,
    website=optional_token,
)
codes = st.builds(Code, number=optional_token, notation=token)
staff = st.builds(
    StaffInfo, department=text, staff=text, mobile=optional_token, email=optional_token
)
responses = st.builds(
    ResponseFor,
    organ_id=organ_ids,
    code=token,
    promulgation_date=st.none() | dates,
    document_id=token,
)
bussiness = st.builds(
    Bussiness,
    doc_type=st.sampled_from(BussinessDocType),
    reason=text,
    document_id=token,
    document_info=st.none()
    | st.builds(
        BussinessDocumentInfo,
        document_info=st.sampled_from(["", "0", "1"]),
        document_receiver=st.sampled_from(["", "0", "1"]),
        receivers=st.lists(
            st.builds(Receiver, organ_id=organ_ids, receiver_type=st.sampled_from(["", "1", "2"])),
            max_size=3,
        ).map(tuple),
    ),
    staff=st.none() | staff,
    paper=st.none() | st.booleans(),
    replacements=st.lists(
        st.builds(
            ReplacementInfo,
            document_id=token,
            organ_ids=st.lists(organ_ids, max_size=3).map(tuple),
        ),
        max_size=2,
    ).map(tuple),
)
attachment_lists = st.lists(
    st.builds(
        Attachment,
        name=nonblank,
        content_type=st.sampled_from(
            ["application/pdf", "application/msword", "image/png", "text/plain; charset=utf-8"]
        ),
        content_id=st.just(""),
        description=text,
        content=st.binary(max_size=3000),
    ),
    max_size=3,
).map(tuple)


@st.composite
def packages(draw: st.DrawFn) -> EdxmlPackage:
    sender = draw(organs)
    code = draw(codes)
    promulgated = draw(dates)
    return EdxmlPackage(
        from_=sender,
        to=tuple(draw(st.lists(organs, min_size=1, max_size=3))),
        code=code,
        promulgation=PromulgationInfo(promulgated, draw(text)),
        subject=draw(nonblank),
        document_id=make_document_id(sender.organ_id, promulgated, code),
        document_type=DocumentType(draw(st.sampled_from(sorted(DOCUMENT_TYPES))), draw(text)),
        content=draw(text),
        signer=draw(st.none() | st.builds(SignerInfo, text, text, text)),
        due_date=draw(st.none() | dates),
        to_places=tuple(draw(st.lists(text, max_size=3))),
        other_info=OtherInfo(
            priority=draw(st.sampled_from(Priority)),
            sphere_of_promulgation=draw(text),
            typer_notation=draw(text),
            promulgation_amount=draw(st.none() | st.integers(0, 10_000)),
            page_amount=draw(st.none() | st.integers(0, 10_000)),
            appendixes=tuple(draw(st.lists(text, max_size=3))),
        ),
        response_for=tuple(draw(st.lists(responses, max_size=2))),
        steering_type=draw(st.none() | st.sampled_from(SteeringType)),
        trace_headers=tuple(
            draw(st.lists(st.builds(TraceHeader, organ_id=organ_ids, timestamp=times), max_size=3))
        ),
        bussiness=draw(bussiness),
        attachments=draw(attachment_lists),
    )


statuses = st.builds(
    StatusMessage,
    response_for=responses,
    from_=organs,
    status_code=st.sampled_from([code.value for code in StatusCode]),
    timestamp=times,
    description=text,
    staff=st.none() | staff,
)
