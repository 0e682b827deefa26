"""Bulk data for the load test: the national tree, its people, and a year of documents, inbox
rows, tasks and notifications, written with set-based SQL (``INSERT … SELECT generate_series``)
on PostgreSQL in a minute or two.

A stand-in until ``dhtn demo seed --national`` lands (the onboarding issue); it runs on top of
``dhtn demo seed`` (the three demo organisations and their accounts), and adds:

- the tree: 34 provinces × ``communes`` communes under the demo central committee (codes with
  the letter Y, which no real organisation has), each with two units and ``users_per_org``
  people (the demo password's hash, so any of them can sign in);
- the load test's accounts in the demo central committee: ``loadclerk.N`` (văn thư),
  ``loadleader.N`` (lãnh đạo, unit BTT) and ``loadspec.N`` (chuyên viên, unit DCGSPBXH);
- ``documents`` incoming documents of the past year spread over every organisation, most of
  them closed (``done``), with a lead assignment each (the inbox rows), a task for one in four,
  and two notifications each for the people concerned. A share (``demo_share``) lands in the
  demo central committee, assigned to the load accounts, so that their boxes, searches and
  notifications run over an archive that grows with ``documents``; the open tail stays small
  (what a person has on the desk does not grow with the archive);
- the statistics roll-up of all that, built as ``dhtn reports rebuild`` does.

    python -m bench.load.generate --database-url URL [--documents N] [--communes N] …
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

from docflow import UnitOfWork, make_engine, make_session_factory
from docflow.reports.rollup import rebuild_all

CENTRAL = "000.00.00.Z01"


@dataclass(frozen=True)
class Size:
    documents: int = 1_000_000
    communes: int = 98  # per province: 34 × 98 = 3,332 communes (3,321 in the real tree)
    users_per_org: int = 80  # ≈ 277,000 people over the tree
    clerks: int = 20
    leaders: int = 30
    specialists: int = 150
    demo_share: float = 0.05
    open_per_person: int = 15  # documents still open on each load account's desk

    def scaled(self, fraction: float) -> Size:
        return Size(
            documents=max(1000, int(self.documents * fraction)),
            communes=self.communes,
            users_per_org=self.users_per_org,
            clerks=self.clerks,
            leaders=self.leaders,
            specialists=self.specialists,
            demo_share=self.demo_share,
            open_per_person=self.open_per_person,
        )


TREE = """
CREATE TEMP TABLE gen_orgs ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, p, NULL::int AS c, 'province' AS level
FROM generate_series(1, 34) p;
INSERT INTO gen_orgs
SELECT gen_random_uuid(), p, c, 'commune' FROM generate_series(1, 34) p,
     generate_series(1, :communes) c;
INSERT INTO organizations (id, parent_id, level, name, abbreviation, code, path, active, created_at)
SELECT g.id, root.id, 'province', 'Ủy ban MTTQ Việt Nam tỉnh Tải ' || g.p, 'MTTQ',
       '000.00.' || lpad((g.p + 10)::text, 2, '0') || '.Y01',
       root.path || g.id::text || '/', true, now()
FROM gen_orgs g, organizations root
WHERE g.level = 'province' AND root.code = :central;
INSERT INTO organizations (id, parent_id, level, name, abbreviation, code, path, active, created_at)
SELECT g.id, prov.id, 'commune', 'Ủy ban MTTQ Việt Nam xã Tải ' || g.p || '-' || g.c, 'MTTQ',
       lpad((g.p + 10)::text, 3, '0') || '.' || lpad(g.c::text, 2, '0') || '.'
           || lpad(((g.c - 1) / 99 + 1)::text, 2, '0') || '.Y01',
       prov_org.path || g.id::text || '/', true, now()
FROM gen_orgs g JOIN gen_orgs prov ON prov.level = 'province' AND prov.p = g.p
JOIN organizations prov_org ON prov_org.id = prov.id
WHERE g.level = 'commune';
INSERT INTO units (id, organization_id, name, abbreviation, active, created_at)
SELECT gen_random_uuid(), g.id, u.name, u.abbr, true, now()
FROM gen_orgs g, (VALUES ('Ban Thường trực', 'BTT'), ('Văn phòng', 'VP')) AS u(name, abbr);
INSERT INTO users (id, organization_id, unit_id, username, full_name, position, password_hash,
                   clearance, active, created_at)
SELECT gen_random_uuid(), g.id, unit.id,
       'tai.' || g.p || '.' || coalesce(g.c, 0) || '.' || n,
       'Người dùng ' || g.p || '-' || coalesce(g.c, 0) || '-' || n, 'Chuyên viên',
       (SELECT password_hash FROM users WHERE username = 'vanthu.tw'), 'none', true, now()
FROM gen_orgs g
JOIN units unit ON unit.organization_id = g.id AND unit.abbreviation = 'VP',
generate_series(1, :users_per_org) n;
INSERT INTO user_roles (user_id, role)
SELECT u.id, CASE WHEN u.username LIKE '%.1' THEN 'clerk'
                  WHEN u.username LIKE '%.2' THEN 'leader' ELSE 'specialist' END
FROM users u JOIN gen_orgs g ON g.id = u.organization_id;
INSERT INTO registers (id, organization_id, direction, year, name, secret_series, last_number,
                       active, created_at)
SELECT gen_random_uuid(), g.id, 'incoming', extract(year FROM now())::int, 'Sổ văn bản đến',
       false, 0, true, now()
FROM gen_orgs g;
"""

LOAD_ACCOUNTS = """
INSERT INTO users (id, organization_id, unit_id, username, full_name, position, password_hash,
                   clearance, active, created_at)
SELECT gen_random_uuid(), org.id, unit.id, a.prefix || n, a.title || ' tải ' || n, a.title,
       (SELECT password_hash FROM users WHERE username = 'vanthu.tw'), 'none', true, now()
FROM organizations org,
     (VALUES ('loadclerk.', 'Văn thư', 'VP', :clerks),
             ('loadleader.', 'Phó Chủ tịch', 'BTT', :leaders),
             ('loadspec.', 'Chuyên viên', 'DCGSPBXH', :specialists)) AS a(prefix, title, unit, k)
JOIN LATERAL generate_series(1, a.k) n ON true
JOIN units unit ON unit.abbreviation = a.unit
WHERE org.code = :central AND unit.organization_id = org.id;
INSERT INTO user_roles (user_id, role)
SELECT id, CASE WHEN username LIKE 'loadclerk.%' THEN 'clerk'
                WHEN username LIKE 'loadleader.%' THEN 'leader' ELSE 'specialist' END
FROM users WHERE username ~ '^load(clerk|leader|spec)\\.';
"""

# One row per document: which organisation, register, and people; then documents,
# assignments (inbox rows), tasks and notifications from it.
DOCUMENTS = """
CREATE TEMP TABLE gen_people ON COMMIT DROP AS
SELECT o.id AS org_id, r.id AS register_id,
       (SELECT array_agg(u.id ORDER BY u.username) FROM users u JOIN user_roles ur
          ON ur.user_id = u.id AND ur.role = 'specialist' WHERE u.organization_id = o.id) AS specs,
       (SELECT array_agg(u.id ORDER BY u.username) FROM users u JOIN user_roles ur
          ON ur.user_id = u.id AND ur.role = 'leader' WHERE u.organization_id = o.id) AS leaders,
       row_number() OVER (ORDER BY o.code) AS k
FROM organizations o
JOIN registers r ON r.organization_id = o.id AND r.direction = 'incoming'
     AND r.year = extract(year FROM now())::int AND NOT r.secret_series
WHERE o.code LIKE '%.Y01';
CREATE TEMP TABLE gen_demo ON COMMIT DROP AS
SELECT o.id AS org_id, r.id AS register_id,
       (SELECT array_agg(id ORDER BY username) FROM users WHERE username LIKE 'loadspec.%') AS specs,
       (SELECT array_agg(id ORDER BY username) FROM users WHERE username LIKE 'loadleader.%') AS leaders
FROM organizations o JOIN registers r ON r.organization_id = o.id AND r.direction = 'incoming'
     AND r.year = extract(year FROM now())::int AND NOT r.secret_series
WHERE o.code = :central
LIMIT 1;
CREATE TEMP TABLE gen_docs ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, n,
       (n <= :demo_count) AS demo,
       now() - ((:documents - n) * interval '365 days' / :documents) AS at
FROM generate_series(1, :documents) n;
ANALYZE gen_docs;
ALTER TABLE gen_docs ADD COLUMN org_id uuid, ADD COLUMN register_id uuid,
    ADD COLUMN spec uuid, ADD COLUMN leader uuid, ADD COLUMN number int;
UPDATE gen_docs d SET org_id = g.org_id, register_id = g.register_id,
       spec = g.specs[1 + d.n % array_length(g.specs, 1)],
       leader = g.leaders[1 + d.n % array_length(g.leaders, 1)]
FROM gen_demo g WHERE d.demo;
UPDATE gen_docs d SET org_id = p.org_id, register_id = p.register_id,
       spec = p.specs[1 + d.n % array_length(p.specs, 1)],
       leader = p.leaders[1 + d.n % array_length(p.leaders, 1)]
FROM gen_people p WHERE NOT d.demo AND p.k = 1 + d.n % :people;
UPDATE gen_docs d SET number = s.rn + coalesce(r.last_number, 0)
FROM (SELECT id, row_number() OVER (PARTITION BY register_id ORDER BY n) AS rn FROM gen_docs) s,
     registers r
WHERE s.id = d.id AND r.id = d.register_id;
INSERT INTO documents (id, organization_id, direction, state, register_id, register_number,
    notation, doc_type, subject, issuer_name, issued_date, received_at, registered_at, listed_at,
    urgency, urgency_rank, secrecy, secrecy_rank, source, search_text, created_at, updated_at,
    version, due_date)
SELECT d.id, d.org_id, 'incoming', 'done', d.register_id, d.number,
       d.number || '/KH-T' || (d.n % 97), 'KH', s.subject, 'Ủy ban MTTQ xã ' || (d.n % 500),
       d.at::date, d.at, d.at, d.at,
       CASE WHEN d.n % 20 = 0 THEN 'urgent' ELSE 'normal' END,
       CASE WHEN d.n % 20 = 0 THEN 1 ELSE 0 END, 'none', 0, 'paper',
       lower(d.number || '/kh-t' || (d.n % 97) || ' ' || s.plain || ' uy ban mttq xa ' || (d.n % 500)),
       d.at, d.at, 1, (d.at + interval '10 days')::date
FROM gen_docs d
CROSS JOIN LATERAL (SELECT
    (ARRAY['Kế hoạch', 'Báo cáo', 'Công văn về việc', 'Thông báo', 'Hướng dẫn'])[1 + d.n % 5]
    || ' ' || (ARRAY['tổ chức hội nghị', 'giám sát và phản biện xã hội', 'xây dựng nông thôn mới',
                     'chuyển đổi số', 'an sinh xã hội', 'Ngày hội Đại đoàn kết toàn dân tộc',
                     'cuộc vận động', 'công tác dân vận'])[1 + (d.n / 5) % 8]
    || ' năm ' || extract(year FROM d.at)::int || ' số ' || d.n AS subject,
    (ARRAY['ke hoach', 'bao cao', 'cong van ve viec', 'thong bao', 'huong dan'])[1 + d.n % 5]
    || ' ' || (ARRAY['to chuc hoi nghi', 'giam sat va phan bien xa hoi', 'xay dung nong thon moi',
                     'chuyen doi so', 'an sinh xa hoi', 'ngay hoi dai doan ket toan dan toc',
                     'cuoc van dong', 'cong tac dan van'])[1 + (d.n / 5) % 8]
    || ' nam ' || extract(year FROM d.at)::int || ' so ' || d.n AS plain) s;
UPDATE registers r SET last_number = m.top FROM (
    SELECT register_id, max(number) AS top FROM gen_docs GROUP BY register_id) m
WHERE r.id = m.register_id;
INSERT INTO assignments (id, document_id, role, user_id, due_date, state, assigned_by_id,
                         assigned_at, completed_at, finished_on)
SELECT gen_random_uuid(), d.id, 'lead', d.spec, (d.at + interval '10 days')::date, 'done',
       d.leader, d.at, d.at + interval '2 days', (d.at + interval '2 days')::date
FROM gen_docs d WHERE d.spec IS NOT NULL AND d.leader IS NOT NULL;
INSERT INTO tasks (id, organization_id, document_id, title, description, priority, state,
                   assigner_id, lead_user_id, due_date, original_due_date, progress, created_at,
                   completed_at, trail_seq)
SELECT gen_random_uuid(), d.org_id, d.id, 'Thực hiện văn bản số ' || d.number, '', 'normal',
       'done', d.leader, d.spec, (d.at + interval '15 days')::date,
       (d.at + interval '15 days')::date, 100, d.at, d.at + interval '5 days', 0
FROM gen_docs d WHERE d.n % 4 = 0 AND d.spec IS NOT NULL AND d.leader IS NOT NULL;
INSERT INTO notifications (id, user_id, kind, title, body, link, created_at, read_at)
SELECT gen_random_uuid(), who.user_id, who.kind, 'Văn bản số ' || d.number, '',
       '/documents/' || d.id, d.at, d.at + interval '1 hour'
FROM gen_docs d CROSS JOIN LATERAL (VALUES (d.leader, 'incoming.submitted'),
                                           (d.spec, 'incoming.assigned')) AS who(user_id, kind)
WHERE who.user_id IS NOT NULL;
"""

# What is still on each load account's desk: submitted to a leader, assigned to a specialist.
OPEN_TAIL = """
WITH leaders AS (SELECT id, row_number() OVER (ORDER BY username) AS k FROM users
                 WHERE username LIKE 'loadleader.%'),
     picked AS (SELECT d.id, row_number() OVER (ORDER BY d.listed_at DESC) AS rn
                FROM documents d JOIN organizations o ON o.id = d.organization_id
                WHERE o.code = :central AND d.state = 'done' AND d.notation LIKE '%/KH-T%'
                ORDER BY d.listed_at DESC LIMIT :open_leaders)
UPDATE documents d SET state = 'submitted', submitted_to_id = l.id
FROM picked p JOIN leaders l ON l.k = 1 + p.rn % (SELECT count(*) FROM leaders)
WHERE d.id = p.id;
WITH picked AS (SELECT d.id FROM documents d JOIN organizations o ON o.id = d.organization_id
                WHERE o.code = :central AND d.state = 'done' AND d.notation LIKE '%/KH-T%'
                ORDER BY d.listed_at DESC LIMIT :open_specs)
UPDATE documents d SET state = 'assigned' FROM picked p WHERE d.id = p.id;
UPDATE assignments a SET state = 'pending', completed_at = NULL, finished_on = NULL
FROM documents d WHERE d.id = a.document_id AND d.state = 'assigned'
     AND d.notation LIKE '%/KH-T%';
"""


def generate(url: str, size: Size, *, log: bool = True) -> dict[str, float]:
    engine = make_engine(url)
    timings: dict[str, float] = {}
    params = {
        "central": CENTRAL,
        "communes": size.communes,
        "users_per_org": size.users_per_org,
        "clerks": size.clerks,
        "leaders": size.leaders,
        "specialists": size.specialists,
        "documents": size.documents,
        "demo_count": int(size.documents * size.demo_share),
        "open_leaders": size.leaders * size.open_per_person,
        "open_specs": size.specialists * size.open_per_person,
    }
    params["people"] = 34 + 34 * size.communes  # the generated organisations
    for name, sql in (
        ("tree", TREE),
        ("accounts", LOAD_ACCOUNTS),
        ("documents", DOCUMENTS),
        ("open", OPEN_TAIL),
    ):
        t0 = time.perf_counter()
        _run(engine, sql, params)
        timings[name] = time.perf_counter() - t0
        if log:
            print(f"  generated {name} in {timings[name]:.1f} s", flush=True)
    # The statistics roll-up built, as in an installation that has run for a year: without
    # it, the first refresh of each busy organisation during the measured run inserted its
    # whole year of rows (20,000 for the demo committee at 200,000 documents), and the other
    # messages of that organisation waited for its lock.
    t0 = time.perf_counter()
    rebuild_all(UnitOfWork(make_session_factory(engine)))
    timings["rollup"] = time.perf_counter() - t0
    if log:
        print(f"  built the statistics roll-up in {timings['rollup']:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return timings


def _run(engine: Engine, sql: str, params: dict[str, object]) -> None:
    with engine.begin() as conn:
        for statement in sql.split(";\n"):
            if statement.strip():
                used = {k: v for k, v in params.items() if f":{k}" in statement}
                conn.execute(text(statement), used)


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in (
            "organizations",
            "users",
            "documents",
            "assignments",
            "tasks",
            "notifications",
        ):
            out[table] = int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--documents", type=int, default=Size.documents)
    parser.add_argument("--communes", type=int, default=Size.communes)
    parser.add_argument("--users-per-org", type=int, default=Size.users_per_org)
    args = parser.parse_args()
    size = Size(documents=args.documents, communes=args.communes, users_per_org=args.users_per_org)
    generate(args.database_url, size)
    print(counts(args.database_url))


if __name__ == "__main__":
    main()
