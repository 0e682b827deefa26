"""Transfer reminders (đôn đốc nộp lưu): a closed dossier must reach the archive within one
year of the end of its work. Its keeper hears once when the last day is ``days_before`` days
away (``transfer_soon``) and once when it has passed (``transfer_overdue``); each reminder is
claimed in ``reminders_sent`` (source ``dossier``) with ``ON CONFLICT DO NOTHING`` in the same
transaction as its notification, so a rerun or a second scheduler sends nothing twice. The
notification names the dossier by its code only (its title may be secret)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from docflow.dossiers.queries import transfer_due
from docflow.dossiers.states import DossierState
from docflow.models import Dossier, ReminderSent
from docflow.notifications import notify
from docflow.uow import UnitOfWork
from docflow.workdays import local_date

SOURCE = "dossier"


def _claim(uow: UnitOfWork, d: Dossier, kind: str, due: dt.date) -> bool:
    values = {
        "source": SOURCE,
        "item_id": d.id,
        "kind": kind,
        "due_date": due,
        "sent_at": uow.now(),
    }
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(ReminderSent).values(values).on_conflict_do_nothing().returning(ReminderSent.item_id)
    )
    return uow.session.execute(stmt).first() is not None


def send_transfer_reminders(uow: UnitOfWork, *, days_before: int = 30) -> int:
    """Remind the keepers of closed dossiers whose transfer is due soon or late; returns how
    many reminders went out."""
    sent = 0
    with uow:
        today = local_date(uow.now())
        # The last day is end_date + 1 year: due within the window means ended before this.
        horizon = today + dt.timedelta(days=days_before)
        ended_by = (
            horizon.replace(year=horizon.year - 1)
            if not (horizon.month == 2 and horizon.day == 29)
            else horizon.replace(year=horizon.year - 1, day=28)
        )
        rows = uow.session.scalars(
            select(Dossier)
            .where(Dossier.state == DossierState.CLOSED.value, Dossier.end_date <= ended_by)
            .order_by(Dossier.end_date, Dossier.id)
        )
        for d in rows:
            due = transfer_due(d)
            if due is None:
                continue
            kind = "transfer_overdue" if due < today else "transfer_soon"
            if not _claim(uow, d, kind, due):
                continue
            title = "Quá hạn nộp lưu hồ sơ" if kind == "transfer_overdue" else "Sắp đến hạn nộp lưu"
            notify(
                uow,
                [d.keeper_id],
                kind=f"dossier_{kind}",
                title=title,
                # The due day is the last one allowed: "chậm nhất", not "trước ngày".
                body=f"Hồ sơ số {d.code} (năm {d.year}): "
                + (
                    f"đã quá hạn nộp lưu (hạn chậm nhất ngày {due:%d/%m/%Y})."
                    if kind == "transfer_overdue"
                    else f"nộp lưu chậm nhất ngày {due:%d/%m/%Y}."
                ),
                link=f"/dossiers/{d.id}",
            )
            sent += 1
        uow.commit()
    return sent
