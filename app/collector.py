"""The garbage collector of a web worker: tuned once the application is loaded, and timed.

CPython's cyclic collector runs a young collection every 700 net container allocations; a
request of ours allocates about that many that outlive it a while, so each request paid for
about one. Now and then a full collection walked everything the worker had built (SQLAlchemy's
compiled statements, the box statements kept per reader, the mappers): about 95 ms each, the
whole interpreter held, with the worker's other threads waiting. Measured in process on the
load test's 100,000-document database (the requests of ``bench/load/cpu.py``, 100 of each
type): the collector took 0.77 s of about 14 s of CPU — 1,348 young collections 0.15 s, 122
middle ones 0.08 s, 6 full ones 0.55 s.

:func:`tune`, called by ``dhtn serve`` in each gunicorn worker after it loaded the
application (``post_worker_init``), moves everything built so far out of the collector's sight
(``gc.freeze``: modules, mappers, the app; none of it becomes garbage) and collects the young
generation every 20,000 allocations, the older ones every 20 collections of the one below.
Garbage is still collected, in fewer, larger passes: the same run took 0.15 s in the
collector. A request's own cycles (a session and its objects) are gone long before they could
reach the old generation. Under the load test (``bench/load/run.py``, 200 people, two runs
each way alternating on the same data), the web workers' collector took 7.8–11.3 % of their
CPU untuned and 1.2–1.5 % tuned; the web's CPU per request fell by 12–20 %, and its memory
grew as much during the run either way.

``dhtn_gc_seconds_total{generation}`` (``/metrics``) counts the time spent in each
generation's collections, in every process that calls :func:`watch`.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import Counter

GC_SECONDS = Counter(
    "dhtn_gc_seconds_total",
    "Time spent in the cyclic garbage collector, by generation",
    ["generation"],
)

# Young collections every 20,000 net container allocations (CPython's default is 700); each
# older generation every 20 collections of the one below (default 10).
THRESHOLDS = (20_000, 20, 20)

_started: list[float] = []


def _timed(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[:] = [time.perf_counter()]
    elif _started:
        GC_SECONDS.labels(str(info["generation"])).inc(time.perf_counter() - _started[0])


def watch() -> None:
    """Count the collector's time in ``dhtn_gc_seconds_total`` (once per process)."""
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)


def tune() -> None:
    """Freeze what the loaded application built and collect less often (module docstring)."""
    watch()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
