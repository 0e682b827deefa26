"""The one state machine of the directory: a request a second admin decides (raising someone's
clearance, making them an admin, resetting the password of an admin or of a cleared person;
see :mod:`docflow.directory.policy`). A request is decided once."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from docflow.errors import ConflictError


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class RequestAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


# What a list of requests may be filtered by: a state, or every request.
RequestFilter = Literal["pending", "approved", "rejected", "all"]
# What a list shows unless asked otherwise: the requests still waiting.
DEFAULT_REQUEST_FILTER: RequestFilter = "pending"

TRANSITIONS: dict[tuple[RequestState, RequestAction], RequestState] = {
    (RequestState.PENDING, RequestAction.APPROVE): RequestState.APPROVED,
    (RequestState.PENDING, RequestAction.REJECT): RequestState.REJECTED,
}


def next_state(state: str, action: RequestAction) -> RequestState:
    """The state after ``action``; 409 ``request_decided`` once the request was decided."""
    try:
        return TRANSITIONS[(RequestState(state), action)]
    except KeyError:
        raise ConflictError("Yêu cầu này đã được xử lý.", code="request_decided") from None
