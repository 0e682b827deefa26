"""search at scale and task attachments' text (issue 14, second round)

* ``document_search`` carries what a search filters and orders on without touching
  ``documents``: the organisation, the secrecy rank, the listing date, and the folded metadata
  (``meta``). Its ``tsvector`` is stored and weighted: A = notation, subject, issuer; B = the
  body. On PostgreSQL triggers keep it in step: any insert or change of a document's metadata
  updates its row, and the row's ``tsv`` is computed when ``meta`` or ``body`` changes.
* SQLite (the embedded profile): an FTS5 table ``document_fts`` over ``document_search``
  (external content: the folded ``meta`` and ``body``, rowid = the row's ``rowid``) kept by
  triggers too (``INSERT INTO document_fts(document_fts) VALUES('rebuild')`` re-syncs it).
* Task attachments gain ``text_status``; ``task_file_texts`` holds their text (and, on
  PostgreSQL, a stored ``tsvector``), searched by the task list with the task visibility.

Revision ID: 0020_search
Revises: 0018_feedback_letter
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from docflow.models.search import TSVector

revision: str = "0020_search"
down_revision: str | None = "0020_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION document_search_tsv() RETURNS trigger AS $$
BEGIN
  NEW.tsv := setweight(to_tsvector('simple', coalesce(NEW.meta, '')), 'A')
          || setweight(to_tsvector('simple', coalesce(NEW.body, '')), 'B');
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION documents_search_sync() RETURNS trigger AS $$
BEGIN
  INSERT INTO document_search
      (document_id, organization_id, secrecy_rank, listed_at, meta, body, updated_at)
    VALUES (NEW.id, NEW.organization_id, NEW.secrecy_rank, NEW.listed_at,
            coalesce(NEW.search_text, ''), '', now())
  ON CONFLICT (document_id) DO UPDATE SET
    organization_id = EXCLUDED.organization_id,
    secrecy_rank = EXCLUDED.secrecy_rank,
    listed_at = EXCLUDED.listed_at,
    meta = EXCLUDED.meta;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION task_file_texts_tsv() RETURNS trigger AS $$
BEGIN
  NEW.tsv := to_tsvector('simple', coalesce(NEW.body, ''));
  RETURN NEW;
END $$ LANGUAGE plpgsql;
"""

PG_TRIGGERS = """
CREATE TRIGGER document_search_tsv BEFORE INSERT OR UPDATE OF meta, body ON document_search
  FOR EACH ROW EXECUTE FUNCTION document_search_tsv();
CREATE TRIGGER documents_search_sync
  AFTER INSERT OR UPDATE OF search_text, listed_at, secrecy_rank, organization_id ON documents
  FOR EACH ROW EXECUTE FUNCTION documents_search_sync();
CREATE TRIGGER task_file_texts_tsv BEFORE INSERT OR UPDATE OF body ON task_file_texts
  FOR EACH ROW EXECUTE FUNCTION task_file_texts_tsv();
"""

SQLITE = [
    "CREATE VIRTUAL TABLE document_fts USING fts5(meta, body, content='document_search',"
    " content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    """CREATE TRIGGER document_search_fts_insert AFTER INSERT ON document_search BEGIN
         INSERT INTO document_fts (rowid, meta, body) VALUES (NEW.rowid, NEW.meta, NEW.body);
       END""",
    """CREATE TRIGGER document_search_fts_update AFTER UPDATE OF meta, body ON document_search
       BEGIN
         INSERT INTO document_fts (document_fts, rowid, meta, body)
           VALUES ('delete', OLD.rowid, OLD.meta, OLD.body);
         INSERT INTO document_fts (rowid, meta, body) VALUES (NEW.rowid, NEW.meta, NEW.body);
       END""",
    """CREATE TRIGGER document_search_fts_delete AFTER DELETE ON document_search BEGIN
         INSERT INTO document_fts (document_fts, rowid, meta, body)
           VALUES ('delete', OLD.rowid, OLD.meta, OLD.body);
       END""",
    """CREATE TRIGGER documents_search_insert AFTER INSERT ON documents BEGIN
         INSERT INTO document_search
             (document_id, organization_id, secrecy_rank, listed_at, meta, body, updated_at)
           VALUES (NEW.id, NEW.organization_id, NEW.secrecy_rank, NEW.listed_at,
                   coalesce(NEW.search_text, ''), '', CURRENT_TIMESTAMP)
         ON CONFLICT (document_id) DO UPDATE SET
           organization_id = excluded.organization_id, secrecy_rank = excluded.secrecy_rank,
           listed_at = excluded.listed_at, meta = excluded.meta;
       END""",
    """CREATE TRIGGER documents_search_update
         AFTER UPDATE OF search_text, listed_at, secrecy_rank, organization_id ON documents BEGIN
         INSERT INTO document_search
             (document_id, organization_id, secrecy_rank, listed_at, meta, body, updated_at)
           VALUES (NEW.id, NEW.organization_id, NEW.secrecy_rank, NEW.listed_at,
                   coalesce(NEW.search_text, ''), '', CURRENT_TIMESTAMP)
         ON CONFLICT (document_id) DO UPDATE SET
           organization_id = excluded.organization_id, secrecy_rank = excluded.secrecy_rank,
           listed_at = excluded.listed_at, meta = excluded.meta;
       END""",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("document_search") as batch:
        batch.add_column(sa.Column("meta", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("secrecy_rank", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_document_search_org_listed",
        "document_search",
        ["organization_id", "listed_at", "document_id"],
    )
    with op.batch_alter_table("task_attachments") as batch:
        batch.add_column(
            sa.Column("text_status", sa.String(16), nullable=False, server_default="none")
        )
    op.create_table(
        "task_file_texts",
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tsv", TSVector(), nullable=True),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["task_attachments.id"],
            name="fk_task_file_texts_attachment_id_task_attachments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_task_file_texts_task_id_tasks", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_task_file_texts_organization_id_organizations",
        ),
        sa.PrimaryKeyConstraint("attachment_id", name="pk_task_file_texts"),
    )
    op.create_index("ix_task_file_texts_task_id", "task_file_texts", ["task_id"])
    if postgres:
        op.create_index(
            "ix_task_file_texts_tsv",
            "task_file_texts",
            ["organization_id", "tsv"],
            postgresql_using="gin",
        )
        op.create_index(
            "ix_document_search_meta",
            "document_search",
            ["organization_id", "meta"],
            postgresql_using="gin",
            postgresql_ops={"meta": "gin_trgm_ops"},
        )
        op.execute(PG_FUNCTIONS)
        op.execute(PG_TRIGGERS)
        op.execute(
            "INSERT INTO document_search (document_id, organization_id, body, updated_at)"
            " SELECT d.id, d.organization_id, '', now() FROM documents d"
            " WHERE NOT EXISTS (SELECT 1 FROM document_search s WHERE s.document_id = d.id)"
        )
        op.execute(
            "UPDATE document_search s SET meta = d.search_text, secrecy_rank = d.secrecy_rank,"
            " listed_at = d.listed_at FROM documents d WHERE d.id = s.document_id"
        )
    else:
        op.execute(
            "INSERT INTO document_search (document_id, organization_id, body, updated_at)"
            " SELECT d.id, d.organization_id, '', CURRENT_TIMESTAMP FROM documents d"
            " WHERE NOT EXISTS (SELECT 1 FROM document_search s WHERE s.document_id = d.id)"
        )
        op.execute(
            "UPDATE document_search SET"
            " meta = (SELECT d.search_text FROM documents d WHERE d.id = document_id),"
            " secrecy_rank = (SELECT d.secrecy_rank FROM documents d WHERE d.id = document_id),"
            " listed_at = (SELECT d.listed_at FROM documents d WHERE d.id = document_id)"
        )
        for statement in SQLITE:
            op.execute(statement)
        op.execute("INSERT INTO document_fts (document_fts) VALUES ('rebuild')")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS documents_search_sync ON documents")
        op.execute("DROP TRIGGER IF EXISTS document_search_tsv ON document_search")
        op.execute("DROP FUNCTION IF EXISTS documents_search_sync()")
        op.execute("DROP FUNCTION IF EXISTS document_search_tsv()")
        op.drop_index("ix_task_file_texts_tsv", table_name="task_file_texts")
        op.drop_index("ix_document_search_meta", table_name="document_search")
    else:
        for name in (
            "documents_search_insert",
            "documents_search_update",
            "document_search_fts_insert",
            "document_search_fts_update",
            "document_search_fts_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS document_fts")
    op.drop_index("ix_task_file_texts_task_id", table_name="task_file_texts")
    op.drop_table("task_file_texts")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS task_file_texts_tsv()")
    with op.batch_alter_table("task_attachments") as batch:
        batch.drop_column("text_status")
    op.drop_index("ix_document_search_org_listed", table_name="document_search")
    with op.batch_alter_table("document_search") as batch:
        batch.drop_column("listed_at")
        batch.drop_column("secrecy_rank")
        batch.drop_column("meta")
