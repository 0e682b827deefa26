"""What a model must satisfy before it is written as edXML (strict output).

:func:`package_problems` and :func:`status_problems` list every problem, in Vietnamese with the
field's path, so that a caller sees them all at once; the writer refuses with
:class:`EdxmlBuildError` before writing the first byte.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator

from lxml import etree

from interop.edxml.codes import EDXML_NS, StatusCode
from interop.edxml.fields import too_long
from interop.edxml.model import (
    DOCUMENT_ID_RE,
    EdxmlPackage,
    Organ,
    ResponseFor,
    StatusMessage,
)
from interop.errors import EdxmlBuildError

_INVALID_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTENT_ID_RE = re.compile(r"^[^\s<>\"]+$")


def _text_problems(value: object, path: str) -> Iterator[str]:
    """Characters XML 1.0 cannot carry, anywhere in a (nested) dataclass."""
    if isinstance(value, str):
        bad = _INVALID_XML_CHAR.search(value)
        if bad:
            yield f"{path}: ký tự không hợp lệ trong XML (U+{ord(bad.group()):04X})"
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _text_problems(item, f"{path}[{index}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.compare:
                yield from _text_problems(getattr(value, f.name), f"{path}.{f.name}")


def _length_problems(message: object) -> Iterator[str]:
    for found in too_long(message):
        yield f"{found.path}: dài {len(found.value)} ký tự, tối đa {found.limit}"


def _organ_problems(organ: Organ, path: str) -> Iterator[str]:
    if not organ.organ_id.strip():
        yield f"{path}.organ_id: thiếu mã định danh cơ quan"


def package_problems(package: EdxmlPackage) -> Iterator[str]:
    yield from _text_problems(package, "package")
    yield from _length_problems(package)
    yield from _organ_problems(package.from_, "from_")
    if not package.to:
        yield "to: cần ít nhất một nơi nhận"
    for index, organ in enumerate(package.to):
        yield from _organ_problems(organ, f"to[{index}]")
    if not package.code.notation.strip():
        yield "code.notation: thiếu ký hiệu văn bản"
    if package.promulgation.date is None:
        yield "promulgation.date: thiếu ngày ban hành"
    if not package.subject.strip():
        yield "subject: thiếu trích yếu"
    if not package.document_type.type_code.isdigit():
        yield "document_type.type_code: mã loại văn bản phải là số"
    if not DOCUMENT_ID_RE.match(package.document_id):
        yield "document_id: phải có dạng '<mã cơ quan>,<yyyy/MM/dd>,<số>/<ký hiệu>'"
    other = package.other_info
    for name in ("promulgation_amount", "page_amount"):
        amount = getattr(other, name)
        if amount is not None and amount < 0:
            yield f"other_info.{name}: không được âm"
    for index, trace in enumerate(package.trace_headers):
        if not trace.organ_id.strip():
            yield f"trace_headers[{index}].organ_id: thiếu mã cơ quan"
        if trace.timestamp.utcoffset() is None:
            yield f"trace_headers[{index}].timestamp: cần có múi giờ"
    for index, response in enumerate(package.response_for):
        yield from _response_problems(response, f"response_for[{index}]")
    if package.bussiness.doc_type and not package.bussiness.document_id.strip():
        yield "bussiness.document_id: thu hồi/cập nhật/thay thế cần DocumentId của văn bản gốc"
    seen: set[str] = set()
    for index, attachment in enumerate(package.attachments):
        path = f"attachments[{index}]"
        if not attachment.name.strip():
            yield f"{path}.name: thiếu tên tệp"
        if not attachment.content_type.strip():
            yield f"{path}.content_type: thiếu kiểu nội dung"
        if attachment.content is None:
            yield f"{path}.content: thiếu nội dung tệp"
        elif isinstance(attachment.content, os.PathLike) and not os.path.isfile(attachment.content):
            yield f"{path}.content: không tìm thấy tệp"
        if not _CONTENT_ID_RE.match(attachment.content_id):
            yield f"{path}.content_id: không hợp lệ"
        if attachment.content_id in seen:
            yield f"{path}.content_id: trùng '{attachment.content_id}'"
        seen.add(attachment.content_id)
    if package.signature_xml.strip():
        try:
            signature_elements(package.signature_xml)
        except etree.XMLSyntaxError:
            yield "signature_xml: không phải XML hợp lệ"


def _response_problems(response: ResponseFor, path: str) -> Iterator[str]:
    if not response.organ_id.strip():
        yield f"{path}.organ_id: thiếu mã cơ quan"
    if not (response.document_id.strip() or response.code.strip()):
        yield f"{path}: cần DocumentId hoặc số ký hiệu của văn bản được trả lời"


def status_problems(status: StatusMessage) -> Iterator[str]:
    yield from _text_problems(status, "status")
    yield from _length_problems(status)
    yield from _response_problems(status.response_for, "response_for")
    yield from _organ_problems(status.from_, "from_")
    if status.status_code not in StatusCode._value2member_map_:
        yield f"status_code: '{status.status_code}' không có trong danh mục mã trạng thái"
    if status.timestamp is None:
        yield "timestamp: thiếu thời điểm"
    elif status.timestamp.utcoffset() is None:
        yield "timestamp: cần có múi giờ"


def raise_if(problems: list[str]) -> None:
    if problems:
        raise EdxmlBuildError(
            "Không thể tạo gói tin edXML: " + "; ".join(problems), problems=problems
        )


def signature_elements(fragment: str) -> list[etree._Element]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    wrapper = etree.fromstring(
        f'<w xmlns:edXML="{EDXML_NS}">{fragment}</w>'.encode(), parser=parser
    )
    return list(wrapper)
