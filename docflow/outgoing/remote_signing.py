"""Signing many drafts at once, and remote signing through the operator's CSC service.

:func:`sign_many` signs each of the given drafts as the ``sign`` action would, each decided by
:mod:`docflow.outgoing.policy` and the engine (404, 403, 409 in that order), each in its own
transaction with its own trail and audit entries: one refused draft leaves the others signed, and
the outcome of each is returned.

``method="server"``: each draft goes through :func:`docflow.outgoing.actions.act` (the key the
server holds, the demo PKI). ``method="csc"``: the key stays at the remote signing service
(:class:`signing.CscProvider`):

1. each draft is checked and its PDF read, in a transaction of its own, nothing written;
2. the credential's certificate is read once (``credentials/info``) and each draft's bytes to
   sign are prepared (:func:`signing.prepare_external_signature`), outside any transaction;
3. ONE authorisation for the N hashes and ONE ``signHash`` call (:func:`signing.sign_hashes`):
   a wrong PIN/OTP (422), a timeout (504) or any other refusal of the service fails the whole
   request and nothing is signed;
4. each draft, in its own transaction, is locked and checked again (it may have moved, or got a
   new version meanwhile) and the signature embedded and verified
   (:func:`signing.finish_external_signature`).

The PIN/OTP travels only in the request to the service: never stored, logged or audited.
A person links their credential once (:func:`link_account`); its id and the certificate's
subject are all that is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from docflow import audit, engine
from docflow.actors import Actor
from docflow.documents.files import read_bytes
from docflow.documents.ports import signing_provider
from docflow.engine import Effect
from docflow.errors import (
    ConflictError,
    DomainError,
    PermissionDeniedError,
    ValidationError,
)
from docflow.models import Document, RemoteSigningAccount
from docflow.outgoing import policy
from docflow.outgoing.actions import act, record_signed, run_move
from docflow.outgoing.commands import LinkRemoteSigning, Sign
from docflow.outgoing.errors import SignatureRefusedError, signing_errors
from docflow.outgoing.queries import facts_of, lock_outgoing, prepared_pdf, signature_image
from docflow.outgoing.states import OutgoingAction, OutgoingState, next_outgoing_state
from docflow.uow import UnitOfWork
from signing import (
    CscConfig,
    CscCredential,
    CscProvider,
    PreparedSignature,
    RemoteSigningAuthError,
    RemoteSigningTimeoutError,
    SigningError,
    fetch_credential,
    finish_external_signature,
    leader_request,
    prepare_external_signature,
    sign_hashes,
)

A, S = OutgoingAction, OutgoingState


class RemoteSigningTimeoutRefusal(DomainError):
    """The remote signing service did not answer in time: nothing was signed (504)."""

    kind = "conflict"
    http_status = 504
    code = "remote_signing_timeout"
    message = "Dịch vụ ký số từ xa không trả lời kịp; chưa văn bản nào được ký. Hãy thử lại."


@dataclass(frozen=True)
class Outcome:
    """What happened to one document of a bulk action: signed (``state``) or ``error``."""

    document_id: uuid.UUID
    ok: bool
    state: str | None = None
    error: DomainError | None = None


@dataclass(frozen=True)
class RemoteAccount:
    """The person's linked credential (``None`` fields when not linked) and whether the
    operator configured a remote signing service at all."""

    configured: bool
    credential_id: str | None = None
    certificate_subject: str | None = None
    linked_at: Any = None


# --- the operator's service and the person's account


def remote_service(uow: UnitOfWork) -> CscProvider:
    service = signing_provider(uow).remote_signing()
    if service is None:
        raise ConflictError(
            "Hệ thống chưa cấu hình dịch vụ ký số từ xa.", code="remote_signing_not_configured"
        )
    return service


def _configured(uow: UnitOfWork) -> bool:
    return uow.signing is not None and uow.signing.remote_signing() is not None


def get_account(uow: UnitOfWork, actor: Actor) -> RemoteAccount:
    with uow:
        row = uow.session.get(RemoteSigningAccount, actor.user_id)
        if row is None:
            return RemoteAccount(_configured(uow))
        return RemoteAccount(
            _configured(uow), row.credential_id, row.certificate_subject, row.linked_at
        )


@contextmanager
def remote_errors(secret_field: str = "otp") -> Iterator[None]:
    """The service's refusals as domain refusals: a wrong PIN/OTP is 422 on ``secret_field``,
    a timeout 504, anything else the signing library's code (409)."""
    try:
        yield
    except RemoteSigningAuthError as exc:
        raise ValidationError(
            exc.message, code=exc.code, details={"fields": {secret_field: exc.message}}
        ) from exc
    except RemoteSigningTimeoutError as exc:
        raise RemoteSigningTimeoutRefusal() from exc
    except SigningError as exc:
        raise SignatureRefusedError(
            exc.message,
            code=exc.code,
            details={k: str(v) for k, v in exc.details.items() if k != "error_description"},
        ) from exc


def _own_credential(actor: Actor, credential: CscCredential) -> None:
    if not policy.names_in_certificate(credential.subject, actor.full_name):
        raise ValidationError.field(
            "credential_id",
            "Chứng thư số của tài khoản ký từ xa này không phải của bạn.",
            code="remote_signing_wrong_person",
        )


def link_account(uow: UnitOfWork, actor: Actor, cmd: LinkRemoteSigning) -> RemoteAccount:
    """Link (or replace) the person's credential: only a person who may sign documents; the
    service must know the credential and its certificate must name the person."""
    if not policy.may_be_signer(actor.roles):
        raise PermissionDeniedError(
            "Chỉ lãnh đạo ký văn bản mới liên kết tài khoản ký số từ xa.",
            code="remote_signing_not_signer",
        )
    service = remote_service(uow)
    try:
        with remote_errors("credential_id"):
            credential = fetch_credential(service.config(cmd.credential_id))
    except SignatureRefusedError as exc:
        if exc.details.get("status") != "400":
            raise
        raise ValidationError.field(
            "credential_id",
            "Dịch vụ ký số từ xa không có mã chứng thư này.",
            code="remote_signing_credential_unknown",
        ) from exc
    _own_credential(actor, credential)
    with uow:
        row = uow.session.get(RemoteSigningAccount, actor.user_id)
        if row is None:
            row = RemoteSigningAccount(user_id=actor.user_id)
            uow.session.add(row)
        row.credential_id = cmd.credential_id
        row.certificate_subject = credential.subject[:500]
        row.linked_at = uow.now()
        audit.record(
            uow,
            "remote_signing.linked",
            actor=actor,
            object_type="user",
            object_id=actor.user_id,
            details={"credential_id": cmd.credential_id, "certificate": row.certificate_subject},
        )
        uow.commit()
        return RemoteAccount(True, row.credential_id, row.certificate_subject, row.linked_at)


def unlink_account(uow: UnitOfWork, actor: Actor) -> None:
    with uow:
        row = uow.session.get(RemoteSigningAccount, actor.user_id)
        if row is None:
            return
        uow.session.delete(row)
        audit.record(
            uow,
            "remote_signing.unlinked",
            actor=actor,
            object_type="user",
            object_id=actor.user_id,
            details={"credential_id": row.credential_id},
        )
        uow.commit()


def server_key_available(uow: UnitOfWork, actor: Actor) -> bool:
    """Whether the server holds a key for the person (the demo PKI): ``method="server"``."""
    return uow.signing is not None and uow.signing.personal_signer(actor.username) is not None


# --- signing


def _check_may_sign(actor: Actor, doc: Document) -> None:
    engine.check(
        policy.decide(actor, facts_of(doc), A.SIGN),
        S(doc.state),
        lambda state: next_outgoing_state(state, A.SIGN),
        forbidden=PermissionDeniedError,
    )


@dataclass(frozen=True)
class _Draft:
    document_id: uuid.UUID
    version: int
    pdf: bytes
    image: bytes
    location: str | None


def _read_draft(uow: UnitOfWork, actor: Actor, document_id: uuid.UUID) -> _Draft:
    """Step 1: 404, 403, 409 as the action would, and the prepared PDF; nothing written."""
    with uow:
        doc = lock_outgoing(uow, actor, document_id)
        _check_may_sign(actor, doc)
        version, source = prepared_pdf(uow, doc)
        return _Draft(
            doc.id,
            version.version,
            read_bytes(uow, source),
            signature_image(uow, actor.user_id),
            doc.issue_place,
        )


def _credential_id(uow: UnitOfWork, actor: Actor, cmd: Sign) -> str:
    if cmd.credential_id:
        return cmd.credential_id
    account = get_account(uow, actor)
    if account.credential_id is None:
        raise ValidationError.field(
            "credential_id",
            "Chưa liên kết tài khoản ký số từ xa: liên kết trong trang tài khoản hoặc nhập "
            "mã chứng thư (credential_id).",
            code="remote_signing_not_linked",
        )
    return account.credential_id


def _secret_field(cmd: Sign) -> str:
    if cmd.pin is None and cmd.otp is None:
        raise ValidationError.field(
            "otp", "Nhập mã OTP hoặc mã PIN để ký từ xa.", code="remote_signing_otp_required"
        )
    return "otp" if cmd.otp is not None else "pin"


def _finish(
    uow: UnitOfWork,
    actor: Actor,
    draft: _Draft,
    prepared: PreparedSignature,
    raw: bytes,
    cmd: Sign,
    credential: CscCredential,
) -> str:
    """Step 4: lock again, the engine's checks again, the draft unchanged, then embed."""
    provider = signing_provider(uow)
    with uow:
        doc = lock_outgoing(uow, actor, draft.document_id)

        def unchanged() -> None:
            if doc.draft_version != draft.version:
                raise ConflictError(
                    "Dự thảo đã có bản mới trong lúc ký; hãy ký lại.", code="draft_changed"
                )

        def effect(signature: bytes) -> Effect:
            with signing_errors():
                signed = finish_external_signature(prepared.state, signature, provider.options())
            record_signed(uow, actor, doc, signed, draft.version, cmd.comment)
            return Effect(
                cmd.comment,
                {
                    "via": "remote_signing",
                    "certificate": credential.subject[:500],
                    "file": f"bản {draft.version}",
                },
            )

        run_move(
            uow, actor, doc, A.SIGN, parse=lambda: raw, effect=effect, preconditions=[unchanged]
        )
        uow.commit()
        return doc.state


def _sign_remote(
    uow: UnitOfWork, actor: Actor, document_ids: list[uuid.UUID], cmd: Sign
) -> list[Outcome]:
    service = remote_service(uow)
    credential_id = _credential_id(uow, actor, cmd)
    secret_field = _secret_field(cmd)
    outcomes: dict[uuid.UUID, Outcome] = {}
    drafts: list[_Draft] = []
    for document_id in document_ids:
        try:
            drafts.append(_read_draft(uow, actor, document_id))
        except DomainError as exc:
            outcomes[document_id] = Outcome(document_id, False, error=exc)
    if drafts:  # no request to the service when nothing may be signed
        options = signing_provider(uow).options()
        with remote_errors(secret_field):
            config: CscConfig = service.config(credential_id, pin=cmd.pin, otp=cmd.otp)
            credential = fetch_credential(config)
        _own_credential(actor, credential)
        ready: list[tuple[_Draft, PreparedSignature]] = []
        for draft in drafts:
            try:
                with signing_errors():
                    prepared = prepare_external_signature(
                        draft.pdf,
                        credential.certificate_der,
                        credential.chain_der,
                        leader_request(draft.image, location=draft.location),
                        options,
                        prefer_pss=credential.algorithm == "rsassa_pss_sha256",
                    )
                ready.append((draft, prepared))
            except DomainError as exc:
                outcomes[draft.document_id] = Outcome(draft.document_id, False, error=exc)
        if ready:
            with remote_errors(secret_field):
                raws = sign_hashes(config, [p.digest for _, p in ready], credential.algorithm)
            for (draft, prepared), raw in zip(ready, raws, strict=True):
                try:
                    with signing_errors():
                        state = _finish(uow, actor, draft, prepared, raw, cmd, credential)
                    outcomes[draft.document_id] = Outcome(draft.document_id, True, state=state)
                except DomainError as exc:
                    outcomes[draft.document_id] = Outcome(draft.document_id, False, error=exc)
    return [outcomes[i] for i in document_ids]


def sign_many(
    uow: UnitOfWork, actor: Actor, document_ids: list[uuid.UUID], cmd: Sign
) -> list[Outcome]:
    """Sign each document (see the module's description); the outcomes in the given order.

    Raises only for what concerns the whole request (no remote service, no linked credential,
    no PIN/OTP, a wrong PIN/OTP, the service's timeout or refusal): then nothing was signed.
    """
    if cmd.method == "csc":
        return _sign_remote(uow, actor, document_ids, cmd)
    params = {"comment": cmd.comment} if cmd.comment else {}
    outcomes: list[Outcome] = []
    for document_id in document_ids:
        try:
            with signing_errors():
                doc = act(uow, actor, document_id, "sign", params)
            outcomes.append(Outcome(document_id, True, state=doc.state))
        except DomainError as exc:
            outcomes.append(Outcome(document_id, False, error=exc))
    return outcomes


def sign_one_remotely(
    uow: UnitOfWork, actor: Actor, document_id: uuid.UUID, params: dict[str, Any]
) -> Document:
    """The ``sign`` action with ``method="csc"``: the refusal order of the action (404, 403,
    409, then 422 for the parameters), then :func:`sign_many` for the one draft."""
    _read_draft(uow, actor, document_id)
    cmd = Sign.model_validate(params)
    (outcome,) = _sign_remote(uow, actor, [document_id], cmd)
    if outcome.error is not None:
        raise outcome.error
    with uow:
        doc = lock_outgoing(uow, actor, document_id)
        return doc
