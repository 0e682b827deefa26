"""The servers tests start as child processes: a free port, the environment of a `dhtn`
process, and `dhtn run` started, awaited and stopped in one way.

A child's output goes to a file in its data dir, never to a pipe nobody reads (a full pipe
blocks the child on its next log line, and every request to it then times out).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, overload

import pytest
import requests

DHTN = str(Path(sys.executable).with_name("dhtn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dhtn_env(data: Path, password: str, **settings: str) -> dict[str, str]:
    """The environment of a `dhtn` child: the test's own without any ``DHTN_`` setting (the
    test databases' URLs are not the child's), its data dir, the demo accounts' password, no
    demo fortnight (tests expect empty boxes; a test that wants it passes
    ``DHTN_DEMO_ACTIVITY="on"``), warnings only in its log; then ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DHTN_")}
    return env | {
        "DHTN_DATA_DIR": str(data),
        "DHTN_DEMO_PASSWORD": password,
        "DHTN_DEMO_ACTIVITY": "off",
        "DHTN_LOG_LEVEL": "WARNING",
        **settings,
    }


@dataclass
class DhtnServer:
    """A `dhtn run` child: its address, data dir, process and log file."""

    base: str
    data: Path
    proc: subprocess.Popen[bytes]
    log: Path
    name: str = "dhtn run"
    tokens: dict[str, str] = field(default_factory=dict)

    def logs(self, chars: int = 6000) -> str:
        """The end of the server's and its worker's logs, for a failure message."""
        out = []
        for path in (self.log, self.data / "worker.log"):
            if path.exists():
                text = path.read_text(errors="replace")[-chars:]
                out.append(f"--- {self.name}: {path.name} ---\n{text}")
        return "\n".join(out)

    def ready(self, path: str = "/readyz") -> bool:
        """Whether it answers ``path``; a child that exited fails the test with its logs."""
        if self.proc.poll() is not None:
            pytest.fail(f"{self.name} exited ({self.proc.returncode})\n{self.logs()}")
        try:
            return requests.get(self.base + path, timeout=2).ok
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float = 420, path: str = "/readyz") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready(path):
                return
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"{self.name} did not come up in {timeout:.0f} s\n{self.logs()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


S = TypeVar("S", bound=DhtnServer)


@overload
def start_dhtn_run(env: dict[str, str], *, name: str = ...) -> DhtnServer: ...
@overload
def start_dhtn_run(env: dict[str, str], *, name: str = ..., kind: type[S]) -> S: ...
def start_dhtn_run(
    env: dict[str, str], *, name: str = "dhtn run", kind: type[DhtnServer] = DhtnServer
) -> DhtnServer:
    """Start `dhtn run` on a free port with ``env`` (from :func:`dhtn_env`); not awaited.
    ``kind`` is :class:`DhtnServer` or a subclass of it (a test's client helpers)."""
    data = Path(env["DHTN_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = data / "server.log"
    with log.open("wb") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [DHTN, "run", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return kind(f"http://127.0.0.1:{port}", data, proc, log, name)


@contextmanager
def dhtn_running(env: dict[str, str], *, timeout: float = 420) -> Iterator[DhtnServer]:
    """`dhtn run` started, ready (``/readyz``: database, store and broker answer), stopped
    after. Alone it is ready in about 8 s; beside the other test process it has taken 160 s
    (its worker, too, took 165 s from the seed to "ready" then), hence the long wait."""
    server = start_dhtn_run(env)
    try:
        server.wait_ready(timeout)
        yield server
    finally:
        server.stop()
