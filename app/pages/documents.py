"""Incoming documents on the pages: the boxes, the registration form, one document with the
actions allowed now, its trail, files and exports."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pydantic
from flask import Response, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from app.api.documents import stream_file
from app.api.exports import register_export, slip_response
from app.auth import actor_required, page_auth
from app.errors import pydantic_fields
from app.pages import bp
from app.pages.dossiers import filing_context
from app.pages.forms import domain_errors
from app.runtime import make_uow
from app.uploads import uploads
from docflow import DomainError, directory, incoming, search
from docflow.documents import queries as documents
from docflow.documents.states import URGENCY_LABELS
from docflow.enums import Direction, Role, Secrecy
from docflow.incoming.commands import RegisterIncoming
from docflow.incoming.states import (
    ACTION_LABELS,
    INCOMING_LABELS,
    SOURCES,
    AssignmentRole,
    IncomingAction,
    IncomingState,
)
from docflow.models import DocumentFile, DocumentType
from docflow.outgoing.replacements import TRAIL_LABELS
from docflow.pagination import Page
from docflow.workdays import local_date

BOXES = {"inbox": "Chờ xử lý", "processing": "Đang xử lý", "done": "Đã xong", "all": "Tất cả"}
# The incoming page offers images of the first SHOWN_PAGES of its PDF (a longer PDF: "Mở tệp
# PDF" for the rest).
SHOWN_PAGES = 100


def _doc_types() -> list[DocumentType]:
    return documents.document_types(make_uow())


@bp.get("/documents")
@page_auth
def document_list() -> Any:
    actor = actor_required()
    box = request.args.get("box", "inbox")
    if box not in BOXES:
        box = "inbox"
    q = documents.DocumentQuery(
        direction="incoming",
        box=box,  # type: ignore[arg-type]
        q=request.args.get("q") or None,
        doc_type=request.args.get("doc_type") or None,
        state=request.args.get("state") or None,
        date_from=_date(request.args.get("from")),
        date_to=_date(request.args.get("to")),
        cursor=request.args.get("cursor") or None,
        limit=30,
    )
    error = None
    try:
        page = documents.list_documents(make_uow(), actor, q)
    except DomainError as exc:
        error, page = exc.message, Page([], None)
    marks = documents.deadlines(make_uow(), page.items)
    return render_template(
        "documents/list.html",
        page=page,
        marks=marks,
        snippets=highlighted(page),
        box=box,
        boxes=BOXES,
        args=request.args,
        error=error,
        doc_types=_doc_types(),
        states=INCOMING_LABELS,
        urgency_labels=URGENCY_LABELS,
        can_register=incoming.may_register(actor),
        next_url=url_for(
            "pages.document_list",
            **{k: v for k, v in request.args.items() if k != "cursor"},  # type: ignore[arg-type]
            cursor=page.next_cursor,
        )
        if page.next_cursor
        else None,
    )


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _registration_meta() -> dict[str, Any]:
    f = request.form
    meta: dict[str, Any] = {
        k: f.get(k, "").strip()
        for k in (
            "notation",
            "doc_type",
            "subject",
            "issued_date",
            "urgency",
            "secrecy",
            "source",
            "recipients_text",
            "note",
        )
        if f.get(k, "").strip()
    }
    issuer: dict[str, Any] = {"name": f.get("issuer_name", "").strip()}
    if f.get("issuer_code", "").strip():
        issuer["code"] = f.get("issuer_code", "").strip().upper()
    meta["issuer"] = issuer
    for key in ("due_date", "register_id"):
        if f.get(key):
            meta[key] = f[key]
    for key in ("due_in_working_days", "page_count"):
        if f.get(key, "").strip():
            meta[key] = f[key].strip()
    if f.get("confirm_duplicate") == "on":
        meta["confirm_duplicate"] = True
    return meta


@bp.route("/incoming/new", methods=["GET", "POST"])
@page_auth
def incoming_new() -> Any:
    actor = actor_required()
    uow = make_uow()
    errors: dict[str, str] = {}
    duplicate = None
    status = 200
    if request.method == "POST":
        try:
            cmd = RegisterIncoming.model_validate(_registration_meta())
            files = uploads("main", rest="attachment")
            doc = incoming.register_incoming(make_uow(), actor, cmd, files)
        except pydantic.ValidationError as exc:
            errors, status = (
                {k.replace("issuer.", "issuer_"): v for k, v in pydantic_fields(exc).items()},
                422,
            )
        except DomainError as exc:
            errors, status = domain_errors(exc), getattr(exc, "http_status", None) or 422
            if exc.code == "possible_duplicate":
                duplicate, status = exc.details, 409
        else:
            flash(f"Đã vào sổ: số đến {doc.register_number:02d}.", "success")
            if request.form.get("next") == "new":
                return redirect(url_for("pages.incoming_new"))
            return redirect(url_for("pages.document_page", document_id=doc.id))
    regs = directory.list_registers(
        uow,
        actor,
        actor.organization_id,
        direction=Direction.INCOMING,
        year=local_date(uow.now()).year,
    )
    return render_template(
        "documents/new.html",
        errors=errors,
        form=request.form,
        duplicate=duplicate,
        doc_types=_doc_types(),
        registers=regs,
        urgency_labels=URGENCY_LABELS,
        secrecy=list(Secrecy),
        sources=SOURCES,
        today=local_date(uow.now()),
        issuers=[o.name for o in directory.list_organizations(uow, actor, limit=200).items],
    ), status


def highlighted(page: Any) -> dict[uuid.UUID, Markup]:
    """The snippets of a search page with the matches in <mark> (the text itself escaped)."""
    if not isinstance(page, search.SearchPage):
        return {}
    out: dict[uuid.UUID, Markup] = {}
    for doc_id, found in page.snippets.items():
        if found is None:
            continue
        parts, at = [], 0
        for start, end in found.marks:
            parts.append(escape(found.text[at:start]))
            parts.append(Markup("<mark>") + escape(found.text[start:end]) + Markup("</mark>"))
            at = end
        parts.append(escape(found.text[at:]))
        out[doc_id] = Markup("").join(parts)
    return out


def pdf_pages(uow: Any, doc: Any, row: DocumentFile) -> int | None:
    """How many pages the PDF ``row`` has, as far as is known without opening it on the
    request path: the pages its reading for search found (the worker read it in its sandbox),
    else the document's «Số trang» (the sender's or the clerk's); None when neither is known
    (the page then offers the first page's image and the link to the whole file)."""
    return search.page_count(uow, row.id) or doc.page_count or None


@bp.get("/documents/<uuid:document_id>")
@page_auth
def document_page(document_id: uuid.UUID) -> Any:
    actor = actor_required()
    uow = make_uow()
    doc = documents.get_document(uow, actor, document_id)
    if doc.direction == "outgoing":
        return redirect(url_for("pages.outgoing_page", document_id=doc.id))
    allowed = incoming.allowed_actions(actor, doc)
    context: dict[str, Any] = {}
    if "submit" in allowed:
        context["leaders"] = directory.list_users(
            uow, actor, actor.organization_id, role=Role.LEADER
        )
    if "assign" in allowed:
        context["targets"] = _assign_targets(actor, doc)
    if "register" in allowed:
        context["registers"] = directory.list_registers(
            uow,
            actor,
            actor.organization_id,
            direction=Direction.INCOMING,
            year=local_date(uow.now()).year,
        )
    context.update(
        filing_context(
            actor,
            doc.id,
            completed=doc.state == IncomingState.DONE or request.args.get("xong") == "1",
        )
    )
    # The PDF the page shows: in a frame on a desktop, as page images on a phone or a touch
    # screen (their browsers show a framed PDF empty, or its first page only).
    shown = next((f for f in doc.files if f.content_type == "application/pdf"), None)
    total = pdf_pages(uow, doc, shown) if shown is not None else None
    return render_template(
        "documents/show.html",
        doc=doc,
        allowed=allowed,
        trail=documents.get_trail(uow, actor, document_id),
        text_notes=search.text_notes(uow, doc),
        mark=documents.deadlines(uow, [doc]).get(doc.id),
        links=documents.document_links(uow, actor, [doc]).get(doc.id),
        states=INCOMING_LABELS,
        state=IncomingState(doc.state),
        action_labels={**ACTION_LABELS, **TRAIL_LABELS},
        roles={r.value: r.label for r in AssignmentRole},
        urgency_labels=URGENCY_LABELS,
        sources=SOURCES,
        secrecy_label=Secrecy(doc.secrecy).label,
        today=local_date(uow.now()),
        shown_pdf=shown,
        pdf_pages=total,
        shown_pages=min(total or 1, SHOWN_PAGES),
        **context,
    )


def _assign_targets(actor: Any, doc: Any) -> dict[str, list[tuple[str, str]]]:
    """Leaders direct to units or people of the organisation; a unit head, to the unit's people."""
    uow = make_uow()
    people = directory.list_users(uow, actor, actor.organization_id)
    if incoming.leader_directs(actor, doc):
        units = directory.list_units(uow, actor, actor.organization_id)
        return {
            "units": [(f"unit:{u.id}", u.name) for u in units if u.active],
            "people": [
                (f"user:{p.id}", f"{p.full_name} — {p.position or ''}")
                for p in people
                if p.id != actor.user_id
            ],
        }
    return {
        "units": [],
        "people": [
            (f"user:{p.id}", f"{p.full_name} — {p.position or ''}")
            for p in people
            if p.unit_id == actor.unit_id and p.id != actor.user_id
        ],
    }


def _target(value: str) -> dict[str, str] | None:
    kind, _, ident = value.partition(":")
    if kind in ("unit", "user") and ident:
        return {f"{kind}_id": ident}
    return None


def _action_params(action: str) -> dict[str, Any]:
    f = request.form
    params: dict[str, Any] = {}
    for key in ("comment", "reason", "to_user_id", "register_id", "due_date"):
        if f.get(key, "").strip():
            params[key] = f[key].strip()
    if f.get("due_in_working_days", "").strip():
        params["due_in_working_days"] = f["due_in_working_days"].strip()
    if action == "assign":
        lead = _target(f.get("lead", ""))
        if lead is not None:
            params["lead"] = lead
        params["cooperating"] = [
            t for t in map(_target, f.getlist("cooperating")) if t and t != lead
        ]
        params["informed"] = [t for t in map(_target, f.getlist("informed")) if t and t != lead]
        if not params["informed"]:
            params.pop("informed")
    return params


@bp.post("/documents/<uuid:document_id>/act")
@page_auth
def document_act(document_id: uuid.UUID) -> Any:
    actor = actor_required()
    action = request.form.get("action", "")
    try:
        incoming.act(make_uow(), actor, document_id, action, _action_params(action))
    except pydantic.ValidationError as exc:
        flash("Chưa thực hiện được: " + "; ".join(pydantic_fields(exc).values()), "danger")
    except DomainError as exc:
        details = domain_errors(exc)
        flash("Chưa thực hiện được: " + "; ".join(details.values()), "danger")
    else:
        label = (
            ACTION_LABELS.get(IncomingAction(action))
            if action in IncomingAction._value2member_map_
            else action
        )
        flash(f"Đã thực hiện: {label}.", "success")
        if action == IncomingAction.COMPLETE:
            # Land on the document: its «Đưa vào hồ sơ» card proposes the likely dossier.
            return redirect(url_for("pages.document_page", document_id=document_id, xong=1) + "#ho-so")  # fmt: skip
        if action in ("return", "reject", "submit") or (
            action == "assign" and not incoming.can_still_see(make_uow(), actor, document_id)
        ):
            return redirect(url_for("pages.document_list"))
    return redirect(url_for("pages.document_page", document_id=document_id))


@bp.get("/documents/<uuid:document_id>/files/<uuid:file_id>")
@page_auth
def document_file(document_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    return stream_file(document_id, file_id, inline=request.args.get("download") != "1")


@bp.get("/registers/<uuid:register_id>/export")
@page_auth
def register_export_page(register_id: uuid.UUID) -> Response:
    fmt = "docx" if request.args.get("format") == "docx" else "xlsx"
    return register_export(register_id, fmt)


@bp.get("/documents/<uuid:document_id>/slip")
@page_auth
def document_slip_page(document_id: uuid.UUID) -> Response:
    return slip_response(document_id)
