"""The task flow of API.md §5 through the services, on PostgreSQL: the transition table, every
action by every role, refusals that change nothing, sub-tasks, extensions, delegation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from docflow import ConflictError, NotFoundError, PermissionDeniedError, TransitionNotAllowedError
from docflow import ValidationError as DomainValidationError
from docflow.directory import CreateDelegation, create_delegation
from docflow.tasks.states import TRANSITIONS, TaskAction, TaskState, next_state
from tests.tasks.conftest import Tasks

D = dt.date

# ---------------------------------------------------------------------------- the table


EXPECTED = {
    ("assigned", "start"): "in_progress",
    ("assigned", "request_extension"): "assigned",
    ("assigned", "decide_extension"): "assigned",
    ("assigned", "split"): "in_progress",
    ("assigned", "submit_completion"): "awaiting_approval",
    ("assigned", "cancel"): "cancelled",
    ("assigned", "extended"): "assigned",
    ("in_progress", "report_progress"): "in_progress",
    ("in_progress", "request_extension"): "in_progress",
    ("in_progress", "decide_extension"): "in_progress",
    ("in_progress", "split"): "in_progress",
    ("in_progress", "submit_completion"): "awaiting_approval",
    ("in_progress", "cancel"): "cancelled",
    ("in_progress", "extended"): "in_progress",
    ("awaiting_approval", "approve_completion"): "done",
    ("awaiting_approval", "reject_completion"): "in_progress",
    ("awaiting_approval", "cancel"): "cancelled",
    ("awaiting_approval", "extended"): "awaiting_approval",
}


@pytest.mark.parametrize("state", list(TaskState))
@pytest.mark.parametrize("action", list(TaskAction))
def test_transition_table_is_exactly_the_flow(state: TaskState, action: TaskAction) -> None:
    expected = EXPECTED.get((state.value, action.value))
    if expected is None:
        with pytest.raises(TransitionNotAllowedError):
            next_state(state, action)
    else:
        assert next_state(state, action).value == expected
    assert len(TRANSITIONS) == len(EXPECTED)


def test_done_and_cancelled_are_terminal() -> None:
    assert not [a for (s, a) in TRANSITIONS if s in (TaskState.DONE, TaskState.CANCELLED)]


# ---------------------------------------------------------------------------- roles

# The task: lanhdao.tw assigns it to the DCGSPBXH unit (its head truongban.dcgs leads), with the
# TG unit co-operating (chuyenvien.tg is a member). chuyenvien.dcgs is a member of the lead
# unit without the head's role; vanthu.tw is of the organisation but unrelated; lanhdao.tinh is
# of another organisation.
PEOPLE = [
    "lanhdao.tw",
    "truongban.dcgs",
    "chuyenvien.dcgs",
    "chuyenvien.tg",
    "vanthu.tw",
    "lanhdao.tinh",
]
UNRELATED = {"vanthu.tw": "404", "lanhdao.tinh": "404"}

Setup = Callable[[Tasks, Any], None]


def _in_progress(t: Tasks, task: Any) -> None:
    t.act("truongban.dcgs", task.id, "start")


def _pending_extension(t: Tasks, task: Any) -> None:
    _in_progress(t, task)
    t.act(
        "truongban.dcgs",
        task.id,
        "request_extension",
        new_due_date="2026-12-11",
        reason="Chờ số liệu",
    )


def _awaiting(t: Tasks, task: Any) -> None:
    _in_progress(t, task)
    t.act("truongban.dcgs", task.id, "submit_completion", comment="Đã xong")


CASES: list[tuple[str, dict[str, Any], Setup, dict[str, str], str]] = [
    ("start", {}, lambda t, task: None, {"truongban.dcgs": "ok"}, "in_progress"),
    (
        "report_progress",
        {"percent": 40, "comment": "Đã có số liệu 3 tỉnh"},
        _in_progress,
        {"truongban.dcgs": "ok", "chuyenvien.tg": "ok"},
        "in_progress",
    ),
    (
        "request_extension",
        {"new_due_date": "2026-12-11", "reason": "Chờ số liệu"},
        _in_progress,
        {"truongban.dcgs": "ok"},
        "in_progress",
    ),
    (
        "decide_extension",
        {"approve": True},
        _pending_extension,
        {"lanhdao.tw": "ok"},
        "in_progress",
    ),
    (
        "submit_completion",
        {"comment": "Báo cáo đã gửi"},
        _in_progress,
        {"truongban.dcgs": "ok"},
        "awaiting_approval",
    ),
    ("approve_completion", {}, _awaiting, {"lanhdao.tw": "ok"}, "done"),
    (
        "reject_completion",
        {"comment": "Bổ sung số liệu"},
        _awaiting,
        {"lanhdao.tw": "ok"},
        "in_progress",
    ),
    ("cancel", {"reason": "Không còn cần thiết"}, _in_progress, {"lanhdao.tw": "ok"}, "cancelled"),
]


@pytest.mark.parametrize(
    ("action", "params", "setup", "allowed", "after"), CASES, ids=[c[0] for c in CASES]
)
def test_each_action_by_each_role(
    tasks: Tasks,
    action: str,
    params: dict[str, Any],
    setup: Setup,
    allowed: dict[str, str],
    after: str,
) -> None:
    """Each person tries the action on a fresh task in the right state: the allowed ones move
    it (one trail step, one audit entry); for the others nothing changes at all."""
    for who in PEOPLE:
        task = tasks.create(unit="DCGSPBXH", coop=({"unit_id": tasks.unit("TG")},))
        setup(tasks, task)
        before = tasks.row(task.id)
        trail_before, audit_before = len(tasks.trail(task.id)), tasks.audit_count(task.id)
        outcome = allowed.get(who) or UNRELATED.get(who) or "403"
        if outcome == "ok":
            view = tasks.act(who, task.id, action, **params)
            assert view.task.state == after, who
            steps = tasks.trail(task.id)
            assert len(steps) == trail_before + 1, who
            assert (steps[-1].action, steps[-1].from_state, steps[-1].to_state) == (
                action,
                before.state,
                after,
            )
            assert steps[-1].actor_id == tasks.uid(who)
            assert tasks.audit_count(task.id) == audit_before + 1
            continue
        error = NotFoundError if outcome == "404" else PermissionDeniedError
        with pytest.raises(error):
            tasks.act(who, task.id, action, **params)
        now = tasks.row(task.id)
        assert (now.state, now.due_date, now.progress, now.extension_due_date) == (
            before.state,
            before.due_date,
            before.progress,
            before.extension_due_date,
        ), who
        assert len(tasks.trail(task.id)) == trail_before, who
        assert tasks.audit_count(task.id) == audit_before, who


WRONG_STATE = [
    ("start", {}, _in_progress),
    ("report_progress", {"percent": 10}, lambda t, task: None),  # not started
    ("approve_completion", {}, _in_progress),
    ("reject_completion", {}, _in_progress),
    ("submit_completion", {"comment": "x"}, _awaiting),
    ("request_extension", {"new_due_date": "2026-12-30", "reason": "x"}, _awaiting),
]


@pytest.mark.parametrize(
    ("action", "params", "setup"), WRONG_STATE, ids=[c[0] for c in WRONG_STATE]
)
def test_actions_in_the_wrong_state_are_409_and_change_nothing(
    tasks: Tasks, action: str, params: dict[str, Any], setup: Setup
) -> None:
    task = tasks.create(unit="DCGSPBXH")
    setup(tasks, task)
    who = (
        "lanhdao.tw" if action in ("approve_completion", "reject_completion") else "truongban.dcgs"
    )
    before, n = tasks.row(task.id), len(tasks.trail(task.id))
    with pytest.raises(TransitionNotAllowedError) as err:
        tasks.act(who, task.id, action, **params)
    assert err.value.details == {"state": before.state, "action": action}
    assert tasks.row(task.id).state == before.state and len(tasks.trail(task.id)) == n


def test_nothing_moves_a_finished_task(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH")
    _awaiting(tasks, task)
    tasks.act("lanhdao.tw", task.id, "approve_completion")
    for who, action, params in [
        ("lanhdao.tw", "cancel", {"reason": "x"}),
        ("truongban.dcgs", "report_progress", {"percent": 5}),
        ("lanhdao.tw", "reject_completion", {}),
    ]:
        with pytest.raises(TransitionNotAllowedError):
            tasks.act(who, task.id, action, **params)
    assert tasks.row(task.id).state == "done"


# ---------------------------------------------------------------------------- the whole flow


def test_full_flow_records_every_move_and_derives_progress(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH", due=D(2026, 12, 4))
    assert task.task.state == "assigned" and task.task.lead_user_id is None
    child = tasks.split("truongban.dcgs", task.id, "chuyenvien.dcgs", due=D(2026, 12, 3))
    assert tasks.row(task.id).state == "in_progress"  # splitting starts the task
    assert child.task.assigner_id == tasks.uid("truongban.dcgs")
    tasks.act("chuyenvien.dcgs", child.task.id, "start")
    tasks.act("chuyenvien.dcgs", child.task.id, "report_progress", percent=50, comment="Một nửa")
    parent = tasks.view("lanhdao.tw", task.id)
    assert parent.children_progress == 50 and [c.task.progress for c in parent.children] == [50]
    # The parent cannot be reported done while a sub-task is open.
    with pytest.raises(ConflictError) as err:
        tasks.act("truongban.dcgs", task.id, "submit_completion", comment="xong")
    assert err.value.code == "subtasks_open"
    assert "submit_completion" not in [
        a.value for a in tasks.view("truongban.dcgs", task.id).allowed_actions
    ]
    tasks.act("chuyenvien.dcgs", child.task.id, "submit_completion", comment="Xong phần việc")
    tasks.act("truongban.dcgs", child.task.id, "approve_completion")
    assert tasks.view("lanhdao.tw", task.id).children_progress == 100
    tasks.act("truongban.dcgs", task.id, "submit_completion", comment="Báo cáo đã gửi")
    done = tasks.act("lanhdao.tw", task.id, "approve_completion", comment="Tốt")
    assert done.task.state == "done" and done.task.progress == 100
    assert done.task.submitted_on == D(2026, 11, 23) and done.status.done_late is False
    actions = [(e.action, e.to_state) for e in tasks.trail(task.id)]
    assert actions == [
        ("assign", "assigned"),
        ("split", "in_progress"),
        ("submit_completion", "awaiting_approval"),
        ("approve_completion", "done"),
    ]
    assert [e.seq for e in tasks.trail(child.task.id)] == [1, 2, 3, 4, 5]


def test_a_cooperators_progress_is_in_the_trail_not_the_task_figure(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH", coop=({"user_id": tasks.uid("chuyenvien.tg")},))
    tasks.act("truongban.dcgs", task.id, "start")
    tasks.act("truongban.dcgs", task.id, "report_progress", percent=30)
    tasks.act("chuyenvien.tg", task.id, "report_progress", percent=90, comment="Phần phối hợp")
    assert tasks.row(task.id).progress == 30
    last = tasks.trail(task.id)[-1]
    assert last.details == {"percent": 90, "by": "cooperating"} and last.comment == "Phần phối hợp"


def test_cancelling_a_task_cancels_its_open_subtasks(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH")
    child = tasks.split("truongban.dcgs", task.id, "chuyenvien.dcgs")
    tasks.act("lanhdao.tw", task.id, "cancel", reason="Dừng triển khai")
    assert tasks.row(child.task.id).state == "cancelled"
    last = tasks.trail(child.task.id)[-1]
    assert (last.action, last.actor_id, last.comment) == (
        "cancel",
        tasks.uid("lanhdao.tw"),
        "Dừng triển khai",
    )


# ---------------------------------------------------------------------------- extensions


def test_extension_granted_moves_the_deadline_refused_keeps_it(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH", due=D(2026, 12, 4))
    tasks.act(
        "truongban.dcgs", task.id, "request_extension", new_due_date="2026-12-11", reason="Chờ"
    )
    with pytest.raises(ConflictError) as err:  # one request at a time
        tasks.act(
            "truongban.dcgs", task.id, "request_extension", new_due_date="2026-12-18", reason="x"
        )
    assert err.value.code == "extension_pending"
    tasks.act("lanhdao.tw", task.id, "decide_extension", approve=False, comment="Không")
    row = tasks.row(task.id)
    assert row.due_date == D(2026, 12, 4) and row.extension_due_date is None
    with pytest.raises(ConflictError):  # nothing to decide any more
        tasks.act("lanhdao.tw", task.id, "decide_extension", approve=True)
    tasks.act(
        "truongban.dcgs", task.id, "request_extension", new_due_date="2026-12-11", reason="Chờ"
    )
    view = tasks.act("lanhdao.tw", task.id, "decide_extension", approve=True)
    assert view.task.due_date == D(2026, 12, 11) and view.task.original_due_date == D(2026, 12, 4)
    assert tasks.trail(task.id)[-1].details == {
        "approve": True,
        "from": "2026-12-04",
        "to": "2026-12-11",
    }


def test_extension_to_an_earlier_date_is_422_and_changes_nothing(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH", due=D(2026, 12, 4))
    with pytest.raises(DomainValidationError) as err:
        tasks.act(
            "truongban.dcgs", task.id, "request_extension", new_due_date="2026-12-04", reason="x"
        )
    assert "new_due_date" in err.value.details["fields"]
    assert tasks.row(task.id).extension_due_date is None and len(tasks.trail(task.id)) == 1


def test_subtask_extension_within_the_unit_deadline_is_the_unit_heads(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH", due=D(2026, 12, 4))
    child = tasks.split("truongban.dcgs", task.id, "chuyenvien.dcgs", due=D(2026, 12, 1))
    tasks.act(
        "chuyenvien.dcgs", child.task.id, "request_extension", new_due_date="2026-12-03", reason="x"
    )
    with pytest.raises(PermissionDeniedError):
        tasks.act("lanhdao.tw", child.task.id, "decide_extension", approve=True)
    tasks.act("truongban.dcgs", child.task.id, "decide_extension", approve=True)
    assert tasks.row(child.task.id).due_date == D(2026, 12, 3)
    assert tasks.row(task.id).due_date == D(2026, 12, 4)


def test_subtask_extension_beyond_the_unit_deadline_goes_to_the_leader(tasks: Tasks) -> None:
    task = tasks.create(unit="DCGSPBXH", due=D(2026, 12, 4))
    child = tasks.split("truongban.dcgs", task.id, "chuyenvien.dcgs", due=D(2026, 12, 4))
    tasks.act(
        "chuyenvien.dcgs",
        child.task.id,
        "request_extension",
        new_due_date="2026-12-11",
        reason="Chờ tỉnh",
    )
    view = tasks.view("lanhdao.tw", child.task.id)
    assert view.extension_decider is not None and view.extension_decider.id == tasks.uid(
        "lanhdao.tw"
    )
    assert [a.value for a in view.allowed_actions] == ["decide_extension"]
    assert "task_extension_requested" in [n.kind for n in tasks.inbox("lanhdao.tw")]
    with pytest.raises(PermissionDeniedError):  # more time than the unit has: not the head's call
        tasks.act("truongban.dcgs", child.task.id, "decide_extension", approve=True)
    tasks.act("lanhdao.tw", child.task.id, "decide_extension", approve=True)
    assert tasks.row(child.task.id).due_date == D(2026, 12, 11)
    assert tasks.row(task.id).due_date == D(2026, 12, 11)  # the unit's deadline moved with it
    extended = tasks.trail(task.id)[-1]
    assert (extended.action, extended.details["subtask_id"]) == ("extended", str(child.task.id))


# ---------------------------------------------------------------------------- creation rules


def test_deadline_in_working_days_skips_the_weekend(tasks: Tasks) -> None:
    tasks.set_today(D(2026, 11, 26))  # Thursday
    view = tasks.create(user="chuyenvien.dcgs", days=3)
    assert view.task.due_date == D(2026, 12, 1)  # Fri, Mon, Tue
    assert view.status.days_left == 3


def test_who_may_assign_to_whom(tasks: Tasks) -> None:
    # A unit head assigns only to people of their unit.
    ok = tasks.create("truongban.dcgs", user="chuyenvien.dcgs")
    assert ok.task.assigner_id == tasks.uid("truongban.dcgs")
    with pytest.raises(DomainValidationError) as err:
        tasks.create("truongban.dcgs", user="chuyenvien.tg")
    assert "lead" in err.value.details["fields"]
    with pytest.raises(PermissionDeniedError):
        tasks.create("chuyenvien.dcgs", user="chuyenvien.tg")
    # Nobody assigns to another organisation's people.
    with pytest.raises(DomainValidationError):
        tasks.create("lanhdao.tw", user="chuyenvien.tinh")
    # A task "from a document" needs a document of the organisation.
    with pytest.raises(DomainValidationError) as err:
        tasks.create(unit="TG", document_id="0190d6a0-0000-7000-8000-000000000000")
    assert "document_id" in err.value.details["fields"]


def test_past_deadline_and_subtask_beyond_parent_are_refused(tasks: Tasks) -> None:
    with pytest.raises(DomainValidationError):
        tasks.create(unit="DCGSPBXH", due=D(2026, 11, 20))
    task = tasks.create(unit="DCGSPBXH", due=D(2026, 12, 4))
    with pytest.raises(DomainValidationError):
        tasks.split("truongban.dcgs", task.id, "chuyenvien.dcgs", due=D(2026, 12, 7))
    with pytest.raises(DomainValidationError):  # a sub-task goes to someone of the unit
        tasks.split("truongban.dcgs", task.id, "chuyenvien.tg")
    with pytest.raises(PermissionDeniedError):
        tasks.split("chuyenvien.dcgs", task.id, "chuyenvien.dcgs")
    assert tasks.row(task.id).state == "assigned" and len(tasks.trail(task.id)) == 1


def test_visibility(tasks: Tasks) -> None:
    task = tasks.create(user="chuyenvien.dcgs")
    assert tasks.view("truongban.dcgs", task.id).task.id == task.id  # head of the person's unit
    assert tasks.view("chuyenvien.dcgs", task.id).allowed_actions  # the lead
    for outsider in ("chuyenvien.tg", "vanthu.tw", "lanhdao.tinh", "lanhdao.phuong"):
        with pytest.raises(NotFoundError):
            tasks.view(outsider, task.id)


# ---------------------------------------------------------------------------- delegation


def test_a_delegate_decides_for_the_leader_and_the_trail_names_both(tasks: Tasks) -> None:
    demo = tasks.demo
    create_delegation(
        demo.uow(),
        demo.actor("lanhdao.tw"),
        CreateDelegation(
            delegator_id=tasks.uid("lanhdao.tw"),
            delegate_id=tasks.uid("vanthu.tw"),
            roles=["leader"],
            competence="KT.",
            start_date=D(2026, 11, 23),
            end_date=D(2026, 11, 30),
        ),
    )
    task = tasks.create(unit="DCGSPBXH")
    _awaiting(tasks, task)
    tasks.act("vanthu.tw", task.id, "approve_completion", comment="Thay lãnh đạo")
    last = tasks.trail(task.id)[-1]
    assert (last.actor_id, last.on_behalf_of_id, last.competence) == (
        tasks.uid("vanthu.tw"),
        tasks.uid("lanhdao.tw"),
        "KT.",
    )
