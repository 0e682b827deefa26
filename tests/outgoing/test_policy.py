"""The outgoing policy on plain values: no database. "Who may sign" is answered here."""

from __future__ import annotations

import unicodedata
import uuid

import pytest

from docflow.actors import Actor, DelegatedRole
from docflow.enums import Role
from docflow.outgoing.policy import (
    OutgoingFacts,
    decide,
    may_be_signer,
    may_draft,
    may_edit,
    may_handle_deliveries,
    may_sign,
    names_in_certificate,
)
from docflow.outgoing.states import OutgoingAction as A
from docflow.outgoing.states import OutgoingState as S

ORG = uuid.uuid4()


def person(*roles: Role, delegated: tuple[DelegatedRole, ...] = ()) -> Actor:
    return Actor(
        user_id=uuid.uuid4(),
        username="x",
        full_name="X",
        organization_id=ORG,
        organization_path="/1/",
        unit_id=None,
        roles=frozenset(roles),
        delegated=delegated,
    )


def test_drafters_and_signers_by_role() -> None:
    assert may_draft({Role.SPECIALIST}) and may_draft({Role.LEADER})
    assert not may_draft({Role.CLERK}) and not may_draft(set())
    assert may_be_signer({Role.LEADER}) and may_be_signer({Role.UNIT_HEAD})
    assert not may_be_signer({Role.SPECIALIST}) and not may_be_signer({Role.CLERK})


def test_who_may_sign() -> None:
    signer, other = person(Role.LEADER), person(Role.LEADER)
    approved = OutgoingFacts(S.APPROVED, signer_user_id=signer.user_id)
    assert may_sign(signer, approved) and not may_sign(other, approved)
    # In review: only once it waits for the signer.
    waiting = OutgoingFacts(
        S.IN_REVIEW, signer_user_id=signer.user_id, submitted_to_id=signer.user_id
    )
    elsewhere = OutgoingFacts(
        S.IN_REVIEW, signer_user_id=signer.user_id, submitted_to_id=other.user_id
    )
    assert decide(signer, waiting, A.SIGN).allowed
    assert not decide(signer, elsewhere, A.SIGN).allowed
    # A signer asked to sign an issued document may (403 is not the answer): the table says 409.
    assert decide(signer, OutgoingFacts(S.ISSUED, signer_user_id=signer.user_id), A.SIGN).allowed


def test_review_moves() -> None:
    drafter, reviewer = person(Role.SPECIALIST), person(Role.UNIT_HEAD)
    draft = OutgoingFacts(S.DRAFT, created_by_id=drafter.user_id)
    assert decide(drafter, draft, A.SUBMIT_FOR_REVIEW).allowed
    assert not decide(reviewer, draft, A.SUBMIT_FOR_REVIEW).allowed
    review = OutgoingFacts(
        S.IN_REVIEW, created_by_id=drafter.user_id, submitted_to_id=reviewer.user_id
    )
    assert decide(reviewer, review, A.SUBMIT_FOR_REVIEW).allowed  # up the chain
    assert not decide(drafter, review, A.SUBMIT_FOR_REVIEW).allowed
    assert decide(reviewer, review, A.REQUEST_CHANGES).allowed
    assert not decide(drafter, review, A.REQUEST_CHANGES).allowed
    assert not decide(reviewer, review, A.APPROVE).allowed  # approving is the signer's
    signing = OutgoingFacts(
        S.IN_REVIEW, submitted_to_id=reviewer.user_id, signer_user_id=reviewer.user_id
    )
    assert decide(reviewer, signing, A.APPROVE).allowed


def test_may_edit_is_the_holder_while_the_draft_may_change() -> None:
    drafter, reviewer = person(Role.SPECIALIST), person(Role.LEADER)
    facts = OutgoingFacts(S.DRAFT, created_by_id=drafter.user_id)
    assert may_edit(drafter, facts) and not may_edit(reviewer, facts)
    review = OutgoingFacts(
        S.IN_REVIEW, created_by_id=drafter.user_id, submitted_to_id=reviewer.user_id
    )
    assert may_edit(reviewer, review) and not may_edit(drafter, review)
    assert not may_edit(drafter, OutgoingFacts(S.SIGNED, created_by_id=drafter.user_id))


def test_clerks_issue_dispatch_recall_and_a_delegated_clerk_is_recorded() -> None:
    boss = uuid.uuid4()
    for action in (A.ISSUE, A.DISPATCH, A.RECALL):
        assert decide(person(Role.CLERK), OutgoingFacts(S.SIGNED), action).allowed
        assert not decide(person(Role.LEADER), OutgoingFacts(S.SIGNED), action).allowed
    deputy = person(
        Role.SPECIALIST, delegated=(DelegatedRole(Role.CLERK, boss, "B", "TL.", uuid.uuid4()),)
    )
    d = decide(deputy, OutgoingFacts(S.SIGNED), A.ISSUE)
    assert d.allowed and d.acting is not None and d.acting.delegator_id == boss


def test_deliveries_are_the_sending_organisations_clerks() -> None:
    assert may_handle_deliveries(person(Role.CLERK), ORG)
    assert not may_handle_deliveries(person(Role.CLERK), uuid.uuid4())
    assert not may_handle_deliveries(person(Role.LEADER), ORG)


@pytest.mark.parametrize(
    ("subject", "name", "named"),
    [
        ("Nguyễn Văn A", "Nguyễn Văn A", True),
        ("NGUYỄN VĂN A | Ủy ban MTTQ Việt Nam tỉnh Tây Ninh", "Nguyễn Văn A", True),
        ("Nguyễn  Văn   A", "Nguyễn Văn A", True),  # spacing aside
        (unicodedata.normalize("NFD", "Nguyễn Văn A"), "Nguyễn Văn A", True),
        ("Nguyễn Văn An", "Nguyễn Văn A", False),  # another person: was let through
        ("Trần Nguyễn Văn A", "Nguyễn Văn A", False),
        (
            "Nguyễn Văn A | Ủy ban MTTQ Việt Nam tỉnh Tây Ninh",
            "Ủy ban MTTQ Việt Nam tỉnh Tây Ninh",
            True,
        ),
        ("Nguyễn Văn A1", "Nguyễn Văn A", False),
        ("Ủy ban MTTQ Việt Nam tỉnh Hà Nam", "Ủy ban MTTQ Việt Nam tỉnh Hà", False),
        ("Nguyễn Văn A", "", False),
    ],
)
def test_a_certificate_names_the_person_whole(subject: str, name: str, named: bool) -> None:
    """The certificate of a personal or remote signature must name the signer (and a seal's,
    the organisation) whole, not as part of a longer name (write review, side note)."""
    assert names_in_certificate(subject, name) is named
