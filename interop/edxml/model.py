"""The edXML model: frozen dataclasses for a document package and a status message.

Field names follow the edXML element names in snake case (``organ_add`` for OrganAdd, the
standard's ``Bussiness`` spelling kept), so a reader of QCVN 102:2016 finds them. Free text is
kept exactly; an empty string means "absent" (the element is not written). Times are aware
datetimes, written in Vietnam time to the second.

The business flows are values of this model, built with :func:`dataclasses.replace`:

- a new document: ``Bussiness(doc_type=NEW)`` (the default);
- revoke (thu hồi) / update (cập nhật) / replace (thay thế) an earlier one:
  ``Bussiness(doc_type=REVOKE, document_id=<its DocumentId>, reason=...)``, with
  ``document_info`` (what changed, which receivers) for an update and ``replacements`` for a
  replacement;
- a reply: ``response_for=(original.as_response_for(),)``;
- a status (01-06, 13, 15, 16): :meth:`StatusMessage.about`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import BinaryIO, NamedTuple

from interop.edxml.codes import (
    CONG_VAN,
    DOCUMENT_TYPES,
    BussinessDocType,
    Priority,
    StatusCode,
    SteeringType,
    Urgency,
)
from interop.edxml.dates import format_date
from interop.errors import EdxmlBuildError

AttachmentContent = bytes | os.PathLike[str] | Callable[[], BinaryIO]
"""Where an attachment's bytes come from: bytes, a file path, or a function opening a stream."""


@dataclass(frozen=True)
class Organ:
    """An organisation: From, To, and the sender of a status message."""

    organ_id: str
    organ_name: str = ""
    organization_in_charge: str = ""
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True)
class Code:
    """Số và ký hiệu: ``Code(number="60", notation="KH-MTTW-BTT")`` is 60/KH-MTTW-BTT."""

    number: str
    notation: str

    def __str__(self) -> str:
        return f"{self.number}/{self.notation}" if self.number else self.notation

    @classmethod
    def parse(cls, text: str) -> Code:
        """``"60/KH-MTTW-BTT"`` → ``Code("60", "KH-MTTW-BTT")``; no number when there is no ``/``."""
        number, slash, notation = text.strip().partition("/")
        return cls(number.strip(), notation.strip()) if slash else cls("", number.strip())


@dataclass(frozen=True)
class PromulgationInfo:
    """Nơi và ngày ban hành. The date is required on output; input may lack it."""

    date: dt.date | None
    place: str = ""


@dataclass(frozen=True)
class DocumentType:
    """DocumentType: the QCVN code (see ``codes.DOCUMENT_TYPES``) and its name as written."""

    type_code: str = CONG_VAN
    type_name: str = DOCUMENT_TYPES[CONG_VAN].name


@dataclass(frozen=True)
class SignerInfo:
    competence: str = ""  # thẩm quyền: "KT.", "TM.", "Q."...
    position: str = ""
    full_name: str = ""


@dataclass(frozen=True)
class OtherInfo:
    priority: Priority = Priority.NORMAL
    sphere_of_promulgation: str = ""
    typer_notation: str = ""
    promulgation_amount: int | None = None
    page_amount: int | None = None
    appendixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResponseFor:
    """The document a reply or a status message answers."""

    organ_id: str
    code: str  # "60/KH-MTTW-BTT", as written
    promulgation_date: dt.date | None
    document_id: str


@dataclass(frozen=True)
class TraceHeader:
    """One hop of the package: who handled it, when."""

    organ_id: str
    timestamp: dt.datetime


@dataclass(frozen=True)
class StaffInfo:
    """The person behind a business action or a status."""

    department: str = ""
    staff: str = ""
    mobile: str = ""
    email: str = ""


@dataclass(frozen=True)
class Receiver:
    """A receiver changed by an update (ReceiverType as sent by the peer)."""

    organ_id: str
    receiver_type: str = ""


@dataclass(frozen=True)
class BussinessDocumentInfo:
    """What an update changes: the document's information, its receivers (flags "0"/"1")."""

    document_info: str = ""
    document_receiver: str = ""
    receivers: tuple[Receiver, ...] = ()


@dataclass(frozen=True)
class ReplacementInfo:
    """A document replaced by this one, and the organisations that had received it."""

    document_id: str
    organ_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bussiness:
    """TraceHeaderList/Bussiness (sic): the business action the package carries."""

    doc_type: BussinessDocType = BussinessDocType.NEW
    reason: str = ""
    document_id: str = ""  # for revoke/update/replace: the DocumentId acted upon
    document_info: BussinessDocumentInfo | None = None
    staff: StaffInfo | None = None
    paper: bool | None = None  # a paper original follows
    replacements: tuple[ReplacementInfo, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A file of the package. ``content`` is not part of equality: compare digests instead."""

    name: str
    content_type: str = "application/octet-stream"
    content_id: str = ""  # filled by EdxmlPackage when empty ("att1", "att2"...)
    description: str = ""
    content: AttachmentContent | None = field(default=None, compare=False, repr=False)

    def open(self) -> BinaryIO:
        """A new binary stream over the bytes (the caller closes it)."""
        content = self.content
        if content is None:
            raise EdxmlBuildError(
                f"Tệp đính kèm '{self.name}' không có nội dung.", content_id=self.content_id
            )
        if isinstance(content, bytes):
            return io.BytesIO(content)
        if isinstance(content, os.PathLike):
            return open(content, "rb")  # the caller closes it
        return content()

    def read_bytes(self) -> bytes:
        with self.open() as stream:
            return stream.read()


class DocumentIdParts(NamedTuple):
    organ_id: str
    date: dt.date
    code: str


DOCUMENT_ID_RE = re.compile(r"^(?P<organ>[^,\s]+),(?P<date>\d{4}/\d{2}/\d{2}),(?P<code>\S.*)$")


def make_document_id(organ_id: str, date: dt.date, code: Code | str) -> str:
    """``"<sender OrganId>,<yyyy/MM/dd>,<number>/<notation>"`` (DOMAIN.md §7)."""
    return f"{organ_id},{format_date(date)},{code}"


def parse_document_id(document_id: str) -> DocumentIdParts | None:
    """The parts of a well-formed DocumentId; ``None`` otherwise (UUIDs exist in the wild)."""
    match = DOCUMENT_ID_RE.match(document_id.strip())
    if not match:
        return None
    try:
        date = dt.datetime.strptime(match["date"], "%Y/%m/%d").date()
    except ValueError:
        return None
    return DocumentIdParts(match["organ"], date, match["code"])


@dataclass(frozen=True)
class EdxmlPackage:
    """A document package (messagetype ``edoc``). Sequences are tuples; lists are converted."""

    from_: Organ
    to: tuple[Organ, ...]
    code: Code
    promulgation: PromulgationInfo
    subject: str
    document_id: str = ""  # empty: derived by make_document_id when the date is known
    document_type: DocumentType = DocumentType()
    content: str = ""
    signer: SignerInfo | None = None
    due_date: dt.date | None = None
    to_places: tuple[str, ...] = ()
    other_info: OtherInfo = OtherInfo()
    response_for: tuple[ResponseFor, ...] = ()
    steering_type: SteeringType | None = None
    trace_headers: tuple[TraceHeader, ...] = ()
    bussiness: Bussiness = Bussiness()
    signature_xml: str = ""  # the XML-DSig inside edXML:Signature, kept for the record
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        for name in ("to", "to_places", "response_for", "trace_headers", "attachments"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if any(not a.content_id for a in self.attachments):
            used = {a.content_id for a in self.attachments}
            filled = []
            counter = 0
            for attachment in self.attachments:
                if not attachment.content_id:
                    counter += 1
                    while f"att{counter}" in used:
                        counter += 1
                    attachment = replace(attachment, content_id=f"att{counter}")
                filled.append(attachment)
            object.__setattr__(self, "attachments", tuple(filled))
        if not self.document_id and self.promulgation.date is not None:
            derived = make_document_id(self.from_.organ_id, self.promulgation.date, self.code)
            object.__setattr__(self, "document_id", derived)

    @property
    def urgency(self) -> Urgency:
        return self.other_info.priority.urgency

    def as_response_for(self) -> ResponseFor:
        """The ResponseFor element pointing at this package (for a reply or a status)."""
        return ResponseFor(
            organ_id=self.from_.organ_id,
            code=str(self.code),
            promulgation_date=self.promulgation.date,
            document_id=self.document_id,
        )


@dataclass(frozen=True)
class StatusMessage:
    """A status message (messagetype ``status``): where a document stands at one party."""

    response_for: ResponseFor
    from_: Organ
    status_code: str  # two digits, see codes.StatusCode
    timestamp: dt.datetime | None  # required on output; a peer may omit it
    description: str = ""
    staff: StaffInfo | None = None

    @property
    def known_code(self) -> StatusCode | None:
        """The code as :class:`StatusCode`, or ``None`` when a peer sent one outside the list."""
        if self.status_code in StatusCode._value2member_map_:
            return StatusCode(self.status_code)
        return None

    @classmethod
    def about(
        cls,
        package: EdxmlPackage,
        *,
        from_: Organ,
        status_code: StatusCode | str,
        timestamp: dt.datetime,
        description: str = "",
        staff: StaffInfo | None = None,
    ) -> StatusMessage:
        """The status ``from_`` reports about ``package``."""
        return cls(
            response_for=package.as_response_for(),
            from_=from_,
            status_code=str(status_code),
            timestamp=timestamp,
            description=description,
            staff=staff,
        )
