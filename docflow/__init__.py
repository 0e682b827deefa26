"""docflow: the domain of DHTN, free of Flask, Celery and interop.

Organisations in a tree, units, users and roles, delegations, registers (sổ) and numbering,
working days, permissions (policies), the audit log, the outbox, and the services (use cases)
that the app, the CLI and background tasks call. Services have the shape
``verb_noun(uow, actor, command) -> result`` and raise :class:`DomainError` subclasses.
"""

from docflow.actors import Actor, DelegatedRole, load_actor
from docflow.db import Base, make_engine, make_session_factory, utcnow
from docflow.enums import Direction, HolidayKind, OrgLevel, Role, Secrecy, Urgency
from docflow.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    TransitionNotAllowed,
    ValidationError,
)
from docflow.numbering import allocate_number, format_number
from docflow.uow import UnitOfWork
from docflow.workdays import VN_TZ, WorkCalendar, local_date

__all__ = [
    "VN_TZ",
    "Actor",
    "AuthenticationError",
    "Base",
    "ConflictError",
    "DelegatedRole",
    "Direction",
    "DomainError",
    "HolidayKind",
    "NotFoundError",
    "OrgLevel",
    "PermissionDeniedError",
    "Role",
    "Secrecy",
    "ThrottledError",
    "TransitionNotAllowed",
    "UnitOfWork",
    "Urgency",
    "ValidationError",
    "WorkCalendar",
    "allocate_number",
    "format_number",
    "load_actor",
    "local_date",
    "make_engine",
    "make_session_factory",
    "utcnow",
]
