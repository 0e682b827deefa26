"""Signing sessions (API.md §3): signing with a key the server never holds.

``start_signing_session`` checks who may sign now, prepares the exact bytes the key must sign
(:func:`signing.prepare_external_signature`) and keeps the opaque state; minutes later
``complete_signing_session`` embeds the client's raw signature, which the signing library
verifies before anything is stored, and moves the document as the matching action would
(``sign`` for a personal signature, ``issue`` for the organisation's).

An organisation session needs the number in the bytes it prepares, so it reserves it at start
(see :mod:`docflow.outgoing.issue`).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from docflow import audit, engine
from docflow.actors import Actor
from docflow.documents.files import read_bytes
from docflow.documents.ports import signing_provider
from docflow.engine import Effect
from docflow.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from docflow.models import Document, SigningSession
from docflow.outgoing import issue as outgoing_issue
from docflow.outgoing import policy
from docflow.outgoing.actions import record_signed, run_move
from docflow.outgoing.commands import CompleteSigningSession, StartSigningSession
from docflow.outgoing.errors import signing_errors
from docflow.outgoing.queries import (
    facts_of,
    lock_outgoing,
    organization_of,
    prepared_pdf,
    signature_image,
)
from docflow.outgoing.states import OutgoingAction, OutgoingState, next_outgoing_state
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


def start_signing_session(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, cmd: StartSigningSession
) -> StartedSession:
    provider = signing_provider(uow)
    with uow:
        doc = lock_outgoing(uow, actor, document_id)
        _check_may(actor, doc, A.SIGN if cmd.kind == "personal" else A.ISSUE)
        cert = _certificate(cmd.certificate, "certificate")
        chain = [_certificate(c, "chain").public_bytes(_PEM) for c in cmd.chain]
        subject = _names(cert)
        org = organization_of(uow, doc)
        now = uow.now()
        if cmd.kind == "personal":
            if not policy.names_in_certificate(subject, actor.full_name):
                raise ValidationError.field(
                    "certificate", "Chứng thư số không phải của người ký văn bản này."
                )
            version, source = prepared_pdf(uow, doc)
            pdf = read_bytes(uow, source)
            request = leader_request(signature_image(uow, actor.user_id), location=doc.issue_place)
            number_version: int | None = version.version
        else:
            if not policy.names_in_certificate(subject, org.name):
                raise ValidationError.field(
                    "certificate", "Chứng thư số không phải của cơ quan ban hành văn bản."
                )
            pdf = outgoing_issue.signed_pdf(uow, doc)
            # The number is reserved here (register row locked until the commit below).
            _, notation = outgoing_issue.reserve_number(uow, actor, doc, cmd.register_id)
            request = outgoing_issue.seal_request(uow, doc, notation, now)
            number_version = doc.draft_version
        with signing_errors():
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
        audit.record(
            uow,
            "signing_session.created",
            actor=actor,
            object_type="document",
            object_id=doc.id,
            details={
                "session_id": str(session.id),
                "kind": cmd.kind,
                "certificate": session.certificate_subject,
            },
        )
        uow.commit()
        return StartedSession(session, prepared.to_be_signed, prepared.digest)


def _check_may(actor: Actor, doc: Document, action: OutgoingAction) -> None:
    """403 unless the actor may do ``action`` (:mod:`docflow.outgoing.policy`), then 409 unless
    the state allows it: the engine's order, before the session is opened."""
    engine.check(
        policy.decide(actor, facts_of(doc), action),
        S(doc.state),
        lambda state: next_outgoing_state(state, action),
        forbidden=PermissionDeniedError,
    )


def _decode(signature: str) -> bytes:
    try:
        return base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError.field("signature", "Chữ ký phải mã hóa base64.") from exc


def complete_signing_session(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, cmd: CompleteSigningSession
) -> Document:
    """Embed the client's signature and move the document as ``sign`` or ``issue`` would,
    through the same engine (so a delegated clerk's issuing is recorded as delegated)."""
    provider = signing_provider(uow)
    with uow:
        session = uow.session.scalars(
            select(SigningSession).where(SigningSession.id == session_id).with_for_update()
        ).one_or_none()
        if session is None or session.user_id != actor.user_id:
            raise NotFoundError("Không tìm thấy phiên ký số.", code="signing_session_not_found")
        doc = lock_outgoing(uow, actor, session.document_id)
        if session.completed_at is not None:  # the session, not the document, says why
            raise ConflictError("Phiên ký số này đã hoàn tất.", code="signing_session_used")
        personal = session.kind == "personal"
        action = A.SIGN if personal else A.ISSUE

        def current() -> None:
            if personal and session.version != doc.draft_version:
                raise ConflictError(
                    "Dự thảo đã có bản mới sau khi mở phiên ký; hãy mở phiên ký mới.",
                    code="signing_session_stale",
                )

        def effect(raw: bytes) -> Effect:
            with signing_errors():
                result = finish_external_signature(session.state, raw, provider.options())
            if personal:
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
            return Effect(None, details)

        run_move(
            uow,
            actor,
            doc,
            action,
            parse=lambda: _decode(cmd.signature),
            effect=effect,
            preconditions=[current],
        )
        session.completed_at = uow.now()
        audit.record(
            uow,
            "signing_session.completed",
            actor=actor,
            object_type="document",
            object_id=doc.id,
            details={"session_id": str(session.id), "kind": session.kind},
        )
        uow.commit()
        return doc
