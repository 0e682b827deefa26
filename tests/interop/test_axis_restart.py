"""The simulator as a process (``python -m interop.axis_sim``): killed, restarted, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from interop import build_package_bytes, parse_system_option
from tests.servers import free_port

from .conftest import (
    ORG_TINH,
    ORG_TW,
    SECRET_A,
    SECRET_B,
    SYSTEM_A,
    SYSTEM_B,
    client_for,
    sample_package,
)

ROOT = Path(__file__).resolve().parents[2]


class SimProcess:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "interop.axis_sim",
                "--host", "127.0.0.1", "--port", str(self.port), "--data", str(self.data_dir),
                "--system", f"{SYSTEM_A}:{SECRET_A}", "--system", f"{SYSTEM_B}:{SECRET_B}",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("the simulator did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[SimProcess]:
    running = SimProcess(tmp_path / "axis-data", free_port())
    yield running
    if running.process is not None:
        running.kill()


def test_messages_agencies_and_statuses_survive_kill_9(sim_process: SimProcess) -> None:
    sim_process.start()
    a = client_for(sim_process.url, SYSTEM_A, SECRET_A)
    b = client_for(sim_process.url, SYSTEM_B, SECRET_B)
    a.register_agency(ORG_TW.organ_id, ORG_TW.organ_name)
    b.register_agency(ORG_TINH.organ_id, ORG_TINH.organ_name)
    data = build_package_bytes(sample_package())
    first = a.send_edoc(data)
    second = a.send_edoc(build_package_bytes(sample_package("61")))
    b.update_status(second.doc_id, "done")
    sim_process.kill()  # right after the acknowledgements: no clean shutdown

    sim_process.start()
    assert [i.doc_id for i in b.get_received_list()] == [first.doc_id]
    assert b.get_edoc(first.doc_id) == data
    assert {agency.code for agency in a.get_agencies()} == {ORG_TW.organ_id, ORG_TINH.organ_id}
    assert a.send_edoc(data).doc_id == first.doc_id  # the dedupe index survived too
    sent = {item.doc_id: item.deliveries[0].status for item in a.get_sent_list()}
    assert sent == {first.doc_id: "new", second.doc_id: "done"}


def test_the_command_line_options() -> None:
    assert parse_system_option("000.00.00.Z01:bí:mật") == ("000.00.00.Z01", "bí:mật")
    for bad in ("no-secret", ":secret", "id:"):
        with pytest.raises(ValueError):
            parse_system_option(bad)
    result = subprocess.run(
        [sys.executable, "-m", "interop.axis_sim", "--system", "broken"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "ID:SECRET" in result.stderr
