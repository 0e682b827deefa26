"""The production profile under load, in one run: data generated in bulk, the services started
as README's "Production profile" documents them, nginx in front, Locust headless.

1. a fresh PostgreSQL database: ``dhtn db upgrade``, ``dhtn demo seed``, then
   ``bench/load/generate.py`` (the tree, the people, a year of documents/inbox rows/tasks/
   notifications) at the full size and, with ``--fraction``, at a part of it;
2. ``dhtn serve`` (gunicorn, ``--workers``), ``dhtn worker`` (Celery with beat), on PostgreSQL,
   Redis and the S3 server, behind Debian's nginx with deploy/nginx/dhtn.conf (TLS with a
   certificate made now, the body limit, static files, X-Forwarded-* from the proxy only);
3. the ``/healthz`` ceiling (Locust, no think time), then the mixed workload of
   ``locustfile.py`` with ``--users`` simulated people; prints requests/s, p50/p95/p99 per
   request type, errors, the ceiling and the ratio, and the statements slower than
   ``--slow-ms`` (the app's slow-query log).

    python -m bench.load.run [--quick] [--users 200] [--documents 1000000] [--fraction 0.2]

``--quick`` (``make bench``): 20,000 documents, a small tree, 20 users for 20 s, one gunicorn
worker killed 10 s in (errors are counted; gunicorn replaces it). A soak: ``--users 50
--seconds 1800 --fraction 0`` (memory, PostgreSQL connections and outbox lag before/after).
Needs ``set -a; source var/services.env`` (DHTN_TEST_DATABASE_URL, _REDIS_URL, _S3_URL).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, make_url, text

from bench.load.generate import Size, counts, generate
from bench.load.proxy import DEPLOY, ROOT, make_certificate, nginx_main_conf, render_site

PASSWORD = "Load-test-password-1"
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(base_url: str, name: str) -> str:
    url = make_url(base_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _database_exists(base_url: str, name: str) -> bool:
    admin = create_engine(make_url(base_url).set(database="postgres"))
    with admin.connect() as conn:
        found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    admin.dispose()
    return bool(found)


def dhtn(*argv: str) -> list[str]:
    return [str(Path(sys.executable).with_name("dhtn")), *argv]


class Stack:
    """gunicorn + Celery worker (with beat) + nginx on one database; stopped by ``close``."""

    def __init__(self, env: dict[str, str], tmp: Path, workers: int, threads: int = 4) -> None:
        self.env, self.tmp, self.procs = env, tmp, []  # type: ignore[var-annotated]
        self.app_port, self.https_port, self.http_port = free_port(), free_port(), free_port()
        self.web_log = tmp / "web.log"
        self.procs.append(
            subprocess.Popen(
                dhtn(
                    "serve",
                    "--port",
                    str(self.app_port),
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                ),
                env=env,
                start_new_session=True,
                stdout=self.web_log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        # As deploy/systemd: workers of the default queue (with the one beat here) and workers
        # of the heavy queue (text extraction, conversion, signature checks) apart.
        self.procs.append(
            subprocess.Popen(
                dhtn("worker", "--queues", "celery", "--concurrency", "4"),
                env=env,
                start_new_session=True,  # its embedded beat is a child process: stop the group
                stdout=(tmp / "worker.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        self.procs.append(
            subprocess.Popen(
                dhtn("worker", "--no-beat", "--queues", "heavy", "--concurrency", "2"),
                env=env,
                start_new_session=True,
                stdout=(tmp / "worker-heavy.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        prefix = tmp / "nginx"
        prefix.mkdir(exist_ok=True)
        self.cert, key = make_certificate(tmp)
        site = prefix / "dhtn.conf"
        site.write_text(
            render_site(
                (DEPLOY / "nginx" / "dhtn.conf").read_text(),
                app_port=self.app_port,
                https_port=self.https_port,
                http_port=self.http_port,
                cert=self.cert,
                key=key,
                max_upload_mb=int(env["DHTN_MAX_UPLOAD_MB"]),
            )
        )
        conf = prefix / "nginx.conf"
        conf.write_text(
            nginx_main_conf(prefix, site).replace("worker_processes 1;", "worker_processes 2;")
        )
        self.procs.append(
            subprocess.Popen(
                ["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                stderr=(prefix / "stderr.log").open("wb"),
            )
        )
        self.base = f"https://127.0.0.1:{self.https_port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/readyz", verify=str(self.cert), timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.close()
        raise RuntimeError(f"the stack did not come up; see {tmp}")

    killed: list[int] = []

    def kill_one_web_worker(self) -> None:
        """Fault: SIGKILL one gunicorn worker in the middle of the run (gunicorn starts another)."""
        children = Path(f"/proc/{self.procs[0].pid}/task/{self.procs[0].pid}/children").read_text()
        if children.split():
            pid = int(children.split()[0])
            os.kill(pid, signal.SIGKILL)
            self.killed = [*self.killed, pid]

    def health(self, url: str) -> dict[str, float]:
        """PostgreSQL connections of this database, and the outbox from the app's /metrics."""
        out: dict[str, float] = {}
        engine = create_engine(url)
        with engine.connect() as conn:
            name = make_url(url).database
            out["pg_connections"] = float(
                conn.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"), {"d": name}
                )
                or 0
            )
        engine.dispose()
        try:
            metrics = requests.get(f"http://127.0.0.1:{self.app_port}/metrics", timeout=10).text
        except requests.RequestException:
            return out
        for line in metrics.splitlines():
            for key in ("dhtn_outbox_pending", "dhtn_outbox_lag_seconds"):
                if line.startswith(key + " "):
                    out[key] = float(line.split()[1])
            if line.startswith("dhtn_gc_seconds_total{"):  # the web workers' collector
                out["gc_seconds"] = out.get("gc_seconds", 0.0) + float(line.split()[1])
        return out

    def rss_mb(self) -> dict[str, float]:
        """Resident memory of the web (master + workers) and worker processes."""
        out = {}
        for name, proc in zip(("web", "worker", "worker-heavy"), self.procs[:3], strict=True):
            pids = [proc.pid]
            try:
                children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
                pids += [int(p) for p in children]
            except OSError:
                pass
            total = 0
            for pid in pids:
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
                except OSError:
                    pass
            out[name] = total / 1024
        return out

    def close(self) -> None:
        for proc in reversed(self.procs):
            self._signal(proc, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
        for proc in self.procs[:3]:  # children left behind (the worker's beat)
            self._signal(proc, signal.SIGKILL)

    def _signal(self, proc: subprocess.Popen[bytes], sig: int) -> None:
        try:
            if proc in self.procs[:3]:  # started in a session of their own
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm is in parentheses and may hold spaces: split after its closing one.
    head, _, rest = raw.rpartition(")")
    return [head.split(" (", 1)[1], *rest.split()]


def cpu_by_part(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far (user + system, children that were waited for included) by each
    part of the stack: web, workers, nginx, PostgreSQL, Redis, the S3 server. Locust's own CPU is
    counted apart (``RUSAGE_CHILDREN`` around its run)."""
    procs: dict[int, tuple[int, str, float]] = {}  # pid -> (ppid, comm, seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None:
            continue
        # fields[0] = comm, then state, ppid, ...; utime, stime, cutime, cstime are 14..17 of stat.
        ticks = sum(int(f) for f in fields[12:16])
        procs[int(entry.name)] = (int(fields[2]), fields[0], ticks / CLOCK_TICKS)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)

    def tree(root: int) -> float:
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in procs:
                total += procs[pid][2]
            todo.extend(children.get(pid, []))
        return total

    out = {
        name: tree(proc.pid)
        for name, proc in zip(("web", "worker", "worker-heavy"), stack.procs[:3], strict=True)
    }
    for name, prefix in (
        ("nginx", "nginx"),
        ("postgres", "postgres"),
        ("redis", "redis-server"),
        ("s3", "weed"),
    ):
        out[name] = sum(sec for _, comm, sec in procs.values() if comm.startswith(prefix))
    return out


def locust(
    base: str, users: int, seconds: int, classes: list[str], csv_prefix: Path, env: dict[str, str]
) -> dict[str, dict[str, float]]:
    argv = [
        str(Path(sys.executable).with_name("locust")),
        "-f", str(HERE / "locustfile.py"),
        "--headless", "--only-summary",
        "-u", str(users), "-r", str(max(1, users // 10)),
        "-t", f"{seconds}s", "--host", base,
        "--csv", str(csv_prefix), "--stop-timeout", "10",
        *classes,
    ]  # fmt: skip
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, check=False, timeout=seconds + 300
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    if not Path(f"{csv_prefix}_stats.csv").exists():
        raise RuntimeError(f"locust failed: {done.stderr[-3000:]}")
    stats: dict[str, dict[str, float]] = {}
    with open(f"{csv_prefix}_stats.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = row["Name"] if row["Type"] else "Aggregated"
            if row["Type"]:
                name = row["Name"]
            stats[name] = {
                "requests": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    stats["_locust_cpu"] = {"seconds": locust_cpu}
    failures_file = Path(f"{csv_prefix}_failures.csv")
    if failures_file.exists():
        stats["_failures"] = {"text": failures_file.read_text()[:3000]}  # type: ignore[dict-item]
    return stats


def accounts_file(url: str, path: Path) -> None:
    """The load accounts with a bearer token each, issued by the real service: people sign in
    once in the morning; the steady workload does not hash a password per simulated user (the
    sign-in cost is measured apart, ``sign_in``)."""
    import datetime as dt
    import uuid

    from docflow import UnitOfWork, make_engine, make_session_factory
    from docflow.directory.identity import issue_token

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT u.username, u.id::text, r.role FROM users u JOIN user_roles r "
                "ON r.user_id = u.id WHERE u.username ~ '^load(clerk|leader|spec)\\.'"
            )
        ).all()
    factory = make_session_factory(engine)
    accounts = []
    for username, user_id, role in rows:
        issued = issue_token(UnitOfWork(factory), uuid.UUID(user_id), ttl=dt.timedelta(hours=8))
        accounts.append({"username": username, "id": user_id, "role": role, "token": issued.token})
    engine.dispose()
    path.write_text(json.dumps(accounts))


def sign_in(base: str, cert: Path, n: int = 10) -> tuple[float, float]:
    """p50 and max of ``n`` sign-ins one after another (argon2id password check included)."""
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        r = requests.post(
            f"{base}/api/v1/auth/token",
            json={"username": f"loadclerk.{1 + i % 5}", "password": PASSWORD},
            verify=str(cert),
            timeout=120,
        )
        r.raise_for_status()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2], times[-1]


def slow_queries(log: Path, top: int = 8) -> list[tuple[int, float, str]]:
    seen: dict[str, list[float]] = {}
    for line in log.read_text(errors="replace").splitlines():
        if '"dhtn.slow_query"' not in line:
            continue
        entry = json.loads(line)
        statement = entry["msg"].split(": ", 1)[1][:300]
        seen.setdefault(statement, []).append(float(entry.get("duration_ms", 0)))
    ranked = sorted(seen.items(), key=lambda kv: -sum(kv[1]))[:top]
    return [(len(v), max(v), s) for s, v in ranked]


def one_run(args: argparse.Namespace, size: Size, label: str, tmp: Path) -> dict[str, Any]:
    base_url = os.environ.get(
        "DHTN_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_test"
    )
    # Named after the base database (each helper/CI job has its own): <base>_<label>.
    name = f"{make_url(base_url).database}_{label}"
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    reuse = args.reuse and _database_exists(base_url, name)
    if not reuse:
        url = fresh_database(base_url, name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DHTN_", "PROMETHEUS"))}
    redis = os.environ.get("DHTN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
    s3 = os.environ["DHTN_TEST_S3_URL"]
    data = tmp / label
    data.mkdir()
    env |= {
        "PYTHONPATH": str(ROOT),
        "DHTN_DATA_DIR": str(data),
        "DHTN_DATABASE_URL": url,
        "DHTN_STORAGE_URL": s3.replace("/dhtn-test", f"/dhtn-load-{label}"),
        "DHTN_BROKER_URL": f"{redis}/13",  # a database of our own: other suites use 15
        "DHTN_SECRET_KEY": "load-test-secret-key",
        "DHTN_DEMO_PASSWORD": PASSWORD,
        "DHTN_TRUSTED_PROXIES": "1",
        "DHTN_MAX_UPLOAD_MB": "100",
        "DHTN_LOG_LEVEL": "WARNING",
        "DHTN_SLOW_QUERY_MS": str(args.slow_ms),
        "DHTN_OCR": "off",
        "DHTN_PUBLIC_URL": "https://127.0.0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(data / "metrics"),
        "DHTN_LOAD_PASSWORD": PASSWORD,
        "DHTN_LOAD_THINK": args.think,
        "DHTN_LOAD_REVALIDATE": "0" if args.no_revalidate else "1",
        "DHTN_DEMO_ACTIVITY": "off",  # the generator makes the year; the demo fortnight is noise
    }
    t0 = time.perf_counter()
    if reuse:
        print(f"[{label}] reusing the database {name} of an earlier run (--reuse)", flush=True)
    else:
        subprocess.run(dhtn("db", "upgrade"), env=env, check=True, capture_output=True)
        seeded = subprocess.run(dhtn("demo", "seed"), env=env, capture_output=True, text=True)
        if seeded.returncode:
            raise RuntimeError(
                f"dhtn demo seed failed: {seeded.stdout[-3000:]}{seeded.stderr[-3000:]}"
            )
        print(f"[{label}] generating {size.documents:,} documents …", flush=True)
        generate(url, size, log=args.verbose)
    table = counts(url)
    print(f"[{label}] data ready in {time.perf_counter() - t0:.0f} s: {table}", flush=True)
    accounts = data / "accounts.json"
    accounts_file(url, accounts)
    env["DHTN_LOAD_ACCOUNTS"] = str(accounts)
    stack = Stack(env, data, args.workers, args.threads)
    try:
        env["DHTN_LOAD_CA"] = str(stack.cert)
        signin = sign_in(stack.base, stack.cert)
        ceiling = locust(
            stack.base,
            args.healthz_users,
            args.healthz_seconds,
            ["HealthzUser"],
            data / "healthz",
            env,
        )
        before = stack.rss_mb()
        health_before = stack.health(url)
        cpu_before, wall_before = cpu_by_part(stack), time.monotonic()
        timer = None
        if args.kill_web_worker_at > 0:
            timer = threading.Timer(args.kill_web_worker_at, stack.kill_one_web_worker)
            timer.start()
        mixed = locust(
            stack.base,
            args.users,
            args.seconds,
            ["Clerk", "Leader", "Specialist"],
            data / "mixed",
            env,
        )
        cpu = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_by_part(stack).items()} | {
            "locust": mixed["_locust_cpu"]["seconds"]
        }
        wall = time.monotonic() - wall_before
        after = stack.rss_mb()
        health_after = stack.health(url)
        if timer is not None:
            timer.cancel()
    finally:
        stack.close()
    return {
        "label": label,
        "counts": table,
        "ceiling": ceiling,
        "mixed": mixed,
        "rss_before": before,
        "rss_after": after,
        "slow": slow_queries(stack.web_log),
        "sign_in": signin,
        "health": (health_before, health_after),
        "killed": stack.killed,
        "cpu": cpu,
        "think": args.think,
        "wall": wall,
    }


def report(result: dict[str, Any], users: int) -> None:
    mixed, ceiling = result["mixed"], result["ceiling"]
    agg = mixed.get("Aggregated", {})
    health = ceiling.get("GET /healthz", ceiling.get("Aggregated", {}))
    print(f"\n== {result['label']}: {result['counts']['documents']:,} documents, "
          f"{result['counts']['users']:,} users, {result['counts']['organizations']:,} organisations, "
          f"{result['counts']['assignments']:,} inbox rows, {result['counts']['tasks']:,} tasks, "
          f"{result['counts']['notifications']:,} notifications")  # fmt: skip
    print(f"{'request':52} {'count':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}")
    for name, row in sorted(mixed.items()):
        if name.startswith("_"):
            continue
        print(
            f"{name[:52]:52} {row['requests']:7.0f} {row['failures']:5.0f} {row['rps']:7.1f} "
            f"{row['p50']:6.0f} {row['p95']:6.0f} {row['p99']:6.0f}"
        )
    ratio = agg.get("rps", 0) / health["rps"] if health.get("rps") else 0
    print(
        f"mixed workload, {users} users (think time {result['think']} s): {agg.get('rps', 0):.1f} req/s, p50 {agg.get('p50', 0):.0f} ms, "
        f"p95 {agg.get('p95', 0):.0f} ms, p99 {agg.get('p99', 0):.0f} ms, errors {agg.get('failures', 0):.0f}"
    )
    print(
        f"/healthz ceiling (same stack, same run): {health.get('rps', 0):.1f} req/s "
        f"(p95 {health.get('p95', 0):.0f} ms, errors {health.get('failures', 0):.0f}); "
        f"ratio mixed/ceiling = {ratio:.2f}"
    )
    print(
        f"sign-in (argon2id), one at a time: p50 {result['sign_in'][0]:.0f} ms, max {result['sign_in'][1]:.0f} ms"
    )
    print(
        f"PostgreSQL connections and outbox before/after: {result['health'][0]} → {result['health'][1]}"
    )
    cores = (os.cpu_count() or 1) * result["wall"]
    used = sum(result["cpu"].values())
    print(
        f"CPU during the mixed run ({result['wall']:.0f} s × {os.cpu_count()} cores = {cores:.0f} s): "
        + ", ".join(
            f"{k} {v:.0f} s" for k, v in sorted(result["cpu"].items(), key=lambda kv: -kv[1])
        )
        + f"; all {used:.0f} s ({100 * used / cores:.0f}%)"
    )
    agg_requests = mixed.get("Aggregated", {}).get("requests", 0)
    if agg_requests:
        print(
            f"CPU per request: web {1000 * result['cpu']['web'] / agg_requests:.1f} ms, "
            f"postgres {1000 * result['cpu']['postgres'] / agg_requests:.1f} ms, "
            f"everything {1000 * used / agg_requests:.1f} ms"
        )
    gc_before, gc_after = (h.get("gc_seconds") for h in result["health"])
    if gc_before is not None and gc_after is not None and result["cpu"].get("web"):
        spent = gc_after - gc_before
        print(
            f"garbage collector of the web workers during the mixed run: {spent:.1f} s "
            f"({100 * spent / result['cpu']['web']:.1f}% of the web's CPU)"
        )
    if result["killed"]:
        print(f"fault: gunicorn worker(s) {result['killed']} killed during the run")
    print(f"memory (MB RSS) before/after: {result['rss_before']} → {result['rss_after']}")
    if "_failures" in mixed:
        print("failures:\n" + str(mixed["_failures"]["text"]))
    if result["slow"]:
        print("slowest statements (count, max ms, statement):")
        for count, worst, statement in result["slow"]:
            print(f"  {count:5d} {worst:8.0f}  {statement[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, 20 users, 20 s")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--documents", type=int, default=Size.documents)
    parser.add_argument("--communes", type=int, default=Size.communes)
    parser.add_argument("--users-per-org", type=int, default=Size.users_per_org)
    parser.add_argument(
        "--fraction", type=float, default=0.2, help="also run at this part of the data (0: no)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--healthz-users", type=int, default=50)
    parser.add_argument("--healthz-seconds", type=int, default=20)
    parser.add_argument(
        "--think",
        default="1,4",
        help="think time of a simulated person between two steps, min,max seconds (default 1,4)",
    )
    parser.add_argument(
        "--no-revalidate",
        action="store_true",
        help="the simulated browsers ask for every answer in full (by default they ask again "
        "with If-None-Match for what they hold, and a 304 answers from it, as browsers do)",
    )
    parser.add_argument("--slow-ms", type=int, default=100)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database of an earlier run when it exists (it holds that run's writes "
        "too): for repeated measurements while changing the code, not for figures to report",
    )
    parser.add_argument(
        "--kill-web-worker-at",
        type=float,
        default=0,
        help="fault: SIGKILL one gunicorn worker this many seconds into the mixed run",
    )
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        sys.exit("nginx is missing: scripts/install-system-deps.sh installs it")
    if args.quick:
        args.users, args.seconds, args.documents = 20, 20, 20_000
        args.communes, args.users_per_org, args.fraction = 5, 10, 0
        args.healthz_users, args.healthz_seconds, args.workers = 10, 8, 2
        args.kill_web_worker_at = args.kill_web_worker_at or 10
    full = Size(documents=args.documents, communes=args.communes, users_per_org=args.users_per_org)
    sizes = [("full", full)]
    if args.fraction > 0:
        sizes.append(("part", full.scaled(args.fraction)))
    print(f"load test: {os.cpu_count()} CPUs on this machine, shared with the load generator"
          " (and with whatever else runs on it)")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory(prefix="dhtn-load-") as tmp:
        for label, size in sizes:
            results.append(one_run(args, size, label, Path(tmp)))
            report(results[-1], args.users)
    if len(results) == 2:
        a, b = (r["mixed"].get("Aggregated", {}) for r in results)
        print(
            f"\nlatency vs data: p95 {b.get('p95', 0):.0f} ms at {results[1]['counts']['documents']:,} "
            f"documents, {a.get('p95', 0):.0f} ms at {results[0]['counts']['documents']:,} "
            f"(×{a.get('p95', 0) / max(1.0, b.get('p95', 0)):.2f})"
        )


if __name__ == "__main__":
    main()
