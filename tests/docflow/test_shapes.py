"""Statements kept per reader shape (``docflow.documents.shapes``): readers of one shape share
one statement object and each reads their own rows with it; a builder that would leave a
reader's value in the statement is refused when the statement is built. (That every box's
first page equals the old single query for readers of every shape, a delegated leader among
them, is ``test_box_pages``.)"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from sqlalchemy import Select, select

from docflow.actors import Actor, DelegatedRole
from docflow.documents import access, shapes
from docflow.documents.queries import DocumentQuery, _first_page
from docflow.enums import Role
from docflow.models import Document
from tests.conftest import Demo
from tests.docflow.test_box_pages import make_documents


def _ids(demo: Demo, stmt: Select[Any], params: dict[str, Any]) -> list[uuid.UUID]:
    with demo.factory() as s:
        return [row[-1] for row in s.execute(stmt, params)]


def _built(demo: Demo, actor: Actor, query: DocumentQuery) -> list[uuid.UUID]:
    """The first page as built for ``actor`` alone, their values in it."""
    stmt = _first_page(actor, query, 50)
    assert stmt is not None
    return _ids(demo, stmt, {})


def test_readers_of_one_shape_share_the_statement_and_read_their_own(demo: Demo) -> None:
    make_documents(demo.factory)
    dcgs = demo.actor("chuyenvien.dcgs")
    tg = demo.actor("chuyenvien.tg")
    assert shapes.shape_of(dcgs) == shapes.shape_of(tg)
    query = DocumentQuery(box="all")
    mine = shapes.for_reader(_first_page, dcgs, query, 50)
    theirs = shapes.for_reader(_first_page, tg, query, 50)
    assert mine is not None and theirs is not None
    assert mine[0] is theirs[0]  # one statement object, built once
    assert mine[1] != theirs[1]
    assert mine[1]["dhtn_reader_me"] == dcgs.user_id
    assert mine[1]["dhtn_reader_unit"] == dcgs.unit_id
    # Each reads what the statement built for them reads.
    boxes = []
    for actor, (stmt, params) in ((dcgs, mine), (tg, theirs)):
        boxes.append(_ids(demo, stmt, params))
        assert boxes[-1] == _built(demo, actor, query)
    assert boxes[0] and boxes[0] != boxes[1]
    # A reader of another shape (a unit head) gets another statement.
    head = shapes.for_reader(_first_page, demo.actor("truongban.dcgs"), query, 50)
    assert head is not None and head[0] is not mine[0]


def test_a_delegation_binds_the_delegator_in_a_list(demo: Demo) -> None:
    make_documents(demo.factory)
    leader = demo.actor("lanhdao.tw")
    spec = demo.actor("chuyenvien.dcgs")
    held = DelegatedRole(Role.LEADER, leader.user_id, leader.full_name, "thay", uuid.uuid4())
    delegate = dataclasses.replace(spec, delegated=(held,))
    query = DocumentQuery(box="inbox", direction="incoming")
    kept = shapes.for_reader(_first_page, delegate, query, 50)
    assert kept is not None
    stmt, params = kept
    assert params["dhtn_reader_list_me_delegator0"] == [spec.user_id, leader.user_id]
    got = _ids(demo, stmt, params)
    assert got == _built(demo, delegate, query)
    # The leader's submissions are in it: more than the specialist's own inbox.
    own = shapes.for_reader(_first_page, spec, query, 50)
    assert own is not None and len(got) > len(_ids(demo, *own))


def _leaky(actor: Actor) -> Select[Any]:
    # The reader's id as text: a value computed from it, which binding cannot replace.
    return select(Document.id).where(Document.subject == str(actor.user_id))


def _by_path(actor: Actor) -> Select[Any]:
    # A text of the reader (their organisation's place in the tree) is not part of the shape.
    return select(Document.id).where(Document.subject.startswith(actor.organization_path))


def _sound(actor: Actor, subject: str) -> Select[Any]:
    return select(Document.id).where(*access.visible_base(actor), Document.subject == subject)


def test_a_statement_using_more_of_the_reader_is_built_for_each_reader(demo: Demo) -> None:
    reader = demo.actor("chuyenvien.dcgs")
    for leaky in (_leaky, _by_path):
        with pytest.raises(shapes.Unshareable):
            shapes._kept(leaky, shapes.shape_of(reader), ())
        # Served all the same, built for the reader with their own values.
        kept = shapes.for_reader(leaky, reader)
        assert kept is not None and kept[1] == {}
        assert str(kept[0].compile().params) == str(leaky(reader).compile().params)
    # A filter value that names a stand-in's id, as text or as an id, is the caller's value:
    # served, and shared when it can be.
    for subject in (str(shapes.shape_of(reader).user_id), shapes._text(1)):
        kept = shapes.for_reader(_sound, reader, subject)
        assert kept is not None
        assert kept[1]["dhtn_reader_me"] == reader.user_id
        assert subject in kept[0].compile().params.values()


_BUILDS: list[str] = []


def _counted_path(actor: Actor) -> Select[Any]:
    _BUILDS.append(actor.organization_path)
    return _by_path(actor)


def test_a_refusal_is_remembered_not_checked_for_every_request(demo: Demo) -> None:
    reader = demo.actor("chuyenvien.dcgs")
    _BUILDS.clear()
    shapes.for_reader(_counted_path, reader)
    assert len(_BUILDS) == 3  # two stand-ins, then the reader
    shapes.for_reader(_counted_path, reader)
    assert len(_BUILDS) == 4  # the reader alone
    assert _BUILDS[-1] == reader.organization_path


def test_a_filter_naming_a_stand_in_is_answered(client: Any, api: Any, demo: Demo) -> None:
    """The review's case: ``issuer`` holding a stand-in's id answered 500 (a refused build)."""
    me = api("chuyenvien.dcgs")
    stand_in = shapes.shape_of(demo.actor("chuyenvien.dcgs"))
    for value in (str(stand_in.user_id), str(stand_in.organization_id), shapes._text(0)):
        r = client.get(f"/api/v1/documents?box=all&issuer={value}", headers=me)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["items"] == []


def test_the_waiting_badge_is_counted_with_the_readers_own_values(demo: Demo) -> None:
    """The badge's count (``docflow.phone``) kept per shape equals the count built for each
    reader, a delegated leader and two specialists of one shape among them."""
    from docflow.phone.queries import _waiting_count

    make_documents(demo.factory)
    leader = demo.actor("lanhdao.tw")
    spec = demo.actor("chuyenvien.dcgs")
    held = DelegatedRole(Role.LEADER, leader.user_id, leader.full_name, "thay", uuid.uuid4())
    readers = [
        spec,
        demo.actor("chuyenvien.tg"),
        dataclasses.replace(spec, delegated=(held,)),
        demo.actor("truongban.dcgs"),
        demo.actor("vanthu.tw"),
        leader,
    ]
    counts = []
    with demo.factory() as s:
        for reader in readers:
            kept = shapes.for_reader(_waiting_count, reader, 1000, None)
            assert kept is not None
            counts.append(s.scalar(*kept))
            assert counts[-1] == s.scalar(_waiting_count(reader, 1000, None)), reader.username
    assert counts[2] > counts[0]  # the leader's submissions counted for the delegate
    assert len(set(counts)) > 2


def test_an_actions_direction_is_read_with_the_readers_own_values(demo: Demo) -> None:
    """``direction_of`` (every action's first read) and a document's ETag kept per shape: each
    reader gets the direction and a tag of what they may see and 404 (no tag) for the rest, as
    the Python rule says."""
    from docflow.documents.queries import direction_of
    from docflow.errors import NotFoundError
    from docflow.phone.feed import document_validator

    make_documents(demo.factory)
    readers = [demo.actor("chuyenvien.dcgs"), demo.actor("chuyenvien.tg")]
    with demo.factory() as s:
        docs = list(s.scalars(select(Document)))
    seen = {r.username: 0 for r in readers}
    for doc in docs:
        for reader in readers:
            # The document's ETag (docflow.phone.feed) is None exactly when it is hidden.
            tag = document_validator(demo.uow(), reader, doc.id)
            if access.can_see(reader, doc):
                assert direction_of(demo.uow(), reader, doc.id) == doc.direction
                assert tag is not None
                seen[reader.username] += 1
            else:
                with pytest.raises(NotFoundError):
                    direction_of(demo.uow(), reader, doc.id)
                assert tag is None
    assert all(seen.values()) and seen["chuyenvien.dcgs"] != seen["chuyenvien.tg"]


def test_a_task_box_first_page_is_each_readers_own(demo: Demo) -> None:
    """A task box's first page (``docflow.tasks.queries._page``) kept per shape equals the
    page built for each reader, in every box and filter the list offers."""
    import datetime as dt

    from docflow.tasks.queries import Box, _page
    from docflow.tasks.states import TaskState
    from tests.tasks.conftest import Tasks

    made = Tasks(demo)
    made.create(user="chuyenvien.dcgs")
    made.create(user="chuyenvien.dcgs", title="Báo cáo chuyên đề", days=3)
    made.create(user="chuyenvien.tg", coop=({"unit_id": str(made.unit("DCGSPBXH"))},))
    made.create(unit="DCGSPBXH")
    made.create(unit="TG")
    readers = [
        demo.actor(u) for u in ("chuyenvien.dcgs", "chuyenvien.tg", "truongban.dcgs", "lanhdao.tw")
    ]
    cutoff = dt.date(2100, 1, 1)
    cases = [
        (Box.MINE, None, False, None),
        (Box.UNIT, None, False, None),
        (Box.ASSIGNED_BY_ME, None, False, None),
        (Box.MINE, TaskState.IN_PROGRESS, False, None),
        (Box.MINE, None, True, cutoff),
    ]
    found = 0
    with demo.factory() as s:
        for reader in readers:
            for box, state, open_only, due in cases:
                kept = shapes.for_reader(_page, reader, box, state, open_only, due, 50)
                assert kept is not None
                got = [t.id for t in s.scalars(*kept).unique()]
                built = _page(reader, box, state, open_only, due, 50)
                assert got == [t.id for t in s.scalars(built).unique()], (reader.username, box)
                found += len(got)
    assert found > 10


def test_a_searchs_statement_is_kept_per_shape_and_reads_each_readers_own(demo: Demo) -> None:
    """A search of words (its box's conditions, the ids a reader is involved in, the newest
    matches and their ranking: one statement) is kept per shape like a box: readers of one
    shape share it, whatever the words, and each reads with it what the statement built for
    them alone reads, in the same order."""
    from docflow.documents.queries import _filtered
    from docflow.search import queries as sq
    from docflow.search.commands import parse_query

    make_documents(demo.factory)
    readers = [demo.actor("chuyenvien.dcgs"), demo.actor("chuyenvien.tg")]
    assert shapes.shape_of(readers[0]) == shapes.shape_of(readers[1])
    query = DocumentQuery(box="all")
    kept = [shapes.for_reader(sq._kept_ranking, r, _filtered, query, False) for r in readers]
    assert kept[0] is not None and kept[1] is not None
    assert kept[0][0] is kept[1][0]  # one statement object, built once
    found = []
    for reader, (stmt, params) in zip(readers, kept, strict=True):
        for words in ("van ban thu", "thu -van", '"ban thu"'):
            terms = parse_query(words)
            values = sq.ranking_values(terms, offset=0, limit=500)
            own = sq.ranking(reader, _filtered(reader, query), terms, exact=False)
            with demo.factory() as s:
                got = [r.id for r in s.execute(stmt, {**params, **values})]
                assert got == [r.id for r in s.execute(own, values)], (reader.username, words)
            found.append(got)
    assert found[0] and found[0] != found[3]  # two readers, two results: the test can fail
    assert found[1] == []  # "thu -van": every subject has both words
    # Who sees the whole organisation has no involved ids: the search reads its organisation.
    assert access.visible_ids(demo.actor("vanthu.tw")) is None


def test_a_list_naming_an_issuer_or_dates_is_built_for_the_request(demo: Demo) -> None:
    """Values without bound (an issuer's name, dates) would each take one of the places kept
    per process, pushing out the statements every reader of a shape shares: such a list, a
    box's first page or a search's conditions, is built for the request, and reads the same."""
    import datetime as dt

    from docflow.documents.queries import _filtered, _kept

    make_documents(demo.factory)
    reader = demo.actor("chuyenvien.dcgs")
    plain = DocumentQuery(box="all")
    assert _kept(_first_page, reader, plain, 50) == shapes.for_reader(
        _first_page, reader, plain, 50
    )
    for query in (
        DocumentQuery(box="all", issuer="Ủy ban"),
        DocumentQuery(box="all", date_from=dt.date(2026, 1, 1)),
        DocumentQuery(box="all", date_to=dt.date(2030, 1, 1)),
    ):
        shapes._shared.cache_clear()
        page = _kept(_first_page, reader, query, 50)
        base = _kept(_filtered, reader, query)
        assert page is not None and base is not None
        assert page[1] == {} and base[1] == {}  # the reader's own values, in the statement
        assert shapes._shared.cache_info().currsize == 0  # nothing kept
        assert _ids(demo, *page) == _built(demo, reader, query)


def test_free_text_filters_keep_no_more_than_the_box(demo: Demo) -> None:
    """A list of a state no document can be in is built for the request like one naming an
    issuer; a search filtered by document type (free text of the API) keeps the box's
    conditions only, not its own statements: a new value takes one of the places a process
    keeps at most, not two or three (the search's tries)."""
    from docflow.documents.queries import _filtered, list_documents

    make_documents(demo.factory)
    reader = demo.actor("chuyenvien.dcgs")
    shapes._shared.cache_clear()
    typed = list_documents(demo.uow(), reader, DocumentQuery(box="all", q="van ban", doc_type="CV"))
    assert shapes._shared.cache_info().currsize == 1  # the box's conditions
    assert typed.items  # the filter finds documents: the count is of a real search
    nowhere = DocumentQuery(box="all", state="no-such-state")
    assert list_documents(demo.uow(), reader, nowhere).items == []
    assert list_documents(demo.uow(), reader, dataclasses.replace(nowhere, q="van ban")).items == []
    assert shapes._shared.cache_info().currsize == 1  # nothing more kept
    # A search of words in a box keeps its statement (and the box's conditions).
    found = list_documents(demo.uow(), reader, DocumentQuery(box="all", q="van ban"))
    assert found.items and shapes._shared.cache_info().currsize >= 3
    with demo.factory() as s:
        own = set(s.scalars(_filtered(reader, DocumentQuery(box="all", doc_type="CV"))))
    assert {d.id for d in typed.items} <= {d.id for d in own}
