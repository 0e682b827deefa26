"""`dhtn` refuses to run on a database migrated by a newer DHTN (a restore of a newer backup,
a rollback of the code): `dhtn db check`, `dhtn serve`, `dhtn worker` and `dhtn beat` stop
with exit code 3 before serving anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from migrations import check_schema, schema_state, upgrade
from tests.conftest import fresh_pg_database

pytestmark = [pytest.mark.pg]
ROOT = Path(__file__).resolve().parents[2]


def _dhtn(url: str, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DHTN_")} | {
        "PYTHONPATH": str(ROOT),
        "DHTN_DATABASE_URL": url,
        "DHTN_DATA_DIR": str(tmp_path / "data"),
        "DHTN_SECRET_KEY": "x" * 32,
    }
    dhtn = str(Path(sys.executable).with_name("dhtn"))
    return subprocess.run(
        [dhtn, *argv], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    url = fresh_pg_database("_guard")
    assert schema_state(url) == ("empty", None)
    assert _dhtn(url, tmp_path, "db", "check").returncode == 4  # not migrated yet
    upgrade(url)
    assert schema_state(url)[0] == "current"
    assert check_schema(url) == "current"
    ok = _dhtn(url, tmp_path, "db", "check")
    assert ok.returncode == 0, ok.stderr
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    assert schema_state(url) == ("ahead", "0099_from_the_future")
    for argv in (["db", "check"], ["serve", "--port", "1"], ["worker"], ["beat"]):
        result = _dhtn(url, tmp_path, *argv)
        assert result.returncode == 3, (argv, result.stderr)
        assert "mới hơn mã nguồn" in result.stderr
