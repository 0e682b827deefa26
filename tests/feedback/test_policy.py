"""Who may do what with citizen feedback, and the state table: plain values, no database."""

from __future__ import annotations

import uuid

import pytest

from docflow.enums import Role
from docflow.errors import TransitionNotAllowedError
from docflow.feedback import policy
from docflow.feedback.commands import FeedbackActionRequest, SubmitFeedback, normalise_phone
from docflow.feedback.poster import place_slug, poster_url
from docflow.feedback.states import (
    Complexity,
    FeedbackAction,
    FeedbackState,
    allowed_in,
    next_state,
)

A, B = uuid.uuid4(), uuid.uuid4()


def test_officers_of_the_organisation_see_it_nobody_else() -> None:
    assert policy.can_view(A, {Role.CLERK}, A)
    assert policy.can_view(A, {Role.FEEDBACK_OFFICER}, A)
    assert policy.can_view(A, {Role.LEADER}, A)
    assert not policy.can_view(A, {Role.SPECIALIST, Role.UNIT_HEAD, Role.ADMIN}, A)
    assert not policy.can_view(B, {Role.LEADER}, A)


def test_clerks_receive_leaders_and_officers_decide() -> None:
    for action in (FeedbackAction.ACCEPT, FeedbackAction.CLASSIFY, FeedbackAction.DISCARD):
        assert policy.may_act({Role.CLERK}, action)
    for action in (FeedbackAction.ANSWER, FeedbackAction.FORWARD, FeedbackAction.CLOSE):
        assert not policy.may_act({Role.CLERK}, action)
        assert policy.may_act({Role.FEEDBACK_OFFICER}, action)
        assert policy.may_act({Role.LEADER}, action)


def test_sender_shown_to_the_first_box_or_with_consent_never_after_erasure() -> None:
    kw = {"share_contact": False, "erased": False}
    assert policy.can_see_sender(A, {Role.CLERK}, A, is_root=True, **kw)
    assert not policy.can_see_sender(A, {Role.LEADER}, A, is_root=False, **kw)
    assert policy.can_see_sender(
        A, {Role.LEADER}, A, is_root=False, share_contact=True, erased=False
    )
    assert not policy.can_see_sender(
        A, {Role.LEADER}, A, is_root=True, share_contact=True, erased=True
    )
    assert not policy.can_see_sender(B, {Role.LEADER}, A, is_root=True, **kw)


def test_state_table() -> None:
    S, Ac = FeedbackState, FeedbackAction
    assert next_state(S.RECEIVED, Ac.CLASSIFY) is S.ACCEPTED
    assert next_state(S.ACCEPTED, Ac.ASSIGN) is S.IN_PROGRESS
    assert next_state(S.IN_PROGRESS, Ac.ANSWER) is S.ANSWERED
    assert next_state(S.ANSWERED, Ac.CLOSE) is S.CLOSED
    assert next_state(S.FORWARDED, Ac.ANSWERED_BY_RECEIVER) is S.ANSWERED
    with pytest.raises(TransitionNotAllowedError):
        next_state(S.RECEIVED, Ac.ANSWER)
    with pytest.raises(TransitionNotAllowedError):
        next_state(S.CLOSED, Ac.REJECT)
    assert Ac.ANSWERED_BY_RECEIVER not in allowed_in(S.FORWARDED)
    assert Complexity.SIMPLE.working_days == 7 and Complexity.COMPLEX.working_days == 20


def test_commands_validate_what_people_type() -> None:
    assert normalise_phone("+84 912.345.678") == "0912345678"
    cmd = SubmitFeedback.model_validate(
        {
            "organization_code": "x",
            "content": "Nội dung đủ dài",
            "consent": True,
            "phone": "0912 345 678",
            "email": "",
        }
    )
    assert cmd.phone == "0912345678" and cmd.email is None
    for bad in ({"consent": False}, {"phone": "12"}, {"email": "a@b"}, {"content": "ngắn"}):
        with pytest.raises(ValueError):
            SubmitFeedback.model_validate(
                {"organization_code": "x", "content": "Nội dung đủ dài", "consent": True, **bad}
            )
    with pytest.raises(ValueError):
        FeedbackActionRequest.model_validate({"action": "forward"})
    with pytest.raises(ValueError):
        FeedbackActionRequest.model_validate({"action": "answered_by_receiver"})


def test_poster_addresses() -> None:
    assert place_slug("Tổ dân phố số 3 (Đồng Tâm)") == "to-dan-pho-so-3-dong-tam"
    assert poster_url("https://a.vn/", "000.01.01.Z01") == "https://a.vn/gop-y/000.01.01.Z01"
