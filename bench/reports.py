"""Roll-up statistics on PostgreSQL at national scale: the pre-aggregated tables against the
row scan (issue 17's figures).

Loads the national tree (the centre, 63 provinces, 3,321 communes; 5 units and 16 people
each) with a year of activity: tasks with COPY (the loader of :mod:`bench.tasks`) and incoming
documents, each with its lead assignment (a unit, and a person of it for most), written
set-based in PostgreSQL (``INSERT … SELECT generate_series``; the search trigger and the
foreign-key checks are off for the load's session: ``session_replication_role = replica``).
Then builds the statistics with ``rebuild_all`` (timed: what ``dhtn reports rebuild`` does,
one pass) and times, each call in its own unit of work as the API makes it, for the central
committee's leader and a province's leader, November and the year to date:

- ``processing_rollup(scope=subtree)`` (what ``GET /reports/processing?scope=subtree`` runs)
  by organisation (the drill-down rows), by unit one page of 50 and by person one page of 50
  (``limit=50``, what the page ``/thong-ke`` asks);
- ``docflow.reports.dashboard.leader_dashboard(uow, actor)`` when that module exists;
- the row scan (``processing_report(subtree=True)``) once per size, as the check of the
  figures (and timed with ``--scan``).

    python -m bench.reports [--quick] [--runs 30] [--tasks N] [--documents N] [--scan]
    python -m bench.reports --reuse [--rebuild]   # measure the database as it is

The default loads 1,000,000 tasks and 4,000,000 documents; ``--quick`` 50,000 and 150,000
across 300 organisations (20 provinces). Each size is measured twice: with 10% of the data
loaded, then with all of it (the growth the dashboard must not show). Prints p50/p95/max,
the growth 10% → 100%, the table sizes, the rebuild's time, the load average and the
process's peak memory (VmHWM). The database (``dhtn_bench_reports``) is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
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
from docflow.reports import GroupBy, StatsScope, processing_report, processing_rollup, rebuild_all

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


# The organisations' people as arrays (a document's lead is picked by its number).
PEOPLE = """
CREATE TABLE IF NOT EXISTS bench_people AS
SELECT o.id AS org_id, (row_number() OVER (ORDER BY o.path) - 1)::int AS k,
       (SELECT u.id FROM users u WHERE u.organization_id = o.id AND u.username LIKE 'lanhdao.%'
        LIMIT 1) AS leader,
       (SELECT array_agg(u.id ORDER BY u.username) FROM users u
        WHERE u.organization_id = o.id AND u.username LIKE 'cv.%') AS staff,
       (SELECT array_agg(u.unit_id ORDER BY u.username) FROM users u
        WHERE u.organization_id = o.id AND u.username LIKE 'cv.%') AS staff_units
FROM organizations o
"""

# Documents lo..hi: received over the year before NOW, due 5–30 days later; a lead assignment
# each (unit + person for 7 in 10, the unit alone otherwise); 85% finished 1–40 days after
# receipt when that is before today (some late), the rest still open (some overdue).
DOCUMENTS = """
CREATE TEMP TABLE bench_docs ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, n, p.org_id, p.leader,
       p.staff[1 + (n / 7) % array_length(p.staff, 1)] AS spec,
       p.staff_units[1 + (n / 7) % array_length(p.staff, 1)] AS unit,
       CAST(:start AS timestamptz) + (hashint4(n)::bigint & 2147483647) % CAST(:span AS int)
           * interval '1 second' AS at,
       5 + (hashint4(n + 1)::bigint & 2147483647) % 26 AS due_in,
       1 + (hashint4(n + 2)::bigint & 2147483647) % 40 AS took,
       (hashint4(n + 3)::bigint & 2147483647) % 100 AS roll
FROM generate_series(CAST(:lo AS int), CAST(:hi AS int)) n
JOIN bench_people p ON p.k = n % CAST(:orgs AS int);
INSERT INTO documents (id, organization_id, direction, state, doc_type, subject, received_at,
    registered_at, listed_at, urgency, urgency_rank, secrecy, secrecy_rank, source, search_text,
    created_at, updated_at, version, due_date)
SELECT d.id, d.org_id, 'incoming',
       CASE WHEN d.roll < 85 AND (d.at + d.took * interval '1 day')::date < CAST(:today AS date)
            THEN 'done' ELSE 'assigned' END,
       'CV', 'Công văn số ' || d.n, d.at, d.at, d.at, 'normal', 0, 'none', 0, 'paper',
       'cong van so ' || d.n, d.at, d.at, 1, (d.at + d.due_in * interval '1 day')::date
FROM bench_docs d;
INSERT INTO assignments (id, document_id, role, unit_id, user_id, due_date, state,
                         assigned_by_id, assigned_at, completed_at, finished_on)
SELECT gen_random_uuid(), d.id, 'lead', d.unit, CASE WHEN d.roll % 10 < 7 THEN d.spec END,
       (d.at + d.due_in * interval '1 day')::date, CASE WHEN f.done THEN 'done' ELSE 'pending' END,
       d.leader, d.at, CASE WHEN f.done THEN d.at + d.took * interval '1 day' END,
       CASE WHEN f.done THEN (d.at + d.took * interval '1 day')::date END
FROM bench_docs d
CROSS JOIN LATERAL (SELECT d.roll < 85 AND (d.at + d.took * interval '1 day')::date < CAST(:today AS date)
                    AS done) f
"""


def load_documents(engine: Any, lo: int, hi: int) -> int:
    """Documents numbered lo..hi with their lead assignments, set-based."""
    if hi < lo:
        return 0
    start = dt.datetime(2025, 12, 1, 1, 0, tzinfo=dt.UTC)
    params = {
        "lo": lo,
        "hi": hi,
        "start": start,
        "span": int((NOW - start).total_seconds()),
        "today": NOW.date(),
    }
    with engine.begin() as c:
        c.execute(text("SET LOCAL session_replication_role = replica"))
        c.execute(text(PEOPLE))
        params["orgs"] = c.execute(text("SELECT count(*) FROM bench_people")).scalar()
        for statement in DOCUMENTS.split(";\n"):
            used = {k: v for k, v in params.items() if f":{k}" in statement}
            c.execute(text(statement), used)
    return hi - lo + 1


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dashboard_function() -> Callable[..., Any] | None:
    try:
        module = importlib.import_module("docflow.reports.dashboard")
    except ImportError:
        return None
    fn = getattr(module, "leader_dashboard", None)
    return fn if callable(fn) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 items, 300 organisations")
    parser.add_argument("--runs", type=int, default=30, help="calls per measurement")
    parser.add_argument("--tasks", type=int, default=None, help="tasks at 100%% (1,000,000)")
    parser.add_argument(
        "--documents", type=int, default=None, help="documents at 100%% (4,000,000)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database as it is (no load; with --rebuild, rebuild it first)",
    )
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: rebuild first")
    parser.add_argument("--scan", action="store_true", help="also time the row scan (slow)")
    parser.add_argument(
        "--no-check", action="store_true", help="skip the row-scan check of the figures"
    )
    args = parser.parse_args()
    # The national tree: the centre, 63 provinces, 3,321 communes.
    if args.quick:
        n_orgs, n_tasks, n_docs, n_prov = 300, 50_000, 150_000, 20
    else:
        n_orgs, n_tasks, n_docs, n_prov = 3_385, 1_000_000, 4_000_000, 63
    n_tasks = args.tasks if args.tasks is not None else n_tasks
    n_docs = args.documents if args.documents is not None else n_docs
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
    dashboard = dashboard_function()

    def leader(org: Org) -> Any:
        return actor_of(org, org.leader, org.units[0], Role.LEADER)

    def agg(org_pick: Any, period: dict[str, dt.date], group: str) -> Callable[[], Any]:
        def run() -> object:
            org = org_pick() if callable(org_pick) else org_pick
            return processing_rollup(
                uow(),
                leader(org),
                scope=StatsScope.SUBTREE,
                group_by=group,
                date_from=period["date_from"],
                date_to=period["date_to"],
                limit=None if group == "organization" else 50,
            )

        return run

    def scan(org: Org, period: dict[str, dt.date]) -> Any:
        return processing_report(
            uow(),
            leader(org),
            group_by=GroupBy.UNIT,
            organization_id=org.id,
            subtree=True,
            **period,
        )

    def province() -> Org:
        return rng.choice(provinces)

    phases: dict[str, dict[str, float]] = {}
    tasks_loaded = docs_loaded = 0
    for share in (1.0,) if args.reuse else (0.1, 1.0):
        t0 = time.perf_counter()
        if args.reuse:
            with engine.connect() as c:
                tasks_loaded = int(c.execute(text("SELECT count(*) FROM tasks")).scalar() or 0)
                docs_loaded = int(c.execute(text("SELECT count(*) FROM documents")).scalar() or 0)
        else:
            batch = round(n_tasks * share) - tasks_loaded
            rows = _past_only(_task_rows(orgs, batch))
            tasks_loaded += _copy(engine, "tasks", TASK_COLUMNS, rows)
            upto = round(n_docs * share)
            docs_loaded += load_documents(engine, docs_loaded + 1, upto)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        if args.reuse and not args.rebuild:
            n_org, n_rows, rebuild_s = len(orgs), 0, float("nan")
        else:
            print(f"load average before the rebuild: {os.getloadavg()}", flush=True)
            n_org, n_rows = rebuild_all(uow())
            rebuild_s = time.perf_counter() - t0
        print(f"load average after the rebuild: {os.getloadavg()}", flush=True)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
            sizes = {
                t: (
                    int(c.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0),
                    c.execute(
                        text(f"SELECT pg_size_pretty(pg_total_relation_size('{t}'))")
                    ).scalar(),
                )
                for t in (
                    "tasks",
                    "documents",
                    "assignments",
                    "report_daily_stats",
                    "report_unit_daily_stats",
                    "report_monthly_stats",
                )
            }
        print(
            f"\n== {'the database as found' if args.reuse else f'{share:.0%} of the data'}:"
            f" {tasks_loaded:,} tasks + {docs_loaded:,} documents ="
            f" {tasks_loaded + docs_loaded:,} items, {len(orgs):,} organisations"
            f" ({n_prov} provinces); loaded in {load_s:.0f} s; rebuild {n_org:,}"
            f" organisations, {n_rows:,} per-person daily rows in {rebuild_s:.1f} s"
        )
        for t, (n, size) in sizes.items():
            print(f"  {t:<26}{n:>12,} rows {size:>10}")
        for who, org in () if args.no_check else (("centre", centre), ("a province", provinces[0])):
            t0 = time.perf_counter()
            b = scan(org, nov)
            scan_ms = (time.perf_counter() - t0) * 1000
            a = agg(org, nov, "unit")()
            ta = tuple(getattr(a.total, f) for f in FIGURES)
            tb = tuple(getattr(b.total, f) for f in FIGURES)
            print(
                f"  {who}, November, per unit: aggregate {ta} == row scan {tb}: {ta == tb}"
                f" (the row scan took {scan_ms:,.0f} ms)"
            )
        print(f"load average before the measurements: {os.getloadavg()}")
        print(
            f"{'query (docflow service, own transaction)':<52}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        )
        results: dict[str, float] = {}

        def measure(
            label: str, fn: Callable[[], Any], runs: int, results: dict[str, float] = results
        ) -> None:
            fn()  # warm the pool and the plan cache
            r = timed(fn, runs)
            results[label] = r["p50"]
            print(f"{label:<52}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['max']:>9.2f}", flush=True)

        for who, pick in (("centre", centre), ("province", province)):
            for pname, period in (("November", nov), ("year to date", year)):
                for group, shown in (
                    ("organization", "by organisation"),
                    ("unit", "by unit, page of 50"),
                    ("user", "by person, page of 50"),
                ):
                    measure(f"{who}, {pname}, {shown}", agg(pick, period, group), args.runs)
                if args.scan:
                    org = pick if isinstance(pick, Org) else provinces[0]

                    def baseline(org: Org = org, period: dict[str, dt.date] = period) -> Any:
                        return scan(org, period)

                    measure(f"{who}, {pname}, row scan by unit (baseline)", baseline, 3)
            if dashboard is None:
                print(f"{who}, leader's dashboard: skipped (docflow.reports.dashboard is missing)")
            else:
                dash = dashboard

                def run_dashboard(pick: Any = pick, dash: Callable[..., Any] = dash) -> Any:
                    org = pick() if callable(pick) else pick
                    return dash(uow(), leader(org))

                measure(f"{who}, leader's dashboard", run_dashboard, args.runs)
        print(f"load average after the measurements: {os.getloadavg()}")
        phases[f"{share:.0%}"] = results
    if "10%" in phases:
        print("\ngrowth of the p50 from 10% to 100% of the data (goal < 1.5x):")
        for label, p50 in phases["100%"].items():
            print(f"  {label:<50}{p50 / phases['10%'][label]:>6.2f}x")
    print(f"peak memory of the process (VmHWM): {peak_memory_mb():.0f} MB")
    print(f"the database is kept: {url.rsplit('/', 1)[-1]}")
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


if __name__ == "__main__":
    main()
