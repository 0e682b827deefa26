"""The directory of external organisations (the axis's ``getAgenciesList``) and this
installation's registrations with the axis (``registerAgency``). What people read of it
(:func:`~docflow.directory.queries.search_agencies`: organisations outside this installation,
searched by name or code without diacritics, "van phong chinh phu" finds "Văn phòng Chính phủ")
is in :mod:`docflow.directory.queries`.

* :func:`replace_directory` — the refresh: the axis's list replaces the stored one (entries that
  are not sane — no code, a code or name beyond any real length — are skipped and counted).
* :func:`registrations_due` / :func:`record_registration` — which of our organisations the axis
  must be told about (never registered, renamed, moved, or last told longer than ``max_age``
  ago), and remembering that it was.
* :func:`queue_registration` — called when an organisation is created or renamed: an outbox
  message whose handler (the app's exchange wiring) registers it at once.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select

from docflow.documents.text import fold
from docflow.models import AxisRegistration, ExternalAgency, Organization
from docflow.uow import UnitOfWork

TOPIC_REGISTER = "axis.register_agency"
MAX_CODE = 64
MAX_NAME = 500
MAX_QUERY = 200
# A registration older than this is repeated before the next send (the axis may have been reset).
REGISTRATION_MAX_AGE = dt.timedelta(hours=24)


@dataclass(frozen=True)
class AgencyEntry:
    """One organisation of the axis's list, as the exchange read it."""

    code: str
    name: str
    parent_code: str = ""
    system_id: str = ""


@dataclass(frozen=True)
class DirectoryRefresh:
    added: int
    updated: int
    removed: int
    skipped: int


@dataclass(frozen=True)
class RegistrationDue:
    """What to tell the axis about one of our organisations."""

    organization_id: uuid.UUID
    code: str
    name: str
    parent_code: str
    address: str
    email: str
    phone: str


# ---------------------------------------------------------------- the directory


def _controls(*values: str) -> bool:
    """Control or format characters (NUL, ESC, bidi overrides...) that no real name or code
    has: PostgreSQL refuses NUL in text, the others disguise what a clerk picks."""
    return any(unicodedata.category(ch) in ("Cc", "Cf") for value in values for ch in value)


def _sane(entry: AgencyEntry) -> AgencyEntry | None:
    code, name = " ".join(entry.code.split()), " ".join(entry.name.split())
    parent = " ".join(entry.parent_code.split())
    system_id = entry.system_id.strip()
    if not code or not name or len(code) > MAX_CODE or len(name) > MAX_NAME:
        return None
    if _controls(code, name, parent, system_id) or len(system_id) > 128:
        return None
    if len(parent) > MAX_CODE:
        parent = ""
    return AgencyEntry(code, name, parent, system_id)


def replace_directory(uow: UnitOfWork, entries: Iterable[AgencyEntry]) -> DirectoryRefresh:
    """The axis's list replaces the stored directory (an empty list changes nothing: an axis
    that answers with nothing is more likely broken than emptied)."""
    clean: dict[str, AgencyEntry] = {}
    skipped = 0
    for raw in entries:
        entry = _sane(raw)
        if entry is None:
            skipped += 1
            continue
        clean[entry.code] = entry
    if not clean:
        return DirectoryRefresh(0, 0, 0, skipped)
    added = updated = 0
    with uow:
        s = uow.session
        now = uow.now()
        stored = {a.code: a for a in s.scalars(select(ExternalAgency))}
        for code, entry in clean.items():
            search = f"{fold(entry.name)} | {fold(code)}"
            row = stored.get(code)
            if row is None:
                s.add(
                    ExternalAgency(
                        code=code,
                        name=entry.name,
                        parent_code=entry.parent_code,
                        system_id=entry.system_id,
                        search_text=search,
                        refreshed_at=now,
                    )
                )
                added += 1
                continue
            if (row.name, row.parent_code, row.system_id) != (
                entry.name,
                entry.parent_code,
                entry.system_id,
            ):
                updated += 1
            row.name, row.parent_code, row.system_id = (
                entry.name,
                entry.parent_code,
                entry.system_id,
            )
            row.search_text, row.refreshed_at = search, now
        gone = [code for code in stored if code not in clean]
        if gone:
            s.execute(delete(ExternalAgency).where(ExternalAgency.code.in_(gone)))
        uow.commit()
    return DirectoryRefresh(added, updated, len(gone), skipped)


# ---------------------------------------------------------------- our registrations


def registrations_due(
    uow: UnitOfWork,
    *,
    organization_ids: Sequence[uuid.UUID] | None = None,
    max_age: dt.timedelta = REGISTRATION_MAX_AGE,
    force: bool = False,
) -> list[RegistrationDue]:
    """Our active organisations the axis must be told about (all of them with ``force``)."""
    with uow:
        s = uow.session
        stmt = select(Organization).where(Organization.active.is_(True))
        if organization_ids is not None:
            stmt = stmt.where(Organization.id.in_(list(organization_ids)))
        orgs = list(s.scalars(stmt.order_by(Organization.path)))
        parents = {
            o.id: o.code
            for o in s.scalars(
                select(Organization).where(
                    Organization.id.in_([o.parent_id for o in orgs if o.parent_id])
                )
            )
        }
        told = {
            r.organization_id: r
            for r in s.scalars(
                select(AxisRegistration).where(
                    AxisRegistration.organization_id.in_([o.id for o in orgs])
                )
            )
        }
        now = uow.now()
        due = []
        for org in orgs:
            want = RegistrationDue(
                org.id,
                org.code,
                org.name,
                parents.get(org.parent_id, "") if org.parent_id else "",
                org.address or "",
                org.email or "",
                org.phone or "",
            )
            last = told.get(org.id)
            fresh = (
                last is not None
                and (last.code, last.name, last.parent_code)
                == (want.code, want.name, want.parent_code)
                and now - last.registered_at < max_age
            )
            if force or not fresh:
                due.append(want)
        return due


def record_registration(uow: UnitOfWork, done: RegistrationDue) -> None:
    """The axis accepted ``done``: remember what it was told, and when."""
    with uow:
        row = uow.session.get(AxisRegistration, done.organization_id)
        if row is None:
            row = AxisRegistration(organization_id=done.organization_id)
            uow.session.add(row)
        row.code, row.name, row.parent_code = done.code, done.name, done.parent_code
        row.registered_at = uow.now()
        uow.commit()


def queue_registration(uow: UnitOfWork, organization_id: uuid.UUID) -> None:
    """Inside the caller's transaction: register this organisation with the axis after the
    commit (a no-op where the exchange is not configured)."""
    uow.enqueue(TOPIC_REGISTER, {"organization_id": str(organization_id)}, priority=3)
