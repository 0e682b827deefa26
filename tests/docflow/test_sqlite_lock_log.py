"""The embedded profile (SQLite, one write lock for the whole database) says when a transaction
held the lock long, and where: the first thing to read when its pages stall."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import text

import docflow.db
from docflow import make_engine


def _hold(engine: object, seconds: float) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        time.sleep(seconds)


def test_a_long_write_lock_is_logged_with_its_caller(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docflow.db, "LONG_SQLITE_LOCK_S", 0.2)
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite'}")
    try:
        with caplog.at_level(logging.WARNING, logger="docflow.db"):
            _hold(engine, 0.0)
            assert caplog.records == []  # a short transaction says nothing
            _hold(engine, 0.3)
        (record,) = caplog.records
        assert "SQLite write lock held" in record.getMessage()
        assert "_hold" in record.getMessage()  # where it was held
    finally:
        engine.dispose()
