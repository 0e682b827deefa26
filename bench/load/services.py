"""Private service instances for the fault and soak runs: a PostgreSQL cluster (initdb + pg_ctl),
a redis-server and a SeaweedFS S3 server, each on ports of its own with its data under a
temporary directory, so that a run may stop and restart them without touching the shared
services other work uses (``scripts/services.sh``).

Every method that stops a service waits until it is down; every method that starts one waits
until it answers.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import urllib3

PG_BIN_ROOT = Path("/usr/lib/postgresql")


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found and name not in ("initdb", "pg_ctl", "postgres"):
        return found
    versions = sorted(PG_BIN_ROOT.glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise RuntimeError("PostgreSQL's binaries are missing (scripts/install-system-deps.sh)")
    return str(versions[-1] / name)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports(n: int, start: int) -> list[int]:
    """``n`` consecutive-ish free ports from ``start`` up (SeaweedFS wants several)."""
    out: list[int] = []
    port = start
    while len(out) < n:
        if port_free(port):
            out.append(port)
        port += 1
    return out


def _wait(check: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer within {timeout:.0f} s")


class Postgres:
    """A throw-away cluster: trust on loopback, run as the ``postgres`` system user when root."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.data, self.log = root / "pgdata", root / "postgres.log"
        self.sock = root / "pgsock"
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(argv)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if check and done.returncode:
            raise RuntimeError(f"{argv[0]} failed: {done.stderr[-2000:]}")
        return done

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(exist_ok=True)
        if self.user:
            pw = pwd.getpwnam(self.user)
            for path in (self.root, self.sock):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        self._run(
            _pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as fh:
            fh.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sock}'\nmax_connections = 200\n"
                "shared_buffers = 128MB\nfsync = on\nsynchronous_commit = on\n"
            )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def ready(self) -> bool:
        done = subprocess.run(
            [_pg_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)], check=False
        )
        return done.returncode == 0

    def start(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "start")
        _wait(self.ready, "PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: what a restart by the operator does (sessions are cut, work committed so
        far is on disk); ``immediate``: a crash (recovery from the WAL at the next start)."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")


class Redis:
    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # As scripts/services.sh runs it: no persistence. A restart loses the queue — what the
        # outbox relay is there to make good.
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.root), "--logfile", str(self.root / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(self.ready, "Redis")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    destroy = stop


class S3:
    """SeaweedFS ``weed mini`` as scripts/s3-server.sh starts it, every port moved."""

    ACCESS, SECRET, BUCKET = "dhtn", "dhtn-secret-faults", "dhtn-faults"

    def __init__(self, root: Path, ports: list[int]) -> None:
        self.root = root
        (self.s3, self.s3g, self.master, self.masterg, self.filer, self.filerg, self.volume,
         self.volumeg, self.admin, self.adming) = ports  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"s3://{self.ACCESS}:{self.SECRET}@127.0.0.1:{self.s3}/{self.BUCKET}?secure=false"

    def client(self):  # type: ignore[no-untyped-def]
        from minio import Minio

        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1, read=10), retries=False)
        return Minio(
            f"127.0.0.1:{self.s3}", self.ACCESS, self.SECRET, secure=False, http_client=http
        )

    def ready(self) -> bool:
        client = self.client()
        if not client.bucket_exists(self.BUCKET):
            client.make_bucket(self.BUCKET)
        return True

    def count(self) -> int:
        return sum(1 for _ in self.client().list_objects(self.BUCKET, recursive=True))

    def start(self) -> None:
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        config = self.root / "s3.json"
        identity = {
            "name": "dhtn",
            "credentials": [{"accessKey": self.ACCESS, "secretKey": self.SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        weed = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
        self.proc = subprocess.Popen(
            [weed, f"-logdir={self.root / 'logs'}", "-alsologtostderr=false", "mini",
             f"-dir={self.root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-s3.port={self.s3}", f"-s3.port.grpc={self.s3g}", f"-s3.config={config}",
             f"-master.port={self.master}", f"-master.port.grpc={self.masterg}",
             f"-filer.port={self.filer}", f"-filer.port.grpc={self.filerg}",
             f"-volume.port={self.volume}", f"-volume.port.grpc={self.volumeg}",
             f"-admin.port={self.admin}", f"-admin.port.grpc={self.adming}",
             f"-s3.localSocket={self.root / 's3.sock'}",
             f"-filer.localSocket={self.root / 'filer.sock'}",
             "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
             "-master.telemetry=false", "-master.volumeSizeLimitMB=256"],
            env={**os.environ, "GOMEMLIMIT": "512MiB"},
            stdout=(self.root / "weed.log").open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait(self.ready, "the S3 server", timeout=90)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:  # a gRPC drain can hang: the data is on disk
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    destroy = stop


class Services:
    """The three, under ``root``; ``close`` stops them all (the data goes with ``root``)."""

    def __init__(self, root: Path, base_port: int = 45000) -> None:
        ports = free_ports(12, base_port)
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)  # the postgres user must reach its data directory
        self.pg = Postgres(root / "pg", ports[0])
        self.redis = Redis(root / "redis", ports[1])
        self.s3 = S3(root / "s3", ports[2:12])

    def start(self) -> None:
        self.pg.init()
        self.pg.start()
        self.redis.start()
        self.s3.start()

    def close(self) -> None:
        for service in (self.s3, self.redis, self.pg):
            try:
                service.destroy()
            except Exception as exc:  # go on stopping the others
                print(f"stopping {type(service).__name__}: {exc}", file=sys.stderr)
