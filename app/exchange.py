"""Wiring the national exchange: the axis client from DHTN_AXIS_*, the polling and sending
jobs, the status-message handler, registering this installation's organisations with the axis
(at worker start, hourly, when an organisation is created or renamed, before a send) and the
directory of external organisations (at worker start and daily)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from app.config import Settings
from app.metrics import AXIS_DOCUMENTS, AXIS_EXCHANGE
from app.runtime import Runtime, runtime
from interop import directory, exchange
from interop.axis_client import AxisClient
from interop.directory import refresh_directory, register_due
from interop.errors import AxisError
from interop.exchange import receive_from_axis
from interop.outbox import receive_statuses, send_queued, send_revocations

log = logging.getLogger(__name__)


def axis_client(settings: Settings) -> AxisClient | None:
    if not (settings.axis_url and settings.axis_system_id and settings.axis_secret):
        return None
    return AxisClient(settings.axis_url, settings.axis_system_id, settings.axis_secret)


def poll_axis(rt: Runtime) -> int:
    """Job: receive what the axis holds for us (nothing to do when exchange is off)."""
    client = axis_client(rt.settings)
    if client is None:
        return 0
    with client, counted("received") as moved:
        wait = dt.timedelta(seconds=rt.settings.axis_wait_seconds)
        moved.append(
            receive_from_axis(rt.uow, client, wait=wait) + receive_statuses(rt.uow, client)
        )
    return moved[0]


def send_to_axis(rt: Runtime) -> int:
    """Job: send queued external deliveries (urgent first); a refused send is retried with
    backoff starting at the sending period."""
    client = axis_client(rt.settings)
    if client is None:
        return 0
    base = dt.timedelta(seconds=rt.settings.axis_send_seconds)
    with client, counted("sent") as moved:
        moved.append(
            send_queued(rt.uow, client, retry_base=base)
            + send_revocations(rt.uow, client, retry_base=base)
        )
    return moved[0]


@contextmanager
def counted(direction: str) -> Iterator[list[int]]:
    """Count one run of an exchange job (ok or error) and the documents it moved."""
    moved: list[int] = []
    try:
        yield moved
    except Exception:
        AXIS_EXCHANGE.labels(direction, "error").inc()
        raise
    AXIS_EXCHANGE.labels(direction, "ok").inc()
    AXIS_DOCUMENTS.labels(direction).inc(sum(moved))


def register_agencies(rt: Runtime, *, force: bool = False) -> int:
    """Job: tell the axis about our organisations it does not know yet, or under an old name,
    or not for a day (``force``: all of them); returns how many it was told about."""
    client = axis_client(rt.settings)
    if client is None:
        return 0
    with client:
        return register_due(rt.uow, client, force=force)


def refresh_agencies(rt: Runtime) -> int:
    """Job: the axis's directory of organisations into ours (daily, and at worker start)."""
    client = axis_client(rt.settings)
    if client is None:
        return 0
    with client:
        return refresh_directory(rt.uow, client)


def start_exchange(rt: Runtime) -> int:
    """At worker start: register our organisations, then read the axis's directory, so that a
    fresh installation can send and receive at once. Failures are logged (the hourly job, the
    check before each send and the sending retries cover an axis that is down now)."""
    if axis_client(rt.settings) is None:
        return 0
    done = 0
    for step in (register_agencies, refresh_agencies):
        try:
            done += step(rt)
        except AxisError as exc:
            log.warning("exchange start-up: %s failed: %s", step.__name__, exc)
    return done


def init_exchange(app: Flask) -> None:
    """The exchange's outbox handlers, each registered by the package that owns it."""
    rt = runtime(app)
    exchange.register_outbox_handlers(rt.handlers, lambda: axis_client(rt.settings))
    directory.register_outbox_handlers(rt.handlers, rt.uow, lambda: axis_client(rt.settings))
