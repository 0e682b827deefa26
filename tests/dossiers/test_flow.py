"""The whole life of a dossier through the API, on PostgreSQL and S3: plan → dossier →
documents filed (incoming, outgoing signed, a task) → closed (contents fixed; adding answers
409) → transferred → the bag validated by ``bagit`` with every file's checksum equal to the
stored object's → accepted by the archivist (after a fixity check) → read-only."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import bagit
from docx import Document as Docx
from sqlalchemy import select

from docflow.models import DocumentFile
from tests.conftest import Demo
from tests.dossiers.conftest import Dossiers


def _task(d: Dossiers) -> str:
    unit = d.incoming.unit_id("DCGSPBXH")
    r = d.client.post(
        "/api/v1/tasks",
        headers=d.h("lanhdao.tw"),
        json={
            "title": "Tổng hợp kết quả giám sát",
            "lead": {"unit_id": unit},
            "due_date": "2026-12-10",
        },
    )
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["id"])


def _unzip(data: bytes, where: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(where)
    return where


def test_the_whole_life(dossiers: Dossiers, demo: Demo, tmp_path: Path) -> None:
    d = dossiers
    # The office drafts the year's plan, the head approves it.
    r = d.client.post(
        "/api/v1/file-plans",
        headers=d.h("vanthu.tw"),
        json={"organization_id": str(demo.org_id("tw")), "year": 2026},
    )
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()["id"]
    unit = d.incoming.unit_id("DCGSPBXH")
    r = d.client.post(
        f"/api/v1/file-plans/{plan}/headings",
        headers=d.h("vanthu.tw"),
        json={"code": "III", "title": "Ban Dân chủ, Giám sát và Phản biện xã hội", "unit_id": unit},
    )
    heading = r.get_json()["headings"][0]["id"]
    r = d.client.post(
        f"/api/v1/file-plans/{plan}/items",
        headers=d.h("vanthu.tw"),
        json={
            "heading_id": heading,
            "code": "05.DCGS",
            "title": "Hồ sơ giám sát chính sách an sinh xã hội năm 2026",
            "retention_years": None,
            "unit_id": unit,
        },
    )
    assert r.status_code == 200, r.get_json()
    item = r.get_json()["headings"][0]["items"][0]["id"]
    r = d.client.post(
        f"/api/v1/file-plans/{plan}/actions", headers=d.h("lanhdao.tw"), json={"action": "approve"}
    )
    assert r.status_code == 200 and r.get_json()["state"] == "approved"

    # A specialist opens the planned dossier: code, title, retention come from the plan.
    r = d.client.post(
        "/api/v1/dossiers",
        headers=d.h("chuyenvien.dcgs"),
        json={"organization_id": str(demo.org_id("tw")), "year": 2026, "plan_item_id": item},
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    dossier = body["id"]
    assert (body["code"], body["state"], body["retention_years"], body["planned"]) == (
        "05.DCGS",
        "open",
        None,
        True,
    )
    assert body["documents"] == [] and "close" in body["allowed_actions"]

    incoming = d.done_incoming()
    outgoing = d.outgoing.to_signed()
    task = _task(d)
    for payload in ({"document_id": incoming}, {"document_id": outgoing}, {"task_id": task}):
        r = d.file("chuyenvien.dcgs", dossier, **payload)
        assert r.status_code == 200, r.get_json()
    docs = r.get_json()["documents"]
    assert [x["kind"] for x in docs] == ["document", "document", "task"]
    assert [x["position"] for x in docs] == [1, 2, 3]
    signed = [f for f in docs[1]["files"] if f["kind"] == "signed"]
    assert signed, docs[1]["files"]

    # Closing fixes dates, pages and makes the table of contents (DOCX and PDF).
    closed = d.ok("chuyenvien.dcgs", dossier, "close")
    assert closed["state"] == "closed" and closed["closed_at"]
    assert closed["start_date"] and closed["end_date"] and closed["page_count"] >= 2
    assert closed["table_of_contents"] == ["docx", "pdf"]
    toc = d.client.get(
        f"/api/v1/dossiers/{dossier}/table-of-contents", headers=d.h("chuyenvien.dcgs")
    )
    assert toc.status_code == 200
    # Served as every stored file is (app.uploads.stored_file): its length, never cached.
    assert toc.headers["Content-Length"] == str(len(toc.data))
    assert toc.headers["Cache-Control"] == "private, no-store"
    assert toc.headers["X-Content-Type-Options"] == "nosniff"
    text = "\n".join(
        c.text for t in Docx(io.BytesIO(toc.data)).tables for row in t.rows for c in row.cells
    )
    notation = d.incoming.get("vanthu.tw", incoming).get_json()["notation"]
    assert notation in text and "Tổng hợp kết quả giám sát" in text
    pdf = d.client.get(
        f"/api/v1/dossiers/{dossier}/table-of-contents?format=pdf", headers=d.h("chuyenvien.dcgs")
    )
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"

    # A closed dossier refuses changes: 409.
    another = d.done_incoming()
    r = d.file("chuyenvien.dcgs", dossier, document_id=another)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "dossier_state"

    d.ok("truongban.dcgs", dossier, "transfer")
    r = d.package("luutru.tw", dossier)
    assert r.status_code == 200 and r.mimetype == "application/zip"
    bag_dir = _unzip(r.data, tmp_path / "bag")
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # raises on any missing file or wrong checksum
    assert "sha256" in bag.algorithms
    manifest = {
        Path(path).name: digest["sha256"]
        for path, digest in bag.entries.items()
        if path.startswith("data/documents/")
    }
    with demo.factory() as s:
        stored = {
            f.sha256
            for f in s.scalars(
                select(DocumentFile).where(DocumentFile.document_id.in_([incoming, outgoing]))
            )
        }
    files_in_bag = {v for k, v in manifest.items() if k != "metadata.json"}
    assert stored == files_in_bag
    assert (bag_dir / "data" / "dossier.json").is_file()
    assert (bag_dir / "data" / "muc-luc-van-ban.docx").is_file()

    # The archivist checks fixity and accepts; the holding is read-only.
    archived = d.ok("luutru.tw", dossier, "accept")
    assert archived["state"] == "archived" and archived["archived_at"]
    assert archived["allowed_actions"] == []
    assert d.file("chuyenvien.dcgs", dossier, document_id=another).status_code == 409
    assert d.act("lanhdao.tw", dossier, "reopen", comment="Bổ sung").status_code == 409
    events = d.client.get(f"/api/v1/dossiers/{dossier}/events", headers=d.h("luutru.tw")).get_json()
    assert [e["action"] for e in events["items"]] == [
        "open",
        "file",
        "file",
        "file",
        "close",
        "transfer",
        "accept",
    ]
