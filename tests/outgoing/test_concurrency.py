"""Concurrent issuing on real PostgreSQL (committed transactions, one connection per thread):
numbers are consecutive with no duplicate and no gap, also when some signatures fail while the
register row is locked."""

from __future__ import annotations

import io
import shutil
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.pki import DemoSigning
from docflow import UnitOfWork, load_actor, local_date, make_engine, make_session_factory
from docflow.demo import seed_demo
from docflow.errors import DomainError
from docflow.models import Document, Register, User
from docflow.outgoing import actions as outgoing_actions
from docflow.outgoing import drafts as outgoing
from docflow.outgoing.commands import DraftMeta
from docflow.uploads import Upload
from migrations import upgrade
from signing import make_sample_document
from storage import open_store
from tests.conftest import Clock, fresh_pg_database, make_test_settings
from tests.outgoing.conftest import attach_images

pytestmark = pytest.mark.pg

DOCS = 12
FAIL_EVERY = 3


def _broken(provider: DemoSigning) -> DemoSigning:
    """A provider whose timestamp service is unreachable: signing fails *after* the number was
    allocated, inside the issuing transaction."""
    broken = DemoSigning(provider.settings, provider.pki())
    good = provider.options()
    broken._options = (
        float("inf"),
        replace(good, timestamper=None, tsa_url="http://127.0.0.1:9/tsa", tsa_timeout=2),
    )
    return broken


def test_concurrent_issuing_never_duplicates_nor_skips(tmp_path: Path, demo_pki_dir: Path) -> None:
    url = fresh_pg_database("_outgoing_issue")
    upgrade(url)
    engine = make_engine(url, pool_size=DOCS + 4)
    factory = make_session_factory(engine)
    clock = Clock()
    store = open_store(f"file://{tmp_path / 'objects'}")
    store.initialize()
    settings = make_test_settings(tmp_path, url)
    shutil.copytree(demo_pki_dir, settings.data_dir / "pki")
    try:
        seed_demo(UnitOfWork(factory, clock=clock), password="concurrency-test")
        attach_images(factory, clock, store)
        good = DemoSigning(settings)
        bad = _broken(good)

        def uow(provider: Any) -> UnitOfWork:
            return UnitOfWork(factory, clock=clock, store=store, signing=provider)

        def actor(username: str) -> Any:
            with factory() as s:
                user = s.scalars(select(User).where(User.username == username)).one()
                return load_actor(s, user.id, local_date(clock()))

        drafter, leader, clerk = actor("chuyenvien.dcgs"), actor("lanhdao.tw"), actor("vanthu.tw")
        pdf = make_sample_document(1).pdf
        docs: list[uuid.UUID] = []
        for i in range(DOCS):
            meta = DraftMeta.model_validate(
                {
                    "doc_type": "KH",
                    "subject": f"Kế hoạch số {i}",
                    "signer_user_id": str(leader.user_id),
                }
            )
            doc = outgoing.create_draft(
                uow(good), drafter, meta, [Upload(io.BytesIO(pdf), "d.pdf", "application/pdf")]
            )
            outgoing_actions.act(
                uow(good), drafter, doc.id, "submit_for_review", {"to_user_id": str(leader.user_id)}
            )
            outgoing_actions.act(uow(good), leader, doc.id, "sign", {})
            docs.append(doc.id)

        barrier = threading.Barrier(DOCS)
        issued: dict[uuid.UUID, int] = {}
        refused: dict[uuid.UUID, str] = {}
        crashed: list[BaseException] = []
        lock = threading.Lock()

        def issue(index: int, doc_id: uuid.UUID) -> None:
            provider = bad if index % FAIL_EVERY == 0 else good
            barrier.wait()
            try:
                doc = outgoing_actions.act(uow(provider), clerk, doc_id, "issue", {})
                with lock:
                    issued[doc_id] = int(doc.register_number or 0)
            except DomainError as exc:
                with lock:
                    refused[doc_id] = exc.code
            except BaseException as exc:  # pragma: no cover - reported below
                crashed.append(exc)

        threads = [threading.Thread(target=issue, args=(i, d)) for i, d in enumerate(docs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not crashed, crashed
        failing = {d for i, d in enumerate(docs) if i % FAIL_EVERY == 0}
        assert set(refused) == failing and set(refused.values()) == {"timestamp_unavailable"}
        assert sorted(issued.values()) == list(range(1, DOCS - len(failing) + 1))

        def register_state() -> tuple[int, dict[uuid.UUID, int | None]]:
            with factory() as s:
                reg = s.scalars(
                    select(Register).where(
                        Register.direction == "outgoing",
                        Register.organization_id == clerk.organization_id,
                    )
                ).one()
                numbers = {
                    d.id: d.register_number
                    for d in s.scalars(select(Document).where(Document.id.in_(docs)))
                }
                return reg.last_number, numbers

        last, numbers = register_state()
        assert last == len(issued)
        assert all(numbers[d] is None for d in failing)
        # Those issued again later take the next numbers: the series stays unbroken.
        for doc_id in failing:
            outgoing_actions.act(uow(good), clerk, doc_id, "issue", {})
        last, numbers = register_state()
        assert last == DOCS and sorted(n for n in numbers.values() if n) == list(range(1, DOCS + 1))
    finally:
        engine.dispose()
