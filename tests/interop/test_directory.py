"""The directory of external organisations (getAgenciesList) and this installation's own
registrations with the axis: at worker start (Celery's worker_ready), when an organisation is
created or renamed, and only when due. The simulator is the real peer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.conftest import DEMO_PASSWORD
from tests.interop.conftest import SECRET_A, SECRET_B, SYSTEM_A, SYSTEM_B, Sim, client_for

NATIONAL = [
    ("000.00.00.G01", "Văn phòng Chính phủ", ""),
    ("000.00.00.G02", "Bộ Nội vụ", ""),
    ("000.00.00.G03", "Bộ Thông tin và Truyền thông", ""),
    ("000.00.01.H26", "Ủy ban nhân dân tỉnh Quảng Đông Demo", ""),
    ("000.01.01.H26", "Văn phòng Ủy ban nhân dân tỉnh Quảng Đông Demo", "000.00.01.H26"),
]


def _wire(app: Any, sim: Sim) -> Any:
    from app.runtime import runtime

    rt = runtime(app)
    rt.settings = rt.settings.with_overrides(
        axis_url=sim.url, axis_system_id=SYSTEM_A, axis_secret=SECRET_A
    )
    return rt


def _register_national(sim: Sim) -> None:
    with client_for(sim.url, SYSTEM_B, SECRET_B) as other:
        for code, name, parent in NATIONAL:
            other.register_agency(code, name, parent_code=parent)


def _search(client: Any, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/api/v1/directory/agencies", headers=headers, query_string=params)


def test_worker_ready_registers_our_organisations_and_reads_the_directory(
    app: Any, client: Any, api: Any, sim: Sim
) -> None:
    """Celery's worker_ready signal of this app's worker runs the start-up job at once (eager
    in tests); another app's worker does not trigger it."""
    from celery.signals import worker_ready

    from app.celery_app import celery_of

    _wire(app, sim)
    _register_national(sim)

    class Consumer:  # what Celery passes as the signal's sender: it carries its app
        def __init__(self, celery: Any) -> None:
            self.app = celery

    worker_ready.send(sender=Consumer(object()))  # someone else's worker
    assert _search(client, api("vanthu.tw")).get_json()["items"] == []
    worker_ready.send(sender=Consumer(celery_of(app)))
    with client_for(sim.url, SYSTEM_B, SECRET_B) as other:
        ours = {a.code: a for a in other.get_agencies() if a.system_id == SYSTEM_A}
    assert sorted(ours) == ["000.00.00.Z01", "000.00.01.Z01", "000.01.01.Z01"]
    assert ours["000.00.01.Z01"].name == "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Demo"
    assert ours["000.00.01.Z01"].parent_code == "000.00.00.Z01"
    items = _search(client, api("vanthu.tw")).get_json()["items"]
    # Our own organisations are internal recipients: the directory lists the others only.
    assert sorted(i["code"] for i in items) == sorted(code for code, _, _ in NATIONAL)


def test_directory_search_ignores_diacritics_and_case_and_pages_by_keyset(
    app: Any, client: Any, api: Any, sim: Sim
) -> None:
    from app.exchange import refresh_agencies

    rt = _wire(app, sim)
    _register_national(sim)
    assert refresh_agencies(rt) == len(NATIONAL)
    h = api("chuyenvien.tg")  # any signed-in user may address external organisations
    found = _search(client, h, q="van phong chinh phu").get_json()
    assert found == {
        "items": [{"code": "000.00.00.G01", "name": "Văn phòng Chính phủ", "parent_code": None}],
        "next_cursor": None,
    }
    assert {i["code"] for i in _search(client, h, q="VĂN PHÒNG").get_json()["items"]} == {
        "000.00.00.G01",
        "000.01.01.H26",
    }
    by_code = _search(client, h, q="01.h26").get_json()["items"]
    assert sorted((i["code"], i["parent_code"]) for i in by_code) == [
        ("000.00.01.H26", None),
        ("000.01.01.H26", "000.00.01.H26"),
    ]
    assert [i["code"] for i in _search(client, h, q="nhan dan demo van").get_json()["items"]] == [
        "000.01.01.H26"
    ]  # every word must match, in any order
    assert _search(client, h, q="%").get_json()["items"] == []  # LIKE wildcards are text
    whole = [i["name"] for i in _search(client, h, limit=200).get_json()["items"]]
    assert sorted(whole) == sorted(name for _, name, _ in NATIONAL)
    names: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _search(client, h, **params).get_json()
        names += [i["name"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == whole  # page by page: each once, in the database's order
    for bad in ({"limit": 0}, {"limit": 201}, {"cursor": "not-a-cursor"}, {"x": "1"}):
        r = _search(client, h, **bad)
        assert r.status_code == 422 and r.get_json()["error"]["code"], bad
    assert client.get("/api/v1/directory/agencies").status_code == 401
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/directory/agencies" in spec["paths"]
    assert "/api/v1/documents/{document_id}/deliveries/{delivery_id}/actions" in spec["paths"]


def test_refresh_replaces_the_directory_and_skips_insane_entries(app: Any, sim: Sim) -> None:
    """What the axis says is external input: no code, no name, or sizes beyond any real one
    are skipped; names are stored whole; a vanished agency leaves the directory."""
    from app.exchange import refresh_agencies
    from app.runtime import runtime
    from docflow import directory

    rt = _wire(app, sim)
    long_name = "Ban " + "Đại đoàn kết toàn dân tộc " * 18  # ~470 characters: kept whole
    kept = directory.replace_directory(
        rt.uow(),
        [
            directory.AgencyEntry("000.00.00.G01", "Văn phòng  Chính phủ"),
            directory.AgencyEntry("000.00.00.G09", long_name),
            directory.AgencyEntry("", "Không mã"),
            directory.AgencyEntry("000.00.00.G08", "   "),
            directory.AgencyEntry("X" * 65, "Mã quá dài"),
            directory.AgencyEntry("000.00.00.G07", "T" * 501),
        ],
    )
    assert (kept.added, kept.skipped) == (2, 4)
    with runtime(app).session_factory() as s:
        from docflow.models import ExternalAgency

        rows = {a.code: a.name for a in s.scalars(select(ExternalAgency))}
    assert rows == {"000.00.00.G01": "Văn phòng Chính phủ", "000.00.00.G09": long_name.strip()}
    # The axis's list (only the simulator's agencies now) replaces it; an empty list does not.
    assert directory.replace_directory(rt.uow(), []).removed == 0
    _register_national(sim)
    refresh_agencies(rt)
    with runtime(app).session_factory() as s:
        codes = set(s.scalars(select(ExternalAgency.code)))
        assert s.scalar(select(func.count()).select_from(ExternalAgency)) == len(NATIONAL)
    assert "000.00.00.G09" not in codes


def test_registration_is_due_only_when_new_renamed_or_stale(
    app: Any, client: Any, api: Any, sim: Sim, clock: Any
) -> None:
    from app.exchange import register_agencies

    rt = _wire(app, sim)
    assert register_agencies(rt) == 3
    assert register_agencies(rt) == 0
    # An admin renames the province: the outbox registers the new name at once (eager).
    orgs = client.get("/api/v1/organizations", headers=api("admin")).get_json()["items"]
    tinh = next(o for o in orgs if o["code"] == "000.00.01.Z01")
    r = client.patch(
        f"/api/v1/organizations/{tinh['id']}",
        headers=api("admin"),
        json={"name": "Ủy ban MTTQ Việt Nam tỉnh Demo (đổi tên)"},
    )
    assert r.status_code == 200, r.get_json()
    with client_for(sim.url, SYSTEM_B, SECRET_B) as other:
        names = {a.code: a.name for a in other.get_agencies()}
    assert names["000.00.01.Z01"] == "Ủy ban MTTQ Việt Nam tỉnh Demo (đổi tên)"
    assert register_agencies(rt) == 0  # already told
    clock.advance(hours=25)
    assert register_agencies(rt) == 3  # a day later, the axis is told again


def test_picker_of_the_outgoing_form_finds_an_agency_without_javascript(
    app: Any, client: Any, sim: Sim
) -> None:
    """The search button reloads the form with the matching agencies; a picked one becomes a
    recipient under the directory's name."""
    from app.exchange import refresh_agencies
    from tests.app.test_pages import csrf_of, login

    rt = _wire(app, sim)
    _register_national(sim)
    refresh_agencies(rt)
    login(client, "chuyenvien.dcgs", DEMO_PASSWORD)
    form = client.get("/outgoing/new").get_data(as_text=True)
    assert "data-agency-picker" in form and "Văn phòng Chính phủ — 000.00.00.G01" in form
    r = client.post(
        "/outgoing/new",
        data={"csrf_token": csrf_of(form), "agency_q": "bo noi vu", "find_agency": "1"},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Bộ Nội vụ — 000.00.00.G02" in html and "Văn phòng Chính phủ —" not in html
    js = client.get("/outgoing/agencies?q=thong tin truyen thong").get_json()
    assert [i["code"] for i in js["items"]] == ["000.00.00.G03"]
