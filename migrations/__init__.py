"""Alembic revisions over docflow's metadata. Run with ``dhtn db upgrade``.

``upgrade(url)`` and ``alembic_config(url)`` let code and tests migrate without an ini file.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


class SchemaNewerThanCode(RuntimeError):
    """The database was migrated by a newer DHTN: this code must not run on it."""


def schema_state(url: str) -> tuple[str, str | None]:
    """``("current" | "behind" | "empty" | "ahead", the database's revision)``: ``ahead`` when
    the database's revision is unknown to this code's migrations (a newer DHTN migrated it)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    script = ScriptDirectory.from_config(alembic_config(url))
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            heads = MigrationContext.configure(conn).get_current_heads()
    finally:
        engine.dispose()
    if not heads:
        return "empty", None
    known = {rev.revision for rev in script.walk_revisions()}
    current = heads[0]
    if any(head not in known for head in heads):
        return "ahead", current
    return ("current" if set(heads) == set(script.get_heads()) else "behind"), current


def check_schema(url: str) -> str:
    """Raise :class:`SchemaNewerThanCode` on a database newer than this code; else its state."""
    state, revision = schema_state(url)
    if state == "ahead":
        raise SchemaNewerThanCode(
            f"Cơ sở dữ liệu ở phiên bản {revision}, mới hơn mã nguồn DHTN này: "
            "hãy cài phiên bản DHTN mới hơn (không chạy trên cơ sở dữ liệu này)."
        )
    return state


__all__ = ["SchemaNewerThanCode", "alembic_config", "check_schema", "schema_state", "upgrade"]
