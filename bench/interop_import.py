"""Import throughput of received edXML packages on PostgreSQL (1 MB attachment each).

Each package (a different 1 MB PDF, Vietnamese header fields, a signer's competence with the
title) goes through the real import path, as the axis polling job runs it
(``interop.inbox.import_package``: hardened parse with the field limits, sender binding,
upload checks, local object store, arrived document, trail, exchange log, one commit). In the
same run the baseline is the parse alone (``parse_package`` of the same bytes, attachments
decoded to the spool): the ratio says what storing costs on top of reading. Prints p50/p95 per
package, packages per second, and the peak RSS growth of the process during each phase
(``VmHWM`` reset through ``/proc/self/clear_refs``).

    python -m bench.interop_import [--quick] [--packages N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from bench.incoming import make_big_pdf, pct
from bench.register_numbers import fresh_database
from docflow import UnitOfWork, make_engine
from docflow.demo import seed_demo
from interop import (
    Attachment,
    Code,
    EdxmlPackage,
    Organ,
    PromulgationInfo,
    SignerInfo,
    build_package_bytes,
    parse_package,
)
from interop.inbox import import_package
from storage import open_store

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_interop_import"
SENDER = Organ(
    "000.12.30.H49",
    "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh Bà Rịa - Vũng Tàu",
)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def packages(count: int) -> list[bytes]:
    pdf = make_big_pdf(1024 * 1024)
    out = []
    for i in range(count):
        content = pdf.replace(b"/Padding (x", b"/Padding (" + str(i % 10).encode(), 1)
        content += f"%{i}\n".encode()  # each file different: no dedupe shortcut
        out.append(
            build_package_bytes(
                EdxmlPackage(
                    from_=SENDER,
                    to=(Organ("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam"),),
                    code=Code(str(i + 1), "VPĐĐBQH&HĐND-TTDN"),
                    promulgation=PromulgationInfo(dt.date(2026, 11, 20), "Bà Rịa - Vũng Tàu"),
                    subject="V/v góp ý dự thảo Báo cáo kết quả giám sát việc giải quyết kiến nghị"
                    " của cử tri năm 2026",
                    signer=SignerInfo("KT. CHỦ NHIỆM", "PHÓ CHỦ NHIỆM", "Nguyễn Văn Thành"),
                    attachments=(
                        Attachment(f"Công văn {i + 1}.pdf", "application/pdf", content=content),
                    ),
                )
            )
        )
    return out


def phase(name: str, items: list[bytes], run: Callable[[bytes], object]) -> tuple[float, float]:
    """Run ``run`` on each item; print p50/p95, throughput and peak RSS growth."""
    Path("/proc/self/clear_refs").write_text("5")
    base = _status_kb("VmRSS")
    latencies = []
    start = time.perf_counter()
    for data in items:
        t0 = time.perf_counter()
        run(data)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    peak = max(0, _status_kb("VmHWM") - base) / 1024
    rate = len(items) / elapsed
    print(
        f"{name:<22} p50 {pct(latencies, 0.5):7.1f} ms   p95 {pct(latencies, 0.95):7.1f} ms"
        f"   {rate:6.1f} packages/s   peak +{peak:.1f} MiB"
    )
    return rate, pct(latencies, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 packages instead of 200")
    parser.add_argument("--packages", type=int, default=200)
    args = parser.parse_args()
    count = 20 if args.quick else args.packages
    url = os.environ.get("DHTN_BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    engine = make_engine(url, pool_size=5)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"file://{tmp}/objects")
        store.initialize()

        def uow() -> UnitOfWork:
            return UnitOfWork(factory, store=store)

        seed_demo(uow(), password="bench-password-x")
        items = packages(count)
        size = sum(len(d) for d in items) / len(items) / 1e6
        print(f"interop import bench on PostgreSQL: {count} packages of {size:.2f} MB (1 MB PDF)")

        def parse_only(data: bytes) -> None:
            with parse_package(io.BytesIO(data)):
                pass

        def import_one(data: bytes) -> None:
            [result] = import_package(uow(), io.BytesIO(data), channel="axis")
            assert result.created

        parse_only(items[0])  # warm-up (imports, lxml)
        base_rate, base_p50 = phase("parse only (baseline)", items, parse_only)
        rate, p50 = phase("import (parse + store)", items, import_one)
        print(
            f"ratio import/parse: p50 x{p50 / base_p50:.1f}, throughput x{base_rate / rate:.1f}"
            " slower"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
