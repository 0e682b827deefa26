"""One-time activation codes of accounts created by an import (no password travels in a file)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base, IdMixin, utcnow


class UserActivation(IdMixin, Base):
    """A code the person types (or a link they open) once, before ``expires_at``, to choose
    their password. Only the SHA-256 of the code is stored."""

    __tablename__ = "user_activations"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_user_activations_user_id", "user_id"),)


class DocumentImport(IdMixin, Base):
    """A document brought in from an old system, and from what: the manifest (or edXML package)
    and its row. ``identity`` is what makes a second run skip it: ``register:<register id>:<number>``
    (organisation, register, year and number) or ``edxml:<DocumentId>``."""

    __tablename__ = "document_imports"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    identity: Mapped[str] = mapped_column(String(600))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    source: Mapped[str] = mapped_column(String(500))
    source_row: Mapped[int | None]
    imported_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("organization_id", "identity"),
        Index("ix_document_imports_document_id", "document_id"),
    )
