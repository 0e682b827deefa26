"""The directory import's write phase lets go of what it created every few people (memory
flat with size) inside one transaction: the same results with the smallest chunk."""

from __future__ import annotations

from typing import Any

import pytest

from docflow.imports import services
from tests.imports import test_directory_import as base


@pytest.fixture(autouse=True)
def one_person_per_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "_WRITE_CHUNK", 1)


def test_valid_import_in_chunks(demo: Any) -> None:
    base.test_valid_import_creates_everything_and_reimport_changes_nothing(demo)


def test_privilege_requests_in_chunks(demo: Any) -> None:
    base.test_privileged_grants_become_pending_requests(demo)


def test_changed_rows_in_chunks(demo: Any) -> None:
    base.test_changed_row_updates_that_record_only(demo)
