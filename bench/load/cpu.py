"""CPU per request, in process, against a baseline revision measured in the same run.

The load test (``run.py``) resolves a change of a few per cent only over several runs: on this
shared two-core machine the same code gives 107 to 141 requests/s from one run to the next. What
a change to the request path does is measured better where the machine's noise does not reach:
the CPU time of the thread that serves the request (``time.thread_time``, which does not count
waiting for PostgreSQL or for a core), per request type, in a process that serves requests
through Flask's test client on the load test's database.

Each round runs one process per code tree, alternating (this tree, then ``--baseline``'s, checked
out in a temporary git worktree; the same virtualenv), so that both see the same machine. A
process takes tokens for a clerk, a leader and a specialist of the generated data, warms up,
then measures, ``--requests`` times each:

- the day of one document: the clerk registers it with a 1 MB PDF (``register``) and presents it
  to the leader (``submit``); the leader reads it (``read``) and assigns it to the specialist
  (``assign``); the specialist starts (``start``) and completes it (``complete``);
- the lists: the specialist's inbox, done box, tasks, notifications and counters; the leader's
  processing box and a search (the load test's six queries in turn, ``box=all``); the clerk's
  ``all`` box.

It prints, per type, the median over the rounds of each process's p50 and p95 (ms of CPU), the
ratio to the baseline, and the mean weighted by the load test's mix (:data:`MIX`) with the
requests one core would serve at that cost; and each process's peak memory.

    python -m bench.load.cpu [--baseline REV] [--rounds 4] [--requests 100] [--database NAME]
    python -m bench.production_cpu --quick      (make bench: one round, a small database)

Its resolution: an A/A run (the same commit on both sides, 4 rounds of 60 requests) gave a
ratio of 1.025, every request type moving together (each process has its own speed, a few per
cent either way; with this tree measured where it is edited, not copied, an A/A run gave 0.967):
differences under about 3 % are not resolved; more rounds narrow it.

Needs ``set -a; source var/services.env``. The database: ``--database`` (say the ``..._full``
one a load run leaves), else ``<test database>_cpu_<documents>``, made like the load test's
(``db upgrade``, ``demo seed``, ``generate.py`` with ``--documents``) unless it exists. Each round adds
``--requests`` documents to it. Jobs the requests enqueue go to Redis database 12, emptied
before and after. Without ``--baseline`` it measures this tree alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

#: Requests of each type in a 200-user run of the load test (``run.py``, 100,000 documents,
#: 2026-12-05): the weights of the mean. Leaders' inboxes are counted as the specialist's.
MIX = {
    "read": 1467,
    "inbox": 1487,
    "all": 144,
    "done": 203,
    "processing": 149,
    "search": 619,
    "counters": 338,
    "notifications": 600,
    "tasks": 567,
    "assign": 391,
    "start": 1053,
    "complete": 1041,
    "submit": 236,
    "register": 238,
}


# --- the measuring process -------------------------------------------------------------------


def _child(tree: str, requests: int) -> dict[str, Any]:
    """Runs in a process of its own with ``tree`` first on the path: its ``app`` and
    ``docflow`` are the ones measured."""
    sys.path.insert(0, tree)
    import datetime as dt
    import resource
    import urllib.parse
    import uuid

    from sqlalchemy import text

    from app import create_app
    from bench.load.mix import SEARCHES, pdf_of_one_megabyte, registration
    from docflow import UnitOfWork, make_engine, make_session_factory
    from docflow.directory.identity import issue_token

    app = create_app()
    client = app.test_client()
    engine = make_engine(os.environ["DHTN_DATABASE_URL"])
    factory = make_session_factory(engine)

    def person(username: str) -> tuple[uuid.UUID, dict[str, str]]:
        with engine.connect() as conn:
            user_id = conn.scalar(text("SELECT id FROM users WHERE username = :u"), {"u": username})
        if user_id is None:
            raise SystemExit(f"no {username} in the database: make it with bench/load/generate")
        issued = issue_token(UnitOfWork(factory), user_id, ttl=dt.timedelta(hours=2))
        return user_id, {"Authorization": f"Bearer {issued.token}"}

    _, clerk = person("loadclerk.1")
    leader_id, leader = person("loadleader.1")
    spec_id, spec = person("loadspec.1")
    pdf = pdf_of_one_megabyte()
    cpu: dict[str, list[float]] = {}
    serial = int(time.time() * 1000) % 10**8

    def timed(kind: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        answer = call(*args, **kwargs)
        cpu.setdefault(kind, []).append(time.thread_time() - start)
        if answer.status_code >= 400:
            raise SystemExit(f"{kind}: {answer.status_code} {answer.get_data(as_text=True)[:500]}")
        return answer

    def act(kind: str, who: dict[str, str], doc: str, **body: Any) -> None:
        timed(
            kind,
            client.post,
            f"/api/v1/documents/{doc}/actions",
            json={"action": kind, **body},
            headers=who,
        )

    lists = {
        "inbox": (spec, "/api/v1/documents?box=inbox&limit=20"),
        "done": (spec, "/api/v1/documents?box=done&limit=20"),
        "processing": (leader, "/api/v1/documents?box=processing&limit=20"),
        "all": (clerk, "/api/v1/documents?box=all&limit=20"),
        "tasks": (spec, "/api/v1/tasks?limit=20"),
        "notifications": (spec, "/api/v1/notifications?limit=20"),
        "counters": (spec, "/api/v1/me/counters"),
    }
    searches = ["/api/v1/documents?box=all&limit=20&q=" + urllib.parse.quote(q) for q in SEARCHES]
    for i in range(requests + 10):  # the first ten of each: warming up, not counted
        serial += 1
        body, content_type = registration(pdf, serial, "CPU")
        made = timed(
            "register",
            client.post,
            "/api/v1/incoming",
            data=body,
            headers={**clerk, "Content-Type": content_type},
        )
        doc = made.get_json()["id"]
        act("submit", clerk, doc, to_user_id=str(leader_id))
        timed("read", client.get, f"/api/v1/documents/{doc}", headers=leader)
        act(
            "assign",
            leader,
            doc,
            lead={"user_id": str(spec_id)},
            due_in_working_days=5,
            comment="Đề nghị đồng chí xử lý.",
        )
        act("start", spec, doc)
        act("complete", spec, doc, comment="Đã xử lý, báo cáo lãnh đạo.")
        for kind, (who, path) in lists.items():
            timed(kind, client.get, path, headers=who)
        timed("search", client.get, searches[i % len(searches)], headers=leader)
        if i == 9:
            cpu.clear()
    engine.dispose()
    out: dict[str, Any] = {
        kind: {
            "p50": statistics.median(v) * 1000,
            "p95": statistics.quantiles(v, n=20)[-1] * 1000,
            "n": len(v),
        }
        for kind, v in cpu.items()
    }
    out["_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# --- the run -----------------------------------------------------------------------------------


def _database(args: argparse.Namespace) -> str:
    from sqlalchemy import make_url

    from bench.load.generate import Size, generate
    from bench.load.run import _database_exists, dhtn, fresh_database

    base_url = os.environ.get(
        "DHTN_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_test"
    )
    name = args.database or f"{make_url(base_url).database}_cpu_{args.documents}"
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    if _database_exists(base_url, name):
        return url
    if args.database:
        raise SystemExit(f"no database {name}")
    url = fresh_database(base_url, name)
    env = {**os.environ, **_env(url, Path(tempfile.mkdtemp(prefix="dhtn-cpu-")))}
    subprocess.run(dhtn("db", "upgrade"), env=env, check=True, capture_output=True)
    subprocess.run(dhtn("demo", "seed"), env=env, check=True, capture_output=True)
    print(f"generating {args.documents:,} documents in {name} …", flush=True)
    size = Size(documents=args.documents)
    if args.quick:
        size = Size(documents=args.documents, communes=5, users_per_org=10)
    generate(url, size, log=False)
    return url


def _env(url: str, data: Path) -> dict[str, str]:
    redis = os.environ.get("DHTN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
    s3 = os.environ["DHTN_TEST_S3_URL"]
    return {
        "DHTN_DATA_DIR": str(data),
        "DHTN_DATABASE_URL": url,
        "DHTN_STORAGE_URL": s3.replace("/dhtn-test", "/dhtn-load-cpu"),
        "DHTN_BROKER_URL": f"{redis}/12",
        "DHTN_SECRET_KEY": "cpu-benchmark-secret-key",
        "DHTN_LOG_LEVEL": "WARNING",
        "DHTN_OCR": "off",
        "DHTN_PUBLIC_URL": "https://127.0.0.1",
        "DHTN_DEMO_ACTIVITY": "off",
    }


def _flush_jobs() -> None:
    import redis

    url = os.environ.get("DHTN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
    redis.Redis.from_url(f"{url}/12").flushdb()


def _copy_of_this_tree(to: Path) -> Path:
    """The files of this tree as they are now (tracked and new ones, not the ignored)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, to / name)
    return to


def _one(tree: Path, url: str, requests: int, tmp: Path) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="data-", dir=tmp))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DHTN_")}
    env |= _env(url, data) | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.load.cpu", "--child", str(tree), "--requests", str(requests)],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(
            f"the process of {tree} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a git revision to measure beside this tree")
    parser.add_argument(
        "--rounds", type=int, default=4, help="each tree goes first in half of them (even)"
    )
    parser.add_argument("--requests", type=int, default=100, help="of each type, per process")
    parser.add_argument(
        "--database", help="an existing database (default: <test db>_cpu_<documents>)"
    )
    parser.add_argument("--documents", type=int, default=100_000, help="when generating")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="make bench: one round of 15 requests, a small tree of 20,000 documents",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.requests, args.documents = 1, 15, 20_000
    if args.child:
        print(json.dumps(_child(args.child, args.requests)))
        return
    url = _database(args)
    with tempfile.TemporaryDirectory(prefix="dhtn-cpu-") as tmp_name:
        tmp = Path(tmp_name)
        # Both trees measured from fresh copies side by side, neither from where it is edited.
        trees: list[tuple[str, Path]] = [("this tree", _copy_of_this_tree(tmp / "this"))]
        if args.baseline:
            base = tmp / "baseline"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.baseline],
                check=True,
                capture_output=True,
            )
            trees.append((f"baseline {args.baseline}", base))
        _flush_jobs()
        results: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in trees}
        try:
            for r in range(args.rounds):
                # Alternate which tree goes first, so that neither always meets a warmer cache.
                for label, tree in trees if r % 2 == 0 else trees[::-1]:
                    results[label].append(_one(tree, url, args.requests, tmp))
                    print(f"round {r + 1}: {label} measured", flush=True)
        finally:
            _flush_jobs()
            if args.baseline:
                subprocess.run(
                    [
                        "git",
                        "-C",
                        str(ROOT),
                        "worktree",
                        "remove",
                        "--force",
                        str(tmp / "baseline"),
                    ],
                    check=False,
                    capture_output=True,
                )
    report(results, args.rounds, args.requests)


def _median(runs: list[dict[str, Any]], kind: str, field: str) -> float:
    return float(statistics.median(run[kind][field] for run in runs))


def report(results: dict[str, list[dict[str, Any]]], rounds: int, requests: int) -> None:
    labels = list(results)
    print(
        f"\nCPU of the serving thread per request, ms (p50 and p95 of {requests} requests per "
        f"process; the median of {rounds} rounds)"
    )
    names = "AB"
    for name, label in zip(names, labels, strict=False):
        print(f"  {name}: {label}")
    head = f"{'request':14s}" + "".join(f" | {name} p50   p95" for name in names[: len(labels)])
    print(head + (" | A/B p50" if len(labels) == 2 else ""))
    for kind in MIX:
        line = f"{kind:14s}"
        for label in labels:
            runs = results[label]
            line += f" | {_median(runs, kind, 'p50'):5.2f} {_median(runs, kind, 'p95'):5.2f}"
        if len(labels) == 2:
            a, b = (_median(results[label], kind, "p50") for label in labels)
            line += f" | {a / b:8.2f}"
        print(line)
    total = sum(MIX.values())
    weighted = {
        label: sum(_median(runs, kind, "p50") * n for kind, n in MIX.items()) / total
        for label, runs in results.items()
    }
    for label, ms in weighted.items():
        peak = max(run["_peak_mb"] for run in results[label])
        print(
            f"{label}: {ms:.2f} ms per request of the load test's mix (p50s weighted): "
            f"{1000 / ms:.0f} requests per CPU-second; peak memory {peak:.0f} MB"
        )
    if len(labels) == 2:
        a, b = weighted[labels[0]], weighted[labels[1]]
        print(f"ratio {labels[0]} / {labels[1]}: {a / b:.3f}")


if __name__ == "__main__":
    main()
