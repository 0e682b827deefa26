"""The sandbox converters of untrusted files run in: no network, a minimal read-only system view,
and CPU / memory / file-size limits (ARCHITECTURE.md §2).

LibreOffice (DOCX → PDF) and poppler's ``pdftoppm`` (page previews) read files anyone may send.
They run under bubblewrap (``bwrap``, Debian package ``bubblewrap``) with every namespace
unshared (network included: nothing they do can reach any host, not even loopback), seeing only
``/usr``, the few ``/etc`` files they need, and the directories of the job (no data dir, no keys),
and under ``prlimit`` resource limits. UNO's pipe between the warm LibreOffice and its bridge is a
Unix socket in the ``/tmp`` both sandboxes share (a directory of the job), which works without a
network.

``DHTN_SANDBOX=bwrap`` (default) refuses to run a converter when bwrap cannot start (for example
a kernel without unprivileged user namespaces): a clear :class:`SandboxUnavailable`, never a
silent fallback. ``DHTN_SANDBOX=off`` runs them directly (resource limits still apply): only for
an operator who isolates the whole host otherwise.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# What a converter may see of the system (read-only); the rest of the file system is absent.
SYSTEM_PATHS = (
    "/usr",
    "/etc/fonts",
    "/etc/libreoffice",
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/var/cache/fontconfig",
    # Ghostscript (OCRmyPDF's PDF/A step): Debian links its CMaps and font maps here; without
    # them the text layer of a Vietnamese OCR loses its Unicode mapping.
    "/etc/ghostscript",
    "/var/lib/ghostscript",
)
SYMLINKS = {"/bin": "usr/bin", "/lib": "usr/lib", "/lib64": "usr/lib64", "/sbin": "usr/sbin"}
MODES = ("bwrap", "off")


class SandboxUnavailable(RuntimeError):
    """The sandbox is required but cannot run here (the conversion is refused)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed process (``prlimit``)."""

    cpu_seconds: int = 300
    memory_bytes: int = 4 * 1024**3
    file_bytes: int = 512 * 1024**2
    open_files: int = 1024

    def argv(self) -> list[str]:
        return [
            "prlimit",
            f"--cpu={self.cpu_seconds}",
            f"--as={self.memory_bytes}",
            f"--fsize={self.file_bytes}",
            f"--nofile={self.open_files}",
            "--",
        ]


@dataclass(frozen=True)
class Sandbox:
    """How converters run: ``mode`` is ``bwrap`` (isolated, default) or ``off``."""

    mode: str = "bwrap"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"DHTN_SANDBOX must be one of {', '.join(MODES)}, not {self.mode!r}")

    @property
    def isolated(self) -> bool:
        return self.mode == "bwrap"

    def command(
        self,
        argv: Sequence[str],
        *,
        limits: Limits,
        writable: Iterable[Path] = (),
        readable: Iterable[Path] = (),
        tmp: Path | None = None,
        home: Path | None = None,
    ) -> list[str]:
        """``argv`` wrapped in the resource limits and (mode ``bwrap``) the sandbox.

        ``writable``/``readable`` directories are bound at the same path; ``tmp`` becomes the
        sandbox's ``/tmp`` (a fresh empty tmpfs otherwise); ``home`` its ``$HOME``.
        """
        if not self.isolated:
            return [*limits.argv(), *argv]
        require_bwrap()
        cmd = [
            "bwrap",
            "--unshare-all",  # network, IPC, PID, UTS, cgroup and user namespaces
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
        ]
        for system in SYSTEM_PATHS:
            cmd += ["--ro-bind-try", system, system]
        for link, target in SYMLINKS.items():
            if Path(link).is_symlink():
                cmd += ["--symlink", target, link]
            else:
                cmd += ["--ro-bind-try", link, link]
        if tmp is not None:
            cmd += ["--bind", str(tmp), "/tmp"]
        else:
            cmd += ["--tmpfs", "/tmp"]
        for path in readable:
            cmd += ["--ro-bind", str(path), str(path)]
        for path in writable:
            cmd += ["--bind", str(path), str(path)]
        cmd += ["--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8"]
        if home is not None:
            cmd += ["--setenv", "HOME", str(home)]
        cmd += ["--", *argv]
        return [*limits.argv(), *cmd]


@functools.lru_cache(maxsize=1)
def _bwrap_works() -> str | None:
    """``None`` when bwrap runs here, else why not (checked once per process)."""
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (Debian package bubblewrap)"
    if shutil.which("prlimit") is None:
        return "prlimit is not installed (Debian package util-linux)"
    try:
        result = subprocess.run(
            [
                "bwrap",
                "--unshare-all",
                "--ro-bind",
                "/usr",
                "/usr",
                "--symlink",
                "usr/bin",
                "/bin",
                "--symlink",
                "usr/lib",
                "/lib",
                "--symlink",
                "usr/lib64",
                "/lib64",
                "--",
                "/usr/bin/true",
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start: {exc}"
    if result.returncode != 0:
        return "bwrap cannot create its namespaces: " + result.stderr.decode(errors="replace")[:300]
    return None


def require_bwrap() -> None:
    problem = _bwrap_works()
    if problem is not None:
        raise SandboxUnavailable(
            f"{problem}. Converters of untrusted files run only in the sandbox; "
            "fix the host, or set DHTN_SANDBOX=off if it is isolated otherwise."
        )
