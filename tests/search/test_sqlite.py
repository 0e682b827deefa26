"""The embedded profile (SQLite): the same search syntax, as a scan, with the visibility rule."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from docflow import UnitOfWork, load_actor, local_date, make_engine, make_session_factory
from docflow.demo import seed_demo
from docflow.documents import access
from docflow.documents.text import search_text
from docflow.models import Document, DocumentFile, FileText, User
from docflow.search import refresh_index, search_documents
from migrations import upgrade


def test_search_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    uow = UnitOfWork(factory)
    seed_demo(uow, password="demo-password-sqlite")
    with factory() as s:
        clerk = s.scalars(select(User).where(User.username == "vanthu.tw")).one()
        org, clerk_id = clerk.organization_id, clerk.id
        province = s.scalars(select(User).where(User.username == "vanthu.tinh")).one()
        province_org, province_clerk = province.organization_id, province.id
    ids = []
    for n, (body, secrecy, owner) in enumerate(
        [
            ("Hội nghị phản biện xã hội về đất đai", 0, org),
            ("Phản biện xã hội tuyệt mật", 3, org),
            ("Phản biện xã hội của tỉnh", 0, province_org),  # another organisation's
        ]
    ):
        with factory() as s:
            doc = Document(
                organization_id=owner,
                direction="incoming",
                state="registered",
                notation=f"{n + 1}/KH-BTT",
                doc_type="KH",
                subject="Kế hoạch",
                source="paper",
                secrecy="top_secret" if secrecy else "none",
                secrecy_rank=secrecy,
                search_text=search_text(f"{n + 1}/KH-BTT", "Kế hoạch", None),
            )
            s.add(doc)
            s.flush()
            f = DocumentFile(
                document_id=doc.id,
                kind="main",
                name="a.pdf",
                size=1,
                sha256=f"{n}" * 64,
                content_type="application/pdf",
                object_key="sha256/" + f"{n}" * 64,
                text_status="done",
            )
            s.add(f)
            s.flush()
            s.add(FileText(file_id=f.id, document_id=doc.id, text=body, pages=[]))
            s.commit()
            ids.append(doc.id)
        with uow:
            refresh_index(uow, uow.session.get_one(Document, doc.id))
            uow.commit()
    with factory() as s:
        actor = load_actor(s, clerk_id, local_date(uow.now()))
    base = select(Document).where(access.visible_clause(actor))
    page = search_documents(uow, actor, base, "phan bien xa hoi", limit=10)
    assert [d.id for d in page.items] == [ids[0]]  # the top-secret one, the province's: hidden
    typed = search_documents(uow, actor, base, "Phản Biện XÃ HỘI", limit=10)
    assert [d.id for d in typed.items] == [ids[0]]
    snippet = page.snippets[ids[0]]
    assert snippet is not None and "phản biện xã hội" in snippet.text
    assert search_documents(uow, actor, base, "phan bien -dat", limit=10).items == []
    assert [d.id for d in search_documents(uow, actor, base, "1/KH", limit=10).items] == [ids[0]]
    # The province's clerk finds the province's document only.
    with factory() as s:
        other = load_actor(s, province_clerk, local_date(uow.now()))
    base = select(Document).where(access.visible_clause(other))
    found = search_documents(uow, other, base, "phan bien xa hoi", limit=10)
    assert [d.id for d in found.items] == [ids[2]]
    engine.dispose()
