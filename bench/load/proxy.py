"""The nginx site of deploy/ rendered for a run on this machine: a tmp prefix, high ports, a
test certificate made now, nginx as the current user. Used by tests/deploy and the load test."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def site_body_limit_mb(site: str) -> int:
    match = re.search(r"client_max_body_size\s+(\d+)m;", site)
    assert match, "the site sets client_max_body_size in MB"
    return int(match.group(1))


def render_site(
    site: str,
    *,
    app_port: int,
    https_port: int,
    http_port: int,
    cert: Path,
    key: Path,
    max_upload_mb: int,
) -> str:
    """The shipped site with the test's addresses, paths and upload limit."""
    import flask_bootstrap

    bootstrap_static = Path(flask_bootstrap.__file__).parent / "static"
    rendered = site
    for old, new in [
        ("server 127.0.0.1:8000", f"server 127.0.0.1:{app_port}"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:443 ssl http2;\n", ""),
        ("listen [::]:80;\n", ""),
        ("/etc/ssl/dhtn/fullchain.pem", str(cert)),
        ("/etc/ssl/dhtn/privkey.pem", str(key)),
        (
            "/opt/dhtn/.venv/lib/python3.11/site-packages/flask_bootstrap/static/bootstrap5/",
            f"{bootstrap_static}/bootstrap5/",
        ),
        ("/opt/dhtn/", f"{ROOT}/"),
        (
            f"client_max_body_size {site_body_limit_mb(site)}m;",
            f"client_max_body_size {max_upload_mb + 5}m;",
        ),
    ]:
        if old not in rendered:
            raise ValueError(f"the site no longer contains {old!r}")
        rendered = rendered.replace(old, new)
    return rendered


def nginx_main_conf(prefix: Path, site: Path) -> str:
    user = pwd.getpwuid(os.geteuid()).pw_name
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user_line = f"user {user};" if os.geteuid() == 0 else ""
    return f"""{user_line}
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {prefix / "access.log"};
{temp}
    include {site};
}}
"""


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
