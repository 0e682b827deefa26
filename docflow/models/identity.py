"""People, their roles, delegations (ủy quyền), sessions, API tokens, login throttling and
requests to raise someone's privileges."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docflow.db import Base, IdMixin, utcnow
from docflow.enums import Role, Secrecy
from docflow.models.org import Organization, Unit


class User(IdMixin, Base):
    __tablename__ = "users"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    position: Mapped[str | None] = mapped_column(String(255))  # chức vụ
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    clearance: Mapped[str] = mapped_column(String(16), default=Secrecy.NONE.value)
    active: Mapped[bool] = mapped_column(default=True)
    signature_image_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    # Joined: services hand users to views after their session closed.
    organization: Mapped[Organization] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (
        Index("ix_users_organization_id", "organization_id"),
        Index("ix_users_unit_id", "unit_id"),
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    @property
    def clearance_level(self) -> Secrecy:
        return Secrecy(self.clearance)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)

    # The people page's role filter finds a rare role's holders first (migration 0026).
    __table_args__ = (Index("ix_user_roles_role_user", "role", "user_id"),)


class Delegation(IdMixin, Base):
    """A leader lets someone act in some of their roles for a bounded period."""

    __tablename__ = "delegations"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    delegator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    delegate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    roles: Mapped[list[str]]
    # The authority prefix the delegate signs with: "TUQ.", "KT.", "TL.", "Q.".
    competence: Mapped[str] = mapped_column(String(8), default="TUQ.")
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]

    delegator: Mapped[User] = relationship(foreign_keys=[delegator_id], lazy="joined")
    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id], lazy="joined")

    __table_args__ = (
        Index("ix_delegations_delegate_id", "delegate_id"),
        Index("ix_delegations_organization_id", "organization_id"),
    )

    def active_on(self, day: dt.date) -> bool:
        return self.revoked_at is None and self.start_date <= day <= self.end_date


class ApiToken(IdMixin, Base):
    """An opaque bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)


class UserSession(IdMixin, Base):
    """A signed-in browser. The signed cookie carries only this row's id, so the server can end
    one session (logout), all but one (password change) or all (log out everywhere)."""

    __tablename__ = "user_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Refreshed at most every few minutes (not on every request): the idle limit counts from it.
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]  # absolute end, whatever the activity
    revoked_at: Mapped[dt.datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"),)


class LoginThrottle(Base):
    """Failed logins in the current window, per bucket.

    ``key`` is ``<scope>:<bucket>`` (see docflow.login_throttle): the (account, client) pair,
    the account and the client are hashed into a fixed number of buckets each, and a known
    account also has its own row (``user:<id>``). However many usernames an attacker invents,
    the table never holds more rows than the buckets plus the users.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]


class PrivilegeRequest(IdMixin, Base):
    """Raising someone's clearance or making them an admin waits for a second admin.

    ``roles`` (the complete new set) and ``clearance`` hold what was asked; null = unchanged.
    ``password_hash``: an admin's reset of the password of an admin or of a cleared person (who
    could otherwise be impersonated by the one resetting); applied on approval, then wiped.
    """

    __tablename__ = "privilege_requests"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    roles: Mapped[list[str] | None]
    clearance: Mapped[str | None] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]

    @property
    def password_reset(self) -> bool:
        """A password reset (it asks for no role and no clearance)."""
        return self.roles is None and self.clearance is None

    # Loaded with the request (services hand it to views), in separate queries so that the
    # request row alone can be locked.
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="selectin")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="selectin")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="selectin")

    __table_args__ = (
        Index("ix_privilege_requests_organization_id", "organization_id", "state"),
        Index("ix_privilege_requests_user_id", "user_id"),
    )
