"""Documents (văn bản đến / đi), their files, assignments and processing trail."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docflow.db import Base, IdMixin, utcnow
from docflow.models.identity import User
from docflow.models.org import Organization, Unit
from docflow.models.registers import Register

if TYPE_CHECKING:
    from docflow.models.outgoing import Review


# The predicates of the "waiting for me" partial indexes; docflow.documents.access writes the
# same constants into its queries.
CLERK_INCOMING_SQL = "direction = 'incoming' AND state IN ('arrived', 'registered')"
CLERK_OUTGOING_SQL = "direction = 'outgoing' AND state IN ('signed', 'issued')"
OPEN_WORK_SQL = "state IN ('pending', 'in_progress') AND role IN ('lead', 'cooperating')"
OPEN_UNIT_WORK_SQL = "user_id IS NULL AND " + OPEN_WORK_SQL
INCOMING_DATED_SQL = "direction = 'incoming' AND due_date IS NOT NULL"


REPLACES_KIND_SQL = (
    "(replaces_id IS NULL AND replaces_kind IS NULL)"
    " OR (replaces_id IS NOT NULL AND replaces_kind IS NOT NULL"
    " AND replaces_kind IN ('replace', 'correct'))"
)


class Document(IdMixin, Base):
    """One official document in one organisation. A recipient's copy of a dispatched document
    is its own row (its own states and numbers) whose files point at the same stored objects."""

    __tablename__ = "documents"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    direction: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24))
    register_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("registers.id"))
    register_number: Mapped[int | None]
    # Columns a package from another system fills are at least as wide as the edXML reader's
    # limits (interop.edxml.fields; a test keeps them in step).
    notation: Mapped[str | None] = mapped_column(String(255))  # số, ký hiệu
    doc_type: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text)  # trích yếu
    issuer_name: Mapped[str | None] = mapped_column(String(500))  # tác giả / nơi gửi
    issuer_code: Mapped[str | None] = mapped_column(String(64))
    issued_date: Mapped[dt.date | None]
    received_at: Mapped[dt.datetime | None]  # ngày đến
    registered_at: Mapped[dt.datetime | None]
    # When the document entered its current list position: received (incoming) or created.
    listed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    # Denormalised sort keys: urgent first, then newest; secrecy filtered by clearance.
    urgency_rank: Mapped[int] = mapped_column(default=0)
    secrecy: Mapped[str] = mapped_column(String(16), default="none")
    secrecy_rank: Mapped[int] = mapped_column(default=0)
    due_date: Mapped[dt.date | None]
    page_count: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(16))
    signer_name: Mapped[str | None] = mapped_column(String(255))
    signer_position: Mapped[str | None] = mapped_column(String(500))
    # "KT.", or as other systems write it: "KT. CHỦ NHIỆM", "TM. BAN THƯỜNG TRỰC"
    signer_competence: Mapped[str | None] = mapped_column(String(500))
    recipients_text: Mapped[str | None] = mapped_column(Text)  # đơn vị / người nhận (register)
    note: Mapped[str | None] = mapped_column(Text)
    submitted_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Outgoing: the person who signs (designated at drafting), the drafting unit, the latest
    # draft version, when and where the clerk issued it, and the signer's authority line.
    signer_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    drafting_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    draft_version: Mapped[int | None]
    issued_at: Mapped[dt.datetime | None]
    issue_place: Mapped[str | None] = mapped_column(String(64))
    signer_authority: Mapped[str | None] = mapped_column(String(255))
    reply_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    # Incoming: our outgoing document this one answers (edXML ResponseFor of a received package).
    in_reply_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    # Incoming: a recall the sender asked for after the document was handled, waiting for the
    # clerk's decision (accept_recall / refuse_recall): {"reason", "by", "notation", "at"}.
    recall_request: Mapped[dict[str, Any] | None]
    # The earlier document this one replaces or corrects (Decree 30 Art. 10(3), DOMAIN.md §5):
    # on an outgoing document, ours that it replaces ("replace": errors of content, a document
    # of the same kind) or corrects ("correct": errors of form, by công văn); on a received
    # copy, our copy of what its sender replaced or corrected (edXML BussinessDocType 3 or 2).
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    replaces_kind: Mapped[str | None] = mapped_column(String(8))
    # Some document names this one in ``replaces_id`` (a draft included): only then do the
    # answers look for what replaces it (one statement fewer for every other document).
    has_replacements: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Accent- and case-folded notation + subject + issuer, for diacritics-insensitive search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    verification: Mapped[dict[str, Any] | None]
    # Received through the exchange: the check of the package's XML signature (status valid,
    # invalid, untrusted or unsigned, signer, certificate, reason), see interop.edxml.signature.
    package_signature: Mapped[dict[str, Any] | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    organization: Mapped[Organization] = relationship(lazy="joined")
    register: Mapped[Register | None] = relationship(lazy="joined")
    submitted_to: Mapped[User | None] = relationship(foreign_keys=[submitted_to_id], lazy="joined")
    files: Mapped[list[DocumentFile]] = relationship(
        lazy="selectin",
        order_by="[DocumentFile.created_at, DocumentFile.id]",
        back_populates="document",
    )
    assignments: Mapped[list[Assignment]] = relationship(
        lazy="selectin",
        order_by="[Assignment.assigned_at, Assignment.id]",
        back_populates="document",
    )
    # Outgoing: the review chain (who was asked to review, which version they saw).
    reviews: Mapped[list[Review]] = relationship(
        lazy="selectin", order_by="[Review.requested_at, Review.id]", viewonly=True
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("register_id", "register_number"),
        # A closed list, written by us only (docflow.outgoing.states.ReplacesKind), and only
        # beside the document it names: the database refuses anything else.
        CheckConstraint(REPLACES_KIND_SQL, name="replaces_kind"),
        Index(
            "ix_documents_box",
            "organization_id",
            "direction",
            "state",
            "urgency_rank",
            "listed_at",
        ),
        Index(
            "ix_documents_org_listed", "organization_id", "direction", "urgency_rank", "listed_at"
        ),
        # "Waiting for me" (docflow.documents.access, migration 0026_counters): the clerk's
        # documents to register and to issue, covering what the badges count.
        Index(
            "ix_documents_waiting_incoming",
            "organization_id",
            "due_date",
            "secrecy_rank",
            "id",
            postgresql_where=text(CLERK_INCOMING_SQL),
            sqlite_where=text(CLERK_INCOMING_SQL),
        ),
        Index(
            "ix_documents_waiting_outgoing",
            "organization_id",
            "due_date",
            "secrecy_rank",
            "id",
            postgresql_where=text(CLERK_OUTGOING_SQL),
            sqlite_where=text(CLERK_OUTGOING_SQL),
        ),
        # The late ones among many documents waiting for a unit (few of them late).
        Index(
            "ix_documents_incoming_due",
            "organization_id",
            "due_date",
            postgresql_where=text(INCOMING_DATED_SQL),
            sqlite_where=text(INCOMING_DATED_SQL),
        ),
        Index("ix_documents_submitted_to", "submitted_to_id", "state"),
        Index("ix_documents_signer_user", "signer_user_id", "state"),
        Index("ix_documents_created_by", "created_by_id", "state"),
        Index("ix_documents_drafting_unit", "drafting_unit_id", "state"),
        Index("ix_documents_in_reply_to", "in_reply_to_id"),
        Index("ix_documents_replaces", "replaces_id"),
        Index(
            "ix_documents_duplicate", "organization_id", "issuer_name", "notation", "issued_date"
        ),
        # Trigram index: "contains" search stays fast at millions of rows. The migration creates
        # it on PostgreSQL only (SQLite, the embedded profile, scans).
        Index(
            "ix_documents_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class DocumentFile(IdMixin, Base):
    """A file of a document: immutable, content-addressed (object_key from the SHA-256)."""

    __tablename__ = "document_files"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    # main | attachment | draft (an uploaded version) | prepared (its PDF with the signing fields)
    # | signed (by the leader); an issued outgoing document's main file is the sealed PDF.
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(128))
    object_key: Mapped[str] = mapped_column(String(128))
    verification: Mapped[dict[str, Any] | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Text extraction (docflow.search): none | pending | done | failed; the results are in
    # file_texts. A searchable PDF made from a scan names the scan it was made from.
    text_status: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    derived_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_files.id"))

    document: Mapped[Document] = relationship(back_populates="files")

    __table_args__ = (
        Index("ix_document_files_document_id", "document_id"),
        Index("ix_document_files_object_key", "object_key"),
    )


class Assignment(IdMixin, Base):
    """Who handles an incoming document: chủ trì (lead), phối hợp (cooperating), để biết
    (informed); a unit, a person, or a person inside a unit (a unit head passing it on)."""

    __tablename__ = "assignments"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assignments.id"))
    due_date: Mapped[dt.date | None]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    assigned_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]
    # The local date the work was done: statistics judge "on time" by it (stored, because a
    # UTC-to-Hà-Nội date conversion cannot be written the same way in PostgreSQL and SQLite).
    finished_on: Mapped[dt.date | None]
    comment: Mapped[str | None] = mapped_column(Text)

    document: Mapped[Document] = relationship(back_populates="assignments")
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="joined")

    __table_args__ = (
        Index("ix_assignments_document_id", "document_id"),
        Index("ix_assignments_user_state", "user_id", "state"),
        Index("ix_assignments_unit_state", "unit_id", "state"),
        # Open work of a person, of a unit (waiting for its head): migration 0026_counters.
        Index(
            "ix_assignments_open_user",
            "user_id",
            "document_id",
            postgresql_where=text(OPEN_WORK_SQL),
            sqlite_where=text(OPEN_WORK_SQL),
        ),
        Index(
            "ix_assignments_open_unit",
            "unit_id",
            "document_id",
            postgresql_where=text(OPEN_UNIT_WORK_SQL),
            sqlite_where=text(OPEN_UNIT_WORK_SQL),
        ),
    )


class TrailEntry(IdMixin, Base):
    """One step of the processing trail (danh sách cá nhân xử lý); append-only."""

    __tablename__ = "document_trail"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    seq: Mapped[int]
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    unit_name: Mapped[str | None] = mapped_column(String(255))
    on_behalf_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_name: Mapped[str | None] = mapped_column(String(255))
    competence: Mapped[str | None] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("document_id", "seq"),)
