"""Sending through the national axis: issued documents to external recipients, and the status
messages those recipients send back.

``send_queued`` builds each queued external delivery's edXML package from the issued document
(its issued PDF and attachments, read from the object store), sends it, and records the attempt;
a retryable failure leaves it queued for the next round. ``receive_statuses`` maps status messages
to the deliveries they answer (by DocumentId and the sender's code).
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import BinaryIO

from sqlalchemy import select

from docflow.models import Document, Organization
from docflow.models.exchange import ExchangeMessage
from docflow.models.outgoing import Delivery
from docflow.services import dispatch
from docflow.uow import UnitOfWork
from interop.axis_client import AxisClient
from interop.edxml.codes import BussinessDocType, Priority, document_type_for_abbreviation
from interop.edxml.model import (
    Attachment,
    Bussiness,
    Code,
    DocumentType,
    EdxmlPackage,
    Organ,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
)
from interop.edxml.parse import parse_status
from interop.errors import AxisError, InteropError
from interop.package_signatures import signed_package_bytes

log = logging.getLogger(__name__)


def _opener(uow: UnitOfWork, key: str) -> Callable[[], BinaryIO]:
    def open_() -> BinaryIO:
        with uow.store.open(key) as reader:
            return io.BytesIO(b"".join(reader.iter_chunks()))

    return open_


def package_for(uow: UnitOfWork, document_id: uuid.UUID, to: list[Organ]) -> EdxmlPackage:
    """The edXML package of an issued outgoing document (its latest main file first)."""
    with uow:
        s = uow.session
        doc = s.get_one(Document, document_id)
        org = s.get_one(Organization, doc.organization_id)
        mains = sorted(
            (f for f in doc.files if f.kind == "main"), key=lambda f: (f.version, f.created_at)
        )
        files = mains[-1:] + [f for f in doc.files if f.kind == "attachment"]
        code = Code.parse(doc.notation or "")
        abbr = code.notation.split("-", 1)[0]
        return EdxmlPackage(
            from_=Organ(org.code, org.name, organ_add=org.address or "", email=org.email or ""),
            to=tuple(to),
            code=code,
            promulgation=PromulgationInfo(doc.issued_date, doc.issue_place or ""),
            subject=doc.subject,
            document_type=_document_type(abbr),
            signer=SignerInfo(
                competence=doc.signer_competence or "",
                position=doc.signer_position or "",
                full_name=doc.signer_name or "",
            ),
            due_date=doc.due_date,
            other_info=OtherInfo(
                priority=Priority.from_urgency(doc.urgency), page_amount=doc.page_count
            ),
            attachments=tuple(
                Attachment(f.name, f.content_type, content=_opener(uow, f.object_key))
                for f in files
            ),
        )


def _document_type(abbreviation: str) -> DocumentType:
    known = document_type_for_abbreviation(abbreviation)
    return DocumentType(known.code, known.name) if known else DocumentType()


def send_queued(uow_factory: Callable[[], UnitOfWork], client: AxisClient) -> int:
    """One sending round over the exchange queue (urgent first); returns how many left."""
    sent = 0
    for d in dispatch.queued_axis_deliveries(uow_factory()):
        if not d.recipient_code:
            dispatch.record_axis_attempt(uow_factory(), d.id, sent=False, error="no recipient code")
            continue
        package = package_for(
            uow_factory(), d.document_id, [Organ(d.recipient_code, d.recipient_name)]
        )
        data = signed_package_bytes(uow_factory(), package)
        try:
            result = client.send_edoc(data, [d.recipient_code])
        except AxisError as exc:
            if exc.retryable:
                log.warning("axis unavailable for %s; next round", d.id)
                continue
            dispatch.record_axis_attempt(uow_factory(), d.id, sent=False, error=exc.message)
            continue
        uow = uow_factory()
        with uow:
            doc = uow.session.get_one(Document, d.document_id)
            if _first_send(uow, doc.organization_id, package.document_id, d.recipient_code):
                uow.session.add(
                    ExchangeMessage(
                        direction="out",
                        kind="edoc",
                        organization_id=doc.organization_id,
                        key=package.document_id,
                        status_code="",
                        channel="axis",
                        peer_code=d.recipient_code,
                        document_id=doc.id,
                        axis_doc_id=result.doc_id,
                        sha256=result.sha256,
                        state="sent",
                        created_at=uow.now(),
                        updated_at=uow.now(),
                    )
                )
            uow.commit()
        dispatch.record_axis_attempt(uow_factory(), d.id, sent=True)
        sent += 1
    return sent


def send_revocations(uow_factory: Callable[[], UnitOfWork], client: AxisClient) -> int:
    """Recalls of documents sent through the axis (their deliveries show 13) leave as
    packages with BussinessDocType 1 (revoke) naming the original DocumentId."""
    sent = 0
    with uow_factory() as uow:
        asked = list(
            uow.session.scalars(
                select(Delivery).where(Delivery.channel == "axis", Delivery.status_code == "13")
            )
        )
        work = []
        for d in asked:
            out = uow.session.scalars(
                select(ExchangeMessage).where(
                    ExchangeMessage.direction == "out",
                    ExchangeMessage.kind == "edoc",
                    ExchangeMessage.document_id == d.document_id,
                    ExchangeMessage.peer_code == d.recipient_code,
                )
            ).first()
            done = uow.session.scalars(
                select(ExchangeMessage.id).where(
                    ExchangeMessage.direction == "out",
                    ExchangeMessage.kind == "revoke",
                    ExchangeMessage.document_id == d.document_id,
                    ExchangeMessage.peer_code == d.recipient_code,
                )
            ).first()
            if out is not None and done is None and d.recipient_code:
                work.append(
                    (d, out.key, out.organization_id, (d.status_text or "").partition(": ")[2])
                )
    for d, key, org_id, reason in work:
        assert d.recipient_code is not None
        base = package_for(
            uow_factory(), d.document_id, [Organ(d.recipient_code, d.recipient_name)]
        )
        package = replace(
            base,
            bussiness=Bussiness(doc_type=BussinessDocType.REVOKE, reason=reason, document_id=key),
        )
        try:
            data = signed_package_bytes(uow_factory(), package)
            result = client.send_edoc(data, [d.recipient_code])
        except AxisError as exc:
            log.warning("revocation of %s not sent: %s", d.id, exc)
            continue
        uow = uow_factory()
        with uow:
            uow.session.add(
                ExchangeMessage(
                    direction="out",
                    kind="revoke",
                    organization_id=org_id,
                    key=key,
                    status_code="",
                    channel="axis",
                    peer_code=d.recipient_code,
                    document_id=d.document_id,
                    axis_doc_id=result.doc_id,
                    sha256=result.sha256,
                    state="sent",
                    created_at=uow.now(),
                    updated_at=uow.now(),
                )
            )
            uow.commit()
        sent += 1
    return sent


def _first_send(uow: UnitOfWork, org_id: uuid.UUID, key: str, peer: str) -> bool:
    return (
        uow.session.scalars(
            select(ExchangeMessage.id).where(
                ExchangeMessage.direction == "out",
                ExchangeMessage.kind == "edoc",
                ExchangeMessage.organization_id == org_id,
                ExchangeMessage.key == key,
                ExchangeMessage.status_code == "",
                ExchangeMessage.peer_code == peer,
            )
        ).first()
        is None
    )


def receive_statuses(uow_factory: Callable[[], UnitOfWork], client: AxisClient) -> int:
    """Status messages from external recipients update the deliveries they answer."""
    handled = 0
    for item in client.get_received_list("status"):
        try:
            with parse_status(io.BytesIO(client.get_edoc(item.doc_id))) as result:
                status = result.status
        except (InteropError, AxisError) as exc:
            log.warning("status %s unreadable: %s", item.doc_id, exc)
            client.update_status(item.doc_id, "fail")
            continue
        assert status is not None
        if item.from_code.strip() and item.from_code.strip() != status.from_.organ_id:
            log.warning(
                "status %s refused: From %r is not the sender %r the axis names",
                item.doc_id,
                status.from_.organ_id,
                item.from_code,
            )
            client.update_status(item.doc_id, "fail")
            continue
        if status.known_code is None:
            log.warning("status %s ignored: unknown code %r", item.doc_id, status.status_code)
            client.update_status(item.doc_id, "done")
            continue
        with uow_factory() as uow:
            out = uow.session.scalars(
                select(ExchangeMessage).where(
                    ExchangeMessage.direction == "out",
                    ExchangeMessage.kind == "edoc",
                    ExchangeMessage.key == status.response_for.document_id,
                    ExchangeMessage.peer_code == status.from_.organ_id,
                )
            ).first()
            delivery_id = None
            if out is not None:
                delivery_id = uow.session.scalars(
                    select(Delivery.id).where(
                        Delivery.document_id == out.document_id,
                        Delivery.recipient_code == status.from_.organ_id,
                    )
                ).first()
        if delivery_id is not None:
            dispatch.record_external_status(
                uow_factory(), delivery_id, status.status_code, status.description or None
            )
            handled += 1
        client.update_status(item.doc_id, "done")
    return handled
