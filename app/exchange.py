"""Wiring the national exchange: the axis client from DHTN_AXIS_*, the polling job, the
status-message handler, and registering this installation's organisations with the axis."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.config import Settings
from app.runtime import Runtime, runtime
from docflow.models import Organization
from docflow.services.dispatch import TOPIC_STATE_CHANGED
from docflow.uow import UnitOfWork
from interop.axis_client import AxisClient
from interop.exchange import STATUS_TOPIC, queue_status, receive_from_axis, send_status
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
    return receive_from_axis(rt.uow, client) + receive_statuses(rt.uow, client)


def send_to_axis(rt: Runtime) -> int:
    """Job: send queued external deliveries (urgent first)."""
    client = axis_client(rt.settings)
    if client is None:
        return 0
    return send_queued(rt.uow, client) + send_revocations(rt.uow, client)


def register_agencies(rt: Runtime) -> int:
    """Job: make sure the axis knows our organisations' codes (idempotent on the axis)."""
    client = axis_client(rt.settings)
    if client is None:
        return 0
    with rt.session_factory() as s:
        orgs = list(s.scalars(select(Organization).where(Organization.active.is_(True))))
    known = {a.code for a in client.get_agencies()}
    for org in orgs:
        if org.code not in known:
            client.register_agency(org.code, org.name)
    return len(orgs)


def init_exchange(app: Flask) -> None:
    rt = runtime(app)

    def handle_status(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        client = axis_client(rt.settings)
        if client is None:
            raise RuntimeError("the national exchange is not configured (DHTN_AXIS_*)")
        send_status(uow, payload, client)

    rt.handlers[STATUS_TOPIC] = handle_status

    # One topic, two listeners: the internal sender's delivery (docflow) and, for documents
    # that came through the axis, the status message back to the external sender.
    internal = rt.handlers.get(TOPIC_STATE_CHANGED)

    def on_state_changed(uow: UnitOfWork, payload: dict[str, Any]) -> None:
        if internal is not None:
            internal(uow, payload)
        queue_status(
            uow,
            uuid.UUID(payload["document_id"]),
            str(payload["status_code"]),
            str(payload.get("reason") or ""),
        )

    rt.handlers[TOPIC_STATE_CHANGED] = on_state_changed
