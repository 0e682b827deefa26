"""Signing sessions (API.md §3): signing with a key the server never holds.

``start_signing_session`` checks who may sign now, prepares the exact bytes the key must sign
(:func:`signing.prepare_external_signature`) and keeps the opaque state; minutes later
``complete_signing_session`` embeds the client's raw signature, which the signing library
verifies before anything is stored, and moves the document as the matching action would
(``sign`` for a personal signature, ``issue`` for the organisation's).

An organisation session needs the number in the bytes it prepares, so it reserves it at start
(see :mod:`docflow.services.outgoing_issue`).
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from docflow.actors import Actor
from docflow.documents import trail
from docflow.documents.outgoing_commands import CompleteSigningSession, StartSigningSession
from docflow.documents.states import OutgoingAction, OutgoingState, next_outgoing_state
from docflow.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from docflow.models import Document, SigningSession
from docflow.services import outgoing_issue
from docflow.services import outgoing_support as sup
from docflow.services.outgoing_actions import may, record_signed
from docflow.uow import UnitOfWork
from signing import (
    finish_external_signature,
    leader_request,
    prepare_external_signature,
)

S, A = OutgoingState, OutgoingAction
_PEM = Encoding.PEM


@dataclass(frozen=True)
class StartedSession:
    """What the client needs: the bytes to sign, their digest, the algorithm, the deadline."""

    session: SigningSession
    to_be_signed: bytes
    digest: bytes


def _certificate(pem: str, field: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise ValidationError.field(field, "Chứng thư số không đúng định dạng PEM.") from exc


def _names(cert: x509.Certificate) -> str:
    values = [
        str(a.value)
        for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME)
        for a in cert.subject.get_attributes_for_oid(oid)
    ]
    return " | ".join(values)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def start_signing_session(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, cmd: StartSigningSession
) -> StartedSession:
    provider = sup.signing_provider(uow)
    cert = _certificate(cmd.certificate, "certificate")
    chain = [_certificate(c, "chain").public_bytes(_PEM) for c in cmd.chain]
    subject = _names(cert)
    with uow:
        doc = sup.lock_outgoing(uow, actor, document_id)
        org = sup.organization_of(uow, doc)
        now = uow.now()
        if cmd.kind == "personal":
            _check_may(actor, doc, A.SIGN)
            if _fold(actor.full_name) not in _fold(subject):
                raise ValidationError.field(
                    "certificate", "Chứng thư số không phải của người ký văn bản này."
                )
            version, source = sup.prepared_pdf(uow, doc)
            pdf = sup.read_bytes(uow, source)
            request = leader_request(
                sup.signature_image(uow, actor.user_id), location=doc.issue_place
            )
            number_version: int | None = version.version
        else:
            _check_may(actor, doc, A.ISSUE)
            if _fold(org.name) not in _fold(subject):
                raise ValidationError.field(
                    "certificate", "Chứng thư số không phải của cơ quan ban hành văn bản."
                )
            pdf = outgoing_issue.signed_pdf(uow, doc)
            # The number is reserved here (register row locked until the commit below).
            _, notation = outgoing_issue.reserve_number(uow, actor, doc, cmd.register_id)
            request = outgoing_issue.seal_request(uow, doc, notation, now)
            number_version = doc.draft_version
        with sup.signing_errors():
            prepared = prepare_external_signature(
                pdf, cert.public_bytes(_PEM), chain, request, provider.options()
            )
        session = SigningSession(
            document_id=doc.id,
            kind=cmd.kind,
            user_id=actor.user_id,
            version=number_version,
            state=prepared.state,
            certificate_subject=subject[:500],
            signature_algorithm=prepared.signature_algorithm,
            issued_at=now if cmd.kind == "organization" else None,
            expires_at=prepared.expires_at,
            created_at=now,
        )
        uow.session.add(session)
        uow.session.flush()
        uow.commit()
        return StartedSession(session, prepared.to_be_signed, prepared.digest)


def _check_may(actor: Actor, doc: Document, action: OutgoingAction) -> None:
    next_outgoing_state(S(doc.state), action)  # 409 when the state does not allow it
    if not may(actor, doc, action):
        raise PermissionDeniedError()


def complete_signing_session(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, cmd: CompleteSigningSession
) -> Document:
    provider = sup.signing_provider(uow)
    try:
        raw = base64.b64decode(cmd.signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError.field("signature", "Chữ ký phải mã hóa base64.") from exc
    with uow:
        session = uow.session.scalars(
            select(SigningSession).where(SigningSession.id == session_id).with_for_update()
        ).one_or_none()
        if session is None or session.user_id != actor.user_id:
            raise NotFoundError("Không tìm thấy phiên ký số.", code="signing_session_not_found")
        if session.completed_at is not None:
            raise ConflictError("Phiên ký số này đã hoàn tất.", code="signing_session_used")
        doc = sup.lock_outgoing(uow, actor, session.document_id)
        before = S(doc.state)
        action = A.SIGN if session.kind == "personal" else A.ISSUE
        _check_may(actor, doc, action)
        if session.kind == "personal" and session.version != doc.draft_version:
            raise ConflictError(
                "Dự thảo đã có bản mới sau khi mở phiên ký; hãy mở phiên ký mới.",
                code="signing_session_stale",
            )
        with sup.signing_errors():
            result = finish_external_signature(session.state, raw, provider.options())
        if session.kind == "personal":
            record_signed(uow, actor, doc, result, session.version or 1, None)
            details: dict[str, Any] = {
                "via": "signing_session",
                "certificate": session.certificate_subject,
            }
        else:
            assert session.issued_at is not None
            outgoing_issue.record_issued(uow, actor, doc, result, session.issued_at)
            details = {
                "via": "signing_session",
                "register_number": doc.register_number,
                "notation": doc.notation,
            }
        details["version"] = doc.draft_version
        after = S.SIGNED if session.kind == "personal" else S.ISSUED
        doc.state = after.value
        doc.listed_at = uow.now()
        session.completed_at = uow.now()
        trail.append(uow, doc, action.value, actor=actor, from_state=before.value, details=details)
        uow.commit()
        return doc
