"""The badges count what the boxes list (issue 20): ``GET /me/counters`` ``waiting`` is the total
of the ``inbox`` box of both directions and ``overdue`` those of them past their deadline plus
the caller's own late tasks, for several roles, with documents of every reason to wait, secret
documents above the caller's clearance, documents of another organisation, a document waiting
for two reasons, and closed work that must not count.

The counters are one UNION of index ranges (``docflow.documents.access.waiting_documents``); the
boxes are the list query with ``visible_clause``: two ways to the same numbers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from docflow.enums import Secrecy
from docflow.models import Assignment, Document, Unit, User
from docflow.phone import queries as phone_queries
from docflow.workdays import last_working_day, load_window, local_date
from tests.conftest import Demo

pytestmark = pytest.mark.pg

LATE = dt.date(2026, 9, 1)  # weeks before the test clock's today: late by any rule
LATER = dt.date(2027, 6, 1)  # far ahead: not late


def _cutoff(demo: Demo) -> dt.date:
    """Late means at least one working day past the deadline (the task lists' rule)."""
    with demo.factory() as s:
        today = local_date(demo.clock())
        return last_working_day(load_window(s, today, today), today)


def _box_total(
    client: Any, headers: dict[str, str], direction: str, cutoff: dt.date
) -> tuple[int, int]:
    """Every page of ``box=inbox`` of one direction: (documents, of them late)."""
    total = late = 0
    cursor = None
    while True:
        url = f"/api/v1/documents?box=inbox&direction={direction}&limit=7"
        r = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert r.status_code == 200, r.json
        for item in r.json["items"]:
            total += 1
            due = item.get("due_date")
            late += bool(due and dt.date.fromisoformat(due) < cutoff)
        cursor = r.json.get("next_cursor")
        if not cursor:
            return total, late


def _late_tasks(client: Any, headers: dict[str, str]) -> int:
    r = client.get("/api/v1/tasks?box=mine&overdue=true&limit=200", headers=headers)
    assert r.status_code == 200, r.json
    return len(r.json["items"])


def _seed(demo: Demo) -> None:
    """Documents waiting for every reason, some secret, some elsewhere, some closed."""
    tw, tinh = demo.org_id("tw"), demo.org_id("tinh")
    with demo.factory() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        unit = s.scalars(select(Unit.id).where(Unit.abbreviation == "DCGSPBXH")).one()
        leader, clerk = users["lanhdao.tw"], users["vanthu.tw"]
        head, staff = users["truongban.dcgs"], users["chuyenvien.dcgs"]
        now = demo.clock()
        n = 0

        def doc(
            direction: str,
            state: str,
            *,
            org: uuid.UUID = tw,
            secrecy: Secrecy = Secrecy.NONE,
            due: dt.date | None = LATER,
            **extra: Any,
        ) -> Document:
            nonlocal n
            n += 1
            d = Document(
                organization_id=org,
                direction=direction,
                state=state,
                notation=f"{n}/KH-COUNT",
                doc_type="KH",
                subject=f"Văn bản đếm {n}",
                issued_date=dt.date(2026, 11, 20),
                listed_at=now - dt.timedelta(minutes=n),
                secrecy=secrecy.value,
                secrecy_rank=secrecy.rank,
                due_date=due,
                source="paper" if direction == "incoming" else "drafted",
                search_text=f"van ban dem {n}",
                created_at=now,
                updated_at=now,
                **extra,
            )
            s.add(d)
            s.flush()
            return d

        def assign(d: Document, **who: Any) -> None:
            role = who.pop("role", "lead")
            state = who.pop("state", "pending")
            s.add(Assignment(document=d, role=role, state=state, assigned_by_id=leader.id, **who))

        for secrecy in (Secrecy.NONE, Secrecy.SECRET, Secrecy.TOP_SECRET):
            for due in (LATE, LATER, None):
                # The clerk's: to register, registered; to issue, issued.
                doc("incoming", "arrived", secrecy=secrecy, due=due)
                doc("incoming", "registered", secrecy=secrecy, due=due)
                doc("outgoing", "signed", secrecy=secrecy, due=due)
                doc("outgoing", "issued", secrecy=secrecy, due=due)
                # The leader's: presented to them; drafts to review and to sign.
                doc("incoming", "submitted", secrecy=secrecy, due=due, submitted_to_id=leader.id)
                doc("outgoing", "in_review", secrecy=secrecy, due=due, submitted_to_id=leader.id)
                doc("outgoing", "approved", secrecy=secrecy, due=due, signer_user_id=leader.id)
                # The unit's (its head's), a person's, both on one document.
                assign(doc("incoming", "assigned", secrecy=secrecy, due=due), unit_id=unit)
                assign(
                    doc("incoming", "in_progress", secrecy=secrecy, due=due),
                    unit_id=unit,
                    role="cooperating",
                    state="in_progress",
                )
                assign(doc("incoming", "assigned", secrecy=secrecy, due=due), user_id=staff.id)
                both = doc("incoming", "assigned", secrecy=secrecy, due=due)
                assign(both, unit_id=unit)
                assign(both, user_id=head.id, unit_id=unit)
                # Drafts written by the specialist, one sent back to them.
                doc("outgoing", "draft", secrecy=secrecy, due=due, created_by_id=staff.id)
                doc(
                    "outgoing",
                    "changes_requested",
                    secrecy=secrecy,
                    due=due,
                    created_by_id=staff.id,
                )
            # Not waiting for anyone here: closed, informed only, passed on, done, elsewhere.
            doc("incoming", "done", secrecy=secrecy, due=LATE)
            doc("outgoing", "dispatched", secrecy=secrecy, due=LATE)
            assign(doc("incoming", "assigned", secrecy=secrecy, due=LATE), unit_id=unit, role="informed")  # fmt: skip
            assign(doc("incoming", "assigned", secrecy=secrecy, due=LATE), unit_id=unit, state="passed_on")  # fmt: skip
            assign(doc("incoming", "done", secrecy=secrecy, due=LATE), user_id=staff.id, state="done")  # fmt: skip
            doc("incoming", "registered", org=tinh, secrecy=secrecy, due=LATE)
            doc("outgoing", "signed", org=tinh, secrecy=secrecy, due=LATE)
            doc("incoming", "submitted", org=tinh, secrecy=secrecy, submitted_to_id=leader.id)
            doc("outgoing", "draft", org=tinh, secrecy=secrecy, created_by_id=staff.id)
            assign(doc("incoming", "assigned", org=tinh, secrecy=secrecy, due=LATE), unit_id=unit)  # fmt: skip
        assert clerk.id  # the clerk waits through the organisation's states, not a column
        s.commit()


def _counts(client: Any, me: dict[str, str]) -> tuple[int, int]:
    r = client.get("/api/v1/me/counters", headers=me)
    assert r.status_code == 200, r.json
    return r.json["waiting"], r.json["overdue"]


#: What the seed adds to each badge (waiting, overdue): three deadlines (one late) of each kind,
#: at the secrecy levels the caller is cleared for (the demo leader: up to secret; the others:
#: none), never the top-secret ones, the closed ones or the province's.
ADDED = {
    "vanthu.tw": (4 * 3, 4),  # arrived, registered, signed, issued
    "lanhdao.tw": (3 * 3 * 2, 3 * 2),  # submitted, in review, to sign; none and secret
    "truongban.dcgs": (3 * 3, 3),  # the unit's lead, cooperating, and both (unit + own) once
    "chuyenvien.dcgs": (3 * 3, 3),  # own assignment, draft, draft sent back
}


def test_the_badges_equal_the_boxes_totals(client: Any, api: Any, demo: Demo) -> None:
    heads = {u: api(u) for u in ADDED}
    before = {u: _counts(client, me) for u, me in heads.items()}
    _seed(demo)
    cutoff = _cutoff(demo)
    assert LATE < cutoff < LATER
    for username, me in heads.items():
        waiting, overdue = _counts(client, me)
        incoming, late_in = _box_total(client, me, "incoming", cutoff)
        outgoing, late_out = _box_total(client, me, "outgoing", cutoff)
        assert waiting == incoming + outgoing, username
        assert overdue == late_in + late_out + _late_tasks(client, me), username
        # The numbers are the seed's, so the two sides cannot agree by both missing it.
        added = (waiting - before[username][0], overdue - before[username][1])
        assert added == ADDED[username], username


def test_the_badges_stop_at_the_cap(
    client: Any, api: Any, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted up to ``COUNT_CAP`` (the phone shows "999+"): exact below it, the cap above —
    also when one reason alone holds more than the cap and others add to it."""
    _seed(demo)
    full = {u: _counts(client, api(u)) for u in ("vanthu.tw", "lanhdao.tw", "truongban.dcgs")}
    for username, (waiting, overdue) in full.items():
        me = api(username)
        assert waiting > 3 and overdue > 1
        for cap in (1, 3, overdue, waiting - 1, waiting, waiting + 1):
            monkeypatch.setattr(phone_queries, "COUNT_CAP", cap)
            assert _counts(client, me) == (min(waiting, cap), min(overdue, cap)), (username, cap)
