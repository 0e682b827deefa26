"""Web Push (RFC 8030/8291/8292): a person's browsers and phones register push subscriptions,
and every in-app notification is also pushed to them from the worker.

Where to look: which endpoints DHTN sends to and what a push may say — :mod:`docflow.push.policy`;
registering and queueing — :mod:`docflow.push.services` (called by
``docflow.notifications.notify``); the one push an outbox message stands for —
:mod:`docflow.push.queries`. The sending itself (VAPID, encryption, the HTTP request) is the
app's, in ``app/push.py``, with ``pywebpush``.
"""

from docflow.push.commands import PushKeys, Subscribe, Unsubscribe
from docflow.push.policy import endpoint_problem, origin_of, shown_on_lock_screen
from docflow.push.queries import (
    PushToSend,
    SubscriptionView,
    push_to_send,
    readable_offline,
    subscriptions_of,
)
from docflow.push.services import (
    forget_subscription,
    mark_pushed,
    queue_pushes,
    subscribe,
    unsubscribe,
)
from docflow.push.states import MAX_SUBSCRIPTIONS, PUSH_TOPIC, PUSH_TTL, PushOutcome

__all__ = [
    "MAX_SUBSCRIPTIONS",
    "PUSH_TOPIC",
    "PUSH_TTL",
    "PushKeys",
    "PushOutcome",
    "PushToSend",
    "Subscribe",
    "SubscriptionView",
    "Unsubscribe",
    "endpoint_problem",
    "forget_subscription",
    "mark_pushed",
    "origin_of",
    "push_to_send",
    "queue_pushes",
    "readable_offline",
    "shown_on_lock_screen",
    "subscribe",
    "subscriptions_of",
    "unsubscribe",
]
