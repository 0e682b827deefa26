"""The cost of the audit read log: opening a document (``GET /api/v1/documents/{id}``, the whole
Flask stack on PostgreSQL) with and without read logging, in the same run, alternating blocks so
drift hits both alike; then the same with several readers of one organisation at once (reads
must not serialise on a chain head), and how fast the job chains the pending reads.

    python -m bench.audit_reads [--quick] [--requests 2000] [--threads 8]

Prints p50/p95 per mode, their ratio, concurrent throughput per mode, and the chaining rate.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.register_numbers import fresh_database
from docflow import audit
from docflow.models import AuditPendingRead

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_audit"
PASSWORD = "bench-password-audit"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def make_app(url: str, data: Path) -> Any:
    from app import create_app
    from app.config import Settings

    settings = Settings.from_env(
        {
            "DHTN_DATA_DIR": str(data),
            "DHTN_DATABASE_URL": url,
            "DHTN_SECRET_KEY": "bench-secret",
            "DHTN_DEMO_PASSWORD": PASSWORD,
            "DHTN_TASKS_EAGER": "true",
            "DHTN_BROKER_URL": "memory://",
            "DHTN_LOG_LEVEL": "WARNING",
        }
    )
    return create_app(settings)


def set_reads(app: Any, on: bool) -> None:
    from app.runtime import runtime

    rt = runtime(app)
    rt.config = dataclasses.replace(rt.config, audit_reads=on)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="400 requests per mode")
    parser.add_argument("--requests", type=int, default=2000, help="per mode")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--docs", type=int, default=50)
    parser.add_argument("--url", default=os.environ.get("DHTN_BENCH_AUDIT_URL", DEFAULT_URL))
    args = parser.parse_args()
    n = 400 if args.quick else args.requests
    fresh_database(args.url)
    from app.runtime import runtime
    from docflow.demo import seed_demo
    from tests.pdfs import make_pdf

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(args.url, Path(tmp))
        rt = runtime(app)
        seed_demo(rt.uow(), password=PASSWORD)
        client = app.test_client()

        def token(username: str) -> dict[str, str]:
            r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.get_json()['access_token']}"}

        clerk = token("vanthu.tw")
        ids: list[str] = []
        for i in range(args.docs):
            meta = {
                "notation": f"{i + 1}/KH-BENCH",
                "doc_type": "KH",
                "subject": "Kế hoạch đo chi phí nhật ký",
                "issuer": {"name": "Bench"},
                "issued_date": "2026-11-20",
            }
            r = client.post(
                "/api/v1/incoming",
                headers=clerk,
                data={
                    "meta": json.dumps(meta),
                    "files": [(io.BytesIO(make_pdf(title=str(i))), f"{i}.pdf", "application/pdf")],
                },
                content_type="multipart/form-data",
            )
            assert r.status_code == 201, r.get_json()
            ids.append(r.get_json()["id"])
        audit.chain_all_pending(rt.uow())

        def open_doc(c: Any, headers: dict[str, str], i: int) -> float:
            t0 = time.perf_counter()
            r = c.get(f"/api/v1/documents/{ids[i % len(ids)]}", headers=headers)
            elapsed = time.perf_counter() - t0
            assert r.status_code == 200
            return elapsed

        for i in range(50):  # warm both paths
            set_reads(app, i % 2 == 0)
            open_doc(client, clerk, i)

        # 1. One reader: alternate blocks of 50 requests with and without read logging.
        lat: dict[bool, list[float]] = {True: [], False: []}
        block = 50
        for b in range(2 * n // block):
            on = b % 2 == 0
            set_reads(app, on)
            lat[on].extend(open_doc(client, clerk, b * block + j) for j in range(block))
        p = {on: (pct(v, 0.5), pct(v, 0.95)) for on, v in lat.items()}
        print(f"audit read log bench on PostgreSQL ({n} requests per mode, {len(ids)} documents)")
        print(f"GET document, read logging off: p50 {p[False][0]:.2f} ms  p95 {p[False][1]:.2f} ms")
        print(f"GET document, read logging on:  p50 {p[True][0]:.2f} ms  p95 {p[True][1]:.2f} ms")
        print(
            f"ratio on/off: p50 ×{p[True][0] / p[False][0]:.2f}  p95 ×{p[True][1] / p[False][1]:.2f}"
        )

        # 2. Many readers of one organisation at once.
        readers = ["vanthu.tw", "lanhdao.tw"]
        headers = [token(readers[t % len(readers)]) for t in range(args.threads)]

        def concurrent(on: bool) -> float:
            set_reads(app, on)
            per_thread = max(20, n // args.threads)
            start = threading.Barrier(args.threads + 1)

            def worker(t: int) -> None:
                c = app.test_client()
                start.wait()
                for i in range(per_thread):
                    open_doc(c, headers[t], t * 7 + i)

            threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.threads)]
            for th in threads:
                th.start()
            start.wait()
            t0 = time.perf_counter()
            for th in threads:
                th.join()
            return per_thread * args.threads / (time.perf_counter() - t0)

        rates: dict[bool, float] = {}
        for on in (False, True, False, True):
            rates[on] = max(rates.get(on, 0.0), concurrent(on))
        print(
            f"{args.threads} concurrent readers, one organisation: off {rates[False]:.0f} req/s,"
            f" on {rates[True]:.0f} req/s (×{rates[True] / rates[False]:.2f})"
        )

        # 3. The job that chains them.
        with rt.session_factory() as s:
            pending = s.scalar(select(func.count()).select_from(AuditPendingRead)) or 0
        t0 = time.perf_counter()
        chained = audit.chain_all_pending(rt.uow())
        took = time.perf_counter() - t0
        print(f"chaining job: {chained} pending reads in {took * 1000:.0f} ms"
              f" ({chained / took if took else 0:.0f}/s); pending before: {pending}")  # fmt: skip
        audit.seal_unkeyed_chains(rt.uow())  # the seed wrote unkeyed entries, as before 0006
        with rt.session_factory() as s:
            report = audit.verify(s, key=rt.config.audit_key)
        print(f"verify: {report.entries} entries, {report.chains} chains, ok={report.ok}"
              f" ({dt.datetime.now(dt.UTC):%H:%M:%S})")  # fmt: skip
        if rt.engine is not None:
            rt.engine.dispose()


if __name__ == "__main__":
    main()
