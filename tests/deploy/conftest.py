"""The production profile as deploy/ ships it: `dhtn serve` (gunicorn, 2 workers, metrics over
processes) on PostgreSQL, Redis and the S3 server, behind Debian's nginx with the site of
deploy/nginx/dhtn.conf rendered for the test (a tmp prefix, high ports, a test certificate made
now; nginx runs as the current user)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.load.proxy import make_certificate, nginx_main_conf, render_site
from tests.conftest import DEMO_PASSWORD, fresh_pg_database
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
MAX_UPLOAD_MB = 2  # the app takes MAX_UPLOAD_MB + 5 MB; nginx is rendered to the same


def wait_for(url: str, proc: subprocess.Popen[Any], timeout: float = 90, **kw: Any) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2, **kw).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


@dataclass
class Profile:
    https: str  # https://127.0.0.1:PORT (nginx)
    http: str  # http://127.0.0.1:PORT (nginx, redirects)
    app: str  # http://127.0.0.1:PORT (gunicorn directly)
    cert: Path
    web_log: Path
    metrics_dir: Path
    nginx_prefix: Path
    env: dict[str, str]
    web_pid: int  # the gunicorn master

    def web_workers(self) -> set[int]:
        children = Path(f"/proc/{self.web_pid}/task/{self.web_pid}/children").read_text()
        return {int(pid) for pid in children.split()}

    def log_lines(self) -> list[str]:
        return self.web_log.read_text(encoding="utf-8", errors="replace").splitlines()


@pytest.fixture(scope="session")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Profile]:
    if shutil.which("nginx") is None:
        pytest.fail("nginx is missing: scripts/install-system-deps.sh installs it")
    s3 = os.environ.get("DHTN_TEST_S3_URL")
    redis = os.environ.get("DHTN_TEST_REDIS_URL")
    if not (s3 and redis):
        pytest.fail("source var/services.env: the production profile needs S3 and Redis")
    tmp = tmp_path_factory.mktemp("production")
    db_url = fresh_pg_database("_deploy")
    metrics_dir = tmp / "metrics"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DHTN_", "PROMETHEUS"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DHTN_DATA_DIR": str(tmp / "data"),
        "DHTN_DATABASE_URL": db_url,
        "DHTN_STORAGE_URL": s3,
        "DHTN_BROKER_URL": redis,
        "DHTN_SECRET_KEY": "deploy-test-secret",
        "DHTN_DEMO_PASSWORD": DEMO_PASSWORD,
        "DHTN_TRUSTED_PROXIES": "1",
        "DHTN_MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
        "DHTN_LOG_LEVEL": "INFO",
        "DHTN_OCR": "off",
        "DHTN_DEMO_ACTIVITY": "off",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    dhtn = str(Path(sys.executable).with_name("dhtn"))
    for argv in ([dhtn, "db", "upgrade"], [dhtn, "demo", "seed"]):
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=300)
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    web_log = tmp / "web.log"
    with web_log.open("wb") as log:
        web = subprocess.Popen(
            [dhtn, "serve", "--host", "127.0.0.1", "--port", str(app_port), "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    prefix = tmp / "nginx"
    prefix.mkdir()
    cert, key = make_certificate(tmp)
    site = prefix / "dhtn.conf"
    site.write_text(
        render_site(
            (DEPLOY / "nginx" / "dhtn.conf").read_text(),
            app_port=app_port,
            https_port=https_port,
            http_port=http_port,
            cert=cert,
            key=key,
            max_upload_mb=MAX_UPLOAD_MB,
        )
    )
    main_conf = prefix / "nginx.conf"
    main_conf.write_text(nginx_main_conf(prefix, site))
    nginx = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(main_conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "stderr.log").open("wb"),
    )
    try:
        wait_for(f"http://127.0.0.1:{app_port}/healthz", web)
        wait_for(f"https://127.0.0.1:{https_port}/healthz", nginx, verify=str(cert))
        yield Profile(
            https=f"https://127.0.0.1:{https_port}",
            http=f"http://127.0.0.1:{http_port}",
            app=f"http://127.0.0.1:{app_port}",
            cert=cert,
            web_log=web_log,
            metrics_dir=metrics_dir,
            nginx_prefix=prefix,
            env=env,
            web_pid=web.pid,
        )
    finally:
        for proc in (nginx, web):
            proc.terminate()
        for proc in (nginx, web):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
