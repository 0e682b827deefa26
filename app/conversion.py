"""DOCX → PDF with headless LibreOffice, kept warm between jobs.

A cold ``soffice --convert-to pdf`` spends a second or more starting LibreOffice for every file.
:class:`LibreOfficeConverter` starts one ``soffice --headless --accept=pipe,…`` per process
(its own user profile ``profile-<pid>``, so workers never share a profile or a lock) and a small
bridge under the system Python that drives it through UNO (:mod:`app.conversion_bridge`);
later jobs reuse both. Conversions in one process run one at a time (a lock); each has a
timeout, after which LibreOffice is killed and started afresh for the next job.

A file LibreOffice cannot open or export raises :class:`docflow.documents.ports.ConversionError`
(the draft shows it); LibreOffice crashing on a file gets one retry on a fresh instance first.
Without python3-uno the converter falls back to a cold ``soffice --convert-to`` per job.

Nothing in a DOCX makes the server fetch anything: external relationships other than hyperlinks
(linked images, attached templates, linked OLE objects, frames…) are removed before LibreOffice
sees the file (:func:`neutralise_external_links`), and LibreOffice and its bridge run in the
network-less sandbox of :mod:`app.sandbox` (their UNO pipe is a Unix socket in a ``/tmp`` the two
sandboxes share), which also covers what the relationships do not (e.g. INCLUDEPICTURE fields).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from lxml import etree

from app.sandbox import Limits, Sandbox, SandboxUnavailable
from docflow.documents.ports import ConversionError

log = logging.getLogger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"
BRIDGE = Path(__file__).with_name("conversion_bridge.py")


class ConverterUnavailable(RuntimeError):
    """LibreOffice could not be started (an installation problem: the job is retried)."""


_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
# The warm LibreOffice lives long: its CPU limit is a ceiling over many jobs (each job has its
# own wall-clock timeout); a converter killed by it is restarted like after a crash.
OFFICE_LIMITS = Limits(cpu_seconds=3600, memory_bytes=4 * 1024**3)
BRIDGE_LIMITS = Limits(cpu_seconds=3600, memory_bytes=1024**3)


def neutralise_external_links(data: bytes) -> bytes:
    """The DOCX without its external relationships, hyperlinks excepted (they are not fetched
    on conversion and are part of the text). Not a zip: returned as is (LibreOffice refuses it).
    """
    try:
        source = zipfile.ZipFile(BytesIO(data))
        infos = source.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return data
    out = BytesIO()
    changed = False
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in infos:
            content = source.read(info)
            if info.filename.endswith(".rels"):
                cleaned = _strip_external(content)
                if cleaned is not None:
                    content, changed = cleaned, True
            target.writestr(info, content)
    return out.getvalue() if changed else data


def _strip_external(rels: bytes) -> bytes | None:
    """``rels`` without external non-hyperlink relationships; None when nothing changes."""
    try:
        root = etree.fromstring(rels, _SAFE_XML)
    except etree.XMLSyntaxError:
        return None
    removed = False
    for rel in list(root):
        if not isinstance(rel.tag, str) or etree.QName(rel).localname != "Relationship":
            continue
        external = (rel.get("TargetMode") or "").strip().lower() == "external"
        if external and not (rel.get("Type") or "").endswith("/hyperlink"):
            root.remove(rel)
            removed = True
    if not removed:
        return None
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return result


def uno_available(python: str = SYSTEM_PYTHON) -> bool:
    if not Path(python).exists():
        return False
    result = subprocess.run(
        [python, "-I", "-c", "import uno"], capture_output=True, timeout=30, check=False
    )
    return result.returncode == 0


class LibreOfficeConverter:
    """The :class:`~docflow.documents.ports.DocumentConverter` of the app."""

    def __init__(
        self,
        work_dir: Path,
        *,
        timeout: float = 120.0,
        soffice: str = "soffice",
        python: str = SYSTEM_PYTHON,
        warm: bool | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.work_dir = work_dir
        self.sandbox = sandbox or Sandbox()
        self.timeout = timeout
        self.soffice = shutil.which(soffice) or soffice
        self.python = python
        self._warm = warm
        self._lock = threading.Lock()
        self._pid = 0
        self._office: subprocess.Popen[bytes] | None = None
        self._bridge: subprocess.Popen[str] | None = None
        self._starts = 0
        atexit.register(self.close)

    # --- public

    @property
    def warm(self) -> bool:
        if self._warm is None:
            self._warm = uno_available(self.python)
            if not self._warm:
                log.warning("python3-uno missing: converting with a cold soffice per file")
        return self._warm

    @property
    def starts(self) -> int:
        """How many times this process started LibreOffice (a warm converter: once)."""
        return self._starts

    def to_pdf(self, data: bytes, filename: str) -> bytes:
        from app.metrics import CONVERSION_SECONDS, timed

        with timed(CONVERSION_SECONDS):
            return self._to_pdf(data, filename)

    def _to_pdf(self, data: bytes, filename: str) -> bytes:
        with self._lock, tempfile.TemporaryDirectory(dir=self._jobs_dir()) as tmp:
            source = Path(tmp) / "in.docx"
            target = Path(tmp) / "in.pdf"
            source.write_bytes(neutralise_external_links(data))
            if self.warm:
                self._convert_warm(source, target, filename)
            else:
                self._convert_cold(source, target, filename)
            if not target.exists() or target.stat().st_size == 0:
                raise ConversionError(
                    f"LibreOffice không tạo được PDF từ «{filename}».",
                    details={"file": filename},
                )
            return target.read_bytes()

    def start(self) -> None:
        """Start LibreOffice now (instead of on the first job)."""
        if self.warm:
            with self._lock:
                self._ensure_started()

    def close(self) -> None:
        if self._pid != os.getpid():
            return  # a forked child never stops its parent's LibreOffice
        for proc in (self._bridge, self._office):
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self._bridge = self._office = None

    # --- warm path

    def _profile(self) -> Path:
        return self.work_dir / f"profile-{os.getpid()}"

    def _tmp(self) -> Path:
        """The sandboxes' shared /tmp (holds the UNO pipe's socket)."""
        path = self.work_dir / f"tmp-{os.getpid()}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _office_command(self, argv: list[str]) -> list[str]:
        profile = self._profile()
        profile.mkdir(parents=True, exist_ok=True)
        try:
            return self.sandbox.command(
                argv,
                limits=OFFICE_LIMITS,
                writable=[profile, self._jobs_dir()],
                tmp=self._tmp(),
                home=profile,
            )
        except SandboxUnavailable as exc:
            raise ConverterUnavailable(str(exc)) from exc

    def _jobs_dir(self) -> Path:
        path = self.work_dir / "jobs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _ensure_started(self) -> None:
        if self._pid != os.getpid():  # forked: the inherited handles belong to the parent
            self._office = self._bridge = None
            self._pid = os.getpid()
        if (
            self._office is not None
            and self._office.poll() is None
            and self._bridge is not None
            and self._bridge.poll() is None
        ):
            return
        self.close()
        pipe = f"dhtn-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        office = self._office_command(
            [
                self.soffice,
                "--headless",
                "--invisible",
                "--nologo",
                "--norestore",
                "--nodefault",
                "--nolockcheck",
                f"-env:UserInstallation={self._profile().as_uri()}",
                f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
            ]
        )
        bridge = self.sandbox.command(
            [self.python, "-I", "-u", str(BRIDGE), pipe, "60"],
            limits=BRIDGE_LIMITS,
            readable=[BRIDGE],
            writable=[self._jobs_dir()],
            tmp=self._tmp(),
        )
        self._office = subprocess.Popen(
            office,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._bridge = subprocess.Popen(
            bridge,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._starts += 1
        ready = self._read(self._bridge, 90)
        if not ready or not ready.get("ready"):
            self.close()
            raise ConverterUnavailable("LibreOffice did not start")

    def _read(self, bridge: subprocess.Popen[str], timeout: float) -> dict[str, Any] | None:
        stdout: IO[str] | None = bridge.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        if not ready:
            return None
        line = stdout.readline()
        if not line:
            return None
        value: dict[str, Any] = json.loads(line)
        return value

    def _convert_warm(self, source: Path, target: Path, filename: str) -> None:
        for attempt in (1, 2):
            self._ensure_started()
            assert self._bridge is not None and self._bridge.stdin is not None
            started = time.monotonic()
            try:
                self._bridge.stdin.write(json.dumps({"in": str(source), "out": str(target)}) + "\n")
                self._bridge.stdin.flush()
            except OSError:
                answer = None
            else:
                answer = self._read(self._bridge, self.timeout)
            if answer is None:
                timed_out = time.monotonic() - started >= self.timeout
                self.close()
                if timed_out:
                    raise ConversionError(
                        f"Chuyển «{filename}» sang PDF quá {int(self.timeout)} giây; tệp có thể bị hỏng.",
                        code="conversion_timeout",
                        details={"file": filename},
                    )
                answer = {"ok": False, "kind": "crash", "error": "LibreOffice stopped"}
            if answer.get("ok"):
                return
            if answer.get("kind") == "crash" and attempt == 1:
                log.warning("LibreOffice crashed on %s; retrying on a fresh instance", filename)
                self.close()
                continue
            raise ConversionError(
                f"LibreOffice không mở được «{filename}»: tệp DOCX bị hỏng hoặc không đúng định dạng.",
                details={"file": filename, "reason": str(answer.get("error", ""))[:500]},
            )

    # --- cold path (no python3-uno)

    def _convert_cold(self, source: Path, target: Path, filename: str) -> None:
        command = self._office_command(
            [
                self.soffice,
                f"-env:UserInstallation={self._profile().as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(target.parent),
                str(source),
            ]
        )
        try:
            subprocess.run(
                command,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(
                f"Chuyển «{filename}» sang PDF quá {int(self.timeout)} giây.",
                code="conversion_timeout",
            ) from exc
        if not target.exists():
            raise ConversionError(
                f"LibreOffice không mở được «{filename}»: tệp DOCX bị hỏng hoặc không đúng định dạng.",
                details={"file": filename},
            )


def cold_convert(soffice: str, source: Path, out_dir: Path, profile: Path, timeout: float) -> Path:
    """One ``soffice --convert-to pdf`` from scratch (the benchmark's baseline)."""
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(source),
        ],
        capture_output=True,
        timeout=timeout,
        check=True,
    )
    return out_dir / (source.stem + ".pdf")


def start_in_background(converter: LibreOfficeConverter) -> threading.Thread:
    """Start LibreOffice from a thread of its own that lives as long as the process.

    The sandbox runs with ``--die-with-parent`` (``PR_SET_PDEATHSIG``), and Linux sends that
    signal when the *thread* that started the child ends, not the process: started from a
    short-lived thread, LibreOffice was killed as soon as the thread returned, and the first
    job paid a cold start after all."""

    def run() -> None:
        try:
            converter.start()
        except Exception:
            log.exception("could not pre-start LibreOffice; the first job will start it")
        threading.Event().wait()  # keep the thread (and so LibreOffice) alive

    thread = threading.Thread(target=run, name="soffice-keeper", daemon=True)
    thread.start()
    return thread
