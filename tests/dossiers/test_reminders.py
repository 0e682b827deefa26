"""Transfer reminders: the keeper of a closed dossier hears once before the last day of the
transfer (one year after the end of the work) and once after it; a transferred one is quiet."""

from __future__ import annotations

from sqlalchemy import select

from docflow.dossiers.reminders import send_transfer_reminders
from docflow.models import Notification
from tests.conftest import Demo
from tests.dossiers.conftest import Dossiers


def _kinds(demo: Demo, username: str) -> list[str]:
    with demo.factory() as s:
        return list(
            s.scalars(
                select(Notification.kind)
                .where(
                    Notification.user_id == demo.user(username).id,
                    Notification.kind.like("dossier_%"),
                )
                .order_by(Notification.created_at)
            )
        )


def test_transfer_reminders_once_each(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    closed = d.opened(code="NL.01")
    d.file("chuyenvien.dcgs", closed, document_id=d.done_incoming())
    end = d.ok("chuyenvien.dcgs", closed, "close")["end_date"]
    gone = d.opened(code="NL.02")
    d.file("chuyenvien.dcgs", gone, document_id=d.done_incoming())
    d.ok("chuyenvien.dcgs", gone, "close")
    d.ok("chuyenvien.dcgs", gone, "transfer")
    assert end.startswith("2026-")
    assert send_transfer_reminders(demo.uow()) == 0  # a year ahead: nothing yet
    demo.clock.advance(days=345)  # within 30 days of the last day
    assert send_transfer_reminders(demo.uow()) == 1
    assert send_transfer_reminders(demo.uow()) == 0
    demo.clock.advance(days=30)  # past it
    assert send_transfer_reminders(demo.uow()) == 1
    assert send_transfer_reminders(demo.uow()) == 0
    assert _kinds(demo, "chuyenvien.dcgs") == ["dossier_transfer_soon", "dossier_transfer_overdue"]
    with demo.factory() as s:
        bodies = list(
            s.scalars(select(Notification.body).where(Notification.kind.like("dossier_%")))
        )
    assert all("NL.01" in b for b in bodies)
