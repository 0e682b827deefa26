"""Read-path review (second pass): what a reader may not see, through the public API and pages.

Each FINDING test failed on the code as reviewed (80174f1) and passes since its fix in the same
session (the ninth of 2026-12-05; the test says what the fix decided where it had to); each
HELD test records an attack that was tried and held. Runs on PostgreSQL with the local store.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from typing import Any

import pytest

from docflow.enums import Direction, Secrecy
from tests.conftest import Demo
from tests.incoming.conftest import Incoming
from tests.security.test_clearance import register_secret, secret_register, set_clearance


@pytest.fixture
def flow(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


def _register(flow: Incoming, subject: str, notation: str) -> str:
    r = flow.register(notation=notation, subject=subject)
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["id"])


def _assign_to_unit(flow: Incoming, doc: str, unit: str) -> None:
    r = flow.act("vanthu.tw", doc, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200, r.get_json()
    r = flow.act(
        "lanhdao.tw", doc, "assign", lead={"unit_id": flow.unit_id(unit)}, due_in_working_days=5
    )
    assert r.status_code == 200, r.get_json()


def test_dossier_shows_documents_the_reader_may_not_see(flow: Incoming) -> None:
    """FINDING 1 (Medium): a dossier lists every document filed in it, checked against the
    reader's clearance only, not against document visibility (docflow/dossiers/queries.py
    item_views). The clerk (who sees the whole organisation) files a document routed only to
    unit TG into a dossier kept by unit DCGSPBXH; a DCGSPBXH specialist, who gets 404 on the
    document itself, reads its subject, notation, file names and hashes in
    GET /api/v1/dossiers/{id} (and its bytes in the package once the dossier is closed)."""
    marker = f"TGONLY{uuid.uuid4().hex[:8].upper()}"
    doc = _register(flow, f"Văn bản riêng của Ban Tuyên giáo {marker}", "881/KH-MTTW-BTT")
    _assign_to_unit(flow, doc, "TG")
    spec = "chuyenvien.dcgs"
    assert flow.get(spec, doc).status_code == 404  # not routed to DCGSPBXH
    r = flow.client.post(
        "/api/v1/dossiers",
        headers=flow.h("vanthu.tw"),
        json={
            "organization_id": str(flow.demo.org_id("tw")),
            "year": 2026,
            "code": "R1.DCGS",
            "title": "Hồ sơ của ban",
            "retention_years": 10,
            "unit_id": flow.unit_id("DCGSPBXH"),
        },
    )
    assert r.status_code == 201, r.get_json()
    dossier = r.get_json()["id"]
    r = flow.client.post(
        f"/api/v1/dossiers/{dossier}/documents",
        headers=flow.h("vanthu.tw"),
        json={"document_id": doc},
    )
    assert r.status_code == 200, r.get_json()
    r = flow.client.get(f"/api/v1/dossiers/{dossier}", headers=flow.h(spec))
    assert r.status_code == 200  # the unit's dossier: its members see it
    leaked = [("dossier", m) for m in (marker, doc) if m.encode() in r.data]
    # Closed, its package (BagIt ZIP with every file) goes to the same reader.
    r = flow.client.post(
        f"/api/v1/dossiers/{dossier}/actions",
        headers=flow.h("vanthu.tw"),
        json={"action": "close"},
    )
    assert r.status_code == 200, r.get_json()
    # FIXED (ninth session): the reader is shown the filed documents they may see; the
    # dossier's whole record (package, table of contents) goes to those shown every item.
    for record in ("package", "table-of-contents"):
        r = flow.client.get(f"/api/v1/dossiers/{dossier}/{record}", headers=flow.h(spec))
        assert r.status_code == 403, (record, r.status_code)
        assert r.get_json()["error"]["code"] == "dossier_record_restricted"
        leaked += [(record, m) for m in (marker, doc) if m.encode() in r.data]
    assert leaked == []
    # The office (who sees the whole organisation) gets the whole record, the file included.
    r = flow.client.get(f"/api/v1/dossiers/{dossier}/package", headers=flow.h("vanthu.tw"))
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        names = z.namelist()
        blob = b"".join(z.read(n) for n in names)
    assert marker.encode() in blob and any(n.endswith(".pdf") for n in names), names
    r = flow.client.get(f"/api/v1/dossiers/{dossier}", headers=flow.h("vanthu.tw"))
    assert marker.encode() in r.data


def _archived_secret_dossier(demo: Demo, title: str, secret_doc: uuid.UUID) -> uuid.UUID:
    """A cleared clerk keeps a secret record in a secret dossier (5 years), closes and
    transfers it; the cleared archivist accepts it into the archive."""
    from docflow.dossiers import (
        DossierActionCommand,
        FileInto,
        OpenDossier,
        act_on_dossier,
        file_into,
        open_dossier,
    )

    set_clearance(demo, "vanthu.tw", Secrecy.TOP_SECRET)
    clerk = demo.actor("vanthu.tw")
    d = open_dossier(
        demo.uow(),
        clerk,
        OpenDossier.model_validate(
            {
                "organization_id": demo.org_id("tw"),
                "year": 2026,
                "code": "M.09",
                "title": title,
                "retention_years": 1,
                "secrecy": "secret",
            }
        ),
    )
    file_into(demo.uow(), clerk, d.id, FileInto(document_id=secret_doc))
    act_on_dossier(demo.uow(), clerk, d.id, DossierActionCommand(action="close"))
    act_on_dossier(demo.uow(), clerk, d.id, DossierActionCommand(action="transfer"))
    set_clearance(demo, "vanthu.tw", Secrecy.NONE)
    act_on_dossier(demo.uow(), demo.actor("luutru.tw"), d.id, DossierActionCommand(action="accept"))
    return d.id


def test_disposal_record_names_secret_dossier_to_uncleared(
    client: Any, api: Any, demo: Demo, clock: Any
) -> None:
    """FINDING 2 (High): a disposal (GET /api/v1/disposals, /api/v1/disposals/{id}, the
    disposals page) is read by every archivist and leader of the organisation whatever their
    clearance (docflow/dossiers/disposal.py _load / list_disposals / _view). Its dossier_ids
    name the secret dossier from the proposal on, and once approved its ``record`` copies the
    secret dossier's code and title and every filed document's id (and file names and
    SHA-256). An archivist whose clearance was lowered (or a second, uncleared leader) reads
    them all; the dossier itself answers them 404."""
    from docflow.dossiers.commands import DisposalActionCommand, ProposeDisposal
    from docflow.dossiers.disposal import decide_disposal, propose_disposal

    marker = f"DISPOSEDSECRET{uuid.uuid4().hex[:8].upper()}"
    secret_register(demo, Direction.INCOMING)
    secret_doc = register_secret(demo, subject=f"Văn bản mật {marker}").id
    set_clearance(demo, "luutru.tw", Secrecy.SECRET)
    set_clearance(demo, "lanhdao.tw", Secrecy.SECRET)
    dossier = _archived_secret_dossier(demo, f"Hồ sơ mật {marker}", secret_doc)
    clock.advance(days=3 * 366)  # past the retention (end of 2026 + 1 year)
    proposal = propose_disposal(
        demo.uow(),
        demo.actor("luutru.tw"),
        ProposeDisposal(dossier_ids=[dossier], reason="Hết thời hạn bảo quản"),
    )
    decide_disposal(
        demo.uow(), demo.actor("lanhdao.tw"), proposal.id, DisposalActionCommand(action="approve")
    )
    set_clearance(demo, "luutru.tw", Secrecy.NONE)
    set_clearance(demo, "lanhdao.tw", Secrecy.NONE)
    leaked = []
    for who in ("luutru.tw", "lanhdao.tw"):
        h = api(who)
        assert client.get(f"/api/v1/dossiers/{dossier}", headers=h).status_code == 404
        for url in ("/api/v1/disposals", f"/api/v1/disposals/{proposal.id}"):
            r = client.get(url, headers=h)
            for mark in (marker, str(dossier), str(secret_doc)):
                if mark.encode() in r.data:
                    leaked.append((who, url, r.status_code, mark))
    assert leaked == []


def test_held_duplicate_check_is_no_oracle_for_secret_records(flow: Incoming, demo: Demo) -> None:
    """HELD: registering a document with the issuer, notation and date of a secret record
    (POST /api/v1/incoming) as an uncleared clerk is neither refused (409 possible_duplicate)
    nor answered with the secret record's id or number."""
    secret_register(demo, Direction.INCOMING)
    secret = register_secret(demo)
    r = flow.register(
        notation=secret.notation,
        issuer={"name": secret.issuer_name},
        issued_date=str(secret.issued_date),
        subject="Văn bản thường",
    )
    assert r.status_code == 201, r.get_json()
    assert str(secret.id).encode() not in r.data


def test_held_change_feed_hides_secret_changes(flow: Incoming, client: Any, demo: Demo) -> None:
    """HELD: GET /api/v1/changes?since=… of an uncleared clerk (who otherwise sees the whole
    organisation) does not list a secret record created and assigned after their position; a
    cleared leader's does."""
    secret_register(demo, Direction.INCOMING)
    set_clearance(demo, "lanhdao.tw", Secrecy.TOP_SECRET)
    heads = {
        u: client.get("/api/v1/changes", headers=flow.h(u)).get_json()["next_cursor"]
        for u in ("vanthu.tw", "lanhdao.tw")
    }
    secret = str(register_secret(demo).id)
    r = flow.act("lanhdao.tw", secret, "assign", lead={"unit_id": flow.unit_id("DCGSPBXH")})
    assert r.status_code == 200, r.get_json()
    clerk = client.get(f"/api/v1/changes?since={heads['vanthu.tw']}", headers=flow.h("vanthu.tw"))
    assert clerk.status_code == 200 and secret.encode() not in clerk.data
    leader = client.get(
        f"/api/v1/changes?since={heads['lanhdao.tw']}", headers=flow.h("lanhdao.tw")
    )
    assert secret in [i["id"] for i in leader.get_json()["items"]]


def test_held_etag_of_secret_document_stops_after_clearance_is_lowered(
    flow: Incoming, client: Any, demo: Demo
) -> None:
    """HELD: a reader who held the ETag of a secret record while cleared gets 404 (not 304)
    with the same If-None-Match once their clearance is lowered, and 404 with ``*``."""
    secret_register(demo, Direction.INCOMING)
    secret = str(register_secret(demo).id)
    set_clearance(demo, "lanhdao.tw", Secrecy.TOP_SECRET)
    h = flow.h("lanhdao.tw")
    first = client.get(f"/api/v1/documents/{secret}", headers=h)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert client.get(f"/api/v1/documents/{secret}", headers={**h, "If-None-Match": tag}).status_code == 304  # fmt: skip
    set_clearance(demo, "lanhdao.tw", Secrecy.NONE)
    for header in (tag, "*"):
        r = client.get(f"/api/v1/documents/{secret}", headers={**h, "If-None-Match": header})
        assert r.status_code in (401, 404), r.status_code
        assert b"SUBJECTMARK" not in r.data


def test_held_box_search_and_counters_hide_secret_records(
    flow: Incoming, client: Any, demo: Demo
) -> None:
    """HELD: an uncleared clerk's search (q= on the subject and the notation), the "all" box
    and the counters neither list nor count a secret record waiting to be handled."""
    before = client.get("/api/v1/me/counters", headers=flow.h("vanthu.tw")).get_json()
    secret_register(demo, Direction.INCOMING)
    secret = register_secret(demo)
    h = flow.h("vanthu.tw")
    for q in ("SUBJECTMARK", "9871", "box=all"):
        url = f"/api/v1/documents?{q if '=' in q else 'q=' + q}"
        r = client.get(url, headers=h)
        assert r.status_code == 200 and str(secret.id).encode() not in r.data
    after = client.get("/api/v1/me/counters", headers=h).get_json()
    assert after == before


def _public_received(client: Any, code: str) -> int:
    r = client.get(f"/gop-y/{code}/ket-qua?thang=2026-11")
    assert r.status_code == 200, r.status_code
    m = re.search(r"Tiếp nhận: <strong>(\d+)</strong>", r.get_data(as_text=True))
    assert m is not None
    return int(m.group(1))


def test_public_results_tell_a_sender_their_item_was_quarantined(
    client: Any, demo: Demo, clock: Any
) -> None:
    """FINDING 3 (Low): the public monthly results page (/gop-y/<code>/ket-qua,
    docflow/feedback/statistics.py monthly_summary) counts only items outside quarantine, so a
    sender (no sign-in) who reads the count before and after sending sees +1 for an accepted
    item and +0 for one the honeypot or the duplicate rule caught: the quarantine decision the
    tracking page hides on purpose (SECURITY.md, public feedback form) can be read here."""
    from tests.feedback.conftest import WARD, meta

    def send(**overrides: Any) -> None:
        data = {"meta": json.dumps(meta(**overrides))}
        r = client.post("/api/v1/public/feedback", data=data, content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()

    start = _public_received(client, WARD)
    send(content="Đèn đường ngõ 7 bị hỏng đã hai tuần, đề nghị sửa.")
    plain = _public_received(client, WARD)
    send(content="Mua thuốc giá rẻ tại đây ngay hôm nay", website="http://spam.example")
    caught = _public_received(client, WARD)
    # FIXED (ninth session): the month is counted to the end of yesterday, so neither read
    # moves the same day; set-aside items are never counted (the residue: a mailbox nobody
    # else writes to for a day lets a sender compare across days; see the closing note).
    assert (plain - start, caught - plain) == (0, 0)
    clock.advance(days=1)
    assert _public_received(client, WARD) - start == 1  # the accepted one, the next day
    assert "Số liệu đến hết ngày 23/11/2026" in client.get(f"/gop-y/{WARD}/ket-qua").get_data(
        as_text=True
    )
