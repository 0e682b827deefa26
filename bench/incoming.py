"""Incoming documents on PostgreSQL: registration throughput with a 1 MB PDF (p50/p95), and the
p95 of the clerk's "waiting for me" box and of a search, with 10,000 and with 1,000,000
documents in the organisation (generated in bulk). Prints the growth from 10k to 1M.

    python -m bench.incoming [--quick] [--big 1000000] [--small 10000]

Registration goes through the real service (upload checks, local object store, number
allocation, trail, audit). The bulk documents are written with COPY, most of them closed (done),
a realistic few still open, so the box is what a clerk sees in a busy year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable

from sqlalchemy import select, text
from sqlalchemy.orm import sessionmaker

from bench.register_numbers import fresh_database
from docflow import UnitOfWork, incoming, load_actor, local_date, make_engine
from docflow.demo import seed_demo
from docflow.documents import queries as documents
from docflow.documents.text import search_text
from docflow.ids import new_id
from docflow.incoming.commands import RegisterIncoming
from docflow.models import Organization, Register, User
from docflow.uploads import Upload
from storage import open_store

OPEN_TAIL = 300  # documents still open in the clerk's box, whatever the archive's size
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_incoming"
WORDS = [
    "kế",
    "hoạch",
    "báo",
    "cáo",
    "tổ",
    "chức",
    "hội",
    "nghị",
    "giám",
    "sát",
    "phản",
    "biện",
    "xã",
    "hội",
    "đại",
    "đoàn",
    "kết",
    "toàn",
    "dân",
    "tộc",
    "an",
    "sinh",
    "nông",
    "thôn",
    "mới",
    "chuyển",
    "đổi",
    "số",
    "công",
    "tác",
    "mặt",
    "trận",
]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def make_big_pdf(size: int) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    w.add_metadata({"/Padding": "x" * size})
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def bulk_documents(
    engine: object, org_id: uuid.UUID, register_id: uuid.UUID, count: int, start_number: int
) -> None:
    """COPY ``count`` documents: all closed but the newest OPEN_TAIL (registered, arrived or done)."""
    rng = random.Random(count)
    now = dt.datetime.now(dt.UTC)
    cols = (
        "id, organization_id, direction, state, register_id, register_number, notation, doc_type, subject, "
        "issuer_name, issued_date, received_at, registered_at, listed_at, urgency, urgency_rank, secrecy, "
        "secrecy_rank, source, search_text, created_at, updated_at, version"
    )
    raw = engine.raw_connection()  # type: ignore[attr-defined]
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY documents ({cols}) FROM STDIN") as copy:
            for i in range(count):
                number = start_number + i
                subject = " ".join(rng.choices(WORDS, k=9)).capitalize()
                # An archive: old documents are closed; only the newest few still wait.
                fresh = i >= count - OPEN_TAIL
                state = rng.choice(["registered", "arrived", "done"]) if fresh else "done"
                at = now - dt.timedelta(minutes=count - i)
                urgency = "urgent" if rng.random() < 0.05 else "normal"
                notation = f"{number}/KH-B{i % 97}"
                issuer = f"Ủy ban MTTQ xã {i % 500}"
                copy.write_row(
                    (
                        new_id(),
                        org_id,
                        "incoming",
                        state,
                        register_id,
                        number,
                        notation,
                        "KH",
                        subject,
                        issuer,
                        at.date(),
                        at,
                        at,
                        at,
                        urgency,
                        1 if urgency == "urgent" else 0,
                        "none",
                        0,
                        "paper",
                        search_text(notation, subject, issuer),
                        at,
                        at,
                        1,
                    )
                )
        cur.execute(
            "UPDATE registers SET last_number = %s WHERE id = %s",
            (start_number + count - 1, register_id),
        )
        raw.commit()
    finally:
        raw.close()


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k instead of 1M, fewer samples")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--registrations", type=int, default=60)
    args = parser.parse_args()
    big = 100_000 if args.quick else args.big
    samples = 30 if args.quick else 100
    url = os.environ.get("DHTN_BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    engine = make_engine(url, pool_size=5)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"file://{tmp}/objects")
        store.initialize()

        def uow() -> UnitOfWork:
            return UnitOfWork(factory, store=store)

        seed_demo(uow(), password="bench-password-x")
        with factory() as s:
            clerk = s.scalars(select(User).where(User.username == "vanthu.tw")).one()
            actor = load_actor(s, clerk.id, local_date(dt.datetime.now(dt.UTC)))
            org = s.scalars(select(Organization).where(Organization.code == "000.00.00.Z01")).one()
            reg = s.scalars(
                select(Register).where(
                    Register.organization_id == org.id, Register.direction == "incoming"
                )
            ).one()

        # 1. Registrations with a 1 MB PDF, each a different file (no dedupe shortcut).
        base_pdf = make_big_pdf(1024 * 1024)
        lat: list[float] = []
        t_all = time.perf_counter()
        for i in range(args.registrations):
            pdf = base_pdf.replace(b"/Padding (x", b"/Padding (" + str(i).encode()[:1], 1)
            cmd = RegisterIncoming(
                notation=f"{i + 1}/KH-BENCH",
                doc_type="KH",
                subject="Kế hoạch đo hiệu năng",
                issuer={"name": "Bench"},
                issued_date=dt.date(2026, 11, 20),  # type: ignore[arg-type]
            )
            t0 = time.perf_counter()
            incoming.register_incoming(
                uow(), actor, cmd, [Upload(io.BytesIO(pdf), f"{i}.pdf", "application/pdf")]
            )
            lat.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - t_all
        print(f"incoming bench on PostgreSQL (pdf {len(base_pdf) / 1e6:.1f} MB)")
        print(
            f"registration: {args.registrations / elapsed:.1f}/s   p50 {pct(lat, 0.5):.1f} ms   p95 {pct(lat, 0.95):.1f} ms"
        )

        # 2. The box and search at two sizes; between them the earlier open ones get closed,
        # so the box holds the same few hundred documents over a growing archive.
        queries = {
            "box": documents.DocumentQuery(direction="incoming", box="inbox", limit=50),
            "search common words": documents.DocumentQuery(
                direction="incoming", box="all", q="giam sat phan bien", limit=50
            ),
            "search a notation": documents.DocumentQuery(
                direction="incoming", box="all", q="5017/kh-b", limit=50
            ),
        }
        results: dict[int, dict[str, tuple[float, float]]] = {}
        loaded = args.registrations
        for size in (args.small, big):
            with engine.begin() as c:
                c.execute(text("UPDATE documents SET state = 'done' WHERE notation LIKE '%/KH-B%'"))
            bulk_documents(engine, org.id, reg.id, size - loaded, loaded + 1)
            loaded = size
            with engine.begin() as c:
                c.execute(text("ANALYZE documents"))
            results[size] = {}
            for name, query in queries.items():
                documents.list_documents(uow(), actor, query)  # warm
                t = timed(lambda q=query: documents.list_documents(uow(), actor, q), samples)
                results[size][name] = (pct(t, 0.5), pct(t, 0.95))
            line = " | ".join(
                f"{n} p50 {v[0]:.1f} p95 {v[1]:.1f} ms" for n, v in results[size].items()
            )
            print(f"{size:>9,} docs: {line}")
        growth = ", ".join(
            f"{n} p95 ×{results[big][n][1] / results[args.small][n][1]:.2f}" for n in queries
        )
        print(f"growth {args.small:,} → {big:,}: {growth}")
    engine.dispose()


if __name__ == "__main__":
    main()
