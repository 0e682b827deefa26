"""The exchange with the national axis as background work: receive packages, answer with
status codes, and acknowledge transport.

``receive_from_axis`` is the polling job: list → download → import (idempotent) → answer 01
(arrived) → acknowledge ``done``. A package that cannot be read, or is refused, is
acknowledged ``fail`` (and, as the axis lists it again, not read again: ``axis_held_packages``). Each
state change of an incoming document that came through the axis sends its status code back
(DOMAIN.md §7) through :func:`send_status`, queued in the outbox after the change commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from docflow.errors import DomainError
from docflow.incoming.states import STATUS_CODE, IncomingState
from docflow.models import Document, Organization
from docflow.models.exchange import AXIS_DOC_ID, AxisHeldPackage, ExchangeMessage
from docflow.outbox import Handlers
from docflow.outgoing.dispatch import TOPIC_STATE_CHANGED
from docflow.uow import UnitOfWork
from interop.axis_client import AxisClient
from interop.axis_results import EdocInfo
from interop.edxml.build import build_status_bytes
from interop.edxml.model import Organ, ResponseFor, StatusMessage, parse_document_id
from interop.errors import AxisError
from interop.inbox import (
    PackageRefusedError,
    import_package,
    record_refusal,
    wire_document_id,
)

log = logging.getLogger(__name__)

STATUS_TOPIC = "interop.send_status"
# Refusals of a package acting on a document we do not have (yet).
WAITS_FOR_ITS_DOCUMENT = frozenset({"revoke_unknown", "update_unknown"})
# How long such a package is left on the axis for its document (DHTN_AXIS_WAIT_SECONDS).
WAIT_FOR_DOCUMENT = dt.timedelta(minutes=15)
# The row of a held package the axis no longer lists is forgotten after this.
FORGET_HELD = dt.timedelta(days=1)


def receive_from_axis(
    uow_factory: Callable[[], UnitOfWork],
    client: AxisClient,
    *,
    wait: dt.timedelta = WAIT_FOR_DOCUMENT,
) -> int:
    """One polling round; returns how many packages became (or already were) documents.

    The axis lists packages in no promised order. A revocation, update or replacement naming a
    document we do not have is tried again after the round's other packages (its document may
    come later in the list), then left on the axis for ``wait`` from the round that first
    listed it (its document may come rounds later: the axis had not listed it yet, its
    download failed, importing it failed on our side) and refused (16) only then. The axis
    lists a package acknowledged ``fail`` again: while its document has not come it is refused
    at once (not answered twice: :func:`interop.inbox.record_refusal`), and if the document
    comes after all, it is taken in then (a late revocation still recalls its document, and
    the sender hears 15 after the 16). Any other package refused for good is not downloaded
    again while the axis lists it (:class:`~docflow.models.exchange.AxisHeldPackage`)."""
    done = 0
    later: list[EdocInfo] = []
    listed: list[EdocInfo] = []
    for item in client.get_received_list("edoc"):
        if len(item.doc_id) > AXIS_DOC_ID:
            # Not a message id this installation can log (nor an axis's): refused unread.
            log.warning("package %.40r… refused: its axis id is too long", item.doc_id)
            client.update_status(item.doc_id, "fail")
            continue
        listed.append(item)
    held = _held(uow_factory(), [item.doc_id for item in listed])
    # A package tried again after the others is read from what the first pass downloaded.
    with tempfile.TemporaryDirectory(prefix="dhtn-axis-") as folder:
        spool = _Spool(Path(folder))
        for item in listed:
            reason = held.get(item.doc_id)
            if reason is not None and reason not in WAITS_FOR_ITS_DOCUMENT:
                continue  # refused for good in an earlier round (and answered): not read again
            outcome = _receive_one(uow_factory, client, item, held, spool, last_try=False)
            if outcome is None:
                later.append(item)
            done += outcome or 0
        for item in later:
            done += _receive_one(uow_factory, client, item, held, spool, wait=wait) or 0
    return done


#: Bytes of packages kept in a round's folder for their second try (waiting packages of a
#: flood would otherwise fill the temporary disk, which is memory on a tmpfs).
SPOOL_LIMIT = 256 * 1024 * 1024


class _Spool:
    """A round's folder: a package downloaded there stays for its second try while the
    packages kept stay within :data:`SPOOL_LIMIT` bytes (past it, the second try downloads
    it again)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.kept = folder, 0

    def path(self, doc_id: str) -> Path:
        return self.folder / hashlib.sha256(doc_id.encode()).hexdigest()

    def done(self, path: Path, *, keep: bool) -> None:
        """``path`` read: kept for the second try, or removed."""
        size = path.stat().st_size
        if keep and self.kept + size <= SPOOL_LIMIT:
            self.kept += size
            return
        path.unlink()


def _receive_one(
    uow_factory: Callable[[], UnitOfWork],
    client: AxisClient,
    item: EdocInfo,
    held: Mapping[str, str],
    spool: _Spool,
    *,
    last_try: bool = True,
    wait: dt.timedelta = WAIT_FOR_DOCUMENT,
) -> int | None:
    """One listed package: 1 when it became (or already was) a document, 0 when refused or
    left for a later round, None when it names a document not here yet (to try again after
    the round's others, unless ``last_try``). ``held``: the listed packages held back in an
    earlier round (:func:`_held`; a waiting one's row goes once it is taken in). ``spool``:
    the round's folder, where a package to try again stays downloaded until then."""
    path = spool.path(item.doc_id)
    if not path.exists():
        try:
            with path.open("wb") as out:
                client.download_edoc(item.doc_id, out)
        except AxisError:
            path.unlink(missing_ok=True)
            log.exception("download of %s failed; retried next round", item.doc_id)
            return 0
    outcome = _import_one(uow_factory, client, item, held, path, last_try=last_try, wait=wait)
    spool.done(path, keep=outcome is None)
    return outcome


def _import_one(
    uow_factory: Callable[[], UnitOfWork],
    client: AxisClient,
    item: EdocInfo,
    held: Mapping[str, str],
    path: Path,
    *,
    last_try: bool,
    wait: dt.timedelta,
) -> int | None:
    """The downloaded package at ``path`` imported and answered (:func:`_receive_one`)."""
    with path.open("rb") as sink:
        try:
            results = import_package(
                uow_factory(),
                sink,
                channel="axis",
                axis_doc_id=item.doc_id,
                axis_from=item.from_code,
                axis_to=item.to,
            )
        except DomainError as exc:
            if exc.code in WAITS_FOR_ITS_DOCUMENT:
                if not last_try:
                    return None
                if _keeps_waiting(uow_factory(), item, exc.code, wait):
                    log.info("package %s waits for its document: %s", item.doc_id, exc.code)
                    return 0
            log.warning("package %s refused: %s %s", item.doc_id, exc.code, exc.message)
            if isinstance(exc, PackageRefusedError):
                _answer_refusal(uow_factory, client, exc, item.doc_id)
            client.update_status(item.doc_id, "fail")
            if exc.code not in WAITS_FOR_ITS_DOCUMENT:
                _hold_refused(uow_factory(), item, exc.code)
            return 0
        except Exception:
            # Our fault, not the package's (or a case nobody foresaw): it stays on the axis
            # for the next round, and the packages after it are not held up.
            log.exception("package %s not imported; retried next round", item.doc_id)
            return 0
    for result in results:
        if result.created:
            queue_status(uow_factory(), result.document.id, IncomingState.ARRIVED)
    client.update_status(item.doc_id, "done")
    _done_waiting(uow_factory, item.doc_id, held)
    return 1


def _held(uow: UnitOfWork, listed: list[str]) -> dict[str, str]:
    """The listed packages held back in an earlier round, with the reason (one read per
    round, per :func:`_chunks` of the listed). Rows of packages the axis no longer lists go a
    day after they were last seen."""
    listed_set = set(listed)
    with uow:
        s = uow.session
        stale = s.scalars(
            select(AxisHeldPackage.axis_doc_id).where(
                AxisHeldPackage.last_seen_at < uow.now() - FORGET_HELD
            )
        ).all()
        gone = [doc_id for doc_id in stale if doc_id not in listed_set]
        found: dict[str, str] = {}
        for chunk in _chunks(gone):
            s.execute(delete(AxisHeldPackage).where(AxisHeldPackage.axis_doc_id.in_(chunk)))
        for chunk in _chunks(listed):
            rows = s.execute(
                select(AxisHeldPackage.axis_doc_id, AxisHeldPackage.reason).where(
                    AxisHeldPackage.axis_doc_id.in_(chunk)
                )
            )
            found.update((doc_id, reason) for doc_id, reason in rows)
        uow.commit()
        return found


def _hold_refused(uow: UnitOfWork, item: EdocInfo, reason: str) -> None:
    """Remember a package refused for good (already answered and acknowledged ``fail``), so
    that the rounds that list it again do not download and read it again."""
    with uow:
        s = uow.session
        if s.get(AxisHeldPackage, item.doc_id) is not None:
            return
        s.add(_held_row(item, reason, uow.now()))
        try:
            uow.commit()
        except IntegrityError:  # another poller held it first
            uow.rollback()


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """``values`` a few hundred at a time: a statement binds at most 65,535 values on
    PostgreSQL, 999 on an SQLite built before 3.32."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _held_row(item: EdocInfo, reason: str, now: dt.datetime) -> AxisHeldPackage:
    """The row holding back a listed package first seen ``now`` (its id fits: the round
    refuses longer ones unread; the sender and the reason are cut to their columns)."""
    return AxisHeldPackage(
        axis_doc_id=item.doc_id,
        sender=item.from_code.strip()[:64],
        reason=reason[:64],
        first_seen_at=now,
        last_seen_at=now,
        rounds=1,
    )


def _keeps_waiting(uow: UnitOfWork, item: EdocInfo, reason: str, wait: dt.timedelta) -> bool:
    """Whether a package naming a document not here yet is left on the axis this round: it
    is, until ``wait`` has passed since the round that first listed it (a first sighting
    dated in the future, by a clock set back since, counts from now). Once it has waited, its
    row is no longer written to."""
    with uow:
        s = uow.session
        now = uow.now()
        row = s.get(AxisHeldPackage, item.doc_id, with_for_update=True)
        if row is None:
            s.add(_held_row(item, reason, now))
            try:
                uow.commit()
            except IntegrityError:  # another poller recorded it first: its row decides
                uow.rollback()
                row = s.get(AxisHeldPackage, item.doc_id)
                return row is not None and now - min(row.first_seen_at, now) < wait
            return wait > dt.timedelta(0)
        first = min(row.first_seen_at, now)
        if now - first >= wait:
            return False
        row.first_seen_at, row.last_seen_at = first, now
        row.rounds, row.reason = row.rounds + 1, reason[:64]
        uow.commit()
        return True


def _done_waiting(
    uow_factory: Callable[[], UnitOfWork], doc_id: str, held: Mapping[str, str]
) -> None:
    """The package is taken in (its document came): it no longer waits."""
    if doc_id not in held:
        return
    with uow_factory() as uow:
        uow.session.execute(delete(AxisHeldPackage).where(AxisHeldPackage.axis_doc_id == doc_id))
        uow.commit()


def _answer_refusal(
    uow_factory: Callable[[], UnitOfWork],
    client: AxisClient,
    error: PackageRefusedError,
    doc_id: str,
) -> None:
    """A refused package is logged once and its sender told why (status 02 or 16)."""
    notice = error.notice
    if notice is None or not record_refusal(
        uow_factory(), error, channel="axis", axis_doc_id=doc_id
    ):
        return
    data = build_status_bytes(notice.message(dt.datetime.now(dt.UTC)))
    try:
        client.send_edoc(data, [notice.to], messagetype="status", from_code=notice.from_.organ_id)
    except AxisError:
        log.exception("the notice about refused package %s was not sent", doc_id)


def queue_status(
    uow: UnitOfWork,
    document_id: uuid.UUID,
    state: IncomingState | str,
    reason: str = "",
    *,
    seq: int | None = None,
) -> None:
    """Queue the status code of ``state`` (or a code itself) for the external sender of
    ``document_id``, when the document came through the axis; ``seq``: the trail step it
    tells of (a code told again by a later step, such as a second refused recall, is sent
    again)."""
    code = STATUS_CODE.get(state) if isinstance(state, IncomingState) else state
    if code is None:
        return
    with uow:
        came_by_axis = uow.session.scalars(
            select(ExchangeMessage.id).where(
                ExchangeMessage.document_id == document_id,
                ExchangeMessage.direction == "in",
                ExchangeMessage.kind == "edoc",
                ExchangeMessage.channel == "axis",
            )
        ).first()
        if came_by_axis is None:
            return
        uow.enqueue(
            STATUS_TOPIC,
            {"document_id": str(document_id), "code": code, "reason": reason, "seq": seq},
            priority=2,
        )
        uow.commit()


def send_status(uow: UnitOfWork, payload: dict[str, Any], client: AxisClient) -> None:
    """Outbox handler: build the status message and send it, once per (document, code, trail
    step): the outbox delivers at least once, and a step that tells a code again (a second
    recall refused, registered again after a return) is a status of its own. Logged under the
    copy's key with ``#s<step>`` (without, for a status queued with no step)."""
    with uow:
        s = uow.session
        document_id = uuid.UUID(payload["document_id"])
        code = str(payload["code"])
        origin = s.scalars(
            select(ExchangeMessage).where(
                ExchangeMessage.document_id == document_id,
                ExchangeMessage.direction == "in",
                ExchangeMessage.kind == "edoc",
            )
        ).first()
        if origin is None or origin.peer_code is None:
            return
        seq = payload.get("seq")
        key = origin.key if seq is None else f"{origin.key}#s{seq}"
        sent = s.scalars(
            select(ExchangeMessage.id).where(
                ExchangeMessage.direction == "out",
                ExchangeMessage.kind == "status",
                ExchangeMessage.organization_id == origin.organization_id,
                ExchangeMessage.key == key,
                ExchangeMessage.status_code == code,
                # Two senders may use one DocumentId: each hears about its own copy.
                ExchangeMessage.peer_code == origin.peer_code,
                ExchangeMessage.document_id == document_id,
            )
        ).first()
        if sent is not None:
            return  # at-least-once delivery of the outbox: the status already left
        doc = s.get_one(Document, document_id)
        org = s.get_one(Organization, origin.organization_id)
        # The DocumentId its sender wrote, not our key for an update's or a replacement's
        # copy (``<DocumentId>#<type>#<digest>``, which the sender could match to nothing).
        answered = wire_document_id(origin.key)
        parts = parse_document_id(answered)
        status = StatusMessage(
            response_for=ResponseFor(
                organ_id=origin.peer_code,
                code=parts.code if parts else (doc.notation or ""),
                promulgation_date=parts.date if parts else doc.issued_date,
                document_id=answered,
            ),
            from_=Organ(org.code, org.name),
            status_code=code,
            timestamp=uow.now().astimezone(dt.UTC),
            description=str(payload.get("reason") or ""),
        )
        data = build_status_bytes(status)
        sent_edoc = client.send_edoc(
            data, [origin.peer_code], messagetype="status", from_code=org.code
        )
        s.add(
            ExchangeMessage(
                direction="out",
                kind="status",
                organization_id=org.id,
                key=key,
                status_code=code,
                channel="axis",
                peer_code=origin.peer_code,
                document_id=document_id,
                axis_doc_id=sent_edoc.doc_id,
                sha256=sent_edoc.sha256,
                state="sent",
                created_at=uow.now(),
                updated_at=uow.now(),
            )
        )
        uow.commit()


def on_state_changed(uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """Outbox listener of ``documents.state_changed``: the status code back to the external
    sender of a document that came through the axis (nothing for any other document)."""
    queue_status(
        uow,
        uuid.UUID(payload["document_id"]),
        str(payload["status_code"]),
        str(payload.get("reason") or ""),
        seq=payload.get("seq"),
    )


def register_outbox_handlers(handlers: Handlers, client: Callable[[], AxisClient | None]) -> None:
    """Sending status messages (``client`` gives the configured axis client, or None), and
    listening to the state changes of documents that came through the axis."""

    def handle_status(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        axis = client()
        if axis is None:
            raise RuntimeError("the national exchange is not configured (DHTN_AXIS_*)")
        send_status(uow, payload, axis)

    handlers.add(STATUS_TOPIC, handle_status)
    handlers.add(TOPIC_STATE_CHANGED, on_state_changed)
