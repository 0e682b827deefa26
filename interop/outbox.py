"""Sending through the national axis: issued documents to external recipients, and the status
messages those recipients send back.

``send_queued`` builds each queued external delivery's edXML package from the issued document
(its issued PDF and attachments, read from the object store), sends it, and records the attempt;
a retryable failure leaves it queued for the next round. ``receive_statuses`` maps status messages
to the deliveries they answer (by DocumentId and the sender's code).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import BinaryIO

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from docflow.models import Document, Organization
from docflow.models.exchange import ExchangeMessage
from docflow.models.outgoing import Delivery
from docflow.outgoing import axis_deliveries, dispatch
from docflow.outgoing.replacements import kind_of
from docflow.outgoing.states import DeliveryState, ReplacesKind
from docflow.uow import UnitOfWork
from interop.axis_client import AxisClient
from interop.axis_results import SentEdoc
from interop.directory import register_due
from interop.edxml.codes import (
    BussinessDocType,
    Priority,
    StatusCode,
    document_type_for_abbreviation,
)
from interop.edxml.model import (
    Attachment,
    Bussiness,
    Code,
    DocumentType,
    EdxmlPackage,
    Organ,
    OtherInfo,
    PromulgationInfo,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    parse_document_id,
)
from interop.edxml.parse import parse_status
from interop.errors import (
    AxisAuthError,
    AxisError,
    AxisProtocolError,
    AxisUnavailableError,
    InteropError,
)
from interop.package_signatures import signed_package_bytes

log = logging.getLogger(__name__)


def _opener(uow: UnitOfWork, key: str) -> Callable[[], BinaryIO]:
    def open_() -> BinaryIO:
        with uow.store.open(key) as reader:
            return io.BytesIO(b"".join(reader.iter_chunks()))

    return open_


def package_for(uow: UnitOfWork, document_id: uuid.UUID, to: list[Organ]) -> EdxmlPackage:
    """The edXML package of an issued outgoing document (its latest main file first), addressed
    to ``to``; with nobody in ``to`` (an export of a document sent to no other system), to its
    own organisation."""
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
            to=tuple(to or [Organ(org.code)]),
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
            response_for=_answers(uow, doc, {o.organ_id for o in to}),
            bussiness=_replacing(uow, doc, [o.organ_id for o in to]),
        )


def _replacing(uow: UnitOfWork, doc: Document, recipients: list[str]) -> Bussiness:
    """A replacement (3) or a correction (2, update) of a document we sent to ``recipients``
    through the axis names the DocumentId we sent it under, with the ReplacementInfoList of a
    replacement (every organisation the earlier document was delivered to, of this
    installation or through the axis); to a recipient that never got it, the document is new
    (0): a replace naming a document it does not have would be refused
    (docflow.outgoing.replacements)."""
    if doc.replaces_id is None:
        return Bussiness()
    key = uow.session.scalars(
        select(ExchangeMessage.key)
        .where(
            ExchangeMessage.direction == "out",
            ExchangeMessage.kind == "edoc",
            ExchangeMessage.organization_id == doc.organization_id,
            ExchangeMessage.document_id == doc.replaces_id,
            ExchangeMessage.peer_code.in_(recipients),
        )
        .order_by(ExchangeMessage.created_at)
        .limit(1)
    ).first()
    if key is None:
        return Bussiness()
    old = uow.session.get_one(Document, doc.replaces_id)
    if kind_of(doc) is ReplacesKind.CORRECT:
        return Bussiness(
            doc_type=BussinessDocType.UPDATE,
            reason=f"Đính chính văn bản số {old.notation}",
            document_id=key,
        )
    had = uow.session.scalars(
        select(Delivery.recipient_code)
        .where(
            Delivery.document_id == doc.replaces_id,
            Delivery.state == DeliveryState.SENT.value,
            Delivery.recipient_code.is_not(None),
        )
        .order_by(Delivery.position)
    )
    peers = tuple(dict.fromkeys(code for code in had if code))
    return Bussiness(
        doc_type=BussinessDocType.REPLACE,
        reason=f"Thay thế văn bản số {old.notation}",
        document_id=key,
        replacements=(ReplacementInfo(key, peers),),
    )


def _answers(uow: UnitOfWork, doc: Document, recipients: set[str]) -> tuple[ResponseFor, ...]:
    """The documents this one answers (incoming ones completed with it as their reply) that
    came through the axis from one of ``recipients``: the ResponseFor of the package, so the
    asker links the reply to its question."""
    rows = uow.session.execute(
        select(Document, ExchangeMessage)
        .join(ExchangeMessage, ExchangeMessage.document_id == Document.id)
        .where(
            Document.reply_document_id == doc.id,
            Document.organization_id == doc.organization_id,
            ExchangeMessage.direction == "in",
            ExchangeMessage.kind == "edoc",
            ExchangeMessage.peer_code.in_(recipients),
        )
        .order_by(Document.created_at)
    ).all()
    answers = []
    for asked, message in rows:
        parts = parse_document_id(message.key)
        assert message.peer_code is not None
        answers.append(
            ResponseFor(
                organ_id=message.peer_code,
                code=parts.code if parts else (asked.notation or ""),
                promulgation_date=parts.date if parts else asked.issued_date,
                document_id=message.key,
            )
        )
    return tuple(answers)


def _document_type(abbreviation: str) -> DocumentType:
    known = document_type_for_abbreviation(abbreviation)
    return DocumentType(known.code, known.name) if known else DocumentType()


DEFAULT_RETRY_BASE = dt.timedelta(seconds=30)
_SENDER_UNKNOWN = {"axis_sender_not_allowed", "axis_unknown_agency", "axis_unknown_sender"}
_RECIPIENT_UNKNOWN = {"axis_unknown_recipient", "axis_unknown_agency"}
_AUTH_REFUSALS = {
    "axis_unknown_system", "axis_signature_missing", "axis_signature_invalid",
    "axis_timestamp_invalid",
}  # fmt: skip


def _sender_unknown(exc: AxisError) -> bool:
    """The axis refused the sending agency (not our credentials)."""
    axis_code = str(exc.details.get("axis_code") or "")
    if axis_code in _SENDER_UNKNOWN:
        return True
    return exc.details.get("status") == 403 and axis_code not in _AUTH_REFUSALS


def _refusal(exc: AxisError, sender: str, recipient: str) -> tuple[str, bool]:
    """Why a send did not go, in Vietnamese for the clerk (what happens next is said by
    :func:`docflow.outgoing.axis_deliveries.will_retry` / ``given_up``), and whether trying
    again may succeed."""
    axis_code = str(exc.details.get("axis_code") or "")
    said = f" (trục liên thông: {exc.message})" if exc.message else ""
    if may_have_left(exc):
        return f"Trục liên thông không trả lời{said}: gói tin có thể đã đến nơi nhận", True
    if exc.retryable:
        return f"Trục liên thông tạm thời không truy cập được{said}", True
    if _sender_unknown(exc):
        return (
            f"Trục liên thông chưa nhận mã cơ quan gửi {sender}{said}; đã đăng ký lại mã với trục",
            True,
        )
    if isinstance(exc, AxisAuthError):
        return (
            f"Trục liên thông từ chối xác thực hệ thống{said}: kiểm tra DHTN_AXIS_SYSTEM_ID và"
            " DHTN_AXIS_SECRET",
            True,
        )
    if axis_code in _RECIPIENT_UNKNOWN:
        return (
            f"Trục liên thông chưa có cơ quan nhận {recipient}{said}: hệ thống của cơ quan nhận"
            " có thể chưa đăng ký",
            True,
        )
    return f"Trục liên thông từ chối gói tin{said}", False


def send_queued(
    uow_factory: Callable[[], UnitOfWork],
    client: AxisClient,
    *,
    retry_base: dt.timedelta = DEFAULT_RETRY_BASE,
) -> int:
    """One sending round over the exchange queue (urgent first, those waiting for their
    backoff left for later); returns how many left.

    Before the first send of an organisation in the round, its registration with the axis is
    renewed if it is due (new, renamed, older than a day). A send the axis refuses because it
    does not know the sending agency is retried at once after registering it again; refusals
    that may pass (agency unknown, axis unavailable) are retried with backoff, the others fail
    the delivery with the reason, and the clerks are told (docflow.outgoing.axis_deliveries).
    """
    sent = 0
    registered: set[uuid.UUID] = set()
    for d in axis_deliveries.due_axis_deliveries(uow_factory()):
        if not d.recipient_code:
            axis_deliveries.record_axis_failure(
                uow_factory(), d.id, "Nơi nhận không có mã định danh để gửi qua Trục liên thông."
            )
            continue
        package = package_for(
            uow_factory(), d.document_id, [Organ(d.recipient_code, d.recipient_name)]
        )
        org_id = _organization_of(uow_factory(), d.document_id)
        if org_id not in registered:
            registered.add(org_id)
            _register(uow_factory, client, org_id, force=False)
        data = signed_package_bytes(uow_factory(), package)
        if not axis_deliveries.still_queued(uow_factory(), d.id):
            continue  # cancelled or recalled since the round listed it: it does not leave
        try:
            result = _send_registered(uow_factory, client, data, d.recipient_code, org_id)
        except AxisError as exc:
            cause, again = _refusal(exc, package.from_.organ_id, d.recipient_code)
            log.warning("delivery %s not sent (%s): %s", d.id, exc.code, exc.message)
            unanswered = may_have_left(exc)
            if unanswered:
                _record_sent(uow_factory(), d, package.document_id, None)
            if again:
                axis_deliveries.record_axis_retry(
                    uow_factory(), d.id, cause, base=retry_base, unanswered=unanswered
                )
            else:
                axis_deliveries.record_axis_failure(uow_factory(), d.id, f"{cause}.")
            continue
        _record_sent(uow_factory(), d, package.document_id, result)
        axis_deliveries.record_axis_sent(uow_factory(), d.id)
        sent += 1
    return sent


UNCONFIRMED = "unconfirmed"


def may_have_left(exc: AxisError) -> bool:
    """Whether a send that raised ``exc`` may have left all the same: it ended without the
    axis's answer after reaching it (a read timeout, a connection dropped after the package
    went, a 5xx; the client's own retries included), or the answer could not be read. Not
    when no connection was made (the axis down) or the axis said no."""
    if isinstance(exc, AxisProtocolError):
        return True
    return isinstance(exc, AxisUnavailableError) and exc.details.get("reached", True) is not False


def _record_sent(uow: UnitOfWork, d: Delivery, key: str, result: SentEdoc | None) -> None:
    """Log the package sent to the delivery's recipient (``result``: the axis took it), or
    ``unconfirmed`` (None: it may have). Either way the recipient's statuses about it are
    matched to the delivery, and a recall of the document sends the revocation
    (:func:`send_revocations`), not only a cancel: a package the axis took before its answer
    was lost would otherwise stay live at the recipient. A later send that succeeds confirms
    the row."""
    assert d.recipient_code is not None
    with uow:
        doc = uow.session.get_one(Document, d.document_id)
        row = uow.session.scalars(
            select(ExchangeMessage).where(
                ExchangeMessage.direction == "out",
                ExchangeMessage.kind == "edoc",
                ExchangeMessage.organization_id == doc.organization_id,
                ExchangeMessage.key == key,
                ExchangeMessage.status_code == "",
                ExchangeMessage.peer_code == d.recipient_code,
            )
        ).first()
        if row is None:
            row = ExchangeMessage(
                direction="out",
                kind="edoc",
                organization_id=doc.organization_id,
                key=key,
                status_code="",
                channel="axis",
                peer_code=d.recipient_code,
                document_id=doc.id,
                state=UNCONFIRMED,
                created_at=uow.now(),
                updated_at=uow.now(),
            )
            uow.session.add(row)
        elif result is None or row.state != UNCONFIRMED:
            return  # already logged (the first send's row is kept)
        if result is not None:
            row.state, row.axis_doc_id, row.sha256 = "sent", result.doc_id, result.sha256
            row.updated_at = uow.now()
        else:
            # A recall running now either committed before the delivery is locked here (it
            # saw no row: it only cancelled, and its recall is asked now) or waits for this
            # transaction and then sees the row.
            uow.session.flush()
            axis_deliveries.recall_if_cancelled(uow, axis_deliveries.lock_delivery(uow, d.id))
        uow.commit()


def _confirm(uow: UnitOfWork, row_id: uuid.UUID) -> None:
    """An unconfirmed package the recipient has spoken of: it left."""
    with uow:
        row = uow.session.get(ExchangeMessage, row_id, with_for_update=True)
        if row is not None and row.state == UNCONFIRMED:
            row.state, row.updated_at = "sent", uow.now()
            uow.commit()


def _organization_of(uow: UnitOfWork, document_id: uuid.UUID) -> uuid.UUID:
    with uow:
        return uow.session.get_one(Document, document_id).organization_id


def _register(
    uow_factory: Callable[[], UnitOfWork], client: AxisClient, org_id: uuid.UUID, *, force: bool
) -> None:
    try:
        register_due(uow_factory, client, organization_ids=[org_id], force=force)
    except AxisError as exc:
        log.warning("registering organisation %s with the axis failed: %s", org_id, exc)


def send_revocations(
    uow_factory: Callable[[], UnitOfWork],
    client: AxisClient,
    *,
    retry_base: dt.timedelta = DEFAULT_RETRY_BASE,
) -> int:
    """Recalls of documents sent through the axis (their deliveries show 13 until the
    recipient answers) leave as packages with BussinessDocType 1 (revoke) naming the original
    DocumentId, once each: one statement finds those not sent yet, from the few deliveries
    waiting for an answer (``ix_deliveries_recall_asked``), not from every one ever made.

    A revocation the axis refuses is retried like a delivery: at once after registering the
    sending agency again when the axis forgot it, with backoff (the sending period, doubling)
    for a refusal that may pass, and given up (logged ``failed``, written in the delivery's
    history, told to the clerks) after :data:`MAX_AXIS_ATTEMPTS` or at a refusal for good."""
    sent = 0
    edoc, revoke = aliased(ExchangeMessage), aliased(ExchangeMessage)
    with uow_factory() as uow:
        now = uow.now()
        asked = uow.session.execute(
            select(Delivery, edoc.key, edoc.organization_id)
            .join(
                edoc,
                (edoc.direction == "out")
                & (edoc.kind == "edoc")
                & (edoc.document_id == Delivery.document_id)
                & (edoc.peer_code == Delivery.recipient_code),
            )
            .where(
                Delivery.channel == "axis",
                Delivery.status_code == "13",
                Delivery.recipient_code.is_not(None),
                ~select(revoke.id)
                .where(
                    revoke.direction == "out",
                    revoke.kind == "revoke",
                    revoke.document_id == Delivery.document_id,
                    revoke.peer_code == Delivery.recipient_code,
                    revoke.state != RETRYING,
                )
                .exists(),
            )
            .order_by(Delivery.updated_at, Delivery.id, edoc.created_at)
        ).all()
        work, seen = [], set()
        for d, key, org_id in asked:
            if d.id not in seen:  # the package first sent to it, if it was sent again
                seen.add(d.id)
                tried = _revocation_row(uow, d, key, org_id)
                if tried is not None and now < tried.updated_at + axis_deliveries.backoff(
                    tried.attempts, retry_base
                ):
                    continue  # refused a moment ago: its backoff is not over
                work.append((d, key, org_id, dispatch.recall_reason(d)))
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
            result = _send_registered(uow_factory, client, data, d.recipient_code, org_id)
        except AxisError as exc:
            log.warning("revocation of %s not sent: %s", d.id, exc)
            why, again = _refusal(exc, base.from_.organ_id, d.recipient_code)
            _revocation_not_sent(uow_factory(), d, key, org_id, why, again=again)
            continue
        uow = uow_factory()
        with uow:
            row = _revocation_row(uow, d, key, org_id, create=True)
            assert row is not None
            row.axis_doc_id, row.sha256 = result.doc_id, result.sha256
            row.state, row.last_error, row.updated_at = "sent", None, uow.now()
            uow.commit()
        sent += 1
    return sent


RETRYING = "retrying"


def _revocations(org_id: uuid.UUID, key: str, peer: str | None) -> Select[ExchangeMessage]:
    """The log's row of our revocation of ``key`` to ``peer`` (one per DocumentId and peer)."""
    return select(ExchangeMessage).where(
        ExchangeMessage.direction == "out",
        ExchangeMessage.kind == "revoke",
        ExchangeMessage.organization_id == org_id,
        ExchangeMessage.key == key,
        ExchangeMessage.status_code == "",
        ExchangeMessage.peer_code == peer,
    )


def _revocation_row(
    uow: UnitOfWork, d: Delivery, key: str, org_id: uuid.UUID, *, create: bool = False
) -> ExchangeMessage | None:
    """The log's row of the revocation to ``d``'s recipient (:func:`_revocations`); with
    ``create``, a new one (its state set by the caller) when there is none."""
    row = uow.session.scalars(_revocations(org_id, key, d.recipient_code)).first()
    if row is None and create:
        row = ExchangeMessage(
            direction="out",
            kind="revoke",
            organization_id=org_id,
            key=key,
            status_code="",
            channel="axis",
            peer_code=d.recipient_code,
            document_id=d.document_id,
            attempts=0,
            created_at=uow.now(),
        )
        uow.session.add(row)
    return row


def _revocation_not_sent(
    uow: UnitOfWork, d: Delivery, key: str, org_id: uuid.UUID, reason: str, *, again: bool
) -> None:
    """Count the refused attempt (``retrying``, tried again after the backoff) or give the
    revocation up: refused for good, or the attempts spent."""
    with uow:
        row = _revocation_row(uow, d, key, org_id, create=True)
        assert row is not None
        row.attempts = (row.attempts or 0) + 1
        row.updated_at = uow.now()
        if again and row.attempts < axis_deliveries.MAX_AXIS_ATTEMPTS:
            row.state, row.last_error = RETRYING, axis_deliveries.will_retry(reason)[:2000]
        else:
            why = axis_deliveries.given_up(reason, row.attempts) if again else f"{reason}."
            row.state, row.last_error = "failed", why[:2000]
            axis_deliveries.record_revocation_refused(uow, d.id, why)
        uow.commit()


def _send_registered(
    uow_factory: Callable[[], UnitOfWork],
    client: AxisClient,
    data: bytes,
    recipient: str,
    org_id: uuid.UUID,
) -> SentEdoc:
    """Send, and when the axis no longer knows the sending agency (reset, or registered
    under another system), register it again and send once more."""
    try:
        return client.send_edoc(data, [recipient])
    except AxisError as exc:
        if not _sender_unknown(exc):
            raise
        _register(uow_factory, client, org_id, force=True)
        return client.send_edoc(data, [recipient])


# What a recipient sends back about a document we sent it (DOMAIN.md §7); 13 is the sender's.
FROM_RECIPIENTS = frozenset(StatusCode) - {StatusCode.RECALL_REQUESTED}
RECALL_ANSWERS = frozenset({StatusCode.RECALL_AGREED, StatusCode.RECALL_REFUSED})


# What only a recipient holding the document says: registered, assigned, in progress,
# done, recalled at our asking.
HOLDS_IT = frozenset(
    {
        StatusCode.REGISTERED,
        StatusCode.ASSIGNED,
        StatusCode.IN_PROGRESS,
        StatusCode.DONE,
        StatusCode.RECALL_AGREED,
    }
)


def _shows_arrival(uow: UnitOfWork, out: ExchangeMessage, code: StatusCode | None) -> bool:
    """Whether a status about an unconfirmed package shows the package arrived. Not a 16:
    a recipient that never had it answers our revocation so ("no such document"). And once a
    revocation has gone to that recipient, which carries the same DocumentId, a 01 or a 02
    may answer the revocation itself (some systems acknowledge every package; some refuse a
    revocation they cannot act on): then only a status of a held document counts."""
    if code is None or code == StatusCode.RECALL_REFUSED:
        return False
    if code in HOLDS_IT:
        return True
    revoked = uow.session.scalars(
        _revocations(out.organization_id, out.key, out.peer_code).where(
            ExchangeMessage.state == "sent"
        )
    ).first()
    return revoked is None


def _recall_asked(uow: UnitOfWork, delivery_id: uuid.UUID) -> bool:
    """Whether we asked the recipient of this delivery to recall it
    (:func:`docflow.outgoing.dispatch.recall_asked`)."""
    with uow:
        d = uow.session.get(Delivery, delivery_id)
        return d is not None and dispatch.recall_asked(d)


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
        if status.known_code not in FROM_RECIPIENTS:
            # Unknown, or one only a sender sends: a recipient's "13" must not put our own
            # delivery into "recall requested" (which would send a revocation in our name).
            log.warning("status %s ignored: code %r", item.doc_id, status.status_code)
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
            # A status about an unconfirmed package shows it arrived (:func:`_shows_arrival`).
            unconfirmed = (
                out is not None
                and out.state == UNCONFIRMED
                and _shows_arrival(uow, out, status.known_code)
            )
            if out is not None:
                delivery_id = uow.session.scalars(
                    select(Delivery.id).where(
                        Delivery.document_id == out.document_id,
                        Delivery.recipient_code == status.from_.organ_id,
                    )
                ).first()
        if (
            delivery_id is not None
            and status.known_code in RECALL_ANSWERS
            and not _recall_asked(uow_factory(), delivery_id)
        ):
            log.warning("status %s ignored: %s answers no recall", item.doc_id, status.status_code)
            delivery_id = None
        if delivery_id is not None and unconfirmed:
            # The recipient speaks of the package: the send the axis did not answer did leave.
            assert out is not None
            _confirm(uow_factory(), out.id)
            axis_deliveries.record_axis_sent(uow_factory(), delivery_id)
        if delivery_id is not None:
            dispatch.record_external_status(
                uow_factory(),
                delivery_id,
                status.status_code,
                status.description or None,
                at=status.timestamp,
            )
            if status.known_code in RECALL_ANSWERS:
                assert out is not None
                _revocation_arrived(uow_factory(), out)
            handled += 1
        client.update_status(item.doc_id, "done")
    return handled


def _revocation_arrived(uow: UnitOfWork, out: ExchangeMessage) -> None:
    """The recipient answered our revocation (15 or 16): it arrived, so a row still
    ``retrying`` (a send whose answer was lost) is ``sent``; nothing retries it any more."""
    with uow:
        row = uow.session.scalars(_revocations(out.organization_id, out.key, out.peer_code)).first()
        if row is not None and row.state == RETRYING:
            row.state, row.last_error, row.updated_at = "sent", None, uow.now()
            uow.commit()
