"""A second installation's demo (DHTN_DEMO_SUFFIX): other organisation codes, the same
usernames as API.md's demo table; and what `dhtn demo seed --suffix` prints says so."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from docflow import UnitOfWork
from docflow.demo import DEMO_USERNAMES, seed_demo
from docflow.models import Organization, User
from tests.conftest import DEMO_PASSWORD, fresh_pg_database

API_MD_USERNAMES = {
    "admin", "vanthu.tw", "lanhdao.tw", "truongban.dcgs", "chuyenvien.dcgs", "chuyenvien.tg",
    "vanthu.tinh", "lanhdao.tinh", "chuyenvien.tinh", "vanthu.phuong", "lanhdao.phuong",
}  # fmt: skip
# More than API.md lists is welcome: the archivist of dossiers (issue 16).
DEMO_EXTRA = {"luutru.tw"}


def test_suffix_changes_organisation_codes_only(uow: UnitOfWork) -> None:
    result = seed_demo(uow, password=DEMO_PASSWORD, suffix="Z02")
    assert sorted(result.codes.values()) == ["000.00.00.Z02", "000.00.01.Z02", "000.01.01.Z02"]
    with uow:
        users = {
            u.username: code
            for u, code in uow.session.execute(
                select(User, Organization.code).join(
                    Organization, Organization.id == User.organization_id
                )
            )
        }
    assert set(users) == API_MD_USERNAMES | DEMO_EXTRA == set(DEMO_USERNAMES)
    assert users["vanthu.tinh"] == "000.00.01.Z02" and users["admin"] == "000.00.00.Z02"


def test_demo_seed_command_prints_the_same_usernames(tmp_path: Path) -> None:
    from app.cli import main

    url = fresh_pg_database("_demo_suffix")
    env = {
        "DHTN_DATA_DIR": str(tmp_path / "data"),
        "DHTN_DATABASE_URL": url,
        "DHTN_DEMO_PASSWORD": DEMO_PASSWORD,
        "DHTN_SECRET_KEY": "k",
    }
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    out = runner.invoke(main, ["demo", "seed", "--suffix", "Z02"], env=env)
    assert out.exit_code == 0, out.output
    accounts = next(line for line in out.output.splitlines() if line.startswith("Tài khoản"))
    assert set(accounts.split(": ", 1)[1].split(", ")) == API_MD_USERNAMES | DEMO_EXTRA
    assert "hậu tố Z02 thay cho Z01" in out.output
