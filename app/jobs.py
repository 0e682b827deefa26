"""Periodic jobs: what the scheduler (Celery beat, or the embedded worker's beat) runs.

Each job is a plain function ``job(runtime) -> int`` (how many things it did) that calls docflow
services; ``JOBS`` maps its name to the function and its period in seconds (or the setting that
holds it). ``make_celery`` turns each entry into a Celery task ``dhtn.job.<name>`` and a beat
schedule entry; the jobs of ``AT_WORKER_START`` also run as soon as a worker is ready (the
beat's first tick of an interval comes only after one interval). Jobs must be idempotent: two
schedulers, or a restart, may run one twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.config import Settings
from app.runtime import Runtime
from docflow.tasks import send_task_reminders


@dataclass(frozen=True)
class Job:
    run: Callable[[Runtime], int]
    every_seconds: float
    # The Settings attribute that overrides the period (e.g. DHTN_AXIS_POLL_SECONDS).
    setting: str | None = None

    def period(self, settings: Settings) -> float:
        if self.setting is None:
            return self.every_seconds
        return float(getattr(settings, self.setting))


def task_reminders(rt: Runtime) -> int:
    """Deadline reminders of tasks (sent once each: see docflow.tasks.reminders), with the
    runtime's clock, ``DHTN_REMINDER_DAYS`` working days ahead."""
    return send_task_reminders(rt.uow(), days_before=rt.settings.reminder_days)


def feedback_reminders(rt: Runtime) -> int:
    """Deadline reminders of citizen feedback (sent once each), ``DHTN_REMINDER_DAYS`` ahead."""
    from docflow.feedback import send_feedback_reminders

    return send_feedback_reminders(rt.uow(), days_before=rt.settings.reminder_days)


def feedback_retention(rt: Runtime) -> int:
    """Daily: erase the senders' details kept longer than their organisation's retention."""
    from docflow.feedback import erase_expired_senders

    return erase_expired_senders(rt.uow())


def dossier_transfer_reminders(rt: Runtime) -> int:
    """Closed dossiers due for the archive: their keepers are reminded once (see
    docflow.dossiers.reminders)."""
    from docflow.dossiers.reminders import send_transfer_reminders

    return send_transfer_reminders(rt.uow())


def sweep_orphans(rt: Runtime) -> int:
    """Daily: remove stored objects no row references, once older than a day."""
    from docflow.objects import sweep

    return len(sweep(rt.uow, rt.store).deleted)


def poll_axis(rt: Runtime) -> int:
    from app.exchange import poll_axis as poll

    return poll(rt)


def send_to_axis(rt: Runtime) -> int:
    from app.exchange import send_to_axis as send

    return send(rt)


def register_agencies(rt: Runtime) -> int:
    from app.exchange import register_agencies as register

    return register(rt)


def audit_chain_reads(rt: Runtime) -> int:
    """Append recorded changes and logged reads to their organisation's chains (see
    docflow.audit); the name stays for existing schedules."""
    from docflow.audit import chain_all_pending

    return chain_all_pending(rt.uow())


def audit_checkpoint(rt: Runtime) -> int:
    """Daily: each organisation's chain heads, sealed and timestamped, into the object store."""
    from docflow.audit import BackendCheckpoints, write_checkpoints

    return len(write_checkpoints(rt.uow(), BackendCheckpoints(rt.store)))


def refresh_agencies(rt: Runtime) -> int:
    from app.exchange import refresh_agencies as refresh

    return refresh(rt)


def start_exchange(rt: Runtime) -> int:
    from app.exchange import start_exchange as start

    return start(rt)


def reports_roll_forward(rt: Runtime) -> int:
    """Carry the pre-aggregated statistics to today (open items turn overdue as days pass)."""
    from docflow.reports import roll_forward

    return roll_forward(rt.uow())


def periodic_reports(rt: Runtime) -> int:
    """Open the report requests of the periods that have begun; remind of those due within
    ``DHTN_REMINDER_DAYS`` days and on the day; mark the unsubmitted ones whose deadline has
    passed as late (in-app notices)."""
    from docflow.reports import generate_due_requests, mark_late_requests, remind_report_requests

    opened = generate_due_requests(rt.uow())
    reminded = remind_report_requests(rt.uow(), days_before=rt.settings.reminder_days)
    return opened + reminded + mark_late_requests(rt.uow())


JOBS: dict[str, Job] = {
    # Changes and reads wait at most this long before they are chained (the window
    # docflow.audit names).
    "audit_chain_reads": Job(audit_chain_reads, 30),
    "audit_checkpoint": Job(audit_checkpoint, 24 * 3600),
    # Decision 28/2018: received documents are processed without waiting; poll every minute.
    "axis_receive": Job(poll_axis, 60, "axis_poll_seconds"),
    # Decision 28/2018: sent the day of signing, urgent ones at once: the queue goes every 30 s.
    "axis_send": Job(send_to_axis, 30, "axis_send_seconds"),
    # Registrations that are due (new or renamed organisations, a day old); cheap otherwise.
    "axis_agencies": Job(register_agencies, 3600),
    # The directory of external organisations (getAgenciesList).
    "axis_directory": Job(refresh_agencies, 24 * 3600, "axis_directory_seconds"),
    "sweep_orphans": Job(sweep_orphans, 24 * 3600),
    # Every 15 minutes: a reminder goes out early in the working day, and a missed run (the
    # worker was down) costs a quarter of an hour, not a day.
    "task_reminders": Job(task_reminders, 15 * 60),
    "feedback_reminders": Job(feedback_reminders, 15 * 60),
    "feedback_retention": Job(feedback_retention, 24 * 3600),
    # Decree 30: closed dossiers reach the archive within a year; reminded once each.
    "dossier_transfer_reminders": Job(dossier_transfer_reminders, 6 * 3600),
    # Hourly: the first run after midnight carries the statistics to the new day.
    "reports_roll_forward": Job(reports_roll_forward, 3600),
    "periodic_reports": Job(periodic_reports, 3600),
}

# Run once as soon as a worker is ready (not scheduled: Celery's signal worker_ready).
AT_WORKER_START: dict[str, Callable[[Runtime], int]] = {"exchange_start": start_exchange}
