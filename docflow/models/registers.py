"""Registers (sổ văn bản) and their yearly number series."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docflow.db import Base, IdMixin, utcnow
from docflow.enums import Direction
from docflow.models.org import Organization


class Register(IdMixin, Base):
    """One series of numbers: per organisation, direction and year (secret series apart).

    ``last_number`` is the allocator's counter: it only moves inside the transaction that uses
    the number, so a rollback gives the number back (no gap) and the row lock serialises
    concurrent allocations (no duplicate).
    """

    __tablename__ = "registers"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    direction: Mapped[str] = mapped_column(String(16))
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    secret_series: Mapped[bool] = mapped_column(default=False)
    last_number: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()

    __table_args__ = (
        UniqueConstraint("organization_id", "direction", "year", "name"),
        Index("ix_registers_organization_id", "organization_id"),
    )

    @property
    def direction_enum(self) -> Direction:
        return Direction(self.direction)
