"""A fresh installation sends at once, and a delivery never fails for good silently: the axis
simulator is the peer; refusals are retried with backoff, registered again, or shown to the
clerk (in Vietnamese) who can retry or cancel the delivery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import Clock
from tests.interop.conftest import (
    SECRET_A,
    SECRET_B,
    SYSTEM_A,
    SYSTEM_B,
    Sim,
    client_for,
    start_sim,
)
from tests.outgoing.conftest import Outgoing

EXTERNAL = {"code": "000.00.00.Y95", "name": "Sở Thử nghiệm (ngoài hệ thống)"}


def _start(path: Path) -> Sim:
    return start_sim(path)


def _stop(sim: Sim) -> None:
    sim.server.shutdown()
    sim.server.server_close()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    running = _start(tmp_path / "axis")
    yield running
    _stop(running)


def _wire(app: Any, sim: Sim) -> Any:
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(
        axis_url=sim.url, axis_system_id=SYSTEM_A, axis_secret=SECRET_A
    )
    return rt


def _delivery_action(flow: Outgoing, who: str, doc: str, delivery: str, action: Any) -> Any:
    return flow.client.post(
        f"/api/v1/documents/{doc}/deliveries/{delivery}/actions",
        headers=flow.h(who),
        json={"action": action},
    )


def test_first_send_of_a_fresh_installation_registers_its_agency_first(
    flow: Outgoing, app: Any, sim: Sim
) -> None:
    """No registration job has run: the send itself registers the sending organisation."""
    from app.exchange import send_to_axis

    rt = _wire(app, sim)
    doc = flow.to_dispatched(recipients=[EXTERNAL])
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency(EXTERNAL["code"], EXTERNAL["name"])
        assert send_to_axis(rt) == 1
        [item] = external.get_received_list("edoc")
        assert item.from_code == "000.00.00.Z01"
        owners = {a.code: a.system_id for a in external.get_agencies()}
    assert owners["000.00.00.Z01"] == SYSTEM_A
    [delivery] = flow.deliveries("vanthu.tw", doc)
    assert (delivery["state"], delivery["error"], delivery["allowed_actions"]) == ("sent", None, [])


def test_an_axis_that_forgot_us_is_told_again_and_the_send_goes_through(
    flow: Outgoing, app: Any, sim: Sim, tmp_path: Path
) -> None:
    """Our registration looks fresh, but the axis was reset: 403 → register again → sent."""
    from app.exchange import register_agencies, send_to_axis

    rt = _wire(app, sim)
    assert register_agencies(rt) == 3
    assert register_agencies(rt) == 0  # fresh: nothing to tell again
    reset = _start(tmp_path / "axis-reset")  # an axis that never heard of us
    try:
        rt.settings = rt.settings.with_overrides(axis_url=reset.url)
        doc = flow.to_dispatched(recipients=[EXTERNAL])
        with client_for(reset.url, SYSTEM_B, SECRET_B) as external:
            external.register_agency(EXTERNAL["code"], EXTERNAL["name"])
            assert send_to_axis(rt) == 1
            assert len(external.get_received_list("edoc")) == 1
        [delivery] = flow.deliveries("vanthu.tw", doc)
        assert delivery["state"] == "sent" and delivery["attempts"] == 1
    finally:
        _stop(reset)


def test_unknown_recipient_is_retried_with_backoff_until_it_registers(
    flow: Outgoing, app: Any, sim: Sim, clock: Clock
) -> None:
    from app.exchange import send_to_axis

    rt = _wire(app, sim)
    doc = flow.to_dispatched(recipients=[EXTERNAL])
    assert send_to_axis(rt) == 0  # the recipient's system has not registered it yet
    [waiting] = flow.deliveries("vanthu.tw", doc)
    assert waiting["state"] == "queued" and waiting["attempts"] == 1
    assert "chưa có cơ quan nhận 000.00.00.Y95" in waiting["error"]
    first_retry = dt.datetime.fromisoformat(waiting["next_attempt_at"])
    assert first_retry - clock() == dt.timedelta(seconds=30)  # DHTN_AXIS_SEND_SECONDS
    assert sorted(waiting["allowed_actions"]) == ["cancel", "retry"]
    assert send_to_axis(rt) == 0  # not before its time: no second attempt
    assert flow.deliveries("vanthu.tw", doc)[0]["attempts"] == 1
    clock.advance(seconds=31)
    assert send_to_axis(rt) == 0
    again = flow.deliveries("vanthu.tw", doc)[0]
    assert again["attempts"] == 2
    assert dt.datetime.fromisoformat(again["next_attempt_at"]) - clock() == dt.timedelta(
        seconds=60
    )  # doubled
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency(EXTERNAL["code"], EXTERNAL["name"])
        clock.advance(seconds=61)
        assert send_to_axis(rt) == 1
        assert len(external.get_received_list("edoc")) == 1
    [sent] = flow.deliveries("vanthu.tw", doc)
    assert (sent["state"], sent["error"], sent["next_attempt_at"]) == ("sent", None, None)


def test_spent_attempts_fail_the_delivery_and_tell_the_clerk(
    flow: Outgoing, app: Any, sim: Sim, clock: Clock
) -> None:
    from app.exchange import send_to_axis
    from docflow.outgoing.axis_deliveries import MAX_AXIS_ATTEMPTS

    rt = _wire(app, sim)
    doc = flow.to_dispatched(recipients=[EXTERNAL])
    for _ in range(MAX_AXIS_ATTEMPTS):
        send_to_axis(rt)
        clock.advance(hours=1, seconds=1)
    flow._tokens.clear()  # hours went by: the tokens of before have expired
    [failed] = flow.deliveries("vanthu.tw", doc)
    assert failed["state"] == "failed" and failed["attempts"] == MAX_AXIS_ATTEMPTS
    assert f"đã thử {MAX_AXIS_ATTEMPTS} lần" in failed["error"]
    bell = flow.client.get("/api/v1/notifications", headers=flow.h("vanthu.tw")).get_json()
    titles = [n["title"] for n in bell["items"] if n["kind"] == "delivery_failed"]
    assert titles and EXTERNAL["name"] in titles[0]
    assert send_to_axis(rt) == 0  # failed for good: the job leaves it to the clerk

    # The clerk retries from the deliveries page's API; it goes once the recipient exists.
    r = _delivery_action(flow, "vanthu.tw", doc, failed["id"], "retry")
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["state"], r.get_json()["attempts"]) == ("queued", 0)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency(EXTERNAL["code"], EXTERNAL["name"])
    assert send_to_axis(rt) == 1
    trail = flow.client.get(f"/api/v1/documents/{doc}/trail", headers=flow.h("vanthu.tw"))
    assert "delivery_retry" in [e["action"] for e in trail.get_json()["items"]]


def test_delivery_actions_refuse_in_order_and_change_nothing(
    flow: Outgoing, app: Any, sim: Sim
) -> None:
    from app.exchange import send_to_axis
    from docflow.models import Delivery, TrailEntry

    rt = _wire(app, sim)
    doc = flow.to_dispatched(recipients=[EXTERNAL, {"code": "000.00.00.Y94", "name": "Sở B"}])
    send_to_axis(rt)
    first, second = flow.deliveries("vanthu.tw", doc)

    def snapshot() -> tuple[Any, ...]:
        with flow.demo.factory() as s:
            rows = s.execute(
                select(Delivery.state, Delivery.attempts, Delivery.next_attempt_at).order_by(
                    Delivery.position
                )
            ).all()
            trail = s.scalar(select(func.count()).select_from(TrailEntry))
        return tuple(rows), trail

    before = snapshot()
    # not visible (another organisation's clerk) → 404; an unknown delivery → 404
    assert _delivery_action(flow, "vanthu.tinh", doc, first["id"], "cancel").status_code == 404
    other = "00000000-0000-4000-8000-000000000000"
    assert _delivery_action(flow, "vanthu.tw", doc, other, "cancel").status_code == 404
    # visible but not the clerk → 403
    r = _delivery_action(flow, "lanhdao.tw", doc, first["id"], "cancel")
    assert r.status_code == 403, r.get_json()
    # unknown action → 422, with the API's error shape
    r = _delivery_action(flow, "vanthu.tw", doc, first["id"], "resend")
    assert r.status_code == 422 and r.get_json()["error"]["code"]
    r = _delivery_action(flow, "vanthu.tw", doc, first["id"], None)
    assert r.status_code == 422
    assert snapshot() == before

    r = _delivery_action(flow, "vanthu.tw", doc, second["id"], "cancel")
    assert r.status_code == 200 and r.get_json()["state"] == "cancelled"
    assert r.get_json()["allowed_actions"] == []
    # cancelled: neither retried nor cancelled again (409), and the job never sends it
    for action in ("retry", "cancel"):
        r = _delivery_action(flow, "vanthu.tw", doc, second["id"], action)
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "delivery_state"
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency(EXTERNAL["code"], EXTERNAL["name"])
        external.register_agency("000.00.00.Y94", "Sở B")
        r = _delivery_action(flow, "vanthu.tw", doc, first["id"], "retry")
        assert r.status_code == 200
        assert send_to_axis(rt) == 1
        assert [i.to for i in external.get_received_list("edoc")] == [("000.00.00.Y95",)]
    # sent: no action any more
    r = _delivery_action(flow, "vanthu.tw", doc, first["id"], "cancel")
    assert r.status_code == 409


def test_a_refusal_that_will_not_pass_fails_at_once_with_the_reason(
    flow: Outgoing, app: Any, sim: Sim
) -> None:
    """The simulator refuses packages above its size limit (413): no retry, the clerk sees why
    on the deliveries page and on the exchange page, with the buttons."""
    from app.exchange import send_to_axis
    from interop import make_sim_app
    from tests.app.test_pages import login

    small = start_sim(
        sim.data_dir.parent / "axis-small",
        app=make_sim_app(
            sim.data_dir.parent / "axis-small",
            {SYSTEM_A: SECRET_A, SYSTEM_B: SECRET_B},
            max_package_size=1024,
        ),
    )
    try:
        rt = _wire(app, small)
        doc = flow.to_dispatched(recipients=[EXTERNAL])
        with client_for(small.url, SYSTEM_B, SECRET_B) as external:
            external.register_agency(EXTERNAL["code"], EXTERNAL["name"])
        assert send_to_axis(rt) == 0
    finally:
        _stop(small)
    [failed] = flow.deliveries("vanthu.tw", doc)
    assert failed["state"] == "failed" and failed["attempts"] == 1
    assert failed["error"].startswith("Trục liên thông từ chối gói tin")
    assert sorted(failed["allowed_actions"]) == ["cancel", "retry"]
    login(flow.client, "vanthu.tw")
    page = flow.client.get(f"/outgoing/{doc}/deliveries").get_data(as_text=True)
    assert "Trục liên thông từ chối gói tin" in page and "Gửi lại" in page and "Hủy gửi" in page
    exchange = flow.client.get("/admin/exchange").get_data(as_text=True)
    assert "Trục liên thông từ chối gói tin" in exchange and "Gửi lại" in exchange
    # The page's cancel button works (CSRF token from the page).
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    r = flow.client.post(
        f"/outgoing/{doc}/deliveries/{failed['id']}/act",
        data={"csrf_token": token.group(1), "action": "cancel"},
    )
    assert r.status_code == 302
    assert flow.deliveries("vanthu.tw", doc)[0]["state"] == "cancelled"
