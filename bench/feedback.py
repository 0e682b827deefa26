"""Citizen feedback: public submissions with a 2 MB photo (``POST /api/v1/public/feedback``, the
whole Flask stack on PostgreSQL and the local object store), against the same submission without
a photo in the same run; then the tracking-page lookup (``GET /api/v1/public/feedback/{code}``)
with 1,000 items and again with 1 million, in the same run.

    python -m bench.feedback [--quick] [--requests 200] [--items 1000000]

Rate limits are raised for the run (they would refuse a benchmark, which is their job). Prints
p50/p95, throughput, peak memory, and the ratios to the baselines.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bench.register_numbers import fresh_database

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_feedback"
PASSWORD = "bench-password-feedback"
WARD = "000.01.01.Z01"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def make_app(url: str, data: Path) -> Any:
    from app import create_app
    from app.config import Settings

    settings = Settings.from_env(
        {
            "DHTN_DATA_DIR": str(data),
            "DHTN_DATABASE_URL": url,
            "DHTN_SECRET_KEY": "bench-secret",
            "DHTN_DEMO_PASSWORD": PASSWORD,
            "DHTN_TASKS_EAGER": "true",
            "DHTN_BROKER_URL": "memory://",
            "DHTN_LOG_LEVEL": "WARNING",
            "DHTN_FEEDBACK_RATE_LIMIT": "1000000/60",
            "DHTN_FEEDBACK_PHONE_LIMIT": "1000000/60",
            "DHTN_FEEDBACK_RATE_LIMIT_GLOBAL": "1000000/60",
            "DHTN_PUBLIC_RATE_LIMIT": "1000000/60",
            "DHTN_PUBLIC_RATE_LIMIT_GLOBAL": "1000000/60",
        }
    )
    return create_app(settings)


def photo_2mb(seed: int) -> bytes:
    """A PNG of about 2 MB (noise does not compress)."""
    from PIL import Image

    rnd = random.Random(seed)
    side = 830
    img = Image.frombytes("RGB", (side, side), rnd.randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=1)
    return out.getvalue()


def bulk_items(engine: Any, org_id: Any, first: int, n: int) -> float:
    """``n`` received items with codes ``PB-%08x``, inserted by PostgreSQL itself."""
    t0 = time.perf_counter()
    with engine.begin() as c:
        c.execute(
            text(
                """
                INSERT INTO feedback_items (id, organization_id, tracking_code, channel, category,
                  content, consent, share_contact, content_digest, state, complexity,
                  received_at, received_on, due_date, original_due_date, trail_seq)
                SELECT gen_random_uuid(), :org, 'PB-' || upper(lpad(to_hex(g), 8, '0')), 'web', 'Khác',
                  'Nội dung phản ánh số ' || g, true, false, md5(g::text) || md5(g::text),
                  'received', 'simple', now() - (g || ' seconds')::interval, current_date,
                  current_date + 10, current_date + 10, 0
                FROM generate_series(:first, :first + :n - 1) AS g
                """
            ),
            {"org": org_id, "first": first, "n": n},
        )
        c.execute(text("ANALYZE feedback_items"))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 requests, 100,000 items")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("DHTN_BENCH_FEEDBACK_URL", DEFAULT_URL))
    args = parser.parse_args()
    n = 60 if args.quick else args.requests
    items = 100_000 if args.quick else args.items
    fresh_database(args.url)
    from app.runtime import runtime
    from docflow.demo import seed_demo
    from docflow.models import Organization

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(args.url, Path(tmp))
        rt = runtime(app)
        seed_demo(rt.uow(), password=PASSWORD)
        client = app.test_client()
        photos = [photo_2mb(i) for i in range(20)]
        size = sum(map(len, photos)) / len(photos) / 1e6

        def submit(i: int, with_photo: bool) -> float:
            meta = {
                "organization_code": WARD,
                "content": f"Phản ánh đo hiệu năng số {i}: đèn đường ngõ {i} hỏng.",
                "consent": True,
            }
            data: dict[str, Any] = {"meta": json.dumps(meta)}
            if with_photo:
                data["files"] = [(io.BytesIO(photos[i % len(photos)]), f"anh{i}.png")]
            t0 = time.perf_counter()
            r = client.post(
                "/api/v1/public/feedback", data=data, content_type="multipart/form-data"
            )
            elapsed = time.perf_counter() - t0
            assert r.status_code == 201, r.get_json()
            return elapsed

        for i in range(10):  # warm up
            submit(-i - 1, i % 2 == 0)
        lat: dict[bool, list[float]] = {True: [], False: []}
        wall: dict[bool, float] = {True: 0.0, False: 0.0}
        block = 10
        for b in range(2 * n // block):
            on = b % 2 == 0
            t0 = time.perf_counter()
            lat[on].extend(submit(b * block + j, on) for j in range(block))
            wall[on] += time.perf_counter() - t0
        p = {k: (pct(v, 0.5), pct(v, 0.95)) for k, v in lat.items()}
        rate = {k: len(lat[k]) / wall[k] for k in lat}
        print(f"feedback bench on PostgreSQL ({n} submissions per mode, photos of {size:.2f} MB)")
        print(f"submit, no photo:   p50 {p[False][0]:.1f} ms  p95 {p[False][1]:.1f} ms"
              f"  {rate[False]:.1f}/s")  # fmt: skip
        print(f"submit, 2 MB photo: p50 {p[True][0]:.1f} ms  p95 {p[True][1]:.1f} ms"
              f"  {rate[True]:.1f}/s")  # fmt: skip
        print(f"ratio photo/no photo: p50 ×{p[True][0] / p[False][0]:.2f}"
              f"  p95 ×{p[True][1] / p[False][1]:.2f}")  # fmt: skip

        def lookups(codes: list[str]) -> list[float]:
            out = []
            for code in codes:
                t0 = time.perf_counter()
                r = client.get(f"/api/v1/public/feedback/{code}")
                out.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.get_json()
            return out

        with rt.session_factory() as s:
            org_id = s.scalars(select(Organization.id).where(Organization.code == WARD)).one()
        assert rt.engine is not None
        bulk_items(rt.engine, org_id, 1, 1000)
        codes = [f"PB-{random.randint(1, 1000):08X}" for _ in range(n * 5)]
        lookups(codes[:20])
        small = lookups(codes)
        took = bulk_items(rt.engine, org_id, 1001, items - 1000)
        big_codes = [f"PB-{random.randint(1, items):08X}" for _ in range(n * 5)]
        lookups(big_codes[:20])
        big = lookups(big_codes)
        print(f"inserted {items - 1000} more items in {took:.1f} s")
        print(f"lookup, 1,000 items:   p50 {pct(small, 0.5):.2f} ms  p95 {pct(small, 0.95):.2f} ms")
        print(f"lookup, {items:,} items: p50 {pct(big, 0.5):.2f} ms  p95 {pct(big, 0.95):.2f} ms")
        print(f"ratio: p95 ×{pct(big, 0.95) / pct(small, 0.95):.2f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (RSS): {peak:.0f} MB")
        rt.engine.dispose()


if __name__ == "__main__":
    main()
