"""The audit log's hash chain detects changed, removed and reordered entries."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from docflow import audit
from docflow.models import AuditEntry
from tests.conftest import Demo


def _append(demo: Demo, n: int) -> None:
    actor = demo.actor("admin")
    for i in range(n):
        uow = demo.uow()
        with uow:
            audit.record(uow, "test_event", actor=actor, details={"i": i, "text": "Kế hoạch"})
            uow.commit()
    audit.chain_all_pending(demo.uow())  # the job (or the log page, a checkpoint, verify)


def test_chain_verifies_when_untouched(demo: Demo) -> None:
    _append(demo, 5)
    with demo.factory() as s:
        report = audit.verify(s)
    assert report.ok and report.entries >= 6  # the seed's own entry plus five


def test_changed_entry_is_detected(demo: Demo) -> None:
    _append(demo, 5)
    with demo.factory() as s, s.begin():
        target = s.scalars(select(AuditEntry).where(AuditEntry.event == "test_event")).first()
        assert target is not None
        s.execute(update(AuditEntry).where(AuditEntry.id == target.id).values(details={"i": 99}))
    with demo.factory() as s:
        report = audit.verify(s)
    assert not report.ok
    assert [p.problem for p in report.problems] == ["entry altered"]


def test_removed_entry_is_detected(demo: Demo) -> None:
    _append(demo, 5)
    with demo.factory() as s, s.begin():
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.event == "test_event").order_by(AuditEntry.seq)
        ).all()
        s.execute(delete(AuditEntry).where(AuditEntry.id == entries[2].id))
    with demo.factory() as s:
        problems = {p.problem for p in audit.verify(s).problems}
    assert any(p.startswith("missing seq") for p in problems)
    assert "broken link to previous" in problems


def test_rewritten_tail_with_recomputed_hash_is_caught_by_the_head(demo: Demo) -> None:
    _append(demo, 3)
    with demo.factory() as s, s.begin():
        last = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.event == "test_event")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert last is not None
        last.details = {"i": 1000}
        last.hash = audit.entry_hash(last)  # a forger recomputes the entry's own hash…
    with demo.factory() as s:
        problems = [p.problem for p in audit.verify(s).problems]
    assert problems == ["head does not match last entry"]  # …but not the chain head


def test_entries_under_delegation_name_both_people(demo: Demo) -> None:
    from docflow.actors import DelegatedRole
    from docflow.enums import Role

    actor = demo.actor("truongban.dcgs")
    lead = demo.actor("lanhdao.tw")
    acting = DelegatedRole(Role.LEADER, lead.user_id, lead.full_name, "KT.", lead.user_id)
    uow = demo.uow()
    with uow:
        entry_id = audit.record(uow, "signed", actor=actor, acting_as=acting)
        uow.commit()
    with demo.factory() as s:
        entry = s.get_one(AuditEntry, entry_id)
    assert (entry.actor_name, entry.on_behalf_of_name) == ("Phạm Thị Hạnh", "Lê Văn Minh")
