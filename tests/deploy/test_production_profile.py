"""deploy/ served for real: nginx (TLS, body limit, static files, gzip, forwarded headers) in
front of `dhtn serve` (gunicorn, 2 workers) on PostgreSQL, Redis and S3; metrics added up over
the gunicorn workers; the systemd units verified by systemd-analyze."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from app.config import Settings
from bench.load.proxy import DEPLOY, site_body_limit_mb
from tests.deploy.conftest import MAX_UPLOAD_MB, Profile

pytestmark = [pytest.mark.pg, pytest.mark.s3, pytest.mark.redis, pytest.mark.slow]


def access_lines(profile: Profile) -> list[dict[str, Any]]:
    out = []
    for line in profile.log_lines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "dhtn.access":
                out.append(entry)
    return out


def test_https_serves_the_login_page(production: Profile) -> None:
    r = requests.get(f"{production.https}/login", verify=str(production.cert), timeout=10)
    assert r.status_code == 200 and "Đăng nhập" in r.text
    assert r.headers["Server"].startswith("nginx")
    # Plain HTTP only redirects to HTTPS.
    plain = requests.get(f"{production.http}/login", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")


def test_static_files_are_served_by_nginx_cached_and_gzipped(production: Profile) -> None:
    page = requests.get(f"{production.https}/login", verify=str(production.cert), timeout=10)
    match = re.search(r'href="(/static/dhtn\.css\?v=[0-9a-f]{12})"', page.text)
    assert match, "the page links the stylesheet with its content hash"
    r = requests.get(
        production.https + match.group(1),
        headers={"Accept-Encoding": "gzip"},
        verify=str(production.cert),
        timeout=10,
    )
    assert r.status_code == 200 and "text/css" in r.headers["Content-Type"]
    assert "charset=utf-8" in r.headers["Content-Type"]  # Vietnamese text read as UTF-8
    assert r.headers.get("Content-Encoding") == "gzip"
    assert "max-age=31536000" in r.headers["Cache-Control"]
    assert "immutable" in r.headers["Cache-Control"]
    # The app was not asked: its responses carry the CSP header, nginx's static files do not.
    assert "Content-Security-Policy" not in r.headers
    css = (Path(__file__).resolve().parents[2] / "app" / "static" / "dhtn.css").read_bytes()
    assert r.content == css
    # Bootstrap's own files too.
    boot = re.search(r'href="(/bootstrap/static/[^"]+\.css[^"]*)"', page.text)
    assert boot
    rb = requests.get(
        production.https + boot.group(1).replace("&amp;", "&"),
        verify=str(production.cert),
        timeout=10,
    )
    assert rb.status_code == 200 and "immutable" in rb.headers["Cache-Control"]


def test_the_body_limit_matches_the_app_and_nginx_refuses_first(production: Profile) -> None:
    shipped = (DEPLOY / "nginx" / "dhtn.conf").read_text()
    assert site_body_limit_mb(shipped) == Settings.from_env({}).max_upload_mb + 5
    probe = f"/upload-probe-{uuid.uuid4().hex[:8]}"
    too_big = b"x" * ((MAX_UPLOAD_MB + 6) * 1024 * 1024)
    r = requests.post(
        production.https + probe,
        data=too_big,
        headers={"Content-Type": "application/pdf"},
        verify=str(production.cert),
        timeout=60,
    )
    assert r.status_code == 413 and "nginx" in r.text
    small = requests.post(
        production.https + probe + "-small",
        data=b"x" * 1024,
        headers={"Content-Type": "application/pdf"},
        verify=str(production.cert),
        timeout=10,
    )
    assert small.status_code != 413
    paths = {entry["path"] for entry in access_lines(production)}
    assert probe + "-small" in paths  # the small one reached the app
    assert probe not in paths  # the large one never did


def _get_from(
    source_ip: str, url: str, headers: dict[str, str], cert: Path
) -> tuple[int, dict[str, str]]:
    """An HTTPS GET whose TCP connection leaves from ``source_ip`` (a loopback alias)."""
    host, port = url.removeprefix("https://").split("/", 1)[0].split(":")
    path = "/" + url.removeprefix("https://").split("/", 1)[1]
    context = ssl.create_default_context(cafile=str(cert))
    raw = socket.create_connection((host, int(port)), source_address=(source_ip, 0), timeout=10)
    with context.wrap_socket(raw, server_hostname="localhost") as sock:
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    return status, {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in head[1:])}


def test_a_spoofed_forwarded_for_or_request_id_from_the_client_is_not_believed(
    production: Profile,
) -> None:
    status, headers = _get_from(
        "127.0.0.2",
        f"{production.https}/login",
        {"X-Forwarded-For": "203.0.113.7", "X-Request-ID": "chosen-by-client-1"},
        production.cert,
    )
    assert status == 200
    rid = headers["x-request-id"]
    assert rid != "chosen-by-client-1" and re.fullmatch(r"[0-9a-f]{32}", rid)  # nginx's id
    [entry] = [e for e in access_lines(production) if e.get("request_id") == rid]
    # The address nginx saw (the trusted proxy's X-Forwarded-For), not the spoofed one, not
    # the proxy's own.
    assert entry["ip"] == "127.0.0.2"


def test_metrics_add_up_over_the_gunicorn_workers(production: Profile) -> None:
    marker = uuid.uuid4()
    url = f"{production.app}/api/v1/documents/{marker}"

    def load(n: int) -> None:
        with ThreadPoolExecutor(8) as pool:
            assert all(
                s == 401
                for s in pool.map(lambda _: requests.get(url, timeout=10).status_code, range(n))
            )

    def writers() -> set[int]:
        return {int(p.stem.split("_")[-1]) for p in production.metrics_dir.glob("counter_*.db")}

    load(30)
    # Kill a worker that counted requests: gunicorn starts another; what the dead one counted
    # still counts, and the new one's requests are added to it.
    victim = next(iter(writers() & production.web_workers()))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (
        victim in production.web_workers() or len(production.web_workers()) < 2
    ) and time.monotonic() < deadline:
        time.sleep(0.2)
    load(30)
    n = 60
    assert len(writers()) >= 2, "requests were counted by more than one process"

    def total() -> float:
        text = requests.get(f"{production.app}/metrics", timeout=10).text
        count = 0.0
        for line in text.splitlines():
            if line.startswith("dhtn_http_request_duration_seconds_count{") and (
                'endpoint="/api/v1/documents/<uuid:document_id>"' in line
            ):
                count += float(line.rsplit(" ", 1)[1])
        assert str(marker) not in text  # labels are route templates, not raw paths
        return count

    # Whichever worker answers the scrape, it reports every worker's requests.
    assert {total() for _ in range(8)} == {float(n)}
    text = requests.get(f"{production.app}/metrics", timeout=10).text
    assert "dhtn_outbox_pending " in text and "dhtn_outbox_lag_seconds " in text
    assert 'dhtn_broker_queue_length{queue="celery"}' in text
    # Not reachable from outside through nginx.
    outside = requests.get(f"{production.https}/metrics", verify=str(production.cert), timeout=10)
    assert outside.status_code == 404


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    import sys

    dhtn = str(Path(sys.executable).with_name("dhtn"))
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text().replace("/opt/dhtn/.venv/bin/dhtn", dhtn)
        text = text.replace("/opt/dhtn", str(Path(dhtn).parents[2]))
        text = text.replace(
            "EnvironmentFile=/etc/dhtn/dhtn.env", f"EnvironmentFile={DEPLOY / 'dhtn.env.example'}"
        )
        rendered = tmp_path / unit.name
        rendered.write_text(text)
        result = subprocess.run(
            [analyze, "verify", str(rendered)], capture_output=True, text=True, timeout=60
        )
        problems = [
            line
            for line in (result.stdout + result.stderr).splitlines()
            if unit.name in line or "Unknown" in line or "error" in line.lower()
        ]
        # Users dhtn may not exist here; everything else must be clean.
        problems = [p for p in problems if "User" not in p and "Group" not in p]
        assert result.returncode == 0 or not problems, result.stderr
        assert not problems, problems
    beat = (DEPLOY / "systemd" / "dhtn-beat.service").read_text()
    worker = (DEPLOY / "systemd" / "dhtn-worker.service").read_text()
    assert "dhtn beat" in beat and "--no-beat" in worker  # one scheduler, separate from workers
    heavy = (DEPLOY / "systemd" / "dhtn-worker-heavy.service").read_text()
    assert "--queues celery" in worker and "--queues heavy" in heavy  # scans apart


def test_the_grafana_dashboard_queries_metrics_the_app_exports(production: Profile) -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exported = requests.get(f"{production.app}/metrics", timeout=10).text
    names = set(re.findall(r"^# TYPE (\w+) ", exported, re.M))
    from app.metrics import AXIS_DOCUMENTS, AXIS_EXCHANGE, CONVERSION_SECONDS, OCR_SECONDS

    names |= {m._name for m in (AXIS_DOCUMENTS, AXIS_EXCHANGE, CONVERSION_SECONDS, OCR_SECONDS)}
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(
                re.findall(r"\b(dhtn_\w+?)(?:_bucket|_count|_sum|_total)?\b[{\[)]", target["expr"])
            )
    assert used, "the dashboard queries DHTN metrics"
    base = {re.sub(r"_(bucket|count|sum|total)$", "", n) for n in used}
    missing = {n for n in base if n not in names and n + "_total" not in names}
    assert not missing, missing


def test_each_gunicorn_worker_tunes_its_garbage_collector(production: Profile) -> None:
    """``dhtn serve`` tunes the collector of each worker once it has loaded the app
    (app/collector.py): the first collection of the tuning is counted in
    ``dhtn_gc_seconds_total`` by every worker process, and /metrics adds them up."""
    text = requests.get(f"{production.app}/metrics", timeout=10).text
    full = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('dhtn_gc_seconds_total{generation="2"}')
    ]
    assert full and full[0] > 0, "the tuning's full collection was counted"

    def counted() -> set[int]:
        return {int(p.stem.split("_")[-1]) for p in production.metrics_dir.glob("counter_*.db")}

    # A worker started a moment ago (another test kills one) may still be loading the app.
    deadline = time.monotonic() + 60
    while not production.web_workers() <= counted() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert production.web_workers() <= counted()
