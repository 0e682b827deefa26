"""Receiving through the national axis (the simulator is the real peer): a package sent by an
external system becomes an arrived document once, and the sender gets status 01 back."""

from __future__ import annotations

import io
from typing import Any

from interop import parse_status
from tests.interop.conftest import SECRET_A, SECRET_B, SYSTEM_A, SYSTEM_B, Sim, client_for
from tests.interop.test_import_api import _package

EXTERNAL = "000.00.00.Y98"


def _wire(app: Any, sim: Sim) -> Any:
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(
        axis_url=sim.url, axis_system_id=SYSTEM_A, axis_secret=SECRET_A
    )
    return rt


def test_package_from_the_axis_arrives_once_and_the_sender_sees_01(
    app: Any, client: Any, api: Any, sim: Sim
) -> None:
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    assert register_agencies(rt) == 3  # the demo organisations, now reachable through the axis
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency(EXTERNAL, "Sở Thử nghiệm (ngoài hệ thống)")
        package = _package()
        sent = external.send_edoc(package, ["000.00.00.Z01"], from_code=EXTERNAL)
        assert not sent.duplicate
        assert poll_axis(rt) == 1
        assert poll_axis(rt) == 0  # acknowledged: not listed again
        assert external.send_edoc(package, ["000.00.00.Z01"], from_code=EXTERNAL).duplicate
        box = client.get("/api/v1/documents?box=inbox", headers=api("vanthu.tw")).get_json()[
            "items"
        ]
        assert [(d["notation"], d["state"], d["source"]) for d in box] == [
            ("15/KH-UBND", "arrived", "axis")
        ]
        statuses = external.get_received_list("status")
        assert len(statuses) == 1
        with parse_status(io.BytesIO(external.get_edoc(statuses[0].doc_id))) as result:
            status = result.status
        assert status is not None
        assert (status.status_code, status.from_.organ_id) == ("01", "000.00.00.Z01")
        assert status.response_for.organ_id == EXTERNAL


def test_each_state_change_sends_its_status_code_back(
    app: Any, client: Any, api: Any, sim: Sim
) -> None:
    from app.exchange import poll_axis, register_agencies

    rt = _wire(app, sim)
    register_agencies(rt)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency(EXTERNAL, "Sở Thử nghiệm (ngoài hệ thống)")
        external.send_edoc(_package(number="21"), ["000.00.00.Z01"], from_code=EXTERNAL)
        poll_axis(rt)
        [doc] = client.get("/api/v1/documents?box=inbox", headers=api("vanthu.tw")).get_json()[
            "items"
        ]
        r = client.post(
            f"/api/v1/documents/{doc['id']}/actions",
            headers=api("vanthu.tw"),
            json={"action": "register"},
        )
        assert r.status_code == 200, r.get_json()
        codes = []
        for item in external.get_received_list("status"):
            with parse_status(io.BytesIO(external.get_edoc(item.doc_id))) as result:
                assert result.status is not None
                codes.append(result.status.status_code)
            external.update_status(item.doc_id, "done")
        assert sorted(codes) == ["01", "03"]


def test_exchange_page_lists_what_came_in(app: Any, client: Any, api: Any, sim: Sim) -> None:
    from app.exchange import poll_axis, register_agencies
    from tests.app.test_pages import login

    rt = _wire(app, sim)
    register_agencies(rt)
    with client_for(sim.url, SYSTEM_B, SECRET_B) as external:
        external.register_agency(EXTERNAL, "Sở Thử nghiệm (ngoài hệ thống)")
        external.send_edoc(_package(number="31"), ["000.00.00.Z01"], from_code=EXTERNAL)
    poll_axis(rt)
    login(client, "admin")
    html = client.get("/admin/exchange").get_data(as_text=True)
    assert "000.00.00.Y98,2026/11/20,31/KH-UBND" in html and "Nhận" in html
    login(client, "chuyenvien.tg")
    assert client.get("/admin/exchange").status_code == 403
