"""Review of replacing documents and corrections (Decree 30 Art. 10(3), DOMAIN.md §5; commit
470de47), as an outside attacker and a demanding văn thư would read it.

Each ``FINDING`` test asserts what the rule asks for and fails on the code as reviewed: it is
marked ``xfail(strict=True)`` and starts passing (so fails the file) once fixed. Each ``HELD``
test pins a rule that holds, on exact values. The clock starts on Monday 23 November 2026,
09:00 in Hà Nội (tests/conftest.py).
"""

from __future__ import annotations

import dataclasses
import html
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from docflow.models import Document, Register, User
from tests.outgoing.conftest import BODY, Outgoing
from tests.outgoing.test_pages import _login
from tests.outgoing.test_replacements import _copies, _field, _trail

TINH, PHUONG = "000.00.01.Z01", "000.01.01.Z01"
FIXTURES = Path(__file__).parents[1] / "interop" / "fixtures"
IMPORT = "/api/v1/interop/packages"
SECRET_BODY = "Phương án bảo vệ mục tiêu trọng điểm: lực lượng tập kết tại kho K9 lúc 05 giờ."


# ---------------------------------------------------------------- helpers


def _clear(flow: Outgoing, app: Any, level: str, *usernames: str) -> None:
    """The secret-network profile (DOMAIN.md §3: secret documents are drafted there only);
    give ``usernames`` the clearance ``level``; open the central office's secret series of
    outgoing numbers for 2026 (secret documents have their own, DOMAIN.md §2)."""
    from app.runtime import runtime

    rt = runtime(app)
    rt.config = dataclasses.replace(rt.config, secret_network=True)
    with flow.demo.factory() as s:
        for u in s.scalars(select(User).where(User.username.in_(usernames))):
            u.clearance = level
        tw = flow.demo.org_id("tw")
        if not s.scalars(
            select(Register).where(
                Register.organization_id == tw,
                Register.secret_series.is_(True),
                Register.direction == "outgoing",
            )
        ).first():
            s.add(
                Register(
                    organization_id=tw,
                    direction="outgoing",
                    year=2026,
                    name="Sổ văn bản đi mật",
                    secret_series=True,
                )
            )
        s.commit()
    flow._tokens.clear()


CLEARED = ("chuyenvien.dcgs", "truongban.dcgs", "lanhdao.tw", "vanthu.tw")


def _issue(flow: Outgoing, doc: str) -> dict[str, Any]:
    return flow.ok("vanthu.tw", doc, "issue")


# ---------------------------------------------------------------- secrecy


def test_replacing_a_secret_plan_from_its_page_keeps_it_secret(flow: Outgoing, app: Any) -> None:
    """FINDING (high), fixed: a «Mật» plan, issued and dispatched, is replaced from its page by a
    cleared specialist. The form starts from the plan's own text (``draft_form`` copies the
    body) but ``_replacement_start`` does not carry ``secrecy`` and ``_draft_data`` has no
    ``secrecy`` at all: saving it makes an ordinary draft holding the secret text, which every
    reader of ordinary documents (and, once dispatched, every recipient's clerk) may read.
    Where: app/pages/outgoing.py ``_replacement_start`` / ``_draft_data``,
    docflow/outgoing/replacements.py ``replaced_for_draft`` (no secrecy rule). Fix: a
    replacement (and a correction, which names it) is at least as secret as the document it
    acts upon: carry the level into the form and refuse a lower one (422 on ``secrecy``)."""
    _clear(flow, app, "confidential", *CLEARED)
    old = flow.to_dispatched(secrecy="confidential", body=SECRET_BODY)
    assert flow.get("vanthu.tw", old).get_json()["secrecy"] == "confidential"
    spec = app.test_client()
    _login(spec, "chuyenvien.dcgs")
    start = spec.get(f"/outgoing/new?replaces={old}&kind=replace")
    assert start.status_code == 200
    form = html.unescape(start.get_data(as_text=True))
    assert SECRET_BODY in form  # the secret text is in the form
    r = spec.post(
        "/outgoing/new",
        data={
            "csrf_token": _field(form, "csrf_token"),
            "mode": "template",
            "doc_type": _field(form, "doc_type"),
            "subject": _field(form, "subject"),
            "signer_user_id": _field(form, "signer_user_id"),
            "body": SECRET_BODY + " Sửa: lúc 06 giờ.",
            "replaces_document_id": old,
            "replaces_kind": "replace",
        },
    )
    if r.status_code in (302, 303):
        new = r.headers["Location"].rsplit("/", 1)[-1]
        assert flow.get("vanthu.tw", new).get_json()["secrecy"] == "confidential"
    else:
        assert r.status_code == 422


def test_a_replacement_may_not_be_less_secret_than_what_it_replaces(
    flow: Outgoing, app: Any
) -> None:
    """FINDING (medium), fixed: through the API, an ordinary (``none``) plan replacing a «Mật» one is
    201, issued and dispatched; each recipient's new, ordinary copy carries the note «Thay thế
    văn bản <notation of the secret copy> đã nhận ngày …» (``link_copy``), which its clerk
    without clearance reads (and the incoming register prints in «ghi chú»), while the
    ``replaces`` link itself is rightly hidden. Where: docflow/outgoing/replacements.py
    ``replaced_for_draft`` (and ``link_copy`` writing ``note``). Fix: refuse a replacement or
    correction whose ``secrecy`` ranks below the replaced document's (422 on ``secrecy``)."""
    _clear(flow, app, "confidential", *CLEARED)
    old = flow.to_dispatched(secrecy="confidential", body=SECRET_BODY)
    r = flow.template(replaces_document_id=old, secrecy="none", recipients=[])
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["details"]["fields"].keys() == {"secrecy"}


def test_held_links_to_a_secret_document_are_hidden_from_readers_without_clearance(
    flow: Outgoing, app: Any
) -> None:
    """HELD: an ordinary plan is replaced by a «Mật» one (a replacement may be more secret,
    never less). The province clerk without clearance cannot open the new, secret copy (404)
    and does not see it in ``replaced_by`` of the plan's copy, which it still reads; once
    cleared, it sees the link both ways."""
    _clear(flow, app, "confidential", *CLEARED)
    old = flow.to_dispatched()
    before = _copies(flow, old)
    new = flow.to_dispatched(replaces_document_id=old, secrecy="confidential", recipients=[])
    after = _copies(flow, new)
    assert flow.get("vanthu.tinh", str(after[TINH].id)).status_code == 404
    seen = flow.get("vanthu.tinh", str(before[TINH].id)).get_json()
    assert seen["state"] == "recalled" and seen["replaced_by"] == []
    _clear(flow, app, "confidential", "vanthu.tinh")
    seen = flow.get("vanthu.tinh", str(before[TINH].id)).get_json()
    assert [x["id"] for x in seen["replaced_by"]] == [str(after[TINH].id)]
    assert flow.get("vanthu.tinh", str(after[TINH].id)).get_json()["replaces"]["id"] == str(
        before[TINH].id
    )


def test_a_secret_replacements_notation_is_not_told_to_readers_without_clearance(
    flow: Outgoing, app: Any
) -> None:
    """FINDING (low), fixed: an ordinary plan is replaced by a «Mật» one (a cleared unit head drafts
    it). The specialist who drafted the plan, without clearance, does not see the replacement
    in ``replaced_by`` (right) but reads its notation in the plan's trail (step ``replaced``,
    ``details.notation``, written by ``record_issued``) and in the 409 ``already_replaced``
    message when drafting a replacement (``_not_replaced`` names it). Where:
    docflow/outgoing/replacements.py ``record_issued``, ``_not_replaced``. Fix: apply the
    reader's clearance to what names the replacement (a trail step without its notation for
    those without clearance; «đã được thay thế bởi một văn bản khác» in the message)."""
    _clear(flow, app, "confidential", "truongban.dcgs", "lanhdao.tw", "vanthu.tw")
    old = flow.to_dispatched()
    new = flow.template(
        "truongban.dcgs", replaces_document_id=old, secrecy="confidential", recipients=[]
    ).get_json()["id"]
    flow.ok("truongban.dcgs", new, "submit_for_review", to_user_id=flow.user_id("lanhdao.tw"))
    flow.ok("lanhdao.tw", new, "sign")
    secret_notation = _issue(flow, new)["notation"]
    assert flow.get("chuyenvien.dcgs", old).get_json()["replaced_by"] == []
    r = flow.template(replaces_document_id=old)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_replaced"
    assert f"bởi văn bản số {secret_notation}" not in r.get_json()["error"]["message"]
    [step] = [t for t in _trail(flow, "chuyenvien.dcgs", old) if t["action"] == "replaced"]
    assert step["details"].get("notation") != secret_notation
    assert step["details"].get("replacement_id") != new


# ---------------------------------------------------------------- delivery order


def test_a_replacement_ends_the_earlier_copy_that_arrives_after_it(
    flow: Outgoing, app: Any
) -> None:
    """FINDING (medium), fixed: the plan is dispatched while the delivery worker is behind (its
    deliveries wait in the outbox); the clerk sees the mistake, and a «Khẩn» replacement is
    issued and dispatched (urgent first: it overtakes the queue). ``link_copy`` looks for the
    recipients' copies of the plan when the replacement arrives, finds none (the plan has not
    arrived yet), so the replacement's copy names nothing and ends nothing; the plan's copies
    then arrive and stay live at the province and the ward, which now hold two valid plans.
    Where: docflow/outgoing/dispatch.py ``deliver_internal`` /
    docflow/outgoing/replacements.py ``link_copy`` (only the copies already there). Fix: when
    the earlier document's copy arrives after a standing replacement of it, link it and end
    it at once (or refuse to dispatch the replacement, 409, while the earlier one's deliveries
    to the same recipients are still queued)."""
    from app.runtime import runtime
    from docflow.outbox import process_message

    rt = runtime(app)
    old = flow.to_signed()
    _issue(flow, old)
    held: list[Any] = []
    publish, rt.publisher = rt.publisher, held.extend
    try:
        flow.ok("vanthu.tw", old, "dispatch")
    finally:
        rt.publisher = publish
    assert _copies(flow, old) == {}  # queued, not delivered yet
    new = flow.to_signed(replaces_document_id=old, recipients=[], urgency="urgent")
    _issue(flow, new)
    refused = flow.act("vanthu.tw", new, "dispatch").status_code == 409
    for q in held:
        process_message(rt.uow(), q.id, rt.handlers)
    if refused:  # one fix: the replacement waits for the earlier deliveries
        flow.ok("vanthu.tw", new, "dispatch")
    before, after = _copies(flow, old), _copies(flow, new)
    assert set(before) == set(after) == {TINH, PHUONG}
    assert {c: (before[c].state, after[c].replaces_id) for c in (TINH, PHUONG)} == {
        c: ("recalled", before[c].id) for c in (TINH, PHUONG)
    }


# ---------------------------------------------------------------- concurrency


@pytest.mark.pg
def test_held_two_clerks_issuing_two_replacements_at_once_on_postgresql(
    tmp_path: Path, demo_pki_dir: Path
) -> None:
    """HELD: two replacements of one plan, both signed, issued at the same moment by two
    clerks' transactions (two threads, a connection each, committed, on a database of its own:
    the shared test connection cannot show it): the row lock on the plan
    (``ensure_replaceable``) makes them take turns; one is issued, the other is refused 409
    ``already_replaced`` naming it, stays ``signed`` without a number, and exactly one number
    is consumed."""
    import io
    import shutil
    import uuid

    from app.pki import DemoSigning
    from docflow import UnitOfWork, load_actor, local_date, make_engine, make_session_factory
    from docflow.demo import seed_demo
    from docflow.errors import ConflictError
    from docflow.outgoing import actions as outgoing_actions
    from docflow.outgoing import drafts as outgoing
    from docflow.outgoing.commands import DraftMeta
    from docflow.uploads import Upload
    from migrations import upgrade
    from signing import make_sample_document
    from storage import open_store
    from tests.conftest import Clock, fresh_pg_database, make_test_settings
    from tests.outgoing.conftest import attach_images

    url = fresh_pg_database("_replreview")
    upgrade(url)
    engine = make_engine(url, pool_size=6)
    factory = make_session_factory(engine)
    clock = Clock()
    store = open_store(f"file://{tmp_path / 'objects'}")
    store.initialize()
    settings = make_test_settings(tmp_path, url)
    shutil.copytree(demo_pki_dir, settings.data_dir / "pki")
    try:
        seed_demo(UnitOfWork(factory, clock=clock), password="replacement-review")
        attach_images(factory, clock, store)
        signing = DemoSigning(settings)

        def uow() -> UnitOfWork:
            return UnitOfWork(factory, clock=clock, store=store, signing=signing)

        def actor(username: str) -> Any:
            with factory() as s:
                user = s.scalars(select(User).where(User.username == username)).one()
                return load_actor(s, user.id, local_date(clock()))

        drafter, leader, clerk = actor("chuyenvien.dcgs"), actor("lanhdao.tw"), actor("vanthu.tw")
        pdf = make_sample_document(1).pdf

        def signed(**extra: Any) -> uuid.UUID:
            meta = DraftMeta.model_validate(
                {"doc_type": "KH", "subject": "Kế hoạch", "signer_user_id": str(leader.user_id)}
                | extra
            )
            doc = outgoing.create_draft(
                uow(), drafter, meta, [Upload(io.BytesIO(pdf), "d.pdf", "application/pdf")]
            )
            outgoing_actions.act(
                uow(), drafter, doc.id, "submit_for_review", {"to_user_id": str(leader.user_id)}
            )
            outgoing_actions.act(uow(), leader, doc.id, "sign", {})
            return doc.id

        old = signed()
        outgoing_actions.act(uow(), clerk, old, "issue", {})
        a, b = signed(replaces_document_id=str(old)), signed(replaces_document_id=str(old))
        barrier = threading.Barrier(2)
        outcome: dict[uuid.UUID, Any] = {}

        def issue(doc_id: uuid.UUID) -> None:
            barrier.wait()
            try:
                outcome[doc_id] = outgoing_actions.act(uow(), clerk, doc_id, "issue", {}).notation
            except ConflictError as exc:
                outcome[doc_id] = exc
            except BaseException as exc:  # reported below
                outcome[doc_id] = repr(exc)

        threads = [threading.Thread(target=issue, args=(d,)) for d in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        won = [d for d, o in outcome.items() if isinstance(o, str) and "/KH-" in o]
        lost = [d for d, o in outcome.items() if isinstance(o, ConflictError)]
        assert len(won) == len(lost) == 1, outcome
        error = outcome[lost[0]]
        assert error.code == "already_replaced"
        assert f"văn bản số {outcome[won[0]]}" in error.message
        with factory() as s:
            reg = s.scalars(
                select(Register).where(
                    Register.direction == "outgoing",
                    Register.organization_id == clerk.organization_id,
                    Register.secret_series.is_(False),
                )
            ).one()
            loser = s.get_one(Document, lost[0])
            assert reg.last_number == 2  # the plan's and the winner's
            assert (loser.state, loser.notation, loser.register_number) == ("signed", None, None)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- chains


def test_held_a_replacement_of_a_replacement_ends_the_copies_of_the_one_it_replaces(
    flow: Outgoing,
) -> None:
    """HELD: plan → replacement R1 → R2 replacing R1. While R1 stands the plan cannot be
    replaced again (409); R2's copies name R1's copies and end them; the plan's copies, ended
    by R1, are not touched again (one recall step each); each side names the next."""
    old = flow.to_dispatched()
    r1 = flow.to_dispatched(replaces_document_id=old, recipients=[])
    again = flow.template(replaces_document_id=old)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_replaced")
    r2 = flow.to_dispatched(replaces_document_id=r1, recipients=[])
    plan, first, second = _copies(flow, old), _copies(flow, r1), _copies(flow, r2)
    for code in (TINH, PHUONG):
        assert (plan[code].state, first[code].state, second[code].state) == (
            "recalled",
            "recalled",
            "arrived",
        )
        assert second[code].replaces_id == first[code].id
        assert first[code].replaces_id == plan[code].id
    clerk = "vanthu.tinh"
    assert [t["action"] for t in _trail(flow, clerk, str(plan[TINH].id))].count("recall") == 1
    mid = flow.get("vanthu.tw", r1).get_json()
    assert (mid["replaces"]["id"], [x["id"] for x in mid["replaced_by"]]) == (old, [r2])


def test_held_a_recalled_plan_may_be_replaced_and_its_recalled_copies_are_left_alone(
    flow: Outgoing,
) -> None:
    """HELD: the plan was recalled (each copy recalled, 15 back); a right one replacing it is
    drafted, issued and dispatched: its copies name the recalled copies, which get no second
    recall step, and the recipients' answers on the plan stay 15."""
    old = flow.to_dispatched()
    flow.ok("vanthu.tw", old, "recall", reason="Ban hành nhầm nội dung")
    new = flow.to_dispatched(replaces_document_id=old, recipients=[])
    plan, after = _copies(flow, old), _copies(flow, new)
    for code in (TINH, PHUONG):
        assert (plan[code].state, after[code].replaces_id) == ("recalled", plan[code].id)
    steps = [t["action"] for t in _trail(flow, "vanthu.phuong", str(plan[PHUONG].id))]
    assert steps.count("recall") == 1
    codes = {d["recipient"]["code"]: d["status_code"] for d in flow.deliveries("vanthu.tw", old)}
    assert codes == {TINH: "15", PHUONG: "15"}


# ---------------------------------------------------------------- pages


def test_held_the_form_refuses_bad_parameters_with_404_and_escapes_the_subject(
    flow: Outgoing, app: Any
) -> None:
    """HELD: on the drafting form, a bad kind, an id that is no UUID, one that does not exist,
    a recipient's copy (not ours) and a POST naming garbage all read 404 (never 500); the
    subject of the plan named in the banner is escaped; a form without its CSRF token stores
    nothing; once the plan is replaced, the form says so in Vietnamese and saving it is 409
    with the message (422, as
    the form's other refusals) and nothing stored."""
    hostile = "Kế hoạch <script>alert('x')</script> giám sát"
    old = flow.to_dispatched(subject=hostile)
    spec = app.test_client()
    _login(spec, "chuyenvien.dcgs")
    copy = _copies(flow, old)[TINH].id
    for query in (
        f"replaces={old}&kind=bogus",
        "replaces=not-a-uuid",
        "replaces=00000000-0000-7000-8000-000000000000",
        f"replaces={copy}&kind=correct",
    ):
        assert spec.get(f"/outgoing/new?{query}").status_code == 404, query
    form = spec.get(f"/outgoing/new?replaces={old}&kind=replace").get_data(as_text=True)
    assert "<script>alert(" not in form and "&lt;script&gt;alert(" in form
    token = _field(form, "csrf_token")
    assert (
        spec.post(
            "/outgoing/new", data={"csrf_token": token, "replaces_document_id": "x"}
        ).status_code
        == 404
    )
    counts = flow.counts()
    data = {
        "mode": "template",
        "doc_type": "KH",
        "subject": "Kế hoạch thay thế",
        "signer_user_id": flow.user_id("lanhdao.tw"),
        "body": BODY,
        "replaces_document_id": old,
        "replaces_kind": "replace",
    }
    assert spec.post("/outgoing/new", data=data).status_code == 400  # no CSRF token
    assert flow.counts() == counts
    flow.to_signed(replaces_document_id=old)
    new = flow.to_signed(replaces_document_id=old)
    notation = _issue(flow, new)["notation"]
    shown = spec.get(f"/outgoing/{new}").get_data(as_text=True)
    assert 'id="replaces"' in shown and "<script>alert(" not in shown
    form = spec.get(f"/outgoing/new?replaces={old}&kind=replace").get_data(as_text=True)
    refusal = f"đã được thay thế bởi văn bản số {notation}"
    assert "alert-danger" in form and refusal in html.unescape(form)
    counts = flow.counts()
    r = spec.post("/outgoing/new", data={**data, "csrf_token": _field(form, "csrf_token")})
    assert r.status_code == 422 and refusal in html.unescape(r.get_data(as_text=True))
    assert flow.counts() == counts


def test_held_openapi_describes_the_new_fields(client: Any) -> None:
    """HELD: ``/api/v1/openapi.json`` gives drafts ``replaces_document_id`` (a UUID or null)
    and ``replaces_kind`` (``replace`` | ``correct``, default ``replace``), and documents
    ``replaces`` (a ReplacementLink or null) and ``replaced_by`` (a list of them), whose
    ``kind`` is the same enumeration; both drafting endpoints list 409."""
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name in ("DraftMeta", "TemplateDraft"):
        props = schemas[name]["properties"]
        assert {"format": "uuid", "type": "string"} in props["replaces_document_id"]["anyOf"]
        assert props["replaces_kind"]["enum"] == ["replace", "correct"]
        assert props["replaces_kind"]["default"] == "replace"
    out = schemas["DocumentOut"]["properties"]
    link = "#/components/schemas/ReplacementLink"
    assert {"$ref": link} in out["replaces"]["anyOf"]
    assert out["replaced_by"]["items"] == {"$ref": link}
    assert schemas["ReplacementLink"]["properties"]["kind"]["enum"] == ["replace", "correct"]
    for path in ("/api/v1/outgoing", "/api/v1/outgoing/template"):
        assert "409" in spec["paths"][path]["post"]["responses"], path


# ---------------------------------------------------------------- received packages


def _original_of(replacement: bytes) -> bytes:
    """The plan replace.edxml (62/KH-MTTW-BTT of 22 June) replaces: the same package without
    its Bussiness, numbered 60 of 18 June."""
    start, end = replacement.index(b"<edXML:Bussiness>"), replacement.index(b"</edXML:Bussiness>")
    plan = replacement[:start] + replacement[end + len(b"</edXML:Bussiness>") :]
    for a, b in (
        (b"2026/06/22,62/", b"2026/06/18,60/"),
        (b"<edXML:CodeNumber>62</edXML:CodeNumber>", b"<edXML:CodeNumber>60</edXML:CodeNumber>"),
        (b"2026/06/22</edXML:PromulgationDate>", b"2026/06/18</edXML:PromulgationDate>"),
    ):
        plan = plan.replace(a, b)
    return plan


def test_held_hostile_replace_and_update_packages_change_nothing(
    client: Any, api: Any, demo: Any
) -> None:
    """HELD: at the province, after the plan 60/KH-MTTW-BTT arrived from 000.00.00.Z01: an
    update naming it but sent as another organisation (000.00.00.Y93) is refused 422
    ``update_unknown`` (the sender binding), so is a replacement naming its own DocumentId
    with nothing received under it; neither stores a document nor touches the plan. The real
    replacement imported twice is one document, and ends the plan with one recall step."""
    h = api("vanthu.tinh")
    replacement = (FIXTURES / "replace.edxml").read_bytes()
    r = client.post(
        IMPORT, headers=h, data=_original_of(replacement), content_type="application/xml"
    )
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()["id"]

    def count() -> int:
        with demo.factory() as s:
            return len(s.scalars(select(Document.id)).all())

    before = count()
    three = b"<edXML:BussinessDocType>3</edXML:BussinessDocType>"
    forged = replacement.replace(three, b"<edXML:BussinessDocType>2</edXML:BussinessDocType>")
    forged = forged.replace(
        b"<edXML:From><edXML:OrganId>000.00.00.Z01</edXML:OrganId>",
        b"<edXML:From><edXML:OrganId>000.00.00.Y93</edXML:OrganId>",
    ).replace(b"000.00.00.Z01,2026/06/22", b"000.00.00.Y93,2026/06/22")
    r = client.post(IMPORT, headers=h, data=forged, content_type="application/xml")
    assert (r.status_code, r.get_json()["error"]["code"]) == (422, "update_unknown")
    own = replacement.replace(
        b"<edXML:DocumentId>000.00.00.Z01,2026/06/18,60/KH-MTTW-BTT</edXML:DocumentId>",
        b"<edXML:DocumentId>000.00.00.Z01,2026/06/22,62/KH-MTTW-BTT</edXML:DocumentId>",
    )
    r = client.post(IMPORT, headers=h, data=own, content_type="application/xml")
    assert (r.status_code, r.get_json()["error"]["code"]) == (422, "update_unknown")
    assert count() == before
    earlier = client.get(f"/api/v1/documents/{plan}", headers=h).get_json()
    assert (earlier["state"], earlier["replaced_by"]) == ("arrived", [])
    first = client.post(IMPORT, headers=h, data=replacement, content_type="application/xml")
    again = client.post(IMPORT, headers=h, data=replacement, content_type="application/xml")
    assert first.get_json()["id"] == again.get_json()["id"]
    assert count() == before + 1
    trail = client.get(f"/api/v1/documents/{plan}/trail", headers=h).get_json()["items"]
    assert [t["action"] for t in trail].count("recall") == 1
    assert client.get(f"/api/v1/documents/{plan}", headers=h).get_json()["state"] == "recalled"


# ---------------------------------------------------------------- through the axis


def test_the_replacement_info_lists_every_organisation_that_had_the_plan(
    flow: Outgoing, app: Any, tmp_path: Path
) -> None:
    """FINDING (low), fixed: the plan went through the axis to two organisations of another
    system; its replacement goes to both. The hand-written fixture replace.edxml (and the
    model's own docstring: "A document replaced by this one, and the organisations that had
    received it") lists in ReplacementInfo/OrganIdList every organisation that received the
    replaced document; ``interop.outbox._replacing`` filters the peers by the package's own
    ``To`` (``peer_code.in_(recipients)``, and ``send_to_axis`` builds one package per
    recipient), so each package names only its addressee. Fix: list every peer the replaced
    document was sent to under that DocumentId (the filter decides only whether the package is
    a replace or new)."""
    from lxml import etree

    from app.exchange import register_agencies, send_to_axis
    from app.runtime import runtime
    from tests.interop.conftest import SECRET_A, SECRET_B, SYSTEM_A, SYSTEM_B, client_for, start_sim

    ns = {"e": "http://www.mic.gov.vn/TBT/QCVN_102_2016"}
    one = {"code": "000.00.00.Y95", "name": "Sở Thử nghiệm thay thế (ngoài hệ thống)"}
    two = {"code": "000.00.00.Y96", "name": "Sở Thử nghiệm thứ hai (ngoài hệ thống)"}
    sim = start_sim(tmp_path / "axis")
    try:
        rt = runtime(app)
        rt.settings = rt.settings.with_overrides(
            axis_url=sim.url, axis_system_id=SYSTEM_A, axis_secret=SECRET_A
        )
        register_agencies(rt)
        with client_for(sim.url, SYSTEM_B, SECRET_B) as other:
            for o in (one, two):
                other.register_agency(o["code"], o["name"])
            old = flow.to_dispatched(recipients=[one, two])
            assert send_to_axis(rt) == 2
            seen = {item.doc_id for item in other.get_received_list("edoc")}
            for doc_id in seen:
                other.update_status(doc_id, "done")
            flow.to_dispatched(replaces_document_id=old, recipients=[])
            assert send_to_axis(rt) == 2
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            packages = [
                etree.fromstring(other.get_edoc(item.doc_id), parser)
                for item in other.get_received_list("edoc")
                if item.doc_id not in seen
            ]
            assert len(packages) == 2
            for p in packages:
                assert p.xpath("string(//e:BussinessDocType)", namespaces=ns) == "3"
                listed = p.xpath(
                    "//e:ReplacementInfo/e:OrganIdList/e:OrganId/text()", namespaces=ns
                )
                assert sorted(listed) == [one["code"], two["code"]]
    finally:
        sim.server.shutdown()
        sim.server.server_close()
