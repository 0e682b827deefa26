"""Lists and reads answer with documents read as rows (``docflow.documents.views``); actions
answer with the ORM's objects. These tests hold the two readings of the same documents to each
other: every column, the parts in the same order, and the same answer (``DocumentOut``, the
allowed actions and visibility included) for every kind of reader, on PostgreSQL and SQLite.
The documents are ``test_box_pages``' (both organisations, directions, every state and secrecy,
assignments to people and units in every state and role, review chains), with files, registers,
people they are submitted to and a recall request added."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.api.document_schemas import DocumentOut
from docflow.documents import access
from docflow.documents.queries import deadlines
from docflow.documents.views import (
    LEFT_OUT,
    AssignmentView,
    DocumentView,
    FileView,
    ReviewView,
    columns_of,
    read_views,
)
from docflow.models import Assignment, Document, DocumentFile, Register, Review
from tests.conftest import Demo, sqlite_demo
from tests.docflow.test_box_pages import actors, make_documents


def test_every_column_of_the_tables_is_a_field_of_its_view() -> None:
    for view, model, left in (
        (DocumentView, Document, LEFT_OUT),
        (FileView, DocumentFile, frozenset()),
        (AssignmentView, Assignment, frozenset()),
        (ReviewView, Review, frozenset()),
    ):
        columns = set(model.__table__.columns.keys())
        assert set(columns_of(view)) == columns - left, view.__name__


def _add_parts(factory: sessionmaker[Session]) -> list[uuid.UUID]:
    """Files (two on some documents, in a known order), a register, a due date and a recall
    request on some of the documents; their ids."""
    rng = random.Random(20)
    with factory() as s:
        registers = {r.organization_id: r for r in s.scalars(select(Register))}
        docs = list(s.scalars(select(Document).order_by(Document.id)))
        for n, d in enumerate(docs):
            for k in range(rng.choice([0, 1, 1, 2])):
                s.add(
                    DocumentFile(
                        document_id=d.id,
                        kind="main" if k == 0 else "attachment",
                        name=f"tep-{n}-{k}.pdf",
                        size=1000 + n,
                        sha256=f"{n:064d}",
                        content_type="application/pdf",
                        object_key=f"sha256/{n:064d}",
                        text_status=rng.choice(["none", "pending", "done"]),
                        verification={"summary": "unsigned"} if k else None,
                    )
                )
            register = registers.get(d.organization_id)
            if register is not None and rng.random() < 0.3:
                d.register_id, d.register_number = register.id, n + 1
            if rng.random() < 0.5:
                d.due_date = dt.date(2026, 11, 1) + dt.timedelta(days=rng.randrange(90))
            if rng.random() < 0.1:
                d.recall_request = {
                    "reason": "Gửi nhầm",
                    "by": "Văn thư",
                    "notation": None,
                    "at": "2026-11-20T03:00:00+00:00",
                }
        s.commit()
        return [d.id for d in docs]


def _check_same(demo: Demo) -> int:
    factory = demo.factory
    make_documents(factory, n=120)
    ids = _add_parts(factory)
    readers = actors(demo)
    with factory() as s:
        views = read_views(s, ids)
    assert set(views) == set(ids)
    compared = 0
    orms = []
    seen: dict[str, int] = dict.fromkeys(
        ("actions", "files", "named", "reviews", "register", "submitted", "recall", "hidden"), 0
    )
    for i in ids:
        view = views[i]
        with factory() as s:
            orm = access.read_document(s, i)
            assert orm is not None
            orms.append(orm)
            for name in columns_of(DocumentView):
                assert getattr(view, name) == getattr(orm, name), name
            for part, view_type in (
                ("files", FileView),
                ("assignments", AssignmentView),
                ("reviews", ReviewView),
            ):
                if part == "reviews" and orm.direction != "outgoing":
                    assert view.reviews == []
                    continue
                mine = [[getattr(p, c) for c in columns_of(view_type)] for p in getattr(view, part)]
                theirs = [
                    [getattr(p, c) for c in columns_of(view_type)] for p in getattr(orm, part)
                ]
                assert mine == theirs, part
            assert [
                (a.unit and a.unit.name, a.user and a.user.full_name) for a in view.assignments
            ] == [(a.unit and a.unit.name, a.user and a.user.full_name) for a in orm.assignments]
            for actor in readers:
                visible = access.can_see(actor, view)
                assert visible == access.can_see(actor, orm)
                out: dict[str, Any] = DocumentOut.of(view, actor).model_dump(mode="json")
                assert out == DocumentOut.of(orm, actor).model_dump(mode="json")
                compared += 1
                seen["hidden"] += not visible
                seen["actions"] += bool(out["allowed_actions"])
            seen["files"] += len(view.files) > 1
            seen["named"] += any(a.user and a.unit for a in view.assignments)
            seen["reviews"] += bool(view.reviews)
            seen["register"] += view.register is not None
            seen["submitted"] += view.submitted_to is not None
            seen["recall"] += view.recall_request is not None
    # The deadline marks the answers carry, from either reading.
    marks = deadlines(demo.uow(), list(views.values()))
    assert marks == deadlines(demo.uow(), orms)
    seen["marks"] = len(marks)
    # The comparison had something to compare: each kind of part and answer occurred.
    assert all(seen.values()), seen
    return compared


def test_views_answer_as_the_orms_objects_postgresql(demo: Demo) -> None:
    # 122 documents × 11 readers; some answers carry actions, files, assignments, reviews.
    assert _check_same(demo) == 122 * len(actors(demo))


def test_views_answer_as_the_orms_objects_sqlite(tmp_path: Path) -> None:
    with sqlite_demo(tmp_path) as demo:
        assert _check_same(demo) == 122 * len(actors(demo))


def test_no_ids_no_statement_and_no_documents_no_parts(demo: Demo) -> None:
    """No ids read nothing; ids of no document read the documents' statement alone."""
    from tests.app.test_query_counts import counting

    with demo.factory() as s:
        s.connection()
        with counting(s.connection()) as statements:
            assert read_views(s, []) == {}
        assert statements == []
        with counting(s.connection()) as statements:
            assert read_views(s, [uuid.uuid4()]) == {}
        assert len(statements) == 1 and "FROM documents" in statements[0], statements


def test_a_read_inside_a_unit_that_changed_the_document_sees_the_change(demo: Demo) -> None:
    """Rows are read past the ORM: a read of a document inside a unit of work holding changes
    not yet written (an action's, before its commit) writes them first, as the ORM's read
    would; nothing is committed by it."""
    from docflow.documents.queries import get_document_view

    make_documents(demo.factory, n=10)
    clerk = demo.actor("vanthu.tw")
    uow = demo.uow()
    with uow:
        doc = uow.session.scalars(
            select(Document).where(
                Document.organization_id == clerk.organization_id, Document.secrecy_rank == 0
            )
        ).first()
        assert doc is not None
        doc_id = doc.id
        doc.subject = "Đã sửa, chưa ghi"
        assert get_document_view(uow, clerk, doc_id, opened=False).subject == "Đã sửa, chưa ghi"
        uow.rollback()
    with demo.factory() as s:
        assert s.scalars(select(Document.subject).where(Document.id == doc_id)).one() != (
            "Đã sửa, chưa ghi"
        )


def test_the_list_pages_read_nothing_a_view_lacks(app: Any, demo: Demo) -> None:
    """The HTML lists render views. Jinja renders an attribute an object lacks as blank; here
    an attribute missing from a view raises instead, for the lists of four roles, both
    directions, every box and a search."""
    import jinja2

    from docflow.documents import views as v
    from tests.app.test_pages import login

    kinds = (v.DocumentView, v.FileView, v.AssignmentView, v.ReviewView, v.Named, v.Person)

    class Strict(jinja2.Undefined):
        def __init__(
            self, hint: Any = None, obj: Any = jinja2.utils.missing, name: Any = None, **kw: Any
        ) -> None:
            if isinstance(obj, kinds):
                raise AssertionError(f"{type(obj).__name__} has no {name!r}")
            super().__init__(hint, obj, name, **kw)

    make_documents(demo.factory, n=60)
    app.jinja_env.undefined = Strict
    shown = 0
    for username in ("vanthu.tw", "lanhdao.tw", "truongban.dcgs", "chuyenvien.dcgs"):
        client = app.test_client()
        login(client, username)
        for path in ("/documents", "/outgoing"):
            for query in (
                "box=inbox",
                "box=processing",
                "box=done",
                "box=all",
                "box=all&q=giam+sat",
            ):
                r = client.get(f"{path}?{query}")
                assert r.status_code == 200, (username, path, query)
                shown += r.get_data(as_text=True).count("Văn bản thử")
    assert shown > 0  # documents were rendered, not only empty lists
