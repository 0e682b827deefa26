"""A refused upload must not delete an object another record uses (issue 11, point 2).

Storage is content-addressed: the same bytes are one object, whoever uploaded them. These tests
run the application on a real PostgreSQL database (committed transactions, one connection per
request) and the real S3 server, and attack through the public API:

* sequential: a task attachment with bytes X exists; a registration that stores X and is then
  refused must leave the task's file readable, and leave no row and no consumed number;
* race: a task creation has stored X and not yet committed when a registration with X is
  refused; the task then commits and its file must still be there;
* the sweeper removes only true orphans older than its grace period, and keeps every object a
  row of any referencing table names; every key-like column of the models is either in the
  sweeper's registry or declared not to be an object key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.runtime import runtime
from docflow import UnitOfWork, make_engine, make_session_factory
from docflow.demo import seed_demo
from docflow.models import Document, DocumentFile, Register, TaskAttachment, User
from docflow.workdays import local_date
from migrations import upgrade
from storage import ContentStore, ObjectRef
from storage.objects import content_key
from storage.s3 import S3Backend
from tests.conftest import DEMO_PASSWORD, Clock, fresh_pg_database, make_test_settings
from tests.pdfs import make_pdf
from tests.storage.conftest import s3_url as s3_url  # the real S3 server (fixture)
from tests.storage.helpers import with_prefix

pytestmark = [pytest.mark.pg, pytest.mark.s3]

INCOMING_META = {
    "doc_type": "KH",
    "subject": "Kế hoạch phối hợp giám sát",
    "issuer": {"name": "Ủy ban MTTQ Việt Nam tỉnh Demo", "code": "000.00.01.Z01"},
    "issued_date": "2026-11-20",
}


class GatedStore:
    """The application's real S3 store, with one hook: an upload made by the thread named
    ``hold_thread`` pauses right after its bytes are stored (before its transaction commits)
    until the test releases it. Everything else goes straight to the store."""

    def __init__(self, inner: ContentStore) -> None:
        self._inner = inner
        self.hold_thread = ""
        self.stored = threading.Event()
        self.release = threading.Event()

    def put_spool(
        self, spool: Any, content_type: str = "application/octet-stream", **kwargs: Any
    ) -> ObjectRef:
        ref = self._inner.put_spool(spool, content_type, **kwargs)
        if threading.current_thread().name == self.hold_thread:
            self.stored.set()
            assert self.release.wait(120), "the test never released the held upload"
        return ref

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class Site:
    """One installation for this module: committed PostgreSQL, objects on S3."""

    app: Any
    factory: sessionmaker[Session]
    store: ContentStore
    gate: GatedStore
    tokens: dict[str, dict[str, str]]

    def h(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            r = self.app.test_client().post(
                "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
            )
            assert r.status_code == 200, r.get_json()
            self.tokens[username] = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
        return self.tokens[username]

    def user_id(self, username: str) -> uuid.UUID:
        with self.factory() as s:
            return s.scalars(select(User.id).where(User.username == username)).one()

    def create_task(self, files: list[tuple[bytes, str]]) -> Any:
        meta = {
            "title": "Rà soát hồ sơ giám sát",
            "lead": {"user_id": str(self.user_id("chuyenvien.dcgs"))},
            # This app runs on the real clock: a fixed date falls into the past one day.
            "due_date": (local_date(runtime(self.app).clock()) + dt.timedelta(days=14)).isoformat(),
        }
        return self.app.test_client().post(
            "/api/v1/tasks",
            headers=self.h("lanhdao.tw"),
            data={"meta": json.dumps(meta), "files": [(io.BytesIO(b), n) for b, n in files]},
            content_type="multipart/form-data",
        )

    def register(self, notation: str, files: list[tuple[bytes, str, str]]) -> Any:
        meta = {**INCOMING_META, "notation": notation}
        return self.app.test_client().post(
            "/api/v1/incoming",
            headers=self.h("vanthu.tw"),
            data={
                "meta": json.dumps(meta),
                "files": [(io.BytesIO(b), n, t) for b, n, t in files],
            },
            content_type="multipart/form-data",
        )

    def task_file(self, task: dict[str, Any]) -> Any:
        [f] = task["files"]
        return self.app.test_client().get(
            f"/api/v1/tasks/{task['id']}/files/{f['id']}/content",
            headers=self.h("chuyenvien.dcgs"),
        )

    def state(self, key: str) -> tuple[int, int, int]:
        """(documents, document files naming ``key``, numbers consumed in all registers)."""
        with self.factory() as s:
            docs = s.scalar(select(func.count()).select_from(Document)) or 0
            files = (
                s.scalar(
                    select(func.count())
                    .select_from(DocumentFile)
                    .where(DocumentFile.object_key == key)
                )
                or 0
            )
            numbers = s.scalar(select(func.sum(Register.last_number))) or 0
        return int(docs), int(files), int(numbers)


@pytest.fixture(scope="module")
def site(s3_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from app import create_app

    tmp = tmp_path_factory.mktemp("security-uploads")
    url = fresh_pg_database("_security_uploads")
    upgrade(url)
    engine = make_engine(url, pool_size=8)
    factory = make_session_factory(engine)
    seed_demo(UnitOfWork(factory, clock=Clock()), password=DEMO_PASSWORD)
    storage_url = with_prefix(s3_url, f"security-{uuid.uuid4().hex[:12]}")
    app = create_app(make_test_settings(tmp, url, storage_url=storage_url))
    app.config.update(TESTING=True)
    rt = runtime(app)
    store: ContentStore = rt.store
    assert isinstance(store.backend, S3Backend)
    gate = GatedStore(store)
    rt.store = gate
    try:
        yield Site(app, factory, store, gate, {})
    finally:
        backend = store.backend
        for obj in backend.client.list_objects(
            backend.bucket, prefix=backend.prefix, recursive=True
        ):
            if obj.object_name:
                backend.client.remove_object(backend.bucket, obj.object_name)
        if rt.engine is not None:
            rt.engine.dispose()
        engine.dispose()


def _key_of(site: Site, task: dict[str, Any]) -> str:
    with site.factory() as s:
        return s.scalars(
            select(TaskAttachment.object_key).where(TaskAttachment.task_id == task["id"])
        ).one()


def test_a_refused_registration_keeps_a_task_file_with_the_same_bytes(site: Site) -> None:
    x = make_pdf(title=f"Biên bản {uuid.uuid4()}")
    created = site.create_task([(x, "bien-ban.pdf")])
    assert created.status_code == 201, created.get_json()
    task = created.get_json()
    key = _key_of(site, task)
    before = site.state(key)
    # The first file (X) is stored, the second is refused: the whole registration is refused.
    r = site.register(
        "101/KH-MTTW-BTT",
        [(x, "Kế hoạch.pdf", "application/pdf"), (b"not a pdf", "b.pdf", "application/pdf")],
    )
    assert r.status_code == 415, r.get_json()
    assert r.get_json()["error"]["code"] == "unsupported_file_type"
    assert site.state(key) == before  # no document, no file row, no number
    got = site.task_file(task)
    assert got.status_code == 200 and got.data == x
    assert site.store.exists(key)


def test_a_refusal_racing_a_commit_of_the_same_bytes_deletes_nothing(site: Site) -> None:
    x = make_pdf(title=f"Kế hoạch {uuid.uuid4()}")
    outcome: dict[str, Any] = {}

    def commit_task() -> None:
        outcome["task"] = site.create_task([(x, "ke-hoach.pdf")])

    def attachments() -> int:
        with site.factory() as s:
            return int(s.scalar(select(func.count()).select_from(TaskAttachment)) or 0)

    attached = attachments()
    site.gate.hold_thread = "committing"
    committing = threading.Thread(target=commit_task, name="committing")
    committing.start()
    try:
        # The task's upload is stored, its transaction not committed: now the refusal.
        assert site.gate.stored.wait(120), "the task's upload never reached the store"
        assert attachments() == attached  # the reference is in flight, not committed
        before = site.state("")
        refused = site.register(
            "102/KH-MTTW-BTT",
            [(x, "Kế hoạch.pdf", "application/pdf"), (b"\x00" * 64, "b.pdf", "application/pdf")],
        )
        assert refused.status_code == 415, refused.get_json()
        assert site.state("") == before
    finally:
        site.gate.release.set()
        committing.join(timeout=120)
        site.gate.hold_thread = ""
    created = outcome["task"]
    assert created.status_code == 201, created.get_json()
    task = created.get_json()
    got = site.task_file(task)
    assert got.status_code == 200 and got.data == x
    key = _key_of(site, task)
    assert site.store.exists(key)
    assert site.state(key)[1] == 0  # the refused registration left no file row


def test_a_refused_draft_keeps_a_task_file_with_the_same_bytes(site: Site) -> None:
    """The same class on the outgoing side: a draft refused after its first file was stored
    (the second is not what it claims to be) leaves a task's file with those bytes alone."""
    x = make_pdf(title=f"Công văn {uuid.uuid4()}")
    created = site.create_task([(x, "cong-van.pdf")])
    assert created.status_code == 201, created.get_json()
    task = created.get_json()
    key = _key_of(site, task)
    before = site.state(key)
    meta = {
        "doc_type": "CV",
        "subject": "Dự thảo công văn",
        "signer_user_id": str(site.user_id("lanhdao.tw")),
    }
    refused = site.app.test_client().post(
        "/api/v1/outgoing",
        headers=site.h("chuyenvien.dcgs"),
        data={
            "meta": json.dumps(meta),
            "files": [
                (io.BytesIO(x), "du-thao.pdf", "application/pdf"),
                (io.BytesIO(b"PK\x03\x04 not a zip"), "phu-luc.docx", "application/zip"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code in (415, 422), refused.get_json()
    assert site.state(key) == before
    got = site.task_file(task)
    assert got.status_code == 200 and got.data == x


# ---------------------------------------------------------------- the sweeper and its registry

# Columns whose names look like an object key but are not one (with the reason).
NOT_OBJECT_KEYS = {
    "audit_entries.object_type": "the audited record's type",
    "audit_entries.object_id": "the audited record's id",
    "audit_pending_reads.object_type": "the read record's type (a read waiting to be chained)",
    "audit_pending_reads.object_id": "the read record's id",
    "login_throttles.key": "the throttled login's key",
    "rate_counters.key": "a rate-limited client bucket (public endpoints)",
    "exchange_messages.key": "the edXML DocumentId of a package",
    "changes.object_id": "the changed record's id (the change feed)",
    "outbox_messages.key": "what a waiting message stands for (an organisation's statistics)",
}
# Tables with a content hash whose bytes are not kept in the object store.
HASH_WITHOUT_OBJECT = {
    "exchange_messages": "hash of a package as received; its attachments become document files",
}
KEY_LIKE = re.compile(r"(^|_)key$|object|blob|storage")


def test_every_key_like_column_is_in_the_sweepers_registry_or_declared_not_a_key() -> None:
    import docflow.models  # noqa: F401  (every table on the metadata)
    from docflow.db import Base
    from docflow.objects import OBJECT_KEY_COLUMNS

    registered = {f"{c.class_.__tablename__}.{c.key}" for c in OBJECT_KEY_COLUMNS}
    tables_with_keys = {name.split(".")[0] for name in registered}
    unknown = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            if KEY_LIKE.search(column.name) and name not in registered | set(NOT_OBJECT_KEYS):
                unknown.append(name)
            if column.name == "sha256" and table.name not in tables_with_keys | set(
                HASH_WITHOUT_OBJECT
            ):
                unknown.append(name)
    assert unknown == [], (
        "a column may hold an object key: add it to docflow.objects.OBJECT_KEY_COLUMNS "
        "(the sweeper would delete what it names) or to NOT_OBJECT_KEYS here"
    )
    assert registered >= {
        "dossiers.toc_docx_key",
        "dossiers.toc_pdf_key",
        "document_files.object_key",
        "task_attachments.object_key",
        "users.signature_image_key",
    }


def test_the_sweeper_removes_old_orphans_and_keeps_what_each_table_references(
    site: Site,
) -> None:
    from docflow.objects import OBJECT_KEY_COLUMNS, sweep

    store = site.store
    # One object referenced by each registered table, made through the public API where
    # there is one (a signature image is set by the operator's PKI tooling: a row update).
    task = site.create_task([(make_pdf(title=f"Nhiệm vụ {uuid.uuid4()}"), "nv.pdf")])
    assert task.status_code == 201, task.get_json()
    doc = site.register(
        "104/KH-MTTW-BTT", [(make_pdf(title=f"Đến {uuid.uuid4()}"), "den.pdf", "application/pdf")]
    )
    assert doc.status_code == 201, doc.get_json()
    image = store.put(io.BytesIO(f"signature {uuid.uuid4()}".encode()), "image/png")
    with site.factory() as s, s.begin():
        s.execute(
            update(User).where(User.username == "lanhdao.tw").values(signature_image_key=image.key)
        )
    referenced: dict[str, str] = {}
    with site.factory() as s:
        referenced["task_attachments.object_key"] = _key_of(site, task.get_json())
        referenced["document_files.object_key"] = s.scalars(
            select(DocumentFile.object_key).where(DocumentFile.document_id == doc.get_json()["id"])
        ).one()
    referenced["users.signature_image_key"] = image.key
    # A citizen's photo, through the public feedback API (content-addressed on S3 as well).
    from PIL import Image

    from docflow.models import FeedbackFile, FeedbackItem

    png = io.BytesIO()
    Image.new("RGB", (40, 30), tuple(uuid.uuid4().bytes[:3])).save(png, "PNG")
    meta = {
        "organization_code": "000.01.01.Z01",
        "content": f"Ảnh hiện trường {uuid.uuid4()}",
        "consent": True,
    }
    fb = site.app.test_client().post(
        "/api/v1/public/feedback",
        data={"meta": json.dumps(meta), "files": [(io.BytesIO(png.getvalue()), "anh.png")]},
        content_type="multipart/form-data",
    )
    assert fb.status_code == 201, fb.get_json()
    with site.factory() as s:
        referenced["feedback_files.object_key"] = s.scalars(
            select(FeedbackFile.object_key)
            .join(FeedbackItem, FeedbackItem.id == FeedbackFile.feedback_id)
            .where(FeedbackItem.tracking_code == fb.get_json()["tracking_code"])
        ).one()
    # A closed dossier's table of contents (DOCX and PDF), as closing stores them.
    from docflow.models import Dossier

    toc = {
        col: store.put(io.BytesIO(f"{col} {uuid.uuid4()}".encode()), "application/pdf").key
        for col in ("toc_docx_key", "toc_pdf_key")
    }
    with site.factory() as s, s.begin():
        clerk = s.scalars(select(User).where(User.username == "vanthu.tw")).one()
        s.add(
            Dossier(
                organization_id=clerk.organization_id,
                year=2026,
                code="TOC.01",
                title="Hồ sơ có mục lục",
                keeper_id=clerk.id,
                state="closed",
                **toc,
            )
        )
    for col, key in toc.items():
        referenced[f"dossiers.{col}"] = key
    # A periodic report's signed PDF: the approval waiting to be submitted, a submitted version.
    from docflow.models import ReportForm, ReportRequest, ReportSubmission

    signed = {
        table: store.put(io.BytesIO(f"{table} {uuid.uuid4()}".encode()), "application/pdf").key
        for table in ("report_requests", "report_submissions")
    }
    with site.factory() as s, s.begin():
        leader = s.scalars(select(User).where(User.username == "lanhdao.tw")).one()
        now = dt.datetime.now(dt.UTC)
        form = ReportForm(
            organization_id=leader.organization_id,
            title="Báo cáo có PDF",
            fields=[{"key": "n", "label": "N", "type": "number"}],
            period="once",
            once_deadline=now.date(),
            recipients={"scope": "children"},
            created_by_id=leader.id,
            created_at=now,
        )
        s.add(form)
        s.flush()
        req = ReportRequest(
            form_id=form.id,
            organization_id=leader.organization_id,
            period="once",
            period_start=now.date(),
            period_end=now.date(),
            deadline=now.date(),
            state="approved",
            values={"n": 1},
            prefilled={},
            version=1,
            submitted_late=False,
            created_at=now,
            pdf_key=signed["report_requests"],
        )
        s.add(req)
        s.flush()
        s.add(
            ReportSubmission(
                request_id=req.id,
                version=1,
                values={"n": 1},
                submitted_at=now,
                submitted_by_id=leader.id,
                pdf_key=signed["report_submissions"],
            )
        )
    for table, key in signed.items():
        referenced[f"{table}.pdf_key"] = key
    assert set(referenced) == {f"{c.class_.__tablename__}.{c.key}" for c in OBJECT_KEY_COLUMNS}
    orphan = store.put(io.BytesIO(f"orphan {uuid.uuid4()}".encode()), "application/pdf")

    def uow() -> UnitOfWork:
        return UnitOfWork(site.factory)

    # Young: nothing goes (the orphan may belong to a transaction still committing).
    now = dt.datetime.now(dt.UTC)
    report = sweep(uow, store, now=now)
    assert orphan.key not in report.deleted and store.exists(orphan.key)
    # Past the grace period: the orphan goes, every referenced object stays.
    report = sweep(uow, store, now=now + dt.timedelta(days=2))
    assert orphan.key in report.deleted and not store.exists(orphan.key)
    for column, key in referenced.items():
        assert key not in report.deleted, column
        assert store.exists(key), column
    got = site.task_file(task.get_json())
    assert got.status_code == 200


def test_no_request_path_deletes_an_object() -> None:
    """The class, not the instance: nothing under app/, docflow/ or interop/ calls a store's
    delete, except the sweeper in docflow.objects (through storage.sweep_orphans)."""
    root = Path(__file__).resolve().parents[2]
    calls = []
    for package in ("app", "docflow", "interop"):
        for path in (root / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for match in re.finditer(r"\b(store|backend)\w*\.delete\(", text):
                calls.append(f"{path.relative_to(root)}:{text[: match.start()].count(chr(10)) + 1}")
    assert calls == []


def test_the_sweeper_never_deletes_what_a_racing_registration_commits(site: Site) -> None:
    """Files review (low, fixed): a registration refused after its PDF was stored leaves an
    orphan; a day later the clerk registers the same PDF again just as the sweeper reaches
    that object. Before the fix the upload found the object still there, kept it, and its row
    committed while the sweeper deleted it: a document whose file existed nowhere. Now the
    upload holds the object's advisory lock (shared) from before the store looks the key up
    until its commit, and the sweeper holds it (exclusive) around its last check and the
    deletion: the registration waits, then stores the bytes again."""
    from docflow.objects import sweep

    x = make_pdf(title=f"Kế hoạch lặp lại {uuid.uuid4()}")
    refused = site.register(
        "301/KH-MTTW-BTT",
        [(x, "Kế hoạch.pdf", "application/pdf"), (b"not a pdf", "b.pdf", "application/pdf")],
    )
    assert refused.status_code == 415, refused.get_json()
    key = content_key(hashlib.sha256(x).hexdigest(), encrypted=False)
    assert site.store.exists(key)  # the orphan
    answers: dict[str, Any] = {}

    def waiting_on_a_lock() -> bool:
        with site.factory() as s:
            return bool(
                s.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                )
            )

    class Racing:
        """The real store; the second registration (another request) starts as the sweeper is
        about to delete the orphan, and the deletion goes ahead once that registration has
        either finished or waits on a lock."""

        def __getattr__(self, name: str) -> Any:
            return getattr(site.store, name)

        def delete(self, k: str) -> bool:
            if k == key and "clerk" not in answers:
                clerk = threading.Thread(
                    target=lambda: answers.update(
                        retry=site.register(
                            "302/KH-MTTW-BTT", [(x, "Kế hoạch.pdf", "application/pdf")]
                        )
                    )
                )
                answers["clerk"] = clerk
                clerk.start()
                deadline = time.monotonic() + 60
                while clerk.is_alive() and not waiting_on_a_lock():
                    assert time.monotonic() < deadline, "the registration neither ended nor waited"
                    time.sleep(0.05)
            return bool(site.store.delete(k))

    sweep(
        lambda: UnitOfWork(site.factory),
        Racing(),  # type: ignore[arg-type]
        now=dt.datetime.now(dt.UTC) + dt.timedelta(days=2),
    )
    answers["clerk"].join(120)
    retry = answers["retry"]
    assert retry.status_code == 201, retry.get_json()
    body = retry.get_json()
    with site.factory() as s:
        stored = s.scalars(
            select(DocumentFile.object_key).where(DocumentFile.id == body["files"][0]["id"])
        ).one()
    assert stored == key
    assert site.store.exists(key), "a committed row's object was swept"
    got = site.app.test_client().get(
        f"/api/v1/documents/{body['id']}/files/{body['files'][0]['id']}/content",
        headers=site.h("vanthu.tw"),
    )
    assert got.status_code == 200 and got.data == x
