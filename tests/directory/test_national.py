"""The national tree (``dhtn demo seed --national``) and the admin pages at that size, on a
PostgreSQL database of its own seeded once for the module (a smaller number of people than
the default, the same tree: 1 + 34 + 3,321 organisations)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from docflow import UnitOfWork, imports, load_actor, local_date, make_engine
from docflow.demo import seed_demo
from docflow.demo_national import (
    COMMUNES,
    PROVINCES,
    commune_counts,
    national_counts,
    national_plan,
    seed_national,
)
from docflow.enums import Role
from docflow.models import AuditEntry, Organization, Unit, User, UserActivation, UserRole
from tests.app.test_pages import csrf_of, login
from tests.conftest import DEMO_PASSWORD, fresh_pg_database, make_test_settings

USERS = 15_000  # the whole tree, fewer people than the default 40,000 (the minimum is 13,424)


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from migrations import upgrade

    url = fresh_pg_database("_national")
    upgrade(url)
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    seed_demo(UnitOfWork(factory), password=DEMO_PASSWORD)
    result = seed_national(UnitOfWork(factory), users=USERS, password=DEMO_PASSWORD)
    yield {
        "url": url,
        "engine": engine,
        "factory": factory,
        "result": result,
        "tmp": tmp_path_factory.mktemp("national"),
    }
    engine.dispose()


@pytest.fixture(scope="module")
def napp(national: dict[str, Any]) -> Any:
    from app import create_app

    flask_app = create_app(make_test_settings(Path(national["tmp"]), national["url"]))
    flask_app.config.update(TESTING=True)
    return flask_app


def _org(national: dict[str, Any], code: str) -> Organization:
    with national["factory"]() as s:
        return s.scalars(select(Organization).where(Organization.code == code)).one()


class Queries:
    """Counts the SQL statements sent while it is active (every engine of the process)."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> Queries:
        event.listen(Engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._on)

    def _on(self, *args: Any) -> None:
        self.count += 1


def _queries(client: Any, url: str) -> int:
    with Queries() as q:
        r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return q.count


def test_the_tree_has_the_national_shape_and_every_organisation_its_roles(
    national: dict[str, Any],
) -> None:
    result = national["result"]
    assert result.created
    assert (result.organizations, result.users) == (1 + PROVINCES + COMMUNES, USERS)
    assert sum(commune_counts()) == COMMUNES and len(commune_counts()) == PROVINCES
    assert max(commune_counts()) > 2 * min(commune_counts())  # large and small provinces
    with national["factory"]() as s:
        national_ids = select(Organization.id).where(Organization.code.like("%.Z90"))
        by_level = dict(
            s.execute(
                select(Organization.level, func.count())
                .where(Organization.id.in_(national_ids))
                .group_by(Organization.level)
            ).all()
        )
        assert by_level == {"central": 1, "province": PROVINCES, "commune": COMMUNES}
        for role in (Role.ADMIN, Role.CLERK, Role.LEADER, Role.SPECIALIST):
            holders = (
                select(User.organization_id)
                .join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == role.value)
            )
            lacking = s.scalar(
                select(func.count())
                .select_from(Organization)
                .where(Organization.id.in_(national_ids), Organization.id.not_in(holders))
            )
            assert lacking == 0, role
        # Deterministic: the rows are the plan's (same ids, same usernames).
        plan = national_plan(USERS)
        sample = [p for i, p in enumerate(plan.people()) if i % 997 == 0]
        stored = dict(
            s.execute(
                select(User.username, User.id).where(
                    User.username.in_([p.username for p in sample])
                )
            ).all()
        )
        assert stored == {p.username: p.id for p in sample}
    assert national_counts(UnitOfWork(national["factory"]))["registers"] == 2 * (
        1 + PROVINCES + COMMUNES
    )


def test_a_second_run_says_it_is_there_and_changes_nothing(national: dict[str, Any]) -> None:
    factory = national["factory"]
    with factory() as s:
        before = (
            s.scalar(select(func.count()).select_from(User)),
            s.scalar(select(func.count()).select_from(AuditEntry)),
        )
    again = seed_national(UnitOfWork(factory), users=USERS * 2)
    assert not again.created
    assert (again.organizations, again.users) == (1 + PROVINCES + COMMUNES, USERS)
    with factory() as s:
        after = (
            s.scalar(select(func.count()).select_from(User)),
            s.scalar(select(func.count()).select_from(AuditEntry)),
        )
    assert after == before


def test_the_seed_runs_on_sqlite_too(tmp_path: Path) -> None:
    from migrations import upgrade

    url = f"sqlite:///{tmp_path / 'n.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        result = seed_national(UnitOfWork(factory), users=14_000)
        assert result.created and result.users == 14_000
        assert national_counts(UnitOfWork(factory))["organizations"] == 1 + PROVINCES + COMMUNES
        with factory() as s:  # no password: nobody signs in before an activation code
            hashes = set(s.scalars(select(User.password_hash).where(User.username.like("z%"))))
        assert hashes == {imports.UNUSABLE_PASSWORD}
        assert not seed_national(UnitOfWork(factory), users=14_000).created
    finally:
        engine.dispose()


def test_tree_and_people_pages_send_as_many_queries_whatever_the_size(
    napp: Any, national: dict[str, Any]
) -> None:
    client = napp.test_client()
    assert login(client, "ztw.quantri").status_code == 302
    counts = commune_counts()
    small = 1 + counts.index(min(counts))
    big = 1 + counts.index(max(counts))
    small_id = _org(national, f"000.00.{small:02d}.Z90").id
    big_id = _org(national, f"000.00.{big:02d}.Z90").id
    home = client.get("/admin").get_data(as_text=True)
    assert "tỉnh Mẫu 34" in home and "xã Mẫu" not in home  # provinces shown, communes not yet
    q_small = _queries(client, f"/admin/tree?parent={small_id}&fragment=1")
    q_big = _queries(client, f"/admin/tree?parent={big_id}&fragment=1")
    assert q_small == q_big
    # The first view opens nodes while under 60 rows: one query per opened node, so the
    # demo's three organisations (two opened) take more than the national 3,356 (one opened).
    demo = napp.test_client()
    login(demo, "admin")
    assert _queries(client, "/admin") <= _queries(demo, "/admin")
    # People: a commune's few, a province's, and everyone's (15,000), and a later page.
    commune_id = _org(national, f"{small:03d}.00.01.Z90").id
    first = client.get("/admin/people").get_data(as_text=True)
    cursor = first.split("cursor=")[1].split('"')[0].replace("&amp;", "&")
    pages = [
        f"/admin/people?organization={commune_id}",
        f"/admin/people?organization={big_id}",
        "/admin/people",
        f"/admin/people?cursor={cursor}",
        "/admin/people?role=clerk&active=1",
        "/admin/people?q=vanthu",
    ]
    seen = {url: _queries(client, url) for url in pages}
    # One organisation (a commune of ~5 people, a province of ~40): the same; the whole
    # subtree, a later page, with filters or a search: the same again (no organisation and
    # units to show above the list).
    assert seen[pages[0]] == seen[pages[1]], seen
    assert len({seen[url] for url in pages[2:]}) == 1, seen
    listed = client.get("/admin/people?role=clerk").get_data(as_text=True)
    assert listed.count('name="user_ids"') == 50 and "Trang sau" in listed


def test_a_province_admin_sees_and_acts_only_in_its_subtree(
    napp: Any, national: dict[str, Any]
) -> None:
    client = napp.test_client()
    assert login(client, "zt01.quantri").status_code == 302
    other = _org(national, "000.00.02.Z90")
    assert client.get(f"/admin/tree?parent={other.id}").status_code == 404
    assert client.get(f"/admin/people?organization={other.id}").status_code == 404
    found = client.get("/admin/tree?q=Mẫu 02").get_data(as_text=True)
    assert "tỉnh Mẫu 02" not in found and "Không có tổ chức nào" in found
    people = client.get("/admin/people?q=vanthu").get_data(as_text=True)
    names = set(re.findall(r"(zt\d\d[x\d]*)\.vanthu", people))
    assert names and all(n.startswith("zt01") for n in names)
    page = client.get("/admin/people").get_data(as_text=True)
    factory = national["factory"]

    def user(username: str) -> User:
        with factory() as s:
            return s.scalars(select(User).where(User.username == username)).one()

    def audits() -> int:
        with factory() as s:
            return s.scalar(select(func.count()).select_from(AuditEntry)) or 0

    outsider, mine = user("zt02x001.cv0001"), user("zt01x001.cv0001")
    before = audits()
    r = client.post(
        "/admin/people/bulk",
        data={
            "csrf_token": csrf_of(page),
            "action": "deactivate",
            "user_ids": [str(mine.id), str(outsider.id)],
        },
        follow_redirects=True,
    )
    assert "Không tìm thấy" in r.get_data(as_text=True) or r.status_code == 200
    assert user("zt01x001.cv0001").active and audits() == before  # all or nothing
    r = client.post(
        "/admin/people/bulk",
        data={"csrf_token": csrf_of(page), "action": "deactivate", "user_ids": [str(mine.id)]},
        follow_redirects=True,
    )
    assert "đã thay đổi 1 người" in r.get_data(as_text=True)
    assert not user("zt01x001.cv0001").active and audits() == before + 1
    # Moving into a unit of the same commune; a new activation code as a sheet to hand out.
    with factory() as s:
        unit_id = s.scalar(
            select(Unit.id).where(
                Unit.organization_id == mine.organization_id, Unit.abbreviation == "BTT"
            )
        )
    r = client.post(
        "/admin/people/bulk",
        data={
            "csrf_token": csrf_of(page),
            "action": "move_unit",
            "unit_id": str(unit_id),
            "user_ids": [str(mine.id)],
        },
        follow_redirects=True,
    )
    assert user("zt01x001.cv0001").unit_id == unit_id
    with factory() as s:  # a unit of another commune of the same province: refused, no change
        elsewhere = s.scalar(
            select(Unit.id)
            .join(Organization, Organization.id == Unit.organization_id)
            .where(Organization.code == "001.00.02.Z90", Unit.abbreviation == "VP")
        )
    r = client.post(
        "/admin/people/bulk",
        data={
            "csrf_token": csrf_of(page),
            "action": "move_unit",
            "unit_id": str(elsewhere),
            "user_ids": [str(mine.id)],
        },
        follow_redirects=True,
    )
    assert "cùng tổ chức" in r.get_data(as_text=True)
    assert user("zt01x001.cv0001").unit_id == unit_id
    client.post(
        "/admin/people/bulk",
        data={"csrf_token": csrf_of(page), "action": "activate", "user_ids": [str(mine.id)]},
    )
    assert user("zt01x001.cv0001").active
    r = client.post(
        "/admin/people/bulk",
        data={
            "csrf_token": csrf_of(page),
            "action": "reset_activation",
            "user_ids": [str(mine.id)],
        },
    )
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(r.data)).active
    row = [c.value for c in next(iter(sheet.iter_rows(min_row=2, max_row=2)))]
    assert "zt01x001.cv0001" in row
    assert user("zt01x001.cv0001").password_hash == imports.UNUSABLE_PASSWORD
    assert login(napp.test_client(), "zt01x001.cv0001").status_code != 302  # old password gone
    code = row[3]
    imports.activate_account(
        UnitOfWork(factory),
        imports.ActivateAccount(username="zt01x001.cv0001", code=code, password="mat-khau-moi-1"),
    )
    user_client = napp.test_client()
    assert login(user_client, "zt01x001.cv0001", "mat-khau-moi-1").status_code == 302
    with factory() as s:
        assert (
            s.scalar(
                select(func.count())
                .where(UserActivation.user_id == mine.id)
                .select_from(UserActivation)
            )
            == 1
        )


def test_the_export_reads_back_as_an_import_that_changes_nothing(
    napp: Any, national: dict[str, Any]
) -> None:
    client = napp.test_client()
    login(client, "zt03.quantri")
    r = client.get("/admin/export.xlsx")
    assert r.status_code == 200
    file = imports.read_directory(r.data)
    assert not file.problems
    province = _org(national, "000.00.03.Z90")
    with national["factory"]() as s:
        in_tree = select(Organization.id).where(Organization.path.startswith(province.path))
        users = s.scalar(select(func.count()).where(User.organization_id.in_(in_tree)))
        actor = load_actor(
            s,
            s.scalars(select(User.id).where(User.username == "zt03.quantri")).one(),
            local_date(dt.datetime.now(dt.UTC)),
        )
    assert len(file.organizations) == 1 + commune_counts()[2]
    assert len(file.users) == users
    plan = imports.plan_directory_import(UnitOfWork(national["factory"]), actor, file)
    assert plan.ok, plan.problems[:3]
    assert not any(plan.counts.values()), plan.counts


def test_the_command_prints_its_time_and_counts_and_says_when_the_tree_is_there(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from app.cli import main

    url = fresh_pg_database("_national_cli")
    env = {
        "DHTN_DATA_DIR": str(tmp_path / "data"),
        "DHTN_DATABASE_URL": url,
        "DHTN_DEMO_PASSWORD": DEMO_PASSWORD,
        "DHTN_SECRET_KEY": "k",
    }
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    first = runner.invoke(main, ["demo", "seed", "--national", "--users", "14000"], env=env)
    assert first.exit_code == 0, first.output
    assert "giây: 3356 tổ chức, 10175 ban/bộ phận, 14000 người, 6712 sổ" in first.output
    assert "chưa có mật khẩu" in first.output
    again = runner.invoke(main, ["demo", "seed", "--national"], env=env)
    assert again.exit_code == 0 and "đã có" in again.output and "14000 người" in again.output
