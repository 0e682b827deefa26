"""``dhtn import directory``: the template, a dry run, a refused file (exit 1, every error,
nothing written), the import and the same file again."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, func, select

from docflow.models import Organization, User
from tests.conftest import DEMO_PASSWORD, fresh_pg_database


def test_import_directory_command(tmp_path: Path) -> None:
    from app.cli import main

    url = fresh_pg_database("_import_cli")
    env = {
        "DHTN_DATA_DIR": str(tmp_path / "data"),
        "DHTN_DATABASE_URL": url,
        "DHTN_DEMO_PASSWORD": DEMO_PASSWORD,
        "DHTN_SECRET_KEY": "k",
        "DHTN_PUBLIC_URL": "https://dhtn.example",
        "DHTN_DEMO_ACTIVITY": "off",
    }
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["demo", "seed"], env=env).exit_code == 0
    template = tmp_path / "mau.xlsx"
    out = runner.invoke(main, ["import", "directory", "--template", str(template)], env=env)
    assert out.exit_code == 0, out.output
    wb = load_workbook(template)
    assert {"organizations", "units", "users"} <= set(wb.sheetnames)
    assert wb["users"]["A1"].value == "Tên đăng nhập" and wb["users"]["A2"].value

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))

    def users() -> int:
        with engine.connect() as c:
            return c.scalar(select(func.count()).select_from(User)) or 0

    before = users()
    # A refused file: exit 1, every error with its place, nothing written.
    bad = Workbook()
    ws = bad.active
    ws.title = "users"
    ws.append(["username", "full_name", "organization_code", "email"])
    ws.append(["a.one", "A", "000.00.00.Z01", "sai"])
    ws.append(["a.two", "B", "999", None])
    bad_path = tmp_path / "bad.xlsx"
    bad.save(bad_path)
    out = runner.invoke(main, ["import", "directory", str(bad_path), "--as", "admin"], env=env)
    assert out.exit_code == 1
    assert "dòng 2" in out.output and "dòng 3" in out.output and "Thư điện tử" in out.output
    assert users() == before

    dry = runner.invoke(
        main, ["import", "directory", str(template), "--as", "admin", "--dry-run"], env=env
    )
    assert dry.exit_code == 0, dry.output
    assert "users_created: 1" in dry.output and users() == before
    codes = tmp_path / "codes.xlsx"
    done = runner.invoke(
        main,
        ["import", "directory", str(template), "--as", "admin", "--activations", str(codes)],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert users() == before + 1
    sheet = load_workbook(codes).active
    assert sheet["A2"].value == "nguyen.van.mau" and sheet["E2"].value.startswith(
        "https://dhtn.example/activate?"
    )
    again = runner.invoke(main, ["import", "directory", str(template), "--as", "admin"], env=env)
    assert again.exit_code == 0 and "Không có gì thay đổi" in again.output
    with engine.connect() as c:
        assert (
            c.scalar(
                select(func.count())
                .select_from(Organization)
                .where(Organization.code == "000.00.07.Z99")
            )
            == 1
        )
    engine.dispose()
