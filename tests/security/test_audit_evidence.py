"""The audit log as evidence (issue 11): reads and refusals are logged, the admin reads and
exports the organisation's own log, the chain is keyed, and signed checkpoints in the object
store (S3 here) catch what someone with write access to the database does to the log.

Everything runs through the public API against PostgreSQL and the S3 server of the test
services; tampering is done with plain SQL, as an insider with database access would.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from docflow import audit
from docflow.directory import CreateRegister
from docflow.enums import Direction
from docflow.models import AuditChainHead, AuditEntry, AuditPendingRead
from signing.testpki import (
    OrgSpec,
    generate_demo_pki,
)
from tests.conftest import Clock, Demo, make_test_settings
from tests.incoming.conftest import Incoming
from tests.pdfs import make_pdf
from tests.storage.conftest import s3_url  # noqa: F401  (fixture)
from tests.storage.helpers import with_prefix

pytestmark = [pytest.mark.pg, pytest.mark.s3]


@pytest.fixture(scope="session")
def seal_pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo PKI holding the demo organisations' seal keys (no people: faster)."""
    from docflow.demo import DEMO_ORGS

    directory = tmp_path_factory.mktemp("audit-pki") / "pki"
    generate_demo_pki(
        directory,
        organizations=[OrgSpec(code=o.code_prefix + "Z01", name=o.name) for o in DEMO_ORGS],
        users=[],
    )
    return directory


@pytest.fixture
def app(
    tmp_path: Path,
    pg_url: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    demo: Demo,
    seal_pki_dir: Path,
    s3_url: str,  # noqa: F811
) -> Iterator[Any]:
    """The app on PostgreSQL, with its objects (and so its checkpoints) on S3 under a fresh
    prefix, and the demo seal keys in its data dir."""
    from app import create_app
    from app.runtime import runtime
    from storage.s3 import S3Backend

    shutil.copytree(seal_pki_dir, tmp_path / "data" / "pki")
    settings = make_test_settings(
        tmp_path, pg_url, storage_url=with_prefix(s3_url, f"audit-{uuid.uuid4().hex[:12]}")
    )
    flask_app = create_app(settings, session_factory=session_factory, clock=clock)
    flask_app.config.update(TESTING=True)
    yield flask_app
    backend = runtime(flask_app).store.backend
    assert isinstance(backend, S3Backend)
    for obj in backend.client.list_objects(backend.bucket, prefix=backend.prefix, recursive=True):
        if obj.object_name:
            backend.client.remove_object(backend.bucket, obj.object_name)


@pytest.fixture
def raw_rt(app: Any) -> Any:
    """The app's runtime; the demo seed's entries are still unkeyed (as after an upgrade)."""
    from app.runtime import runtime

    return runtime(app)


@pytest.fixture
def rt(raw_rt: Any) -> Any:
    """The runtime after the first checkpoint job sealed the seed's unkeyed chains."""
    audit.seal_unkeyed_chains(raw_rt.uow())
    return raw_rt


@pytest.fixture
def flow(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


def _log(flow: Incoming, username: str = "admin", **params: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    r = flow.client.get(f"/api/v1/audit?{query}", headers=flow.h(username))
    assert r.status_code == 200, r.get_json()
    items: list[dict[str, Any]] = r.get_json()["items"]
    return items


def _verify(rt: Any, session_factory: sessionmaker[Session]) -> audit.AuditReport:
    """What ``dhtn audit verify`` does: chain what is waiting, then check everything."""
    from app.pki import trust_settings

    audit.chain_all_pending(rt.uow())
    with session_factory() as s:
        return audit.verify(
            s,
            key=rt.config.audit_key,
            checkpoints=audit.BackendCheckpoints(rt.store),
            trust=trust_settings(rt.settings),
        )


# --- reads, refusals, searches, verifications -------------------------------------------------


def test_opening_downloading_printing_and_exporting_are_logged(flow: Incoming, rt: Any) -> None:
    doc = flow.register().get_json()
    file_id = doc["files"][0]["id"]
    h = flow.h("vanthu.tw")
    assert flow.get("vanthu.tw", doc["id"]).status_code == 200
    r = flow.client.get(f"/api/v1/documents/{doc['id']}/files/{file_id}/content", headers=h)
    assert r.status_code == 200
    assert flow.client.get(f"/api/v1/documents/{doc['id']}/slip", headers=h).status_code == 200
    reg = doc["register"]["id"]
    r = flow.client.get(f"/api/v1/reports/registers/{reg}?format=xlsx", headers=h)
    assert r.status_code == 200
    r = flow.client.get(
        "/api/v1/reports/processing?from=2026-11-01&to=2026-11-30&format=xlsx",
        headers=flow.h("lanhdao.tw"),
    )
    assert r.status_code == 200

    on_doc = _log(flow, object_id=doc["id"])
    clerk = str(flow.demo.user("vanthu.tw").id)
    events = {(e["event"], (e["actor"] or {}).get("id")) for e in on_doc}
    assert ("document.read", clerk) in events
    assert ("document.slip_printed", clerk) in events
    on_file = _log(flow, object_id=file_id)
    assert [e["event"] for e in on_file] == ["document.file_read"]
    assert on_file[0]["details"]["document_id"] == doc["id"]
    assert on_file[0]["chain"] == f"{flow.demo.org_id('tw')}/reads"
    assert on_file[0]["version"] == 2
    assert [e["event"] for e in _log(flow, object_id=reg)] == ["register.exported"]
    stats = _log(flow, event="report.processing_read")
    assert [e["actor"]["name"] for e in stats] == ["Lê Văn Minh"]
    # The log never copies what was read: no subject, no file name.
    everything = json.dumps(_log(flow, limit="200"), ensure_ascii=False)
    assert doc["subject"] not in everything and "Kế hoạch.pdf" not in everything


def test_a_refused_attempt_is_logged_with_the_object_asked_for(
    flow: Incoming, session_factory: sessionmaker[Session]
) -> None:
    doc = flow.register().get_json()
    flow.h("chuyenvien.tg"), flow.h("admin")  # sign in first: logins are changes

    def changes() -> int | None:
        with session_factory() as s:
            return s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.chain.not_like("%/reads"))
            )

    before = changes()
    # A specialist of another unit, not involved: 404, and nothing of the document leaks.
    r = flow.get("chuyenvien.tg", doc["id"])
    assert r.status_code == 404 and doc["subject"].encode() not in r.data
    stranger = str(uuid.uuid4())
    r = flow.client.get(
        f"/api/v1/documents/{doc['id']}/files/{stranger}/content", headers=flow.h("chuyenvien.tg")
    )
    assert r.status_code == 404
    # Not an admin: the log itself is refused (403), and that is logged too.
    assert flow.client.get("/api/v1/audit", headers=flow.h("chuyenvien.tg")).status_code == 403

    refused = _log(flow, event="access.refused")
    lan = str(flow.demo.user("chuyenvien.tg").id)
    on_doc = [(e["object_type"], e["object_id"], e["details"]["status"]) for e in refused]
    assert on_doc.count(("document", doc["id"], 404)) == 2
    assert (None, None, 403) in on_doc
    assert all(e["actor"]["id"] == lan for e in refused)
    codes = sorted(e["details"]["code"] for e in refused)
    assert codes == ["document_not_found", "document_not_found", "forbidden"], codes
    assert any(e["details"]["path"] == "/api/v1/audit" for e in refused)
    # Refusals are reads: they did not touch the organisation's change chain.
    assert changes() == before
    assert all(e["chain"].endswith("/reads") for e in refused)


def test_a_search_that_returns_secret_items_is_logged_and_others_are_not(
    flow: Incoming, demo: Demo
) -> None:
    from docflow import directory

    directory.create_register(
        demo.uow(),
        demo.actor("admin"),
        CreateRegister(
            organization_id=demo.org_id("tw"),
            direction=Direction.INCOMING,
            year=2026,
            name="Sổ văn bản đến mật",
            secret_series=True,
        ),
    )
    # Raising a clearance needs a second admin (two-person rule): asked and approved.
    from docflow.enums import Secrecy
    from tests.security.test_clearance import set_clearance

    set_clearance(demo, "vanthu.tw", Secrecy.SECRET)
    flow._tokens.clear()
    secret = flow.register(
        secrecy="confidential", files=[], page_count=2, subject="Phương án bảo vệ hội nghị"
    ).get_json()
    assert "id" in secret, secret
    plain = flow.register(
        subject="Phương án tổ chức hội nghị công khai", notation="61/KH-MTTW-BTT"
    ).get_json()
    # The cleared leader's search returns the secret document: logged with its id.
    assert secret["id"] in flow.box("lanhdao.tw", "all", q="phuong an")
    # An uncleared specialist finds nothing secret: nothing logged for that search.
    flow.box("chuyenvien.dcgs", "all", q="phuong an")
    searches = _log(flow, event="documents.searched")
    assert len(searches) == 1, searches
    assert searches[0]["actor"]["name"] == "Lê Văn Minh"
    assert searches[0]["details"]["secret_ids"] == [secret["id"]]
    assert plain["id"] not in json.dumps(searches)


def test_a_public_verification_is_logged_without_the_clients_address(
    client: Any, rt: Any, session_factory: sessionmaker[Session]
) -> None:
    pdf = make_pdf(title="kiểm tra công khai")
    r = client.post(
        "/api/v1/verifications",
        data={"file": (io.BytesIO(pdf), "x.pdf")},
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert r.status_code == 200
    assert audit.chain_all_pending(rt.uow()) >= 1
    with session_factory() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.event == "verification")).one()
    assert entry.chain == "system/reads"
    assert entry.object_id == hashlib.sha256(pdf).hexdigest()
    assert entry.details["summary"] == r.get_json()["summary"]
    client_hash = entry.details["client"]
    assert len(client_hash) == 32 and "203.0.113" not in json.dumps(entry.details)
    assert entry.ip is None


def test_reads_wait_unchained_until_the_job_and_then_verify(
    flow: Incoming, rt: Any, session_factory: sessionmaker[Session]
) -> None:
    from app.jobs import JOBS

    doc = flow.register().get_json()
    flow.get("lanhdao.tw", doc["id"])
    leader = flow.demo.user("lanhdao.tw").id
    with session_factory() as s:
        pending = s.scalars(select(AuditPendingRead).order_by(AuditPendingRead.id)).all()
        chained_before = s.scalar(select(func.count()).select_from(AuditEntry))
        unchained = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))
        )
    assert unchained  # the registration's own entries wait too
    # The registration's answer is not a read of the document (the registration is recorded);
    # the leader opening it is.
    assert [(p.event, p.actor_id) for p in pending] == [("document.read", leader)]
    assert JOBS["audit_chain_reads"].run(rt) == len(pending) + unchained
    with session_factory() as s:
        assert s.scalars(select(AuditPendingRead)).all() == []
        assert s.scalar(select(func.count()).where(AuditEntry.seq.is_(None))) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == chained_before + len(
            pending
        )
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.event == "document.read", AuditEntry.actor_id == leader
            )
        ).one()
    assert entry.object_id == doc["id"] and entry.version == 2
    report = _verify(rt, session_factory)
    assert report.ok, report.problems


# --- the admin's page, the API, the export ----------------------------------------------------


def test_only_admins_read_the_log_and_only_their_own_organisation(
    flow: Incoming, demo: Demo
) -> None:
    flow.register()
    for i in range(5):
        uow = demo.uow()
        with uow:
            audit.record(uow, "test.other_org", actor=demo.actor("vanthu.tinh"), details={"i": i})
            uow.commit()
    assert flow.client.get("/api/v1/audit", headers=flow.h("vanthu.tw")).status_code == 403
    mine = _log(flow, limit="200")
    assert mine and all(e["chain"].startswith(str(demo.org_id("tw"))) for e in mine)
    assert not any(e["event"] == "test.other_org" for e in mine)
    # Keyset pages: newest first, no overlap, no gap.
    first = flow.client.get("/api/v1/audit?limit=2", headers=flow.h("admin")).get_json()
    second = flow.client.get(
        f"/api/v1/audit?limit=2&cursor={first['next_cursor']}", headers=flow.h("admin")
    ).get_json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == [e["id"] for e in mine[:4]]
    r = flow.client.get("/api/v1/audit?from=2026-12-01&to=2026-11-01", headers=flow.h("admin"))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_field"
    spec = flow.client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/audit" in spec["paths"]


def test_the_admin_page_filters_in_vietnamese(flow: Incoming, client: Any) -> None:
    doc = flow.register().get_json()
    flow.get("vanthu.tw", doc["id"])
    from tests.app.test_pages import login

    assert login(client, "admin").status_code == 302
    page = client.get(f"/admin/audit?object_id={doc['id']}&event=document.read")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Nhật ký kiểm tra của tổ chức" in html and "Mở văn bản" in html
    assert "Trần Thị Thu" in html
    assert "Đăng nhập" not in html.split("<tbody>")[1]  # filtered to the event asked for
    other = client.get("/admin/audit?event=document.slip_printed").get_data(as_text=True)
    assert "Không có bản ghi nào." in other


def test_the_export_writes_hostile_text_as_text(flow: Incoming, demo: Demo) -> None:
    hostile = '=HYPERLINK("http://127.0.0.1:9/x","bấm")'
    uow = demo.uow()
    with uow:
        audit.record(
            uow,
            "test.hostile",
            actor=demo.actor("vanthu.tw"),
            object_type="document",
            object_id="@SUM(1+1)",
            details={"comment": hostile, "other": "+1-1"},
        )
        uow.commit()
    r = flow.client.get("/api/v1/audit?format=xlsx&event=test.hostile", headers=flow.h("admin"))
    assert r.status_code == 200 and r.data[:2] == b"PK"
    ws = load_workbook(io.BytesIO(r.data)).active
    assert ws is not None
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == 1
    cells = {c.value: c for c in rows[0]}
    assert "@SUM(1+1)" in cells and cells["@SUM(1+1)"].data_type == "s"
    details = next(c for c in rows[0] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert details.data_type == "s"
    assert all(c.data_type == "s" for c in rows[0] if c.value not in (None, ""))
    # The export itself is in the log.
    assert [e["details"]["rows"] for e in _log(flow, event="audit.exported")] == [1]


# --- keyed chain and checkpoints ----------------------------------------------------------------


def _org_chain(demo: Demo) -> str:
    return str(demo.org_id("tw"))


def _some_history(flow: Incoming, n: int = 3) -> None:
    """A few registrations and reads, then the chaining job (the insider tampers with what the
    chains already cover)."""
    from app.runtime import runtime

    for i in range(n):
        doc = flow.register(notation=f"{70 + i}/KH-MTTW-BTT").get_json()
        flow.get("lanhdao.tw", doc["id"])
    audit.chain_all_pending(runtime(flow.client.application).uow())


def test_checkpoints_are_sealed_timestamped_and_in_the_object_store(
    flow: Incoming,
    rt: Any,
    demo: Demo,
    session_factory: sessionmaker[Session],
    seal_pki_dir: Path,
    tmp_path: Path,
) -> None:
    from app.jobs import JOBS

    _some_history(flow)
    assert JOBS["audit_checkpoint"].run(rt) >= 1
    store = audit.BackendCheckpoints(rt.store)
    names = sorted(store.names(audit.CHECKPOINT_PREFIX))
    org = _org_chain(demo)
    mine = [n for n in names if n.startswith(f"{audit.CHECKPOINT_PREFIX}{org}/")]
    assert [n.rsplit(".", 1)[1] for n in mine] == ["json", "p7s"]
    body = json.loads(store.read(mine[0]) or b"")
    with session_factory() as s:
        heads = {h.chain: (h.seq, h.hash) for h in s.scalars(select(AuditChainHead))}
    assert {c["chain"]: (c["seq"], c["hash"]) for c in body["chains"]} == {
        org: heads[org],
        f"{org}/reads": heads[f"{org}/reads"],
    }
    # An independent check of the seal: OpenSSL, with the demo root as the only trust anchor.
    data, sig = tmp_path / "cp.json", tmp_path / "cp.p7s"
    data.write_bytes(store.read(mine[0]) or b"")
    sig.write_bytes(store.read(mine[1]) or b"")
    from signing.testpki import load_demo_pki

    root = tmp_path / "root.pem"
    root.write_bytes(load_demo_pki(seal_pki_dir).trust_roots_pem())
    ok = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig),
         "-content", str(data), "-CAfile", str(root), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    signer = cms.ContentInfo.load(sig.read_bytes())["content"]["signer_infos"][0]
    unsigned = [a["type"].native for a in signer["unsigned_attrs"]]
    assert "signature_time_stamp_token" in unsigned  # RFC 3161 timestamp from the TSA
    data.write_bytes(data.read_bytes().replace(b'"seq": ', b'"seq": 1'))
    bad = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig),
         "-content", str(data), "-CAfile", str(root), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode != 0
    report = _verify(rt, session_factory)
    assert report.ok, report.problems
    assert report.checkpoints >= 1 and report.signed_checkpoints >= 1


def test_a_row_changed_with_sql_is_named_by_chain_and_seq(
    flow: Incoming,
    rt: Any,
    demo: Demo,
    connection: Connection,
    session_factory: sessionmaker[Session],
) -> None:
    _some_history(flow)
    org = _org_chain(demo)
    connection.execute(
        text("UPDATE audit_entries SET actor_name = 'Người khác' WHERE chain = :c AND seq = 2"),
        {"c": org},
    )
    report = _verify(rt, session_factory)
    assert [(p.chain, p.seq, p.problem) for p in report.problems] == [(org, 2, "entry altered")]


def test_a_chain_rewritten_consistently_without_the_key_is_caught(
    flow: Incoming,
    rt: Any,
    demo: Demo,
    connection: Connection,
    session_factory: sessionmaker[Session],
) -> None:
    """The forger recomputes every hash of the chain (plain SHA-256, as version 1 entries
    were) and the head, hiding one entry: every link is consistent, yet it is caught."""
    _some_history(flow)
    org = _org_chain(demo)
    with session_factory() as s, s.begin():
        entries = list(
            s.scalars(select(AuditEntry).where(AuditEntry.chain == org).order_by(AuditEntry.seq))
        )
        victim = entries[1]
        kept = [e for e in entries if e.id != victim.id]
        s.delete(victim)
        s.flush()
        prev = audit.GENESIS
        for i, e in enumerate(kept, start=1):
            e.seq, e.version, e.prev_hash = i, 1, prev
            e.hash = audit.entry_hash(e)
            prev = e.hash
        head = s.get_one(AuditChainHead, org)
        head.seq, head.hash = len(kept), prev
    report = _verify(rt, session_factory)
    problems = [(p.chain, p.problem) for p in report.problems]
    assert (org, "chain ends in unkeyed entries (not sealed by the key)") in problems
    # With a wrong key instead of none: every rewritten entry is reported altered.
    with session_factory() as s, s.begin():
        prev = audit.GENESIS
        for e in s.scalars(
            select(AuditEntry).where(AuditEntry.chain == org).order_by(AuditEntry.seq)
        ):
            e.version, e.prev_hash = 2, prev
            e.hash = audit.entry_hash(e, b"a guessed key of thirty-two bytes!!")
            prev = e.hash
        s.get_one(AuditChainHead, org).hash = prev
    report = _verify(rt, session_factory)
    altered = {p.seq for p in report.problems if p.chain == org and p.problem == "entry altered"}
    assert altered == set(range(1, len(kept) + 1))


def test_entries_deleted_after_a_checkpoint_are_caught(
    flow: Incoming,
    rt: Any,
    demo: Demo,
    connection: Connection,
    session_factory: sessionmaker[Session],
) -> None:
    _some_history(flow)
    audit.write_checkpoints(rt.uow(), audit.BackendCheckpoints(rt.store))
    org = _org_chain(demo)
    with session_factory() as s:
        last = s.get_one(AuditChainHead, org).seq
    # Remove the last two entries and point the head at what is left: a consistent chain.
    connection.execute(
        text("DELETE FROM audit_entries WHERE chain = :c AND seq > :s"), {"c": org, "s": last - 2}
    )
    connection.execute(
        text(
            "UPDATE audit_chain_heads SET seq = :s, hash = "
            "(SELECT hash FROM audit_entries WHERE chain = :c AND seq = :s) WHERE chain = :c"
        ),
        {"c": org, "s": last - 2},
    )
    report = _verify(rt, session_factory)
    assert [(p.chain, p.seq) for p in report.problems] == [(org, last)]
    assert "is missing" in report.problems[0].problem


def test_a_forged_checkpoint_is_caught(
    flow: Incoming, rt: Any, demo: Demo, session_factory: sessionmaker[Session]
) -> None:
    _some_history(flow, 1)
    names = audit.write_checkpoints(rt.uow(), audit.BackendCheckpoints(rt.store))
    store = audit.BackendCheckpoints(rt.store)
    name = next(n for n in names if _org_chain(demo) in n)
    body = json.loads(store.read(name) or b"")
    body["chains"][0]["seq"] -= 1
    store.write(name, json.dumps(body).encode())
    problems = {p.problem for p in _verify(rt, session_factory).problems}
    assert {"checkpoint MAC does not verify", "checkpoint signature invalid"} <= problems


def test_old_unkeyed_entries_stay_verifiable_and_get_sealed(
    demo: Demo, raw_rt: Any, session_factory: sessionmaker[Session]
) -> None:
    """Entries written before the key existed (version 1) verify; the checkpoint job seals
    such a chain with a keyed entry, after which a plain entry may not follow."""
    actor = demo.actor("vanthu.phuong")
    for i in range(3):
        uow = demo.uow()  # no audit key: what the previous version wrote
        with uow:
            audit.record(uow, "legacy", actor=actor, details={"i": i})
            uow.commit()
    audit.chain_all_pending(demo.uow())  # chained by that version too: plain hashes
    rt = raw_rt
    chain = str(actor.organization_id)
    report = _verify(rt, session_factory)
    # Plain entries verify; what is reported is only that the chains are not sealed yet.
    assert {p.problem for p in report.problems} == {
        "chain ends in unkeyed entries (not sealed by the key)"
    }
    assert chain in {p.chain for p in report.problems}
    audit.write_checkpoints(rt.uow(), audit.BackendCheckpoints(rt.store))
    report = _verify(rt, session_factory)
    assert report.ok, report.problems
    with session_factory() as s:
        versions = [
            (e.event, e.version)
            for e in s.scalars(
                select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq)
            )
        ]
    assert versions[-1] == ("audit.sealed", 2) and versions[0][1] == 1
    uow = demo.uow()
    with uow:
        audit.record(uow, "legacy_again", actor=actor)
        uow.commit()
    audit.chain_all_pending(demo.uow())
    problems = [p.problem for p in _verify(rt, session_factory).problems if p.chain == chain]
    assert "unkeyed entry after keyed ones" in problems


def test_the_command_checks_chains_and_checkpoints(
    tmp_path: Path,
    seal_pki_dir: Path,
    s3_url: str,  # noqa: F811
) -> None:
    """``dhtn audit checkpoint`` then ``dhtn audit verify`` on a database of its own: exit 0;
    after one SQL update of an old row, exit 1 naming the chain and the seq."""
    from click.testing import CliRunner

    from app.cli import main
    from docflow import UnitOfWork, make_engine, make_session_factory
    from docflow.demo import seed_demo
    from migrations import upgrade
    from tests.conftest import fresh_pg_database

    url = fresh_pg_database("_auditcli")
    upgrade(url)
    engine = make_engine(url)
    seed_demo(UnitOfWork(make_session_factory(engine)), password="cli-password")
    shutil.copytree(seal_pki_dir, tmp_path / "data" / "pki")
    env = {
        "DHTN_DATA_DIR": str(tmp_path / "data"),
        "DHTN_DATABASE_URL": url,
        "DHTN_STORAGE_URL": with_prefix(s3_url, f"auditcli-{uuid.uuid4().hex[:12]}"),
        "DHTN_LOG_LEVEL": "WARNING",
    }
    runner = CliRunner()
    made = runner.invoke(main, ["audit", "checkpoint"], env=env)
    assert made.exit_code == 0, made.output
    ok = runner.invoke(main, ["audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "Nhật ký toàn vẹn." in ok.output and "có chữ ký số: " in ok.output
    with engine.begin() as c:
        chain, seq = c.execute(
            text("SELECT chain, seq FROM audit_entries WHERE event <> 'audit.sealed' LIMIT 1")
        ).one()
        c.execute(
            text("UPDATE audit_entries SET ip = '10.9.8.7' WHERE chain = :c AND seq = :s"),
            {"c": chain, "s": seq},
        )
    broken = runner.invoke(main, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert f"LỖI chuỗi {chain} #{seq}: entry altered" in broken.output
    engine.dispose()
