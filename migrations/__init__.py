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


__all__ = ["alembic_config", "upgrade"]
