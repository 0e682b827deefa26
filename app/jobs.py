"""Periodic jobs: what the scheduler (Celery beat, or the embedded worker's beat) runs.

Each job is a plain function ``job(runtime) -> int`` (how many things it did) that calls docflow
services; ``JOBS`` maps its name to the function and its period in seconds. ``make_celery``
turns each entry into a Celery task ``dhtn.job.<name>`` and a beat schedule entry. Jobs must be
idempotent: two schedulers, or a restart, may run one twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.runtime import Runtime


@dataclass(frozen=True)
class Job:
    run: Callable[[Runtime], int]
    every_seconds: float


JOBS: dict[str, Job] = {}
