"""Typed settings, read once from the environment (API.md §1). Nothing else reads os.environ."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _seconds(value: str | None, default: float) -> float:
    """A period in seconds (at least one); the default when unset."""
    if value is None or value.strip() == "":
        return default
    seconds = float(value)
    if not seconds >= 1:
        raise ValueError(f"a period in seconds must be at least 1, got {value!r}")
    return seconds


def _rate(value: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """``"N/SECONDS"`` (or ``"N"`` per minute) → (N, SECONDS)."""
    if not value or not value.strip():
        return default
    count, _, window = value.strip().partition("/")
    return int(count), int(window or 60)


@dataclass(frozen=True)
class Settings:
    """Every knob of DHTN. Defaults give the embedded profile (SQLite, files, embedded broker).

    Attributes mirror the ``DHTN_*`` variables of API.md §1; extra ones are documented inline.
    """

    data_dir: Path
    database_url: str
    storage_url: str
    broker_url: str  # "" = embedded broker in the data dir
    secret_key: str
    axis_url: str | None = None
    axis_system_id: str | None = None
    axis_secret: str | None = None
    # Added: how often the worker polls the axis (DHTN_AXIS_POLL_SECONDS) and sends its queue
    # (DHTN_AXIS_SEND_SECONDS; also the first retry delay of a refused send, doubling after).
    axis_poll_seconds: float = 60.0
    axis_send_seconds: float = 30.0
    # Added: how often the directory of external organisations is read (DHTN_AXIS_DIRECTORY_SECONDS;
    # also at worker start).
    axis_directory_seconds: float = 24 * 3600.0
    # Added: how long a received revocation, update or replacement naming a document not here
    # yet is left on the axis for its document to come (DHTN_AXIS_WAIT_SECONDS) before it is
    # refused (16): the axis promises no order.
    axis_wait_seconds: float = 900.0
    demo_password: str | None = None
    demo_suffix: str = "Z01"
    # `dhtn demo seed` / first `dhtn run` also add a fortnight of work (DHTN_DEMO_ACTIVITY=off: not).
    demo_activity: bool = True
    secret_network: bool = False
    master_key_file: Path | None = None
    # API.md §7: the audit chains' HMAC key, outside the database (generated into the data dir).
    audit_key_file: Path | None = None
    # Added: encrypt objects at rest on an ordinary deployment too (always on the secret network).
    encrypt_at_rest: bool = False
    tsa_url: str | None = None
    trust_roots: Path | None = None
    smtp_url: str | None = None
    # Added: working days before a deadline when the lead gets a reminder (DHTN_REMINDER_DAYS).
    reminder_days: int = 2
    # API.md §7: the address people use; an https:// one makes the session cookie Secure.
    public_url: str | None = None
    # Added: a page session ends after this long without a request (and always after
    # token_ttl_hours); how many reverse proxies in front may set X-Forwarded-For (0 = none).
    session_idle_minutes: int = 120
    trusted_proxies: int = 0
    # Not in API.md §1 (added): token lifetime, upload limit, cookie flag, log level, eager tasks.
    token_ttl_hours: int = 12
    max_upload_mb: int = 100
    session_cookie_secure: bool = False
    log_level: str = "INFO"
    tasks_eager: bool = False
    # Outbound fetches (signing.fetching): hosts allowed beyond the TSA and the trust roots'
    # own AIA/CRL/OCSP hosts (DHTN_FETCH_ALLOW, API.md §7; comma or space separated).
    fetch_allow: tuple[str, ...] = ()
    # Converters (LibreOffice, pdftoppm) run in a bubblewrap sandbox without network:
    # "bwrap" (default; refuses to convert when bwrap cannot run) or "off" (DHTN_SANDBOX).
    sandbox: str = "bwrap"
    # OCR of scans and photos (Tesseract "vie" through OCRmyPDF, in the sandbox): on/off
    # (DHTN_OCR), and the wall-clock limit of one file in seconds (DHTN_OCR_TIMEOUT).
    ocr: bool = True
    ocr_timeout: int = 900
    # Public endpoints (verification): requests per client per window, and for all clients
    # together (DHTN_PUBLIC_RATE_LIMIT, DHTN_PUBLIC_RATE_LIMIT_GLOBAL, "N/SECONDS").
    public_rate_limit: tuple[int, int] = (20, 60)
    public_rate_limit_global: tuple[int, int] = (600, 60)
    # Citizen feedback (API.md §7, added): submissions per client, per phone number, and for
    # every client together, as "N/SECONDS".
    feedback_rate_limit: tuple[int, int] = (10, 600)
    feedback_phone_limit: tuple[int, int] = (5, 86400)
    feedback_rate_limit_global: tuple[int, int] = (300, 60)
    # Largest PDF the public verification takes (DHTN_VERIFY_MAX_MB).
    verify_max_mb: int = 20
    # Remote signing (issue 21): the operator's CSC v2 service (DHTN_CSC_URL, its API base), the
    # server's OAuth 2.0 client credentials there (DHTN_CSC_CLIENT_ID, and the secret in the
    # file DHTN_CSC_CLIENT_SECRET_FILE), the limit of each call in seconds (DHTN_CSC_TIMEOUT).
    csc_url: str | None = None
    csc_client_id: str | None = None
    csc_client_secret_file: Path | None = None
    csc_timeout: float = 30.0
    # Web Push (issue 21): the VAPID key (PEM; generated once into the data dir when unset),
    # the contact the push services see (mailto: or https:), and test push services that may be
    # http or on loopback (exact origins; nothing else but public https endpoints is sent to).
    vapid_private_key_file: Path | None = None
    vapid_subject: str | None = None
    push_test_origins: tuple[str, ...] = ()
    # Metrics added up over processes (gunicorn workers): prometheus_client's own variable
    # PROMETHEUS_MULTIPROC_DIR, a directory emptied when the web service starts (deploy/).
    # The worker's port for its own /metrics (DHTN_WORKER_METRICS_PORT, 0 = none).
    metrics_dir: Path | None = None
    # Connection pool per process (DHTN_DB_POOL_SIZE, DHTN_DB_MAX_OVERFLOW, DHTN_DB_POOL_TIMEOUT
    # seconds) and DHTN_DB_PGBOUNCER=1 for PgBouncer in transaction mode (no server-side
    # prepared statements; DHTN keeps no other session state across transactions).
    db_pool_size: int = 5
    db_max_overflow: int = 10
    db_pool_timeout: int = 30
    db_pgbouncer: bool = False
    # Log statements slower than this many milliseconds (logger dhtn.slow_query; 0 = off).
    slow_query_ms: int = 0
    # An organisation's roll-up statistics are recomputed at most once per this many seconds
    # (DHTN_REPORTS_REFRESH_SECONDS; 0 = after every change): changes in between wait and are
    # taken along by the next recomputation (docflow.reports.rollup.handle_changed).
    reports_refresh_seconds: int = 30
    worker_metrics_port: int = 0
    # The answer to a document action is built from the row the action locked and changed
    # (app.api.documents.acted_json); with DHTN_CHECK_ACTION_ANSWERS=1 (the tests) it is also
    # read afresh and a difference is an error, so a change the action made and the row did
    # not take up cannot go unnoticed. Costs a second read: not for production.
    check_action_answers: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cookie_secure(self) -> bool:
        """Send the session cookie over HTTPS only when the installation is served over HTTPS."""
        public = (self.public_url or "").strip().lower()
        return self.session_cookie_secure or public.startswith("https://")

    @property
    def embedded_broker(self) -> bool:
        return not self.broker_url

    @property
    def celery_broker_url(self) -> str:
        if self.broker_url:
            return self.broker_url
        return f"sqla+sqlite:///{self.data_dir / 'broker.sqlite'}"

    @property
    def encrypts(self) -> bool:
        return self.secret_network or self.encrypt_at_rest

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("DHTN_DATA_DIR") or "./var").resolve()
        master = env.get("DHTN_MASTER_KEY_FILE")
        roots = env.get("DHTN_TRUST_ROOTS")
        audit_key = env.get("DHTN_AUDIT_KEY_FILE")
        vapid_key = env.get("DHTN_VAPID_PRIVATE_KEY_FILE")
        return cls(
            data_dir=data_dir,
            database_url=env.get("DHTN_DATABASE_URL") or f"sqlite:///{data_dir / 'dhtn.sqlite'}",
            storage_url=env.get("DHTN_STORAGE_URL") or f"file://{data_dir / 'objects'}",
            broker_url=env.get("DHTN_BROKER_URL") or "",
            secret_key=env.get("DHTN_SECRET_KEY") or "",
            axis_url=env.get("DHTN_AXIS_URL") or None,
            axis_system_id=env.get("DHTN_AXIS_SYSTEM_ID") or None,
            axis_secret=env.get("DHTN_AXIS_SECRET") or None,
            axis_poll_seconds=_seconds(env.get("DHTN_AXIS_POLL_SECONDS"), 60.0),
            axis_send_seconds=_seconds(env.get("DHTN_AXIS_SEND_SECONDS"), 30.0),
            axis_directory_seconds=_seconds(env.get("DHTN_AXIS_DIRECTORY_SECONDS"), 86400.0),
            axis_wait_seconds=_seconds(env.get("DHTN_AXIS_WAIT_SECONDS"), 900.0),
            demo_password=env.get("DHTN_DEMO_PASSWORD") or None,
            demo_suffix=env.get("DHTN_DEMO_SUFFIX") or "Z01",
            demo_activity=(env.get("DHTN_DEMO_ACTIVITY") or "on").strip().lower()
            not in {"off", "0", "false", "no"},
            secret_network=_bool(env.get("DHTN_SECRET_NETWORK")),
            master_key_file=Path(master) if master else None,
            audit_key_file=Path(audit_key) if audit_key else None,
            encrypt_at_rest=_bool(env.get("DHTN_ENCRYPT_AT_REST")),
            tsa_url=env.get("DHTN_TSA_URL") or None,
            trust_roots=Path(roots) if roots else None,
            smtp_url=env.get("DHTN_SMTP_URL") or None,
            reminder_days=int(env.get("DHTN_REMINDER_DAYS") or 2),
            public_url=env.get("DHTN_PUBLIC_URL") or None,
            session_idle_minutes=int(env.get("DHTN_SESSION_IDLE_MINUTES") or 120),
            trusted_proxies=int(env.get("DHTN_TRUSTED_PROXIES") or 0),
            token_ttl_hours=int(env.get("DHTN_TOKEN_TTL_HOURS") or 12),
            max_upload_mb=int(env.get("DHTN_MAX_UPLOAD_MB") or 100),
            session_cookie_secure=_bool(env.get("DHTN_SESSION_COOKIE_SECURE")),
            log_level=(env.get("DHTN_LOG_LEVEL") or "INFO").upper(),
            tasks_eager=_bool(env.get("DHTN_TASKS_EAGER")),
            fetch_allow=tuple((env.get("DHTN_FETCH_ALLOW") or "").replace(",", " ").split()),
            sandbox=(env.get("DHTN_SANDBOX") or "bwrap").strip().lower(),
            ocr=(env.get("DHTN_OCR") or "on").strip().lower() not in {"off", "0", "false", "no"},
            ocr_timeout=int(env.get("DHTN_OCR_TIMEOUT") or 900),
            public_rate_limit=_rate(env.get("DHTN_PUBLIC_RATE_LIMIT"), (20, 60)),
            public_rate_limit_global=_rate(env.get("DHTN_PUBLIC_RATE_LIMIT_GLOBAL"), (600, 60)),
            verify_max_mb=int(env.get("DHTN_VERIFY_MAX_MB") or 20),
            csc_url=env.get("DHTN_CSC_URL") or None,
            csc_client_id=env.get("DHTN_CSC_CLIENT_ID") or None,
            csc_client_secret_file=(
                Path(env["DHTN_CSC_CLIENT_SECRET_FILE"])
                if env.get("DHTN_CSC_CLIENT_SECRET_FILE")
                else None
            ),
            csc_timeout=_seconds(env.get("DHTN_CSC_TIMEOUT"), 30.0),
            metrics_dir=Path(env["PROMETHEUS_MULTIPROC_DIR"])
            if env.get("PROMETHEUS_MULTIPROC_DIR")
            else None,
            worker_metrics_port=int(env.get("DHTN_WORKER_METRICS_PORT") or 0),
            check_action_answers=_bool(env.get("DHTN_CHECK_ACTION_ANSWERS")),
            db_pool_size=int(env.get("DHTN_DB_POOL_SIZE") or 5),
            db_max_overflow=int(env.get("DHTN_DB_MAX_OVERFLOW") or 10),
            db_pool_timeout=int(env.get("DHTN_DB_POOL_TIMEOUT") or 30),
            db_pgbouncer=_bool(env.get("DHTN_DB_PGBOUNCER")),
            slow_query_ms=int(env.get("DHTN_SLOW_QUERY_MS") or 0),
            reports_refresh_seconds=int(env.get("DHTN_REPORTS_REFRESH_SECONDS") or 30),
            feedback_rate_limit=_rate(env.get("DHTN_FEEDBACK_RATE_LIMIT"), (10, 600)),
            feedback_phone_limit=_rate(env.get("DHTN_FEEDBACK_PHONE_LIMIT"), (5, 86400)),
            feedback_rate_limit_global=_rate(env.get("DHTN_FEEDBACK_RATE_LIMIT_GLOBAL"), (300, 60)),
            vapid_private_key_file=Path(vapid_key) if vapid_key else None,
            vapid_subject=env.get("DHTN_VAPID_SUBJECT") or None,
            push_test_origins=tuple(
                (env.get("DHTN_PUSH_TEST_ORIGINS") or "").replace(",", " ").split()
            ),
        )


def ensure_data_dir(settings: Settings) -> Settings:
    """Create the data dir; generate the secret key once into it when none is configured."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.secret_key:
        return settings
    key_file = settings.data_dir / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return settings.with_overrides(secret_key=key_file.read_text().strip())


def demo_password(settings: Settings) -> str:
    """DHTN_DEMO_PASSWORD, or one generated once into the data dir (printed by ``dhtn demo``)."""
    if settings.demo_password:
        return settings.demo_password
    pw_file = settings.data_dir / "demo-password"
    if not pw_file.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("Demo-" + secrets.token_urlsafe(9))
    return pw_file.read_text().strip()


def audit_key(settings: Settings) -> bytes:
    """The audit log's HMAC key from DHTN_AUDIT_KEY_FILE, or one generated once into the data
    dir (``audit.key``, mode 0600). Keep a copy away from the database's backups: whoever holds
    both can rewrite the log (the signed checkpoints still catch that)."""
    path = settings.audit_key_file or settings.data_dir / "audit.key"
    if settings.audit_key_file is None and not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = text.encode()
    if len(key) < 32:
        raise ValueError(f"{path}: the audit key must hold at least 32 bytes (64 hex digits)")
    return key
