"""Response bodies of the API (pydantic models, also the OpenAPI schemas)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from docflow import Actor
from docflow.models import User


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrganizationRef(Out):
    id: uuid.UUID
    name: str
    code: str


class OrganizationOut(Out):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    level: str
    name: str
    abbreviation: str
    code: str
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    active: bool


class UnitOut(Out):
    id: uuid.UUID
    organization_id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    abbreviation: str
    active: bool


class UnitRef(Out):
    id: uuid.UUID
    name: str
    abbreviation: str


class UserOut(Out):
    id: uuid.UUID
    username: str
    full_name: str
    position: str | None
    email: str | None = None
    phone: str | None = None
    roles: list[str]
    clearance: str
    active: bool
    unit: UnitRef | None
    organization: OrganizationRef

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            position=user.position,
            email=user.email,
            phone=user.phone,
            roles=sorted(r.value for r in user.roles),
            clearance=user.clearance,
            active=user.active,
            unit=UnitRef.model_validate(user.unit) if user.unit else None,
            organization=OrganizationRef.model_validate(user.organization),
        )


class DelegatedRoleOut(BaseModel):
    role: str
    on_behalf_of: dict[str, Any]
    competence: str


class MeOut(UserOut):
    delegated_roles: list[DelegatedRoleOut] = Field(default_factory=list)

    @classmethod
    def of_actor(cls, user: User, actor: Actor) -> MeOut:
        base = UserOut.of(user).model_dump()
        base["delegated_roles"] = [
            DelegatedRoleOut(
                role=d.role.value,
                on_behalf_of={"id": str(d.delegator_id), "name": d.delegator_name},
                competence=d.competence,
            )
            for d in actor.delegated
        ]
        return cls.model_validate(base)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_at: dt.datetime
    user: UserOut


class RegisterOut(Out):
    id: uuid.UUID
    organization_id: uuid.UUID
    direction: str
    year: int
    name: str
    secret_series: bool
    last_number: int
    active: bool


class DelegationOut(Out):
    id: uuid.UUID
    delegator_id: uuid.UUID
    delegate_id: uuid.UUID
    roles: list[str]
    competence: str
    start_date: dt.date
    end_date: dt.date
    reason: str | None
    revoked_at: dt.datetime | None


class HolidayOut(Out):
    day: dt.date
    name: str
    kind: str


class OrganizationPage(BaseModel):
    items: list[OrganizationOut]
    next_cursor: str | None


class UnitList(BaseModel):
    items: list[UnitOut]


class UserList(BaseModel):
    items: list[UserOut]


class RegisterList(BaseModel):
    items: list[RegisterOut]


class DelegationList(BaseModel):
    items: list[DelegationOut]


class HolidayList(BaseModel):
    items: list[HolidayOut]


class Empty(BaseModel):
    pass
