"""The outbox's wiring: each topic is a constant of the module that owns it, and a topic with
several listeners lists them all (none wraps another, whatever the order of registration)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_no_topic_is_a_bare_string() -> None:
    bare = []
    for package in ("app", "docflow", "interop"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("enqueue", "add")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and "." in node.args[0].value
                ):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == []


def test_every_topic_has_its_listeners(app: Any) -> None:
    from app.runtime import runtime
    from docflow import directory as agencies
    from docflow.documents import queries as documents
    from docflow.notifications import EMAIL_TOPIC
    from docflow.outgoing import dispatch
    from docflow.outgoing import versions as outgoing_versions
    from interop import exchange

    handlers = runtime(app).handlers
    assert handlers[dispatch.TOPIC_STATE_CHANGED] == [
        dispatch.record_recipient_status,
        exchange.on_state_changed,
    ]
    assert handlers[documents.TOPIC_VERIFY_SIGNATURES] == [documents.verify_document_signatures]
    assert handlers[outgoing_versions.TOPIC_CONVERT] == [outgoing_versions.convert_draft_version]
    assert handlers[dispatch.TOPIC_DELIVER] == [dispatch.deliver_internal]
    assert handlers[dispatch.TOPIC_RECALL] == [dispatch.recall_internal]
    for topic in (exchange.STATUS_TOPIC, agencies.TOPIC_REGISTER, EMAIL_TOPIC):
        assert len(handlers[topic]) == 1
