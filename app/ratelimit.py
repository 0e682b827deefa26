"""Rate limits of the public (no login) endpoints, shared by every process through the database.

A fixed-window counter per (bucket, client) and per bucket for all clients together, incremented
atomically with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (PostgreSQL and SQLite), so any
number of gunicorn workers and hosts agree. The client is the peer address of the request (an
IPv6 client by its /64, which one subscriber usually holds whole). Counted before the work
starts, refused requests included; over the limit answers 429 ``rate_limited`` with a
``Retry-After`` header. Expired windows are deleted as new ones begin.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from flask import request
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from app.errors import ApiError
from app.runtime import Runtime
from docflow.models import RateCounter


@dataclass(frozen=True)
class Limit:
    """``count`` requests per ``window`` seconds."""

    count: int
    window: int


class RateLimited(ApiError):
    """429 with the seconds to wait in ``details.retry_after`` (and the Retry-After header)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "rate_limited",
            f"Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau {retry_after} giây.",
            {"retry_after": retry_after},
        )
        self.retry_after = retry_after


def client_of(remote_addr: str | None) -> str:
    """The key of a client: its IPv4 address, or the /64 of an IPv6 one."""
    try:
        addr = ipaddress.ip_address((remote_addr or "").split("%", 1)[0])
    except ValueError:
        return remote_addr or "unknown"
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{addr}/64", strict=False))
    return str(addr)


def _hit(rt: Runtime, key: str, limit: Limit, now: float) -> int | None:
    """Count one request for ``key``; the seconds to wait when over the limit, else None."""
    window_start = int(now // limit.window) * limit.window
    expires = window_start + limit.window
    with rt.session_factory() as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(RateCounter).values(
            key=key[:200], window_start=window_start, count=1, expires=expires
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=[RateCounter.key, RateCounter.window_start],
            set_={"count": RateCounter.count + 1},
        ).returning(RateCounter.count)
        count = int(session.execute(upsert).scalar_one())
        if count == 1:  # a new window: forget the expired ones (any key)
            session.execute(delete(RateCounter).where(RateCounter.expires < int(now)))
        session.commit()
    if count > limit.count:
        return max(1, math.ceil(expires - now))
    return None


def check_rate(rt: Runtime, bucket: str, per_client: Limit, overall: Limit | None = None) -> None:
    """Count this request against ``bucket``; raise :class:`RateLimited` when over a limit."""
    now = rt.clock().timestamp()
    wait = _hit(rt, f"{bucket}:client:{client_of(request.remote_addr)}", per_client, now)
    if wait is None and overall is not None:
        wait = _hit(rt, f"{bucket}:all", overall, now)
    if wait is not None:
        raise RateLimited(wait)


def check_key(rt: Runtime, key: str, limit: Limit) -> None:
    """Count this request against an explicit ``key`` (e.g. a phone number's); raise
    :class:`RateLimited` when over ``limit``."""
    wait = _hit(rt, key, limit, rt.clock().timestamp())
    if wait is not None:
        raise RateLimited(wait)
