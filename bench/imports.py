"""Imports at national scale: the directory workbook and an old system's documents.

    python -m bench.imports [--users 30000] [--documents 400] [--file-mb 1] [--runs 1]
                            [--reimport] [--skip-directory] [--skip-documents] [--quick]
                            [--directory-sizes 27000,270000]

Each size is measured twice, at a quarter of the given size and at the given size, so that the
peak memory of the two can be compared (flat: close to each other).

Directory: one workbook (openpyxl, write-only) with the real shape of the Front: 34 provinces
under the demo central committee, up to 3,321 communes spread over them, units, and people
(``--users``; one admin per province, whose grant becomes a pending request). Each run: a
fresh PostgreSQL database (migrated, demo seeded), then, each in its own process (so that its
peak resident memory is its own): ``dry-run`` (read and check: the baseline), ``import`` (read,
check in a first streamed pass, write in a second, people let go of every 2,000, in one
transaction; the activation sheet written as it goes) and, with ``--reimport``,
the same file again.

Documents: a generated export (``manifest.csv`` + one file of ``--file-mb`` per document,
numbers with gaps) imported with ``docflow.imports.import_documents`` into the S3 store of
``DHTN_TEST_S3_URL`` (a prefix of its own; the local store when unset); the baseline is storing
the same files with ``store.put`` alone (no checks, no database), in the same run.

Prints p50/p95 over the runs, rows (documents) per second, peak RSS and the ratio to the
baseline. ``--quick`` (``make bench``): 2,000 users and 80 documents of 64 KiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from bench.register_numbers import fresh_database

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_imports"
CENTRAL = "000.00.00.Z01"  # the demo's central committee
PROVINCES = 34


def write_workbook(path: Path, communes: int, per_commune: int) -> dict[str, int]:
    wb = Workbook(write_only=True)
    orgs = wb.create_sheet("organizations")
    units = wb.create_sheet("units")
    users = wb.create_sheet("users")
    orgs.append(
        [
            "Mã định danh",
            "Mã tổ chức cấp trên",
            "Cấp",
            "Tên tổ chức",
            "Tên viết tắt",
            "Địa chỉ",
            "Thư điện tử",
            "Điện thoại",
        ]
    )
    units.append(["Mã tổ chức", "Tên viết tắt", "Tên đơn vị", "Đơn vị cấp trên (viết tắt)"])
    users.append(
        [
            "Tên đăng nhập",
            "Họ và tên",
            "Mã tổ chức",
            "Đơn vị (viết tắt)",
            "Chức vụ",
            "Vai trò",
            "Độ mật",
            "Thư điện tử",
            "Điện thoại",
            "Hoạt động",
        ]
    )
    n = {"organizations": 0, "units": 0, "users": 0}
    for p in range(1, PROVINCES + 1):
        code = f"001.{p:02d}.00.Z88"
        orgs.append(
            [
                code,
                CENTRAL,
                "province",
                f"Ủy ban MTTQ tỉnh Thử {p}",
                "MTTQ",
                f"Số {p} đường Thử",
                f"tinh{p}@thu.example",
                f"0243 000 {p:04d}",
            ]
        )
        units.append([code, "BTT", "Ban Thường trực", None])
        units.append([code, "VP", "Văn phòng", "BTT"])
        for i, (role, unit) in enumerate(
            (("admin;specialist", "VP"), ("clerk", "VP"), ("leader", "BTT"))
        ):
            users.append(
                [
                    f"t{p}.u{i}",
                    f"Cán bộ tỉnh {p} số {i}",
                    code,
                    unit,
                    "Cán bộ",
                    role,
                    "none",
                    f"t{p}.u{i}@thu.example",
                    f"0912{p:03d}{i:03d}",
                    "có",
                ]
            )
        n["organizations"] += 1
        n["units"] += 2
        n["users"] += 3
    for c in range(communes):
        p = c % PROVINCES + 1
        k = c // PROVINCES + 1
        code = f"{100 + p:03d}.{k:02d}.01.Z88"
        orgs.append(
            [
                code,
                f"001.{p:02d}.00.Z88",
                "commune",
                f"Ủy ban MTTQ xã Thử {p}-{k}",
                "MTTQ",
                None,
                None,
                None,
            ]
        )
        units.append([code, "BTT", "Ban Thường trực", None])
        for i in range(per_commune):
            role = "clerk" if i == 0 else "leader" if i == 1 else "specialist"
            users.append(
                [
                    f"x{p}.{k}.u{i}",
                    f"Cán bộ xã {p}-{k} số {i}",
                    code,
                    "BTT",
                    None,
                    role,
                    None,
                    None,
                    None,
                    None,
                ]
            )
        n["organizations"] += 1
        n["units"] += 1
        n["users"] += per_commune
    wb.save(path)
    return n


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_old_export(
    folder: Path,
    documents: int,
    *,
    file_size: int = 64,
    register: str = "Sổ văn bản đến năm 2025",
    year: int = 2025,
    seed: int = 15,
) -> dict[int, str]:
    """An old system's export as it would arrive: ``manifest.csv`` (Vietnamese headers, rows in
    no particular order, numbers with gaps) and one file per document under ``files/`` (a PNG
    signature and ``file_size`` bytes of its own). Returns number → subject."""
    import csv
    import random

    rng = random.Random(seed)
    numbers = [3 * i + 2 for i in range(documents)]
    rng.shuffle(numbers)
    (folder / "files").mkdir(parents=True, exist_ok=True)
    expected: dict[int, str] = {}
    with (folder / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["Văn bản đến/đi", "Sổ văn bản", "Năm", "Số", "Số, ký hiệu", "Loại văn bản",
             "Trích yếu", "Cơ quan ban hành", "Ngày văn bản", "Ngày đến/ban hành", "Độ khẩn",
             "Độ mật", "Trạng thái", "Người xử lý", "Tệp"]
        )  # fmt: skip
        for n in numbers:
            day = dt.date(year, 1, 1) + dt.timedelta(days=n % 360)
            subject = f"Văn bản cũ số {n}"
            name = f"files/{n:07d}.png"
            w.writerow(
                ["đến", register, year, n, f"{n}/CV-CU", "CV", subject, "Cơ quan cũ",
                 day.strftime("%d/%m/%Y"), day.strftime("%d/%m/%Y"), "", "", "Hoàn thành", "",
                 name]
            )  # fmt: skip
            body = n.to_bytes(8, "big") + rng.randbytes(max(0, file_size - 16))
            (folder / name).write_bytes(PNG_MAGIC + body)
            expected[n] = subject
    return expected


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (reset by exec, so a spawned phase does not
    inherit its parent's peak, as ``ru_maxrss`` does on Linux), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _phase(url: str, path: str, dry: bool, q: Any) -> None:
    from sqlalchemy import select

    from docflow import imports
    from docflow.actors import load_actor
    from docflow.db import make_engine, make_session_factory, utcnow
    from docflow.models import User
    from docflow.uow import UnitOfWork
    from docflow.workdays import local_date

    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as s:
        admin = s.scalars(select(User).where(User.username == "admin")).one()
        actor = load_actor(s, admin.id, local_date(utcnow()))
    rss0 = peak_rss_mb()
    start = time.perf_counter()
    parsed = imports.open_directory(Path(path))  # read as a stream, as the CLI does
    if dry:
        plan = imports.plan_directory_import(UnitOfWork(factory), actor, parsed)
        assert plan.ok, plan.problems[:5]
        counts = plan.counts
    else:
        sheet = imports.ActivationSheet()  # the CLI's sheet of codes, written as it goes
        result = imports.import_directory(
            UnitOfWork(factory), actor, parsed, source=path, on_activation=sheet.add
        )
        sheet.save(Path(path).with_name("activations.xlsx"))
        counts = result.counts
    seconds = time.perf_counter() - start
    engine.dispose()
    peak = peak_rss_mb()
    q.put((seconds, peak, dict(counts) | {"rss_start_mb": int(rss0)}))


def run_phase(url: str, path: Path, dry: bool) -> tuple[float, float, dict[str, int]]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_phase, args=(url, str(path), dry, q))
    proc.start()
    out: tuple[float, float, dict[str, int]] = q.get()
    proc.join()
    return out


def seed(url: str) -> None:
    from docflow.db import make_engine, make_session_factory
    from docflow.demo import seed_demo
    from docflow.uow import UnitOfWork

    fresh_database(url)
    engine = make_engine(url)
    seed_demo(UnitOfWork(make_session_factory(engine)), password="bench-password-imports")
    engine.dispose()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


# ---------------------------------------------------------------------- documents


def _doc_phase(url: str, storage_url: str, folder: str, baseline: bool, q: Any) -> None:
    """One process: import the export (or, for the baseline, only store its files)."""
    from sqlalchemy import select

    from docflow import imports
    from docflow.actors import load_actor
    from docflow.db import make_engine, make_session_factory, utcnow
    from docflow.models import User
    from docflow.uow import UnitOfWork
    from docflow.workdays import local_date
    from storage import open_store

    store = open_store(storage_url)
    store.initialize()
    rss0 = peak_rss_mb()
    start = time.perf_counter()
    if baseline:
        for f in sorted((Path(folder) / "files").iterdir()):
            with f.open("rb") as fh:
                store.put(fh, "image/png")
        counts = {"stored": len(list((Path(folder) / "files").iterdir()))}
    else:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as s:
            admin = s.scalars(select(User).where(User.username == "admin")).one()
            actor = load_actor(s, admin.id, local_date(utcnow()))
        result = imports.import_documents(
            UnitOfWork(factory, store=store), actor, imports.read_manifest(Path(folder))
        )
        counts = result.counts
        engine.dispose()
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    q.put((seconds, peak, counts | {"rss_start_mb": int(rss0)}))


def run_doc_phase(
    url: str, storage_url: str, folder: Path, baseline: bool
) -> tuple[float, float, dict[str, int]]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_doc_phase, args=(url, storage_url, str(folder), baseline, q))
    proc.start()
    out: tuple[float, float, dict[str, int]] = q.get()
    proc.join()
    return out


def add_register(url: str, name: str, year: int) -> None:
    from sqlalchemy import text

    from docflow.db import make_engine

    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "insert into registers (id, organization_id, direction, year, name,"
                " secret_series, last_number, active, created_at)"
                " select gen_random_uuid(), id, 'incoming', :y, :n, false, 0, true, now()"
                " from organizations where code = :c"
            ),
            {"y": year, "n": name, "c": CENTRAL},
        )
    engine.dispose()


def bench_documents(url: str, sizes: list[int], file_size: int, runs: int) -> None:
    import os

    base = os.environ.get("DHTN_TEST_S3_URL")
    print(f"\ndocument import: {file_size / 1e6:.2f} MB files, store: {'S3' if base else 'local'}")
    print(
        f"{'documents':>9} {'p50 s':>7} {'p95 s':>7} {'docs/s':>7} {'MB/s':>6} "
        f"{'peak RSS MB':>11} {'at start':>8} {'store-only docs/s':>17} {'× store-only':>12}"
    )
    for n in sizes:
        times: list[float] = []
        rss: list[float] = []
        rss0: list[float] = []
        ratios: list[float] = []
        base_rates: list[float] = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "export"
                write_old_export(folder, n, file_size=file_size, register="Sổ đo", year=2025)
                if base:
                    store_url = _prefixed(base, "import")
                    baseline_url = _prefixed(base, "baseline")
                else:
                    store_url = f"file://{tmp}/objects"
                    baseline_url = f"file://{tmp}/baseline"
                seed(url)
                add_register(url, "Sổ đo", 2025)
                b = run_doc_phase(url, baseline_url, folder, True)
                r = run_doc_phase(url, store_url, folder, False)
                assert r[2]["imported"] == n, r[2]
                _empty(store_url)
                _empty(baseline_url)
            times.append(r[0])
            rss.append(r[1])
            rss0.append(r[2]["rss_start_mb"])
            base_rates.append(n / b[0])
            ratios.append(r[0] / b[0])
        t = pct(times, 0.5)
        print(
            f"{n:>9} {t:>7.1f} {pct(times, 0.95):>7.1f} {n / t:>7.1f} "
            f"{n * file_size / 1e6 / t:>6.1f} {pct(rss, 0.5):>11.0f} {pct(rss0, 0.5):>8.0f} "
            f"{statistics.median(base_rates):>17.1f} {statistics.median(ratios):>12.2f}"
        )


def _prefixed(base: str, name: str) -> str:
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    path = f"{parts.path.rstrip('/')}/bench-{name}-{uuid.uuid4().hex[:8]}"
    return urlunsplit(parts._replace(path=path))


def _empty(storage_url: str) -> None:
    from storage import open_store

    store = open_store(storage_url)
    for info in list(store.list()):
        store.delete(info.key)


# ---------------------------------------------------------------------- directory


def bench_directory(url: str, sizes: list[tuple[int, int]], runs: int, reimport: bool) -> None:
    print("\ndirectory import (dry run = read and check only, the baseline)")
    print(
        f"{'users':>7} {'rows':>7} {'phase':<10} {'p50 s':>7} {'p95 s':>7} {'rows/s':>8} "
        f"{'peak RSS MB':>11} {'at start':>8} {'× dry-run':>9}"
    )
    for communes, per_commune in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "directory.xlsx"
            n = write_workbook(path, communes, per_commune)
            rows = sum(n.values())
            results: dict[str, list[tuple[float, float, float]]] = {"dry-run": [], "import": []}
            if reimport:
                results["re-import"] = []
            for _ in range(runs):
                seed(url)
                dry = run_phase(url, path, True)
                imp = run_phase(url, path, False)
                assert imp[2]["users_created"] == n["users"], imp[2]
                results["dry-run"].append((dry[0], dry[1], dry[2]["rss_start_mb"]))
                results["import"].append((imp[0], imp[1], imp[2]["rss_start_mb"]))
                if reimport:
                    again = run_phase(url, path, False)
                    assert not any(
                        v
                        for k, v in again[2].items()
                        if k not in ("privilege_requests", "rss_start_mb")
                    )
                    results["re-import"].append((again[0], again[1], again[2]["rss_start_mb"]))
            base = pct([v[0] for v in results["dry-run"]], 0.5)
            for name, vals in results.items():
                times = [v[0] for v in vals]
                t = pct(times, 0.5)
                print(
                    f"{n['users']:>7} {rows:>7} {name:<10} {t:>7.1f} {pct(times, 0.95):>7.1f} "
                    f"{rows / t:>8.0f} {pct([v[1] for v in vals], 0.5):>11.0f} "
                    f"{pct([v[2] for v in vals], 0.5):>8.0f} {t / base:>9.2f}"
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--quick", action="store_true", help="small sizes, one run (make bench)")
    ap.add_argument("--users", type=int, default=30_000, help="directory: the larger size (users)")
    ap.add_argument("--documents", type=int, default=400, help="documents: the larger size")
    ap.add_argument("--file-mb", type=float, default=1.0, help="documents: size of each file")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--reimport", action="store_true", help="directory: also time a re-import")
    ap.add_argument(
        "--directory-sizes",
        default=None,
        help="directory: comma-separated user counts (e.g. 27000,270000) instead of --users/4 "
        "and --users",
    )
    ap.add_argument("--skip-directory", action="store_true")
    ap.add_argument("--skip-documents", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.users, args.documents, args.file_mb, args.runs = 1_000, 40, 0.0625, 1
    largest = (
        max(int(n) for n in args.directory_sizes.split(",")) if args.directory_sizes else args.users
    )
    communes = 3321 if largest >= 30_000 else max(34, largest // 9)

    def shape(users: int) -> tuple[int, int]:
        c = min(communes, max(34, users // 8))
        return c, max(1, (users - 3 * PROVINCES) // c)

    print(
        "Peak memory at two sizes (a quarter of the larger, and the larger): flat means the "
        "two peaks are close."
    )
    if not args.skip_directory:
        wanted = (
            [int(n) for n in args.directory_sizes.split(",")]
            if args.directory_sizes
            else [args.users // 4, args.users]
        )
        bench_directory(args.url, [shape(n) for n in wanted], args.runs, args.reimport)
    if not args.skip_documents:
        bench_documents(
            args.url,
            [max(1, args.documents // 4), args.documents],
            int(args.file_mb * 1024 * 1024),
            args.runs,
        )


if __name__ == "__main__":
    main()
