"""The push capability's constants: the outbox topic, how long a push is worth sending, and
what became of one attempt."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

#: One outbox message per (notification, subscription): each endpoint is retried on its own.
PUSH_TOPIC = "push.send"
#: A push older than this is dropped rather than sent late (also the push service's TTL).
PUSH_TTL = dt.timedelta(hours=24)
#: Subscriptions one person may hold (browsers and phones); the oldest goes beyond it.
MAX_SUBSCRIPTIONS = 20


class PushOutcome(StrEnum):
    """What one send did (the worker logs it; only ``RETRY`` leaves the message pending)."""

    DELIVERED = "delivered"  # the push service accepted it (201)
    GONE = "gone"  # 404/410: the subscription expired or was withdrawn; it is removed
    REFUSED = "refused"  # another 4xx, a redirect, or an endpoint the policy refuses: dropped
    STALE = "stale"  # older than PUSH_TTL, or its notification/subscription no longer exists
    RETRY = "retry"  # 429, 5xx, network: the outbox tries again with backoff
