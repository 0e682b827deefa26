"""Signing many drafts in one action, and remote signing through our own CSC server (issue 21).

Everything runs for real: PostgreSQL, the object store, LibreOffice for the drafts, the demo
PKI's TSA, a CSC v2 server on loopback holding the leader's key (the DHTN server never sees it),
pdfsig on the signed PDFs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select, text

from docflow.models import AuditEntry, DocumentFile, RemoteSigningAccount, TrailEntry
from signing.testpki import DemoPKI
from tests.outgoing.conftest import Outgoing
from tests.signing.conftest import free_port, serve
from tests.signing.csc_server import CscServer
from tests.signing.pdfsig import PdfSig

PIN = "91827364"
OTP = "58203746"
WRONG_OTP = "11111111"
SECRETS = (PIN, OTP, WRONG_OTP)


def _to_leader(flow: Outgoing) -> str:
    """A template draft submitted straight to its signer, lanhdao.tw."""
    r = flow.template()
    assert r.status_code == 201, r.get_json()
    doc = str(r.get_json()["id"])
    flow.ok("chuyenvien.dcgs", doc, "submit_for_review", to_user_id=flow.user_id("lanhdao.tw"))
    return doc


def _bulk(flow: Outgoing, user: str, ids: list[str], **extra: Any) -> Any:
    return flow.client.post(
        "/api/v1/documents/bulk-actions",
        headers=flow.h(user),
        json={"action": "sign", "document_ids": ids, **extra},
    )


def _signed_files(flow: Outgoing, doc: str) -> int:
    with flow.demo.factory() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(DocumentFile)
                .where(DocumentFile.document_id == uuid.UUID(doc), DocumentFile.kind == "signed")
            )
            or 0
        )


def _sign_entries(flow: Outgoing, doc: str) -> list[TrailEntry]:
    with flow.demo.factory() as s:
        return list(
            s.scalars(
                select(TrailEntry).where(
                    TrailEntry.document_id == uuid.UUID(doc), TrailEntry.action == "sign"
                )
            )
        )


def test_twenty_drafts_in_one_action_one_failing(flow: Outgoing, tmp_path: Path) -> None:
    """19 drafts waiting for the leader and one still a draft (never submitted: 409): 19
    signed, each with its own file, trail and audit entry; the one reported, unchanged."""
    waiting = [_to_leader(flow) for _ in range(19)]
    not_submitted = str(flow.template().get_json()["id"])
    ids = [*waiting[:7], not_submitted, *waiting[7:]]
    audits_before = _audit_count(flow, "document_sign")

    r = _bulk(flow, "lanhdao.tw", ids)
    assert r.status_code == 200, r.get_json()
    results = r.get_json()["results"]
    assert [x["document_id"] for x in results] == ids  # in the order asked
    assert sum(x["ok"] for x in results) == 19
    failed = [x for x in results if not x["ok"]]
    assert [x["document_id"] for x in failed] == [not_submitted]
    assert failed[0]["error"]["code"] == "transition_not_allowed"
    assert failed[0]["error"]["message"]  # Vietnamese, for people
    assert all(x["state"] == "signed" for x in results if x["ok"])

    for doc in waiting:
        assert flow.get("lanhdao.tw", doc).get_json()["state"] == "signed"
        assert _signed_files(flow, doc) == 1
        (entry,) = _sign_entries(flow, doc)
        assert entry.details["via"] == "server_credential"
    assert flow.get("chuyenvien.dcgs", not_submitted).get_json()["state"] == "draft"
    assert _signed_files(flow, not_submitted) == 0 and not _sign_entries(flow, not_submitted)
    assert _audit_count(flow, "document_sign") - audits_before == 19
    PdfSig(tmp_path).assert_valid(_signed_pdf(flow, waiting[-1]), signatures=1)


def test_bulk_refusals_per_document_and_for_the_request(flow: Outgoing) -> None:
    doc = _to_leader(flow)
    unknown = str(uuid.uuid4())
    # Not the signer: the unit head sees the document but may not sign it (403 per item).
    r = _bulk(flow, "truongban.dcgs", [doc, unknown])
    assert r.status_code == 200, r.get_json()
    codes = [x["error"]["code"] for x in r.get_json()["results"]]
    assert codes == ["forbidden", "document_not_found"]
    assert flow.get("lanhdao.tw", doc).get_json()["state"] == "in_review"
    # The request itself: duplicates, empty, too many, unknown action → 422, nothing done.
    for body in (
        {"action": "sign", "document_ids": [doc, doc]},
        {"action": "sign", "document_ids": []},
        {"action": "sign", "document_ids": [str(uuid.uuid4()) for _ in range(51)]},
        {"action": "approve", "document_ids": [doc]},
    ):
        r = flow.client.post(
            "/api/v1/documents/bulk-actions", headers=flow.h("lanhdao.tw"), json=body
        )
        assert r.status_code == 422, (body, r.get_json())
    # CSC without an operator's service configured: 409 for the request, nothing signed.
    r = _bulk(flow, "lanhdao.tw", [doc], method="csc", otp=OTP)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "remote_signing_not_configured"
    assert flow.get("lanhdao.tw", doc).get_json()["state"] == "in_review"


def _audit_count(flow: Outgoing, event: str) -> int:
    with flow.demo.factory() as s:
        return int(
            s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.event == event))
            or 0
        )


def _signed_pdf(flow: Outgoing, doc: str) -> bytes:
    body = flow.get("lanhdao.tw", doc).get_json()
    signed = next(f for f in body["files"] if f["kind"] == "signed")
    return flow.file_bytes("lanhdao.tw", doc, signed["id"])


@pytest.fixture
def csc(flow: Outgoing, demo_pki_loaded: DemoPKI, app: Any, tmp_path: Path) -> Iterator[CscServer]:
    """Our CSC server holding lanhdao.tw's key (PIN and OTP), wired in as the operator's
    service through the DHTN_CSC_* settings (client credentials, a 1-second timeout)."""
    from app.runtime import runtime

    ident = demo_pki_loaded.identity("user:lanhdao.tw")
    server = CscServer(
        "cred-lanhdao",
        ident.private_key(),
        [
            ident.certificate.public_bytes(Encoding.DER),
            *(c.public_bytes(Encoding.DER) for c in demo_pki_loaded.chain()),
        ],
        token="csc-access-token",
        pin=PIN,
        otp=OTP,
        client_id="dhtn-server",
        client_secret="csc-client-secret",
    )
    port = free_port()
    http = serve(server, port)
    secret = tmp_path / "csc-secret"
    secret.write_text("csc-client-secret\n")
    signing = runtime(app).signing
    signing.settings = signing.settings.with_overrides(
        csc_url=f"http://127.0.0.1:{port}/csc/v2",
        csc_client_id="dhtn-server",
        csc_client_secret_file=secret,
        csc_timeout=1.0,
    )
    yield server
    http.shutdown()


def _everything_stored(flow: Outgoing) -> str:
    """Every row of every table as text (to look for what must never be stored)."""
    chunks = []
    with flow.demo.factory() as s:
        tables = s.scalars(
            text("select tablename from pg_tables where schemaname = current_schema()")
        ).all()
        for table in tables:
            chunks.extend(str(row) for row in s.execute(text(f'select t::text from "{table}" t')))
    return "\n".join(chunks)


def test_remote_signing_through_csc(
    flow: Outgoing, csc: CscServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    lead = "lanhdao.tw"
    # Linking: the credential must exist and name the person; only signers link.
    r = flow.client.put(
        "/api/v1/me/remote-signing", headers=flow.h(lead), json={"credential_id": "nope"}
    )
    assert r.status_code == 422, r.get_json()  # the service does not know this credential
    assert r.get_json()["error"]["code"] == "remote_signing_credential_unknown"
    r = flow.client.put(
        "/api/v1/me/remote-signing",
        headers=flow.h("chuyenvien.dcgs"),
        json={"credential_id": "cred-lanhdao"},
    )
    assert r.status_code == 403, r.get_json()
    r = flow.client.put(
        "/api/v1/me/remote-signing", headers=flow.h(lead), json={"credential_id": "cred-lanhdao"}
    )
    assert r.status_code == 200, r.get_json()
    account = r.get_json()
    assert account["linked"] and account["configured"]
    assert flow.demo.user(lead).full_name in account["certificate_subject"]

    docs = [_to_leader(flow) for _ in range(3)]
    unknown = str(uuid.uuid4())
    counts = flow.counts()

    # No PIN/OTP: 422 before any request to the service.
    csc.calls.clear()
    r = _bulk(flow, lead, docs, method="csc")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "remote_signing_otp_required"
    assert csc.calls == []

    # A wrong OTP: 422 with its code, nothing signed anywhere.
    r = _bulk(flow, lead, docs, method="csc", pin=PIN, otp=WRONG_OTP)
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["code"] == "remote_signing_otp_invalid"
    assert "otp" in r.get_json()["error"]["details"]["fields"]
    assert csc.signed == 0

    # The service does not answer within the timeout (1 s): 504, nothing signed.
    csc.delay = 2.5
    r = _bulk(flow, lead, docs, method="csc", pin=PIN, otp=OTP)
    csc.delay = 0.0
    assert r.status_code == 504, r.get_json()
    assert r.get_json()["error"]["code"] == "remote_signing_timeout"
    assert csc.signed == 0
    assert flow.counts() == counts
    assert all(flow.get(lead, d).get_json()["state"] == "in_review" for d in docs)

    # Right PIN and OTP: ONE authorisation for the three hashes, one signHash; the unknown
    # document reported on its own.
    csc.calls.clear()
    r = _bulk(flow, lead, [docs[0], unknown, docs[1], docs[2]], method="csc", pin=PIN, otp=OTP)
    assert r.status_code == 200, r.get_json()
    results = r.get_json()["results"]
    assert [x["ok"] for x in results] == [True, False, True, True]
    assert results[1]["error"]["code"] == "document_not_found"
    assert csc.calls.count("credentials/authorize") == 1
    assert csc.calls.count("signatures/signHash") == 1
    assert csc.authorized[-1] == 3 and csc.signed == 3
    for doc in docs:
        assert flow.get(lead, doc).get_json()["state"] == "signed"
        (entry,) = _sign_entries(flow, doc)
        assert entry.details["via"] == "remote_signing"
    pdfsig = PdfSig(tmp_path)
    pdfsig.assert_valid(_signed_pdf(flow, docs[0]), signatures=1)

    # The single action with method=csc (the phone's "Ký từ xa").
    one = _to_leader(flow)
    r = flow.act(lead, one, "sign", method="csc", pin=PIN, otp=WRONG_OTP)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "remote_signing_otp_invalid"
    r = flow.act(lead, one, "sign", method="csc", pin=PIN, otp=OTP)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "signed"
    pdfsig.assert_valid(_signed_pdf(flow, one), signatures=1)
    # Signing again: the document is no longer waiting (409), and no request to the service.
    signed_before = csc.signed
    r = flow.act(lead, one, "sign", method="csc", pin=PIN, otp=OTP)
    assert r.status_code == 409 and csc.signed == signed_before

    # Nothing secret kept: no PIN, no OTP in the database or the logs; no private key either.
    stored = _everything_stored(flow)
    logged = caplog.text
    for secret in SECRETS:
        assert secret not in stored and secret not in logged
    assert "PRIVATE KEY" not in stored and "PRIVATE KEY" not in logged
    assert "csc-client-secret" not in stored and "csc-client-secret" not in logged
    with flow.demo.factory() as s:
        (row,) = s.scalars(select(RemoteSigningAccount)).all()
        assert row.credential_id == "cred-lanhdao"

    # Unlinking: signing without a credential is then refused for the request (422).
    assert flow.client.delete("/api/v1/me/remote-signing", headers=flow.h(lead)).status_code == 204
    r = _bulk(flow, lead, [_to_leader(flow)], method="csc", otp=OTP, pin=PIN)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "remote_signing_not_linked"
