"""The screens around signing an outgoing document: the leader's signing screen (where the
signature will appear), the clerk's issuing screen (the number and date it will get, where the
seal goes), the deliveries view, and the printable processing trail."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for

from app.auth import actor_required, page_auth
from app.pages import bp
from app.pages.forms import domain_errors
from app.pages.outgoing import _labels, _png, preview_file
from app.pdf_preview import Mark
from app.runtime import make_uow
from docflow import DomainError
from docflow.documents import queries as documents
from docflow.outgoing import actions as outgoing_actions
from docflow.outgoing import axis_deliveries, dispatch, get_account, is_closed
from docflow.outgoing import issue as outgoing_issue
from docflow.outgoing import versions as outgoing_versions
from docflow.outgoing.axis_deliveries import DELIVERY_ACTION_LABELS, DeliveryAction
from docflow.outgoing.states import STATUS_LABELS, DeliveryState, OutgoingState

BLUE, RED = (11, 79, 138), (179, 38, 30)


def _current(uow: Any, actor: Any, doc: Any) -> Any:
    versions = outgoing_versions.list_versions(uow, actor, doc.id)
    return next((v for v in versions if v.version == doc.draft_version), None)


@bp.get("/outgoing/<uuid:document_id>/sign")
@page_auth
def outgoing_sign_screen(document_id: uuid.UUID) -> Any:
    actor = actor_required()
    uow = make_uow()
    doc = documents.get_document(uow, actor, document_id)
    if doc.direction != "outgoing":
        abort(404)
    current = _current(uow, actor, doc)
    allowed = outgoing_actions.allowed_actions(actor, doc)
    return render_template(
        "outgoing/sign.html",
        doc=doc,
        state=OutgoingState(doc.state),
        current=current,
        allowed=allowed,
        layout=current.layout if current else None,
        account=get_account(uow, actor) if "sign" in allowed else None,
        **_labels(),
    )


@bp.get("/outgoing/<uuid:document_id>/issue")
@page_auth
def outgoing_issue_screen(document_id: uuid.UUID) -> Any:
    actor = actor_required()
    uow = make_uow()
    doc = documents.get_document(uow, actor, document_id)
    if doc.direction != "outgoing":
        abort(404)
    register_id = request.args.get("register_id")
    preview = outgoing_issue.preview_issue(
        uow, actor, document_id, uuid.UUID(register_id) if register_id else None
    )
    current = _current(uow, actor, doc)
    return render_template(
        "outgoing/issue.html",
        doc=doc,
        state=OutgoingState(doc.state),
        preview=preview,
        current=current,
        allowed=outgoing_actions.allowed_actions(actor, doc),
        deliveries=dispatch.list_deliveries(uow, actor, document_id),
        issued=preview_file(doc, current) if is_closed(doc) else None,
        **_labels(),
    )


@bp.get("/outgoing/<uuid:document_id>/fields-<stage>.png")
@page_auth
def outgoing_fields_image(document_id: uuid.UUID, stage: str) -> Response:
    """The page that will carry the signature, with the leader's box (blue) and the seal's box
    (red) drawn where the signing will put them."""
    if stage not in ("sign", "issue"):
        abort(404)
    found = outgoing_versions.signing_page(make_uow(), actor_required(), document_id, stage=stage)
    if found is None:
        abort(404)
    pdf, layout = found
    page = int(layout["leader"][0])

    def mark(box: list[float], rgb: tuple[int, int, int]) -> Mark:
        return Mark(box[1], box[2], box[3], box[4], rgb)

    marks = [mark(layout["leader"], BLUE), mark(layout["organization"], RED)]
    if stage == "issue":
        for key in ("number", "date"):
            if layout.get(key) and int(layout[key][0]) == page:
                marks.append(mark(layout[key], RED))
    return _png(pdf, page + 1, marks)


@bp.get("/outgoing/<uuid:document_id>/deliveries")
@page_auth
def outgoing_deliveries(document_id: uuid.UUID) -> Any:
    actor = actor_required()
    uow = make_uow()
    doc = documents.get_document(uow, actor, document_id)
    rows = axis_deliveries.list_with_actions(uow, actor, document_id)
    return render_template(
        "outgoing/deliveries.html",
        doc=doc,
        rows=rows,
        allowed=outgoing_actions.allowed_actions(actor, doc),
        status_labels=STATUS_LABELS,
        delivery_states={s.value: s.label for s in DeliveryState},
        delivery_action_labels={a.value: label for a, label in DELIVERY_ACTION_LABELS.items()},
        **_labels(),
    )


@bp.post("/outgoing/<uuid:document_id>/deliveries/<uuid:delivery_id>/act")
@page_auth
def outgoing_delivery_act(document_id: uuid.UUID, delivery_id: uuid.UUID) -> Any:
    """The clerk retries or cancels one delivery that did not leave."""
    action = request.form.get("action", "")
    try:
        axis_deliveries.act_on_delivery(
            make_uow(), actor_required(), document_id, delivery_id, action
        )
    except DomainError as exc:
        flash("Chưa thực hiện được: " + "; ".join(domain_errors(exc).values()), "danger")
    else:
        label = DELIVERY_ACTION_LABELS.get(DeliveryAction(action), action)
        flash(f"Đã thực hiện: {label}.", "success")
    back = request.form.get("back") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("pages.outgoing_deliveries", document_id=document_id)
    return redirect(back)


@bp.get("/outgoing/<uuid:document_id>/print")
@page_auth
def outgoing_print(document_id: uuid.UUID) -> Any:
    """The processing trail, printable with the document (who drafted, reviewed, signed…)."""
    actor = actor_required()
    uow = make_uow()
    doc = documents.get_document(uow, actor, document_id)
    return render_template(
        "outgoing/print.html",
        doc=doc,
        trail=documents.get_trail(uow, actor, document_id),
        versions=outgoing_versions.list_versions(uow, actor, document_id),
        **_labels(),
    )
