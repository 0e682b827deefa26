"""Delegations (ủy quyền): a leader hands some of their roles to someone of the organisation for
a period; an admin may record it for them. Which roles may go to whom is
:func:`docflow.actors.delegation_refusal` (applied again each time a delegation is used); who may
create and revoke one is :mod:`docflow.directory.policy`."""

from __future__ import annotations

import uuid

from docflow import audit
from docflow.actors import Actor, delegation_refusal
from docflow.directory.commands import CreateDelegation
from docflow.directory.policy import ensure_can_create_delegation, ensure_can_revoke_delegation
from docflow.errors import ConflictError, NotFoundError, ValidationError
from docflow.models import Delegation, User
from docflow.uow import UnitOfWork


def create_delegation(uow: UnitOfWork, actor: Actor, cmd: CreateDelegation) -> Delegation:
    """A leader delegates some of their own roles; an admin may record it for them."""
    with uow:
        s = uow.session
        delegator = s.get(User, cmd.delegator_id)
        delegate = s.get(User, cmd.delegate_id)
        if delegator is None or delegate is None:
            raise NotFoundError()
        ensure_can_create_delegation(actor, delegator, delegate)
        if delegate.organization_id != delegator.organization_id:
            raise ValidationError.field("delegate_id", "Người được ủy quyền phải cùng tổ chức.")
        if not delegate.active:
            raise ValidationError.field("delegate_id", "Người được ủy quyền không còn hoạt động.")
        for role in cmd.roles:
            refusal = delegation_refusal(delegator, delegate, role)
            if refusal is not None:
                raise ValidationError.field("roles", refusal, code="delegation_not_allowed")
        d = Delegation(
            organization_id=delegator.organization_id,
            delegator_id=delegator.id,
            delegate_id=delegate.id,
            roles=sorted(r.value for r in cmd.roles),
            competence=cmd.competence,
            start_date=cmd.start_date,
            end_date=cmd.end_date,
            reason=cmd.reason,
            created_by_id=actor.user_id,
        )
        s.add(d)
        s.flush()
        audit.record(
            uow,
            "delegation_created",
            actor=actor,
            organization_id=delegator.organization_id,
            object_type="delegation",
            object_id=d.id,
            details=cmd.model_dump(mode="json"),
        )
        uow.commit()
        return d


def revoke_delegation(uow: UnitOfWork, actor: Actor, delegation_id: uuid.UUID) -> Delegation:
    with uow:
        d = uow.session.get(Delegation, delegation_id)
        if d is None:
            raise NotFoundError()
        ensure_can_revoke_delegation(actor, d.delegator)
        if d.revoked_at is not None:
            raise ConflictError("Ủy quyền đã bị thu hồi.", code="already_revoked")
        d.revoked_at = uow.now()
        audit.record(
            uow,
            "delegation_revoked",
            actor=actor,
            organization_id=d.organization_id,
            object_type="delegation",
            object_id=d.id,
        )
        uow.commit()
        return d
