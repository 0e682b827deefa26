"""A real Web Push service on loopback: the npm package ``web-push-testing`` (installed from
``tests/push/package.json`` by ``make test``, ``npm ci``). It hands out subscriptions like a
browser's push service, checks the VAPID signature, decrypts each aes128gcm push with the
subscription's private key and keeps the plaintext, and can expire a subscription (then it
answers 410)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.servers import free_port

HERE = Path(__file__).resolve().parent
SERVER = HERE / "node_modules" / "web-push-testing" / "src" / "bin" / "server.js"


@dataclass
class PushService:
    base: str  # http://localhost:PORT, as the service names its endpoints

    def subscribe(self, application_server_key: str) -> dict[str, Any]:
        """A browser's subscription (``endpoint``, ``keys``) plus the service's ``clientHash``."""
        r = requests.post(
            f"{self.base}/subscribe",
            json={"userVisibleOnly": "true", "applicationServerKey": application_server_key},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        return data

    def messages(self, client_hash: str) -> list[str]:
        """The plaintexts this subscription received (decrypted by the service)."""
        r = requests.post(
            f"{self.base}/get-notifications", json={"clientHash": client_hash}, timeout=10
        )
        assert r.status_code == 200, r.text
        return list(r.json()["data"]["messages"])

    def expire(self, client_hash: str) -> None:
        r = requests.post(f"{self.base}/expire-subscription/{client_hash}", timeout=10)
        assert r.status_code == 200, r.text


@pytest.fixture(scope="session")
def push_service() -> Iterator[PushService]:
    node = shutil.which("node")
    if node is None or not SERVER.exists():
        pytest.fail("web-push-testing is missing: run `npm ci --prefix tests/push` (make test)")
    port = free_port()
    # Output to a file, not an unread pipe (a full pipe would block the service).
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [node, str(SERVER), str(port)],
            cwd=HERE,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base = f"http://localhost:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.post(f"{base}/status", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            proc.kill()
            log.seek(0)
            pytest.fail(f"web-push-testing did not start: {log.read()[-4000:]}")
        yield PushService(base)
        proc.terminate()
        proc.wait(timeout=10)
