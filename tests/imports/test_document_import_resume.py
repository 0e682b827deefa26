"""``dhtn import documents`` on a generated old-system export (manifest + 10,000 files), killed
halfway (SIGKILL, a separate process) and run again: every document once, numbers as in the
manifest, the register's next number right, no orphan object in the S3 store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import sessionmaker

from bench.imports import write_old_export
from docflow.demo import seed_demo
from docflow.models import Document, DocumentFile, DocumentImport, Register
from docflow.uow import UnitOfWork
from tests.conftest import DEMO_PASSWORD, fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = 10_000
REGISTER = "Sổ văn bản đến năm 2025"


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.s3
def test_an_import_killed_halfway_and_run_again(tmp_path: Path) -> None:
    s3 = os.environ.get("DHTN_TEST_S3_URL")
    if not s3:
        pytest.skip("needs the S3 server (DHTN_TEST_S3_URL)")
    from storage import open_store
    from tests.storage.helpers import with_prefix

    storage_url = with_prefix(s3, f"docimport-resume-{uuid.uuid4().hex[:12]}")
    url = fresh_pg_database("_docimport_resume")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DHTN_DATA_DIR": str(tmp_path / "data"),
        "DHTN_DATABASE_URL": url,
        "DHTN_STORAGE_URL": storage_url,
        "DHTN_DEMO_PASSWORD": DEMO_PASSWORD,
        "DHTN_SECRET_KEY": "k",
        "DHTN_BROKER_URL": "memory://",
        "DHTN_OCR": "off",
        "DHTN_LOG_LEVEL": "WARNING",
    }
    from migrations import upgrade

    upgrade(url)
    engine = create_engine(url)
    seed_demo(UnitOfWork(sessionmaker(engine)), password=DEMO_PASSWORD)
    with engine.begin() as c:
        org_id = c.scalar(text("select id from organizations where code = '000.00.00.Z01'"))
        reg_id = uuid.uuid4()
        c.execute(
            text(
                "insert into registers (id, organization_id, direction, year, name,"
                " secret_series, last_number, active, created_at)"
                " values (:id, :org, 'incoming', 2025, :name, false, 0, true, now())"
            ),
            {"id": reg_id, "org": org_id, "name": REGISTER},
        )
    export = tmp_path / "xuat"
    expected = write_old_export(export, DOCUMENTS)

    def imported() -> int:
        with engine.connect() as c:
            return c.scalar(select(func.count()).select_from(DocumentImport)) or 0

    # First run: killed (no clean-up of any kind) once about half is in.
    run = _cli(env, "import", "documents", str(export), "--as", "admin", "--batch-size", "200")
    deadline = time.monotonic() + 600
    while imported() < DOCUMENTS // 2:
        assert run.poll() is None, run.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    run.send_signal(signal.SIGKILL)
    run.wait()
    halfway = imported()
    assert DOCUMENTS // 2 <= halfway < DOCUMENTS

    # Second run: continues; the first run's imports are skipped.
    again = _cli(env, "import", "documents", str(export), "--as", "admin", "--batch-size", "200")
    out, err = again.communicate(timeout=900)
    assert again.returncode == 0, err.decode()[-2000:]
    summary = out.decode()
    assert f"{DOCUMENTS - halfway} văn bản đã nhập, {halfway} bỏ qua" in summary, summary
    assert "Nhập văn bản" in err.decode()  # the progress bar, on stderr
    reports = list(export.glob("bao-cao-nhap-*.xlsx"))
    assert len(reports) == 1

    with engine.connect() as c:
        rows = c.execute(
            select(Document.register_number, Document.subject).where(Document.register_id == reg_id)
        ).all()
        # Every document once, with the number the manifest gives it.
        assert len(rows) == DOCUMENTS
        assert {n: s for n, s in rows} == expected
        last = c.scalar(select(Register.last_number).where(Register.id == reg_id))
        assert last == max(expected)
        assert c.scalar(select(func.count()).select_from(DocumentImport)) == DOCUMENTS
        keys = set(c.scalars(select(DocumentFile.object_key)))
        files = c.scalar(select(func.count()).select_from(DocumentFile))
    assert files == DOCUMENTS and len(keys) == DOCUMENTS
    # No orphan: every object in the store (this test's own prefix) is referenced by a row.
    from docflow.objects import referenced_keys

    store = open_store(storage_url)
    stored = {info.key for info in store.list()}
    assert stored == keys == set(referenced_keys(UnitOfWork(sessionmaker(engine))))
    for key in stored:
        store.delete(key)
    engine.dispose()
