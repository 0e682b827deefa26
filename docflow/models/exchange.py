"""The exchange log: every package and status message in or out of this installation."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from docflow.db import Base, IdMixin, utcnow

#: The longest axis message id kept: the polling round refuses a longer one unread.
AXIS_DOC_ID = 128


class ExchangeMessage(IdMixin, Base):
    """One package (``kind`` edoc) or status message (``kind`` status), incoming or outgoing.

    The unique key makes receiving idempotent: the same package for the same organisation is
    one document, however often it arrives (``status_code`` is "" for packages).
    """

    __tablename__ = "exchange_messages"

    direction: Mapped[str] = mapped_column(String(8))  # in | out
    kind: Mapped[str] = mapped_column(String(8))  # edoc | status | revoke
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    key: Mapped[str] = mapped_column(String(512))  # edXML DocumentId (interop.edxml.fields)
    status_code: Mapped[str] = mapped_column(String(4), default="")
    channel: Mapped[str] = mapped_column(String(16))  # manual | axis
    # The other side's OrganId: for a received package its sender, part of the unique key (a
    # second sender reusing a DocumentId is another package).
    peer_code: Mapped[str | None] = mapped_column(String(64))
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    axis_doc_id: Mapped[str | None] = mapped_column(String(AXIS_DOC_ID))
    sha256: Mapped[str | None] = mapped_column(String(64))
    # received | queued | sent | failed | refused; an outgoing package whose send ended without
    # the axis's answer (it may have left) is "unconfirmed" until a later send or a status of
    # the recipient confirms it; a revocation refused for a reason that may pass, "retrying".
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "direction",
            "kind",
            "organization_id",
            "key",
            "status_code",
            "peer_code",
            name="uq_exchange_messages_key",
        ),
        Index("ix_exchange_messages_document_id", "document_id"),
        Index("ix_exchange_messages_state", "state", "updated_at"),
    )


class AxisHeldPackage(Base):
    """A package the axis lists that the polling job holds back, by its axis id. Either:

    * it names a document we do not have yet (a revocation, an update, a replacement;
      ``reason`` ``revoke_unknown`` / ``update_unknown``): left on the axis for later rounds,
      as the axis promises no order and its document may come a round or more after it;
      refused (16) once it has waited ``DHTN_AXIS_WAIT_SECONDS`` since ``first_seen_at``,
      then refused at once while listed (its row no longer written to), and taken in if its
      document comes after all;
    * or it was refused for good (``reason``: the refusal's code): the axis lists a package
      acknowledged ``fail`` again, and it is not downloaded and read again each round.

    The row goes when the package is taken in, or a day after the axis last listed it."""

    __tablename__ = "axis_held_packages"

    axis_doc_id: Mapped[str] = mapped_column(String(AXIS_DOC_ID), primary_key=True)
    sender: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))  # the refusal's code (or the one it waits on)
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    rounds: Mapped[int] = mapped_column(default=1)
