"""Dossier pages (hồ sơ): the list, opening one, one dossier with its documents and moves, bulk
filing from a list, filing from the document page («Đưa vào hồ sơ»), downloads (table of
contents, archive package), and the year's file plan (danh mục hồ sơ) with its XLSX form.

Each view parses the form into the docflow command the API uses, calls one service, renders.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pydantic
from flask import Response, abort, flash, redirect, render_template, request, url_for

from app.auth import actor_required, page_auth
from app.errors import STATUS_OF_KIND, pydantic_fields
from app.pages import bp
from app.pages.forms import domain_errors, year_arg
from app.runtime import make_uow
from docflow import DomainError, directory
from docflow.dossiers import (
    CreateFilePlan,
    DisposalActionCommand,
    DossierAction,
    DossierActionCommand,
    DossierState,
    FileInto,
    FilePlanActionCommand,
    OpenDossier,
    ProposeDisposal,
    act_on_dossier,
    build_package,
    disposal,
    dossier_events,
    dossiers_of_document,
    dossiers_of_task,
    file_into,
    fileplan,
    get_dossier,
    list_dossiers,
    open_dossier,
    open_dossiers_for,
    open_toc,
    policy,
    suggested_dossiers,
)
from docflow.dossiers.queries import filing_candidates
from docflow.dossiers.toc import retention_label
from docflow.enums import Role, Secrecy
from docflow.workdays import local_date
from storage import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filing_context(
    actor: Any,
    document_id: uuid.UUID | None = None,
    *,
    task_id: uuid.UUID | None = None,
    completed: bool = False,
) -> dict[str, Any]:
    """«Đưa vào hồ sơ» on a document's page (incoming and outgoing) or a task's: the dossiers
    it is in, the open ones the reader may file into, the suggested ones first (the first
    pre-selected), and — once the work is completed and it is in no dossier — the prompt to
    file it (docflow.dossiers decides all of them)."""
    if task_id is not None:
        filed_in = dossiers_of_task(make_uow(), actor, task_id)
    elif document_id is not None:
        filed_in = dossiers_of_document(make_uow(), actor, document_id)
    else:
        raise ValueError("document_id or task_id")
    suggestions = suggested_dossiers(make_uow(), actor, document_id, task_id=task_id)
    first = {sug.dossier.id for sug in suggestions}
    filed = {f.id for f in filed_in}
    rest = [o for o in open_dossiers_for(make_uow(), actor) if o.id not in first | filed]
    return {
        "filed_in": filed_in,
        "suggestions": suggestions,
        "open_dossiers": [sug.dossier for sug in suggestions] + rest,
        "filing_task_id": task_id,
        "filing_prompt": completed and not filed_in and bool(suggestions or rest),
    }


def _common() -> dict[str, Any]:
    return {
        "DossierState": DossierState,
        "retention_label": retention_label,
        "secrecy_labels": {s.value: s.label for s in Secrecy},
    }


@bp.get("/dossiers")
@page_auth
def dossiers_page() -> Any:
    actor = actor_required()
    uow = make_uow()
    year = year_arg(None)
    try:
        state = DossierState(request.args["state"]) if request.args.get("state") else None
    except ValueError:
        state = None
    q = (request.args.get("q") or "").strip() or None
    page = list_dossiers(
        uow, actor, year=year, state=state, q=q, cursor=request.args.get("cursor") or None
    )
    can_open = any(actor.has_role(r) for r in (Role.CLERK, Role.LEADER, Role.UNIT_HEAD, Role.SPECIALIST))  # fmt: skip
    return render_template(
        "dossiers/list.html",
        page=page,
        year=year,
        state=state,
        q=q or "",
        can_open=can_open,
        may_dispose=policy.may_propose_disposal(actor, actor.organization_id)
        or policy.may_decide_disposal(actor, actor.organization_id),
        this_year=local_date(uow.now()).year,
        **_common(),
    )


def _new_form(errors: dict[str, str] | None = None, status: int = 200) -> Any:
    actor = actor_required()
    uow = make_uow()
    year = local_date(uow.now()).year
    plan = fileplan.plan_for_year(uow, actor, year)
    units = directory.list_units(uow, actor, actor.organization_id)
    free = (
        [(h, i) for h in plan.headings for i in h.items if i.dossier_id is None]
        if plan is not None
        else []
    )
    return (
        render_template(
            "dossiers/new.html",
            errors=errors or {},
            form=request.form,
            year=year,
            plan_items=free,
            units=units,
            # Only what the person may open: a level above their clearance would be refused.
            secrecy_choices={s.value: s.label for s in Secrecy if s.rank <= actor.clearance.rank},
            **_common(),
        ),
        status,
    )


@bp.get("/dossiers/new")
@page_auth
def dossier_new() -> Any:
    return _new_form()


@bp.post("/dossiers/new")
@page_auth
def dossier_create() -> Any:
    actor = actor_required()
    f = request.form
    data: dict[str, Any] = {
        "organization_id": str(actor.organization_id),
        "year": f.get("year") or "",
    }
    if f.get("plan_item_id"):
        data["plan_item_id"] = f["plan_item_id"]
    else:
        data["code"] = f.get("code", "").strip() or None
        data["title"] = f.get("title", "").strip() or None
        permanent = f.get("retention") == "permanent"
        data["retention_years"] = None if permanent else (f.get("retention_years") or "")
    if f.get("unit_id"):
        data["unit_id"] = f["unit_id"]
    if f.get("secrecy"):
        data["secrecy"] = f["secrecy"]
    if f.get("note", "").strip():
        data["note"] = f["note"]
    try:
        view = open_dossier(make_uow(), actor, OpenDossier.model_validate(data))
    except pydantic.ValidationError as exc:
        return _new_form(pydantic_fields(exc), 422)
    except DomainError as exc:
        return _new_form(domain_errors(exc), STATUS_OF_KIND.get(exc.kind, 422))
    flash("Đã mở hồ sơ.", "success")
    return redirect(url_for("pages.dossier_page", dossier_id=view.id))


def _detail(dossier_id: uuid.UUID, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    actor = actor_required()
    uow = make_uow()
    view = get_dossier(uow, actor, dossier_id)
    q = request.args.get("q") or None
    candidates = (
        filing_candidates(make_uow(), actor, dossier_id, q=q)
        if DossierAction.FILE in view.allowed_actions
        else []
    )
    return (
        render_template(
            "dossiers/show.html",
            d=view,
            events=dossier_events(make_uow(), actor, dossier_id),
            candidates=candidates,
            q=q or "",
            errors=errors or {},
            **_common(),
        ),
        status,
    )


@bp.get("/dossiers/<uuid:dossier_id>")
@page_auth
def dossier_page(dossier_id: uuid.UUID) -> Any:
    return _detail(dossier_id)


@bp.post("/dossiers/<uuid:dossier_id>/act")
@page_auth
def dossier_act(dossier_id: uuid.UUID) -> Any:
    try:
        cmd = DossierActionCommand.model_validate(
            {"action": request.form.get("action", ""), "comment": request.form.get("comment")}
        )
        act_on_dossier(make_uow(), actor_required(), dossier_id, cmd)
    except pydantic.ValidationError as exc:
        return _detail(dossier_id, pydantic_fields(exc), 422)
    except DomainError as exc:
        if exc.kind == "not_found":
            raise
        return _detail(dossier_id, domain_errors(exc), STATUS_OF_KIND.get(exc.kind, 422))
    flash(f"Đã ghi nhận: {DossierAction(cmd.action).label.lower()}.", "success")
    return redirect(url_for("pages.dossier_page", dossier_id=dossier_id))


@bp.post("/dossiers/file")
@page_auth
def dossier_file_chosen() -> Any:
    """«Đưa vào hồ sơ» from the document page: the dossier is chosen in the form."""
    try:
        dossier_id = uuid.UUID(request.form.get("dossier_id", ""))
    except ValueError:
        abort(404)
    return dossier_file(dossier_id)


@bp.post("/dossiers/<uuid:dossier_id>/file")
@page_auth
def dossier_file(dossier_id: uuid.UUID) -> Any:
    """Bulk filing from the dossier page's list (checkboxes), or one document from the
    document page (``back`` returns there)."""
    ids = request.form.getlist("document_ids")
    task_id = request.form.get("task_id")
    back = request.form.get("back")
    try:
        cmd = FileInto.model_validate(
            {"task_id": task_id} if task_id else {"document_ids": ids} if ids else {}
        )
        _, results = file_into(make_uow(), actor_required(), dossier_id, cmd)
    except pydantic.ValidationError:
        return _detail(dossier_id, {"__all__": "Chọn ít nhất một văn bản."}, 422)
    except DomainError as exc:
        if exc.kind == "not_found":
            raise
        if back:
            flash(exc.message, "danger")
            return redirect(back if back.startswith("/") and not back.startswith("//") else "/")
        return _detail(dossier_id, domain_errors(exc), STATUS_OF_KIND.get(exc.kind, 422))
    if cmd.task_id is not None:
        flash("Đã đưa nhiệm vụ vào hồ sơ.", "success")
        return redirect(back if back and back.startswith("/") and not back.startswith("//") else url_for("pages.dossier_page", dossier_id=dossier_id))  # fmt: skip
    done = sum(1 for r in results if r.ok)
    refused = [r.error.message for r in results if r.error]
    flash(f"Đã đưa {done} văn bản vào hồ sơ.", "success" if done else "warning")
    for message in sorted(set(refused)):
        flash(message, "warning")
    if back and back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for("pages.dossier_page", dossier_id=dossier_id))


@bp.get("/dossiers/<uuid:dossier_id>/toc")
@page_auth
def dossier_toc_page(dossier_id: uuid.UUID) -> Response:
    fmt = "pdf" if request.args.get("format") == "pdf" else "docx"
    name, ctype, reader = open_toc(make_uow(), actor_required(), dossier_id, fmt)
    with reader:
        data = reader.read()
    response = Response(data, mimetype=ctype)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@bp.get("/dossiers/<uuid:dossier_id>/package")
@page_auth
def dossier_package_page(dossier_id: uuid.UUID) -> Response:
    workdir = Path(tempfile.mkdtemp(prefix="dhtn-bag-"))
    try:
        path, name = build_package(make_uow(), actor_required(), dossier_id, workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    def chunks() -> Any:
        try:
            with path.open("rb") as f:
                while block := f.read(1024 * 1024):
                    yield block
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    response = Response(chunks(), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


# ------------------------------------------------------------------ file plan


@bp.get("/file-plan")
@page_auth
def file_plan_page() -> Any:
    actor = actor_required()
    uow = make_uow()
    this_year = local_date(uow.now()).year
    year = year_arg(this_year) or this_year
    plan = fileplan.plan_for_year(uow, actor, year)
    previous = fileplan.plan_for_year(make_uow(), actor, year - 1)
    return render_template(
        "dossiers/plan.html",
        plan=plan,
        year=year,
        has_previous=previous is not None,
        may_edit=any(actor.has_role(r) for r in (Role.CLERK, Role.LEADER)),
        **_common(),
    )


@bp.post("/file-plan")
@page_auth
def file_plan_post() -> Any:
    actor = actor_required()
    op = request.form.get("op", "")
    year_text = request.form.get("year", "")
    try:
        if op in ("create", "copy"):
            data: dict[str, Any] = {
                "organization_id": str(actor.organization_id),
                "year": year_text,
            }
            if op == "copy":
                data["copy_from_year"] = int(year_text) - 1 if year_text.isdigit() else year_text
            fileplan.create_plan(make_uow(), actor, CreateFilePlan.model_validate(data))
            flash("Đã lập danh mục hồ sơ.", "success")
        elif op == "approve":
            fileplan.act_on_plan(
                make_uow(),
                actor,
                uuid.UUID(request.form.get("plan_id", "")),
                FilePlanActionCommand(action="approve"),
            )
            flash("Đã phê duyệt danh mục hồ sơ.", "success")
        elif op == "import":
            f = request.files.get("file")
            fileplan.import_xlsx(
                make_uow(),
                actor,
                uuid.UUID(request.form.get("plan_id", "")),
                f.stream if f else None,
                f.filename if f else None,
                f.mimetype if f else None,
            )
            flash("Đã nhập danh mục hồ sơ từ tệp Excel.", "success")
        else:
            abort(400)
    except (ValueError, pydantic.ValidationError):
        flash("Dữ liệu không hợp lệ.", "danger")
    except DomainError as exc:
        rows = exc.details.get("rows") if isinstance(exc.details, dict) else None
        flash(exc.message, "danger")
        for line, message in sorted((rows or {}).items(), key=lambda x: int(x[0]))[:20]:
            flash(f"Dòng {line}: {message}", "danger")
    return redirect(url_for("pages.file_plan_page", year=year_text or None))


@bp.get("/file-plan/<uuid:plan_id>.xlsx")
@page_auth
def file_plan_xlsx(plan_id: uuid.UUID) -> Response:
    name, data = fileplan.export_xlsx(make_uow(), actor_required(), plan_id)
    response = Response(data, mimetype=XLSX)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


# ------------------------------------------------------------------ disposal


def _disposals(errors: dict[str, str] | None = None, status: int = 200) -> Any:
    """Tiêu hủy hồ sơ: the archivist's list of what is past its retention (not permanent, not
    held) with the proposal form; the proposals, each with the head's approve/reject."""
    actor = actor_required()
    may_propose = policy.may_propose_disposal(actor, actor.organization_id)
    may_decide = policy.may_decide_disposal(actor, actor.organization_id)
    if not (may_propose or may_decide):
        abort(403)
    due = disposal.due_for_review(make_uow(), actor) if may_propose else []
    proposals = disposal.list_disposals(make_uow(), actor)
    return (
        render_template(
            "dossiers/disposals.html",
            due=due,
            proposals=proposals,
            labels=disposal.dossier_labels(make_uow(), actor, proposals),
            state_labels=disposal.DISPOSAL_STATE_LABELS,
            pending=disposal.DISPOSAL_PENDING,
            may_propose=may_propose,
            may_decide=may_decide,
            errors=errors or {},
            form=request.form,
            chosen=set(request.form.getlist("dossier_ids")),
            **_common(),
        ),
        status,
    )


@bp.get("/disposals")
@page_auth
def disposals_page() -> Any:
    return _disposals()


@bp.post("/disposals")
@page_auth
def disposal_propose() -> Any:
    data = {
        "dossier_ids": request.form.getlist("dossier_ids"),
        "reason": request.form.get("reason", ""),
    }
    try:
        disposal.propose_disposal(
            make_uow(), actor_required(), ProposeDisposal.model_validate(data)
        )
    except pydantic.ValidationError as exc:
        fields = pydantic_fields(exc)
        if "dossier_ids" in fields:
            fields["dossier_ids"] = "Chọn ít nhất một hồ sơ."
        return _disposals(fields, 422)
    except DomainError as exc:
        return _disposals(domain_errors(exc), STATUS_OF_KIND.get(exc.kind, 422))
    flash("Đã gửi đề xuất tiêu hủy, chờ lãnh đạo phê duyệt.", "success")
    return redirect(url_for("pages.disposals_page"))


@bp.post("/disposals/<uuid:disposal_id>/act")
@page_auth
def disposal_act(disposal_id: uuid.UUID) -> Any:
    try:
        cmd = DisposalActionCommand.model_validate(
            {
                "action": request.form.get("action", ""),
                "comment": request.form.get("comment", "").strip() or None,
            }
        )
        view = disposal.decide_disposal(make_uow(), actor_required(), disposal_id, cmd)
    except pydantic.ValidationError as exc:
        return _disposals(pydantic_fields(exc), 422)
    except DomainError as exc:
        if exc.kind == "not_found":
            raise
        return _disposals(domain_errors(exc), STATUS_OF_KIND.get(exc.kind, 422))
    flash(f"Đề xuất tiêu hủy: {disposal.DISPOSAL_STATE_LABELS[view.state].lower()}.", "success")
    return redirect(url_for("pages.disposals_page"))
