"""The archive package of a dossier: a BagIt bag (RFC 8493, made by the ``bagit`` library)
with every file of every entry, a metadata file for the dossier and for each document (the
archival metadata of Circular 02/2019/TT-BNV as data: ``docflow/data/archival_metadata.json``,
field list unconfirmed), the table of contents, and SHA-256 manifests; delivered as a ZIP.

Layout (inside the ZIP)::

    bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    data/dossier.json
    data/muc-luc-van-ban.docx                       (when the dossier was closed)
    data/documents/0001/metadata.json
    data/documents/0001/01-signed-v1-Quyet-dinh.pdf

Files are streamed from the object store into a working directory and zipped to a file:
memory stays flat whatever the size of the dossier. File names are made safe (ASCII letters,
digits, ``.-_``): names given by senders never choose a path.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import unicodedata
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import bagit
from sqlalchemy import select

from docflow import audit
from docflow.actors import Actor
from docflow.dossiers.queries import (
    DossierView,
    build_view,
    ensure_visible,
    ensure_whole_record,
    load_dossier,
)
from docflow.dossiers.states import DossierState
from docflow.dossiers.toc import retention_label
from docflow.enums import Secrecy
from docflow.errors import ConflictError
from docflow.models import Document
from docflow.uow import UnitOfWork
from docflow.workdays import local_date

DOSSIER_SOURCES = frozenset(
    {
        "archival_code",
        "organization_code",
        "organization_name",
        "year",
        "code",
        "title",
        "retention",
        "access_regime",
        "language",
        "start_date",
        "end_date",
        "document_count",
        "page_total",
        "unit",
        "keeper",
        "physical_state",
        "note",
    }
)
DOCUMENT_SOURCES = frozenset(
    {
        "archival_code",
        "dossier_code",
        "position",
        "number",
        "notation",
        "date",
        "doc_type",
        "subject",
        "issuer",
        "language",
        "page_count",
        "secrecy",
        "urgency",
        "signer",
        "signer_position",
        "note",
    }
)


@dataclass(frozen=True)
class MetadataField:
    key: str
    label: str
    source: str


@dataclass(frozen=True)
class MetadataFields:
    dossier: tuple[MetadataField, ...]
    document: tuple[MetadataField, ...]


def parse_fields(data: dict[str, Any]) -> MetadataFields:
    """The field list from its JSON form; an unknown source is an error (a typo would
    otherwise silently drop a field from every package)."""

    def one(kind: str, allowed: frozenset[str]) -> tuple[MetadataField, ...]:
        out = []
        for f in data[kind]:
            if f["source"] not in allowed:
                raise ValueError(f"unknown {kind} metadata source: {f['source']!r}")
            out.append(MetadataField(str(f["key"]), str(f["label"]), str(f["source"])))
        return tuple(out)

    return MetadataFields(one("dossier", DOSSIER_SOURCES), one("document", DOCUMENT_SOURCES))


@cache
def default_fields() -> MetadataFields:
    raw = resources.files("docflow").joinpath("data/archival_metadata.json").read_text("utf-8")
    return parse_fields(json.loads(raw))


def load_fields(path: str | None) -> MetadataFields:
    """The configured field list (a JSON file in the shape of the default), or the default."""
    if not path:
        return default_fields()
    return parse_fields(json.loads(Path(path).read_text("utf-8")))


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, *, limit: int = 100) -> str:
    """An ASCII file name for ``name`` (Vietnamese letters lose their marks; anything else
    becomes ``-``; no leading dot; never empty)."""
    text = name.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _UNSAFE.sub("-", text).strip(".-_")
    if len(text) > limit:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: limit - len(ext) - 1] + "." + ext) if dot and len(ext) <= 8 else text[:limit]
    return text or "tep"


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def dossier_values(view: DossierView) -> dict[str, Any]:
    return {
        "archival_code": f"{view.organization_code}.{view.year}.{view.code}",
        "organization_code": view.organization_code,
        "organization_name": view.organization_name,
        "year": view.year,
        "code": view.code,
        "title": view.title,
        "retention": retention_label(view.retention_years),
        "access_regime": "Hạn chế" if view.secrecy != "none" else "Công khai",
        "language": "Tiếng Việt",
        "start_date": _iso(view.start_date),
        "end_date": _iso(view.end_date),
        "document_count": view.document_count,
        "page_total": view.page_total,
        "unit": view.unit_name,
        "keeper": view.keeper_name,
        "physical_state": "Bình thường",
        "note": view.note,
    }


def _document_values(
    view: DossierView, position: int, doc: Document | None, item: Any
) -> dict[str, Any]:
    secrecy = Secrecy(item.secrecy).label if item.secrecy else None
    return {
        "archival_code": (f"{view.organization_code}.{view.year}.{view.code}.{position:04d}"),
        "dossier_code": view.code,
        "position": position,
        "number": doc.register_number if doc else None,
        "notation": item.notation,
        "date": _iso(item.date),
        "doc_type": item.doc_type if item.kind == "document" else "Nhiệm vụ",
        "subject": item.subject,
        "issuer": item.issuer,
        "language": "Tiếng Việt",
        "page_count": item.page_count,
        "secrecy": secrecy,
        "urgency": doc.urgency if doc else None,
        "signer": doc.signer_name if doc else None,
        "signer_position": doc.signer_position if doc else None,
        "note": doc.note if doc else None,
    }


def _as_metadata(fields: tuple[MetadataField, ...], values: dict[str, Any]) -> dict[str, Any]:
    return {f.key: {"label": f.label, "value": values.get(f.source)} for f in fields}


@dataclass(frozen=True)
class _Plan:
    """What the package holds, read in one transaction; the bytes are copied after it."""

    view: DossierView
    documents: dict[uuid.UUID, Document]
    toc_key: str | None


def _plan(uow: UnitOfWork, actor: Actor, dossier_id: uuid.UUID) -> _Plan:
    with uow:
        s = uow.session
        d = ensure_visible(actor, load_dossier(s, dossier_id))
        if d.state == DossierState.OPEN.value:
            raise ConflictError(
                "Hồ sơ đang lập: kết thúc hồ sơ trước khi lập gói nộp lưu.", code="dossier_open"
            )
        ensure_whole_record(s, actor, d)
        view = build_view(uow, None, d)
        ids = [i.document_id for i in view.items if i.document_id is not None]
        docs = {x.id: x for x in s.scalars(select(Document).where(Document.id.in_(ids)))}
        for x in docs.values():
            s.expunge(x)
        audit.record_read(uow, actor, "dossier_package", object_type="dossier", object_id=d.id)
        uow.commit()
        return _Plan(view, docs, d.toc_docx_key)


def _copy(store: Any, key: str, target: Path) -> None:
    with store.open(key, verify=True) as reader, target.open("wb") as out:
        for chunk in reader.iter_chunks():
            out.write(chunk)


def build_package(
    uow: UnitOfWork,
    actor: Actor,
    dossier_id: uuid.UUID,
    workdir: Path,
    *,
    fields: MetadataFields | None = None,
    on_file: Callable[[int], None] | None = None,
) -> tuple[Path, str]:
    """Make the bag of the dossier in ``workdir``; return the path of its ZIP and the name to
    give it. The caller owns ``workdir`` (and removes it after sending the ZIP)."""
    fields = fields or default_fields()
    plan = _plan(uow, actor, dossier_id)
    view = plan.view
    store = uow.store
    bag_dir = workdir / "bag"
    docs_dir = bag_dir / "documents"
    docs_dir.mkdir(parents=True)
    (bag_dir / "dossier.json").write_text(
        json.dumps(
            {
                "dossier_id": str(view.id),
                "metadata": _as_metadata(fields.dossier, dossier_values(view)),
                "documents": [
                    {
                        "position": n,
                        "kind": item.kind,
                        "id": str(item.document_id or item.task_id),
                        "path": f"documents/{n:04d}",
                    }
                    for n, item in enumerate(view.items, start=1)
                ],
            },
            ensure_ascii=False,
            indent=2,
        ),
        "utf-8",
    )
    if plan.toc_key is not None:
        _copy(store, plan.toc_key, bag_dir / "muc-luc-van-ban.docx")
    for n, item in enumerate(view.items, start=1):
        folder = docs_dir / f"{n:04d}"
        folder.mkdir()
        doc = plan.documents.get(item.document_id) if item.document_id else None
        files = []
        for k, f in enumerate(item.files, start=1):
            name = f"{k:02d}-{safe_name(f.kind)}-v{f.version}-{safe_name(f.name)}"
            _copy(store, f.object_key, folder / name)
            files.append(
                {
                    "path": name,
                    "name": f.name,
                    "kind": f.kind,
                    "version": f.version,
                    "size": f.size,
                    "sha256": f.sha256,
                    "content_type": f.content_type,
                }
            )
            if on_file is not None:
                on_file(f.size)
        (folder / "metadata.json").write_text(
            json.dumps(
                {
                    "kind": item.kind,
                    "id": str(item.document_id or item.task_id),
                    "metadata": _as_metadata(fields.document, _document_values(view, n, doc, item)),
                    "files": files,
                },
                ensure_ascii=False,
                indent=2,
            ),
            "utf-8",
        )
    bagit.make_bag(
        str(bag_dir),
        bag_info={
            "Source-Organization": view.organization_name,
            "Organization-Address": view.organization_code,
            "External-Identifier": f"{view.organization_code}.{view.year}.{view.code}",
            "External-Description": view.title[:500],
            "Bagging-Date": local_date(uow.now()).isoformat(),  # Hà Nội's day
            "Bag-Group-Identifier": f"{view.organization_code}.{view.year}",
        },
        checksums=["sha256"],
        processes=1,
    )
    archive = workdir / "package.zip"
    with zipfile.ZipFile(archive, "w", allowZip64=True) as z:
        for path in sorted(bag_dir.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(bag_dir).as_posix()
            small = path.suffix in (".txt", ".json")
            z.write(
                path,
                rel,
                compress_type=zipfile.ZIP_DEFLATED if small else zipfile.ZIP_STORED,
            )
    shutil.rmtree(bag_dir)
    return archive, package_name(view.code, view.year)


def package_name(view_code: str, year: int) -> str:
    return f"ho-so-{year}-{safe_name(view_code)}.zip"
