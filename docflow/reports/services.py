"""Periodic reports: define a form, open each period's requests, fill in and submit, mark the
late ones, return one for correction. ``verb_noun(uow, actor, command) -> result``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from docflow import audit, engine
from docflow.actors import Actor, DelegatedRole
from docflow.enums import Role
from docflow.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TransitionNotAllowedError,
    ValidationError,
)
from docflow.models import (
    Organization,
    ReminderSent,
    ReportForm,
    ReportRequest,
    ReportSubmission,
    User,
    UserRole,
)
from docflow.notifications import notify
from docflow.reports import policy
from docflow.reports.commands import (
    ApproveReport,
    CorrectReport,
    CreateReportForm,
    FieldValueError,
    FillReport,
    FromResults,
    SubmitReport,
    check_values,
)
from docflow.reports.gather import gather, resolve_period, snapshot
from docflow.reports.pdf import render_report_pdf, sign_report
from docflow.reports.periods import period_of
from docflow.reports.prefill import system_figures
from docflow.reports.states import (
    TO_FILL_STATES,
    FieldType,
    Period,
    RequestAction,
    RequestState,
    next_state,
)
from docflow.uow import UnitOfWork
from docflow.uploads import object_store, store_bytes
from docflow.workdays import local_date


class ReportRequestNotFoundError(NotFoundError):
    code = "report_request_not_found"
    message = "Không tìm thấy yêu cầu báo cáo."


class ReportFormNotFoundError(NotFoundError):
    code = "report_form_not_found"
    message = "Không tìm thấy mẫu báo cáo."


def _recipient_ids(s: Any, form: ReportForm) -> list[uuid.UUID]:
    if form.recipients.get("scope") == "children":
        return list(
            s.scalars(
                select(Organization.id).where(
                    Organization.parent_id == form.organization_id, Organization.active
                )
            )
        )
    return [uuid.UUID(str(i)) for i in form.recipients.get("organization_ids", [])]


def create_report_form(uow: UnitOfWork, actor: Actor, cmd: CreateReportForm) -> ReportForm:
    """An upper level asks for a report: the form, and the requests of the current period."""
    if not policy.may_define_form(actor.effective_roles):
        raise PermissionDeniedError(
            "Chỉ lãnh đạo, trưởng đơn vị hoặc chuyên viên được lập mẫu báo cáo.",
            code="report_form_forbidden",
        )
    with uow:
        s = uow.session
        own = s.get_one(Organization, actor.organization_id)
        recipients: dict[str, Any]
        if cmd.recipients.scope == "children":
            recipients = {"scope": "children"}
        else:
            ids = list(dict.fromkeys(cmd.recipients.organization_ids or []))
            found = {
                o.id: o for o in s.scalars(select(Organization).where(Organization.id.in_(ids)))
            }
            for i in ids:
                o = found.get(i)
                if o is None or o.id == own.id or not o.path.startswith(own.path):
                    raise ValidationError.field(
                        "recipients",
                        "Tổ chức báo cáo phải là cấp dưới của tổ chức yêu cầu.",
                        code="invalid_recipient",
                    )
            recipients = {"organization_ids": [str(i) for i in ids]}
        today = local_date(uow.now())
        if cmd.period is Period.ONCE and cmd.deadline is not None and cmd.deadline < today:
            raise ValidationError.field("deadline", "Hạn báo cáo đã qua.")
        form = ReportForm(
            organization_id=own.id,
            title=cmd.title,
            fields=[f.model_dump(exclude_none=True, mode="json") for f in cmd.fields],
            period=cmd.period.value,
            deadline_day=cmd.deadline_day,
            once_deadline=cmd.deadline,
            recipients=recipients,
            created_by_id=actor.user_id,
            created_at=uow.now(),
        )
        form.organization = own
        s.add(form)
        s.flush()
        audit.record(
            uow,
            "report_form.created",
            actor=actor,
            object_type="report_form",
            object_id=form.id,
            details={"period": form.period, "recipients": len(_recipient_ids(s, form))},
        )
        _open_requests(uow, form, today)
        uow.commit()
        return form


def _open_requests(uow: UnitOfWork, form: ReportForm, today: dt.date) -> int:
    """Create the missing requests of the period containing ``today``; notify the recipients'
    clerks and leaders. The number created."""
    s = uow.session
    span = period_of(
        Period(form.period),
        today if form.period != Period.ONCE else local_date(form.created_at),
        deadline_day=form.deadline_day,
        once_deadline=form.once_deadline,
    )
    have = set(
        s.scalars(
            select(ReportRequest.organization_id).where(
                ReportRequest.form_id == form.id, ReportRequest.period == span.key
            )
        )
    )
    created = 0
    for org_id in _recipient_ids(s, form):
        if org_id in have:
            continue
        req = ReportRequest(
            form_id=form.id,
            organization_id=org_id,
            period=span.key,
            period_start=span.start,
            period_end=span.end,
            deadline=span.deadline,
            state=RequestState.OPEN.value,
            values={},
            prefilled={},
            version=0,
            submitted_late=False,
            created_at=uow.now(),
        )
        s.add(req)
        s.flush()
        created += 1
        notify(
            uow,
            _people(s, org_id, (Role.CLERK, Role.LEADER, Role.SPECIALIST)),
            kind="report_requested",
            title=f"Yêu cầu báo cáo: {form.title} ({span.key}), hạn {span.deadline:%d/%m/%Y}",
            link=f"/bao-cao/yeu-cau/{req.id}",
        )
    return created


def _people(s: Any, org_id: uuid.UUID, roles: tuple[Role, ...]) -> list[uuid.UUID]:
    return list(
        s.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.organization_id == org_id,
                User.active,
                UserRole.role.in_([r.value for r in roles]),
            )
        )
    )


def generate_due_requests(uow: UnitOfWork) -> int:
    """The periodic job: open the requests of every active form's current period."""
    with uow:
        today = local_date(uow.now())
        created = 0
        for form in uow.session.scalars(select(ReportForm).where(ReportForm.active)):
            if form.period == Period.ONCE:
                continue  # opened when the form was made
            created += _open_requests(uow, form, today)
        uow.commit()
        return created


def mark_late_requests(uow: UnitOfWork) -> int:
    """The periodic job: requests still open (not started) after their deadline become
    ``late`` (the late reminder of :func:`remind_report_requests` tells the people)."""
    with uow:
        s = uow.session
        today = local_date(uow.now())
        late = list(
            s.scalars(
                select(ReportRequest).where(
                    ReportRequest.state == RequestState.OPEN.value,
                    ReportRequest.deadline < today,
                )
            )
        )
        for req in late:
            new = next_state(RequestState(req.state), RequestAction.MARK_LATE)
            assert new is not None
            req.state = new.value
        uow.commit()
        return len(late)


def remind_report_requests(uow: UnitOfWork, *, days_before: int = 2) -> int:
    """The periodic job: remind the reporting organisation's clerks and leaders (in-app, and
    by e-mail through the outbox for those with an address) of a request not yet submitted —
    once ``days_before`` days ahead (or when it opens closer to its deadline), once on the
    deadline day, and once when it is late (and tell the requesting level who is late). Each
    reminder once: a row in ``reminders_sent`` keyed (request, kind, deadline) — a second run,
    or a second scheduler, finds it and sends nothing."""
    with uow:
        s = uow.session
        today = local_date(uow.now())
        waiting = [st.value for st in TO_FILL_STATES]
        due = list(
            s.scalars(
                select(ReportRequest)
                .where(
                    ReportRequest.state.in_(waiting),
                    ReportRequest.deadline <= today + dt.timedelta(days=days_before),
                )
                .order_by(ReportRequest.deadline, ReportRequest.id)
                .with_for_update(of=ReportRequest, skip_locked=True)
            )
        )
        sent = 0
        for req in due:
            if req.deadline > today:
                kind = "before"
            elif req.deadline == today:
                kind = "due"
            else:
                kind = "late"
            key = ("report", req.id, kind, req.deadline)
            if s.get(ReminderSent, key) is not None:
                continue
            s.add(
                ReminderSent(
                    source="report",
                    item_id=req.id,
                    kind=kind,
                    due_date=req.deadline,
                    sent_at=uow.now(),
                )
            )
            s.flush()
            if kind == "late":
                title = f"Quá hạn báo cáo (hạn {req.deadline:%d/%m/%Y}): {req.form.title} ({req.period})"
                notify(
                    uow,
                    _people(s, req.form.organization_id, (Role.LEADER, Role.SPECIALIST)),
                    kind="report_late_requester",
                    title=f"{req.organization.name} chưa gửi báo cáo: {req.form.title} "
                    f"({req.period}), hạn {req.deadline:%d/%m/%Y}",
                    link=f"/bao-cao/mau/{req.form_id}?period={req.period}",
                )
            else:
                when = "hôm nay" if kind == "due" else f"ngày {req.deadline:%d/%m/%Y}"
                title = f"Nhắc hạn báo cáo {when}: {req.form.title} ({req.period})"
            notify(
                uow,
                _people(s, req.organization_id, (Role.CLERK, Role.LEADER)),
                kind="report_reminder",
                title=title,
                link=f"/bao-cao/yeu-cau/{req.id}",
            )
            sent += 1
        uow.commit()
        return sent


def effective_state(req: ReportRequest, today: dt.date) -> RequestState:
    """``late`` as soon as the deadline has passed, even before the job has run."""
    state = RequestState(req.state)
    if state is RequestState.OPEN and req.deadline < today:
        return RequestState.LATE
    return state


def load_request(uow: UnitOfWork, actor: Actor, request_id: uuid.UUID) -> ReportRequest:
    """A request the actor may see (its organisation's, or one its organisation asked for)."""
    s = uow.session
    req = s.get(ReportRequest, request_id)
    if req is None:
        raise ReportRequestNotFoundError()
    if not policy.may_see_request(
        reader_path=actor.organization_path,
        request_org_path=req.organization.path,
        form_org_path=req.form.organization.path,
    ):
        raise ReportRequestNotFoundError()
    return req


def _own(actor: Actor, req: ReportRequest) -> bool:
    return req.organization_id == actor.organization_id


def _decision(actor: Actor, req: ReportRequest, action: RequestAction) -> engine.Decision:
    """Whether the actor may move the request: by their own roles, or by a role delegated to
    them today (the decision then names the delegation, which the audit entry records: both
    names, as every delegated action)."""

    def may(roles: frozenset[Role]) -> bool:
        return policy.may_act(
            action,
            roles,
            own=_own(actor, req),
            requester=req.form.organization_id == actor.organization_id,
        )

    if may(actor.roles):
        return engine.ALLOWED
    acting = next((d for d in actor.delegated if may(actor.roles | {d.role})), None)
    return engine.Decision(True, acting) if acting is not None else engine.REFUSED


def _clear_approval(req: ReportRequest) -> None:
    req.approved_at = None
    req.approved_by_id = None
    req.pdf_key = None
    req.pdf_size = None


def fill_report(
    uow: UnitOfWork, actor: Actor, request_id: uuid.UUID, cmd: FillReport
) -> ReportRequest:
    """Fill in (or change) the organisation's report: the figures the system knows fill the
    fields left out, ``from_results`` fills them from the gathered results of one of the
    organisation's own forms (forwarding up). Changing an approved report drops the approval:
    the leader signs again."""
    with uow:
        s = uow.session
        req = load_request(uow, actor, request_id)  # 404
        today = local_date(uow.now())

        def parse() -> dict[str, Any]:
            try:
                values = check_values(req.form.fields, cmd.values)
            except FieldValueError as exc:
                raise ValidationError.field(f"values.{exc.key}", exc.message) from None
            if cmd.from_results is not None:
                values = {**_from_results(uow, actor, req, cmd.from_results, today), **values}
            return values

        def effect(values: dict[str, Any]) -> engine.Effect:
            figures = system_figures(
                uow, req.organization_id, req.period_start, min(req.period_end, today)
            )
            merged = {**req.values, **values}
            for f in req.form.fields:
                if f.get("source") and merged.get(f["key"]) is None:
                    merged[f["key"]] = figures.get(f["source"])
            req.prefilled = {
                f["key"]: figures.get(f["source"]) for f in req.form.fields if f.get("source")
            }
            req.values = merged
            _clear_approval(req)
            details: dict[str, Any] = {"fields": sorted(values)[:60]}
            if cmd.from_results is not None:
                details["from_form"] = str(cmd.from_results.form_id)
            return engine.Effect(cmd.comment, details)

        engine.perform(  # 403 → 409 → 422, then the values, the state and the audit entry
            _decision(actor, req, RequestAction.FILL),
            effective_state(req, today),
            lambda state: _moved(
                state, RequestAction.FILL, "Báo cáo đã gửi: hãy đính chính.", "report_submitted"
            ),
            forbidden=lambda: PermissionDeniedError(
                "Chỉ người của tổ chức báo cáo mới được điền báo cáo.",
                code="report_fill_forbidden",
            ),
            parse=parse,
            effect=effect,
            set_state=lambda after: setattr(req, "state", after.value),
            record=lambda move, done: _record(
                uow, actor, req, "filled", done, move.decision.acting
            ),
        )
        s.flush()
        uow.commit()
        return req


def _from_results(
    uow: UnitOfWork, actor: Actor, req: ReportRequest, src: FromResults, today: dt.date
) -> dict[str, Any]:
    """The values a report takes from the gathered results of one of its organisation's own
    forms: the whole table for ``gathered`` fields, the totals for fields of the same key and
    type."""
    s = uow.session
    form = s.get(ReportForm, src.form_id)
    if form is None or form.organization_id != req.organization_id:
        raise ValidationError.field(
            "from_results.form_id",
            "Chỉ điền từ kết quả tổng hợp một mẫu báo cáo của chính tổ chức báo cáo.",
            code="invalid_source_form",
        )
    if not policy.may_read_results(
        actor.effective_roles,
        reader_path=actor.organization_path,
        form_org_path=form.organization.path,
    ):
        raise ValidationError.field(
            "from_results.form_id",
            "Bạn không có quyền xem tổng hợp của mẫu báo cáo này.",
            code="invalid_source_form",
        )
    period = src.period
    if period is None and Period(form.period) is Period(req.form.period):
        period = req.period
    try:
        key = resolve_period(form, period, today)
    except ValidationError:
        raise ValidationError.field(
            "from_results.period", "Kỳ báo cáo không hợp lệ (vd. 2026-11, 2026-W48, 2026-Q4)."
        ) from None
    results = gather(s, form, key, today)
    table = snapshot(results)
    source_types = {f["key"]: f["type"] for f in form.fields}
    values: dict[str, Any] = {}
    for f in req.form.fields:
        if f["type"] == FieldType.GATHERED:
            values[f["key"]] = table
        elif source_types.get(f["key"]) == f["type"] and f["key"] in results.totals:
            total = results.totals[f["key"]]
            if f["type"] == FieldType.TABLE:
                rows = {r["key"] for r in f["rows"]}
                cols = {c["key"] for c in f["columns"] if c["type"] == "number"}
                total = {
                    r: {c: v for c, v in cells.items() if c in cols}
                    for r, cells in total.items()
                    if r in rows
                }
            values[f["key"]] = total
    return values


def approve_report(
    uow: UnitOfWork, actor: Actor, request_id: uuid.UUID, cmd: ApproveReport
) -> ReportRequest:
    """A leader of the reporting organisation approves the filled report by signing its PDF
    with the server-held key (the demo PKI; a person whose key the server does not hold gets
    409 ``report_signer_unavailable``). Nothing is recorded when signing fails."""
    with uow:
        s = uow.session
        req = load_request(uow, actor, request_id)  # 404
        today = local_date(uow.now())

        def effect(_: None) -> engine.Effect:
            if uow.signing is None:
                raise ConflictError("Hệ thống chưa cấu hình ký số.", code="signing_not_configured")
            key = uow.signing.personal_signer(actor.username)
            if key is None:
                raise ConflictError(
                    "Máy chủ không giữ khóa ký của người này.", code="report_signer_unavailable"
                )
            leader = s.get_one(User, actor.user_id)
            rendered = render_report_pdf(
                requester=req.form.organization.name,
                organization=req.organization.name,
                title=req.form.title,
                period=req.period,
                deadline=req.deadline,
                fields=req.form.fields,
                values=req.values,
                leader_name=leader.full_name,
                version=req.version + 1,
            )
            signed = sign_report(
                rendered,
                key,
                signature_image=_signature_image(uow, leader),
                leader_name=leader.full_name,
                options=uow.signing.options(),
            )
            ref = store_bytes(uow, signed, "application/pdf")
            req.pdf_key = ref.key
            req.pdf_size = ref.size
            req.approved_at = uow.now()
            req.approved_by_id = actor.user_id
            notify(
                uow,
                [u for u in _people(s, req.organization_id, (Role.CLERK,)) if u != actor.user_id],
                kind="report_approved",
                title=f"Báo cáo đã được ký duyệt, chờ gửi: {req.form.title} ({req.period})",
                link=f"/bao-cao/yeu-cau/{req.id}",
            )
            return engine.Effect(cmd.comment, {"pdf_size": ref.size, "version": req.version + 1})

        engine.perform(  # 403 → 409 → 422, then the signed PDF, the state and the audit entry
            _decision(actor, req, RequestAction.APPROVE),
            effective_state(req, today),
            lambda state: _moved(
                state,
                RequestAction.APPROVE,
                "Chỉ ký duyệt báo cáo đã điền, chưa ký.",
                "report_not_filled",
            ),
            forbidden=lambda: PermissionDeniedError(
                "Lãnh đạo của tổ chức báo cáo mới được ký duyệt báo cáo.",
                code="report_approve_forbidden",
            ),
            parse=lambda: None,
            effect=effect,
            set_state=lambda after: setattr(req, "state", after.value),
            record=lambda move, done: _record(
                uow, actor, req, "approved", done, move.decision.acting
            ),
        )
        uow.commit()
        return req


def _signature_image(uow: UnitOfWork, leader: User) -> bytes | None:
    if not leader.signature_image_key or uow.store is None:
        return None
    with uow.store.open(leader.signature_image_key, verify=True) as reader:
        return b"".join(reader.iter_chunks())


def submit_report(
    uow: UnitOfWork, actor: Actor, request_id: uuid.UUID, cmd: SubmitReport
) -> ReportRequest:
    """Submit the approved (signed) report: a new version with its signed PDF; the previous
    versions are kept."""
    with uow:
        s = uow.session
        req = load_request(uow, actor, request_id)  # 404
        today = local_date(uow.now())

        def parse() -> None:
            if cmd.values is None:
                return
            try:
                given = check_values(req.form.fields, cmd.values)
            except FieldValueError as exc:
                raise ValidationError.field(f"values.{exc.key}", exc.message) from None
            changed = sorted(k for k, v in given.items() if req.values.get(k) != v)
            if changed:
                raise ValidationError.field(
                    f"values.{changed[0]}",
                    "Số liệu khác bản đã được lãnh đạo ký duyệt: điền lại rồi trình ký lại.",
                    code="report_values_changed",
                )

        def effect(_: None) -> engine.Effect:
            req.version += 1
            req.submitted_at = uow.now()
            req.submitted_by_id = actor.user_id
            req.submitted_late = req.submitted_late or today > req.deadline
            s.add(
                ReportSubmission(
                    request_id=req.id,
                    version=req.version,
                    values=dict(req.values),
                    submitted_at=uow.now(),
                    submitted_by_id=actor.user_id,
                    comment=cmd.comment,
                    approved_by_id=req.approved_by_id,
                    pdf_key=req.pdf_key,
                    pdf_size=req.pdf_size,
                )
            )
            notify(
                uow,
                _people(s, req.form.organization_id, (Role.LEADER, Role.SPECIALIST)),
                kind="report_submitted",
                title=f"{req.organization.name} đã gửi báo cáo: {req.form.title} "
                f"({req.period}, bản {req.version})",
                link=f"/bao-cao/mau/{req.form_id}?period={req.period}",
            )
            return engine.Effect(cmd.comment, {"version": req.version, "late": req.submitted_late})

        engine.perform(  # 403 → 409 → 422, then the new version, the state and the audit entry
            _decision(actor, req, RequestAction.SUBMIT),
            effective_state(req, today),
            lambda state: _moved(
                state,
                RequestAction.SUBMIT,
                "Báo cáo cần được lãnh đạo ký duyệt trước khi gửi (hoặc đã gửi).",
                "report_not_approved",
            ),
            forbidden=lambda: PermissionDeniedError(
                "Văn thư hoặc lãnh đạo của tổ chức báo cáo mới được gửi báo cáo.",
                code="report_submit_forbidden",
            ),
            parse=parse,
            effect=effect,
            set_state=lambda after: setattr(req, "state", after.value),
            record=lambda move, done: _record(
                uow, actor, req, "submitted", done, move.decision.acting
            ),
        )
        uow.commit()
        return req


def correct_report(
    uow: UnitOfWork, actor: Actor, request_id: uuid.UUID, cmd: CorrectReport
) -> ReportRequest:
    """The reporting organisation corrects a submitted report: it goes back to ``filled`` (the
    submitted versions stay, the gathering keeps reading the latest one until the correction
    is approved and submitted as a new version)."""
    with uow:
        req = load_request(uow, actor, request_id)  # 404
        today = local_date(uow.now())

        def effect(_: None) -> engine.Effect:
            _clear_approval(req)
            return engine.Effect(cmd.comment, {"version": req.version})

        engine.perform(
            _decision(actor, req, RequestAction.CORRECT),
            effective_state(req, today),
            lambda state: _moved(
                state,
                RequestAction.CORRECT,
                "Chỉ đính chính báo cáo đã gửi.",
                "report_not_submitted",
            ),
            forbidden=lambda: PermissionDeniedError(
                "Chỉ người của tổ chức báo cáo mới được đính chính báo cáo.",
                code="report_correct_forbidden",
            ),
            parse=lambda: None,
            effect=effect,
            set_state=lambda after: setattr(req, "state", after.value),
            record=lambda move, done: _record(
                uow, actor, req, "correcting", done, move.decision.acting
            ),
        )
        uow.commit()
        return req


def signed_pdf(
    uow: UnitOfWork, actor: Actor, request_id: uuid.UUID, *, version: int | None = None
) -> tuple[bytes, str]:
    """The signed PDF of a submitted version (``version``), or, without one, of the approval
    waiting to be submitted (else of the latest version). 404 when there is none."""
    with uow:
        s = uow.session
        req = load_request(uow, actor, request_id)  # 404
        key: str | None
        if version is None and req.pdf_key is not None:
            key, number = req.pdf_key, req.version + 1
        else:
            stmt = select(ReportSubmission).where(ReportSubmission.request_id == req.id)
            if version is not None:
                stmt = stmt.where(ReportSubmission.version == version)
            sub = s.scalars(stmt.order_by(ReportSubmission.version.desc())).first()
            key, number = (sub.pdf_key, sub.version) if sub is not None else (None, 0)
        if key is None:
            raise NotFoundError(
                "Không có bản báo cáo đã ký duyệt này.", code="report_pdf_not_found"
            )
        with object_store(uow).open(key, verify=True) as reader:
            data = b"".join(reader.iter_chunks())
        audit.record_read(
            uow,
            actor,
            "report_request.pdf_read",
            object_type="report_request",
            object_id=req.id,
            version=number,
        )
        uow.commit()
        return data, f"bao-cao-{req.period}-ban-{number}.pdf"


def _moved(state: RequestState, action: RequestAction, message: str, code: str) -> RequestState:
    """The request's transition table, its 409 in the words of the action."""
    new = next_state(state, action)
    if new is None:
        raise TransitionNotAllowedError(message, code=code)
    return new


def _record(
    uow: UnitOfWork,
    actor: Actor,
    req: ReportRequest,
    verb: str,
    done: engine.Effect,
    acting: DelegatedRole | None = None,
) -> None:
    """A report request's trail is the audit log (a delegated move names both people)."""
    audit.record(
        uow,
        f"report_request.{verb}",
        actor=actor,
        acting_as=acting,
        object_type="report_request",
        object_id=req.id,
        details=done.details,
    )


def return_report(
    uow: UnitOfWork, actor: Actor, request_id: uuid.UUID, comment: str
) -> ReportRequest:
    """The requesting level sends a submitted report back for correction."""
    with uow:
        req = load_request(uow, actor, request_id)  # 404

        def parse() -> str:
            reason = comment.strip()
            if not reason or len(reason) > 2000:
                raise ValidationError.field("comment", "Cần nêu lý do trả lại (tối đa 2000 ký tự).")
            return reason

        def effect(reason: str) -> engine.Effect:
            notify(
                uow,
                _people(uow.session, req.organization_id, (Role.CLERK, Role.LEADER)),
                kind="report_returned",
                title=f"Báo cáo bị trả lại: {req.form.title} ({req.period})",
                body=reason,
                link=f"/bao-cao/yeu-cau/{req.id}",
            )
            _clear_approval(req)
            return engine.Effect(reason, {"version": req.version})

        engine.perform(  # 403 → 409 → 422, then the notice, the state and the audit entry
            _decision(actor, req, RequestAction.RETURN),
            RequestState(req.state),
            lambda state: _moved(
                state, RequestAction.RETURN, "Chỉ trả lại báo cáo đã gửi.", "report_not_submitted"
            ),
            forbidden=lambda: PermissionDeniedError(
                "Chỉ tổ chức yêu cầu mới trả lại báo cáo.", code="report_return_forbidden"
            ),
            parse=parse,
            effect=effect,
            set_state=lambda after: setattr(req, "state", after.value),
            record=lambda move, done: _record(
                uow, actor, req, "returned", done, move.decision.acting
            ),
        )
        uow.commit()
        return req


__all__ = [
    "ReportFormNotFoundError",
    "ReportRequestNotFoundError",
    "approve_report",
    "correct_report",
    "create_report_form",
    "effective_state",
    "fill_report",
    "generate_due_requests",
    "load_request",
    "mark_late_requests",
    "remind_report_requests",
    "return_report",
    "signed_pdf",
    "submit_report",
]
