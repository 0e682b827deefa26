"""What the phone's refreshes cost with many documents: ``GET /api/v1/me/counters``, a box read
answered 304 (``If-None-Match`` with the tag of the previous read) and the same box read in full,
through the whole Flask stack on PostgreSQL, in the same run.

The documents are generated in bulk with SQL (``INSERT … SELECT generate_series``) from one
document registered through the API: 80 % in the central organisation (the clerk's), 20 % in the
province; a tenth assigned (lead: the DCGSPBXH unit), a tenth registered and waiting, the rest
done; each with its ``created`` row in the change log, as the session hook writes it, with
transaction ids of the past (documents that came in over time, long settled: a fresh import of a
million documents in one transaction makes the box validators count its rows until the
transactions move past it; see docflow.changes.organization_validator).

    python -m bench.api [--quick] [--documents 1000000] [--runs 300] [--old-runs 20] [--keep]

``--keep`` reuses the database when it already holds this many bench documents (brought to the
current migration first: new indexes are built on the kept rows), so a second run measures
without generating a million documents again; otherwise the database is made afresh.

The counters are also timed answered 304 (their tag comes from the same change log).

The box reads are also timed before and after issue 19 in the same run, one of each in turn
(``--old-runs`` rounds): the box as one statement (visibility and "waiting for me" as ORs, every
matching row sorted, the old query kept in ``tests/docflow/test_box_pages.py`` as the tests'
oracle) and as today (one index range per reason, merged: ``docflow.documents.queries``).

``--quick`` uses 20,000 documents and 100 runs (what ``make bench`` runs). Prints p50/p95 per
request, the ratio of the full read to the 304, the 304's throughput and the peak memory.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.audit_reads import make_app, pct
from bench.register_numbers import fresh_database
from migrations import upgrade

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_api"
PASSWORD = "bench-password-audit"  # make_app's demo password
USERS = ("vanthu.tw", "lanhdao.tw", "truongban.dcgs")
# Box reads timed with the old and the new query: (label, user, path).
BOX_CASES = [
    ("clerk, box=inbox", "vanthu.tw", "/api/v1/documents?box=inbox"),
    ("clerk, box=all", "vanthu.tw", "/api/v1/documents?box=all"),
    ("unit head, box=inbox", "truongban.dcgs", "/api/v1/documents?box=inbox"),
    ("unit head, box=done", "truongban.dcgs", "/api/v1/documents?box=done"),
    ("leader, box=inbox", "lanhdao.tw", "/api/v1/documents?box=inbox"),
    ("leader, box=all", "lanhdao.tw", "/api/v1/documents?box=all"),
    # The third page (the cursor of the second).
    ("clerk, box=all, page 3", "vanthu.tw", "/api/v1/documents?box=all"),
    ("unit head, box=inbox, page 3", "truongban.dcgs", "/api/v1/documents?box=inbox"),
]

BULK_DOCUMENTS = """
INSERT INTO documents (
    id, organization_id, direction, state, notation, doc_type, subject, issuer_name, issuer_code,
    issued_date, received_at, registered_at, listed_at, urgency, urgency_rank, secrecy,
    secrecy_rank, due_date, page_count, source, search_text, created_by_id, created_at,
    updated_at, version)
SELECT gen_random_uuid(),
       CASE WHEN g % 5 = 3 THEN CAST(:province AS uuid) ELSE t.organization_id END,
       'incoming',
       CASE g % 10 WHEN 0 THEN 'assigned' WHEN 1 THEN 'registered' ELSE 'done' END,
       g || '/KH-BENCH', t.doc_type, t.subject || ' ' || g, t.issuer_name, t.issuer_code,
       t.issued_date, t.received_at - g * interval '1 minute',
       t.registered_at - g * interval '1 minute', t.listed_at - g * interval '1 minute',
       'normal', 0, 'none', 0, t.due_date, 1, t.source, t.search_text || ' ' || g,
       t.created_by_id, t.created_at, t.updated_at, 1
FROM documents t, generate_series(1, :n) g
WHERE t.id = :template
"""
BULK_ASSIGNMENTS = """
INSERT INTO assignments (id, document_id, role, unit_id, due_date, state, assigned_by_id,
                         assigned_at)
SELECT gen_random_uuid(), d.id, 'lead', :unit, d.due_date, 'pending', :leader, d.listed_at
FROM documents d
WHERE d.notation LIKE '%/KH-BENCH' AND d.state = 'assigned' AND d.organization_id = :org
"""
BULK_CHANGES = """
INSERT INTO changes (txid, kind, object_id, change, organization_id, user_id, at)
SELECT 1000 + row_number() OVER (ORDER BY d.listed_at) / 100, 'document', d.id, 'created',
       d.organization_id, NULL, d.listed_at
FROM documents d
WHERE d.notation LIKE '%/KH-BENCH'
ORDER BY d.listed_at
"""


def load(app: Any, n: int) -> dict[str, dict[str, str]]:
    """Seed the demo, register one document through the API, copy it ``n`` times in SQL."""
    from app.runtime import runtime
    from docflow.demo import seed_demo
    from tests.pdfs import make_pdf

    rt = runtime(app)
    seed_demo(rt.uow(), password=PASSWORD)
    client = app.test_client()

    users = tokens(app)
    meta = {
        "notation": "0/KH-BENCH-TEMPLATE",
        "doc_type": "KH",
        "subject": "Kế hoạch tổ chức Ngày hội Đại đoàn kết toàn dân tộc",
        "issuer": {"name": "Ủy ban MTTQ Việt Nam tỉnh Demo", "code": "000.00.01.Z01"},
        "issued_date": "2026-11-20",
        "due_in_working_days": 10,
    }
    r = client.post(
        "/api/v1/incoming",
        headers=users["vanthu.tw"],
        data={
            "meta": json.dumps(meta),
            "files": [(io.BytesIO(make_pdf()), "mau.pdf", "application/pdf")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    template = r.get_json()["id"]
    me = client.get("/api/v1/me", headers=users["lanhdao.tw"]).get_json()
    t0 = time.perf_counter()
    assert rt.engine is not None
    with rt.engine.begin() as c:
        ids = dict(
            c.execute(
                text(
                    "SELECT o.code, o.id FROM organizations o WHERE o.code IN "
                    "('000.00.00.Z01', '000.00.01.Z01')"
                )
            ).all()
        )
        unit = c.execute(
            text("SELECT id FROM units WHERE organization_id = :o AND abbreviation = 'DCGSPBXH'"),
            {"o": ids["000.00.00.Z01"]},
        ).scalar_one()
        c.execute(
            text(BULK_DOCUMENTS),
            {"n": n, "template": template, "province": ids["000.00.01.Z01"]},
        )
        c.execute(
            text(BULK_ASSIGNMENTS),
            {"unit": unit, "leader": me["id"], "org": ids["000.00.00.Z01"]},
        )
        c.execute(text(BULK_CHANGES))
    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE documents"))
        c.execute(text("VACUUM ANALYZE assignments"))
        c.execute(text("VACUUM ANALYZE changes"))
    print(f"loaded {n:,} documents in {time.perf_counter() - t0:.0f} s")
    return users


def kept(url: str, n: int) -> bool:
    """Whether ``url``'s database already holds the ``n`` bench documents."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError, ProgrammingError

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            have = c.execute(
                text("SELECT count(*) FROM documents WHERE notation LIKE '%/KH-BENCH'")
            ).scalar_one()
    except (OperationalError, ProgrammingError):
        return False
    finally:
        engine.dispose()
    return bool(have == n)


def tokens(app: Any) -> dict[str, dict[str, str]]:
    client = app.test_client()
    out = {}
    for username in USERS:
        r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        out[username] = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    return out


def timed(call: Callable[[], Any], expect: int) -> float:
    t0 = time.perf_counter()
    r = call()
    took = time.perf_counter() - t0
    assert r.status_code == expect, (r.status_code, r.get_data()[:500])
    return took


def old_list_documents(uow: Any, actor: Any, query: Any) -> Any:
    """``list_documents`` before issue 19: one statement, ORDER BY … LIMIT over every match."""
    from docflow import audit
    from docflow.documents import queries
    from docflow.pagination import Page
    from tests.docflow.test_box_pages import old_page

    if query.q:
        return queries.list_documents(uow, actor, query)
    with uow:
        rows, cursor = old_page(uow.session, actor, query)
    audit.record_search(uow, actor, query.issuer, rows)
    return Page(rows, cursor)


def compare_boxes(client: Any, users: dict[str, dict[str, str]], rounds: int) -> None:
    """The box reads with the old query and the new one, in turn; p50/p95 and the ratio."""
    from docflow.documents import queries

    new = queries.list_documents
    lat: dict[tuple[str, str], list[float]] = {}
    same = 0
    paths = {}
    for label, user, path in BOX_CASES:
        if label.endswith("page 3"):
            for _ in range(2):
                cursor = client.get(path, headers=users[user]).get_json()["next_cursor"]
                path = f"{path.split('&cursor=')[0]}&cursor={cursor}"
        paths[label] = path
    load_before = os.getloadavg()
    try:
        for _ in range(rounds):
            for label, user, _path in BOX_CASES:
                path = paths[label]
                pages = []
                for which, fn in (("old", old_list_documents), ("new", new)):
                    queries.list_documents = fn  # type: ignore[assignment]
                    t0 = time.perf_counter()
                    r = client.get(path, headers=users[user])
                    lat.setdefault((label, which), []).append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.get_data()[:300]
                    body = r.get_json()
                    pages.append(([i["id"] for i in body["items"]], body.get("next_cursor")))
                assert pages[0] == pages[1], (label, "the two queries differ")
                same += 1
    finally:
        queries.list_documents = new  # type: ignore[assignment]
    print(f"box reads, old query vs new, {rounds} rounds, one of each in turn:")
    print(
        "machine load average (1, 5, 15 min) before / after: "
        + " / ".join(", ".join(f"{x:.1f}" for x in la) for la in (load_before, os.getloadavg()))
    )
    for label, _user, path in BOX_CASES:
        old, cur = lat[(label, "old")], lat[(label, "new")]
        print(
            f"GET {path:28s} ({label:28s}) old p50 {pct(old, 0.5):8.2f} ms p95 "
            f"{pct(old, 0.95):8.2f} ms | new p50 {pct(cur, 0.5):7.2f} ms p95 "
            f"{pct(cur, 0.95):7.2f} ms | ×{pct(old, 0.5) / pct(cur, 0.5):.0f} at p50"
        )
    print(f"pages compared (same ids and cursor both ways): {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 documents, 100 runs")
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument(
        "--old-runs", type=int, default=20, help="rounds of box reads with the old query too"
    )
    parser.add_argument("--url", default=os.environ.get("DHTN_BENCH_API_URL", DEFAULT_URL))
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse the database if it already holds the documents (upgraded to the head)",
    )
    args = parser.parse_args()
    n, runs = (20_000, 100) if args.quick else (args.documents, args.runs)
    reuse = args.keep and kept(args.url, n)
    if reuse:
        upgrade(args.url)
        print(f"kept database: {n:,} documents")
    else:
        fresh_database(args.url)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(args.url, Path(tmp))
        users = tokens(app) if reuse else load(app, n)
        client = app.test_client()
        if args.old_runs:
            compare_boxes(client, users, args.old_runs)
        cases: list[tuple[str, str, str]] = [
            ("clerk, box=all", "vanthu.tw", "/api/v1/documents?box=all"),
            ("clerk, box=inbox", "vanthu.tw", "/api/v1/documents?box=inbox"),
            ("unit head, box=inbox", "truongban.dcgs", "/api/v1/documents?box=inbox"),
            ("badges, unit head", "truongban.dcgs", "/api/v1/me/counters"),
        ]
        lat: dict[str, list[float]] = {}

        def add(name: str, value: float) -> None:
            lat.setdefault(name, []).append(value)

        tags = {}
        refreshed = 0
        load_before = os.getloadavg()
        for label, user, path in cases:
            r = client.get(path, headers=users[user])
            assert r.status_code == 200 and r.get_json().get("items", [1]), r.get_json()
            tags[label] = r.headers["ETag"]
        for _ in range(10):  # warm every path
            client.get("/api/v1/me/counters", headers=users["truongban.dcgs"])
        # Alternate one request of each kind per round, so drift hits all alike.
        for _ in range(runs):
            for who in ("vanthu.tw", "truongban.dcgs"):
                add(
                    f"GET /me/counters ({who})",
                    timed(lambda w=who: client.get("/api/v1/me/counters", headers=users[w]), 200),
                )
            for label, user, path in cases:
                h = users[user]
                add(
                    f"GET {path} full ({label})",
                    timed(lambda p=path, h=h: client.get(p, headers=h), 200),
                )
                cond = {**h, "If-None-Match": tags[label]}
                t0 = time.perf_counter()
                r = client.get(path, headers=cond)
                took = time.perf_counter() - t0
                if r.status_code == 304:
                    add(f"GET {path} 304 ({label})", took)
                else:  # the validator's floor moved (once per 4096 transactions): a new tag
                    assert r.status_code == 200
                    tags[label] = r.headers["ETag"]
                    refreshed += 1
        t0 = time.perf_counter()
        label, user, path = cases[0]
        cond = {**users[user], "If-None-Match": tags[label]}
        answered = [client.get(path, headers=cond).status_code for _ in range(runs)]
        rate = runs / (time.perf_counter() - t0)
        refreshed += sum(1 for code in answered if code != 304)
        print(f"phone refresh bench on PostgreSQL: {n:,} documents, {runs} runs per request")
        print(
            "machine load average (1, 5, 15 min) before / after the runs: "
            + " / ".join(", ".join(f"{x:.1f}" for x in la) for la in (load_before, os.getloadavg()))
        )
        for name, values in lat.items():
            print(f"{name:62s} p50 {pct(values, 0.5):8.2f} ms  p95 {pct(values, 0.95):8.2f} ms")
        for label, _user, path in cases:
            full, cached = lat[f"GET {path} full ({label})"], lat[f"GET {path} 304 ({label})"]
            print(
                f"ratio full/304 ({label}): p50 ×{pct(full, 0.5) / pct(cached, 0.5):.1f}"
                f"  p95 ×{pct(full, 0.95) / pct(cached, 0.95):.1f}"
            )
        print(f"304 throughput (one client, {cases[0][0]}): {rate:.0f} req/s")
        print(
            f"conditional reads answered 200 (a new tag, the validator's floor moved): {refreshed}"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (this process): {peak:.0f} MiB")
        from app.runtime import runtime

        engine = runtime(app).engine
        if engine is not None:
            engine.dispose()


if __name__ == "__main__":
    main()
