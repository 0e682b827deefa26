"""Dossiers at size: the archive package (BagIt ZIP) of a dossier of 500 documents, and filing
1,000 documents into a dossier at once.

    python -m bench.dossiers [--quick] [--docs 500] [--mb-per-doc 4] [--bulk 1000]

The package is compared with a baseline measured in the same run: streaming the same stored
objects to files in a directory (what any package must at least do). Peak memory is the
process's resident-set growth while building (the package streams: it must stay flat,
independent of the dossier's size). Bulk filing is compared with filing documents one call at a
time (100 calls, per document).

Prints time, throughput (MB/s, documents/s), peak memory growth and the ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from bench.register_numbers import fresh_database

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_dossiers"


def rss_mb() -> float:
    """Current resident set (Linux /proc), in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


class PeakSampler:
    """Samples the resident set every 20 ms in a thread; ``growth`` is peak minus start."""

    def __init__(self) -> None:
        import threading

        self.start = rss_mb()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.02)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())

    @property
    def growth(self) -> float:
        return self.peak - self.start


def make_documents(factory: sessionmaker[Any], store: Any, n: int, size: int) -> list[uuid.UUID]:
    """``n`` registered incoming documents of the central organisation, each with one stored
    file of ``size`` random bytes (distinct content: no de-duplication helps)."""
    from sqlalchemy import select

    from docflow.documents.text import search_text
    from docflow.models import Document, DocumentFile, Organization, User

    ids: list[uuid.UUID] = []
    now = dt.datetime.now(dt.UTC)
    with factory() as s:
        org = s.scalars(select(Organization).where(Organization.code == "000.00.00.Z01")).one()
        clerk = s.scalars(select(User).where(User.username == "vanthu.tw")).one()
        for i in range(n):
            ref = store.put(_RandomStream(size), "application/pdf")
            doc = Document(
                organization_id=org.id,
                direction="incoming",
                state="done",
                notation=f"{i + 1}/BC-BENCH",
                doc_type="BC",
                subject=f"Báo cáo số {i + 1} của đợt đo",
                issuer_name="Ủy ban MTTQ Việt Nam tỉnh Demo",
                issued_date=dt.date(2026, 11, 1),
                received_at=now,
                registered_at=now,
                listed_at=now,
                source="paper",
                page_count=2,
                created_by_id=clerk.id,
                search_text=search_text(f"{i + 1}/BC-BENCH", "Báo cáo", None),
                created_at=now,
                updated_at=now,
            )
            s.add(doc)
            s.flush()
            s.add(
                DocumentFile(
                    document_id=doc.id,
                    kind="main",
                    name=f"Báo cáo {i + 1}.pdf",
                    size=ref.size,
                    sha256=ref.sha256,
                    content_type="application/pdf",
                    object_key=ref.key,
                    created_by_id=clerk.id,
                    created_at=now,
                )
            )
            ids.append(doc.id)
            if i % 100 == 99:
                s.commit()
        s.commit()
    return ids


class _RandomStream:
    """``size`` random bytes, read in chunks (never all in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n is None or n < 0 else min(n, self.left)
        n = min(n, 1024 * 1024)
        self.left -= n
        return os.urandom(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 documents of 256 KB, bulk 200")
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--mb-per-doc", type=float, default=4.0)
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--url", default=os.environ.get("DHTN_BENCH_DOSSIERS_URL", DEFAULT_URL))
    args = parser.parse_args()
    if args.quick:
        args.docs, args.mb_per_doc, args.bulk = 100, 0.25, 200
    size = int(args.mb_per_doc * 1024 * 1024)

    from docflow import UnitOfWork, load_actor, local_date, make_engine
    from docflow.demo import seed_demo
    from docflow.dossiers import (
        DossierActionCommand,
        FileInto,
        OpenDossier,
        act_on_dossier,
        build_package,
        file_into,
        open_dossier,
    )
    from docflow.models import User
    from migrations import upgrade
    from storage import open_store

    fresh_database(args.url)
    upgrade(args.url)
    engine = make_engine(args.url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with tempfile.TemporaryDirectory(prefix="dhtn-bench-dossiers-") as tmp:
        root = Path(tmp)
        store = open_store(f"file://{root / 'objects'}")
        store.initialize()
        seed_demo(UnitOfWork(factory), password="bench-password-dossiers")

        def uow() -> UnitOfWork:
            return UnitOfWork(factory, store=store)

        def actor(username: str) -> Any:
            from sqlalchemy import select

            with factory() as s:
                user = s.scalars(select(User).where(User.username == username)).one()
                return load_actor(s, user.id, local_date(dt.datetime.now(dt.UTC)))

        clerk = actor("vanthu.tw")
        org = clerk.organization_id
        t0 = time.perf_counter()
        docs = make_documents(factory, store, max(args.docs, args.bulk), size)
        print(
            f"made {len(docs)} documents of {args.mb_per_doc} MB in {time.perf_counter() - t0:.1f} s"
        )

        def new_dossier(code: str) -> Any:
            return open_dossier(
                uow(),
                clerk,
                OpenDossier.model_validate(
                    {"organization_id": org, "year": 2026, "code": code,
                     "title": "Hồ sơ đo hiệu năng", "retention_years": 10}
                ),
            )  # fmt: skip

        # Bulk filing: N at once vs one call per document.
        d_bulk = new_dossier("BULK")
        t0 = time.perf_counter()
        _, results = file_into(uow(), clerk, d_bulk.id, FileInto(document_ids=docs[: args.bulk]))
        bulk_s = time.perf_counter() - t0
        assert all(r.ok for r in results) and len(results) == args.bulk
        d_one = new_dossier("ONE")
        singles = []
        for doc in docs[:100]:
            t = time.perf_counter()
            file_into(uow(), clerk, d_one.id, FileInto(document_id=doc))
            singles.append(time.perf_counter() - t)
        singles.sort()
        per_single = sum(singles) / len(singles)
        print(
            f"bulk filing {args.bulk}: {bulk_s:.2f} s = {args.bulk / bulk_s:.0f} documents/s; "
            f"one at a time: p50 {singles[len(singles) // 2] * 1000:.1f} ms, "
            f"p95 {singles[int(len(singles) * 0.95)] * 1000:.1f} ms per call; "
            f"ratio bulk/one-at-a-time per document {bulk_s / args.bulk / per_single:.2f}"
        )

        # The package of a dossier of --docs documents.
        d_pkg = new_dossier("PKG")
        file_into(uow(), clerk, d_pkg.id, FileInto(document_ids=docs[: args.docs]))
        act_on_dossier(uow(), clerk, d_pkg.id, DossierActionCommand(action="close"))
        total_mb = args.docs * size / 1e6
        base_dir = root / "baseline"
        base_dir.mkdir()
        from sqlalchemy import select

        from docflow.models import DocumentFile

        with factory() as s:
            keys = list(
                s.scalars(
                    select(DocumentFile.object_key).where(
                        DocumentFile.document_id.in_(docs[: args.docs])
                    )
                )
            )
        with PeakSampler() as base_mem:
            t0 = time.perf_counter()
            for i, key in enumerate(keys):
                with store.open(key, verify=True) as reader, (base_dir / f"{i}").open("wb") as out:
                    for chunk in reader.iter_chunks():
                        out.write(chunk)
            base_s = time.perf_counter() - t0
        shutil.rmtree(base_dir)
        work = root / "bag"
        work.mkdir()
        with PeakSampler() as pkg_mem:
            t0 = time.perf_counter()
            path, _ = build_package(uow(), clerk, d_pkg.id, work)
            pkg_s = time.perf_counter() - t0
        zip_mb = path.stat().st_size / 1e6
        print(
            f"package of {args.docs} documents / {total_mb:.0f} MB: {pkg_s:.1f} s "
            f"({total_mb / pkg_s:.0f} MB/s), ZIP {zip_mb:.0f} MB, peak memory growth "
            f"{pkg_mem.growth:.1f} MB; baseline copy {base_s:.1f} s ({total_mb / base_s:.0f} MB/s, "
            f"+{base_mem.growth:.1f} MB); ratio package/baseline {pkg_s / base_s:.2f}"
        )
        print(
            f"max RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
