"""The roll-up and the leader's dashboard on two sizes of the same national tree, in one run.

Issue 17 asks that the dashboard grow less than 1.5× from 10% to 100% of the data. Measuring
the two sizes in two runs mixes two loads of a shared machine; this measures both databases
made by :mod:`bench.reports` (say 500,000 and 5,000,000 items) from one process, the calls
interleaved (one on the small database, one on the large, the same query, the same
organisation), and prints for each query p50/p95 on each and the ratio of the p50s.

    DHTN_BENCH_DATABASE_URL=…/dhtn_bench_reports10 python -m bench.reports --tasks 100000 \\
        --documents 400000 --no-check          # the 10% database
    python -m bench.reports                     # the 100% database (dhtn_bench_reports)
    python -m bench.reports_growth --small URL --large URL [--runs 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from bench.reports import orgs_from_db, peak_memory_mb
from bench.tasks import NOW, actor_of
from docflow import UnitOfWork, make_engine, make_session_factory
from docflow.enums import Role
from docflow.reports import StatsScope, processing_rollup
from docflow.reports.dashboard import leader_dashboard

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"


class Side:
    """One database: its tree and a unit of work per call, as the API makes them."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url, pool_size=2)
        self.factory = make_session_factory(self.engine)
        self.orgs, self.provinces = orgs_from_db(self.engine)
        with self.engine.connect() as c:
            self.items = int(
                c.execute(
                    text("SELECT (SELECT count(*) FROM tasks) + (SELECT count(*) FROM documents)")
                ).scalar()
                or 0
            )

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.factory, clock=lambda: NOW)

    def leader(self, index: int) -> Any:
        org = self.orgs[index]
        return actor_of(org, org.leader, org.units[0], Role.LEADER)


def queries() -> list[tuple[str, Callable[[Side, int], Any]]]:
    nov = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    year = (dt.date(2026, 1, 1), dt.date(2026, 11, 30))

    def rollup(period: tuple[dt.date, dt.date], group: str) -> Callable[[Side, int], Any]:
        def run(side: Side, index: int) -> Any:
            return processing_rollup(
                side.uow(),
                side.leader(index),
                scope=StatsScope.SUBTREE,
                group_by=group,
                date_from=period[0],
                date_to=period[1],
                limit=None if group == "organization" else 50,
            )

        return run

    def dashboard(side: Side, index: int) -> Any:
        return leader_dashboard(side.uow(), side.leader(index))

    out: list[tuple[str, Callable[[Side, int], Any]]] = [
        ("leader's dashboard (home page)", dashboard)
    ]
    for pname, period in (("November", nov), ("year to date", year)):
        for group, shown in (
            ("organization", "by organisation"),
            ("unit", "by unit, page of 50"),
            ("user", "by person, page of 50"),
        ):
            out.append((f"{pname}, {shown}", rollup(period, group)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", default=PG + "dhtn_bench_reports10")
    parser.add_argument("--large", default=PG + "dhtn_bench_reports")
    parser.add_argument("--runs", type=int, default=20, help="calls per query and database")
    args = parser.parse_args()
    small, large = Side(args.small), Side(args.large)
    print(
        f"small: {small.items:,} items; large: {large.items:,} items "
        f"(×{large.items / max(1, small.items):.1f}); {len(large.orgs):,} organisations; "
        f"load average {os.getloadavg()}"
    )
    print(f"{'who, query':<48}{'small p50/p95 ms':>20}{'large p50/p95 ms':>20}{'ratio p50':>11}")
    for who, index in (("centre", 0), ("province", 1)):
        for label, fn in queries():
            times: dict[str, list[float]] = {"small": [], "large": []}
            for side in (small, large):
                fn(side, index)  # warm the pool, the plan cache and the pages read
            for _ in range(args.runs):
                for name, side in (("small", small), ("large", large)):
                    t0 = time.perf_counter()
                    fn(side, index)
                    times[name].append((time.perf_counter() - t0) * 1000)
            s50, l50 = statistics.median(times["small"]), statistics.median(times["large"])
            s95 = statistics.quantiles(times["small"], n=20)[-1]
            l95 = statistics.quantiles(times["large"], n=20)[-1]
            print(
                f"{who + ', ' + label:<48}{s50:>10.1f}/{s95:<9.1f}{l50:>10.1f}/{l95:<9.1f}"
                f"{l50 / s50:>10.2f}x",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()}; peak memory (VmHWM) {peak_memory_mb():.0f} MB")
    small.engine.dispose()
    large.engine.dispose()


if __name__ == "__main__":
    main()
