"""The mixed workload of ``locustfile.py``, every answer written down (for the fault and soak
runs): one line per request in ``DHTN_LOAD_REQUEST_LOG`` — the time it started (epoch seconds),
the status code (0: no answer), the request type, and for a registration the server accepted
(201) the document's id, so that the run can check afterwards that every document a client was
told is registered is in the database."""

from __future__ import annotations

import os
import threading
from typing import Any

from locust import events

from bench.load.locustfile import Clerk, Leader, Specialist

__all__ = ["Clerk", "Leader", "Specialist"]

_LOG = open(os.environ["DHTN_LOAD_REQUEST_LOG"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115
_LOCK = threading.Lock()


@events.request.add_listener  # type: ignore[untyped-decorator]
def _record(
    request_type: str,
    name: str,
    response: Any = None,
    exception: Any = None,
    start_time: float = 0.0,
    response_time: float = 0.0,
    **_: Any,
) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    doc = ""
    if status == 201 and request_type == "POST" and name.startswith("POST /api/v1/incoming"):
        try:
            doc = str(response.json().get("id", ""))
        except ValueError:
            doc = ""
    with _LOCK:
        _LOG.write(f"{start_time:.3f}\t{status}\t{response_time:.0f}\t{name}\t{doc}\n")
