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
from docflow.tasks.files import TaskFileRefusedError, Upload, open_attachment
from docflow.tasks.queries import (
    Box,
    PersonRef,
    TaskView,
    TrailStep,
    get_attachment,
    get_task,
    list_tasks,
    task_trail,
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
    "TaskFileRefusedError",
    "TaskState",
    "TaskView",
    "TrailStep",
    "Upload",
    "act_on_task",
    "create_subtask",
    "create_task",
    "deadline_status",
    "get_attachment",
    "get_task",
    "last_working_day",
    "list_tasks",
    "open_attachment",
    "send_task_reminders",
    "task_trail",
]
