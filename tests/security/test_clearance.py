"""Secrecy past clearance (issue 11, point 3): no read path shows a secret document to someone
without the clearance.

An organisation holds a secret incoming record and a secret outgoing record (the latter as a
secret-network deployment holds it) whose every text field carries a unique marker, plus a task
that comes from the secret document. Then every GET route of the application, found in Flask's
url_map (a new route is walked automatically; an unclassified one fails the test), is called by
people of that organisation without clearance (the clerk and the leader, who otherwise read
everything of the organisation, and the unit head the task was given to), with the query
strings that list, search and export. No response may contain a marker, also inside zipped
DOCX/XLSX; the document's own addresses answer 404. A control run as a cleared clerk finds the
markers, so the search is able to fail.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from docx import Document as Docx
from openpyxl import load_workbook
from sqlalchemy import func, select

from docflow import directory, incoming
from docflow.directory import CreateRegister, UpdateUser
from docflow.documents.text import search_text
from docflow.enums import Direction, Secrecy
from docflow.incoming.commands import RegisterIncoming
from docflow.models import Document, Notification, Register, Task, Unit, User, UserRole
from docflow.models.exchange import ExchangeMessage
from docflow.models.outgoing import Delivery
from docflow.notifications import pending_emails
from docflow.tasks.commands import CreateTask
from docflow.tasks.services import create_task
from tests.app.test_pages import login
from tests.conftest import Demo
from tests.incoming.conftest import Incoming

RUN = uuid.uuid4().hex[:10].upper()
SUBJECT = f"SUBJECTMARK{RUN}"
ISSUER = f"ISSUERMARK{RUN}"
NOTE = f"NOTEMARK{RUN}"
RECIPIENTS = f"RECIPIENTSMARK{RUN}"
NOTATION = "9871/KH-MTTW-BTT"
OUT_SUBJECT = f"OUTSUBJECTMARK{RUN}"
OUT_NOTATION = "9872/QĐ-MTTW"
OUT_SIGNER = f"SIGNERMARK{RUN}"
DOSSIER_TITLE = f"DOSSIERMARK{RUN}"
AXIS_RECIPIENT = f"AXISRECIPIENTMARK{RUN}"
AXIS_ERROR = f"AXISERRORMARK{RUN}"
AXIS_KEY = f"AXISKEYMARK{RUN}"


@dataclass
class World:
    """The organisation with its secret records, as the test sees it."""

    demo: Demo
    flow: Incoming
    secret_in: Document
    secret_out: Document
    plain: str  # an ordinary document, answered with the secret one (whose id its trail holds)
    task_id: uuid.UUID
    registers: dict[str, uuid.UUID]
    secret_dossier: uuid.UUID  # a secret dossier holding the secret record, closed
    plain_dossier: uuid.UUID  # an ordinary one of the same unit
    plan_id: uuid.UUID

    def markers(self) -> list[bytes]:
        texts = [SUBJECT, ISSUER, NOTE, RECIPIENTS, NOTATION, OUT_SUBJECT, OUT_NOTATION]
        texts += [OUT_SIGNER, str(self.secret_in.id), str(self.secret_out.id)]
        texts += [DOSSIER_TITLE, str(self.secret_dossier)]
        texts += [AXIS_RECIPIENT, AXIS_ERROR, AXIS_KEY]
        encoded = [t.encode() for t in texts] + [t.encode("unicode_escape") for t in texts]
        return list(dict.fromkeys(encoded))  # JSON may write non-ASCII as \uXXXX


def set_clearance(demo: Demo, username: str, level: Secrecy) -> None:
    """An admin changes it; a raise waits for a second admin, who approves it (two-person rule)."""
    change = directory.update_user(
        demo.uow(), demo.actor("admin"), demo.user(username).id, UpdateUser(clearance=level)
    )
    if change.pending is not None:
        demo.add_admin("admin2")
        directory.decide_privilege_request(
            demo.uow(), demo.actor("admin2"), change.pending.id, approve=True
        )


def secret_register(demo: Demo, direction: Direction) -> uuid.UUID:
    reg = directory.create_register(
        demo.uow(),
        demo.actor("admin"),
        CreateRegister(
            organization_id=demo.org_id("tw"),
            direction=direction,
            year=2026,
            name=f"Sổ văn bản {'đến' if direction is Direction.INCOMING else 'đi'} mật",
            secret_series=True,
        ),
    )
    return reg.id


def register_secret(
    demo: Demo, level: Secrecy = Secrecy.SECRET, *, subject: str = SUBJECT, **extra: Any
) -> Document:
    """A cleared clerk registers a secret paper record (metadata only)."""
    set_clearance(demo, "vanthu.tw", Secrecy.TOP_SECRET)
    fields: dict[str, Any] = {
        "notation": NOTATION,
        "doc_type": "KH",
        "subject": subject,
        "issuer": {"name": ISSUER},
        "issued_date": dt.date(2026, 11, 20),
        "secrecy": level,
        "page_count": 2,
        "note": NOTE,
        "recipients_text": RECIPIENTS,
        **extra,
    }
    doc = incoming.register_incoming(
        demo.uow(), demo.actor("vanthu.tw"), RegisterIncoming.model_validate(fields), []
    )
    set_clearance(demo, "vanthu.tw", Secrecy.NONE)
    return doc


@pytest.fixture
def flow(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


@pytest.fixture
def world(flow: Incoming, demo: Demo) -> World:
    regs = {"secret_in": secret_register(demo, Direction.INCOMING)}
    regs["secret_out"] = secret_register(demo, Direction.OUTGOING)
    with demo.factory() as s:
        for reg in s.scalars(
            select(Register).where(
                Register.organization_id == demo.org_id("tw"), Register.secret_series.is_(False)
            )
        ):
            regs[f"plain_{reg.direction}"] = reg.id
    # Ordinary documents around the secret ones, so that lists and registers are not empty.
    plain = flow.to_assigned()
    secret_in = register_secret(demo)
    # The secret one is given to a unit, whose head (cleared at the time) answers the ordinary
    # one with it.
    set_clearance(demo, "lanhdao.tw", Secrecy.TOP_SECRET)
    set_clearance(demo, "truongban.dcgs", Secrecy.SECRET)
    r = flow.act("lanhdao.tw", str(secret_in.id), "assign", lead={"unit_id": flow.unit_id("DCGSPBXH")})  # fmt: skip
    assert r.status_code == 200, r.get_json()
    r = flow.act("truongban.dcgs", plain, "complete", comment="Đã trả lời", reply_document_id=str(secret_in.id))  # fmt: skip
    assert r.status_code == 200, r.get_json()
    set_clearance(demo, "truongban.dcgs", Secrecy.NONE)
    # An issued secret outgoing record, as a secret-network deployment holds it.
    leader = demo.user("lanhdao.tw")
    now = demo.clock()
    with demo.factory() as s:
        out = Document(
            organization_id=demo.org_id("tw"),
            direction="outgoing",
            state="issued",
            register_id=regs["secret_out"],
            register_number=1,
            notation=OUT_NOTATION,
            doc_type="QĐ",
            subject=OUT_SUBJECT,
            issuer_name="Ủy ban Trung ương MTTQ Việt Nam",
            issued_date=dt.date(2026, 11, 23),
            registered_at=now,
            issued_at=now,
            listed_at=now,
            secrecy="secret",
            secrecy_rank=Secrecy.SECRET.rank,
            source="drafted",
            signer_user_id=leader.id,
            signer_name=OUT_SIGNER,
            recipients_text=RECIPIENTS,
            created_by_id=leader.id,
            search_text=search_text(OUT_NOTATION, OUT_SUBJECT, None),
            created_at=now,
            updated_at=now,
        )
        s.add(out)
        s.flush()
        # Its delivery to an outside agency waits on the axis (refused once), with the
        # package's log entry: the exchange page lists both for the organisation's clerks.
        s.add(
            Delivery(
                document_id=out.id, position=1, recipient_code="000.00.99.H99",
                recipient_name=AXIS_RECIPIENT, channel="axis", state="failed", attempts=3,
                last_error=AXIS_ERROR, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        s.add(
            ExchangeMessage(
                direction="out", kind="edoc", organization_id=demo.org_id("tw"), key=AXIS_KEY,
                channel="axis", peer_code="000.00.99.H99", document_id=out.id, state="failed",
                attempts=3, last_error=AXIS_ERROR, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        s.commit()
    # A task that comes from the secret document, given by a cleared leader to a unit.
    with demo.factory() as s:
        unit = s.scalars(select(Unit.id).where(Unit.abbreviation == "DCGSPBXH")).one()
    task = create_task(
        demo.uow(),
        demo.actor("lanhdao.tw"),
        CreateTask.model_validate(
            {
                "title": "Nghiên cứu, đề xuất theo văn bản đến",
                "lead": {"unit_id": unit},
                "due_date": dt.date(2026, 12, 4),
                "document_id": secret_in.id,
            }
        ),
    )
    set_clearance(demo, "lanhdao.tw", Secrecy.NONE)
    secret_dossier, plain_dossier, plan_id = _dossiers(demo, secret_in.id, unit)
    return World(
        demo, flow, secret_in, out, plain, task.id, regs, secret_dossier, plain_dossier, plan_id
    )


def _dossiers(
    demo: Demo, secret_doc: uuid.UUID, unit: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A cleared clerk keeps the secret record in a secret dossier of the unit (closed and
    transferred, so that its table of contents, package and transfer list entry exist); an
    ordinary dossier and the year's plan
    sit beside it."""
    from docflow.dossiers import (
        CreateFilePlan,
        DossierActionCommand,
        FileInto,
        OpenDossier,
        act_on_dossier,
        file_into,
        open_dossier,
    )
    from docflow.dossiers.fileplan import create_plan

    org = demo.org_id("tw")
    plan = create_plan(
        demo.uow(), demo.actor("vanthu.tw"), CreateFilePlan(organization_id=org, year=2026)
    )
    set_clearance(demo, "vanthu.tw", Secrecy.TOP_SECRET)
    clerk = demo.actor("vanthu.tw")
    secret = open_dossier(
        demo.uow(),
        clerk,
        OpenDossier.model_validate(
            {"organization_id": org, "year": 2026, "code": "M.01", "title": DOSSIER_TITLE,
             "retention_years": None, "unit_id": unit, "secrecy": "secret"}
        ),
    )  # fmt: skip
    file_into(demo.uow(), clerk, secret.id, FileInto(document_id=secret_doc))
    act_on_dossier(demo.uow(), clerk, secret.id, DossierActionCommand(action="close"))
    act_on_dossier(demo.uow(), clerk, secret.id, DossierActionCommand(action="transfer"))
    plain = open_dossier(
        demo.uow(),
        clerk,
        OpenDossier.model_validate(
            {"organization_id": org, "year": 2026, "code": "01.DCGS",
             "title": "Hồ sơ thường của ban", "retention_years": 5, "unit_id": unit}
        ),
    )  # fmt: skip
    set_clearance(demo, "vanthu.tw", Secrecy.NONE)
    return secret.id, plain.id, plan.id


def leaks(data: bytes, markers: list[bytes]) -> list[str]:
    """The markers found in a response, looking inside zip containers (DOCX, XLSX) too."""
    found = [m.decode() for m in markers if m in data]
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in z.namelist():
                part = z.read(name)
                found += [f"{m.decode()} in {name}" for m in markers if m in part]
    return found


# ---------------------------------------------------------------- the walk

# How each GET endpoint is reached. A new endpoint must be classified here (the walk fails
# otherwise), which is the point: nobody adds a read path without deciding what it shows.
NO_PARAMS = "no_params"  # lists, searches, statistics, forms, health
DOCUMENT = "document"  # one document's address: must answer 404 to the uncleared
REGISTER = "register"  # a register export (secret series: refused; others: masked)
TASK = "task"
ORG = "org"
UNIT = "unit"
USER = "user"
DOSSIER = "dossier"  # one dossier's address: the secret one must answer 404 to the uncleared
PLAN = "plan"
SKIP = "static"  # static assets
REPORT = "report"  # a report form or request (an unknown id: 404)

ENDPOINTS: dict[str, str] = {
    "static": SKIP,
    "bootstrap.static": SKIP,
    "pwa.icon": SKIP,  # drawn icons of the installable app
    "pwa.manifest_file": NO_PARAMS,
    "pwa.service_worker": NO_PARAMS,
    "api.push_vapid_public_key": NO_PARAMS,
    "health.healthz": NO_PARAMS,
    "health.readyz": NO_PARAMS,
    "health.metrics": NO_PARAMS,
    "api.openapi": NO_PARAMS,
    "api.me": NO_PARAMS,
    "api.working_days": NO_PARAMS,
    "api.list_holidays": NO_PARAMS,
    "api.list_documents": NO_PARAMS,
    "api.notifications_list": NO_PARAMS,
    "api.notifications_unread_count": NO_PARAMS,
    "api.me_counters": NO_PARAMS,  # counts only, through the visibility clauses
    "api.list_changes": NO_PARAMS,  # without since: no items, a cursor for now
    "api.get_remote_signing": NO_PARAMS,  # the caller's own remote-signing link
    "pages.outgoing_bulk_sign": NO_PARAMS,  # the drafts waiting for the caller's signature
    "api.list_organizations": NO_PARAMS,
    "api.list_agencies": NO_PARAMS,  # the axis directory of outside agencies: no documents
    "api.reports_processing": NO_PARAMS,
    # Periodic reports: forms and requests carry figures, never a document's subject.
    "api.report_forms_list": NO_PARAMS,
    "api.report_requests_list": NO_PARAMS,
    "api.report_request_get": REPORT,
    "api.report_request_pdf": REPORT,
    "pages.report_request_pdf_page": REPORT,
    "api.report_form_results": REPORT,
    "pages.rollup_page": NO_PARAMS,
    "pages.report_box": NO_PARAMS,
    "pages.report_request_page": REPORT,
    "pages.report_results_page": REPORT,
    "pages.report_results_xlsx": REPORT,
    "api.tasks_list": NO_PARAMS,
    # Citizen feedback: no documents; the items of another organisation answer 404.
    "api.public_feedback_get": NO_PARAMS,
    "api.feedback_list": NO_PARAMS,
    "api.feedback_get": NO_PARAMS,
    "api.feedback_file_content": NO_PARAMS,
    "api.feedback_statistics": NO_PARAMS,
    "pages.feedback_public_form": NO_PARAMS,
    "pages.feedback_public_place": NO_PARAMS,
    "pages.feedback_public_track": NO_PARAMS,
    "pages.feedback_public_sent": NO_PARAMS,
    "pages.feedback_public_results": NO_PARAMS,
    "pages.feedback_list_page": NO_PARAMS,
    "pages.feedback_paper_page": NO_PARAMS,
    "pages.feedback_page": NO_PARAMS,
    "pages.feedback_file_page": NO_PARAMS,
    "pages.feedback_poster": NO_PARAMS,
    "pages.feedback_statistics_xlsx": NO_PARAMS,
    "pages.feedback_mailbox_page": NO_PARAMS,
    "pages.home": NO_PARAMS,
    "pages.login": NO_PARAMS,
    "pages.activate": NO_PARAMS,
    "pages.admin_import": NO_PARAMS,  # admin only; the upload form
    "pages.admin_import_template": NO_PARAMS,  # admin only; the empty template  # a public form; nothing read without a valid code
    "pages.account": NO_PARAMS,
    "pages.verify_page": NO_PARAMS,
    "pages.admin_home": NO_PARAMS,
    "pages.admin_tree": NO_PARAMS,  # admin only; organisations of the own subtree
    "pages.admin_people": NO_PARAMS,  # admin only; people of the own subtree
    "pages.admin_export": NO_PARAMS,  # admin only; the directory of the own subtree
    "pages.admin_audit": NO_PARAMS,
    "pages.admin_audit_xlsx": NO_PARAMS,
    "api.audit_list": NO_PARAMS,
    "pages.exchange_page": NO_PARAMS,
    "pages.admin_holidays": NO_PARAMS,
    "pages.admin_org_new": NO_PARAMS,
    "pages.delegation_new": NO_PARAMS,
    "pages.document_list": NO_PARAMS,
    "pages.incoming_new": NO_PARAMS,
    "pages.notifications_page": NO_PARAMS,
    "pages.outgoing_list": NO_PARAMS,
    "pages.outgoing_new": NO_PARAMS,
    "pages.outgoing_agency_search": NO_PARAMS,
    "pages.tasks_list": NO_PARAMS,
    "pages.tasks_export": NO_PARAMS,
    "pages.task_new": NO_PARAMS,
    "pages.task_stats": NO_PARAMS,
    "pages.task_stats_xlsx": NO_PARAMS,
    "api.dossiers_list": NO_PARAMS,
    "api.file_plans_list": NO_PARAMS,
    "api.dossiers_get": DOSSIER,
    "api.dossiers_events": DOSSIER,
    "api.dossiers_package": DOSSIER,
    "api.dossiers_toc": DOSSIER,
    "api.file_plans_get": PLAN,
    "api.file_plans_export": PLAN,
    "api.document_dossiers": DOCUMENT,
    "pages.dossiers_page": NO_PARAMS,
    "pages.dossier_new": NO_PARAMS,
    "pages.file_plan_page": NO_PARAMS,
    "pages.dossier_page": DOSSIER,
    "pages.dossier_toc_page": DOSSIER,
    "pages.dossier_package_page": DOSSIER,
    "pages.file_plan_xlsx": PLAN,
    "api.disposals_due": NO_PARAMS,
    "pages.disposals_page": NO_PARAMS,
    "api.dossiers_transfer_list": NO_PARAMS,
    "api.disposals_list": NO_PARAMS,
    "api.disposals_get": ORG,  # an unknown id: 404
    "api.get_document": DOCUMENT,
    "api.get_trail": DOCUMENT,
    "api.file_content": DOCUMENT,
    "api.file_text": DOCUMENT,
    "api.list_deliveries": DOCUMENT,
    "api.export_edxml": DOCUMENT,
    "api.document_slip": DOCUMENT,
    "api.list_versions": DOCUMENT,
    "pages.document_page": DOCUMENT,
    "pages.document_file": DOCUMENT,
    "pages.document_slip_page": DOCUMENT,
    "pages.outgoing_page": DOCUMENT,
    "pages.outgoing_deliveries": DOCUMENT,
    "pages.outgoing_fields_image": DOCUMENT,
    "pages.outgoing_page_image": DOCUMENT,
    "pages.document_page_image": DOCUMENT,
    "pages.outgoing_issue_screen": DOCUMENT,
    "pages.outgoing_print": DOCUMENT,
    "pages.outgoing_sign_screen": DOCUMENT,
    "api.export_register": REGISTER,
    "pages.register_export_page": REGISTER,
    "api.tasks_get": TASK,
    "api.tasks_trail": TASK,
    "api.tasks_file_content": TASK,
    "pages.task_detail": TASK,
    "pages.task_file": TASK,
    "api.get_organization": ORG,
    "api.list_delegations": ORG,
    "api.list_registers": ORG,
    "api.list_units": ORG,
    "api.list_users": ORG,
    "api.list_privilege_requests": ORG,
    "pages.admin_privilege_requests": ORG,
    "pages.admin_org": ORG,
    "pages.admin_org_edit": ORG,
    "pages.admin_register_new": ORG,
    "pages.admin_unit_new": ORG,
    "pages.admin_user_new": ORG,
    "pages.admin_unit_edit": UNIT,
    "pages.admin_user_edit": USER,
    "api.get_user": USER,
}

# Endpoints refused by role before visibility is looked at: a person without the role gets 403
# for any id, existing or not (no oracle either way); with the role, 404.
ROLE_GATED = {"api.export_edxml"}

YEAR = "from=2026-01-01&to=2026-12-31"
QUERIES: dict[str, list[str]] = {
    "api.feedback_statistics": ["year=2026&quarter=4", "year=2026&quarter=4&format=xlsx"],
    "api.feedback_list": ["box=all", "box=quarantine"],
    "api.list_documents": [
        "",
        "box=all",
        "box=inbox",
        "box=processing",
        "box=done",
        "direction=outgoing&box=all",
        "direction=incoming&box=all",
        f"q={SUBJECT[:-3]}",
        f"q={OUT_SUBJECT[:-3]}",
        "q=9871",
        f"issuer={ISSUER[:-3]}",
        "doc_type=KH",
    ],
    # Searches use a part of a marker: a page echoes what was searched, which is no leak.
    "pages.document_list": ["", "box=all", f"q={SUBJECT[:-3]}", "q=9871", f"issuer={ISSUER[:-3]}"],
    "pages.outgoing_list": ["", "box=all", f"q={OUT_SUBJECT[:-3]}"],
    "api.export_register": ["format=xlsx", "format=docx", "format=xlsx&year=2026"],
    "pages.register_export_page": ["format=xlsx", "format=docx"],
    "api.reports_processing": [
        YEAR,
        f"{YEAR}&group_by=user",
        f"{YEAR}&format=xlsx",
        f"{YEAR}&group_by=user&format=xlsx",
        f"{YEAR}&scope=subtree&group_by=organization",
        f"{YEAR}&scope=subtree&group_by=user&format=xlsx",
    ],
    "api.report_requests_list": ["", "box=sent"],
    "api.tasks_list": ["", "box=all", "box=unit", "box=assigned_by_me", "overdue=true"],
    "pages.tasks_list": ["", "box=all", "box=unit"],
    "pages.tasks_export": ["", "box=all", "box=unit"],
    "pages.task_stats": ["", YEAR, f"{YEAR}&group_by=user"],
    "pages.task_stats_xlsx": ["", YEAR, f"{YEAR}&group_by=user"],
    "api.notifications_list": ["", "unread_only=true"],
    "api.dossiers_list": ["", "year=2026", "state=closed", "mine=true", f"q={DOSSIER_TITLE[:-3]}"],
    "api.dossiers_toc": ["", "format=pdf"],
    "api.dossiers_transfer_list": ["year=2026"],
    "pages.dossiers_page": ["", "year=2026", "state=closed", f"q={DOSSIER_TITLE[:-3]}"],
    "pages.dossier_toc_page": ["", "format=pdf"],
    "api.working_days": ["start=2026-11-23&days=5"],
}


def _values(world: World, kind: str, rule_args: set[str]) -> Iterator[tuple[dict[str, Any], bool]]:
    """The path values to call a route with, each with whether it must answer 404."""
    demo = world.demo
    with demo.factory() as s:
        unit = s.scalars(select(Unit.id).where(Unit.abbreviation == "DCGSPBXH")).one()
    common: dict[str, Any] = {
        "file_id": uuid.uuid4(),
        "number": 1,
        "stage": "sign",
        "org_id": demo.org_id("tw"),
        "unit_id": unit,
        "user_id": demo.user("vanthu.tw").id,
        "task_id": world.task_id,
        "feedback_id": uuid.uuid4(),
        "tracking_code": "PA-AAAA-BBBB",
        "code": "000.01.01.Z01",
        "place": "to-1",
        "plan_id": world.plan_id,
        "disposal_id": uuid.uuid4(),
        "form_id": uuid.uuid4(),
        "request_id": uuid.uuid4(),
    }
    if kind == DOCUMENT:
        docs = [(world.secret_in.id, True), (world.secret_out.id, True)]
        for doc, secret in [*docs, (uuid.UUID(world.plain), False)]:
            for stage in ("sign", "issue"):
                yield {**common, "document_id": doc, "stage": stage}, secret
    elif kind == DOSSIER:
        yield {**common, "dossier_id": world.secret_dossier}, True
        yield {**common, "dossier_id": world.plain_dossier}, False
    elif kind == REGISTER:
        for reg in world.registers.values():
            yield {**common, "register_id": reg}, False
    else:
        yield common, False
    assert rule_args <= set(common) | {"document_id", "register_id", "dossier_id"}, rule_args


def _walk(app: Any, world: World, username: str) -> tuple[list[str], int]:
    """Call every GET route as ``username``; return the problems found and the calls made."""
    problems: list[str] = []
    api_headers = world.flow.h(username)
    page_client = app.test_client()
    login(page_client, username)
    adapter = app.url_map.bind("localhost")
    calls = 0
    rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or set())]
    unknown = sorted(r.endpoint for r in rules if r.endpoint not in ENDPOINTS)
    assert not unknown, f"classify these new GET endpoints in ENDPOINTS: {unknown}"
    for rule in rules:
        kind = ENDPOINTS[rule.endpoint]
        if kind == SKIP:
            continue
        args = set(rule.arguments)
        seen: set[str] = set()
        for values, must_404 in _values(world, kind, args):
            path = adapter.build(rule.endpoint, {k: v for k, v in values.items() if k in args})
            if path in seen:
                continue
            seen.add(path)
            for query in QUERIES.get(rule.endpoint, [""]):
                url = path + ("?" + query if query else "")
                if rule.rule.startswith("/api/"):
                    r = world.flow.client.get(url, headers=api_headers)
                else:
                    r = page_client.get(url)
                calls += 1
                where = f"{username} GET {url} → {r.status_code}"
                if r.status_code >= 500:
                    problems.append(f"{where}: server error")
                found = leaks(r.data, world.markers())
                if found:
                    problems.append(f"{where}: leaks {found}")
                if must_404:
                    allowed = {404, 403} if rule.endpoint in ROLE_GATED else {404}
                    if r.status_code not in allowed:
                        problems.append(f"{where}: a secret document must answer 404")
    return problems, calls


@pytest.mark.parametrize("username", ["vanthu.tw", "lanhdao.tw", "truongban.dcgs"])
def test_every_read_endpoint_hides_the_secret_records_from_the_uncleared(
    app: Any, world: World, username: str
) -> None:
    problems, calls = _walk(app, world, username)
    assert calls > 100
    assert not problems, "\n".join(problems)


def test_the_walk_finds_the_markers_when_the_reader_is_cleared(app: Any, world: World) -> None:
    """The control: the same search sees the records once the clerk is cleared (so the walk
    above can fail), in JSON, in pages and inside the zipped register."""
    set_clearance(world.demo, "vanthu.tw", Secrecy.TOP_SECRET)
    client, h = world.flow.client, world.flow.h("vanthu.tw")
    r = client.get(f"/api/v1/documents/{world.secret_in.id}", headers=h)
    assert r.status_code == 200 and SUBJECT in leaks(r.data, world.markers())
    for fmt in ("xlsx", "docx"):
        r = client.get(
            f"/api/v1/reports/registers/{world.registers['secret_in']}?format={fmt}", headers=h
        )
        assert r.status_code == 200
        assert any(SUBJECT in f and "/" in f for f in leaks(r.data, world.markers())), fmt
    trail = client.get(f"/api/v1/documents/{world.plain}/trail", headers=h).get_json()["items"]
    assert trail[-1]["details"]["reply_document_id"] == str(world.secret_in.id)
    r = client.get(f"/api/v1/documents?q={OUT_SUBJECT}", headers=h)
    assert [d["id"] for d in r.get_json()["items"]] == [str(world.secret_out.id)]
    r = client.get(f"/api/v1/dossiers/{world.secret_dossier}", headers=h)
    assert r.status_code == 200 and DOSSIER_TITLE in leaks(r.data, world.markers())
    assert r.get_json()["documents"][0]["document_id"] == str(world.secret_in.id)
    r = client.get(f"/api/v1/dossiers/{world.secret_dossier}/package", headers=h)
    assert r.status_code == 200 and any(SUBJECT in f for f in leaks(r.data, world.markers()))
    page = world.flow.client.application.test_client()
    login(page, "vanthu.tw")
    found = leaks(page.get("/admin/exchange").data, world.markers())
    assert {AXIS_RECIPIENT, AXIS_ERROR, AXIS_KEY} <= set(found)
    r = client.get(f"/api/v1/tasks/{world.task_id}", headers=world.flow.h("lanhdao.tw"))
    assert r.get_json()["document_id"] is None  # the leader is still uncleared
    set_clearance(world.demo, "lanhdao.tw", Secrecy.SECRET)
    r = client.get(f"/api/v1/tasks/{world.task_id}", headers=world.flow.h("lanhdao.tw"))
    assert r.get_json()["document_id"] == str(world.secret_in.id)


# ---------------------------------------------------------------- registers


def _xlsx_rows(data: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def _docx_rows(data: bytes) -> list[list[str]]:
    table = Docx(io.BytesIO(data)).tables[0]
    return [[c.text for c in row.cells] for row in table.rows]


def test_register_masks_entries_above_the_readers_clearance(flow: Incoming, demo: Demo) -> None:
    reg = secret_register(demo, Direction.INCOMING)
    register_secret(demo, Secrecy.CONFIDENTIAL, subject="Báo cáo mật được xem")
    register_secret(demo, Secrecy.TOP_SECRET, notation="9873/KH-MTTW-BTT")
    set_clearance(demo, "vanthu.tw", Secrecy.CONFIDENTIAL)
    url = f"/api/v1/reports/registers/{reg}"
    xlsx = flow.client.get(f"{url}?format=xlsx", headers=flow.h("vanthu.tw"))
    docx = flow.client.get(f"{url}?format=docx", headers=flow.h("vanthu.tw"))
    assert xlsx.status_code == docx.status_code == 200
    rows = [tuple(v or "" for v in row) for row in _xlsx_rows(xlsx.data)[4:]]
    # The entry within the clearance is whole; the one above keeps its number and date only.
    assert rows[0][1] == "01" and rows[0][5] == "KH: Báo cáo mật được xem"
    assert rows[0][2] == ISSUER and rows[0][3] == NOTATION
    assert rows[1] == ("23/11/2026", "02", "", "", "", "[Văn bản mật]", "", "", "")
    body = _docx_rows(docx.data)[1:]
    assert body[1] == ["23/11/2026", "02", "", "", "", "[Văn bản mật]", "", "", ""]
    for data in (xlsx.data, docx.data):
        found = leaks(data, [SUBJECT.encode(), b"9873/KH-MTTW-BTT"])
        assert not found, found
    # The same register, read with the clearance: the entry is there in full.
    set_clearance(demo, "vanthu.tw", Secrecy.TOP_SECRET)
    full = flow.client.get(f"{url}?format=xlsx", headers=flow.h("vanthu.tw"))
    assert _xlsx_rows(full.data)[5][5] == f"KH: {SUBJECT}"


def test_secret_register_is_refused_to_a_reader_without_clearance(
    flow: Incoming, demo: Demo
) -> None:
    reg = secret_register(demo, Direction.INCOMING)
    register_secret(demo)
    set_clearance(demo, "lanhdao.tw", Secrecy.NONE)  # the demo leader is cleared
    for who in ("vanthu.tw", "lanhdao.tw"):
        for fmt in ("xlsx", "docx"):
            r = flow.client.get(
                f"/api/v1/reports/registers/{reg}?format={fmt}", headers=flow.h(who)
            )
            assert r.status_code == 403, (who, fmt)
            assert r.get_json()["error"]["code"] == "clearance_required"
            assert not leaks(r.data, [SUBJECT.encode(), NOTATION.encode()])
    # Another organisation's register does not exist for the caller at all.
    r = flow.client.get(f"/api/v1/reports/registers/{reg}", headers=flow.h("vanthu.tinh"))
    assert r.status_code == 404


# ---------------------------------------------------------------- duplicates and links


def test_duplicate_of_an_invisible_record_neither_blocks_nor_reveals(
    flow: Incoming, demo: Demo
) -> None:
    secret_register(demo, Direction.INCOMING)
    secret = register_secret(demo, Secrecy.CONFIDENTIAL)
    same = {"notation": NOTATION, "issuer": {"name": ISSUER}, "issued_date": "2026-11-20"}
    r = flow.register("vanthu.tw", **same)
    # Registered as its own record, with nothing of the secret one in the answer.
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["register"]["name"] != "Sổ văn bản đến mật"
    assert not leaks(r.data, [str(secret.id).encode(), SUBJECT.encode()])
    # A cleared clerk is warned of both: the check itself works.
    set_clearance(demo, "vanthu.tw", Secrecy.CONFIDENTIAL)
    before = flow.counts()
    again = flow.register("vanthu.tw", **same)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "possible_duplicate"
    assert flow.counts() == before


def test_duplicate_check_ignores_invisible_records_of_the_same_level(
    flow: Incoming, demo: Demo
) -> None:
    """A Tối mật record does not block a Mật registration by a clerk cleared for Mật only."""
    secret_register(demo, Direction.INCOMING)
    top = register_secret(demo, Secrecy.TOP_SECRET)
    set_clearance(demo, "vanthu.tw", Secrecy.CONFIDENTIAL)
    r = flow.register(
        "vanthu.tw",
        files=[],
        secrecy="confidential",
        page_count=1,
        notation=NOTATION,
        issuer={"name": ISSUER},
        issued_date="2026-11-20",
    )
    assert r.status_code == 201, r.get_json()
    assert not leaks(r.data, [str(top.id).encode(), SUBJECT.encode()])


def _error(r: Any) -> dict[str, Any]:
    body = r.get_json()["error"]
    return {k: body[k] for k in ("code", "message", "details")}


def test_reply_link_to_an_invisible_document_reads_as_a_missing_one(
    flow: Incoming, demo: Demo
) -> None:
    secret_register(demo, Direction.INCOMING)
    secret = register_secret(demo, Secrecy.CONFIDENTIAL)
    doc = flow.to_assigned()
    trail_before = len(flow.client.get(f"/api/v1/documents/{doc}/trail", headers=flow.h("vanthu.tw")).get_json()["items"])  # fmt: skip
    hidden = flow.act(
        "truongban.dcgs", doc, "complete", comment="x", reply_document_id=str(secret.id)
    )
    missing = flow.act("truongban.dcgs", doc, "complete", comment="x", reply_document_id=str(uuid.uuid4()))  # fmt: skip
    assert hidden.status_code == missing.status_code == 422
    assert _error(hidden) == _error(missing)
    after = flow.get("vanthu.tw", doc).get_json()
    assert after["state"] == "assigned"
    trail = flow.client.get(f"/api/v1/documents/{doc}/trail", headers=flow.h("vanthu.tw"))
    assert len(trail.get_json()["items"]) == trail_before
    with demo.factory() as s:
        assert s.get(Document, uuid.UUID(doc)).reply_document_id is None  # type: ignore[union-attr]
    # A visible reply is accepted.
    reply = flow.register("vanthu.tw", notation="77/BC-MTTW-BTT", doc_type="BC").get_json()["id"]
    flow.act("lanhdao.tw", reply, "assign", lead={"unit_id": flow.unit_id("DCGSPBXH")})
    ok = flow.act("truongban.dcgs", doc, "complete", comment="Đã trả lời", reply_document_id=reply)
    assert ok.status_code == 200, ok.get_json()


def test_task_from_an_invisible_document_reads_as_a_missing_one(flow: Incoming, demo: Demo) -> None:
    secret_register(demo, Direction.INCOMING)
    secret = register_secret(demo, Secrecy.CONFIDENTIAL)
    set_clearance(demo, "lanhdao.tw", Secrecy.NONE)  # the demo leader is cleared
    body = {
        "title": "Nhiệm vụ",
        "lead": {"unit_id": flow.unit_id("TG")},
        "due_date": "2026-12-04",
    }
    with demo.factory() as s:
        tasks_before = s.scalar(select(func.count()).select_from(Task))
    hidden = flow.client.post(
        "/api/v1/tasks", headers=flow.h("lanhdao.tw"), json={**body, "document_id": str(secret.id)}
    )
    missing = flow.client.post(
        "/api/v1/tasks",
        headers=flow.h("lanhdao.tw"),
        json={**body, "document_id": str(uuid.uuid4())},
    )
    assert hidden.status_code == missing.status_code == 422
    assert _error(hidden) == _error(missing)
    with demo.factory() as s:
        assert s.scalar(select(func.count()).select_from(Task)) == tasks_before


def test_a_secret_document_is_not_handed_to_someone_without_clearance(
    flow: Incoming, demo: Demo
) -> None:
    secret_register(demo, Direction.INCOMING)
    secret = str(register_secret(demo, Secrecy.CONFIDENTIAL).id)
    set_clearance(demo, "vanthu.tw", Secrecy.CONFIDENTIAL)
    set_clearance(demo, "lanhdao.tw", Secrecy.NONE)  # the demo leader is cleared
    r = flow.act("vanthu.tw", secret, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "recipient_not_cleared"
    assert flow.get("vanthu.tw", secret).get_json()["state"] == "registered"
    # Once the leader is cleared: submitted, then a person without clearance is refused as
    # the lead, a unit is accepted (its cleared members see it).
    set_clearance(demo, "lanhdao.tw", Secrecy.SECRET)
    r = flow.act("vanthu.tw", secret, "submit", to_user_id=flow.user_id("lanhdao.tw"))
    assert r.status_code == 200, r.get_json()
    r = flow.act("lanhdao.tw", secret, "assign", lead={"user_id": flow.user_id("chuyenvien.tg")})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "recipient_not_cleared"
    assert flow.get("lanhdao.tw", secret).get_json()["state"] == "submitted"
    r = flow.act("lanhdao.tw", secret, "assign", lead={"unit_id": flow.unit_id("TG")})
    assert r.status_code == 200, r.get_json()
    assert flow.get("chuyenvien.tg", secret).status_code == 404  # involved, but not cleared


# ---------------------------------------------------------------- notifications


def test_notifications_and_emails_of_a_task_from_a_secret_document_carry_nothing_of_it(
    world: World,
) -> None:
    demo = world.demo
    with demo.factory() as s:
        rows = list(s.scalars(select(Notification)))
        assert rows, "the task's lead was notified"
        texts = [f"{n.title} {n.body} {n.link}".encode() for n in rows]
    for text in texts:
        assert not leaks(text, world.markers()), text
    for mail in pending_emails(demo.uow(), [str(n.id) for n in rows]):
        data = f"{mail.subject} {mail.body} {mail.link}".encode()
        assert not leaks(data, world.markers())


# ---------------------------------------------------------------- the national exchange


def test_the_exchange_page_counts_what_it_hides_from_an_uncleared_admin(world: World) -> None:
    """An admin looks after the exchange whatever their clearance: the secret document's
    waiting delivery and package are left out, their number is said, and a cleared admin sees
    them."""
    page = world.flow.client.application.test_client()
    login(page, "admin")
    html = page.get("/admin/exchange").get_data(as_text=True)
    assert not leaks(html.encode(), world.markers())
    assert "Còn 1 gói tin của văn bản có độ mật vượt quá quyền tiếp cận" in html
    assert "Không có gói tin nào bạn được phép xem đang chờ." in html
    with world.demo.factory() as s:  # (a second admin's approval, as set_clearance does)
        s.scalars(select(User).where(User.username == "admin")).one().clearance = "secret"
        s.commit()
    html = page.get("/admin/exchange").get_data(as_text=True)
    assert AXIS_RECIPIENT in html and AXIS_KEY in html
    assert "vượt quá quyền tiếp cận" not in html


def test_a_failed_secret_delivery_is_announced_only_to_the_cleared(world: World) -> None:
    """The axis refuses the secret document's delivery for good: the organisation's clerks
    cleared for it are told (the title names the document and the recipient), the others not."""
    from docflow.outgoing.axis_deliveries import record_axis_failure

    demo = world.demo
    demo.add_admin("vanthu2.tw")
    with demo.factory() as s:
        cleared = s.scalars(select(User).where(User.username == "vanthu2.tw")).one()
        cleared.role_rows.append(UserRole(role="clerk"))
        cleared.clearance = Secrecy.SECRET.value
        d = Delivery(
            document_id=world.secret_out.id, position=2, recipient_code="000.00.98.H98",
            recipient_name=AXIS_RECIPIENT, channel="axis", state="queued",
        )  # fmt: skip
        s.add(d)
        s.commit()
        ids = {"cleared": cleared.id, "uncleared": demo.user("vanthu.tw").id}
    assert record_axis_failure(demo.uow(), d.id, AXIS_ERROR) is not None
    with demo.factory() as s:
        told = {
            n.user_id
            for n in s.scalars(select(Notification).where(Notification.kind == "delivery_failed"))
        }
    assert ids["cleared"] in told
    assert ids["uncleared"] not in told
