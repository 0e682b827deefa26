"""Soak: the production profile (gunicorn behind nginx, Celery worker with beat, PostgreSQL,
Redis, S3 — private instances, as in bench/load/faults.py) under the mixed Locust workload of
``--users`` people for ``--minutes``. Every ``--every`` seconds it samples the resident memory of
each process (gunicorn master and each worker, the Celery worker and its pool processes, beat),
the PostgreSQL connections of the database (pg_stat_activity), the outbox (pending messages and
lag, from the app's /metrics) and the errors so far; it prints the table, the first and last
sample side by side, and what grew.

    python -m bench.load.soak [--quick] [--minutes 30] [--users 50] [--every 60]

``--quick`` (``make bench``, via bench/production_soak.py): 2 minutes, 20 users, a sample each
20 s, 5,000 documents.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench.load.faults import (
    failed,
    load_average,
    prepare,
    read_log,
    start_locust,
    stop_locust,
    tear_down,
    wait_drained,
)
from bench.load.generate import Size, counts
from bench.load.run import Stack
from bench.load.services import Services


def _children(pid: int) -> list[int]:
    """Children of every thread (a thread pool's children are listed under that thread)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cmd(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _tree(pid: int) -> list[int]:
    out = [pid]
    for child in _children(pid):
        out += _tree(child)
    return out


def processes(stack: Stack) -> dict[str, list[int]]:
    """Label → pids whose RSS is summed: gunicorn master and each worker (by position); the
    Celery worker (its pool is threads); its Python child, the embedded beat; and each warm
    LibreOffice converter it keeps (the sandbox and everything under it)."""
    out: dict[str, list[int]] = {}
    web = stack.procs[0].pid
    out["gunicorn master"] = [web]
    for i, pid in enumerate(sorted(_children(web))):
        out[f"gunicorn worker {i + 1}"] = [pid]
    celery = stack.procs[1].pid
    out["celery worker"] = [celery]
    converters = 0
    for pid in sorted(_children(celery)):
        if "python" in _cmd(pid).split(" ")[0]:
            out["celery beat" if "celery beat" not in out else f"celery child {pid}"] = [pid]
        else:
            converters += 1
            try:
                zombie = "State:\tZ" in Path(f"/proc/{pid}/status").read_text(errors="replace")
            except OSError:
                continue  # gone since it was listed
            label = "exited, not reaped" if zombie else "LibreOffice"
            out[f"converter {converters} ({label})"] = _tree(pid)
    return out


def metrics(stack: Stack) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        body = requests.get(f"http://127.0.0.1:{stack.app_port}/metrics", timeout=10).text
    except requests.RequestException:
        return out
    for line in body.splitlines():
        for key in ("dhtn_outbox_pending", "dhtn_outbox_lag_seconds"):
            if line.startswith(key + " "):
                out[key] = float(line.split()[1])
    return out


def pg_connections(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=None)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT state, count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY state"
            )
        ).all()
    engine.dispose()
    return {str(state): int(n) for state, n in rows}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 minutes, 20 users")
    parser.add_argument("--minutes", type=float, default=30, help="length of the load (default 30)")
    parser.add_argument("--users", type=int, default=50, help="simulated people (default 50)")
    parser.add_argument("--every", type=float, default=60, help="seconds between samples")
    parser.add_argument(
        "--documents", type=int, default=20_000, help="archive size (default 20,000)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.users, args.every, args.documents = 2, 20, 20, 5_000
    if shutil.which("nginx") is None:
        sys.exit("nginx is missing: scripts/install-system-deps.sh installs it")
    root = Path(tempfile.mkdtemp(prefix="dhtn-soak-"))
    root.chmod(0o755)
    services = Services(root / "services", base_port=46000)
    stack: Stack | None = None
    locust = None
    print(f"soak: {os.cpu_count()} CPUs, load average {load_average()}", flush=True)
    try:
        url, env, stack = prepare(
            root, services, Size(documents=args.documents, communes=5, users_per_org=10),
            args.workers,
        )  # fmt: skip
        print(f"data: {counts(url)}", flush=True)
        log_path = root / "requests.tsv"
        seconds = int(args.minutes * 60)
        locust = start_locust(stack, env, args.users, seconds, log_path)
        start = time.time()
        samples: list[dict[str, object]] = []
        while True:
            elapsed = time.time() - start
            procs = processes(stack)
            log = read_log(log_path) if log_path.exists() else []
            sample: dict[str, object] = {
                "t": elapsed,
                "load": load_average(),
                "rss": {label: sum(_rss_mb(p) for p in pids) for label, pids in procs.items()},
                "pids": {label: pids[0] for label, pids in procs.items()},
                "pg": pg_connections(url),
                "metrics": metrics(stack),
                "requests": len(log),
                "errors": sum(1 for r in log if failed(r)),
                "4xx": sum(1 for r in log if 400 <= r.status < 500),
            }
            samples.append(sample)
            pg = sample["pg"]
            assert isinstance(pg, dict)
            print(
                f"t={elapsed / 60:5.1f} min  load {sample['load']}  requests {sample['requests']}"
                f"  errors {sample['errors']}  4xx {sample['4xx']}  pg {sum(pg.values())} {pg}"
                f"  outbox {sample['metrics']}  rss MB "
                + " ".join(f"{k.split()[-1] if k.startswith('gunicorn w') else k}={v:.0f}"
                           for k, v in sample["rss"].items())  # type: ignore[attr-defined]
                ,
                flush=True,
            )  # fmt: skip
            if locust.poll() is not None or elapsed >= seconds:
                break
            time.sleep(min(args.every, max(1.0, seconds - elapsed)))
        stop_locust(locust)
        drained = wait_drained(url, 180)
        log = read_log(log_path)
        first, last = samples[0], samples[-1]
        print(f"\n== soak: {args.users} users for {args.minutes:g} min, {len(log):,} requests "
              f"({len(log) / max(1.0, float(last['t'])):.1f}/s), errors (5xx or no answer) "
              f"{sum(1 for r in log if failed(r))}, 4xx {sum(1 for r in log if 400 <= r.status < 500)}")  # fmt: skip
        print(
            "memory (MB RSS), first sample → last (pid; a changed pid means the process was replaced):"
        )
        rss0, rss1 = first["rss"], last["rss"]
        pids0, pids1 = first["pids"], last["pids"]
        assert isinstance(rss0, dict) and isinstance(rss1, dict)
        assert isinstance(pids0, dict) and isinstance(pids1, dict)
        for label in sorted(set(rss0) | set(rss1)):
            a, b = rss0.get(label, 0.0), rss1.get(label, 0.0)
            mid = [s["rss"].get(label, 0.0) for s in samples]  # type: ignore[attr-defined]
            print(
                f"  {label:22} {a:7.1f} → {b:7.1f}  ({b - a:+.1f}; max {max(mid):.1f})"
                f"  pid {pids0.get(label, '-')}→{pids1.get(label, '-')}"
            )
        lags = [s["metrics"].get("dhtn_outbox_lag_seconds") for s in samples]  # type: ignore[attr-defined]
        lags = [x for x in lags if x is not None]
        conns = [sum(s["pg"].values()) for s in samples]  # type: ignore[attr-defined]
        print(f"outbox lag (s) per sample: {lags}; max {max(lags) if lags else '-'}")
        print(f"PostgreSQL connections per sample: {conns}")
        print(f"load average per sample: {' | '.join(str(s['load']) for s in samples)}")
        print(f"outbox drained after the load: {f'in {drained:.0f} s' if drained >= 0 else 'NO'}")
        if stack is not None:
            print(f"processes alive at the end: gunicorn {stack.procs[0].poll() is None}, "
                  f"celery {stack.procs[1].poll() is None}")  # fmt: skip
    finally:
        tear_down(locust, stack, services, root, keep=args.keep)


if __name__ == "__main__":
    main()
