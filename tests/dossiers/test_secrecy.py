"""Secret documents and dossiers: a secret document goes only into a dossier at least as
secret; a secret dossier does not exist for those without the clearance (404, absent from
lists and from the transfer list), even for the office that otherwise sees every dossier."""

from __future__ import annotations

import io

from docx import Document as Docx

from docflow.enums import Direction
from tests.conftest import Demo
from tests.dossiers.conftest import Dossiers
from tests.security.test_clearance import register_secret, secret_register


def test_secret_document_needs_a_secret_dossier(dossiers: Dossiers, demo: Demo) -> None:
    d = dossiers
    secret_register(demo, Direction.INCOMING)
    secret = str(register_secret(demo).id)  # Tối mật; the demo leader is cleared for it
    plain = d.opened("lanhdao.tw", code="TH.01")
    r = d.file("lanhdao.tw", plain, document_id=secret)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "secrecy_above_dossier"
    r = d.file("lanhdao.tw", plain, document_ids=[secret])
    assert r.get_json()["results"][0]["error"]["code"] == "secrecy_above_dossier"
    # Without the clearance the document is simply not there for the filer.
    r = d.file("vanthu.tw", plain, document_id=secret)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "document_not_found"
    hidden = d.opened("lanhdao.tw", code="M.01", secrecy="secret", title="Hồ sơ mật về khiếu nại")
    assert d.file("lanhdao.tw", hidden, document_id=secret).status_code == 200
    d.ok("lanhdao.tw", hidden, "close")
    d.ok("lanhdao.tw", hidden, "transfer")
    for who in ("vanthu.tw", "truongban.dcgs", "luutru.tw"):
        assert d.get(who, hidden).status_code == 404
        assert d.package(who, hidden).status_code == 404
        items = d.client.get("/api/v1/dossiers?year=2026", headers=d.h(who)).get_json()["items"]
        assert hidden not in [x["id"] for x in items]
        r = d.client.get("/api/v1/dossiers/transfer-list?year=2026", headers=d.h(who))
        assert r.status_code == 200
        text = "\n".join(p.text for p in Docx(io.BytesIO(r.data)).paragraphs)
        cells = " ".join(
            c.text for t in Docx(io.BytesIO(r.data)).tables for row in t.rows for c in row.cells
        )
        assert "khiếu nại" not in cells and "0 hồ sơ" in text
        r = d.client.get(f"/api/v1/documents/{secret}/dossiers", headers=d.h(who))
        assert r.status_code == 404
    # The cleared leader sees it everywhere.
    r = d.client.get("/api/v1/dossiers/transfer-list?year=2026", headers=d.h("lanhdao.tw"))
    cells = " ".join(
        c.text for t in Docx(io.BytesIO(r.data)).tables for row in t.rows for c in row.cells
    )
    assert "Hồ sơ mật về khiếu nại" in cells
    r = d.client.get(f"/api/v1/documents/{secret}/dossiers", headers=d.h("lanhdao.tw"))
    assert [x["id"] for x in r.get_json()["items"]] == [hidden]
