"""The embedded profile (SQLite, local files, embedded broker), as `make run` starts it."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from docflow.demo import DEMO_USERNAMES
from tests.app.test_pages import csrf_of
from tests.conftest import EMBEDDED_PASSWORD as PASSWORD


def test_dhtn_run_creates_the_data_dir_and_is_ready(embedded_server: dict) -> None:  # type: ignore[type-arg]
    data: Path = embedded_server["data"]
    assert (data / "dhtn.sqlite").exists() and (data / "secret_key").exists()
    r = requests.get(f"{embedded_server['base']}/readyz", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "object_store": "ok", "broker": "ok"}


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_every_demo_account_logs_in_through_page_and_api(
    embedded_server: dict, username: str
) -> None:  # type: ignore[type-arg]
    base = embedded_server["base"]
    api = requests.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert api.status_code == 200 and api.json()["user"]["username"] == username
    with requests.Session() as browser:
        token = csrf_of(browser.get(f"{base}/login", timeout=10).text)
        r = browser.post(
            f"{base}/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token},
            timeout=10,
        )
        assert r.status_code == 200 and "Xin chào" in r.text


def test_the_printed_banner_names_the_url_and_accounts(embedded_server: dict) -> None:  # type: ignore[type-arg]
    # The banner is printed before gunicorn starts, into the server's log file.
    text = embedded_server["log"].read_text()
    assert "DHTN đang chạy: http://127.0.0.1:" in text
    assert "vanthu.tw" in text and PASSWORD in text
