"""What the axis answers, as frozen dataclasses, and how its JSON is read.

The axis's JSON is read leniently (the SDKs and hubs name the same things differently:
``DocId``/``docId``/``id``, ``data``/``knobsticks``...); an answer that is not JSON, or not
``status: OK``, is refused with an :class:`~interop.errors.AxisError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from interop.errors import (
    AxisAuthError,
    AxisConflictError,
    AxisError,
    AxisNotFoundError,
    AxisProtocolError,
    AxisRequestError,
)


@dataclass(frozen=True)
class SentEdoc:
    """The axis's answer to a send, with what the caller needs to dedupe."""

    doc_id: str  # the axis's id of the message
    sha256: str  # of the package bytes (the hash-file header)
    size: int
    document_id: str  # the edXML DocumentId (or, for a status, the one it answers)
    duplicate: bool  # the axis already had this message: doc_id is the first send's


@dataclass(frozen=True)
class Delivery:
    """Where a sent message stands at one recipient (transport status)."""

    code: str
    status: str
    updated_at: str = ""


@dataclass(frozen=True)
class EdocInfo:
    """An entry of getReceivedEdocList / getSentEdocList."""

    doc_id: str
    from_code: str
    to: tuple[str, ...]
    messagetype: str
    status: str  # for the caller's side: new, processing, fail (done ones are no longer listed)
    sha256: str
    size: int
    document_id: str
    created_at: str
    deliveries: tuple[Delivery, ...] = ()  # sent list only


@dataclass(frozen=True)
class Agency:
    """An organisation of the axis's directory."""

    code: str
    name: str
    parent_code: str = ""
    system_id: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""


@dataclass(frozen=True)
class DownloadedEdoc:
    doc_id: str
    sha256: str
    size: int


def read_json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise AxisProtocolError(reason="answer is not JSON") from None
    finally:
        response.close()
    if not isinstance(data, dict):
        raise AxisProtocolError(reason="answer is not a JSON object")
    if str(data.get("status", "OK")).upper() not in ("OK", "SUCCESS"):
        raise AxisRequestError(
            str(data.get("ErrorDesc") or AxisRequestError.default_message),
            axis_code=data.get("ErrorCode"),
        )
    return data


def read_items(response: requests.Response) -> list[dict[str, Any]]:
    data = read_json(response)
    items = data.get("data", data.get("knobsticks", []))
    if not isinstance(items, list):
        raise AxisProtocolError(reason="list answer without a data list")
    return [item for item in items if isinstance(item, dict)]


def edoc_content(data: dict[str, Any]) -> str:
    inner = data.get("data")
    content = inner.get("content") if isinstance(inner, dict) else data.get("content")
    if not isinstance(content, str):
        raise AxisProtocolError(reason="getEdoc answer without content")
    return content


def _text(item: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = item.get(name)
        if value is not None:
            return str(value)
    return ""


def edoc_info(item: Mapping[str, Any]) -> EdocInfo:
    to = item.get("to", [])
    recipients = tuple(str(code) for code in to) if isinstance(to, list) else (str(to),)
    deliveries = item.get("deliveries", [])
    return EdocInfo(
        doc_id=_text(item, "DocId", "docId", "id"),
        from_code=_text(item, "from"),
        to=recipients,
        messagetype=_text(item, "messagetype"),
        status=_text(item, "status"),
        sha256=_text(item, "hash-file", "sha256"),
        size=int(item.get("size") or 0),
        document_id=_text(item, "document_id"),
        created_at=_text(item, "created_time", "created_at"),
        deliveries=tuple(
            Delivery(_text(d, "code"), _text(d, "status"), _text(d, "updated_at"))
            for d in (deliveries if isinstance(deliveries, list) else [])
            if isinstance(d, dict)
        ),
    )


def agency(item: Mapping[str, Any]) -> Agency:
    return Agency(
        code=_text(item, "code"),
        name=_text(item, "name"),
        parent_code=_text(item, "parent_code", "pid"),
        system_id=_text(item, "system_id"),
        address=_text(item, "address"),
        email=_text(item, "email", "mail"),
        phone=_text(item, "phone"),
        website=_text(item, "website"),
    )


def refusal(call: str, response: requests.Response) -> AxisError:
    try:
        data = response.json()
    except ValueError:
        data = {}
    finally:
        response.close()
    data = data if isinstance(data, dict) else {}
    details = {"call": call, "status": response.status_code, "axis_code": data.get("ErrorCode")}
    message = str(data.get("ErrorDesc") or "") or None
    kind: type[AxisError]
    if response.status_code in (401, 403):
        kind = AxisAuthError
    elif response.status_code == 404:
        kind = AxisNotFoundError
    elif response.status_code == 409:
        kind = AxisConflictError
    else:
        kind = AxisRequestError
    return kind(message, **details)
