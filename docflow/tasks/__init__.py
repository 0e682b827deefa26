"""Assigned tasks (giao nhiệm vụ): the state machine, who may do what, the use cases, the
derived deadline facts (overdue, days late in working days) and the reminders.

Services: :func:`create_task`, :func:`create_subtask`, :func:`act_on_task` (every action of
API.md §5), :func:`get_task`, :func:`list_tasks`, :func:`task_trail`,
:func:`send_task_reminders`.
"""

from docflow.tasks.commands import (
    ActionCommand,
    CreateSubtask,
    CreateTask,
    Party,
    TaskActionRequest,
)
from docflow.tasks.deadlines import DeadlineStatus, deadline_status, last_working_day
from docflow.tasks.files import open_attachment
from docflow.tasks.policy import assigns_in_own_unit_only, can_view, may_assign, sees_every_task
from docflow.tasks.queries import (
    Box,
    PersonRef,
    TaskView,
    TrailStep,
    count_overdue,
    get_attachment,
    get_task,
    list_tasks,
    task_trail,
    visible_clause,
)
from docflow.tasks.reminders import send_task_reminders
from docflow.tasks.services import act_on_task, create_subtask, create_task
from docflow.tasks.states import Priority, TaskAction, TaskState

__all__ = [
    "ActionCommand",
    "Box",
    "CreateSubtask",
    "CreateTask",
    "DeadlineStatus",
    "Party",
    "PersonRef",
    "Priority",
    "TaskAction",
    "TaskActionRequest",
    "TaskState",
    "TaskView",
    "TrailStep",
    "act_on_task",
    "assigns_in_own_unit_only",
    "can_view",
    "count_overdue",
    "create_subtask",
    "create_task",
    "deadline_status",
    "get_attachment",
    "get_task",
    "last_working_day",
    "list_tasks",
    "may_assign",
    "open_attachment",
    "sees_every_task",
    "send_task_reminders",
    "task_trail",
    "visible_clause",
]
