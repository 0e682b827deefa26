"""Reference data that admins maintain: the holiday calendar and the document types."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base


class Holiday(Base):
    """A day that breaks the Monday-Friday rule: a weekday off, or a weekend day worked."""

    __tablename__ = "holidays"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))


class DocumentType(Base):
    """Tên loại văn bản (Decree 30 Art. 7) and its notation abbreviation; editable data."""

    __tablename__ = "document_types"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)  # API doc_type
    name: Mapped[str] = mapped_column(String(128))
    abbreviation: Mapped[str] = mapped_column(String(8))  # "" for Công văn, Thư công
    edxml_type: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
