"""The web workers' garbage collector (app/collector.py): tuned and timed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app import collector


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds, callbacks = gc.get_threshold(), list(gc.callbacks)
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.callbacks[:] = callbacks


def _counted(generation: int) -> float:
    value = collector.GC_SECONDS.labels(str(generation))._value.get()
    return float(value)


def test_tune_freezes_what_was_built_and_collects_less_often(restored: None) -> None:
    assert gc.get_threshold() != collector.THRESHOLDS
    built = [[i] for i in range(1000)]  # objects the loaded app would hold
    collector.tune()
    assert gc.get_threshold() == collector.THRESHOLDS
    assert gc.get_freeze_count() >= len(built)
    collector.tune()  # a second call adds no second callback
    assert gc.callbacks.count(collector._timed) == 1


def test_the_collectors_time_is_counted_by_generation(restored: None) -> None:
    collector.watch()
    before = [_counted(g) for g in range(3)]
    for generation in range(3):
        gc.collect(generation)
    after = [_counted(g) for g in range(3)]
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)
