"""The login throttle's rule: who may try a password now.

Every failed login counts against three counters, each over a fixed window:

- the (account, client) pair: after ``pair_limit`` failures *that client* may not try *that
  account* for ``lockout``; the rightful user, logging in from elsewhere, is not slowed;
- the client: after ``client_limit`` failures over any accounts the client is refused
  (password spraying from one address);
- the account: after ``account_limit`` failures from anywhere (a much higher ceiling) the account
  is refused to everyone for ``lockout`` (guessing spread over many addresses).

A client is its IP address; an IPv6 client is its /64 network, which one attacker usually holds
whole. Counters live in ``login_throttles`` under keys hashed (HMAC with the installation's key,
so nobody can aim at another's bucket) into a fixed number of buckets per scope; a known account
has its own row. The table therefore never holds more than
``pair_buckets + client_buckets + account_buckets`` rows plus one per user, however many
usernames and addresses an attacker invents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Counter:
    """One counter a failed login adds to: its row key and the failures that lock it."""

    key: str
    limit: int


@dataclass(frozen=True)
class ThrottlePolicy:
    pair_limit: int = 5
    client_limit: int = 30
    account_limit: int = 100
    window: dt.timedelta = dt.timedelta(minutes=15)
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    pair_buckets: int = 1 << 18
    client_buckets: int = 1 << 16
    account_buckets: int = 1 << 16
    # The HMAC key of the bucket hash; the application derives it from its secret key.
    key: bytes = b"dhtn-login-throttle"

    @property
    def max_bucket_rows(self) -> int:
        """The most rows the buckets can take (known accounts add one row each)."""
        return self.pair_buckets + self.client_buckets + self.account_buckets

    def _bucket(self, scope: str, value: str, buckets: int) -> int:
        digest = hmac.new(self.key, f"{scope}\x00{value}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") % buckets

    def counters(
        self, username: str, client: str | None, user_id: uuid.UUID | None
    ) -> list[Counter]:
        """The counters of one login attempt, in a fixed order (rows are locked in it)."""
        who = client_key(client)
        account = (
            f"user:{user_id}"
            if user_id is not None
            else f"acct:{self._bucket('acct', username, self.account_buckets)}"
        )
        pair = self._bucket("pair", f"{username}\x00{who}", self.pair_buckets)
        counters = [
            Counter(account, self.account_limit),
            Counter(
                f"client:{self._bucket('client', who, self.client_buckets)}", self.client_limit
            ),
            Counter(f"pair:{pair}", self.pair_limit),
        ]
        return sorted(counters, key=lambda c: c.key)


def client_key(client: str | None) -> str:
    """The address a client is counted under: IPv4 as is, IPv6 by its /64 network."""
    if not client:
        return "unknown"
    try:
        ip = ipaddress.ip_address(client.strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
