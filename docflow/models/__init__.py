"""The persistent model of docflow (SQLAlchemy 2 declarative, one module per aggregate)."""

from docflow.db import Base
from docflow.models.agencies import AxisRegistration, ExternalAgency
from docflow.models.audit import AuditChainHead, AuditEntry, AuditPendingRead
from docflow.models.calendar import DocumentType, Holiday
from docflow.models.documents import Assignment, Document, DocumentFile, TrailEntry
from docflow.models.exchange import ExchangeMessage
from docflow.models.identity import (
    ApiToken,
    Delegation,
    LoginThrottle,
    PrivilegeRequest,
    User,
    UserRole,
    UserSession,
)
from docflow.models.notifications import Notification, ReminderSent
from docflow.models.org import Organization, Unit
from docflow.models.outbox import OutboxMessage
from docflow.models.outgoing import Delivery, DeliveryEvent, DraftVersion, Review, SigningSession
from docflow.models.ratelimit import RateCounter
from docflow.models.registers import Register
from docflow.models.tasks import Task, TaskAttachment, TaskCooperator, TaskTrailEntry

__all__ = [
    "ApiToken",
    "Assignment",
    "AuditChainHead",
    "AuditEntry",
    "AuditPendingRead",
    "AxisRegistration",
    "Base",
    "Delegation",
    "Delivery",
    "DeliveryEvent",
    "Document",
    "DocumentFile",
    "DocumentType",
    "DraftVersion",
    "ExchangeMessage",
    "ExternalAgency",
    "Holiday",
    "LoginThrottle",
    "Notification",
    "Organization",
    "OutboxMessage",
    "PrivilegeRequest",
    "RateCounter",
    "Register",
    "ReminderSent",
    "Review",
    "SigningSession",
    "Task",
    "TaskAttachment",
    "TaskCooperator",
    "TaskTrailEntry",
    "TrailEntry",
    "Unit",
    "User",
    "UserRole",
    "UserSession",
]
