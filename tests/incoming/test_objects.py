"""The database side of the store's integrity: verify and sweep know which objects rows use."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from docflow.objects import referenced_keys, sweep, verify_objects
from tests.incoming.conftest import Incoming


def test_verify_reports_missing_and_orphans(flow: Incoming) -> None:
    flow.register()
    store, uow = flow.demo.store, flow.demo.uow
    report = verify_objects(uow(), store)
    assert report.referenced == 1 and not report.missing and not report.orphans
    orphan = store.put(io.BytesIO(b"%PDF-1.4 orphan"), "application/pdf")
    [key] = list(referenced_keys(uow()))
    store.delete(key)
    report = verify_objects(uow(), store)
    assert set(report.missing) == {key} and set(report.orphans) == {orphan.key}


def test_sweeper_removes_old_orphans_and_never_a_referenced_object(
    flow: Incoming, tmp_path: Path
) -> None:
    flow.register()
    store, uow = flow.demo.store, flow.demo.uow
    [used] = list(referenced_keys(uow()))
    orphan = store.put(io.BytesIO(b"an orphan"), "application/octet-stream")
    young = store.put(io.BytesIO(b"a young orphan"), "application/octet-stream")
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).timestamp()
    for info in store.list():
        if info.key in (orphan.key, used):
            path = next((tmp_path / "data" / "objects").rglob(info.key.split("/")[-1]))
            os.utime(path, (old, old))
    report = sweep(uow, store)
    assert set(report.deleted) == {orphan.key}
    assert store.exists(used) and store.exists(young.key)


def test_storage_verify_command(embedded_server: dict[str, Any]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DHTN_")} | {
        "DHTN_DATA_DIR": str(embedded_server["data"])
    }
    r = subprocess.run(
        [str(Path(sys.executable).with_name("dhtn")), "storage", "verify"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "thiếu: 0" in r.stdout and "hỏng: 0" in r.stdout
