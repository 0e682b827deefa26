"""Every short column that stores a state, a secrecy or a status holds the longest value its enum
can take (PostgreSQL refuses what SQLite would accept). Values people send reach these columns only
through these enums (commands and transition tables), so the enum is the bound."""

from __future__ import annotations

from enum import StrEnum

import pytest
from sqlalchemy import String

from docflow.changes import ChangeKind, ChangeType
from docflow.dossiers.states import DossierState
from docflow.enums import Secrecy
from docflow.feedback.states import Complexity, FeedbackState
from docflow.models import Base
from docflow.reports.rollup import MONTHLY_GRAINS
from docflow.reports.states import Period, RequestState
from docflow.search.states import TextStatus

COLUMNS: dict[str, type[StrEnum]] = {
    "dossiers.state": DossierState,
    "dossiers.secrecy": Secrecy,
    "dossier_events.from_state": DossierState,
    "dossier_events.to_state": DossierState,
    "feedback_items.state": FeedbackState,
    "feedback_items.complexity": Complexity,
    "feedback_trail.from_state": FeedbackState,
    "feedback_trail.to_state": FeedbackState,
    "report_requests.state": RequestState,
    "document_files.text_status": TextStatus,
    "task_attachments.text_status": TextStatus,
    "changes.kind": ChangeKind,
    "changes.change": ChangeType,
    "report_forms.period": Period,
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_the_longest_value_fits(name: str) -> None:
    table, column = name.split(".")
    col = Base.metadata.tables[table].c[column]
    assert isinstance(col.type, String) and col.type.length is not None
    longest = max(len(v.value) for v in COLUMNS[name])
    assert longest <= col.type.length, f"{name}: {longest} > {col.type.length}"


#: The extraction's own words (docflow/search/extract.py and reading.py), never a file's.
TEXT_COLUMNS = {
    "method": ("text_layer", "docx", "plain", "ocr"),
    "language": ("vi", "und"),  # extract.language_of
}


@pytest.mark.parametrize("table", ["file_texts", "task_file_texts"])
@pytest.mark.parametrize("column", sorted(TEXT_COLUMNS))
def test_the_extractions_words_fit(table: str, column: str) -> None:
    col = Base.metadata.tables[table].c[column]
    assert isinstance(col.type, String) and col.type.length is not None
    assert max(len(v) for v in TEXT_COLUMNS[column]) <= col.type.length


#: Columns written only with literals of the code (no enum of their own): every literal used.
LITERAL_COLUMNS = {
    "file_plans.state": ("draft", "approved"),  # docflow/dossiers/fileplan.py
    "disposals.state": ("proposed", "approved", "rejected"),  # docflow/dossiers/disposal.py
    "feedback_items.channel": ("web", "paper"),  # docflow/feedback/services.py
    # The roll-up's grains: the keys of the table that writes them (a request's group_by only
    # chooses among them, it is never written).
    "report_monthly_stats.grain": tuple(MONTHLY_GRAINS),
}


@pytest.mark.parametrize("name", sorted(LITERAL_COLUMNS))
def test_the_codes_literals_fit(name: str) -> None:
    table, column = name.split(".")
    col = Base.metadata.tables[table].c[column]
    assert isinstance(col.type, String) and col.type.length is not None
    assert max(len(v) for v in LITERAL_COLUMNS[name]) <= col.type.length
