"""Organisations (cơ quan, tổ chức) in a tree of up to four levels, and their units (ban, phòng)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docflow.db import Base, IdMixin, utcnow
from docflow.enums import OrgLevel


class Organization(IdMixin, Base):
    __tablename__ = "organizations"

    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    abbreviation: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(13), unique=True)
    # Materialised path "/<root id>/…/<own id>/": a subtree is one indexed prefix scan.
    path: Mapped[str] = mapped_column(String(400))
    address: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    parent: Mapped[Organization | None] = relationship(remote_side="Organization.id")

    __table_args__ = (
        Index("ix_organizations_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
        Index("ix_organizations_parent_id", "parent_id"),
    )

    @property
    def org_level(self) -> OrgLevel:
        return OrgLevel(self.level)


class Unit(IdMixin, Base):
    __tablename__ = "units"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    name: Mapped[str] = mapped_column(String(255))
    abbreviation: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()

    __table_args__ = (
        UniqueConstraint("organization_id", "abbreviation"),
        Index("ix_units_organization_id", "organization_id"),
    )
