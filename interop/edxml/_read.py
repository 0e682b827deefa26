"""The tolerant second pass: from the envelope tree to the model, with warnings.

Element names are matched case-insensitively in the edXML namespace or none (the legacy SOAP
form takes any). Identifiers, codes, dates and numbers are trimmed; free text is kept exactly.
What cannot be read becomes a default and a warning (``"<path>: <what was assumed>"``); only
what makes the message meaningless (no MessageHeader, no sender, no status code) is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TypeVar

from interop.edxml import codes
from interop.edxml._layout import Parts, content_id, merge, serialize_children
from interop.edxml._scan import Node, Payload
from interop.edxml.codes import XLINK_NS, SteeringScheme
from interop.edxml.dates import parse_date, parse_time
from interop.edxml.model import (
    DOCUMENT_ID_RE,
    Attachment,
    Bussiness,
    BussinessDocumentInfo,
    Code,
    DocumentType,
    EdxmlPackage,
    Organ,
    OtherInfo,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusMessage,
    TraceHeader,
)
from interop.errors import EdxmlAttachmentError, EdxmlStructureError

T = TypeVar("T")

MAX_COUNT = 1_000_000  # no document has more pages or copies; the columns are 32-bit integers


def _count(raw: str) -> int | None:
    if not codes.is_number(raw) or len(raw) > len(str(MAX_COUNT)):
        return None
    value = int(raw)
    return value if value <= MAX_COUNT else None


_ORGAN = ("OrganId", "OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone")
_ORGAN_KNOWN = (*_ORGAN, "Fax", "Website")
_HEADER_KNOWN = (
    "From", "To", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content",
    "SignerInfo", "DueDate", "ToPlaces", "OtherInfo", "ResponseFor", "SteeringType", "DocumentId",
)  # fmt: skip
_STATUS_KNOWN = ("ResponseFor", "From", "StatusCode", "Description", "Timestamp", "StaffInfo")


class Reader:
    """Reads nodes into model values, collecting warnings."""

    def __init__(self, scheme: SteeringScheme) -> None:
        self.scheme = scheme
        self.warnings: list[str] = []

    def warn(self, path: str, message: str | None) -> None:
        if message:
            self.warnings.append(f"{path}: {message}")

    def known(self, node: Node, names: Iterable[str], path: str) -> None:
        """Warn about children this reader does not know (they are skipped)."""
        allowed = {n.lower() for n in names}
        for child in node.children:
            if child.foreign:
                self.warn(f"{path}/{child.name}", f"không gian tên lạ '{child.ns}', bỏ qua")
            elif child.name.lower() not in allowed:
                self.warn(f"{path}/{child.name}", "phần tử không xác định, bỏ qua")

    def text(self, node: Node | None, name: str, *, strip: bool = False) -> str:
        child = node.find(name) if node is not None else None
        if child is None:
            return ""
        return child.text.strip() if strip else child.text

    def value(self, node: Node | None, name: str) -> str:
        return self.text(node, name, strip=True)

    def parsed(
        self, node: Node | None, name: str, path: str, read: Callable[[str], T | None]
    ) -> T | None:
        raw = self.value(node, name)
        if not raw:
            return None
        result = read(raw)
        if result is None:
            self.warn(f"{path}/{name}", f"giá trị '{raw}' không đọc được, bỏ qua")
        return result

    def number(self, node: Node | None, name: str, path: str) -> int | None:
        """A count (pages, copies): ASCII digits up to :data:`MAX_COUNT`, else unreadable."""
        return self.parsed(node, name, path, _count)

    def organ(self, node: Node, path: str) -> Organ:
        self.known(node, _ORGAN_KNOWN, path)
        organ_id = self.value(node, "OrganId")
        if not organ_id:
            self.warn(path, "thiếu OrganId")
        return Organ(
            organ_id=organ_id,
            organ_name=self.text(node, "OrganName"),
            organization_in_charge=self.text(node, "OrganizationInCharge"),
            organ_add=self.text(node, "OrganAdd"),
            email=self.value(node, "Email"),
            telephone=self.value(node, "Telephone"),
            fax=self.value(node, "Fax"),
            website=self.value(node, "Website"),
        )

    def sender(self, message: Node, path: str) -> Organ:
        node = message.find("From")
        if node is None or not self.value(node, "OrganId"):
            raise EdxmlStructureError(
                "Gói tin edXML thiếu mã định danh cơ quan gửi (From/OrganId).", element="From"
            )
        return self.organ(node, f"{path}/From")

    def response_for(self, node: Node, path: str) -> ResponseFor:
        self.known(node, ("OrganId", "Code", "PromulgationDate", "DocumentId"), path)
        return ResponseFor(
            organ_id=self.value(node, "OrganId"),
            code=self.value(node, "Code"),
            promulgation_date=self.parsed(node, "PromulgationDate", path, parse_date),
            document_id=self.value(node, "DocumentId"),
        )

    def staff(self, node: Node | None, path: str) -> StaffInfo | None:
        if node is None:
            return None
        self.known(node, ("Department", "Staff", "Mobile", "Email"), path)
        return StaffInfo(
            department=self.text(node, "Department"),
            staff=self.text(node, "Staff"),
            mobile=self.value(node, "Mobile"),
            email=self.value(node, "Email"),
        )

    # the document package -----------------------------------------------------------------

    def package(self, parts: Parts, attachments: tuple[Attachment, ...]) -> EdxmlPackage:
        message, path = parts.message, "MessageHeader"
        self.known(message, _HEADER_KNOWN, path)
        sender = self.sender(message, path)
        to = tuple(
            self.organ(node, f"{path}/To[{i}]") for i, node in enumerate(message.find_all("To"))
        )
        if not to:
            self.warn(path, "không có nơi nhận (To)")
        document_id = self.value(message, "DocumentId")
        if not document_id:
            self.warn(
                f"{path}/DocumentId", "thiếu mã định danh văn bản (suy ra nếu có ngày ban hành)"
            )
        elif not DOCUMENT_ID_RE.match(document_id):
            self.warn(
                f"{path}/DocumentId", "không đúng dạng '<mã cơ quan>,<yyyy/MM/dd>,<số/ký hiệu>'"
            )
        subject = self.text(message, "Subject")
        if not subject.strip():
            self.warn(f"{path}/Subject", "thiếu trích yếu")
        steering, warning = codes.read_steering_type(
            self.value(message, "SteeringType"), self.scheme
        )
        self.warn(f"{path}/SteeringType", warning)
        return EdxmlPackage(
            from_=sender,
            to=to,
            code=self.code(message.find("Code"), f"{path}/Code"),
            promulgation=self.promulgation(message.find("PromulgationInfo"), path),
            subject=subject,
            document_id=document_id,
            document_type=self.document_type(message.find("DocumentType"), path),
            content=self.text(message, "Content"),
            signer=self.signer(message.find("SignerInfo"), path),
            due_date=self.parsed(message, "DueDate", path, parse_date),
            to_places=self.to_places(message.find("ToPlaces"), path),
            other_info=self.other_info(message.find("OtherInfo"), f"{path}/OtherInfo"),
            response_for=tuple(
                self.response_for(node, f"{path}/ResponseFor[{i}]")
                for i, node in enumerate(message.find_all("ResponseFor"))
            ),
            steering_type=steering,
            trace_headers=self.trace_headers(parts.trace),
            bussiness=self.bussiness(parts.trace),
            signature_xml=serialize_children(parts.signature),
            attachments=attachments,
        )

    def code(self, node: Node | None, path: str) -> Code:
        if node is None:
            self.warn(path, "thiếu số và ký hiệu văn bản")
            return Code("", "")
        if not node.children:
            return Code.parse(node.text)
        self.known(node, ("CodeNumber", "CodeNotation"), path)
        return Code(self.value(node, "CodeNumber"), self.value(node, "CodeNotation"))

    def promulgation(self, node: Node | None, path: str) -> PromulgationInfo:
        path = f"{path}/PromulgationInfo"
        if node is None:
            self.warn(path, "thiếu thông tin ban hành")
            return PromulgationInfo(None)
        self.known(node, ("Place", "PromulgationDate"), path)
        date: dt.date | None = self.parsed(node, "PromulgationDate", path, parse_date)
        if date is None and not self.value(node, "PromulgationDate"):
            self.warn(path, "thiếu ngày ban hành")
        return PromulgationInfo(date, self.text(node, "Place"))

    def document_type(self, node: Node | None, path: str) -> DocumentType:
        path = f"{path}/DocumentType"
        if node is None:
            self.warn(path, "thiếu loại văn bản")
            return DocumentType("", "")
        self.known(node, ("Type", "TypeName", "TypeDetail"), path)
        code = self.value(node, "Type")
        if code:
            self.warn(f"{path}/Type", codes.read_document_type(code))
        else:
            self.warn(f"{path}/Type", "thiếu mã loại văn bản")
        return DocumentType(code, self.text(node, "TypeName"))

    def signer(self, node: Node | None, path: str) -> SignerInfo | None:
        if node is None:
            return None
        self.known(node, ("Competence", "Position", "FullName"), f"{path}/SignerInfo")
        return SignerInfo(
            competence=self.text(node, "Competence"),
            position=self.text(node, "Position"),
            full_name=self.text(node, "FullName"),
        )

    def to_places(self, node: Node | None, path: str) -> tuple[str, ...]:
        if node is None:
            return ()
        self.known(node, ("Place",), f"{path}/ToPlaces")
        return tuple(place.text for place in node.find_all("Place"))

    def other_info(self, node: Node | None, path: str) -> OtherInfo:
        if node is None:
            return OtherInfo()
        known = ("Priority", "SphereOfPromulgation", "TyperNotation", "PromulgationAmount")
        self.known(node, (*known, "PageAmount", "Appendixes", "Appendix"), path)
        raw_priority = self.value(node, "Priority")
        priority = codes.Priority.NORMAL
        if raw_priority:
            priority, warning = codes.read_priority(raw_priority)
            self.warn(f"{path}/Priority", warning)
        appendixes = node.find("Appendixes")
        listed = appendixes.find_all("Appendix") if appendixes else node.find_all("Appendix")
        return OtherInfo(
            priority=priority,
            sphere_of_promulgation=self.text(node, "SphereOfPromulgation"),
            typer_notation=self.text(node, "TyperNotation"),
            promulgation_amount=self.number(node, "PromulgationAmount", path),
            page_amount=self.number(node, "PageAmount", path),
            appendixes=tuple(appendix.text for appendix in listed),
        )

    def trace_headers(self, node: Node | None) -> tuple[TraceHeader, ...]:
        if node is None:
            return ()
        path = "TraceHeaderList"
        self.known(node, ("TraceHeader", "Bussiness", "Business"), path)
        traces = []
        for index, trace in enumerate(node.find_all("TraceHeader")):
            where = f"{path}/TraceHeader[{index}]"
            moment = self.parsed(trace, "Timestamp", where, parse_time)
            if moment is None:
                self.warn(where, "thiếu hoặc sai thời điểm, bỏ qua")
                continue
            traces.append(TraceHeader(self.value(trace, "OrganId"), moment))
        return tuple(traces)

    def bussiness(self, trace: Node | None) -> Bussiness:
        node = trace.find("Bussiness", "Business") if trace is not None else None
        if node is None:
            return Bussiness()
        path = "TraceHeaderList/Bussiness"
        self.known(
            node,
            ("BussinessDocType", "BussinessDocReason", "BussinessDocumentInfo", "DocumentId",
             "StaffInfo", "Paper", "ReplacementInfoList"),
            path,
        )  # fmt: skip
        doc_type = codes.BussinessDocType.NEW
        if raw := self.value(node, "BussinessDocType"):
            doc_type, warning = codes.read_bussiness_doc_type(raw)
            self.warn(f"{path}/BussinessDocType", warning)
        paper, warning = codes.read_paper(self.value(node, "Paper"))
        self.warn(f"{path}/Paper", warning)
        return Bussiness(
            doc_type=doc_type,
            reason=self.text(node, "BussinessDocReason"),
            document_id=self.value(node, "DocumentId"),
            document_info=self.document_info(node.find("BussinessDocumentInfo"), path),
            staff=self.staff(node.find("StaffInfo"), f"{path}/StaffInfo"),
            paper=paper,
            replacements=self.replacements(node.find("ReplacementInfoList")),
        )

    def document_info(self, node: Node | None, path: str) -> BussinessDocumentInfo | None:
        if node is None:
            return None
        receivers = node.find("ReceiverList")
        return BussinessDocumentInfo(
            document_info=self.value(node, "DocumentInfo"),
            document_receiver=self.value(node, "DocumentReceiver"),
            receivers=tuple(
                Receiver(self.value(r, "OrganId"), self.value(r, "ReceiverType"))
                for r in (receivers.find_all("Receiver") if receivers else [])
            ),
        )

    def replacements(self, node: Node | None) -> tuple[ReplacementInfo, ...]:
        if node is None:
            return ()
        result = []
        for info in node.find_all("ReplacementInfo"):
            organs = info.find("OrganIdList")
            ids = organs.find_all("OrganId") if organs else []
            result.append(
                ReplacementInfo(self.value(info, "DocumentId"), tuple(o.text.strip() for o in ids))
            )
        return tuple(result)

    # the status message -------------------------------------------------------------------

    def status(self, parts: Parts) -> StatusMessage:
        message, path = parts.message, parts.message.name
        self.known(message, _STATUS_KNOWN, path)
        response = message.find("ResponseFor")
        if response is None:
            raise EdxmlStructureError(
                "Thông điệp trạng thái thiếu văn bản được phản hồi (ResponseFor).",
                element="ResponseFor",
            )
        raw_code = self.value(message, "StatusCode")
        if not raw_code:
            raise EdxmlStructureError(
                "Thông điệp trạng thái thiếu mã trạng thái (StatusCode).", element="StatusCode"
            )
        status_code, warning = codes.read_status_code(raw_code)
        self.warn(f"{path}/StatusCode", warning)
        timestamp = self.parsed(message, "Timestamp", path, parse_time)
        if timestamp is None and not self.value(message, "Timestamp"):
            self.warn(f"{path}/Timestamp", "thiếu thời điểm")
        return StatusMessage(
            response_for=self.response_for(response, f"{path}/ResponseFor"),
            from_=self.sender(message, path),
            status_code=status_code,
            timestamp=timestamp,
            description=self.text(message, "Description"),
            staff=self.staff(message.find("StaffInfo"), f"{path}/StaffInfo"),
        )

    # attachments ----------------------------------------------------------------------------

    def attachments(self, parts: Parts) -> list[tuple[Attachment, Payload | None]]:
        """Attachments in document order with their decoded payload, merged with the manifest."""
        references: dict[str, Attachment] = {}
        if parts.manifest is not None:
            for index, ref in enumerate(parts.manifest.find_all("Reference")):
                href = ref.attrs.get(f"{{{XLINK_NS}}}href") or ref.attrs.get("href", "")
                cid = content_id(self.value(ref, "ContentId") or href)
                if not cid:
                    self.warn(f"edXMLManifest/Reference[{index}]", "thiếu ContentId, bỏ qua")
                    continue
                references[cid] = self.attachment_meta(ref, cid)
        found: list[tuple[Attachment, Payload | None]] = []
        seen: set[str] = set()
        nodes = [
            node for holder in parts.attachment_lists for node in holder.find_all("Attachment")
        ]
        for index, node in enumerate(nodes):
            path = f"AttachmentEncoded/Attachment[{index}]"
            cid = content_id(self.value(node, "ContentId")) or f"att{index + 1}"
            if cid in seen:
                raise EdxmlAttachmentError(reason=f"ContentId '{cid}' xuất hiện hai lần")
            seen.add(cid)
            if node.payload is None:
                self.warn(path, "không có nội dung (ContentTransferEncoded), bỏ qua")
                continue
            meta = self.attachment_meta(node, cid)
            reference = references.pop(cid, None)
            if reference is None:
                self.warn(path, f"tệp '{cid}' không có trong edXMLManifest")
            else:
                meta = merge(meta, reference)
            if not meta.name.strip():
                self.warn(path, "thiếu tên tệp (AttachmentName)")
                meta = replace(meta, name=cid)
            if not meta.content_type:
                meta = replace(meta, content_type="application/octet-stream")
            found.append((meta, node.payload))
        for cid in references:
            self.warn("edXMLManifest", f"tệp '{cid}' được khai báo nhưng không có nội dung")
        return found

    def manifest(self, parts: Parts) -> tuple[Attachment, ...]:
        """The attachments the manifest lists (no content): for a read of the envelope only."""
        if parts.manifest is None:
            return ()
        listed = []
        for ref in parts.manifest.find_all("Reference"):
            href = ref.attrs.get(f"{{{XLINK_NS}}}href") or ref.attrs.get("href", "")
            cid = content_id(self.value(ref, "ContentId") or href)
            if cid:
                meta = self.attachment_meta(ref, cid)
                listed.append(replace(meta, name=meta.name or cid))
        return tuple(listed)

    def attachment_meta(self, node: Node, cid: str) -> Attachment:
        return Attachment(
            name=self.text(node, "AttachmentName"),
            content_type=self.value(node, "ContentType"),
            content_id=cid,
            description=self.text(node, "Description"),
        )
