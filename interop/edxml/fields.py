"""How long each text field of a package or status message may be: one table, one check.

Other systems write what their users typed: a signer's competence is "KT. CHỦ NHIỆM" or "TM.
ỦY BAN NHÂN DÂN TỈNH …", an organisation's name can run to a line and a half. The limits below
are generous for real documents and refuse only what no real document has; a value over its
limit is refused (:class:`~interop.errors.EdxmlFieldTooLongError`, naming the field), never
truncated. The reader applies them to every message it reads in full (``parse_edxml``), the
writer to every message it writes (``checks.package_problems``), and the database columns that
receive these values are at least as wide (``interop.inbox.COLUMN_SOURCES``, checked by a test).

Lengths are counted in characters (Unicode code points), as PostgreSQL counts ``varchar(n)``: a
name written in decomposed form (NFD, a base letter followed by combining marks) counts each
mark, so the limits leave room for that form too.

The table is keyed by ``"<ModelClass>.<field>"``; a ``tuple[str, ...]`` field's limit applies to
each item.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from interop.errors import EdxmlFieldTooLongError

ORGAN_ID = 64  # "000.00.00.G01" is 13; hubs and older systems use longer codes
ORGAN_NAME = 500
DOCUMENT_ID = 400  # "<OrganId>,<yyyy/MM/dd>,<number>/<notation>"
CODE_NUMBER = 50
CODE_NOTATION = 200
PERSON_NAME = 255
TITLE = 500  # a position or competence line: "KT. CHỦ NHIỆM", "TM. BAN THƯỜNG TRỰC", ...
EMAIL = 254  # RFC 5321
PHONE = 64
SHORT_CODE = 16
REASON = 4000
SUBJECT = 10_000
LONG_TEXT = 200_000

FIELD_LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "Organ.organ_id": ORGAN_ID,
        "Organ.organ_name": ORGAN_NAME,
        "Organ.organization_in_charge": ORGAN_NAME,
        "Organ.organ_add": 500,
        "Organ.email": EMAIL,
        "Organ.telephone": PHONE,
        "Organ.fax": PHONE,
        "Organ.website": 500,
        "Code.number": CODE_NUMBER,
        "Code.notation": CODE_NOTATION,
        "PromulgationInfo.place": 200,
        "DocumentType.type_code": SHORT_CODE,
        "DocumentType.type_name": 255,
        "SignerInfo.competence": TITLE,
        "SignerInfo.position": TITLE,
        "SignerInfo.full_name": PERSON_NAME,
        "OtherInfo.sphere_of_promulgation": 1000,
        "OtherInfo.typer_notation": 100,
        "OtherInfo.appendixes": 1000,
        "ResponseFor.organ_id": ORGAN_ID,
        "ResponseFor.code": CODE_NUMBER + 1 + CODE_NOTATION,
        "ResponseFor.document_id": DOCUMENT_ID,
        "TraceHeader.organ_id": ORGAN_ID,
        "StaffInfo.department": ORGAN_NAME,
        "StaffInfo.staff": PERSON_NAME,
        "StaffInfo.mobile": PHONE,
        "StaffInfo.email": EMAIL,
        "Receiver.organ_id": ORGAN_ID,
        "Receiver.receiver_type": SHORT_CODE,
        "BussinessDocumentInfo.document_info": REASON,
        "BussinessDocumentInfo.document_receiver": SHORT_CODE,
        "ReplacementInfo.document_id": DOCUMENT_ID,
        "ReplacementInfo.organ_ids": ORGAN_ID,
        "Bussiness.reason": REASON,
        "Bussiness.document_id": DOCUMENT_ID,
        "Attachment.name": 255,
        "Attachment.content_type": 255,
        "Attachment.content_id": 255,
        "Attachment.description": 2000,
        "EdxmlPackage.subject": SUBJECT,
        "EdxmlPackage.document_id": DOCUMENT_ID,
        "EdxmlPackage.content": LONG_TEXT,
        "EdxmlPackage.to_places": 500,
        "EdxmlPackage.signature_xml": LONG_TEXT,
        "StatusMessage.status_code": 8,
        "StatusMessage.description": REASON,
    }
)

# edXML element names where the snake-case field name does not give them.
_ELEMENTS = {
    "from_": "From",
    "to": "To",
    "signer": "SignerInfo",
    "promulgation": "PromulgationInfo",
    "number": "CodeNumber",
    "notation": "CodeNotation",
    "type_code": "Type",
    "trace_headers": "TraceHeader",
    "reason": "BussinessDocReason",
    "document_info": "BussinessDocumentInfo",
    "staff": "StaffInfo",
    "replacements": "ReplacementInfo",
    "organ_ids": "OrganId",
    "attachments": "Attachment",
    "name": "AttachmentName",
    "to_places": "Place",
    "appendixes": "Appendix",
    "signature_xml": "Signature",
}


def element_name(field: str) -> str:
    """``"organ_add"`` → ``"OrganAdd"`` (with the standard's exceptions)."""
    return _ELEMENTS.get(field) or "".join(part.capitalize() for part in field.split("_"))


@dataclasses.dataclass(frozen=True)
class FieldValue:
    """One text value of a message, where it is, and its limit."""

    key: str  # the table's key, "SignerInfo.competence"
    path: str  # the model path, "signer.competence", "to[1].organ_name"
    element: str  # the edXML path, "SignerInfo/Competence", "To[1]/OrganName"
    value: str
    limit: int


def text_fields(message: object) -> Iterator[FieldValue]:
    """Every text value of a package or status message (dataclasses, recursively)."""
    yield from _walk(message, "", "")


def _walk(value: object, path: str, element: str) -> Iterator[FieldValue]:
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return
    owner = type(value).__name__
    for f in dataclasses.fields(value):
        if not f.compare:
            continue  # an attachment's content
        item = getattr(value, f.name)
        here = f"{path}.{f.name}" if path else f.name
        there = f"{element}/{element_name(f.name)}" if element else element_name(f.name)
        key = f"{owner}.{f.name}"
        if isinstance(item, str):
            yield FieldValue(key, here, there, item, FIELD_LIMITS[key])
        elif isinstance(item, tuple):
            for index, member in enumerate(item):
                if isinstance(member, str):
                    yield FieldValue(
                        key, f"{here}[{index}]", f"{there}[{index}]", member, FIELD_LIMITS[key]
                    )
                else:
                    yield from _walk(member, f"{here}[{index}]", f"{there}[{index}]")
        else:
            yield from _walk(item, here, there)


def too_long(message: object) -> Iterator[FieldValue]:
    """The values over their limit."""
    return (f for f in text_fields(message) if len(f.value) > f.limit)


def check_lengths(message: object) -> None:
    """Refuse (:class:`EdxmlFieldTooLongError`) the first value over its limit."""
    for found in too_long(message):
        raise EdxmlFieldTooLongError(
            f"Trường {found.element} của gói tin dài {len(found.value)} ký tự, vượt quá giới hạn"
            f" {found.limit} ký tự.",
            field=found.path,
            element=found.element,
            limit=found.limit,
            length=len(found.value),
        )
