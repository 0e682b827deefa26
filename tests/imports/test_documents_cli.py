"""``dhtn import documents``: a dry run (nothing written, a report), the import, the same
folder again, and a folder of edXML packages."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import create_engine, func, select

from docflow.models import Document
from tests.conftest import DEMO_PASSWORD, fresh_pg_database
from tests.imports.test_document_import import package
from tests.pdfs import make_pdf


def test_import_documents_command(tmp_path: Path) -> None:
    from app.cli import main

    url = fresh_pg_database("_docimport_cli")
    env = {
        "DHTN_DATA_DIR": str(tmp_path / "data"),
        "DHTN_DATABASE_URL": url,
        "DHTN_DEMO_PASSWORD": DEMO_PASSWORD,
        "DHTN_SECRET_KEY": "k",
        "DHTN_BROKER_URL": "memory://",
        "DHTN_DEMO_ACTIVITY": "off",  # the demo fortnight would hold numbers 8 and 9
    }
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["demo", "seed"], env=env).exit_code == 0
    engine = create_engine(url)

    def documents() -> int:
        with engine.connect() as c:
            return c.scalar(select(func.count()).select_from(Document)) or 0

    folder = tmp_path / "cu"
    folder.mkdir()
    (folder / "manifest.csv").write_text(
        "Văn bản đến/đi;Sổ văn bản;Năm;Số;Trích yếu;Ngày văn bản;Tệp\n"
        "đến;Sổ văn bản đến năm 2026;2026;8;Văn bản tám;02/11/2026;tam.pdf\n"
        "đến;Sổ văn bản đến năm 2026;2026;9;Văn bản chín;02/11/2026;khong-co.pdf\n",
        encoding="utf-8",
    )
    (folder / "tam.pdf").write_bytes(make_pdf(title="Tám"))
    before = documents()
    report = tmp_path / "thu.xlsx"
    args = ["import", "documents", str(folder), "--as", "admin"]
    out = runner.invoke(main, [*args, "--dry-run", "--report", str(report)], env=env)
    assert out.exit_code == 1, out.output  # a row is refused
    assert "1 văn bản hợp lệ (chạy thử, không ghi gì), 0 bỏ qua (đã có), 1 bị từ chối" in out.output
    assert documents() == before
    lines = list(load_workbook(report)["Kết quả nhập"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[6]) for r in lines] == [(2, "Đã nhập"), (3, "Từ chối")]
    assert "khong-co.pdf" in str(lines[1][7])

    out = runner.invoke(main, args, env=env)
    assert "1 văn bản đã nhập, 0 bỏ qua (đã có), 1 bị từ chối" in out.output, out.output
    assert documents() == before + 1
    assert list(folder.glob("bao-cao-nhap-*.xlsx"))
    out = runner.invoke(main, args, env=env)
    assert "0 văn bản đã nhập, 1 bỏ qua (đã có), 1 bị từ chối" in out.output, out.output
    assert documents() == before + 1

    packages = tmp_path / "goi"
    packages.mkdir()
    (packages / "a.edxml").write_text(package(7, "Gói bảy"), encoding="utf-8")
    out = runner.invoke(main, ["import", "documents", str(packages), "--as", "admin"], env=env)
    assert out.exit_code == 0, (out.output, repr(out.exception))
    assert "1 văn bản đã nhập" in out.output
    assert documents() == before + 2

    out = runner.invoke(
        main, ["import", "documents", str(tmp_path / "data"), "--as", "admin"], env=env
    )
    assert out.exit_code == 2
    engine.dispose()
