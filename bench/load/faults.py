"""Faults under load: the production profile on private PostgreSQL, Redis and S3 instances (so
they can be stopped without harming anything else), behind nginx, with the mixed Locust
workload running; then, one after another: the S3 server stopped for ``--s3-outage`` seconds,
Redis stopped and started again (its queue is lost: no persistence, as scripts/services.sh runs
it), one gunicorn worker killed with SIGKILL, PostgreSQL stopped (``pg_ctl -m fast``) and started
again.

For each fault it prints the answers of 5xx (and no answer at all) in the window that follows
the fault, by status, when the first and the last came relative to the fault, how long the
service was down and how long errors went on after it was back; whether the service answered
again by itself (``/readyz`` and successful requests at the end of the window, the web and worker
processes still alive); and the counts of documents, stored objects and outbox messages before
and after. At the end (the load stopped, the outbox drained): every registration a client was
told succeeded (201) is in the database, every object the database references is in the store
(``dhtn storage verify``), and no outbox message is left undone.

    python -m bench.load.faults [--quick] [--users 30] [--s3-outage 30] [--recover 45]
                                [--faults s3,redis,web-worker,postgres]

``--quick`` (``make bench``, via bench/production_faults.py): 5,000 documents, 10 users, short
outages. Nothing shared is touched: the services live under a temporary directory on ports
from 45000 up and are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from bench.load.generate import Size, counts, generate
from bench.load.run import PASSWORD, Stack, accounts_file, dhtn, fresh_database
from bench.load.services import Services

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FAULTS = ("s3", "redis", "web-worker", "postgres")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def prepare(
    root: Path, services: Services, size: Size, workers: int, log_level: str = "WARNING"
) -> tuple[str, dict[str, str], Stack]:
    """The database (upgraded, demo seed, bulk data), the load accounts and the stack."""
    services.start()
    url = fresh_database(services.pg.url, "dhtn_faults")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DHTN_", "PROMETHEUS"))}
    data = root / "app"
    data.mkdir()
    env |= {
        "PYTHONPATH": str(ROOT),
        "DHTN_DATA_DIR": str(data),
        "DHTN_DATABASE_URL": url,
        "DHTN_STORAGE_URL": services.s3.url,
        "DHTN_BROKER_URL": f"{services.redis.url}/0",
        "DHTN_SECRET_KEY": "fault-test-secret-key",
        "DHTN_DEMO_PASSWORD": PASSWORD,
        "DHTN_TRUSTED_PROXIES": "1",
        "DHTN_MAX_UPLOAD_MB": "100",
        "DHTN_LOG_LEVEL": log_level,
        "DHTN_OCR": "off",
        "DHTN_DEMO_ACTIVITY": "off",
        "DHTN_PUBLIC_URL": "https://127.0.0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(data / "metrics"),
        "DHTN_LOAD_PASSWORD": PASSWORD,
    }
    subprocess.run(dhtn("db", "upgrade"), env=env, check=True, capture_output=True)
    subprocess.run(dhtn("demo", "seed"), env=env, check=True, capture_output=True)
    generate(url, size)
    accounts = data / "accounts.json"
    accounts_file(url, accounts)
    env["DHTN_LOAD_ACCOUNTS"] = str(accounts)
    stack = Stack(env, data, workers)
    env["DHTN_LOAD_CA"] = str(stack.cert)
    return url, env, stack


def start_locust(
    stack: Stack, env: dict[str, str], users: int, seconds: int, log: Path
) -> subprocess.Popen[bytes]:
    argv = [
        str(Path(sys.executable).with_name("locust")),
        "-f", str(HERE / "recorded.py"),
        "--headless", "--only-summary",
        "-u", str(users), "-r", str(max(1, users // 10)),
        "-t", f"{seconds}s", "--host", stack.base, "--stop-timeout", "10",
    ]  # fmt: skip
    return subprocess.Popen(
        argv,
        env={**env, "DHTN_LOAD_REQUEST_LOG": str(log)},
        stdout=(log.parent / "locust.out").open("wb"),
        stderr=subprocess.STDOUT,
    )


def tear_down(
    locust: subprocess.Popen[bytes] | None,
    stack: Stack | None,
    services: Services,
    root: Path,
    *,
    keep: bool,
) -> None:
    """Stop the load, the DHTN processes and the private services; keep or remove the logs."""
    if locust is not None:
        stop_locust(locust)
    if stack is not None:
        stack.close()
    services.close()
    if keep:
        print(f"logs kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


def stop_locust(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # Locust stops its users and quits
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Request:
    at: float
    status: int
    ms: float
    name: str
    doc: str


def read_log(path: Path) -> list[Request]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 5:
            out.append(Request(float(parts[0]), int(parts[1]), float(parts[2]), parts[3], parts[4]))
    return out


def failed(r: Request) -> bool:
    return r.status == 0 or r.status >= 500


def snapshot(url: str, services: Services, env: dict[str, str]) -> dict[str, Any]:
    """Committed work as the database and the store see it."""
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM outbox_messages),"
                " (SELECT count(*) FROM outbox_messages WHERE done_at IS NULL),"
                " (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())"
            )
        ).one()
    engine.dispose()
    out: dict[str, Any] = {
        "documents": int(row[0]),
        "outbox": int(row[1]),
        "outbox_pending": int(row[2]),
        "pg_connections": int(row[3]),
        "objects_stored": services.s3.count(),
    }
    done = subprocess.run(
        dhtn("storage", "verify"), env=env, capture_output=True, text=True, check=False
    )
    match = re.search(r"Tham chiếu: (\d+) · đang lưu: (\d+) · thiếu: (\d+)", done.stdout)
    if match:
        out["objects_referenced"] = int(match.group(1))
        out["objects_missing"] = int(match.group(3))
    return out


def ready(stack: Stack, within: float = 30.0) -> bool:
    """/readyz (database, store, broker) answers 200 within ``within`` seconds (a busy machine
    queues it behind the load)."""
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            if requests.get(f"{stack.base}/readyz", verify=str(stack.cert), timeout=10).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(1)
    return False


def web_workers(stack: Stack) -> list[int]:
    pid = stack.procs[0].pid
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass
class Fault:
    name: str
    started: float = 0.0
    back: float = 0.0  # the service answers again
    window_end: float = 0.0
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    ready_after: bool = False
    alive_after: dict[str, bool] = field(default_factory=dict)


def inject(
    name: str, services: Services, stack: Stack, args: argparse.Namespace, workers: int
) -> tuple[float, float, str]:
    """Do the fault; returns (started, back, note)."""
    started = time.time()
    note = ""
    if name == "s3":
        services.s3.stop()
        time.sleep(args.s3_outage)
        services.s3.start()
    elif name == "redis":
        services.redis.stop()
        time.sleep(args.redis_outage)
        services.redis.start()
    elif name == "postgres":
        services.pg.stop("fast")
        time.sleep(args.pg_outage)
        services.pg.start()
    elif name == "web-worker":
        before = web_workers(stack)
        stack.kill_one_web_worker()
        deadline = time.time() + 60
        while time.time() < deadline:
            now = web_workers(stack)
            if len(now) >= workers and set(now) != set(before):
                break
            time.sleep(0.1)
        note = f"killed {stack.killed[-1] if stack.killed else '-'}; workers {before} → {web_workers(stack)}"
    else:
        raise ValueError(name)
    return started, time.time(), note


def alive(stack: Stack) -> dict[str, bool]:
    return {"gunicorn": stack.procs[0].poll() is None, "celery": stack.procs[1].poll() is None}


def report_fault(f: Fault, log: list[Request]) -> list[str]:
    """Requests are placed by the time their answer came (a request in flight when a worker is
    killed fails at the kill, not when it started)."""

    def end(r: Request) -> float:
        return r.at + r.ms / 1000

    window = [r for r in log if f.started <= end(r) < f.window_end]
    errors = sorted((r for r in window if failed(r)), key=end)
    tail = [r for r in window if end(r) >= f.window_end - 15]
    lines = [
        f"-- {f.name}: down {f.back - f.started:.1f} s {f.note}".rstrip(),
        f"   answers in the {f.window_end - f.started:.0f} s window: {len(window)}, "
        f"failed (5xx or no answer): {len(errors)} "
        f"{dict(Counter(r.status for r in errors)) if errors else ''}".rstrip(),
    ]
    if errors:
        first, last = end(errors[0]) - f.started, end(errors[-1]) - f.started
        lines.append(
            f"   first failed answer at +{first:.1f} s, last at +{last:.1f} s; failures went on "
            f"{max(0.0, end(errors[-1]) - f.back):.1f} s after the service was back"
        )
        by_name = Counter(r.name for r in errors)
        lines.append(
            "   failed requests by type: "
            + ", ".join(f"{n} ×{c}" for n, c in by_name.most_common(6))
        )
    ok_tail = sum(1 for r in tail if not failed(r))
    lines.append(
        f"   resumed: /readyz {'OK' if f.ready_after else 'NOT ready'}, last 15 s of the window "
        f"{ok_tail}/{len(tail)} requests answered below 500, processes alive {f.alive_after}"
    )
    keys = ("documents", "objects_stored", "objects_referenced", "objects_missing", "outbox",
            "outbox_pending", "pg_connections")  # fmt: skip
    lines.append(
        "   before → after: "
        + ", ".join(f"{k} {f.before.get(k, '?')} → {f.after.get(k, '?')}" for k in keys)
    )
    return lines


def wait_drained(url: str, timeout: float) -> float:
    """Seconds until no outbox message is left undone (or the timeout)."""
    engine = create_engine(url)
    t0 = time.time()
    try:
        while time.time() - t0 < timeout:
            with engine.connect() as conn:
                pending = conn.scalar(
                    text("SELECT count(*) FROM outbox_messages WHERE done_at IS NULL")
                )
            if not pending:
                return time.time() - t0
            time.sleep(2)
    finally:
        engine.dispose()
    return -1.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="5,000 documents, 10 users, short outages"
    )
    parser.add_argument("--users", type=int, default=30, help="simulated people (default 30)")
    parser.add_argument(
        "--documents", type=int, default=20_000, help="archive size (default 20,000)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--warmup", type=float, default=40, help="seconds of load before the first fault"
    )
    parser.add_argument(
        "--recover", type=float, default=45, help="seconds of load after each fault"
    )
    parser.add_argument("--s3-outage", type=float, default=30, help="seconds the S3 server is down")
    parser.add_argument("--redis-outage", type=float, default=5, help="seconds Redis is down")
    parser.add_argument("--pg-outage", type=float, default=10, help="seconds PostgreSQL is down")
    parser.add_argument(
        "--faults", default=",".join(FAULTS), help=f"which, in order (default {','.join(FAULTS)})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = parser.parse_args()
    if args.quick:
        args.users, args.documents, args.warmup, args.recover = 10, 5_000, 15, 20
        args.s3_outage, args.redis_outage, args.pg_outage = 10, 3, 5
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {sorted(unknown)}")
    if shutil.which("nginx") is None:
        sys.exit("nginx is missing: scripts/install-system-deps.sh installs it")
    root = Path(tempfile.mkdtemp(prefix="dhtn-faults-"))
    root.chmod(0o755)  # the postgres user reaches its cluster below it
    services = Services(root / "services")
    stack: Stack | None = None
    locust: subprocess.Popen[bytes] | None = None
    size = Size(documents=args.documents, communes=5, users_per_org=10)
    print(f"faults under load: {os.cpu_count()} CPUs, load average {load_average()}", flush=True)
    try:
        t0 = time.time()
        url, env, stack = prepare(root, services, size, args.workers)
        table = counts(url)
        print(f"data ready in {time.time() - t0:.0f} s: {table}", flush=True)
        log_path = root / "requests.tsv"
        budget = args.warmup + len(faults) * (args.recover + 120) + 60
        locust = start_locust(stack, env, args.users, int(budget), log_path)
        time.sleep(args.warmup)
        baseline_end = time.time()
        results: list[Fault] = []
        loads = [load_average()]
        for name in faults:
            f = Fault(name)
            f.before = snapshot(url, services, env)
            f.started, f.back, f.note = inject(name, services, stack, args, args.workers)
            time.sleep(args.recover)
            f.window_end = time.time()
            f.ready_after = ready(stack)
            f.alive_after = alive(stack)
            f.after = snapshot(url, services, env)
            results.append(f)
            loads.append(load_average())
            print(f"   {name} done (load average {loads[-1]})", flush=True)
        stop_locust(locust)
        drained = wait_drained(url, 180)
        final = snapshot(url, services, env)
        log = read_log(log_path)
        accepted = {r.doc for r in log if r.doc}
        engine = create_engine(url)
        with engine.connect() as conn:
            present = {
                str(x)
                for (x,) in conn.execute(
                    text("SELECT id::text FROM documents WHERE id::text = ANY(:ids)"),
                    {"ids": sorted(accepted)},
                )
            }
        engine.dispose()
        base = [r for r in log if r.at + r.ms / 1000 < baseline_end]
        (root / "faults.json").write_text(
            json.dumps([{"name": f.name, "started": f.started, "back": f.back,
                         "window_end": f.window_end} for f in results])
        )  # fmt: skip
        print(f"\n== faults under load: {args.users} users, {table['documents']:,} documents at start, "
              f"{args.workers} gunicorn workers, {len(log):,} requests in all")  # fmt: skip
        print(f"load average at start and after each fault: {' | '.join(loads)}")
        print(
            f"baseline ({args.warmup:.0f} s before the first fault): {len(base)} requests, "
            f"{sum(1 for r in base if failed(r))} failed"
        )
        for f in results:
            print("\n".join(report_fault(f, log)))
        print("-- at the end (load stopped):")
        print(
            f"   outbox drained: {f'yes, in {drained:.0f} s' if drained >= 0 else 'NO (180 s)'}; "
            f"final {final}"
        )
        missing = accepted - present
        print(
            f"   registrations answered 201: {len(accepted)}, in the database: {len(present)}, "
            f"lost: {len(missing)}"
        )
        print(f"   processes alive at the end: {alive(stack)}")
        if missing or final.get("objects_missing") or drained < 0:
            print("COMMITTED WORK LOST OR NOT RESUMED", flush=True)
            sys.exit(1)
    finally:
        tear_down(locust, stack, services, root, keep=args.keep)


if __name__ == "__main__":
    main()
