"""The search rules and the text status table as plain values: no database."""

from __future__ import annotations

import pytest

from docflow.search.policy import may_read_text, may_reindex, should_read
from docflow.search.states import TRANSITIONS, TextAction, TextStatus, next_status

PDF = "application/pdf"


@pytest.mark.parametrize("kind", ["main", "attachment", "draft", "signed"])
def test_the_files_of_a_document_are_read(kind: str) -> None:
    assert should_read(kind, PDF, derived=False)
    assert should_read(kind, "image/tiff", derived=False)


def test_derived_files_unknown_kinds_and_types_are_not_read() -> None:
    assert not should_read("main", PDF, derived=True)  # the searchable PDF: its scan's text
    assert not should_read("searchable", PDF, derived=False)
    assert not should_read("main", "application/zip", derived=False)
    assert not should_read("main", "text/html", derived=False)


def test_the_text_is_exactly_as_visible_as_its_document() -> None:
    assert may_read_text(True)
    assert not may_read_text(False)


def test_only_an_admin_of_the_same_organisation_reindexes() -> None:
    assert may_reindex({"admin"}, same_organization=True)
    assert not may_reindex({"admin"}, same_organization=False)
    assert not may_reindex({"leader", "clerk"}, same_organization=True)
    assert not may_reindex(set(), same_organization=True)


def test_the_text_status_table() -> None:
    assert next_status("none", TextAction.QUEUE) is TextStatus.PENDING
    assert next_status("pending", TextAction.SUCCEED) is TextStatus.DONE
    assert next_status("pending", TextAction.FAIL) is TextStatus.FAILED
    assert next_status("done", TextAction.QUEUE) is TextStatus.PENDING  # reindex
    for status in TextStatus:
        for action in (TextAction.SUCCEED, TextAction.FAIL):
            if (status, action) not in TRANSITIONS:
                with pytest.raises(ValueError):
                    next_status(status.value, action)
    with pytest.raises(ValueError):
        next_status("done", TextAction.SUCCEED)  # a result without a queued reading
