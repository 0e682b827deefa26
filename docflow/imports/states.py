"""The states of a one-time activation code: issued (waiting), used once, or expired; an
expired or used code cannot be used again."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from docflow.errors import ValidationError


class ActivationState(StrEnum):
    ISSUED = "issued"
    USED = "used"
    EXPIRED = "expired"


class ActivationAction(StrEnum):
    USE = "use"


TRANSITIONS: dict[tuple[ActivationState, ActivationAction], ActivationState] = {
    (ActivationState.ISSUED, ActivationAction.USE): ActivationState.USED,
}


def activation_state(
    used_at: dt.datetime | None, expires_at: dt.datetime, now: dt.datetime
) -> ActivationState:
    if used_at is not None:
        return ActivationState.USED
    if expires_at <= now:
        return ActivationState.EXPIRED
    return ActivationState.ISSUED


def next_state(state: ActivationState, action: ActivationAction) -> ActivationState:
    """The state after ``action``; a used or expired code is refused (422, the same answer as
    a wrong code, so that nobody learns which codes exist)."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise ValidationError.field(
            "code", "Mã kích hoạt không đúng, đã dùng hoặc đã hết hạn.", code="invalid_activation"
        ) from None
