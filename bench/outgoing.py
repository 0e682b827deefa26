"""Outgoing documents: DOCX→PDF latency with the warm converter next to a cold
``soffice --convert-to pdf`` of the same file (same run, the ratio), and the end-to-end time
from the clerk's ``issue`` to the recipient's ``arrived`` document (p50/p95).

    python -m bench.outgoing [--quick]

The DOCX is a Decree 30 draft from the template (two pages). The cold baseline reuses one
LibreOffice profile (as a script calling ``soffice --convert-to`` would after its first run);
the very first cold run, which also creates the profile, is reported on its own.

End to end, on PostgreSQL (``DHTN_BENCH_DATABASE_URL``): documents signed by the leader are
issued (number, date, seal signature with the demo PKI, B-T) and dispatched by the clerk through
the real services; a worker thread plays the Celery worker, taking outbox messages as they are
published and delivering to the province. Measured: issue called → the recipient's document
committed in state ``arrived``.
"""

from __future__ import annotations

import argparse
import io
import os
import queue
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.config import Settings
from app.conversion import LibreOfficeConverter, cold_convert
from app.pki import DemoSigning
from bench.register_numbers import fresh_database
from docflow import UnitOfWork, load_actor, local_date, make_engine, make_session_factory
from docflow.demo import DEMO_ORGS, attach_signature_images, seed_demo, signing_people
from docflow.enums import Role
from docflow.models import Delivery, Document, Organization, User
from docflow.outbox import process_message
from docflow.outgoing import actions as outgoing_actions
from docflow.outgoing import dispatch
from docflow.outgoing.commands import DraftMeta
from docflow.outgoing.drafts import create_draft
from docflow.outgoing.template import TemplateContent, render_docx
from docflow.uow import Queued
from docflow.uploads import Upload
from signing import (
    make_sample_document,
    render_signature_image,
)
from signing.testpki import (
    OrgSpec,
    UserSpec,
    generate_demo_pki,
)
from storage import open_store

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_outgoing"
BODY = "\n".join(
    [
        "Thực hiện Chương trình phối hợp giám sát năm 2026, Ban Thường trực đề nghị Ủy ban Mặt "
        "trận Tổ quốc Việt Nam các tỉnh, thành phố tổ chức giám sát việc thực hiện chính sách an "
        "sinh xã hội tại địa phương, báo cáo kết quả trước ngày 15 tháng 12 năm 2026."
    ]
    * 14
)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def sample_docx() -> bytes:
    return render_docx(
        TemplateContent(
            organization_name="Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam",
            parent_name=None,
            type_name="Kế hoạch",
            subject="Giám sát việc thực hiện chính sách an sinh xã hội năm 2026",
            body=BODY,
            recipients=("Ủy ban MTTQ Việt Nam các tỉnh, thành phố",),
            archive_unit="DCGSPBXH",
            competence="TM.",
            authority="Ban Thường trực",
            position="Phó Chủ tịch",
            signer_name="Lê Văn Minh",
        )
    )


def bench_conversion(work: Path, warm_runs: int, cold_runs: int) -> None:
    docx = sample_docx()
    converter = LibreOfficeConverter(work / "warm", timeout=120)
    t = time.perf_counter()
    converter.start()
    startup = time.perf_counter() - t
    converter.to_pdf(docx, "warmup.docx")  # the first document loads the Writer filters
    warm = []
    for i in range(warm_runs):
        t = time.perf_counter()
        converter.to_pdf(docx, f"{i}.docx")
        warm.append(time.perf_counter() - t)
    starts = converter.starts
    converter.close()

    source = work / "draft.docx"
    source.write_bytes(docx)
    profile = work / "cold-profile"
    soffice = shutil.which("soffice") or "soffice"
    t = time.perf_counter()
    cold_convert(soffice, source, work / "out-first", profile, 180)
    first_cold = time.perf_counter() - t
    cold = []
    for i in range(cold_runs):
        t = time.perf_counter()
        cold_convert(soffice, source, work / f"out-{i}", profile, 180)
        cold.append(time.perf_counter() - t)

    print("DOCX → PDF (template draft, 2 pages)")
    print(
        f"  warm converter : start {startup * 1000:7.0f} ms once; per file p50 {pct(warm, 0.5):7.1f} ms"
        f"  p95 {pct(warm, 0.95):7.1f} ms  ({warm_runs} files, LibreOffice started {starts}×)"
    )
    print(
        f"  cold soffice   : first run {first_cold * 1000:7.0f} ms (creates the profile); then p50"
        f" {pct(cold, 0.5):7.1f} ms  p95 {pct(cold, 0.95):7.1f} ms  ({cold_runs} runs)"
    )
    print(f"  ratio cold/warm (p50): {statistics.median(cold) / statistics.median(warm):5.1f}×")


class Worker:
    """Plays the Celery worker: outbox messages published after each commit are handled in
    order by one thread, as a worker with one slot would."""

    def __init__(self, factory: Any, store: Any) -> None:
        self.factory, self.store = factory, store
        self.inbox: queue.Queue[uuid.UUID | None] = queue.Queue()
        self.done: dict[uuid.UUID, float] = {}
        self.handlers = {
            dispatch.TOPIC_DELIVER: [self._deliver],
            dispatch.TOPIC_STATE_CHANGED: [dispatch.record_recipient_status],
        }
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def publish(self, queued: Sequence[Queued]) -> None:
        for message_id, _topic in queued:
            self.inbox.put(message_id)

    def _deliver(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        dispatch.deliver_internal(uow, payload)

    def _run(self) -> None:
        while True:
            message_id = self.inbox.get()
            if message_id is None:
                return
            uow = UnitOfWork(self.factory, store=self.store, publisher=self.publish)
            process_message(uow, message_id, self.handlers)
            self.done[message_id] = time.perf_counter()

    def stop(self) -> None:
        self.inbox.put(None)
        self.thread.join(timeout=30)


def bench_end_to_end(url: str, work: Path, runs: int) -> None:
    fresh_database(url)
    engine = make_engine(url, pool_size=8)
    factory = make_session_factory(engine)
    store = open_store(f"file://{work / 'objects'}")
    store.initialize()
    seed_demo(UnitOfWork(factory), password="bench-outgoing")
    pki = generate_demo_pki(
        work / "data" / "pki",
        organizations=[OrgSpec(o.code_prefix + "Z01", o.name) for o in DEMO_ORGS],
        users=[
            UserSpec(u.username, u.full_name, o.code_prefix + "Z01")
            for o in DEMO_ORGS
            for u in o.users
            if set(u.roles) & {Role.LEADER, Role.CLERK}
        ],
    )
    keys = {
        p.user_id: store.put(io.BytesIO(render_signature_image(p.full_name)), "image/png").key
        for p in signing_people(UnitOfWork(factory))
    }
    attach_signature_images(UnitOfWork(factory), keys)
    settings = Settings.from_env({"DHTN_DATA_DIR": str(work / "data"), "DHTN_DATABASE_URL": url})
    signing = DemoSigning(settings, pki)
    worker = Worker(factory, store)

    def uow() -> UnitOfWork:
        return UnitOfWork(factory, store=store, signing=signing, publisher=worker.publish)

    with factory() as s:
        today = local_date(time_now())
        user = {
            name: load_actor(
                s, s.scalars(select(User).where(User.username == name)).one().id, today
            )
            for name in ("chuyenvien.dcgs", "lanhdao.tw", "vanthu.tw")
        }
        province = s.scalars(select(Organization).where(Organization.code == "000.00.01.Z01")).one()
    pdf = make_sample_document(1).pdf
    signed = []
    for i in range(runs + 1):
        meta = DraftMeta.model_validate(
            {
                "doc_type": "KH",
                "subject": f"Kế hoạch {i}",
                "signer_user_id": str(user["lanhdao.tw"].user_id),
                "recipients": [{"organization_id": str(province.id)}],
            }
        )
        doc = create_draft(
            uow(),
            user["chuyenvien.dcgs"],
            meta,
            [Upload(io.BytesIO(pdf), "d.pdf", "application/pdf")],
        )
        outgoing_actions.act(
            uow(),
            user["chuyenvien.dcgs"],
            doc.id,
            "submit_for_review",
            {"to_user_id": str(user["lanhdao.tw"].user_id)},
        )
        outgoing_actions.act(uow(), user["lanhdao.tw"], doc.id, "sign", {})
        signed.append(doc.id)
    totals, issue_part = [], []
    clerk = user["vanthu.tw"]
    for i, doc_id in enumerate(signed):
        t0 = time.perf_counter()
        outgoing_actions.act(uow(), clerk, doc_id, "issue", {})
        t1 = time.perf_counter()
        outgoing_actions.act(uow(), clerk, doc_id, "dispatch", {})
        arrived = wait_arrived(factory, doc_id)
        if i == 0:
            continue  # the first sizes the signature container and warms the caches
        totals.append(arrived - t0)
        issue_part.append(t1 - t0)
    worker.stop()
    engine.dispose()
    print(f"issue → recipient's arrived document ({runs} documents, PostgreSQL, B-T seal)")
    print(f"  end to end      : p50 {pct(totals, 0.5):7.1f} ms  p95 {pct(totals, 0.95):7.1f} ms")
    print(
        f"  of which issue  : p50 {pct(issue_part, 0.5):7.1f} ms  p95 {pct(issue_part, 0.95):7.1f} ms"
        "  (number + seal signature, register row locked)"
    )


def time_now() -> Any:
    from docflow import utcnow

    return utcnow()


def wait_arrived(factory: Any, doc_id: uuid.UUID, timeout: float = 60) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with factory() as s:
            copy = s.scalar(
                select(Document.id)
                .join(Delivery, Delivery.recipient_document_id == Document.id)
                .where(Delivery.document_id == doc_id, Document.state == "arrived")
            )
        if copy is not None:
            return time.perf_counter()
        time.sleep(0.005)
    raise TimeoutError("the recipient's document never arrived")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    args = parser.parse_args()
    url = os.environ.get("DHTN_BENCH_DATABASE_URL", DEFAULT_URL)
    with tempfile.TemporaryDirectory(prefix="dhtn-bench-outgoing-") as tmp:
        work = Path(tmp)
        bench_conversion(work, warm_runs=5 if args.quick else 30, cold_runs=2 if args.quick else 5)
        bench_end_to_end(url, work, runs=5 if args.quick else 30)


if __name__ == "__main__":
    main()
