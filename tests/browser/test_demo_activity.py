"""`dhtn demo seed` adds a fortnight of work through the real API: on PostgreSQL, every demo
account that works documents or tasks has something waiting at first sign-in, the documents
are in every state (some urgent, some overdue), issued ones carry their signed PDF, tasks are
on time and late, notifications are waiting; a second run adds nothing. A leader's and a
clerk's home in headless Chromium (screenshots in var/screenshots/)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from docflow.models import Document, Task
from tests.browser.conftest import DESKTOP, PHONE, new_page
from tests.conftest import DEMO_PASSWORD, fresh_pg_database
from tests.servers import free_port

# Accounts whose work is documents and tasks (the admin and the archivist have other pages).
WORKERS = (
    "vanthu.tw",
    "lanhdao.tw",
    "truongban.dcgs",
    "chuyenvien.dcgs",
    "chuyenvien.tg",
    "vanthu.tinh",
    "lanhdao.tinh",
    "chuyenvien.tinh",
    "vanthu.phuong",
    "lanhdao.phuong",
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`dhtn db upgrade` and `dhtn demo seed` (with the activity) on a PostgreSQL database of
    its own, then `dhtn serve` on it."""
    from app.cli import main

    data = tmp_path_factory.mktemp("activity")
    url = fresh_pg_database("_activity")
    env = {
        "DHTN_DATA_DIR": str(data),
        "DHTN_DATABASE_URL": url,
        "DHTN_DEMO_PASSWORD": DEMO_PASSWORD,
        "DHTN_SECRET_KEY": "activity-test-key",
        "DHTN_OCR": "off",
        "DHTN_LOG_LEVEL": "WARNING",
    }
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    out = runner.invoke(main, ["demo", "seed"], env=env)
    assert out.exit_code == 0, out.output
    engine = create_engine(url)
    port = free_port()
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("DHTN_")} | env
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("dhtn")), "serve", "--port", str(port)],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.3)
    yield {"engine": engine, "env": env, "output": out.output, "base": base, "runner": runner}
    proc.terminate()
    proc.wait(timeout=30)
    engine.dispose()


def _token(base: str, username: str) -> dict[str, str]:
    r = requests.post(
        f"{base}/api/v1/auth/token",
        json={"username": username, "password": DEMO_PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_every_demo_worker_has_work_waiting(seeded: dict[str, Any]) -> None:
    base = seeded["base"]
    overdue = unread = 0
    for username in WORKERS:
        h = _token(base, username)
        counters = requests.get(f"{base}/api/v1/me/counters", headers=h, timeout=10).json()
        tasks = requests.get(f"{base}/api/v1/tasks?box=mine", headers=h, timeout=10).json()
        open_tasks = [t for t in tasks["items"] if t["state"] not in ("done", "cancelled")]
        assert counters["waiting"] + len(open_tasks) > 0, (username, counters)
        overdue += counters["overdue"]
        unread += counters["unread"]
    assert overdue > 0 and unread > 0


def test_documents_in_every_state_with_their_signed_pdfs(seeded: dict[str, Any]) -> None:
    with seeded["engine"].connect() as c:
        incoming = dict(
            c.execute(
                select(Document.state, func.count())
                .where(Document.direction == "incoming")
                .group_by(Document.state)
            ).all()
        )
        outgoing = dict(
            c.execute(
                select(Document.state, func.count())
                .where(Document.direction == "outgoing")
                .group_by(Document.state)
            ).all()
        )
        urgent = c.scalar(
            select(func.count()).where(Document.urgency != "normal").select_from(Document)
        )
        tasks = c.execute(select(Task.state, Task.due_date)).all()
    assert {"arrived", "registered", "submitted", "assigned", "in_progress", "done"} <= set(
        incoming
    ), incoming
    assert {"in_review", "signed", "dispatched"} <= set(outgoing), outgoing
    assert urgent and urgent >= 3
    today = max(d for _, d in tasks)  # some deadlines are still ahead
    states = {s for s, _ in tasks}
    assert {"in_progress", "done", "awaiting_approval"} <= states
    assert any(d < today and s != "done" for s, d in tasks)  # late
    base = seeded["base"]
    h = _token(base, "vanthu.tw")
    listed = requests.get(
        f"{base}/api/v1/documents?direction=outgoing&box=all&state=dispatched",
        headers=h,
        timeout=10,
    ).json()["items"]
    assert listed
    for item in listed:
        doc = requests.get(f"{base}/api/v1/documents/{item['id']}", headers=h, timeout=10).json()
        main = next(f for f in doc["files"] if f["kind"] in ("signed", "main"))
        pdf = requests.get(
            f"{base}/api/v1/documents/{doc['id']}/files/{main['id']}/content",
            headers=h,
            timeout=10,
        ).content
        assert pdf.startswith(b"%PDF") and b"/ByteRange" in pdf
        assert doc["register_number"] and doc["notation"]


def test_a_second_seed_adds_nothing(seeded: dict[str, Any]) -> None:
    from app.cli import main

    def count() -> int:
        with seeded["engine"].connect() as c:
            return int(c.scalar(select(func.count()).select_from(Document)) or 0)

    before = count()
    out = seeded["runner"].invoke(main, ["demo", "seed"], env=seeded["env"])
    assert out.exit_code == 0, out.output
    assert count() == before and "đã có đủ" in out.output


@pytest.mark.browser
@pytest.mark.parametrize("username", ["lanhdao.tw", "vanthu.tw"])
@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_first_sign_in_opens_on_the_day_s_work(
    browser: Any,
    seeded: dict[str, Any],
    shots: Path,
    page_errors: list[str],
    username: str,
    label: str,
    viewport: dict[str, int],
) -> None:
    page = new_page(browser, viewport, page_errors)
    page.goto(seeded["base"] + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(seeded["base"] + "/")
    card = page.locator(".dhtn-today")
    assert card.is_visible()
    waiting = int(card.locator("strong").first.inner_text())
    assert waiting > 0
    page.screenshot(path=str(shots / f"home-activity-{username}-{label}.png"), full_page=True)
    page.goto(seeded["base"] + "/documents?box=inbox")
    page.screenshot(path=str(shots / f"inbox-activity-{username}-{label}.png"), full_page=True)
    assert page_errors == []
    page.context.close()
