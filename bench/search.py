"""Full-text search at scale, and OCR throughput.

    python -m bench.search [--docs 100000 --docs 1000000] [--orgs 20] [--queries 200] [--ocr-pages 3]

For each size N (several ``--docs`` give the growth): a fresh PostgreSQL database with N
documents spread over ``--orgs`` organisations, each with a body of generated Vietnamese text of
about two pages (~5,000 characters: a syllable vocabulary with a Zipf distribution, a common
phrase in about a third of the documents, a rare word in ten), its file row, its text and its
index row, as the worker writes them. Then, as a clerk of one organisation (who may see all of
it), through the service the API calls (visibility, ranking, snippets):

* a rare word, a common phrase (quoted), part of a notation, a word with a filter (type + dates);
  the part of a notation is chosen in each dataset by its number of matches (about
  ``--notation-hits``), so two sizes compare queries returning about as many rows;
* the same conditions as a plain ``LIKE`` scan over the folded metadata and body (the baseline:
  what search would cost without the full-text index), in the same run.

Prints p50/p95 per query and mode, the ratio to the baseline, the index size per document, and
the peak memory of this process; then OCR pages per minute on one core (A4 at 300 dpi, Tesseract
"vie" through OCRmyPDF in the sandbox).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Engine

from bench.register_numbers import fresh_database
from docflow.documents.text import fold
from docflow.ids import new_id
from docflow.models import Document, Organization

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_bench_search"
PASSWORD = "bench-password-search"

SYLLABLES = [
    "của",
    "và",
    "các",
    "cho",
    "với",
    "trong",
    "được",
    "này",
    "những",
    "người",
    "có",
    "đã",
    "không",
    "là",
    "một",
    "về",
    "để",
    "theo",
    "tại",
    "công",
    "tác",
    "mặt",
    "trận",
    "tổ",
    "quốc",
    "việt",
    "nam",
    "ban",
    "thường",
    "trực",
    "ủy",
    "nhân",
    "dân",
    "tỉnh",
    "huyện",
    "xã",
    "phường",
    "thị",
    "trấn",
    "cán",
    "bộ",
    "đoàn",
    "viên",
    "hội",
    "chữ",
    "thập",
    "đỏ",
    "cựu",
    "chiến",
    "binh",
    "phụ",
    "nữ",
    "nông",
    "dân",
    "thanh",
    "niên",
    "kế",
    "hoạch",
    "báo",
    "cáo",
    "chương",
    "trình",
    "đề",
    "án",
    "dự",
    "thảo",
    "nghị",
    "quyết",
    "quyết",
    "định",
    "hướng",
    "dẫn",
    "thông",
    "tri",
    "giám",
    "sát",
    "phản",
    "biện",
    "góp",
    "ý",
    "xây",
    "dựng",
    "đảng",
    "chính",
    "quyền",
    "vận",
    "động",
    "quỹ",
    "vì",
    "người",
    "nghèo",
    "an",
    "sinh",
    "xã",
    "hội",
    "nhà",
    "đại",
    "đoàn",
    "kết",
    "toàn",
    "dân",
    "tộc",
    "khu",
    "dân",
    "cư",
    "ngày",
    "hội",
    "bầu",
    "cử",
    "đại",
    "biểu",
    "quốc",
    "hội",
    "hội",
    "đồng",
    "năm",
    "tháng",
    "quý",
    "kết",
    "quả",
    "thực",
    "hiện",
    "nhiệm",
    "vụ",
    "trọng",
    "tâm",
    "triển",
    "khai",
    "tổ",
    "chức",
    "lấy",
    "ý",
    "kiến",
    "đối",
    "với",
    "luật",
    "đất",
    "đai",
    "môi",
    "trường",
    "chuyển",
    "đổi",
    "số",
    "cổng",
    "dịch",
    "vụ",
    "trực",
    "tuyến",
    "hành",
    "chính",
    "cải",
    "cách",
    "thủ",
    "tục",
    "tiếp",
    "công",
    "dân",
    "giải",
    "quyết",
    "khiếu",
    "nại",
    "tố",
    "cáo",
    "kiến",
    "nghị",
    "phản",
    "ánh",
    "cử",
    "tri",
    "tuyên",
    "truyền",
    "phổ",
    "biến",
    "giáo",
    "dục",
    "pháp",
    "luật",
    "đề",
    "nghị",
    "các",
    "đơn",
    "vị",
    "địa",
    "phương",
    "phối",
    "hợp",
    "chặt",
    "chẽ",
    "đảm",
    "bảo",
    "tiến",
    "độ",
    "chất",
    "lượng",
    "hiệu",
    "quả",
    "thiết",
    "thực",
    "tiết",
    "kiệm",
    "chống",
    "lãng",
    "phí",
    "tham",
    "nhũng",
]
COMMON = "phản biện xã hội"
RARE = "xylanh"
TYPES = ("KH", "BC", "CV", "TB", "QĐ")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def body_text(rng: random.Random, weights: list[float], *, common: bool, rare: bool) -> str:
    words = rng.choices(SYLLABLES, weights=weights, k=1100)  # ~5,000 characters
    if common:
        at = rng.randrange(len(words))
        words[at:at] = COMMON.split()
    if rare:
        words.insert(rng.randrange(len(words)), RARE)
    sentences, out = [], []
    for i, w in enumerate(words, start=1):
        out.append(w)
        if i % 18 == 0:
            sentences.append(" ".join(out).capitalize() + ".")
            out = []
    sentences.append(" ".join(out))
    return " ".join(sentences)


SENTENCES = 4000  # the pool of paragraphs the bodies are drawn from
PER_BODY = 10  # paragraphs of six ~18-word sentences: ~5,000 characters, about two A4 pages
SEARCH_INDEXES = {
    "ix_document_search_tsv": "CREATE INDEX ix_document_search_tsv ON document_search"
    " USING gin (organization_id, tsv)",
    "ix_document_search_meta": "CREATE INDEX ix_document_search_meta ON document_search"
    " USING gin (organization_id, meta gin_trgm_ops)",
    "ix_document_search_org_listed": "CREATE INDEX ix_document_search_org_listed"
    " ON document_search (organization_id, listed_at, document_id)",
    "ix_documents_search": "CREATE INDEX ix_documents_search ON documents"
    " USING gin (search_text gin_trgm_ops)",
}


def sentence(rng: random.Random, weights: list[float], extra: str | None = None) -> str:
    """A paragraph: six sentences of 18 words (``extra`` inserted in one of them)."""
    out = []
    for i in range(6):
        words = rng.choices(SYLLABLES, weights=weights, k=18)
        if extra and i == 3:
            at = rng.randrange(len(words))
            words[at:at] = extra.split()
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def populate(
    engine: Engine, docs: int, orgs: int, seed: int = 14
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """N documents over ``orgs`` organisations, generated in SQL (``generate_series``) from a
    pool of generated Vietnamese paragraphs: each body is 10 paragraphs drawn at random, a third
    of them with the common phrase, ten with the rare word. Rows of ``documents``,
    ``document_files``, ``file_texts`` and ``document_search`` (its weighted tsvector as the
    trigger computes it) are written in bulk with the triggers off; the indexes are built after
    the load. Returns the first organisation and all organisations."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(SYLLABLES))]
    rng.shuffle(weights)
    pool = [sentence(rng, weights) for _ in range(SENTENCES)]
    common = [sentence(rng, weights, COMMON) for _ in range(200)]
    rare = [sentence(rng, weights, RARE)]
    texts = pool + common + rare
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    org_ids = []
    with engine.begin() as c:
        for i in range(orgs):
            oid = new_id()
            c.execute(
                insert(Organization).values(
                    id=oid,
                    code=f"{i:03d}.00.00.Y99",
                    name=f"Tổ chức thử {i}",
                    abbreviation=f"T{i}",
                    path=f"/{oid.hex}/",
                    level="central",
                    active=True,
                )
            )
            org_ids.append(oid)
    steps = [
        "SET session_replication_role = replica",  # no triggers: the tsvector is built below
        "SET maintenance_work_mem = '1GB'",
        "SET synchronous_commit = off",
        # The bench's own database: the two big tables skip the WAL (reads are the same).
        "ALTER TABLE file_texts SET UNLOGGED",
        "ALTER TABLE document_search SET UNLOGGED",
        *[f"DROP INDEX IF EXISTS {name}" for name in SEARCH_INDEXES],
        # Each sentence's tsvector once; a body's is the concatenation of its sentences' (the
        # same lexemes and positions to_tsvector gives the whole text, parsed once per pool).
        "CREATE OR REPLACE AGGREGATE bench_tsv_agg(tsvector)"
        " (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '')",
        "CREATE UNLOGGED TABLE bench_pool (i int PRIMARY KEY, t text, f text, v tsvector)",
        "INSERT INTO bench_pool SELECT i, (CAST(:t AS text[]))[i], (CAST(:f AS text[]))[i],"
        " to_tsvector('simple', (CAST(:f AS text[]))[i])"
        " FROM generate_series(1, cardinality(CAST(:t AS text[]))) i",
        # Each document: its number, its id, the sentences of its body (1-based in the pool).
        "CREATE UNLOGGED TABLE bench_docs AS SELECT n, gen_random_uuid() AS id,"
        " gen_random_uuid() AS file_id,"
        " ARRAY(SELECT 1 + floor(random() * :pool)::int"
        "       FROM generate_series(1, :per_body) k WHERE n >= 0) AS picks"
        " FROM generate_series(0, :docs - 1) n",
        # A third carry the common phrase, ten the rare word.
        "UPDATE bench_docs SET picks[1 + n % :per_body] = :pool + 1 + n % 200"
        " WHERE random() < 0.33",
        "UPDATE bench_docs SET picks[1] = :pool + 201"
        " WHERE n IN (SELECT n FROM bench_docs ORDER BY md5(n::text) LIMIT 10)",
        """INSERT INTO documents (id, organization_id, direction, state, notation, doc_type,
             subject, issuer_name, received_at, registered_at, listed_at, urgency, urgency_rank,
             secrecy, secrecy_rank, source, search_text, created_at, updated_at, version)
           SELECT d.id, (CAST(:orgs_ids AS uuid[]))[1 + d.n % :orgs], 'incoming', 'registered',
             (d.n % 9000 + 1) || '/' || (CAST(:types AS text[]))[1 + (d.n / :orgs) % 5] || '-MTTW',
             (CAST(:types AS text[]))[1 + (d.n / :orgs) % 5], split_part(p.t, '.', 1),
             'Ủy ban MTTQ tỉnh',
             :now - d.n * interval '1 minute', :now - d.n * interval '1 minute',
             :now - d.n * interval '1 minute', 'normal', 0,
             CASE WHEN d.n % 50 = 7 THEN 'secret' ELSE 'none' END,
             CASE WHEN d.n % 50 = 7 THEN 2 ELSE 0 END, 'paper',
             lower((d.n % 9000 + 1) || '/' || (CAST(:folded_types AS text[]))[1 + (d.n / :orgs) % 5] || '-mttw')
               || ' | ' || split_part(p.f, '.', 1) || ' | uy ban mttq tinh',
             :now - d.n * interval '1 minute', :now - d.n * interval '1 minute', 1
           FROM bench_docs d JOIN bench_pool p ON p.i = d.picks[2]""",
        """INSERT INTO document_files (id, document_id, kind, version, name, size, sha256,
             content_type, object_key, created_at, text_status)
           SELECT d.file_id, d.id, 'main', 1, 'van-ban.pdf', 5000, md5(d.n::text) || md5(d.n::text),
             'application/pdf', 'sha256/' || md5(d.n::text), :now, 'done' FROM bench_docs d""",
        """INSERT INTO file_texts (file_id, document_id, method, language, text, pages,
             confidence, attempts, updated_at)
           SELECT d.file_id, d.id, 'text_layer', 'vi',
             (SELECT string_agg(p.t, ' ' ORDER BY u.k) FROM unnest(d.picks) WITH ORDINALITY u(i, k)
              JOIN bench_pool p ON p.i = u.i), '[]', 1.0, 1, :now
           FROM bench_docs d""",
        """INSERT INTO document_search (document_id, organization_id, secrecy_rank, listed_at,
             meta, body, tsv, updated_at)
           SELECT doc.id, doc.organization_id, doc.secrecy_rank, doc.listed_at, doc.search_text,
             b.body, setweight(to_tsvector('simple', doc.search_text), 'A')
               || setweight(b.tsv, 'B'), :now
           FROM (SELECT d.id, x.body, x.tsv FROM bench_docs d,
                 LATERAL (SELECT string_agg(p.f, ' ' ORDER BY u.k) AS body,
                                 bench_tsv_agg(p.v ORDER BY u.k) AS tsv
                          FROM unnest(d.picks) WITH ORDINALITY u(i, k)
                          JOIN bench_pool p ON p.i = u.i) x) b
           JOIN documents doc ON doc.id = b.id""",
        *SEARCH_INDEXES.values(),
        "DROP TABLE bench_docs",
        "DROP TABLE bench_pool",
        "DROP AGGREGATE bench_tsv_agg(tsvector)",
    ]
    params = {
        "t": texts,
        "f": [fold(t) for t in texts],
        "pool": SENTENCES,
        "per_body": PER_BODY,
        "docs": docs,
        "orgs": orgs,
        "orgs_ids": org_ids,
        "types": list(TYPES),
        "folded_types": [fold(t) for t in TYPES],
        "now": now,
    }
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        for step in steps:
            t = time.perf_counter()
            stmt = text(step)
            used = {k: v for k, v in params.items() if f":{k}" in step}
            c.execute(stmt, used)
            print(f"  {time.perf_counter() - t:7.1f} s  {' '.join(step.split())[:70]}", flush=True)
        c.execute(text("SET session_replication_role = origin"))  # triggers on again
        c.execute(text("VACUUM ANALYZE"))
    print(f"  loaded {docs:,} documents in {time.perf_counter() - started:.0f} s", flush=True)
    return org_ids[0], org_ids


def clerk_of(engine: Engine, org_id: uuid.UUID) -> Any:
    """An actor who sees the whole organisation (a clerk), as the API would load it."""
    from docflow import Actor
    from docflow.enums import Role, Secrecy

    return Actor(
        user_id=new_id(),
        username="vanthu.bench",
        full_name="Văn thư thử",
        organization_id=org_id,
        organization_path=f"/{org_id.hex}/",
        unit_id=None,
        roles=frozenset({Role.CLERK}),
        clearance=Secrecy.NONE,
    )


def measure(run: Callable[[], Any], n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return times


def _explain(engine: Engine, uow: Any, actor: Any, query: Any) -> None:
    """EXPLAIN ANALYZE of the statement the service runs for ``query`` (first page)."""
    from docflow.documents import queries as dq
    from docflow.search import queries as sq
    from docflow.search.commands import parse_query

    terms = parse_query(query.q)
    stmt = sq.ranking(actor, dq._filtered(actor, query), terms, exact=False)
    values = sq.ranking_values(terms, offset=0, limit=21)
    compiled = stmt.compile(engine, compile_kwargs={"render_postcompile": True})
    with engine.connect() as c:
        plan = (
            c.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", compiled.construct_params(values)
            )
            .scalars()
            .all()
        )
    print(f"  EXPLAIN {query.q!r}, the ranked page (one statement):")
    for line in plan:
        print("    " + line)


def ensure_rare(engine: Engine, org: uuid.UUID) -> None:
    """Ten documents of the measured organisation carry the rare word (idempotent)."""
    with engine.begin() as c:
        have = c.execute(
            text(
                "SELECT count(*) FROM document_search WHERE organization_id = :org"
                " AND tsv @@ to_tsquery('simple', :w)"
            ),
            {"org": org, "w": RARE},
        ).scalar_one()
        if have >= 10:
            return
        ids = (
            c.execute(
                text(
                    "SELECT document_id FROM document_search WHERE organization_id = :org"
                    " AND secrecy_rank = 0 ORDER BY md5(document_id::text) LIMIT :n"
                ),
                {"org": org, "n": 10 - have},
            )
            .scalars()
            .all()
        )
        for doc_id in ids:
            c.execute(
                text("UPDATE file_texts SET text = text || ' ' || :w WHERE document_id = :d"),
                {"w": f"Bơm {RARE} thủy lực.", "d": doc_id},
            )
            c.execute(
                text("UPDATE document_search SET body = body || ' ' || :w WHERE document_id = :d"),
                {"w": f"bom {RARE} thuy luc.", "d": doc_id},
            )


def notation_probe(engine: Engine, org: uuid.UUID, target: int) -> tuple[str, int]:
    """The part of a notation to search for: of "4321/BC", "321/BC", "21/BC" (each a tenth as
    specific as the next: the generated numbers repeat every 9,000 documents), the one whose
    number of matches in the measured organisation is nearest ``target``. So two sizes ten
    times apart compare queries with about the same number of matches ("321/BC" at the smaller,
    "4321/BC" at the larger) instead of ten times as many. Returns it and its match count."""
    counted = []
    with engine.connect() as c:
        for probe in ("4321/BC", "321/BC", "21/BC"):
            n = c.execute(
                text(
                    "SELECT count(*) FROM document_search WHERE organization_id = :org"
                    " AND secrecy_rank <= 0 AND meta LIKE :p"
                ),
                {"org": org, "p": f"%{fold(probe)}%"},
            ).scalar_one()
            counted.append((abs(n - target), probe, n))
    _, probe, n = min(counted)
    return probe, n


def bench_size(
    url: str,
    docs: int,
    orgs: int,
    queries: int,
    *,
    notation_hits: int = 60,
    reuse: bool = False,
    explain: bool = False,
    load_only: bool = False,
) -> dict[str, Any]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import sessionmaker

    from docflow import UnitOfWork
    from docflow.documents.queries import DocumentQuery, list_documents
    from docflow.uow import DomainConfig

    u = make_url(url)
    url = u.set(database=f"{u.database}_{docs}").render_as_string(hide_password=False)
    engine = create_engine(url)
    existing = 0
    if reuse:
        try:
            with engine.connect() as c:
                existing = c.execute(select(func.count()).select_from(Document)).scalar_one()
        except Exception:  # no such database yet
            existing = 0
    t = time.perf_counter()
    if reuse and existing == docs:
        with engine.connect() as c:
            org = c.execute(
                select(Organization.id).where(Organization.code == "000.00.00.Y99")
            ).scalar_one()
        load_s = 0.0
    else:
        engine.dispose()
        fresh_database(url)
        engine = create_engine(url)
        org, _ = populate(engine, docs, orgs)
        load_s = time.perf_counter() - t
    if load_only:
        engine.dispose()
        return {"docs": docs, "load_s": load_s}
    ensure_rare(engine, org)
    factory = sessionmaker(engine, expire_on_commit=False)
    uow = UnitOfWork(factory, config=DomainConfig(audit_reads=False))
    actor = clerk_of(engine, org)
    probe, matches = notation_probe(engine, org, notation_hits)
    cases: dict[str, DocumentQuery] = {
        "rare word": DocumentQuery(q=RARE),
        "common phrase": DocumentQuery(q=f'"{COMMON}"'),
        "notation": DocumentQuery(q=probe),
        "word + filter": DocumentQuery(
            q="giám sát",
            doc_type="BC",
            date_from=dt.date(2026, 10, 1),
            date_to=dt.date(2026, 12, 1),
        ),
    }
    baseline_sql = {
        "rare word": ([RARE], None),
        "common phrase": ([fold(COMMON)], None),
        "notation": ([fold(probe)], None),
        "word + filter": (["giam sat"], "BC"),
    }
    results: dict[str, Any] = {
        "docs": docs,
        "per_org": docs // orgs,
        "load_s": load_s,
        "probe": probe,
        "probe_matches": matches,
    }
    with engine.connect() as c:
        size = c.execute(
            text(
                "SELECT pg_relation_size('ix_document_search_tsv'),"
                " pg_relation_size('ix_document_search_meta'),"
                " pg_total_relation_size('document_search'),"
                " pg_relation_size('ix_documents_search')"
            )
        ).one()
    results["index_bytes_per_doc"] = size[0] / docs
    results["meta_bytes_per_doc"] = size[1] / docs
    results["table_bytes_per_doc"] = size[2] / docs
    results["trgm_bytes_per_doc"] = size[3] / docs
    for name, query in cases.items():
        found = list_documents(uow, actor, query)
        hits = len(found.items)
        list_documents(uow, actor, query)  # warm
        fast = measure(lambda q=query: list_documents(uow, actor, q), queries)
        if explain:
            _explain(engine, uow, actor, query)
        terms, dtype = baseline_sql[name]
        # The baseline: a plain ILIKE scan of the metadata and the folded body, visibility and
        # filter as conditions, newest first (what the box did before the index).
        like = " AND ".join(
            f"(d.search_text ILIKE :t{i} OR s.body ILIKE :t{i})" for i in range(len(terms))
        )
        sql = text(
            "SELECT d.id FROM documents d JOIN document_search s ON s.document_id = d.id"
            f" WHERE d.organization_id = :org AND d.secrecy_rank <= 0 AND {like}"
            + (
                " AND d.doc_type = :dt AND d.listed_at >= '2026-09-30 17:00Z'"
                " AND d.listed_at < '2026-12-01 17:00Z'"
                if dtype
                else ""
            )
            + " ORDER BY d.listed_at DESC LIMIT 21"
        )
        params: dict[str, Any] = {"org": org, "dt": dtype}
        params.update({f"t{i}": f"%{t}%" for i, t in enumerate(terms)})
        with engine.connect() as c:
            base_hits = len(c.execute(sql, params).all())
            slow = measure(
                lambda sql=sql, params=params: c.execute(sql, params).all(),
                max(5, queries // 10),
            )
        results[name] = {
            "hits": hits,
            "load": os.getloadavg()[0],
            "baseline_hits": base_hits,
            "p50": pct(fast, 0.5),
            "p95": pct(fast, 0.95),
            "base_p50": pct(slow, 0.5),
            "base_p95": pct(slow, 0.95),
        }
    engine.dispose()
    return results


def bench_ocr(pages: int) -> None:
    from app.ocr import OcrMyPdfRecognizer, ocr_available
    from app.sandbox import Sandbox

    if not ocr_available():
        print("OCR: ocrmypdf / tesseract-ocr-vie not installed, skipped")
        return
    import io

    from PIL import Image

    from tests.search.files import BODY, scan_image

    lines = (BODY * 6)[:24]
    images = [scan_image(lines, angle=0.5 + i * 0.3) for i in range(pages)]
    out = io.BytesIO()
    first: Image.Image = images[0]  # type: ignore[assignment]
    first.save(out, "PDF", resolution=300, save_all=True, append_images=images[1:])
    engine = OcrMyPdfRecognizer(Sandbox(os.environ.get("DHTN_SANDBOX", "bwrap")), timeout=1800)
    t = time.perf_counter()
    result = engine.recognize(out.getvalue(), "application/pdf")
    wall = time.perf_counter() - t
    ok = sum("phản biện" in p for p in result.pages)
    print(
        f"OCR: {pages} A4 pages at 300 dpi in {wall:.1f} s → {pages / wall * 60:.1f} pages/min on"
        f" one core (--jobs 1); {ok}/{pages} pages read back the common phrase;"
        f" load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, action="append", help="repeatable; default 10k, 100k")
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--ocr-pages", type=int, default=3)
    parser.add_argument("--url", default=os.environ.get("DHTN_BENCH_SEARCH_URL", DEFAULT_URL))
    parser.add_argument(
        "--keep",
        "--reuse",
        dest="keep",
        action="store_true",
        help="reuse the database of each size when it already holds --docs documents",
    )
    parser.add_argument(
        "--notation-hits",
        type=int,
        default=60,
        help="the notation query searches the part of a notation with about this many matches"
        " in each dataset (so the sizes compare like with like); default 60",
    )
    parser.add_argument("--quick", action="store_true", help="10,000 documents (make bench)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE")
    parser.add_argument(
        "--load-only", action="store_true", help="generate the databases (with --keep), no query"
    )
    args = parser.parse_args()
    sizes = args.docs or ([10_000] if args.quick else [100_000, 1_000_000])
    if args.quick:
        args.queries = min(args.queries, 30)
        args.ocr_pages = min(args.ocr_pages, 1)
    rows = []
    for n in sizes:
        print(f"{n:,} documents over {args.orgs} organisations …", flush=True)
        rows.append(
            bench_size(
                args.url,
                n,
                args.orgs,
                args.queries,
                reuse=args.keep,
                explain=args.explain,
                load_only=args.load_only,
                notation_hits=args.notation_hits,
            )
        )
    if args.load_only:
        return
    print()
    print(
        "documents  per org  query           rows  p50 ms  p95 ms | ILIKE p50 ILIKE p95 ratio p95"
        " | load"
    )
    for r in rows:
        for name in ("rare word", "common phrase", "notation", "word + filter"):
            m = r[name]
            print(
                f"{r['docs']:>9,}  {r['per_org']:>7,}  {name:<14} {m['hits']:>5}  {m['p50']:>6.1f}"
                f"  {m['p95']:>6.1f} | {m['base_p50']:>8.1f}  {m['base_p95']:>8.1f}"
                f"  {m['base_p95'] / max(m['p95'], 1e-9):>8.1f}× | {m['load']:.1f}"
            )
        print(
            f"{r['docs']:>9,}  notation probe {r['probe']!r}: {r['probe_matches']} matches in the"
            " organisation (rows: those on the first page)"
        )
        print(
            f"{r['docs']:>9,}  index: GIN (org, tsvector) {r['index_bytes_per_doc']:.0f} B/doc,"
            f" trigram (org, meta) {r['meta_bytes_per_doc']:.0f} B/doc,"
            f" document_search with TOAST {r['table_bytes_per_doc']:.0f} B/doc, trigram on"
            f" metadata {r['trgm_bytes_per_doc']:.0f} B/doc; loaded in {r['load_s']:.0f} s"
        )
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        for name in ("rare word", "common phrase", "notation", "word + filter"):
            growth = b[name]["p95"] / max(a[name]["p95"], 1e-9)
            print(f"growth {a['docs']:,} → {b['docs']:,}: {name} p95 ×{growth:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MB")
    if args.ocr_pages:
        bench_ocr(args.ocr_pages)


if __name__ == "__main__":
    main()
