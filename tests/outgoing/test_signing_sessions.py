"""Signing with a key the server never holds (API.md §3): the test plays the USB token."""

from __future__ import annotations

import base64
import io
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import Encoding

from signing import (
    make_sample_document,
)
from signing.testpki import (
    DemoPKI,
)
from tests.outgoing.conftest import Outgoing, _full_names
from tests.signing.pdfsig import PdfSig


class Token:
    """The identity's key, as a token holds it; signs what the server asks for."""

    def __init__(self, pki: DemoPKI, name: str) -> None:
        self.ident = pki.identity(name)
        self.pki = pki

    def body(self, kind: str, **extra: Any) -> dict[str, Any]:
        return {
            "kind": kind,
            "certificate": self.ident.certificate.public_bytes(Encoding.PEM).decode(),
            "chain": [c.public_bytes(Encoding.PEM).decode() for c in self.pki.chain()],
            **extra,
        }

    def sign(self, session: dict[str, Any]) -> str:
        key = self.ident.private_key()
        data = base64.b64decode(session["to_be_signed"])
        if isinstance(key, ec.EllipticCurvePrivateKey):
            raw = key.sign(data, ec.ECDSA(hashes.SHA256()))
        else:
            assert isinstance(key, rsa.RSAPrivateKey)
            if session["signature_algorithm"] == "rsassa_pss_sha256":
                digest = base64.b64decode(session["digest"])  # a token that signs a digest
                raw = key.sign(
                    digest,
                    padding.PSS(padding.MGF1(hashes.SHA256()), 32),
                    utils.Prehashed(hashes.SHA256()),
                )
            else:
                raw = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode()


def _start(flow: Outgoing, user: str, doc: str, body: dict[str, Any]) -> Any:
    return flow.client.post(
        f"/api/v1/documents/{doc}/signing-sessions", headers=flow.h(user), json=body
    )


def _complete(flow: Outgoing, user: str, session_id: str, signature: str) -> Any:
    return flow.client.post(
        f"/api/v1/signing-sessions/{session_id}/complete",
        headers=flow.h(user),
        json={"signature": signature},
    )


def _with_leader(flow: Outgoing) -> str:
    doc = str(flow.template().get_json()["id"])
    flow.ok("chuyenvien.dcgs", doc, "submit_for_review", to_user_id=flow.user_id("lanhdao.tw"))
    return doc


def test_leader_and_organisation_sign_with_their_tokens(
    flow: Outgoing, demo_pki_loaded: DemoPKI, tmp_path: Any
) -> None:
    doc = _with_leader(flow)
    leader = Token(demo_pki_loaded, "user:lanhdao.tw")
    r = _start(flow, "lanhdao.tw", doc, leader.body("personal"))
    assert r.status_code == 201, r.get_json()
    session = r.get_json()
    assert session["signature_algorithm"] in ("rsassa_pss_sha256", "ecdsa_sha256")
    assert flow.get("lanhdao.tw", doc).get_json()["state"] == "in_review"  # nothing yet
    signed = _complete(flow, "lanhdao.tw", session["id"], leader.sign(session))
    assert signed.status_code == 200, signed.get_json()
    assert signed.get_json()["state"] == "signed"
    again = _complete(flow, "lanhdao.tw", session["id"], leader.sign(session))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "signing_session_used"

    seal = Token(demo_pki_loaded, "org:000.00.00.Z01")
    r = _start(flow, "vanthu.tw", doc, seal.body("organization"))
    assert r.status_code == 201, r.get_json()
    # The number is reserved for this document while the token holder confirms.
    held = flow.get("vanthu.tw", doc).get_json()
    assert (held["state"], held["register_number"]) == ("signed", 1)
    issued = _complete(flow, "vanthu.tw", r.get_json()["id"], seal.sign(r.get_json()))
    assert issued.status_code == 200, issued.get_json()
    body = issued.get_json()
    assert (body["state"], body["notation"]) == ("issued", "01/KH-MTTW-DCGSPBXH")
    pdf = flow.main_pdf("vanthu.tw", doc)
    report = flow.client.post(
        "/api/v1/verifications",
        data={"file": (io.BytesIO(pdf), "vb.pdf", "application/pdf")},
        content_type="multipart/form-data",
    ).get_json()
    assert report["summary"] == "valid", report
    assert [s["modifications"] for s in report["signatures"]] == ["form_filling", "none"]
    PdfSig(tmp_path).assert_valid(pdf, signatures=2)
    trail = flow.client.get(
        f"/api/v1/documents/{doc}/trail", headers=flow.h("vanthu.tw")
    ).get_json()
    assert [(e["action"], e["details"].get("via")) for e in trail["items"][-2:]] == [
        ("sign", "signing_session"),
        ("issue", "signing_session"),
    ]


def test_a_lapsed_organisation_session_keeps_its_number_for_the_document(
    flow: Outgoing, demo_pki_loaded: DemoPKI
) -> None:
    doc = flow.to_signed()
    seal = Token(demo_pki_loaded, "org:000.00.00.Z01")
    assert _start(flow, "vanthu.tw", doc, seal.body("organization")).status_code == 201
    # The token holder never answers; the clerk issues with the server seal instead.
    issued = flow.ok("vanthu.tw", doc, "issue")
    assert issued["register_number"] == 1
    other = flow.to_signed()
    assert flow.ok("vanthu.tw", other, "issue")["register_number"] == 2  # no gap


def test_refusals_change_nothing(flow: Outgoing, demo_pki_loaded: DemoPKI) -> None:
    doc = _with_leader(flow)
    before = flow.counts()
    clerk_cert = Token(demo_pki_loaded, "user:vanthu.tw")
    r = _start(flow, "lanhdao.tw", doc, clerk_cert.body("personal"))
    assert r.status_code == 422  # not the signer's certificate
    r = _start(
        flow, "chuyenvien.dcgs", doc, Token(demo_pki_loaded, "user:lanhdao.tw").body("personal")
    )
    assert r.status_code == 403
    r = _start(
        flow, "vanthu.tw", doc, Token(demo_pki_loaded, "org:000.00.00.Z01").body("organization")
    )
    assert r.status_code == 409  # not signed yet
    r = _start(flow, "lanhdao.tw", doc, {"kind": "personal", "certificate": "x" * 200})
    assert r.status_code == 422
    assert flow.counts() == before
    leader = Token(demo_pki_loaded, "user:lanhdao.tw")
    session = _start(flow, "lanhdao.tw", doc, leader.body("personal")).get_json()
    wrong = base64.b64encode(b"\x00" * 256).decode()
    r = _complete(flow, "lanhdao.tw", session["id"], wrong)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "signature_value_invalid"
    assert _complete(flow, "vanthu.tw", session["id"], leader.sign(session)).status_code == 404
    # A new version after the session opened makes it stale.
    pdf = make_sample_document(1).pdf
    assert flow.new_version("lanhdao.tw", doc, pdf, "v2.pdf", "application/pdf").status_code == 201
    r = _complete(flow, "lanhdao.tw", session["id"], leader.sign(session))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "signing_session_stale"
    assert flow.get("lanhdao.tw", doc).get_json()["state"] == "in_review"


def test_without_a_server_held_key_the_signer_uses_a_session(flow: Outgoing) -> None:
    # The unit head signs (TL.) but has no key on the server: the action says how to sign.
    doc = str(
        flow.template(signer_user_id=flow.user_id("truongban.dcgs"), competence="TL.").get_json()[
            "id"
        ]
    )
    flow.ok("chuyenvien.dcgs", doc, "submit_for_review", to_user_id=flow.user_id("truongban.dcgs"))
    r = flow.act("truongban.dcgs", doc, "sign")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "signing_session_required"


def test_a_delegated_clerk_issuing_through_a_session_is_recorded_as_delegated(
    flow: Outgoing, demo_pki_loaded: DemoPKI
) -> None:
    """Signing-session completion goes through the action engine like ``issue`` does: the
    trail names the clerk the power comes from."""
    r = flow.client.post(
        "/api/v1/delegations",
        headers=flow.h("vanthu.tw"),
        json={
            "delegator_id": flow.user_id("vanthu.tw"),
            "delegate_id": flow.user_id("chuyenvien.dcgs"),
            "roles": ["clerk"],
            "competence": "TL.",
            "start_date": "2026-11-23",
            "end_date": "2026-11-27",
        },
    )
    assert r.status_code == 201, r.get_json()
    doc = flow.to_signed()
    seal = Token(demo_pki_loaded, "org:000.00.00.Z01")
    r = _start(flow, "chuyenvien.dcgs", doc, seal.body("organization"))
    assert r.status_code == 201, r.get_json()
    issued = _complete(flow, "chuyenvien.dcgs", r.get_json()["id"], seal.sign(r.get_json()))
    assert issued.status_code == 200, issued.get_json()
    trail = flow.client.get(
        f"/api/v1/documents/{doc}/trail", headers=flow.h("vanthu.tw")
    ).get_json()
    last = trail["items"][-1]
    assert (last["action"], last["details"]["via"]) == ("issue", "signing_session")
    assert last["on_behalf_of"] == {
        "id": flow.user_id("vanthu.tw"),
        "name": _full_names()["vanthu.tw"],
    }
    assert last["competence"] == "TL."
