"""The national axis's directory of organisations, as this installation knows it.

``ExternalAgency`` is the copy of the axis's ``getAgenciesList`` (refreshed daily and at worker
start), searchable by name and code without diacritics. ``AxisRegistration`` remembers what this
installation last told the axis about each of its own organisations (``registerAgency``), so that
a new or renamed organisation, or a stale registration, is registered again before a send.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base, utcnow


class ExternalAgency(Base):
    """An organisation of the axis's directory (any system's, ours included)."""

    __tablename__ = "external_agencies"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str] = mapped_column(String(64), default="")
    system_id: Mapped[str] = mapped_column(String(128), default="")
    # fold(name) | fold(code): "van phong chinh phu | 000.00.00.g01"
    search_text: Mapped[str] = mapped_column(Text, default="")
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_external_agencies_name", "name", "code"),
        # Trigram index on PostgreSQL (the migration creates it there only).
        Index(
            "ix_external_agencies_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class AxisRegistration(Base):
    """What the axis was last told about one of our organisations, and when."""

    __tablename__ = "axis_registrations"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str] = mapped_column(String(64), default="")
    registered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
