"""Task follow-up on PostgreSQL at national scale: the overdue list and the statistics.

Loads 1,000,000 tasks across 3,000 organisations (5 units and 16 people each; 15 % of tasks are
sub-tasks; ~55 % done, ~5 % cancelled, the rest open, some overdue) into a fresh database with
COPY, then times the docflow services themselves, each call in its own unit of work as the API
makes it:

- the overdue list of an organisation (leader, ``box=all&overdue=true``, first page of 50) and of
  a unit (unit head, ``box=unit&overdue=true``);
- the per-unit and per-person statistics of one month, and of the year to date.

    python -m bench.tasks [--quick] [--runs 200]

``--quick`` loads 100,000 tasks across 300 organisations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from docflow import Actor, UnitOfWork, make_engine, make_session_factory
from docflow.enums import Role
from docflow.ids import new_id
from docflow.reference import HOLIDAYS_2026
from docflow.reports import GroupBy, processing_report
from docflow.tasks import Box, list_tasks
from migrations import upgrade

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_tasks"
NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # Monday 09:00 in Hà Nội
TODAY = dt.date(2026, 11, 23)
UNITS_PER_ORG = 5
PEOPLE_PER_UNIT = 3  # one head, two specialists; plus one leader per organisation


def fresh_database(url: str) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    upgrade(url)


@dataclass
class Org:
    id: uuid.UUID
    path: str
    leader: uuid.UUID
    units: list[uuid.UUID]
    heads: dict[uuid.UUID, uuid.UUID]  # unit → head
    staff: dict[uuid.UUID, list[uuid.UUID]]  # unit → specialists


def _copy(engine: Engine, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    raw = engine.raw_connection()
    n = 0
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        raw.commit()
    finally:
        raw.close()
    return n


def load_directory(engine: Engine, n_orgs: int) -> list[Org]:
    root = new_id()
    orgs: list[Org] = []
    org_rows, unit_rows, user_rows, role_rows = [], [], [], []
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for i in range(n_orgs):
        oid = root if i == 0 else new_id()
        path = f"/{root}/" if i == 0 else f"/{root}/{oid}/"
        level = "central" if i == 0 else "province"
        code = f"{i // 10000:03d}.{(i // 100) % 100:02d}.{i % 100:02d}.B{i % 100:02d}"
        org_rows.append(
            (
                oid,
                None if i == 0 else root,
                level,
                f"Tổ chức {i}",
                f"TC{i}",
                code,
                path,
                True,
                created,
            )
        )
        units = [new_id() for _ in range(UNITS_PER_ORG)]
        for k, u in enumerate(units):
            unit_rows.append((u, oid, None, f"Ban {k} của tổ chức {i}", f"B{k}", True, created))
        leader = new_id()
        user_rows.append(
            (leader, oid, units[0], f"lanhdao.{i}", f"Lãnh đạo {i}", "x", "none", True, created)
        )
        role_rows.append((leader, Role.LEADER.value))
        heads: dict[uuid.UUID, uuid.UUID] = {}
        staff: dict[uuid.UUID, list[uuid.UUID]] = {}
        for k, u in enumerate(units):
            head = new_id()
            heads[u] = head
            user_rows.append(
                (
                    head,
                    oid,
                    u,
                    f"truongban.{i}.{k}",
                    f"Trưởng ban {i}.{k}",
                    "x",
                    "none",
                    True,
                    created,
                )
            )
            role_rows.append((head, Role.UNIT_HEAD.value))
            staff[u] = []
            for j in range(PEOPLE_PER_UNIT - 1):
                sid = new_id()
                staff[u].append(sid)
                user_rows.append(
                    (
                        sid,
                        oid,
                        u,
                        f"cv.{i}.{k}.{j}",
                        f"Chuyên viên {i}.{k}.{j}",
                        "x",
                        "none",
                        True,
                        created,
                    )
                )
                role_rows.append((sid, Role.SPECIALIST.value))
        orgs.append(Org(oid, path, leader, units, heads, staff))
    _copy(
        engine,
        "organizations",
        [
            "id",
            "parent_id",
            "level",
            "name",
            "abbreviation",
            "code",
            "path",
            "active",
            "created_at",
        ],
        iter(org_rows),
    )
    _copy(
        engine,
        "units",
        ["id", "organization_id", "parent_id", "name", "abbreviation", "active", "created_at"],
        iter(unit_rows),
    )
    _copy(
        engine,
        "users",
        [
            "id",
            "organization_id",
            "unit_id",
            "username",
            "full_name",
            "password_hash",
            "clearance",
            "active",
            "created_at",
        ],
        iter(user_rows),
    )
    _copy(engine, "user_roles", ["user_id", "role"], iter(role_rows))
    _copy(
        engine,
        "holidays",
        ["day", "name", "kind"],
        iter((d, n, k.value) for d, n, k in HOLIDAYS_2026),
    )
    return orgs


TASK_COLUMNS = [
    "id", "organization_id", "parent_id", "title", "description", "priority", "state",
    "assigner_id", "assigner_unit_id", "lead_unit_id", "lead_user_id", "due_date",
    "original_due_date", "progress", "created_at", "started_at", "submitted_on",
    "completed_at", "cancelled_at", "trail_seq",
]  # fmt: skip


def _task_rows(orgs: list[Org], n_tasks: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(2)
    start = dt.datetime(2025, 12, 1, 1, 0, tzinfo=dt.UTC)
    span = (NOW - start).total_seconds()
    for i, org in enumerate(orgs):
        per_org = n_tasks // len(orgs) + (1 if i < n_tasks % len(orgs) else 0)
        parents: list[tuple[uuid.UUID, uuid.UUID, dt.datetime, dt.date]] = []
        for n in range(per_org):
            created = start + dt.timedelta(seconds=rng.random() * span)
            sub = bool(parents) and rng.random() < 0.15
            if sub:
                p_id, unit, p_created, p_due = rng.choice(parents)
                parent_id: uuid.UUID | None = p_id
                created = max(created, p_created)
                assigner, assigner_unit = org.heads[unit], unit
                lead_user: uuid.UUID | None = rng.choice(org.staff[unit])
                due = max(created.date(), p_due - dt.timedelta(days=rng.randint(0, 5)))
            else:
                parent_id = None
                unit = rng.choice(org.units)
                assigner, assigner_unit = org.leader, org.units[0]
                lead_user = rng.choice(org.staff[unit]) if rng.random() < 0.5 else None
                due = created.date() + dt.timedelta(days=rng.randint(5, 30))
            tid = new_id()
            if parent_id is None and lead_user is None:
                parents.append((tid, unit, created, due))
            roll = rng.random()
            finish = created.date() + dt.timedelta(days=rng.randint(1, 40))
            if roll < 0.05:
                state, submitted, completed, cancelled = (
                    "cancelled",
                    None,
                    None,
                    created + dt.timedelta(days=3),
                )
            elif roll < 0.60 and finish < TODAY:
                state, submitted = "done", finish
                completed = dt.datetime.combine(finish, dt.time(3), dt.UTC)
                cancelled = None
            else:
                state = rng.choice(["assigned", "in_progress", "in_progress", "awaiting_approval"])
                submitted = min(finish, TODAY) if state == "awaiting_approval" else None
                completed = cancelled = None
            yield (
                tid, org.id, parent_id, f"Nhiệm vụ {n}", "", "normal", state, assigner,
                assigner_unit, unit, lead_user, due, due, 100 if state == "done" else rng.randint(0, 90),
                created, created if state != "assigned" else None, submitted, completed, cancelled, 1,
            )  # fmt: skip


def actor_of(org: Org, user_id: uuid.UUID, unit_id: uuid.UUID, role: Role) -> Actor:
    return Actor(
        user_id=user_id,
        username="bench",
        full_name="Bench",
        organization_id=org.id,
        organization_path=org.path,
        unit_id=unit_id,
        roles=frozenset({role}),
    )


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
        "max": samples[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 tasks, 300 organisations")
    parser.add_argument("--runs", type=int, default=200, help="calls per measurement")
    args = parser.parse_args()
    n_orgs, n_tasks = (300, 100_000) if args.quick else (3_000, 1_000_000)
    url = os.environ.get("DHTN_BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    engine = make_engine(url, pool_size=4)
    t0 = time.perf_counter()
    orgs = load_directory(engine, n_orgs)
    n = _copy(engine, "tasks", TASK_COLUMNS, _task_rows(orgs, n_tasks))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
        counts: dict[str, int] = dict(
            c.execute(text("SELECT state, count(*) FROM tasks GROUP BY state")).all()
        )
        size = c.execute(text("SELECT pg_size_pretty(pg_total_relation_size('tasks'))")).scalar()
    load_s = time.perf_counter() - t0
    print(
        f"tasks on PostgreSQL: {n:,} tasks across {len(orgs):,} organisations, loaded in {load_s:.0f} s"
    )
    print(f"  states {dict(sorted(counts.items()))}; table + indexes {size}; today {TODAY}")
    factory = make_session_factory(engine)

    def uow() -> UnitOfWork:
        return UnitOfWork(factory, clock=lambda: NOW)

    rng = random.Random(3)

    def pick() -> Org:
        return orgs[rng.randrange(1, len(orgs))]

    def overdue_org() -> object:
        org = pick()
        return list_tasks(
            uow(), actor_of(org, org.leader, org.units[0], Role.LEADER), box=Box.ALL, overdue=True
        )

    def overdue_unit() -> object:
        org = pick()
        unit = rng.choice(org.units)
        actor = actor_of(org, org.heads[unit], unit, Role.UNIT_HEAD)
        return list_tasks(uow(), actor, box=Box.UNIT, overdue=True)

    def report(group_by: GroupBy, start: dt.date) -> Callable[[], object]:
        def run() -> object:
            org = pick()
            actor = actor_of(org, org.leader, org.units[0], Role.LEADER)
            return processing_report(
                uow(), actor, date_from=start, date_to=dt.date(2026, 11, 30), group_by=group_by
            )

        return run

    sample = overdue_org()
    print(f"  (an organisation's overdue list: {len(sample.items)} items on the first page)")  # type: ignore[attr-defined]
    print(
        f"{'query (docflow service, own transaction)':<52}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
    )
    for label, fn in [
        ("overdue list, organisation (leader, 50 items)", overdue_org),
        ("overdue list, unit (unit head)", overdue_unit),
        ("statistics per unit, November", report(GroupBy.UNIT, dt.date(2026, 11, 1))),
        ("statistics per person, November", report(GroupBy.USER, dt.date(2026, 11, 1))),
        ("statistics per unit, year to date", report(GroupBy.UNIT, dt.date(2026, 1, 1))),
    ]:
        fn()  # warm the pool and the plan cache
        r = timed(fn, args.runs)
        print(f"{label:<52}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['max']:>9.2f}")
    engine.dispose()


if __name__ == "__main__":
    main()
