"""Migrations: the migrated schema equals the models on PostgreSQL, and SQLite migrates too."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import docflow.models  # noqa: F401
from docflow import make_engine
from docflow.db import Base
from migrations import upgrade


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    return diff


@pytest.mark.pg
def test_migrated_postgresql_schema_equals_the_models(pg_url: str) -> None:
    assert _diff(pg_url) == [], "a model changed without an Alembic revision"


def test_sqlite_migrates_to_the_same_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    upgrade(url)
    upgrade(url)  # a second run is a no-op
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    # The embedded profile's full-text index (FTS5) and its shadow tables are no model's.
    tables = {t for t in tables if not t.startswith("document_fts")}
    assert tables == set(Base.metadata.tables)
