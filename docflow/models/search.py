"""Text of document files and the full-text index of documents (docflow.search)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, TypeDecorator
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base, utcnow


class TSVector(TypeDecorator[str]):
    """PostgreSQL ``tsvector``; plain text elsewhere (SQLite leaves it empty)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TSVECTOR())
        return dialect.type_descriptor(Text())


class FileText(Base):
    """What was read from one document file: the text, per page, and how it was read."""

    __tablename__ = "file_texts"

    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_files.id"), primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    # text_layer (a PDF's own text) | docx | plain | ocr (Tesseract through OCRmyPDF)
    method: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    # [{"page": 1, "text": "...", "confidence": 0.93 | null, "status": "done" | "failed"}]
    pages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    confidence: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_file_texts_document_id", "document_id"),)


class DocumentSearch(Base):
    """One document's searchable body: the folded text of its files (accents and case removed,
    đ→d) and, on PostgreSQL, its ``tsvector`` (config ``simple`` over the folded text: Vietnamese
    words are syllables, so no stemming), GIN-indexed together with the organisation
    (``btree_gin``) so a search reads only the caller's organisation's postings."""

    __tablename__ = "document_search"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    # Copies of the document's (triggers keep them): a search filters and orders on this row
    # alone before it touches ``documents``.
    secrecy_rank: Mapped[int] = mapped_column(default=0, server_default="0")
    listed_at: Mapped[dt.datetime | None]
    meta: Mapped[str] = mapped_column(Text, default="", server_default="")  # folded metadata
    body: Mapped[str] = mapped_column(Text, default="")
    # Stored, weighted (A: meta, B: body), computed by a trigger when meta or body changes.
    tsv: Mapped[str | None] = mapped_column(TSVector())
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_document_search_tsv", "organization_id", "tsv", postgresql_using="gin"),
        Index("ix_document_search_org_listed", "organization_id", "listed_at", "document_id"),
        # Part of a notation ("15/kh"): trigram, with the organisation (btree_gin).
        Index(
            "ix_document_search_meta",
            "organization_id",
            "meta",
            postgresql_using="gin",
            postgresql_ops={"meta": "gin_trgm_ops"},
        ),
    )


class TaskFileText(Base):
    """What was read from one task attachment (the task's own files are searched by the task
    list, within the tasks the reader may see)."""

    __tablename__ = "task_file_texts"

    attachment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("task_attachments.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    method: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # folded, for search
    tsv: Mapped[str | None] = mapped_column(TSVector())
    pages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    confidence: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_task_file_texts_task_id", "task_id"),
        Index("ix_task_file_texts_tsv", "organization_id", "tsv", postgresql_using="gin"),
    )
