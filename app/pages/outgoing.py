"""Outgoing documents on the pages: the boxes (drafts, review, to sign, to issue), the drafting
form (template or upload), one document with its pages, versions, comment thread, the actions
allowed now and the trail."""

from __future__ import annotations

import uuid
from typing import Any

import pydantic
from flask import Response, abort, flash, redirect, render_template, request, url_for

from app.auth import actor_required, page_auth
from app.errors import ApiError, pydantic_fields
from app.pages import bp
from app.pages.documents import _date
from app.pages.dossiers import filing_context
from app.pages.forms import domain_errors
from app.pdf_preview import DEFAULT_DPI, MAX_DPI, MIN_DPI, Mark, PreviewError, render_page
from app.runtime import make_uow, runtime
from app.sandbox import Sandbox
from app.uploads import uploads
from docflow import Actor, DomainError, directory
from docflow.documents import queries as documents
from docflow.documents.states import URGENCY_LABELS
from docflow.enums import Direction, Role, Secrecy
from docflow.models import Document, DocumentFile, DraftVersion
from docflow.outgoing import actions as outgoing_actions
from docflow.outgoing import drafts as outgoing
from docflow.outgoing import may_be_signer, may_draft, may_edit_draft, replacements
from docflow.outgoing import versions as outgoing_versions
from docflow.outgoing.commands import DraftMeta, TemplateDraft, TemplateVersion
from docflow.outgoing.replacements import REPLACES_LABELS, ReplacesKind
from docflow.outgoing.states import (
    COMPETENCES,
    OUTGOING_ACTION_LABELS,
    OUTGOING_LABELS,
    OutgoingAction,
    OutgoingState,
)
from docflow.pagination import Page
from docflow.workdays import local_date

MAX_PAGE_NUMBER = 500  # the page-image view draws pages 1..MAX_PAGE_NUMBER
BOXES = {
    "inbox": "Chờ tôi xử lý",
    "processing": "Đang soạn, trình ký",
    "done": "Đã ban hành",
    "all": "Tất cả",
}
TRAIL_LABELS: dict[str, str] = {
    "draft": "Soạn dự thảo",
    "new_version": "Cập nhật dự thảo",
    "attach": "Thêm tệp đính kèm",
    "delivery_retry": "Gửi lại qua Trục liên thông",
    "delivery_cancel": "Hủy gửi",
    **{a.value: label for a, label in OUTGOING_ACTION_LABELS.items()},
    **replacements.TRAIL_LABELS,
}
FILE_KINDS = {
    "draft": "Dự thảo (tệp gốc)",
    "prepared": "Dự thảo (PDF)",
    "signed": "Đã ký duyệt",
    "main": "Văn bản ban hành",
    "attachment": "Tệp đính kèm",
    "searchable": "PDF tìm kiếm được",  # the OCR's copy of a scan (docflow.search)
}


def _labels() -> dict[str, Any]:
    return {
        "states": {s.value: label for s, label in OUTGOING_LABELS.items()},
        "urgency_labels": URGENCY_LABELS,
        "trail_labels": TRAIL_LABELS,
        "file_kinds": FILE_KINDS,
    }


@bp.get("/outgoing")
@page_auth
def outgoing_list() -> Any:
    actor = actor_required()
    box = request.args.get("box", "inbox")
    if box not in BOXES:
        box = "inbox"
    query = documents.DocumentQuery(
        direction="outgoing",
        box=box,  # type: ignore[arg-type]
        q=request.args.get("q") or None,
        state=request.args.get("state") or None,
        date_from=_date(request.args.get("from")),
        date_to=_date(request.args.get("to")),
        cursor=request.args.get("cursor") or None,
        limit=30,
    )
    error = None
    try:
        page = documents.list_documents(make_uow(), actor, query)
    except DomainError as exc:
        error, page = exc.message, Page([], None)
    uow = make_uow()
    books = []
    if actor.has_role(Role.CLERK) or actor.has_role(Role.LEADER):
        books = directory.list_registers(
            uow,
            actor,
            actor.organization_id,
            direction=Direction.OUTGOING,
            year=local_date(uow.now()).year,
        )
    return render_template(
        "outgoing/list.html",
        page=page,
        query=query,
        box=box,
        boxes=BOXES,
        args=request.args,
        error=error,
        books=books,
        can_draft=may_draft(actor.effective_roles),
        can_sign_many=may_be_signer(actor.effective_roles),
        next_url=url_for(
            "pages.outgoing_list", box=box, q=request.args.get("q"), cursor=page.next_cursor
        )
        if page.next_cursor
        else None,
        **_labels(),
    )


# ---------------------------------------------------------------- drafting


def _draft_data() -> dict[str, Any]:
    f = request.form
    data: dict[str, Any] = {
        k: f.get(k, "").strip()
        for k in (
            "doc_type",
            "subject",
            "urgency",
            "signer_user_id",
            "competence",
            "authority",
            "place",
            "due_date",
            "note",
            "body",
            "replaces_document_id",
            "replaces_kind",
            "secrecy",  # a replacement's: the form carries the replaced document's
        )
        if f.get(k, "").strip()
    }
    recipients: list[dict[str, Any]] = [{"organization_id": v} for v in f.getlist("recipient_org")]
    # Picked from the axis's directory: the name comes from the directory.
    recipients += [{"code": code.strip()} for code in _picked_codes()]
    for line in f.get("external", "").splitlines():
        code, _, name = line.strip().partition(" ")
        if code:
            recipients.append({"code": code.upper(), "name": name.strip() or None})
    data["recipients"] = recipients
    return data


def _picked_codes() -> list[str]:
    return list(
        dict.fromkeys(c.strip() for c in request.form.getlist("recipient_code") if c.strip())
    )


def _agency_choices(actor: Actor) -> dict[str, Any]:
    """The recipient picker's external organisations: those matching the search box (typed
    without diacritics or not), with the ones already picked kept first and checked."""
    q = (request.values.get("agency_q") or "").strip()[:200]
    picked = _picked_codes()
    found = directory.search_agencies(make_uow(), actor, q=q or None, limit=50).items
    chosen = directory.agencies_by_code(make_uow(), actor, picked)
    rest = [a for a in found if a.code not in picked]
    return {"agency_q": q, "agency_choices": chosen + rest, "picked_codes": set(picked)}


def _form_context(actor: Actor) -> dict[str, Any]:
    uow = make_uow()
    signers = [
        u for u in directory.list_users(uow, actor, actor.organization_id) if may_be_signer(u.roles)
    ]
    organisations = [
        o
        for o in directory.list_organizations(uow, actor, limit=200).items
        if o.id != actor.organization_id
    ]
    return {
        "doc_types": documents.document_types(make_uow()),
        "signers": signers,
        "directory": organisations,
        "competences": COMPETENCES,
        "urgency_labels": URGENCY_LABELS,
        **_agency_choices(actor),
    }


@bp.route("/outgoing/new", methods=["GET", "POST"])
@page_auth
def outgoing_new() -> Any:
    actor = actor_required()
    if not may_draft(actor.effective_roles):
        abort(403)
    errors: dict[str, str] = {}
    status = 200
    mode = request.form.get("mode", request.args.get("mode", "template"))
    replacing = _replacing(actor)
    form: Any = request.form
    chosen = set(request.form.getlist("recipient_org"))
    if request.method == "GET" and replacing is not None:  # the form starts from the document
        form = _replacement_start(replacing)
        chosen = set(replacing.organization_ids)
    if request.method == "POST" and request.form.get("find_agency"):
        pass  # the search button of the recipient picker (without JavaScript): show the form
    elif request.method == "POST":
        data = _draft_data()
        try:
            if mode == "upload":
                data.pop("body", None)
                meta = DraftMeta.model_validate(data)
                doc = outgoing.create_draft(make_uow(), actor, meta, uploads("draft"))
            else:
                doc = outgoing.create_template_draft(
                    make_uow(), actor, TemplateDraft.model_validate(data)
                )
        except pydantic.ValidationError as exc:
            # "recipients.0.code" → the recipients box
            errors = {k.split(".")[0]: v for k, v in reversed(pydantic_fields(exc).items())}
            status = 422
        except DomainError as exc:
            errors, status = domain_errors(exc), getattr(exc, "http_status", None) or 422
        else:
            flash("Đã tạo dự thảo.", "success")
            return redirect(url_for("pages.outgoing_page", document_id=doc.id))
    return render_template(
        "outgoing/new.html",
        errors=errors,
        form=form,
        mode=mode,
        chosen=chosen,
        replacing=replacing,
        replaces_labels=REPLACES_LABELS,
        secrecy_labels={s.value: s.label for s in Secrecy},
        **_form_context(actor),
    ), status


def _replacing(actor: Actor) -> replacements.DraftForm | None:
    """The document a replacement or correction is drafted for (``?replaces=<id>&kind=``
    from its page, then the form's hidden fields), if the person may see it (404 otherwise)."""
    raw = request.values.get("replaces_document_id") or request.args.get("replaces")
    if not raw:
        return None
    kind = request.values.get("replaces_kind") or request.args.get("kind") or "replace"
    try:
        document_id, chosen = uuid.UUID(raw), ReplacesKind(kind)
    except ValueError:
        abort(404)
    found = replacements.draft_form(make_uow(), actor, document_id, chosen)
    if found is None:
        abort(404)
    return found


def _replacement_start(r: replacements.DraftForm) -> dict[str, str]:
    """The form's fields as a replacement or correction of ``r.replaced`` starts."""
    old = r.replaced
    return {
        "doc_type": r.doc_type,
        "subject": r.subject,
        "urgency": old.urgency,
        "signer_user_id": str(old.signer_user_id or ""),
        "competence": old.signer_competence or "TM.",
        "authority": old.signer_authority or "Ban Thường trực",
        "place": old.issue_place or "",
        "external": "\n".join(f"{code} {name}".strip() for code, name in r.external),
        "replaces_document_id": str(old.id),
        "replaces_kind": r.kind.value,
        "secrecy": old.secrecy,
        "body": r.body,
    }


# ---------------------------------------------------------------- one document


def preview_file(doc: Document, version: DraftVersion | None) -> DocumentFile | None:
    """What the page shows: the issued PDF, else the signed one, else the current draft's."""
    for kind in ("main", "signed"):
        rows = [f for f in doc.files if f.kind == kind]
        if rows:
            return max(rows, key=lambda f: (f.version, f.created_at))
    if version is not None and version.pdf_file_id is not None:
        return next((f for f in doc.files if f.id == version.pdf_file_id), None)
    return None


def thread(trail: list[Any]) -> list[Any]:
    """The comment thread: steps with something said, or that moved the review."""
    moves = {"submit_for_review", "request_changes", "approve", "sign", "comment", "new_version"}
    return [e for e in trail if e.comment or e.action in moves]


@bp.get("/outgoing/<uuid:document_id>")
@page_auth
def outgoing_page(document_id: uuid.UUID) -> Any:
    actor = actor_required()
    uow = make_uow()
    doc = documents.get_document(uow, actor, document_id)
    if doc.direction != "outgoing":
        return redirect(url_for("pages.document_page", document_id=doc.id))
    allowed = outgoing_actions.allowed_actions(actor, doc)
    versions = outgoing_versions.list_versions(uow, actor, document_id)
    current = next((v for v in versions if v.version == doc.draft_version), None)
    trail = documents.get_trail(uow, actor, document_id)
    state = OutgoingState(doc.state)
    editable = may_edit_draft(actor, doc)
    context: dict[str, Any] = filing_context(actor, doc.id)
    if "submit_for_review" in allowed:
        context["people"] = [
            u
            for u in directory.list_users(uow, actor, actor.organization_id)
            if u.id != actor.user_id
        ]
    return render_template(
        "outgoing/show.html",
        doc=doc,
        state=state,
        allowed=allowed,
        versions=versions,
        current=current,
        preview=preview_file(doc, current),
        trail=trail,
        thread=thread(trail),
        links=documents.document_links(uow, actor, [doc]).get(doc.id),
        replace_kinds=replacements.kinds_offered(uow, actor, doc),
        editable=editable,
        action_labels=OUTGOING_ACTION_LABELS,
        A=OutgoingAction,
        **_labels(),
        **context,
    )


def _action_params() -> dict[str, Any]:
    f = request.form
    return {
        key: f[key].strip()
        for key in ("comment", "reason", "to_user_id", "register_id", "method", "pin", "otp")
        if f.get(key, "").strip()
    }


@bp.post("/outgoing/<uuid:document_id>/act")
@page_auth
def outgoing_act(document_id: uuid.UUID) -> Any:
    actor = actor_required()
    action = request.form.get("action", "")
    back = request.form.get("back") or url_for("pages.outgoing_page", document_id=document_id)
    try:
        outgoing_actions.act(make_uow(), actor, document_id, action, _action_params())
    except pydantic.ValidationError as exc:
        flash("Chưa thực hiện được: " + "; ".join(pydantic_fields(exc).values()), "danger")
        return redirect(back)
    except DomainError as exc:
        flash("Chưa thực hiện được: " + "; ".join(domain_errors(exc).values()), "danger")
        return redirect(back)
    label = OUTGOING_ACTION_LABELS.get(OutgoingAction(action), action)
    flash(f"Đã thực hiện: {label}.", "success")
    if action == "dispatch":
        return redirect(url_for("pages.outgoing_deliveries", document_id=document_id))
    if action == "issue":  # the issued document, and the dispatch button, on the same screen
        return redirect(url_for("pages.outgoing_issue_screen", document_id=document_id))
    return redirect(url_for("pages.outgoing_page", document_id=document_id))


@bp.post("/outgoing/<uuid:document_id>/versions")
@page_auth
def outgoing_upload_version(document_id: uuid.UUID) -> Any:
    kind = request.form.get("kind") or "draft"
    try:
        doc = outgoing_versions.add_version(
            make_uow(),
            actor_required(),
            document_id,
            uploads(kind),
            kind=kind,
            note=request.form.get("note") or None,
        )
    except DomainError as exc:
        flash("Chưa tải lên được: " + "; ".join(domain_errors(exc).values()), "danger")
    else:
        flash(f"Đã lưu bản dự thảo {doc.draft_version}.", "success")
    return redirect(url_for("pages.outgoing_page", document_id=document_id))


@bp.post("/outgoing/<uuid:document_id>/versions/template")
@page_auth
def outgoing_template_version(document_id: uuid.UUID) -> Any:
    try:
        cmd = TemplateVersion.model_validate(
            {
                k: request.form[k].strip()
                for k in ("body", "subject", "note")
                if request.form.get(k, "").strip()
            }
        )
        doc = outgoing_versions.add_template_version(make_uow(), actor_required(), document_id, cmd)
    except pydantic.ValidationError as exc:
        flash("Chưa lưu được: " + "; ".join(pydantic_fields(exc).values()), "danger")
    except DomainError as exc:
        flash("Chưa lưu được: " + "; ".join(domain_errors(exc).values()), "danger")
    else:
        flash(f"Đã lưu bản dự thảo {doc.draft_version}.", "success")
    return redirect(url_for("pages.outgoing_page", document_id=document_id))


# One view, two addresses: an incoming document's page asks under /documents/ (its file's own
# address), an outgoing one's under /outgoing/. Either reads the file through get_file, so the
# visibility and clearance checks are the file route's own.
@bp.get(
    "/documents/<uuid:document_id>/files/<uuid:file_id>/pages/<int:number>.png",
    endpoint="document_page_image",
)
@bp.get("/outgoing/<uuid:document_id>/files/<uuid:file_id>/pages/<int:number>.png")
@page_auth
def outgoing_page_image(document_id: uuid.UUID, file_id: uuid.UUID, number: int) -> Response:
    """One page of a PDF as an image (the preview works on every phone and browser)."""
    uow = make_uow()
    row = documents.get_file(uow, actor_required(), document_id, file_id, purpose="preview")
    if row.content_type != "application/pdf" or not 1 <= number <= MAX_PAGE_NUMBER:
        abort(404)
    pdf = _read(uow, row)
    return _png(pdf, number, [])


def _read(uow: Any, row: DocumentFile) -> bytes:
    with documents.open_document_file(uow, row) as reader:
        return b"".join(reader.iter_chunks())


def preview_dpi() -> int:
    """The ``dpi`` query parameter of page images: MIN_DPI..MAX_DPI, else 422."""
    raw = request.args.get("dpi", "") or str(DEFAULT_DPI)
    if not raw.isdigit() or not MIN_DPI <= int(raw) <= MAX_DPI:
        raise ApiError(
            422,
            "invalid_field",
            f"Độ phân giải (dpi) phải là số nguyên từ {MIN_DPI} đến {MAX_DPI}.",
            {"fields": {"dpi": f"{MIN_DPI}..{MAX_DPI}"}},
        )
    return int(raw)


def _png(pdf: bytes, number: int, marks: list[Mark]) -> Response:
    dpi = preview_dpi()
    sandbox = Sandbox(runtime().settings.sandbox)
    try:
        data = render_page(pdf, number, dpi=dpi, marks=marks, sandbox=sandbox)
    except (PreviewError, ValueError):
        abort(404)
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/outgoing/agencies")
@page_auth
def outgoing_agency_search() -> Any:
    """The recipient picker's search-as-you-type (JSON, same as GET /api/v1/directory/agencies
    but with the page's session)."""
    q = (request.args.get("q") or "").strip()[:200]
    try:
        page = directory.search_agencies(make_uow(), actor_required(), q=q or None, limit=20)
    except DomainError as exc:
        return {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}, 422
    return {
        "items": [
            {"code": a.code, "name": a.name, "parent_code": a.parent_code or None}
            for a in page.items
        ],
        "next_cursor": page.next_cursor,
    }
