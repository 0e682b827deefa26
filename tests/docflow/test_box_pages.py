"""The boxes read as index ranges (``list_documents``: one range per reason a document is in
the box, merged) give exactly the pages of the single-condition query they replaced: the same
ids in the same order, the same cursors, page after page to the end; on PostgreSQL and on
SQLite (the embedded profile).

The oracle is the old query, kept here under a private name with the visibility condition as
it was written before it was split into reasons; ``box=all`` is also checked against the
Python rule (``access.can_see``) over every row. The data mixes both organisations, every
secrecy level, both directions and every state, ties on the ordering key (few distinct
``listed_at`` and urgency values), assignments to people and units in every state and role,
reviews, and documents waiting for two reasons at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from docflow import Actor
from docflow.actors import DelegatedRole
from docflow.documents import access
from docflow.documents.queries import DocumentQuery, list_documents
from docflow.documents.text import fold
from docflow.enums import Role, Secrecy
from docflow.incoming.states import CLOSED_STATES, PROCESSING_STATES, IncomingState
from docflow.models import Assignment, Document, Review, Unit, User
from docflow.outgoing.states import OUTGOING_CLOSED_STATES, OUTGOING_OPEN_STATES, OutgoingState
from docflow.pagination import clamp_limit, decode_cursor, encode_cursor
from docflow.uow import DomainConfig
from docflow.workdays import start_of_day
from tests.conftest import Demo, sqlite_demo

# ------------------------------------------------------------------ the old query (the oracle)


def old_visible_clause(actor: Actor) -> ColumnElement[bool]:
    """``access.visible_clause`` as it was written before the reasons: one OR."""
    base = and_(
        Document.organization_id == actor.organization_id,
        Document.secrecy_rank <= actor.clearance.rank,
    )
    if access.sees_whole_organisation(actor):
        return base
    involved = [Assignment.user_id == actor.user_id]
    if actor.unit_id is not None:
        involved.append(Assignment.unit_id == actor.unit_id)
    me = actor.user_id
    people: list[ColumnElement[bool]] = [
        Document.created_by_id == me,
        Document.signer_user_id == me,
        Document.submitted_to_id == me,
        exists(
            select(Review.id).where(Review.document_id == Document.id, Review.reviewer_id == me)
        ),
    ]
    if actor.unit_id is not None and actor.has_role(Role.UNIT_HEAD):
        people.append(Document.drafting_unit_id == actor.unit_id)
    return and_(
        base,
        or_(
            exists(
                select(Assignment.id).where(Assignment.document_id == Document.id, or_(*involved))
            ),
            and_(Document.direction == "outgoing", or_(*people)),
        ),
    )


def old_filtered(actor: Actor, query: DocumentQuery) -> Select[Any]:
    stmt = select(Document).where(old_visible_clause(actor))
    if query.direction:
        stmt = stmt.where(Document.direction == query.direction)
    outgoing = query.direction == "outgoing"
    if query.box == "inbox":
        if outgoing:
            stmt = stmt.where(access.outgoing_waiting_clause(actor))
        else:
            stmt = stmt.where(Document.direction == "incoming", access.waiting_for_clause(actor))
    elif query.box == "processing":
        states = [s.value for s in (OUTGOING_OPEN_STATES if outgoing else PROCESSING_STATES)]
        stmt = stmt.where(Document.state.in_(states))
    elif query.box == "done":
        closed = OUTGOING_CLOSED_STATES if outgoing else CLOSED_STATES
        stmt = stmt.where(Document.state.in_([s.value for s in closed]))
    if query.state:
        stmt = stmt.where(Document.state == query.state)
    if query.doc_type:
        stmt = stmt.where(Document.doc_type == query.doc_type)
    if query.issuer:
        stmt = stmt.where(
            or_(
                Document.issuer_code == query.issuer.strip(),
                Document.search_text.contains(fold(query.issuer), autoescape=True),
            )
        )
    if query.date_from:
        stmt = stmt.where(Document.listed_at >= start_of_day(query.date_from))
    if query.date_to:
        stmt = stmt.where(Document.listed_at < start_of_day(query.date_to, later=1))
    return stmt


def old_page(
    session: Session, actor: Actor, query: DocumentQuery
) -> tuple[list[Document], str | None]:
    """The old ``list_documents`` (without full text): one statement, ORDER BY … LIMIT; the
    page's documents and the next cursor (``bench/api.py`` times it beside the new one)."""
    limit = clamp_limit(query.limit)
    stmt = old_filtered(actor, query)
    after = decode_cursor(query.cursor)
    if after:
        key = (int(after[0]), dt.datetime.fromisoformat(after[1]), uuid.UUID(after[2]))
        stmt = stmt.where(tuple_(Document.urgency_rank, Document.listed_at, Document.id) < key)
    stmt = stmt.order_by(
        Document.urgency_rank.desc(), Document.listed_at.desc(), Document.id.desc()
    )
    rows = list(session.scalars(stmt.limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = None
    if more:
        last = rows[-1]
        cursor = encode_cursor([last.urgency_rank, last.listed_at.isoformat(), last.id])
    return rows, cursor


# ------------------------------------------------------------------ the data


def _ids(s: Session, model: Any, column: Any, *values: str) -> list[uuid.UUID]:
    return [s.scalars(select(model.id).where(column == v)).one() for v in values]


def make_documents(factory: sessionmaker[Session], n: int = 220) -> dict[str, uuid.UUID]:
    """``n`` documents drawn with a fixed seed, and two that wait for two reasons at once."""
    rng = random.Random(19)
    with factory() as s:
        from docflow.models import Organization

        tw, tinh = _ids(s, Organization, Organization.code, "000.00.00.Z01", "000.00.01.Z01")
        clerk, leader, head, spec, spec_tg = _ids(
            s,
            User,
            User.username,
            "vanthu.tw",
            "lanhdao.tw",
            "truongban.dcgs",
            "chuyenvien.dcgs",
            "chuyenvien.tg",
        )
        dcgs = s.scalars(
            select(Unit.id).where(Unit.organization_id == tw, Unit.abbreviation == "DCGSPBXH")
        ).one()
        tg = s.scalars(
            select(Unit.id).where(Unit.organization_id == tw, Unit.abbreviation == "TG")
        ).one()
        people = [clerk, leader, head, spec, spec_tg]
        # Few distinct times and urgencies: many ties on the ordering key.
        times = [dt.datetime(2026, 11, d, 3, 0, tzinfo=dt.UTC) for d in (2, 5, 9, 12, 16, 20)]
        incoming_states = [s_.value for s_ in IncomingState]
        outgoing_states = [s_.value for s_ in OutgoingState]

        def document(**kw: Any) -> Document:
            secrecy = rng.choice([0, 0, 0, 1, 2, 3])
            org = tw if rng.random() < 0.8 else tinh
            d = Document(
                organization_id=kw.pop("organization_id", org),
                doc_type=rng.choice(["CV", "KH", "QD"]),
                subject="Văn bản thử",
                issuer_code=rng.choice(["000.00.01.Z01", "H01", None]),
                search_text="van ban thu " + rng.choice(["giam sat", "phan bien", "tuyen giao"]),
                listed_at=rng.choice(times),
                urgency_rank=rng.choice([0, 0, 0, 1, 3]),
                secrecy=list(Secrecy)[secrecy].value,
                secrecy_rank=secrecy,
                source="manual",
                **kw,
            )
            s.add(d)
            return d

        for _ in range(n):
            direction = "incoming" if rng.random() < 0.6 else "outgoing"
            d = document(
                direction=direction,
                state=rng.choice(incoming_states if direction == "incoming" else outgoing_states),
                created_by_id=rng.choice([*people, None]),
                signer_user_id=rng.choice([leader, head, None, None]),
                submitted_to_id=rng.choice([leader, head, spec, None, None]),
                drafting_unit_id=rng.choice([dcgs, tg, None]),
            )
            s.flush()
            # Assignments are made on incoming documents only (the Python rule reads them there).
            for _ in range(rng.choice([0, 0, 1, 1, 2]) if direction == "incoming" else 0):
                user = rng.choice([*people, None, None])
                s.add(
                    Assignment(
                        document_id=d.id,
                        role=rng.choice(["lead", "cooperating", "informed"]),
                        unit_id=rng.choice([dcgs, tg, None]) if user else rng.choice([dcgs, tg]),
                        user_id=user,
                        state=rng.choice(["pending", "in_progress", "done", "returned"]),
                        assigned_by_id=leader,
                    )
                )
            if direction == "outgoing" and rng.random() < 0.25:
                s.add(
                    Review(
                        document_id=d.id,
                        reviewer_id=rng.choice([head, spec]),
                        reviewer_name="Người duyệt",
                        requested_by_id=clerk,
                        version_requested=1,
                    )
                )
        # Waiting for the unit head twice: the unit's open work and their own.
        both = document(
            direction="incoming", state="assigned", created_by_id=clerk, organization_id=tw
        )
        both.secrecy_rank, both.secrecy = 0, "none"
        s.flush()
        for unit, user in ((dcgs, None), (dcgs, head)):
            s.add(
                Assignment(
                    document_id=both.id,
                    role="lead" if user is None else "cooperating",
                    unit_id=unit,
                    user_id=user,
                    state="pending",
                    assigned_by_id=leader,
                )
            )
        # Waiting for the clerk twice: to register, and assigned to them.
        twice = document(direction="incoming", state="registered", organization_id=tw)
        twice.secrecy_rank, twice.secrecy = 0, "none"
        s.flush()
        s.add(
            Assignment(
                document_id=twice.id,
                role="lead",
                user_id=clerk,
                state="in_progress",
                assigned_by_id=leader,
            )
        )
        s.commit()
        return {"both": both.id, "twice": twice.id}


def actors(demo: Demo) -> list[Actor]:
    """Clerk, leader, unit head and specialist, each without and with clearances; a unit head
    who is also a clerk; the province's clerk (another organisation)."""
    out = []
    cleared = (Secrecy.SECRET, Secrecy.TOP_SECRET, Secrecy.SECRET, Secrecy.TOP_SECRET)
    for name, clearance in zip(
        ("vanthu.tw", "lanhdao.tw", "truongban.dcgs", "chuyenvien.dcgs"), cleared, strict=True
    ):
        a = demo.actor(name)
        out += [dataclasses.replace(a, clearance=c) for c in (Secrecy.NONE, clearance)]
    head = demo.actor("truongban.dcgs")
    out.append(dataclasses.replace(head, roles=head.roles | {Role.CLERK}))
    out.append(demo.actor("vanthu.tinh"))
    # Answering submissions for the leader today (a delegation): the leader's inbox as well.
    leader = demo.actor("lanhdao.tw")
    spec = demo.actor("chuyenvien.dcgs")
    held = DelegatedRole(Role.LEADER, leader.user_id, leader.full_name, "thay", uuid.uuid4())
    out.append(dataclasses.replace(spec, delegated=(held,)))
    return out


QUERIES = [
    DocumentQuery(box=box, direction=direction, limit=limit)
    for box in ("all", "inbox", "processing", "done")
    for direction in (None, "incoming", "outgoing")
    for limit in (8,)
] + [
    DocumentQuery(box="all", limit=1),
    DocumentQuery(box="inbox", limit=2),
    DocumentQuery(box="all", state="assigned", limit=5),
    DocumentQuery(box="processing", state="done", limit=5),  # outside the box: nothing
    DocumentQuery(box="done", direction="outgoing", state="recalled", limit=3),
    DocumentQuery(box="all", doc_type="KH", issuer="H01", limit=4),
    DocumentQuery(box="all", issuer="giam sat", limit=6),
    DocumentQuery(
        box="all", date_from=dt.date(2026, 11, 5), date_to=dt.date(2026, 11, 12), limit=6
    ),
    DocumentQuery(box="all", direction="sideways", limit=5),
]


def key(d: Document) -> tuple[int, dt.datetime, str]:
    return (d.urgency_rank, d.listed_at, str(d.id))


def check_same_pages(demo: Demo, special: dict[str, uuid.UUID]) -> int:
    """Page through every query for every actor with both queries; the number of pages."""
    pages = 0
    with demo.factory() as s:  # SQLite: short sessions (each holds the write lock)
        everything = list(s.scalars(select(Document)))
    for actor in actors(demo):
        for query in QUERIES:
            cursor: str | None = None
            seen: list[uuid.UUID] = []
            while True:
                q = dataclasses.replace(query, cursor=cursor)
                with demo.factory() as s:
                    old_rows, old_cursor = old_page(s, actor, q)
                    expected = ([d.id for d in old_rows], old_cursor)
                page = list_documents(demo.uow(), actor, q)
                got = ([d.id for d in page.items], page.next_cursor)
                assert got == expected, (actor.username, actor.clearance, q)
                seen += got[0]
                pages += 1
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert len(seen) == len(set(seen))
            if query == QUERIES[0]:  # box=all, both directions: the Python rule, in order
                visible = sorted(
                    (d for d in everything if access.can_see(actor, d)), key=key, reverse=True
                )
                # PostgreSQL's uuid order and SQLite's hex strings agree with Python's str.
                assert seen == [d.id for d in visible], actor.username
    head = demo.actor("truongban.dcgs")
    assert _all_ids(demo, head, DocumentQuery(box="inbox", limit=3)).count(special["both"]) == 1
    clerk = demo.actor("vanthu.tw")
    assert _all_ids(demo, clerk, DocumentQuery(box="inbox", limit=3)).count(special["twice"]) == 1
    return pages


def _all_ids(demo: Demo, actor: Actor, query: DocumentQuery) -> list[uuid.UUID]:
    out: list[uuid.UUID] = []
    cursor = None
    while True:
        page = list_documents(demo.uow(), actor, dataclasses.replace(query, cursor=cursor))
        out += [d.id for d in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return out


def test_box_pages_are_the_old_pages_on_postgresql(demo: Demo) -> None:
    # Hundreds of pages in the test's one transaction: reads of secret documents are not
    # logged here (each log row would hold a subtransaction's lock until the test ends).
    demo.config = DomainConfig(audit_reads=False)
    special = make_documents(demo.factory)
    pages = check_same_pages(demo, special)
    assert pages > 300  # the walk went through many pages, not one


def test_box_pages_are_the_old_pages_on_sqlite(tmp_path: Path) -> None:
    with sqlite_demo(tmp_path) as demo:
        special = make_documents(demo.factory)
        assert check_same_pages(demo, special) > 300


@pytest.mark.parametrize("cursor", ["không-phải-con-trỏ", encode_cursor(["x", "y"])])
def test_a_bad_cursor_is_refused_with_the_field(demo: Demo, cursor: str) -> None:
    from docflow.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        list_documents(demo.uow(), demo.actor("vanthu.tw"), DocumentQuery(cursor=cursor))
    assert err.value.code == "invalid_field"
    assert err.value.details == {"fields": {"cursor": "Con trỏ phân trang không hợp lệ."}}
