"""The national exchange end to end: time from ``dispatch`` on installation A to the document
``arrived`` on installation B through the axis simulator (p50/p95), throughput of a burst, peak
memory, and, measured in the same run, the baseline of an internal dispatch (A to one of its
own organisations, no axis).

    python -m bench.exchange_latency [--quick] [--period SECONDS]

Two installations (two PostgreSQL databases, ``DHTN_BENCH_DATABASE_URL`` + ``_a`` / ``_b``, two
object stores) and ``dhtn axis-sim`` (in a thread) run in this process; each installation's
outbox runs eagerly (as its Celery worker would, right after the commit). Two threads play the
workers' periodic jobs: A's ``axis_send`` and B's ``axis_receive``, every ``--period`` seconds
(default 0.5; in production ``DHTN_AXIS_SEND_SECONDS`` = 30 and ``DHTN_AXIS_POLL_SECONDS`` = 60,
which add on average half of each period to the latency measured here). The documents are
drafted (PDF), signed by the leader with the demo PKI and issued beforehand; the clock starts
when the clerk's ``dispatch`` request is sent and stops when B's document is committed in state
``arrived``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.serving import make_server

from app.config import Settings
from bench.register_numbers import fresh_database

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_exchange"
PASSWORD = "bench-demo-password"
SYSTEMS = {"BENCH.A": "bí-mật-a", "BENCH.B": "bí-mật-b"}


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _pdf(title: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class Installation:
    app: Any
    url: str
    tokens: dict[str, dict[str, str]]

    @property
    def rt(self) -> Any:
        from app.runtime import runtime

        return runtime(self.app)

    def h(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            r = self.app.test_client().post(
                "/api/v1/auth/token", json={"username": user, "password": PASSWORD}
            )
            assert r.status_code == 200, r.get_json()
            self.tokens[user] = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
        return self.tokens[user]

    def api(self, method: str, path: str, user: str, **kw: Any) -> Any:
        client = self.app.test_client()
        r = getattr(client, method)(f"/api/v1{path}", headers=self.h(user), **kw)
        assert r.status_code in (200, 201), (path, r.get_json())
        return r.get_json()

    def act(self, user: str, doc: str, action: str, **params: Any) -> Any:
        return self.api(
            "post", f"/documents/{doc}/actions", user, json={"action": action, **params}
        )


def installation(work: Path, name: str, base_url: str, suffix: str, axis: str) -> Installation:
    from sqlalchemy.engine import make_url

    from app import create_app
    from app.pki import ensure_demo_pki
    from app.runtime import build_runtime
    from docflow.demo import seed_demo

    url = make_url(base_url)
    url = url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)
    fresh_database(url)
    system = f"BENCH.{name.upper()}"
    settings = Settings.from_env(
        {
            "DHTN_DATA_DIR": str(work / name),
            "DHTN_DATABASE_URL": url,
            "DHTN_SECRET_KEY": "bench",
            "DHTN_DEMO_PASSWORD": PASSWORD,
            "DHTN_TASKS_EAGER": "true",
            "DHTN_BROKER_URL": "memory://",
            "DHTN_LOG_LEVEL": "ERROR",
            "DHTN_AXIS_URL": axis,
            "DHTN_AXIS_SYSTEM_ID": system,
            "DHTN_AXIS_SECRET": SYSTEMS[system],
        }
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    rt = build_runtime(settings)
    seed_demo(rt.uow(), password=PASSWORD, suffix=suffix)
    ensure_demo_pki(rt)
    if rt.engine is not None:
        rt.engine.dispose()
    return Installation(create_app(settings), url, {})


def issued_documents(a: Installation, count: int, recipient: dict[str, str], tag: str) -> list[str]:
    lead = a.api("get", "/me", "lanhdao.tw")["id"]
    docs = []
    for i in range(count):
        meta = {
            "doc_type": "CV",
            "subject": f"V/v đo thời gian liên thông ({tag} {i + 1})",
            "signer_user_id": lead,
            "competence": "TM.",
            "authority": "Ban Thường trực",
            "recipients": [recipient],
        }
        doc = a.api(
            "post",
            "/outgoing",
            "chuyenvien.dcgs",
            content_type="multipart/form-data",
            data={
                "meta": json.dumps(meta),
                "files": [(io.BytesIO(_pdf(f"Bench {tag} {i}")), "cv.pdf", "application/pdf")],
            },
        )["id"]
        a.act("chuyenvien.dcgs", doc, "submit_for_review", to_user_id=lead)
        a.act("lanhdao.tw", doc, "sign")
        a.act("vanthu.tw", doc, "issue")
        docs.append(doc)
    return docs


class Ticker:
    """A worker's periodic job in a thread."""

    def __init__(self, job: Callable[[], Any], period: float) -> None:
        self.job, self.period = job, period
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.job()
            self._stop.wait(self.period)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=30)


def arrived_notations(inst: Installation) -> dict[str, float]:
    """Notation → when the recipient's arrived document was committed (epoch seconds)."""
    from docflow.models import Document

    with inst.rt.session_factory() as s:
        rows = s.execute(
            select(Document.notation, Document.created_at).where(
                Document.direction == "incoming", Document.state == "arrived"
            )
        ).all()
    return {n: c.timestamp() for n, c in rows if n}


def notation_of(a: Installation, doc: str) -> str:
    return str(a.api("get", f"/documents/{doc}", "vanthu.tw")["notation"])


def measure(
    a: Installation, receiver: Installation, docs: list[str], *, burst: bool
) -> tuple[list[float], float]:
    """Dispatch each document (one after the other, or all at once with ``burst``) and wait
    for it on ``receiver``; latencies in seconds, and the wall time of the whole."""
    notations = {doc: notation_of(a, doc) for doc in docs}
    latencies = []
    start_all = time.time()
    started: dict[str, float] = {}
    for doc in docs:
        started[doc] = time.time()
        a.act("vanthu.tw", doc, "dispatch")
        if not burst:
            latencies.append(wait_for(receiver, notations[doc]) - started[doc])
    if burst:
        for doc in docs:
            latencies.append(wait_for(receiver, notations[doc]) - started[doc])
    return latencies, time.time() - start_all


def wait_for(receiver: Installation, notation: str, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = arrived_notations(receiver).get(notation)
        if found is not None:
            return found
        time.sleep(0.01)
    raise TimeoutError(f"{notation} did not arrive")


def report(name: str, latencies: list[float], wall: float) -> dict[str, float]:
    figures = {
        "p50": statistics.median(latencies),
        "p95": pct(latencies, 0.95),
        "throughput": len(latencies) / wall,
    }
    print(
        f"{name:<34}{figures['p50'] * 1000:>9.0f}{figures['p95'] * 1000:>9.0f}"
        f"{figures['throughput']:>12.2f}"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 documents instead of 20")
    parser.add_argument("--period", type=float, default=0.5, help="job period in seconds")
    args = parser.parse_args()
    count = 5 if args.quick else 20
    base = os.environ.get("DHTN_BENCH_DATABASE_URL", DEFAULT_URL)
    from interop import make_sim_app

    with tempfile.TemporaryDirectory(prefix="dhtn-bench-exchange-") as tmp:
        work = Path(tmp)
        server = make_server("127.0.0.1", 0, make_sim_app(work / "axis", SYSTEMS), threaded=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        axis = f"http://127.0.0.1:{server.port}"
        a = installation(work, "a", base, "Z01", axis)
        b = installation(work, "b", base, "Z02", axis)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the simulator's access log
        from app.exchange import poll_axis, send_to_axis, start_exchange

        start_exchange(a.rt), start_exchange(b.rt)  # what each worker does when ready
        internal = {"code": "000.00.01.Z01"}  # A's own province: the baseline, no axis
        external = {"code": "000.00.01.Z02"}  # B's province, through the simulator
        print(f"Preparing {4 * count} signed and issued documents on A…", flush=True)
        base_seq = issued_documents(a, count, internal, "nội bộ")
        base_burst = issued_documents(a, count, internal, "nội bộ loạt")
        axis_seq = issued_documents(a, count, external, "trục")
        axis_burst = issued_documents(a, count, external, "trục loạt")

        workers = [
            Ticker(lambda: send_to_axis(a.rt), args.period),
            Ticker(lambda: poll_axis(b.rt), args.period),
            Ticker(lambda: poll_axis(a.rt), args.period),  # statuses 01 back to A
        ]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"\n{count} documents, job period {args.period:.2f} s; milliseconds, documents/s"
            f"\n{'':<34}{'p50':>9}{'p95':>9}{'throughput':>12}"
        )
        try:
            baseline = report("internal dispatch (baseline)", *measure(a, a, base_seq, burst=False))
            report("internal dispatch, burst", *measure(a, a, base_burst, burst=True))
            through = report("A → axis → B", *measure(a, b, axis_seq, burst=False))
            report("A → axis → B, burst", *measure(a, b, axis_burst, burst=True))
        finally:
            for worker in workers:
                worker.stop()
            server.shutdown()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"\nratio A → axis → B / internal (p50): {through['p50'] / baseline['p50']:.1f}x"
            f"\npeak RSS of the process (both installations, simulator, workers): {peak / 1024:.0f} MB"
            f" (before the measurements {rss_before / 1024:.0f} MB)"
            f"\nWith the default periods (send 30 s, poll 60 s) add on average ≈ 45 s of waiting."
        )
        for inst in (a, b):
            if inst.rt.engine is not None:
                inst.rt.engine.dispose()


if __name__ == "__main__":
    main()
