"""The national demo tree: how long `dhtn demo seed --national` takes, and how the admin pages
answer on it.

    python -m bench.national_seed [--users 40000] [--requests 100] [--quick]

1. A fresh PostgreSQL database (migrated, the small demo seeded), then in its own process (so
   that its peak resident memory is its own): building the plan alone (the baseline: no
   database), ``seed_national`` (1 + 34 + 3,321 organisations, their units, ``--users`` people
   with one shared password, the registers), and the same call again (finds the tree, writes
   nothing). Prints seconds, rows per second, peak RSS, and the ratio to the baseline.
2. The admin pages on that tree, through the app in-process (Flask test client: server time,
   no network), as the national central admin (3,356 organisations, every person) and, as the
   baseline measured in the same run, as the small demo's admin (3 organisations, 12 people):
   the first view of the tree, a large province's communes, the people list (first page, a
   later page, a role filter, a search), the export of one province. p50/p95 and the ratio.

``--quick`` (what ``make bench`` runs): 14,000 people and 10 requests per page.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import tempfile
import time
from typing import Any

from bench.register_numbers import fresh_database

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_national"
PASSWORD = "bench-password-national"


def _seed_phase(url: str, users: int, q: Any) -> None:
    from docflow.db import make_engine, make_session_factory
    from docflow.demo_national import national_plan, seed_national
    from docflow.uow import UnitOfWork

    t0 = time.perf_counter()
    plan = national_plan(users)
    rows = sum(1 for _ in plan.people())
    baseline = time.perf_counter() - t0
    engine = make_engine(url)
    factory = make_session_factory(engine)
    first = seed_national(UnitOfWork(factory), users=users, password=PASSWORD)
    again = seed_national(UnitOfWork(factory), users=users, password=PASSWORD)
    engine.dispose()
    assert first.created and not again.created and first.users == users == rows
    total = first.organizations + first.units + first.users + first.roles + first.registers
    q.put(
        {
            "baseline": baseline,
            "seed": first.seconds,
            "again": again.seconds,
            "rows": total,
            "counts": (first.organizations, first.units, first.users, first.registers),
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _login(client: Any, username: str, password: str) -> None:
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token[1]}
    )
    assert r.status_code == 302, r.status_code


def _time(client: Any, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    return out


def pages(url: str, requests: int) -> None:
    from sqlalchemy import select

    from app import create_app
    from app.config import Settings
    from docflow.db import make_engine, make_session_factory
    from docflow.demo_national import commune_counts
    from docflow.models import Organization

    counts = commune_counts()
    big = f"000.00.{1 + counts.index(max(counts)):02d}.Z90"
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        ids = {
            code: s.scalars(select(Organization.id).where(Organization.code == code)).one()
            for code in (big, "000.00.00.Z01", "000.00.01.Z01")
        }
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            {
                "DHTN_DATA_DIR": tmp,
                "DHTN_DATABASE_URL": url,
                "DHTN_SECRET_KEY": "bench",
                "DHTN_LOG_LEVEL": "WARNING",
                "DHTN_BROKER_URL": "memory://",
                "DHTN_TASKS_EAGER": "true",
                "DHTN_OCR": "off",
            }
        )
        app = create_app(settings)
        app.config.update(TESTING=True)
        national, demo = app.test_client(), app.test_client()
        _login(national, "ztw.quantri", PASSWORD)
        _login(demo, "admin", PASSWORD)
        later = national.get("/admin/people?role=specialist").get_data(as_text=True)
        cursor = later.split("cursor=")[1].split('"')[0].replace("&amp;", "&")
        kinds = [
            ("first view of the tree", "/admin", "/admin"),
            (
                "a province's children",
                f"/admin/tree?parent={ids[big]}&fragment=1",
                f"/admin/tree?parent={ids['000.00.00.Z01']}&fragment=1",
            ),
            ("tree search", "/admin/tree?q=M%E1%BA%ABu%2012-0", "/admin/tree?q=Demo"),
            ("people, first page", "/admin/people", "/admin/people"),
            ("people, later page", f"/admin/people?cursor={cursor}", "/admin/people"),
            (
                "people, role filter",
                "/admin/people?role=clerk&active=1",
                "/admin/people?role=clerk",
            ),
            ("people, search", "/admin/people?q=nguy", "/admin/people?q=nguy"),
            (
                "export of a province",
                f"/admin/export.xlsx?organization={ids[big]}",
                f"/admin/export.xlsx?organization={ids['000.00.01.Z01']}",
            ),
        ]
        print(f"\nadmin pages, {requests} requests each (ms; baseline: the 3-organisation demo)")
        print(f"{'page':<24} {'p50':>7} {'p95':>7} {'demo p50':>9} {'× demo':>7} {'req/s':>7}")
        for name, n_url, d_url in kinds:
            n = requests if "export" not in name else max(3, requests // 10)
            base = _time(demo, d_url, n)
            got = _time(national, n_url, n)
            print(
                f"{name:<24} {pct(got, 0.5):>7.1f} {pct(got, 0.95):>7.1f} {pct(base, 0.5):>9.1f} "
                f"{pct(got, 0.5) / pct(base, 0.5):>7.2f} {1000 / statistics.mean(got):>7.1f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--users", type=int, default=40_000)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.users, args.requests = 14_000, 10

    from docflow.db import make_engine, make_session_factory
    from docflow.demo import seed_demo
    from docflow.uow import UnitOfWork

    fresh_database(args.url)
    engine = make_engine(args.url)
    seed_demo(UnitOfWork(make_session_factory(engine)), password=PASSWORD)
    engine.dispose()
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_seed_phase, args=(args.url, args.users, q))
    proc.start()
    r = q.get()
    proc.join()
    orgs, units, users, registers = r["counts"]
    print(
        f"demo seed --national: {orgs} organisations, {units} units, {users} people, "
        f"{registers} registers ({r['rows']} rows with the roles)"
    )
    print(f"{'phase':<22} {'seconds':>8} {'rows/s':>9} {'× plan':>7}")
    print(f"{'plan only (baseline)':<22} {r['baseline']:>8.2f} {'':>9} {1.0:>7.2f}")
    print(
        f"{'seed':<22} {r['seed']:>8.2f} {r['rows'] / r['seed']:>9.0f} "
        f"{r['seed'] / r['baseline']:>7.2f}"
    )
    print(
        f"{'second run (no-op)':<22} {r['again']:>8.2f} {'':>9} {r['again'] / r['baseline']:>7.2f}"
    )
    print(f"peak RSS of the seeding process: {r['rss']:.0f} MB")
    pages(args.url, args.requests)


if __name__ == "__main__":
    main()
