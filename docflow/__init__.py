"""docflow: the domain of DHTN, free of Flask, Celery and interop.

The kernel (actors and roles, numbering, working days, the audit log, the outbox, the unit of
work) and one package per capability (:mod:`docflow.directory` for organisations, people,
delegations and registers; :mod:`docflow.tasks`; ...) with the services (use cases) that the
app, the CLI and background tasks call. Services have the shape
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
    TransitionNotAllowedError,
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
    "TransitionNotAllowedError",
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
