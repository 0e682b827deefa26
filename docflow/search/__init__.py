"""Text of document files and full-text search (issue 14).

Public surface: queue extraction where files are stored, the worker's handler, the text of a
file, search, re-indexing. See :mod:`docflow.search.queries` for how search scales."""

from docflow.search.commands import SearchTerms, parse_query
from docflow.search.extract import Extracted, ExtractionError, extract
from docflow.search.ports import RecognitionError, Recognized, TextRecognizer
from docflow.search.queries import SearchPage, page_count, search_documents, text_notes
from docflow.search.reading import ExtractionSettings
from docflow.search.services import (
    TOPIC_EXTRACT,
    ReindexProgress,
    TextNotReadyError,
    extract_document_text,
    file_text,
    queue_new_files_extraction,
    queue_text_extraction,
    refresh_index,
    reindex,
)
from docflow.search.snippets import Snippet, make_snippet
from docflow.search.states import LABELS, TextStatus
from docflow.search.tasks_text import (
    TOPIC_EXTRACT_TASK,
    extract_task_text,
    queue_task_text_extraction,
    task_text_condition,
    task_text_notes,
)

__all__ = [
    "LABELS",
    "TOPIC_EXTRACT",
    "TOPIC_EXTRACT_TASK",
    "Extracted",
    "ExtractionError",
    "ExtractionSettings",
    "RecognitionError",
    "Recognized",
    "ReindexProgress",
    "SearchPage",
    "SearchTerms",
    "Snippet",
    "TextNotReadyError",
    "TextRecognizer",
    "TextStatus",
    "extract",
    "extract_document_text",
    "extract_task_text",
    "file_text",
    "make_snippet",
    "page_count",
    "parse_query",
    "queue_new_files_extraction",
    "queue_task_text_extraction",
    "queue_text_extraction",
    "refresh_index",
    "reindex",
    "search_documents",
    "task_text_condition",
    "task_text_notes",
    "text_notes",
]
