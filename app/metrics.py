"""Prometheus metrics that hold across processes.

Under gunicorn every worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set (the
systemd unit of the web service sets it to a directory emptied at each start), prometheus_client
writes each process's values into that directory and ``/metrics`` adds them up, whichever worker
answers the scrape. Gunicorn's ``child_exit`` hook (:func:`child_exit`, set by ``dhtn serve``)
marks a dead worker's gauges as gone. Without the variable (the embedded profile, the tests),
each process counts for itself.

Besides the request counters and latency histograms of :mod:`app.health`, this module holds the
durations of OCR and DOCX conversion, the axis exchange counters, and the gauges read at scrape
time from the database and the broker: pending outbox messages, the age of the oldest one (the
outbox lag), and the broker's queue length.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

SLOW_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)

OCR_SECONDS = Histogram(
    "dhtn_ocr_duration_seconds",
    "OCR of one scan or set of photos",
    ["outcome"],
    buckets=SLOW_BUCKETS,
)
CONVERSION_SECONDS = Histogram(
    "dhtn_conversion_duration_seconds",
    "DOCX to PDF conversion",
    ["outcome"],
    buckets=SLOW_BUCKETS,
)
AXIS_EXCHANGE = Counter(
    "dhtn_axis_exchange_total",
    "Exchanges with the national axis: runs of the polling/sending jobs and documents moved",
    ["direction", "outcome"],
)
AXIS_DOCUMENTS = Counter(
    "dhtn_axis_documents_total",
    "Documents and status messages moved through the axis",
    ["direction"],
)


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    """Observe the duration of the block, labelled ``ok`` or ``error``."""
    start = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        histogram.labels(outcome).observe(time.perf_counter() - start)


def multiprocess_dir(settings: Any) -> Path | None:
    directory = getattr(settings, "metrics_dir", None)
    return Path(directory) if directory else None


class QueueCollector(Collector):
    """Gauges read when scraped: the outbox (pending messages, lag) and the broker queue."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import func, select

        from docflow.models import OutboxMessage

        pending = GaugeMetricFamily(
            "dhtn_outbox_pending", "Outbox messages due and not yet handled (the backlog)"
        )
        deferred = GaugeMetricFamily(
            "dhtn_outbox_deferred",
            "Outbox messages not yet handled whose time has not come (retries after a backoff,"
            " report refreshes put off to their interval)",
        )
        lag = GaugeMetricFamily(
            "dhtn_outbox_lag_seconds",
            "Age of the oldest outbox message that is due and not yet handled",
        )
        try:
            with self.runtime.session_factory() as session:
                now = self.runtime.clock()
                due = OutboxMessage.available_at <= now
                count, later, oldest = session.execute(
                    select(
                        func.count().filter(due),
                        func.count().filter(~due),
                        func.min(OutboxMessage.available_at).filter(due),
                    ).where(OutboxMessage.done_at.is_(None))
                ).one()
            pending.add_metric([], float(count or 0))
            deferred.add_metric([], float(later or 0))
            if oldest is not None:
                if oldest.tzinfo is None:
                    oldest = oldest.replace(tzinfo=dt.UTC)
                lag.add_metric([], max(0.0, (now - oldest).total_seconds()))
            else:
                lag.add_metric([], 0.0)
        except Exception as exc:  # a scrape must not fail because the database is down
            log.warning("metrics: outbox unreadable: %s", type(exc).__name__)
        else:
            yield pending
            yield deferred
            yield lag
        queue = GaugeMetricFamily(
            "dhtn_broker_queue_length", "Jobs waiting in the broker queue", labels=["queue"]
        )
        for name in ("celery", "heavy"):  # app.celery_app's DEFAULT_QUEUE and HEAVY_QUEUE
            length = broker_queue_length(self.runtime.settings, name)
            if length is not None:
                queue.add_metric([name], float(length))
        if queue.samples:
            yield queue


def broker_queue_length(settings: Any, queue: str = "celery") -> int | None:
    """The broker's queue length (Redis or RabbitMQ); None when it cannot be read."""
    if settings.embedded_broker:
        return None
    from kombu.connection import Connection

    try:
        with Connection(settings.celery_broker_url, connect_timeout=1) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1, timeout=1)
            declared = conn.default_channel.queue_declare(queue=queue, passive=True)
            return int(declared.message_count)
    except Exception:
        return 0 if settings.broker_url.startswith("redis") else None


def render(runtime: Any) -> bytes:
    """The text of ``/metrics``: this process's registry, or every process's values added up."""
    from prometheus_client import REGISTRY

    directory = multiprocess_dir(runtime.settings)
    source: Any = REGISTRY
    if directory is not None:
        source = CollectorRegistry()
        multiprocess.MultiProcessCollector(source, path=str(directory))  # type: ignore[no-untyped-call]
    return generate_latest(_Both(source, QueueCollector(runtime)))


class _Both:
    """What one scrape shows: the counters and histograms, then the gauges read now."""

    def __init__(self, *sources: Any) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Any]:
        for source in self.sources:
            yield from source.collect()


def prepare_directory(directory: Path) -> None:
    """Empty the multiprocess directory before the first worker starts (stale values of a
    previous run would otherwise be added in)."""
    if directory.exists():
        for child in directory.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    directory.mkdir(parents=True, exist_ok=True)


def child_exit_hook(directory: Path) -> Any:
    """Gunicorn's ``child_exit``: a worker process ended; its live gauges no longer count."""

    def child_exit(_server: Any, worker: Any) -> None:
        multiprocess.mark_process_dead(worker.pid, path=str(directory))  # type: ignore[no-untyped-call]

    return child_exit


def log_slow_queries(engine: Any, threshold_ms: int) -> None:
    """Log every statement slower than ``threshold_ms`` (logger ``dhtn.slow_query``, with the
    request id of the request or job): the input of the indexes of migration 0020."""
    from sqlalchemy import event

    slow = logging.getLogger("dhtn.slow_query")

    @event.listens_for(engine, "before_cursor_execute")
    def _start(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        conn.info.setdefault("dhtn_query_start", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        started = conn.info.get("dhtn_query_start")
        if not started:
            return
        elapsed = (time.perf_counter() - started.pop()) * 1000
        if elapsed >= threshold_ms:
            slow.warning(
                "slow query %.0f ms: %s",
                elapsed,
                " ".join(statement.split())[:2000],
                extra={"duration_ms": round(elapsed, 1)},
            )
