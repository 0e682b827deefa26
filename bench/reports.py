"""Roll-up statistics on PostgreSQL: the pre-aggregated daily table against the row scan.

Loads a three-level tree (the centre, provinces, communes; 5 units and 16 people each) and its
tasks with COPY (the loader of :mod:`bench.tasks`), builds ``report_daily_stats`` with
``rebuild_all`` (timed: what ``dhtn reports rebuild`` does), then times, each call in its own
unit of work as the API makes it, for the central committee's leader and a province's leader:

- ``aggregate``: ``processing_rollup(scope=subtree)`` (what ``GET /reports/processing?scope=
  subtree`` runs), per organisation (the drill-down rows), per unit (every row) and per unit
  one page of 50 (``limit=50``, what the page ``/thong-ke`` asks);
- ``row scan``: the same per-unit figures counted from the task rows of the whole subtree in one
  query (``processing_report(subtree=True)``), the baseline, measured in the same run.

    python -m bench.reports [--quick] [--runs 30] [--tasks N] [--jobs 3]
    python -m bench.reports --reuse [--rebuild --jobs 3]   # measure the database as it is

``--quick`` loads 100,000 tasks across 300 organisations (20 provinces); the default loads
1,000,000 across the national tree (the centre, 63 provinces, 3,321 communes); ``--tasks N``
sets the size; ``--jobs`` splits the rebuild's organisations across processes. Each size is measured twice: with 10% of the tasks loaded, then with all of
them (the growth the dashboard must not show). Prints p50/p95/max, calls per second, the ratio
scan/aggregate, the table sizes, the growth 10% → 100% and the process's peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import random
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from sqlalchemy import text

from bench.tasks import (
    NOW,
    TASK_COLUMNS,
    Org,
    _copy,
    _task_rows,
    actor_of,
    fresh_database,
    load_directory,
    timed,
)
from docflow import UnitOfWork, make_engine, make_session_factory
from docflow.enums import Role
from docflow.reports import (
    GroupBy,
    StatsScope,
    processing_report,
    processing_rollup,
    rebuild_all,
    refresh_organization,
)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_reports"


def make_tree(engine: Any, orgs: list[Org], provinces: int) -> None:
    """orgs[0] is the centre; orgs[1..provinces] become provinces, the rest their communes."""
    root = orgs[0]
    with engine.begin() as c:
        for i, org in enumerate(orgs[1:], start=1):
            if i <= provinces:
                parent, level = root, "province"
            else:
                parent, level = orgs[1 + (i % provinces)], "commune"
            org.path = f"{parent.path}{org.id}/"
            c.execute(
                text("UPDATE organizations SET parent_id=:p, path=:path, level=:l WHERE id=:id"),
                {"p": parent.id, "path": org.path, "l": level, "id": org.id},
            )


def _past_only(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The task generator cancels some tasks three days after creation, which can be after
    "now": no real row records a future event, so such cancellations happen now."""
    at = TASK_COLUMNS.index("cancelled_at")
    for row in rows:
        if row[at] is not None and row[at] > NOW:
            row = (*row[:at], NOW, *row[at + 1 :])
        yield row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 tasks, 300 organisations")
    parser.add_argument("--runs", type=int, default=30, help="calls per measurement")
    parser.add_argument(
        "--tasks", type=int, default=None, help="tasks at 100%% (default 1,000,000; quick 100,000)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database as it is (no load; with --rebuild, rebuild it first)",
    )
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: rebuild first")
    parser.add_argument(
        "--skip-scan", action="store_true", help="leave out the row-scan baseline (slow)"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="processes for the rebuild (organisations split)"
    )
    args = parser.parse_args()
    # The national tree: the centre, 63 provinces, 3,321 communes.
    n_orgs, n_tasks, n_prov = (300, 100_000, 20) if args.quick else (3_385, 1_000_000, 63)
    n_tasks = args.tasks or n_tasks
    url = os.environ.get("DHTN_BENCH_DATABASE_URL", DEFAULT_URL)
    if args.reuse:
        engine = make_engine(url, pool_size=4)
        orgs, n_prov = orgs_from_db(engine)
    else:
        fresh_database(url)
        engine = make_engine(url, pool_size=4)
        orgs = load_directory(engine, n_orgs)
        make_tree(engine, orgs, n_prov)
    factory = make_session_factory(engine)

    def uow() -> UnitOfWork:
        return UnitOfWork(factory, clock=lambda: NOW)

    centre = orgs[0]
    rng = random.Random(5)
    provinces = orgs[1 : n_prov + 1]
    nov = {"date_from": dt.date(2026, 11, 1), "date_to": dt.date(2026, 11, 30)}
    year = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 11, 30)}

    def leader(org: Org) -> Any:
        return actor_of(org, org.leader, org.units[0], Role.LEADER)

    def agg(org_pick: Any, period: dict[str, dt.date], group: str) -> Callable[[], Any]:
        paged = group.endswith(" page")

        def run() -> object:
            org = org_pick() if callable(org_pick) else org_pick
            return processing_rollup(
                uow(),
                leader(org),
                scope=StatsScope.SUBTREE,
                group_by=group.split()[0],
                date_from=period["date_from"],
                date_to=period["date_to"],
                limit=50 if paged else None,
            )

        return run

    def scan(org_pick: Any, period: dict[str, dt.date]) -> Callable[[], Any]:
        def run() -> object:
            org = org_pick() if callable(org_pick) else org_pick
            return processing_report(
                uow(),
                leader(org),
                group_by=GroupBy.UNIT,
                organization_id=org.id,
                subtree=True,
                date_from=period["date_from"],
                date_to=period["date_to"],
            )

        return run

    def province() -> Org:
        return rng.choice(provinces)

    phases: dict[str, dict[str, float]] = {}
    loaded = 0
    for share in (1.0,) if args.reuse else (0.1, 1.0):
        t0 = time.perf_counter()
        if args.reuse:
            with engine.connect() as c:
                loaded = int(c.execute(text("SELECT count(*) FROM tasks")).scalar() or 0)
        else:
            batch = round(n_tasks * share) - loaded
            loaded += _copy(engine, "tasks", TASK_COLUMNS, _past_only(_task_rows(orgs, batch)))
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        if args.reuse and not args.rebuild:
            n_org, n_rows = len(orgs), 0
        else:
            n_org, n_rows = parallel_rebuild(url, args.jobs)
        rebuild_s = time.perf_counter() - t0
        print(f"load average after the rebuild: {os.getloadavg()}")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
            sizes = {
                t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("tasks", "report_daily_stats", "report_unit_daily_stats")
            }
        print(
            f"\n== {'the database as found' if args.reuse else f'{share:.0%} of the data'}:"
            f" {loaded:,} tasks, {len(orgs):,} organisations "
            f"({n_prov} provinces); loaded in {load_s:.0f} s; rebuild {n_org:,} organisations,"
            f" {n_rows:,} per-person daily rows in {rebuild_s:.1f} s; rows {sizes}"
        )
        a = agg(centre, nov, "unit")()
        b = scan(centre, nov)()
        ta = tuple(getattr(a.total, f) for f in FIGURES)
        tb = tuple(getattr(b.total, f) for f in FIGURES)
        print(f"  centre, November, per unit: aggregate {ta} == row scan {tb}: {ta == tb}")
        print(
            f"{'query (docflow service, own transaction)':<50}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'max ms':>9}{'calls/s':>9}{'scan/agg':>10}"
        )
        results: dict[str, float] = {}
        for who, pick in (("centre", centre), ("province", province)):
            for pname, period in (("November", nov), ("year to date", year)):
                base = scan(pick, period)
                if args.skip_scan:
                    rb = {"p50": float("nan"), "p95": float("nan"), "max": float("nan")}
                else:
                    base()
                    rb = timed(base, max(5, args.runs // 3))
                for group in ("organization", "unit", "unit page"):
                    fn = agg(pick, period, group)
                    fn()
                    ra = timed(fn, args.runs)
                    label = f"{who}, {pname}, dashboard by {group}"
                    results[label] = ra["p50"]
                    print(
                        f"{label:<50}{ra['p50']:>9.2f}{ra['p95']:>9.2f}{ra['max']:>9.2f}"
                        f"{1000 / ra['p50']:>9.0f}{rb['p50'] / ra['p50']:>9.1f}x"
                    )
                label = f"{who}, {pname}, row scan by unit (baseline)"
                print(
                    f"{label:<50}{rb['p50']:>9.2f}{rb['p95']:>9.2f}{rb['max']:>9.2f}"
                    f"{1000 / rb['p50']:>9.1f}{1.0:>9.1f}x"
                )
        phases[f"{share:.0%}"] = results
    print(f"load average after the measurements: {os.getloadavg()}")
    if "10%" in phases:
        print("\ngrowth of the dashboard's p50 from 10% to 100% of the data (goal < 1.5x):")
        for label, p50 in phases["100%"].items():
            print(f"  {label:<48}{p50 / phases['10%'][label]:>6.2f}x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process: {peak:.0f} MB")
    engine.dispose()


FIGURES = ("received", "done_on_time", "done_late", "open", "overdue")


def orgs_from_db(engine: Any) -> tuple[list[Org], int]:
    """The loaded tree as :func:`load_directory` made it (for ``--reuse``): the centre first,
    then the organisations in their order; each with its leader and the leader's unit."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT o.id, o.path, o.level, u.id AS leader, u.unit_id, o.name FROM "
                "organizations o JOIN users u ON u.organization_id = o.id "
                "AND u.username LIKE 'lanhdao.%'"
            )
        ).all()
    rows.sort(key=lambda r: int(r.name.split()[-1]))
    orgs = [Org(r.id, r.path, r.leader, [r.unit_id], {}, {}) for r in rows]
    return orgs, sum(1 for r in rows if r.level == "province")


def _rebuild_share(url: str, jobs: int, k: int) -> tuple[int, int]:
    engine = make_engine(url, pool_size=1)
    factory = make_session_factory(engine)
    with factory() as s:
        ids = list(s.scalars(text("SELECT id FROM organizations ORDER BY path")))
    rows = 0
    for org_id in ids[k::jobs]:
        rows += refresh_organization(UnitOfWork(factory, clock=lambda: NOW), org_id)
    engine.dispose()
    return len(ids[k::jobs]), rows


def parallel_rebuild(url: str, jobs: int) -> tuple[int, int]:
    """``rebuild_all`` (what ``dhtn reports rebuild`` runs), the organisations split across
    ``jobs`` processes (each organisation's refresh is independent)."""
    if jobs <= 1:
        engine = make_engine(url, pool_size=1)
        done = rebuild_all(UnitOfWork(make_session_factory(engine), clock=lambda: NOW))
        engine.dispose()
        return done
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn")) as pool:
        parts = list(pool.map(_rebuild_share, [url] * jobs, [jobs] * jobs, range(jobs)))
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


if __name__ == "__main__":
    main()
