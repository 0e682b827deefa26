"""The persistent model of docflow (SQLAlchemy 2 declarative, one module per aggregate)."""

from docflow.db import Base
from docflow.models.agencies import AxisRegistration, ExternalAgency
from docflow.models.audit import AuditChainHead, AuditEntry, AuditPendingRead
from docflow.models.calendar import DocumentType, Holiday
from docflow.models.changes import Change
from docflow.models.documents import Assignment, Document, DocumentFile, TrailEntry
from docflow.models.dossiers import (
    Disposal,
    Dossier,
    DossierEvent,
    DossierItem,
    FilePlan,
    FilePlanHeading,
    FilePlanItem,
)
from docflow.models.exchange import AxisHeldPackage, ExchangeMessage
from docflow.models.feedback import FeedbackFile, FeedbackItem, FeedbackSettings, FeedbackTrailEntry
from docflow.models.identity import (
    ApiToken,
    Delegation,
    LoginThrottle,
    PrivilegeRequest,
    User,
    UserRole,
    UserSession,
)
from docflow.models.imports import DocumentImport, UserActivation
from docflow.models.notifications import Notification, ReminderSent
from docflow.models.org import Organization, Unit
from docflow.models.outbox import OutboxMessage
from docflow.models.outgoing import (
    Delivery,
    DeliveryEvent,
    DraftVersion,
    RemoteSigningAccount,
    Review,
    SigningSession,
)
from docflow.models.push import PushSubscription
from docflow.models.ratelimit import RateCounter
from docflow.models.registers import Register
from docflow.models.reports import (
    ReportDailyStat,
    ReportForm,
    ReportRefresh,
    ReportRequest,
    ReportSubmission,
    ReportUnitDailyStat,
)
from docflow.models.search import DocumentSearch, FileText, TaskFileText
from docflow.models.tasks import Task, TaskAttachment, TaskCooperator, TaskTrailEntry

__all__ = [
    "ApiToken",
    "Assignment",
    "AuditChainHead",
    "AuditEntry",
    "AuditPendingRead",
    "AxisHeldPackage",
    "AxisRegistration",
    "Base",
    "Change",
    "Delegation",
    "Delivery",
    "DeliveryEvent",
    "Disposal",
    "Document",
    "DocumentFile",
    "DocumentImport",
    "DocumentSearch",
    "DocumentType",
    "Dossier",
    "DossierEvent",
    "DossierItem",
    "DraftVersion",
    "ExchangeMessage",
    "ExternalAgency",
    "FeedbackFile",
    "FeedbackItem",
    "FeedbackSettings",
    "FeedbackTrailEntry",
    "FilePlan",
    "FilePlanHeading",
    "FilePlanItem",
    "FileText",
    "Holiday",
    "LoginThrottle",
    "Notification",
    "Organization",
    "OutboxMessage",
    "PrivilegeRequest",
    "PushSubscription",
    "RateCounter",
    "Register",
    "ReminderSent",
    "RemoteSigningAccount",
    "ReportDailyStat",
    "ReportForm",
    "ReportRefresh",
    "ReportRequest",
    "ReportSubmission",
    "ReportUnitDailyStat",
    "Review",
    "SigningSession",
    "Task",
    "TaskAttachment",
    "TaskCooperator",
    "TaskFileText",
    "TaskTrailEntry",
    "TrailEntry",
    "Unit",
    "User",
    "UserActivation",
    "UserRole",
    "UserSession",
]
