"""The ``dhtn`` command (API.md §1). ``dhtn --help`` lists the commands."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

import click

from app.config import Settings, demo_password, ensure_data_dir


def _settings() -> Settings:
    return ensure_data_dir(Settings.from_env())


@click.group(help="DHTN — hệ thống thông tin điều hành tác nghiệp.")
def main() -> None:
    pass


@main.group(help="Database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply every pending migration to DHTN_DATABASE_URL.")
def db_upgrade() -> None:
    from migrations import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    click.echo("Đã cập nhật cơ sở dữ liệu.")


@main.group(help="The demo dataset.")
def demo() -> None:
    pass


def _seed(settings: Settings, suffix: str) -> dict[str, Any]:
    from app.pki import ensure_demo_pki
    from app.runtime import build_runtime
    from docflow.demo import seed_demo

    rt = build_runtime(settings)
    result = seed_demo(rt.uow(), password=demo_password(settings), suffix=suffix)
    ensure_demo_pki(rt)
    if rt.engine is not None:
        rt.engine.dispose()
    return vars(result)


@demo.command("seed", help="Create the demo organisations, users and registers (idempotent).")
@click.option(
    "--suffix",
    default=None,
    help="Replaces Z01 in the demo organisation codes (e.g. Z02); usernames stay the same.",
)
def demo_seed(suffix: str | None) -> None:
    settings = _settings()
    result = _seed(settings, suffix or settings.demo_suffix)
    created = {k: v for k, v in result.items() if k != "codes" and v}
    click.echo(f"Dữ liệu mẫu: {created or 'đã có đủ, không tạo thêm'}")
    _print_accounts(settings, suffix or settings.demo_suffix)


def _print_accounts(settings: Settings, suffix: str) -> None:
    from docflow.demo import DEMO_USERNAMES

    click.echo("Tài khoản mẫu: " + ", ".join(DEMO_USERNAMES))
    if suffix != "Z01":
        click.echo(f"Mã định danh các tổ chức mẫu dùng hậu tố {suffix} thay cho Z01.")
    click.echo(f"Mật khẩu của mọi tài khoản mẫu: {demo_password(settings)}")


@main.group(help="The audit log.")
def audit() -> None:
    pass


@audit.command(
    "verify",
    help="Recompute the keyed hash chains of the audit log and check every signed checkpoint "
    "in the object store against them; exit 1 if anything is broken.",
)
def audit_verify() -> None:
    from app.pki import trust_settings
    from app.runtime import build_runtime
    from docflow.audit import BackendCheckpoints, verify

    settings = _settings()
    rt = build_runtime(settings)
    with rt.session_factory() as session:
        report = verify(
            session,
            key=rt.config.audit_key,
            checkpoints=BackendCheckpoints(rt.store),
            trust=trust_settings(settings),
        )
    click.echo(f"Đã kiểm tra {report.entries} bản ghi trong {report.chains} chuỗi.")
    click.echo(
        f"Điểm neo: {report.checkpoints} (có chữ ký số: {report.signed_checkpoints});"
        f" lượt đọc chờ nối chuỗi: {report.pending_reads}."
    )
    for p in report.problems:
        click.echo(f"  LỖI chuỗi {p.chain} #{p.seq}: {p.problem}")
    if not report.ok:
        sys.exit(1)
    click.echo("Nhật ký toàn vẹn.")


@audit.command(
    "checkpoint",
    help="Chain pending reads, then write each organisation's signed checkpoint of its chain "
    "heads to the object store (the daily job does the same).",
)
def audit_checkpoint() -> None:
    from app.pki import make_signing
    from app.runtime import build_runtime
    from docflow.audit import BackendCheckpoints, write_checkpoints

    settings = _settings()
    rt = build_runtime(settings)
    rt.signing = make_signing(settings)
    names = write_checkpoints(rt.uow(), BackendCheckpoints(rt.store))
    for name in names:
        click.echo(f"  {name}")
    click.echo(f"Đã ghi {len(names)} điểm neo.")


@main.group(help="The demo PKI (generated at run time into the data dir).")
def pki() -> None:
    pass


@pki.command("export-user", help="Demo PKI only: a user's certificate and key as PKCS#12.")
@click.argument("username")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="FILE.p12")
@click.option("--password", required=True, help="Password protecting the PKCS#12 file.")
def pki_export_user(username: str, out: str, password: str) -> None:
    from pathlib import Path

    from app.pki import demo_pki
    from signing import PkiError, export_user_p12

    pki_ = demo_pki(_settings())
    if pki_ is None:
        raise click.ClickException("Chưa có PKI mẫu: chạy «dhtn demo seed» trước.")
    try:
        data = export_user_p12(pki_, username, password)
    except (PkiError, KeyError) as exc:
        raise click.ClickException(f"Không có chứng thư số mẫu của «{username}».") from exc
    path = Path(out)
    path.write_bytes(data)
    path.chmod(0o600)
    click.echo(f"Đã xuất chứng thư số và khóa của {username} vào {path}")


@main.group(help="The object store.")
def storage() -> None:
    pass


@storage.command("verify", help="Check every object the database references; list orphans.")
@click.option("--deep", is_flag=True, help="Also read and hash every object (slow).")
def storage_verify(deep: bool) -> None:
    from app.runtime import build_runtime
    from docflow.objects import verify_objects

    rt = build_runtime(_settings())
    report = verify_objects(rt.uow(), rt.store, deep=deep)
    click.echo(
        f"Tham chiếu: {report.referenced} · đang lưu: {report.stored} · thiếu: {len(report.missing)}"
        f" · hỏng: {len(report.corrupted)} · không ai dùng: {len(report.orphans)}"
        f" · khóa sai: {len(report.invalid)}"
    )
    for label, keys in (
        ("THIẾU", report.missing),
        ("HỎNG", report.corrupted),
        ("KHÓA SAI", report.invalid),
    ):
        for key in sorted(keys):
            click.echo(f"  {label}: {key}")
    if report.missing or report.corrupted or report.invalid:
        sys.exit(1)


@main.command("axis-sim", help="A local national-axis simulator (DOMAIN.md §7) for development.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--data", default="var/axis-sim", show_default=True, help="Where it keeps messages.")
@click.option(
    "--system",
    "systems",
    multiple=True,
    required=True,
    help="ID:SECRET of a system allowed to connect.",
)
def axis_sim(host: str, port: int, data: str, systems: tuple[str, ...]) -> None:
    from interop import parse_system_option, serve

    click.echo(f"Trục liên thông mô phỏng: http://{host}:{port}/  (dữ liệu: {data})")
    serve(host, port, data, dict(parse_system_option(s) for s in systems))


@main.command(help="Web server only (gunicorn).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    _serve(host, port, workers)


def _serve(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", None)

        def load(self) -> Any:
            from app import create_app

            return create_app()

    Server().run()


@main.command(help="Background worker with its scheduler (Celery worker + beat).")
@click.option("--concurrency", default=2, show_default=True, type=int)
@click.option("--beat/--no-beat", default=True, show_default=True)
def worker(concurrency: int, beat: bool) -> None:
    from app import create_app
    from app.celery_app import celery_of

    app = create_app()
    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=threads"]
    if beat:
        settings = _settings()
        argv += ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    celery_of(app).worker_main(argv)


@main.command(help="Everything for a local try-out: migrate, seed, web server and worker.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    from sqlalchemy import func, select

    from app.runtime import build_runtime
    from docflow.models import Organization
    from migrations import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    rt = build_runtime(settings)
    with rt.session_factory() as session:
        empty = session.scalar(select(func.count()).select_from(Organization)) == 0
    if rt.engine is not None:
        rt.engine.dispose()
    if empty:
        _seed(settings, settings.demo_suffix)
        click.echo("Đã tạo dữ liệu mẫu.")
    worker_proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--concurrency=1"],
        stdout=subprocess.DEVNULL,
        stderr=open(settings.data_dir / "worker.log", "ab"),  # noqa: SIM115
    )
    click.echo(f"DHTN đang chạy: http://{host}:{port}/  (Ctrl+C để dừng)")
    click.echo(f"Dữ liệu: {settings.data_dir}  ·  nhật ký nền: {settings.data_dir / 'worker.log'}")
    _print_accounts(settings, settings.demo_suffix)
    try:
        _serve(host, port, workers=2)
    finally:
        worker_proc.send_signal(signal.SIGTERM)
        try:
            worker_proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker_proc.kill()


if __name__ == "__main__":
    main()
