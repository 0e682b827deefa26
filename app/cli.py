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


@db.command("check", help="Refuse (exit 3) a database migrated by a newer DHTN; 4 if behind.")
def db_check() -> None:
    _refuse_newer_schema(allow_behind=False)
    click.echo("Cơ sở dữ liệu khớp với mã nguồn.")


def _refuse_newer_schema(*, allow_behind: bool = True) -> None:
    """Stop here when the database is newer than this code (or, unless allowed, older)."""
    from migrations import SchemaNewerThanCode, check_schema

    settings = _settings()
    try:
        state = check_schema(settings.database_url)
    except SchemaNewerThanCode as exc:
        click.echo(str(exc), err=True)
        sys.exit(3)
    if state in {"behind", "empty"} and not allow_behind:
        click.echo("Cơ sở dữ liệu chưa được cập nhật: chạy «dhtn db upgrade».", err=True)
        sys.exit(4)


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
    out = vars(result)
    if settings.demo_activity and suffix == settings.demo_suffix:
        from app.demo_activity import seed_activity

        activity = seed_activity(settings)
        if activity.created:
            out |= {
                "incoming_documents": activity.incoming,
                "outgoing_documents": activity.outgoing,
                "tasks": activity.tasks,
            }
    return out


@demo.command("seed", help="Create the demo organisations, users and registers (idempotent).")
@click.option(
    "--suffix",
    default=None,
    help="Replaces Z01 in the demo organisation codes (e.g. Z02); usernames stay the same.",
)
@click.option("--national", is_flag=True, help="The national-scale tree (codes Z90), in bulk.")
@click.option("--users", default=None, type=click.IntRange(min=0), help="With --national: people.")
@click.option(
    "--shared-password",
    is_flag=True,
    help="With --national: every account gets the demo password (else none can sign in).",
)
def demo_seed(suffix: str | None, national: bool, users: int | None, shared_password: bool) -> None:
    settings = _settings()
    if national:
        _seed_national(settings, users, shared_password)
        return
    result = _seed(settings, suffix or settings.demo_suffix)
    created = {k: v for k, v in result.items() if k != "codes" and v}
    click.echo(f"Dữ liệu mẫu: {created or 'đã có đủ, không tạo thêm'}")
    _print_accounts(settings, suffix or settings.demo_suffix)


def _seed_national(settings: Settings, users: int | None, shared_password: bool) -> None:
    from app.runtime import build_runtime
    from docflow.demo_national import DEFAULT_USERS, seed_national

    rt = build_runtime(settings)
    password = demo_password(settings) if shared_password else None
    result = seed_national(rt.uow(), users=users or DEFAULT_USERS, password=password)
    if rt.engine is not None:
        rt.engine.dispose()
    counts = (
        f"{result.organizations} tổ chức, {result.units} ban/bộ phận, {result.users} người, "
        f"{result.registers} sổ"
    )
    if not result.created:
        click.echo(f"Cây tổ chức quốc gia mẫu đã có ({counts}); không tạo thêm.")
        return
    click.echo(f"Đã tạo cây tổ chức quốc gia mẫu trong {result.seconds:.1f} giây: {counts}.")
    if password:
        click.echo(f"Mật khẩu chung của mọi tài khoản: {password}")
    else:
        click.echo("Các tài khoản chưa có mật khẩu: quản trị cấp mã kích hoạt (trang Quản trị).")


def _print_accounts(settings: Settings, suffix: str) -> None:
    from docflow.demo import DEMO_USERNAMES

    click.echo("Tài khoản mẫu: " + ", ".join(DEMO_USERNAMES))
    if suffix != "Z01":
        click.echo(f"Mã định danh các tổ chức mẫu dùng hậu tố {suffix} thay cho Z01.")
    click.echo(f"Mật khẩu của mọi tài khoản mẫu: {demo_password(settings)}")


@main.group("import", help="Bring data in from files (the directory workbook).")
def import_() -> None:
    pass


@import_.command(
    "directory",
    help="Import organisations, units and people from an XLSX workbook (sheets organizations, "
    "units, users) or three CSV files (organizations.csv, units.csv, users.csv, UTF-8 with or "
    "without BOM: give the folder that holds them, or the files); Vietnamese or English headers. "
    "The whole file is checked first: with any problem every one is listed (sheet or file, row, "
    "column) and nothing is written (exit 1). Idempotent by organisation code, (organisation, "
    "unit abbreviation) and username. New people get a one-time activation code, written to "
    "--activations (or, with --email-links, e-mailed as a link to those with an address). The "
    "admin role and raised clearances become requests a second admin approves. Read as a "
    "stream: memory does not grow with the number of people. --template OUT.xlsx writes the "
    "template.",
)
@click.argument("files", nargs=-1, type=click.Path(exists=True))
@click.option("--as", "as_user", default=None, help="The admin running the import (username).")
@click.option("--dry-run", is_flag=True, help="Check and show the plan; write nothing.")
@click.option(
    "--activations",
    default=None,
    type=click.Path(dir_okay=False),
    help="Where to write the XLSX of activation codes (default: FILE-kich-hoat.xlsx).",
)
@click.option(
    "--email-links",
    is_flag=True,
    help="E-mail each new person who has an e-mail address their activation link (single use, "
    "expiring; sent by the worker through DHTN_SMTP_URL); the others go to --activations.",
)
@click.option(
    "--template", default=None, type=click.Path(dir_okay=False), help="Write the template."
)
def import_directory(
    files: tuple[str, ...],
    as_user: str | None,
    dry_run: bool,
    activations: str | None,
    email_links: bool,
    template: str | None,
) -> None:
    from pathlib import Path

    from sqlalchemy import select

    from app.runtime import build_runtime
    from docflow import imports
    from docflow.actors import load_actor
    from docflow.errors import DomainError
    from docflow.models import User
    from docflow.workdays import local_date

    if template:
        Path(template).write_bytes(imports.template_xlsx())
        click.echo(f"Đã ghi mẫu tệp nhập danh mục: {template}")
        if not files:
            return
    if not files or not as_user:
        click.echo("Cần tệp và --as TÊN_ĐĂNG_NHẬP của quản trị viên chạy việc nhập.", err=True)
        sys.exit(2)
    settings = _settings()
    if email_links and not settings.smtp_url:
        click.echo("--email-links cần máy chủ thư (DHTN_SMTP_URL).", err=True)
        sys.exit(2)
    rt = build_runtime(settings)
    with rt.session_factory() as s:
        user = s.scalars(select(User).where(User.username == as_user.lower())).first()
        if user is None:
            click.echo(f"Không có người dùng {as_user}.", err=True)
            sys.exit(2)
        actor = load_actor(s, user.id, local_date(rt.clock()))
    first = Path(files[0])
    parsed = imports.open_directory(first if len(files) == 1 else [Path(f) for f in files])
    sheet = imports.ActivationSheet()
    # Saved below when there are codes to hand out; dropped (temporary file removed) otherwise.
    click.get_current_context().call_on_close(sheet.discard)
    try:
        if dry_run:
            plan = imports.plan_directory_import(rt.uow(), actor, parsed)
            if not plan.ok:
                raise imports.ImportInvalidError(plan.problems)
            click.echo("Kiểm tra xong, không có lỗi (chạy thử: không ghi gì).")
            for key, n in plan.counts.items():
                click.echo(f"  {key}: {n}")
            return
        result = imports.import_directory(
            rt.uow(),
            actor,
            parsed,
            source=", ".join(Path(f).name for f in files),
            link_base=settings.public_url,
            on_activation=sheet.add,
            email_links=email_links,
        )
    except imports.ImportInvalidError as exc:
        click.echo(f"Tệp có {len(exc.problems)} lỗi; không có gì được ghi:", err=True)
        for p in exc.problems:
            click.echo("  " + p.describe(), err=True)
        sys.exit(1)
    except DomainError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    if not any(result.counts.values()):
        click.echo("Không có gì thay đổi.")
    for key, n in result.counts.items():
        click.echo(f"  {key}: {n}")
    if result.counts.get("activations_emailed"):
        click.echo(
            f"{result.counts['activations_emailed']} người sẽ nhận liên kết kích hoạt qua thư "
            "điện tử."
        )
    if sheet.count:
        out = Path(activations or first.with_name(first.stem + "-kich-hoat.xlsx"))
        sheet.save(out)
        out.chmod(0o600)
        click.echo(
            f"{sheet.count} tài khoản mới; mã kích hoạt (dùng một lần, hết hạn sau "
            f"{imports.ACTIVATION_DAYS} ngày) ghi ở {out}."
        )


@import_.command(
    "documents",
    help="Import documents from an old system: DIR holds manifest.xlsx or manifest.csv (columns "
    "in README: direction, register, year, number, notation, type, subject, issuer, dates, "
    "urgency, secrecy, state, handler, files separated by ';'; Vietnamese headers accepted) and "
    "the files, or edXML packages. Documents keep their register numbers, dates and final "
    "state. Each row is checked on its own (refused rows do not stop the others); a second run "
    "skips what is there and an interrupted run continues. Writes a report XLSX (--report).",
)
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--as", "as_user", required=True, help="The admin running the import (username).")
@click.option("--dry-run", is_flag=True, help="Check every row and file; write nothing.")
@click.option(
    "--report",
    default=None,
    type=click.Path(dir_okay=False),
    help="Where to write the report (default: DIR/bao-cao-nhap-<time>.xlsx).",
)
@click.option(
    "--organization",
    default="",
    help="Organisation code for rows (or packages) that name none (default: the admin's).",
)
@click.option("--batch-size", default=100, show_default=True, help="Documents per transaction.")
def import_documents(
    folder: str,
    as_user: str,
    dry_run: bool,
    report: str | None,
    organization: str,
    batch_size: int,
) -> None:
    from pathlib import Path

    from app.document_import import EdxmlFolder, edxml_files
    from app.runtime import build_runtime
    from docflow import imports
    from docflow.errors import DomainError

    settings = _settings()
    rt = build_runtime(settings)
    actor = _actor(rt, as_user)
    root = Path(folder)
    manifest = imports.find_manifest(root)
    items: Any
    packages: EdxmlFolder | None = None
    if manifest is not None:
        total = imports.count_rows(manifest)
        items = imports.read_manifest(root, manifest)
        if organization:
            items = (
                i
                if i.get("organization_code")
                else type(i)(
                    i.source, i.row, i.cells | {"organization_code": organization}, i.files
                )
                for i in items
            )
    elif edxml_files(root):
        total = len(edxml_files(root))
        items = packages = EdxmlFolder(root, organization_code=organization)
    else:
        click.echo(f"{root} không có manifest.xlsx, manifest.csv hay gói edXML.", err=True)
        sys.exit(2)
    stamp = rt.clock().strftime("%Y%m%d-%H%M%S")
    out = Path(report) if report else root / f"bao-cao-nhap-{stamp}.xlsx"
    writer = imports.ReportWriter()
    try:
        with click.progressbar(
            length=total, label="Nhập văn bản", file=sys.stderr, show_pos=True
        ) as bar:

            def progress(outcome: Any) -> None:
                writer.add(outcome)
                bar.update(1)

            result = imports.import_documents(
                rt.uow(),
                actor,
                items,
                dry_run=dry_run,
                batch_size=batch_size,
                on_outcome=progress,
            )
    except imports.ManifestError as exc:
        click.echo(exc.message, err=True)
        sys.exit(2)
    except DomainError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    finally:
        if packages is not None:
            packages.close()
    writer.save(out, dry_run=dry_run)
    c = result.counts
    verb = "hợp lệ (chạy thử, không ghi gì)" if dry_run else "đã nhập"
    click.echo(
        f"{c['imported']} văn bản {verb}, {c['skipped']} bỏ qua (đã có), "
        f"{c['refused']} bị từ chối. Báo cáo: {out}"
    )
    sys.exit(1 if c["refused"] else 0)


def _actor(rt: Any, username: str) -> Any:
    from sqlalchemy import select

    from docflow.actors import load_actor
    from docflow.models import User
    from docflow.workdays import local_date

    with rt.session_factory() as s:
        user = s.scalars(select(User).where(User.username == username.lower())).first()
        if user is None:
            click.echo(f"Không có người dùng {username}.", err=True)
            sys.exit(2)
        return load_actor(s, user.id, local_date(rt.clock()))


@main.group(help="The audit log.")
def audit() -> None:
    pass


@audit.command(
    "verify",
    help="Chain what is waiting, recompute the keyed hash chains of the audit log and check "
    "every signed checkpoint in the object store against them; exit 1 if anything is broken.",
)
def audit_verify() -> None:
    from app.pki import trust_settings
    from app.runtime import build_runtime
    from docflow.audit import BackendCheckpoints, chain_all_pending, verify

    settings = _settings()
    rt = build_runtime(settings)
    chain_all_pending(rt.uow())  # what is waiting is chained first, then checked with the rest
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
        f" chờ nối chuỗi: {report.pending_changes} thay đổi, {report.pending_reads} lượt đọc."
    )
    for p in report.problems:
        click.echo(f"  LỖI chuỗi {p.chain} #{p.seq}: {p.problem}")
    if not report.ok:
        sys.exit(1)
    click.echo("Nhật ký toàn vẹn.")


@audit.command(
    "checkpoint",
    help="Chain pending changes and reads, then write each organisation's signed checkpoint of its chain "
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


@main.group(help="Reports and statistics.")
def reports() -> None:
    pass


@reports.command(
    "rebuild",
    help="Recompute the pre-aggregated processing statistics (report_daily_stats) of every "
    "organisation, or of one with --organization CODE, from the tasks and assignments.",
)
@click.option("--organization", "code", default=None, help="Only this organisation (its code).")
def reports_rebuild(code: str | None) -> None:
    from app.runtime import build_runtime
    from docflow.reports import rebuild_all

    rt = build_runtime(_settings())
    orgs, rows = rebuild_all(rt.uow(), organization_code=code)
    click.echo(f"Đã tính lại {orgs} tổ chức, {rows} dòng thống kê.")
    if code and orgs == 0:
        click.echo(f"Không có tổ chức mã {code}.", err=True)
        sys.exit(1)


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
    from signing import PkiError
    from signing.testpki import export_user_p12

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


@main.group(help="Full-text search of documents.")
def search() -> None:
    pass


@search.command(
    "reindex",
    help="Rebuild the search index of existing documents and queue the reading (text "
    "extraction, OCR) of files never read; the worker does the reading. Resumable: an "
    "interrupted run continues where it stopped (--restart to start over).",
)
@click.option("--organization", "org_code", default=None, help="Only this organisation (code).")
@click.option("--retry-failed", is_flag=True, help="Also read again the files that failed.")
@click.option("--restart", is_flag=True, help="Ignore the checkpoint of an interrupted run.")
def search_reindex(org_code: str | None, retry_failed: bool, restart: bool) -> None:
    import json
    import uuid

    from sqlalchemy import select

    from app.runtime import build_runtime
    from docflow.models import Organization
    from docflow.search import ReindexProgress, reindex

    settings = _settings()
    rt = build_runtime(settings)
    org_id = None
    if org_code:
        with rt.session_factory() as s:
            org_id = s.scalars(select(Organization.id).where(Organization.code == org_code)).first()
        if org_id is None:
            click.echo(f"Không có tổ chức mã {org_code}.", err=True)
            sys.exit(2)
    checkpoint = settings.data_dir / "search-reindex.json"
    after = None
    if checkpoint.exists() and not restart:
        saved = json.loads(checkpoint.read_text())
        if saved.get("organization") == org_code:
            after = uuid.UUID(saved["after"])
            click.echo(f"Tiếp tục sau văn bản {after}.")
    progress = reindex(rt.uow(), organization_id=org_id, after=after, retry_failed=retry_failed)
    queued = 0
    first = next(progress, None)
    if first is None:
        click.echo("Không có văn bản nào cần lập chỉ mục.")
        checkpoint.unlink(missing_ok=True)
        return
    with click.progressbar(length=first.total, label="Lập chỉ mục tìm kiếm") as bar:
        step: ReindexProgress | None = first
        done = 0
        while step is not None:
            bar.update(step.done - done)
            done, queued = step.done, queued + step.queued
            checkpoint.write_text(
                json.dumps({"organization": org_code, "after": str(step.last_id)})
            )
            step = next(progress, None)
    checkpoint.unlink(missing_ok=True)
    click.echo(f"Đã lập chỉ mục {done} văn bản; {queued} văn bản chờ đọc nội dung.")


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
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker (requests a worker serves at once while others wait on the "
    "database; they share one Python interpreter lock).",
)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    _refuse_newer_schema()
    _serve(host, port, workers, threads)


def _serve(host: str, port: int, workers: int, threads: int = 4) -> None:
    from gunicorn.app.base import BaseApplication

    from app.collector import tune as tune_collector
    from app.metrics import child_exit_hook, prepare_directory

    metrics_dir = _settings().metrics_dir

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", None)
            # The longest request line gunicorn takes: every query the API describes fits.
            self.cfg.set("limit_request_line", 8190)
            # Longer than nginx's idle upstream connections (60 s, deploy/nginx/dhtn.conf):
            # gunicorn must not close a kept-alive connection nginx is about to reuse (a POST
            # on it would fail with 502; found by the load test).
            self.cfg.set("keepalive", 75)
            # No control socket: its default path is one per user account (~/.gunicorn), so a
            # second server on the machine (a web node per port, the tests' servers) would take
            # it over, and we drive gunicorn by signals (systemd) only.
            self.cfg.set("control_socket_disable", True)
            # Each worker, once it has loaded the app: the collector tuned (app/collector.py).
            self.cfg.set("post_worker_init", lambda _worker: tune_collector())
            if metrics_dir is not None:  # metrics added up over the workers (app/metrics.py)
                self.cfg.set("on_starting", lambda _server: prepare_directory(metrics_dir))
                self.cfg.set("child_exit", child_exit_hook(metrics_dir))

        def load(self) -> Any:
            from app import create_app

            return create_app()

    Server().run()


@main.command(help="Background worker with its scheduler (Celery worker + beat).")
@click.option("--concurrency", default=2, show_default=True, type=int)
@click.option("--beat/--no-beat", default=True, show_default=True)
@click.option(
    "--queues",
    default="celery,heavy",
    show_default=True,
    help="Queues to consume: 'celery' (notifications, e-mail, push, exchange, periodic jobs) "
    "and 'heavy' (text extraction and OCR, conversion, signature checks of received files).",
)
def worker(concurrency: int, beat: bool, queues: str) -> None:
    from app import create_app
    from app.celery_app import celery_of

    _refuse_newer_schema()
    app = create_app()
    settings = _settings()
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port, addr="127.0.0.1")
    argv = [
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--pool=threads",
        f"--queues={queues}",
    ]
    if beat:
        argv += ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    celery_of(app).worker_main(argv)


@main.command(help="The scheduler alone (Celery beat): run exactly one in an installation.")
def beat() -> None:
    from app import create_app
    from app.celery_app import celery_of

    _refuse_newer_schema()
    app = create_app()
    schedule = _settings().data_dir / "celerybeat-schedule"
    celery_of(app).start(["beat", "--loglevel=INFO", f"--schedule={schedule}"])


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
