"""Register number allocation on PostgreSQL: throughput with 1 and 8 concurrent writers, and
the count of duplicates and gaps (both must be 0).

Each allocation runs in its own transaction that also writes a row recording the number (as
registering a document does); about 10 % of transactions roll back, to show that a rollback
leaves no gap. The baseline is the same transaction without the allocator (the row insert
alone), measured in the same run, so the ratio shows what numbering costs.

    python -m bench.register_numbers [--seconds 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
import uuid

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from docflow import allocate_number, make_engine
from docflow.enums import Direction, OrgLevel
from docflow.ids import new_id
from docflow.models import Organization, Register
from migrations import upgrade

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench"


def fresh_database(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    upgrade(url)


def setup(engine: Engine, registers: int) -> list[uuid.UUID]:
    ids = []
    with Session(engine) as s, s.begin():
        for i in range(registers):
            org_id = new_id()
            s.add(
                Organization(
                    id=org_id,
                    level=OrgLevel.CENTRAL.value if i == 0 else OrgLevel.PROVINCE.value,
                    name=f"Bench {i}",
                    abbreviation=f"B{i}",
                    code=f"000.00.{i:02d}.B{i % 100:02d}",
                    path=f"/{org_id}/",
                )
            )
            reg = Register(
                organization_id=org_id, direction=Direction.INCOMING.value, year=2026, name="Sổ đến"
            )
            s.add(reg)
            s.flush()
            ids.append(reg.id)
        s.execute(text("CREATE TABLE IF NOT EXISTS bench_entries (register_id uuid, number int)"))
        s.execute(text("CREATE SEQUENCE IF NOT EXISTS bench_seq"))
    return ids


def run(
    engine: Engine, register_ids: list[uuid.UUID], writers: int, seconds: float, allocate: bool
) -> dict[str, float]:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    lock = threading.Lock()
    counts = {"committed": 0, "rolled_back": 0}

    def work(i: int) -> None:
        rng = random.Random(i)
        reg = register_ids[i % len(register_ids)]
        local: list[float] = []
        committed = rolled = 0
        with Session(engine) as s:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                s.begin()
                if allocate:
                    n = allocate_number(s, reg, year=2026)
                else:
                    n = s.execute(text("SELECT nextval('bench_seq')")).scalar_one()
                s.execute(text("INSERT INTO bench_entries VALUES (:r, :n)"), {"r": reg, "n": n})
                if rng.random() < 0.1:
                    s.rollback()
                    rolled += 1
                else:
                    s.commit()
                    committed += 1
                local.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(local)
            counts["committed"] += committed
            counts["rolled_back"] += rolled

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "per_s": (counts["committed"] + counts["rolled_back"]) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
        "committed": counts["committed"],
        "rolled_back": counts["rolled_back"],
    }


def duplicates_and_gaps(engine: Engine) -> tuple[int, int]:
    with engine.connect() as c:
        dup = c.execute(
            text(
                "SELECT count(*) FROM (SELECT register_id, number FROM bench_entries GROUP BY 1, 2 HAVING count(*) > 1) d"
            )
        ).scalar_one()
        gaps = c.execute(
            text(
                "SELECT coalesce(sum(mx - cnt), 0) FROM (SELECT register_id, max(number) mx, count(DISTINCT number) cnt "
                "FROM bench_entries GROUP BY register_id) g"
            )
        ).scalar_one()
    return int(dup), int(gaps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="2 s per configuration")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else args.seconds
    url = os.environ.get("DHTN_BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    engine = make_engine(url, pool_size=10)
    registers = setup(engine, 8)
    print(f"register_numbers on PostgreSQL, {seconds:.0f} s per configuration, ~10 % rollbacks")
    print(f"{'configuration':<34}{'tx/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'vs baseline':>13}")
    for writers, regs, label in [
        (1, registers[:1], "1 writer, 1 register"),
        (8, registers[:1], "8 writers, same register"),
        (8, registers, "8 writers, 8 registers"),
    ]:
        with engine.begin() as c:
            c.execute(text("TRUNCATE bench_entries"))
        base = run(engine, regs, writers, seconds, allocate=False)
        with engine.begin() as c:
            c.execute(text("TRUNCATE bench_entries"))
            c.execute(text("UPDATE registers SET last_number = 0"))
        ours = run(engine, regs, writers, seconds, allocate=True)
        dup, gaps = duplicates_and_gaps(engine)
        print(
            f"{label:<34}{ours['per_s']:>9.0f}{ours['p50_ms']:>9.2f}{ours['p95_ms']:>9.2f}"
            f"{ours['per_s'] / base['per_s']:>12.2f}x"
        )
        print(
            f"{'  baseline (insert only)':<34}{base['per_s']:>9.0f}{base['p50_ms']:>9.2f}{base['p95_ms']:>9.2f}"
        )
        print(
            f"  committed {ours['committed']}, rolled back {ours['rolled_back']}: duplicates {dup}, gaps {gaps}"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
