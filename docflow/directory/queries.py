"""What lists and pages read of the directory: organisations, units, people, the requests a
second admin decides, delegations, registers, the holiday calendar and the external agencies.
Every read applies the same visibility as the services (:mod:`docflow.directory.policy`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from docflow.actors import Actor
from docflow.directory.agencies import MAX_QUERY
from docflow.directory.calendar import root_id
from docflow.directory.policy import (
    ensure_can_manage_org,
    ensure_can_view_org_internals,
    ensure_can_view_registers,
    may_edit_calendar,
    sees_all_delegations,
    sees_inactive_users,
)
from docflow.directory.states import RequestState
from docflow.documents.text import fold
from docflow.enums import Direction, Role
from docflow.errors import NotFoundError, ValidationError
from docflow.models import (
    AuditEntry,
    Delegation,
    ExternalAgency,
    Holiday,
    Organization,
    PrivilegeRequest,
    Register,
    Unit,
    User,
    UserRole,
)
from docflow.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from docflow.uow import UnitOfWork
from docflow.workdays import due_after, load_calendar

# ---------------------------------------------------------------- organisations and units


def list_organizations(
    uow: UnitOfWork,
    actor: Actor,
    *,
    q: str | None = None,
    parent_id: uuid.UUID | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Organization]:
    """The directory of organisations (name and code are public to every signed-in user, so
    that any organisation can be addressed)."""
    limit = clamp_limit(limit)
    with uow:
        stmt = select(Organization).where(Organization.active.is_(True))
        if parent_id is not None:
            stmt = stmt.where(Organization.parent_id == parent_id)
        if q:
            # autoescape: a "%" or "_" typed by the user matches itself, not any text.
            text = q.strip()
            stmt = stmt.where(
                or_(
                    Organization.name.icontains(text, autoescape=True),
                    Organization.code.icontains(text, autoescape=True),
                    Organization.abbreviation.icontains(text, autoescape=True),
                )
            )
        after = decode_cursor(cursor)
        if after:
            stmt = stmt.where(Organization.code > after[0])
        rows = uow.session.scalars(stmt.order_by(Organization.code).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor([rows[-1].code]) if more else None)


def get_organization(uow: UnitOfWork, actor: Actor, org_id: uuid.UUID) -> Organization:
    with uow:
        org = uow.session.get(Organization, org_id)
        if org is None or not org.active:
            raise NotFoundError()
        return org


def managed_organizations(uow: UnitOfWork, actor: Actor) -> list[Organization]:
    """The organisations an admin manages: their own and its whole subtree, in tree order."""
    with uow:
        return list(
            uow.session.scalars(
                select(Organization)
                .where(Organization.path.startswith(actor.organization_path))
                .order_by(Organization.path)
            )
        )


def get_unit(uow: UnitOfWork, actor: Actor, unit_id: uuid.UUID) -> Unit:
    with uow:
        unit = uow.session.get(Unit, unit_id)
        if unit is None:
            raise NotFoundError()
        ensure_can_view_org_internals(actor, unit.organization)
        return unit


def list_units(uow: UnitOfWork, actor: Actor, org_id: uuid.UUID) -> list[Unit]:
    with uow:
        ensure_can_view_org_internals(actor, uow.session.get(Organization, org_id))
        return list(
            uow.session.scalars(
                select(Unit).where(Unit.organization_id == org_id).order_by(Unit.name)
            )
        )


# ---------------------------------------------------------------- people and delegations


def list_users(
    uow: UnitOfWork,
    actor: Actor,
    org_id: uuid.UUID,
    *,
    unit_id: uuid.UUID | None = None,
    role: Role | None = None,
    include_inactive: bool = False,
    limit: int | None = None,
) -> list[User]:
    """The people of one organisation, by name (``limit``: the first ones only; the admin's
    people list pages through the rest)."""
    with uow:
        org = ensure_can_view_org_internals(actor, uow.session.get(Organization, org_id))
        stmt = select(User).where(User.organization_id == org.id)
        if unit_id is not None:
            stmt = stmt.where(User.unit_id == unit_id)
        if role is not None:
            stmt = stmt.where(User.role_rows.any(UserRole.role == role.value))
        if not include_inactive or not sees_inactive_users(actor, org):
            stmt = stmt.where(User.active.is_(True))
        stmt = stmt.order_by(User.full_name, User.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(uow.session.scalars(stmt))


def get_user(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID) -> User:
    with uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFoundError()
        ensure_can_view_org_internals(actor, user.organization)
        return user


def list_privilege_requests(
    uow: UnitOfWork, actor: Actor, org_id: uuid.UUID, *, state: str | None = RequestState.PENDING
) -> list[PrivilegeRequest]:
    """Requests about people of an organisation, for its admins (and admins above it)."""
    with uow:
        org = ensure_can_manage_org(actor, uow.session.get(Organization, org_id))
        stmt = select(PrivilegeRequest).where(PrivilegeRequest.organization_id == org.id)
        if state is not None:
            stmt = stmt.where(PrivilegeRequest.state == state)
        return list(uow.session.scalars(stmt.order_by(PrivilegeRequest.requested_at.desc())))


#: How a password reached someone other than the person: typed by them, or a code shown to them.
GivenHow = Literal["password_reset", "activation_code"]

#: Audit events that give a person a password or an activation code another person read.
_GIVING = ("password_reset", "privilege_approved", "user_bulk_reset_activation")


@dataclass(frozen=True)
class PasswordGiven:
    """Who last gave a person a password or an activation code that they, not the person,
    typed or read: an admin's reset, a reset a second admin approved (given by the one who
    asked for it), a new activation code shown to the admin (not one e-mailed to the person).
    Whoever gave it could sign in as the person until the person changes it, and may have
    changed it themselves (``changed_by_person_at`` is when the account changed its own
    password since: what it says, not proof of who did it)."""

    by_id: uuid.UUID
    by_name: str
    at: dt.datetime
    how: GivenHow
    changed_by_person_at: dt.datetime | None = None


def passwords_given(
    uow: UnitOfWork, actor: Actor, org_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PasswordGiven]:
    """For the people ``user_ids`` of an organisation (its admins, and admins above it, ask):
    the last password or code given to each by someone else (:class:`PasswordGiven`), read
    from the audit log. A second admin deciding a request to raise a person sees whether the
    one who asked could act as that person (the requester reset their password, then asked)."""
    with uow:
        org = ensure_can_manage_org(actor, uow.session.get(Organization, org_id))
        people = set(
            uow.session.scalars(
                select(User.id).where(User.organization_id == org.id, User.id.in_(user_ids))
            )
        )
        if not people:
            return {}
        entries = uow.session.execute(
            select(
                AuditEntry.object_id,
                AuditEntry.event,
                AuditEntry.actor_id,
                AuditEntry.actor_name,
                AuditEntry.at,
                AuditEntry.details,
            )
            .where(
                AuditEntry.object_type == "user",
                AuditEntry.object_id.in_([str(p) for p in people]),
                AuditEntry.event.in_((*_GIVING, "password_changed")),
            )
            .order_by(AuditEntry.at, AuditEntry.id)
        ).all()
        given: dict[uuid.UUID, tuple[uuid.UUID, str | None, dt.datetime, GivenHow]] = {}
        changed: dict[uuid.UUID, dt.datetime] = {}
        for object_id, event, actor_id, actor_name, at, details in entries:
            person = uuid.UUID(str(object_id))
            details = details or {}
            if event == "password_changed":
                if actor_id == person and person in given:
                    changed[person] = at
                continue
            how: GivenHow = "password_reset"
            if event == "privilege_approved":
                if not details.get("password_reset") or not details.get("requested_by"):
                    continue
                by: uuid.UUID | None = uuid.UUID(str(details["requested_by"]))
                by_name = None
            elif event == "user_bulk_reset_activation":
                if details.get("emailed"):
                    continue  # the code went to the person's address, not to the admin
                by, by_name, how = actor_id, actor_name, "activation_code"
            else:
                by, by_name = actor_id, actor_name
            if by is None or by == person:
                continue
            given[person] = (by, by_name, at, how)
            changed.pop(person, None)
        unnamed = {g[0] for g in given.values() if g[1] is None}
        names: dict[uuid.UUID, str] = {}
        if unnamed:
            found = uow.session.execute(select(User.id, User.full_name).where(User.id.in_(unnamed)))
            names = {user_id: name for user_id, name in found}
        return {
            person: PasswordGiven(by, by_name or names.get(by, ""), at, how, changed.get(person))
            for person, (by, by_name, at, how) in given.items()
        }


def list_delegations(uow: UnitOfWork, actor: Actor, org_id: uuid.UUID) -> list[Delegation]:
    with uow:
        org = ensure_can_view_org_internals(actor, uow.session.get(Organization, org_id))
        stmt = select(Delegation).where(Delegation.organization_id == org.id)
        if not sees_all_delegations(actor, org):
            stmt = stmt.where(
                (Delegation.delegator_id == actor.user_id)
                | (Delegation.delegate_id == actor.user_id)
            )
        return list(uow.session.scalars(stmt.order_by(Delegation.start_date.desc())))


# ---------------------------------------------------------------- registers and the calendar


def list_registers(
    uow: UnitOfWork,
    actor: Actor,
    org_id: uuid.UUID,
    *,
    direction: Direction | None = None,
    year: int | None = None,
) -> list[Register]:
    """Registers are the clerk's, the leaders' and the admins' business, not everyone's."""
    with uow:
        org = ensure_can_view_registers(actor, uow.session.get(Organization, org_id))
        stmt = select(Register).where(Register.organization_id == org.id)
        if direction is not None:
            stmt = stmt.where(Register.direction == direction.value)
        if year is not None:
            stmt = stmt.where(Register.year == year)
        return list(
            uow.session.scalars(
                stmt.order_by(Register.year.desc(), Register.direction, Register.name)
            )
        )


def list_holidays(uow: UnitOfWork, year: int) -> list[Holiday]:
    with uow:
        return list(
            uow.session.scalars(
                select(Holiday)
                .where(Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31))
                .order_by(Holiday.day)
            )
        )


def can_edit_calendar(uow: UnitOfWork, actor: Actor) -> bool:
    with uow:
        return may_edit_calendar(actor, root_id(uow))


def due_date(uow: UnitOfWork, start: dt.date, working_days: int) -> dt.date:
    """The deadline ``working_days`` working days after ``start`` (start not counted)."""
    with uow:
        return due_after(uow.session, start, working_days)


def count_working_days(uow: UnitOfWork, start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    with uow:
        cal = load_calendar(uow.session, min(start, end), max(start, end))
        return cal.working_days_between(start, end)


# ---------------------------------------------------------------- external agencies


def search_agencies(
    uow: UnitOfWork,
    actor: Actor,
    *,
    q: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[ExternalAgency]:
    """External organisations (codes of this installation's own organisations are left out:
    those are addressed directly). Names and codes are public to every signed-in user, like the
    organisation directory, so that anyone drafting can address them."""
    limit = clamp_limit(limit)
    with uow:
        ours = select(Organization.code)
        stmt = select(ExternalAgency).where(ExternalAgency.code.not_in(ours))
        folded = fold((q or "")[:MAX_QUERY])
        for word in folded.split():
            stmt = stmt.where(ExternalAgency.search_text.contains(word, autoescape=True))
        after = decode_cursor(cursor)
        if after:
            if len(after) != 2:
                raise ValidationError.field("cursor", "Con trỏ phân trang không hợp lệ.")
            name, code = after
            stmt = stmt.where(
                or_(
                    ExternalAgency.name > name,
                    and_(ExternalAgency.name == name, ExternalAgency.code > code),
                )
            )
        rows = uow.session.scalars(
            stmt.order_by(ExternalAgency.name, ExternalAgency.code).limit(limit + 1)
        ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor([rows[-1].name, rows[-1].code]) if more else None)


def agencies_by_code(uow: UnitOfWork, actor: Actor, codes: Sequence[str]) -> list[ExternalAgency]:
    """The directory's entries of ``codes``, in that order (unknown codes left out)."""
    with uow:
        found = {
            a.code: a
            for a in uow.session.scalars(
                select(ExternalAgency).where(ExternalAgency.code.in_(list(codes)[:300]))
            )
        }
        return [found[c] for c in codes if c in found]


# ---------------------------------------------------------------- the directory at national size


@dataclass(frozen=True)
class OrgNode:
    """An organisation of the admin's tree and how many children it has (to expand it)."""

    org: Organization
    children: int


def _admin_root(uow: UnitOfWork, actor: Actor) -> Organization:
    """The organisation whose subtree the actor administers (404 for anyone but an admin)."""
    return ensure_can_manage_org(actor, uow.session.get(Organization, actor.organization_id))


def organization_tree(
    uow: UnitOfWork,
    actor: Actor,
    *,
    parent_id: uuid.UUID | None = None,
    q: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[OrgNode]:
    """One level of the admin's tree at a time (children loaded when a node is opened), or the
    organisations of the subtree whose name, code or abbreviation contains ``q``. Two queries
    per page, whatever the size of the tree: the scope, then the page with each node's number
    of children (a correlated count on the parent index)."""
    limit = clamp_limit(limit)
    with uow:
        s = uow.session
        root = _admin_root(uow, actor)
        child = aliased(Organization)
        children = (
            select(func.count(child.id))
            .where(child.parent_id == Organization.id)
            .correlate(Organization)
            .scalar_subquery()
        )
        stmt = select(Organization, children)
        if q and q.strip():
            text = q.strip()
            stmt = stmt.where(
                Organization.path.startswith(root.path, autoescape=True),
                or_(
                    Organization.name.icontains(text, autoescape=True),
                    Organization.code.icontains(text, autoescape=True),
                    Organization.abbreviation.icontains(text, autoescape=True),
                ),
            )
        elif parent_id is None:
            stmt = stmt.where(Organization.id == root.id)
        else:
            parent = ensure_can_manage_org(actor, s.get(Organization, parent_id))
            stmt = stmt.where(Organization.parent_id == parent.id)
        after = decode_cursor(cursor)
        if after:
            stmt = stmt.where(Organization.code > after[0])
        rows = s.execute(stmt.order_by(Organization.code).limit(limit + 1)).all()
        more = len(rows) > limit
        nodes = [OrgNode(o, int(n or 0)) for o, n in rows[:limit]]
        return Page(nodes, encode_cursor([nodes[-1].org.code]) if more else None)


def search_users(
    uow: UnitOfWork,
    actor: Actor,
    *,
    organization_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    role: Role | None = None,
    active: bool | None = None,
    q: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[User]:
    """People of the admin's subtree (or of one of its organisations, or one unit), filtered
    by role, active and a text in the username, name, e-mail or phone; ordered by username,
    one keyset page at a time. A constant number of queries per page: the scope, the page (the
    organisation and unit joined), the roles of the page (one IN query)."""
    limit = clamp_limit(limit)
    with uow:
        s = uow.session
        root = _admin_root(uow, actor)
        stmt = select(User)
        if unit_id is not None:
            unit = s.get(Unit, unit_id)
            if unit is None:
                raise NotFoundError()
            ensure_can_manage_org(actor, unit.organization)
            stmt = stmt.where(User.unit_id == unit.id)
        if organization_id is not None:
            org = ensure_can_manage_org(actor, s.get(Organization, organization_id))
            stmt = stmt.where(User.organization_id == org.id)
        if unit_id is None and organization_id is None:
            scope = select(Organization.id).where(
                Organization.path.startswith(root.path, autoescape=True)
            )
            stmt = stmt.where(User.organization_id.in_(scope))
        if role is not None:
            stmt = stmt.where(User.role_rows.any(UserRole.role == role.value))
        if active is not None:
            stmt = stmt.where(User.active.is_(active))
        if q and q.strip():
            text = q.strip()
            stmt = stmt.where(
                or_(
                    User.username.icontains(text, autoescape=True),
                    User.full_name.icontains(text, autoescape=True),
                    User.email.icontains(text, autoescape=True),
                    User.phone.icontains(text, autoescape=True),
                )
            )
        after = decode_cursor(cursor)
        if after:
            stmt = stmt.where(User.username > after[0])
        rows = s.scalars(stmt.order_by(User.username).limit(limit + 1)).unique().all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor([rows[-1].username]) if more else None)
