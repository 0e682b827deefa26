"""OCR of scans and photos: OCRmyPDF with Tesseract's Vietnamese model (Debian packages
``ocrmypdf``, ``tesseract-ocr-vie``), run in the network-less sandbox of :mod:`app.sandbox`
with CPU, memory and file-size limits and a wall-clock timeout.

One call makes a searchable PDF/A-2b (the page images with an invisible text layer; pages are
deskewed and turned upright, and cleaned for recognition only) and the text of each page (the
``--sidecar``, pages separated by form feeds). Pages that already have text are kept as they are
(``--skip-text``). Image bombs stop at ``--max-image-mpixels``."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from app.config import Settings
from app.metrics import OCR_SECONDS, timed
from app.sandbox import Limits, Sandbox, SandboxUnavailable
from docflow.search import RecognitionError, Recognized

OCR_LIMITS = Limits(cpu_seconds=1800, memory_bytes=3 * 1024**3, file_bytes=1024**3)
MAX_IMAGE_MPIXELS = 120
SKIPPED = "[OCR skipped"
SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif"}


def ocr_available() -> bool:
    return shutil.which("ocrmypdf") is not None and shutil.which("tesseract") is not None


class OcrMyPdfRecognizer:
    """A :class:`docflow.search.TextRecognizer` backed by the ``ocrmypdf`` command."""

    def __init__(
        self,
        sandbox: Sandbox | None = None,
        *,
        language: str = "vie",
        timeout: float = 900,
        limits: Limits = OCR_LIMITS,
    ) -> None:
        self.sandbox = sandbox or Sandbox()
        self.language = language
        self.timeout = timeout
        self.limits = limits

    def command(self, source: Path, target: Path, sidecar: Path, *, image: bool) -> list[str]:
        argv = [
            "ocrmypdf",
            "--language",
            self.language,
            "--output-type",
            "pdfa-2",
            # Tesseract's own text-only PDF laid under the page image.
            "--pdf-renderer",
            "sandwich",
            "--rotate-pages",
            "--deskew",
            "--clean",
            "--skip-text",
            "--jobs",
            "1",
            "--max-image-mpixels",
            str(MAX_IMAGE_MPIXELS),
            "--sidecar",
            str(sidecar),
            "--quiet",
        ]
        if image:
            argv += ["--image-dpi", "300"]  # used only when the photo carries no resolution
        return [*argv, str(source), str(target)]

    def recognize_photos(self, photos: Sequence[tuple[bytes, str]]) -> Recognized:
        """The photos as one PDF (img2pdf, lossless, in the sandbox), then OCR of that PDF."""
        with tempfile.TemporaryDirectory(prefix="dhtn-photos-") as tmp:
            work = Path(tmp)
            names = []
            for i, (data, content_type) in enumerate(photos):
                path = work / f"{i:04d}{SUFFIX.get(content_type, '.jpg')}"
                path.write_bytes(data)
                names.append(str(path))
            target = work / "photos.pdf"
            try:
                cmd = self.sandbox.command(
                    [
                        "/usr/bin/python3",
                        "-m",
                        "img2pdf",
                        "--imgsize",
                        "300dpix300dpi",
                        "--output",
                        str(target),
                        *names,
                    ],
                    limits=self.limits,
                    writable=[work],
                    home=work,
                )
                result = subprocess.run(cmd, capture_output=True, timeout=self.timeout, check=False)
            except SandboxUnavailable as exc:
                raise RecognitionError(str(exc)) from exc
            except subprocess.TimeoutExpired as exc:
                raise RecognitionError(f"quá {int(self.timeout)} giây") from exc
            if result.returncode != 0 or not target.exists():
                raise RecognitionError(_reason(result.returncode, result.stderr))
            combined = target.read_bytes()
        return self.recognize(combined, "application/pdf")

    def recognize(self, data: bytes, content_type: str) -> Recognized:
        with timed(OCR_SECONDS):
            return self._recognize(data, content_type)

    def _recognize(self, data: bytes, content_type: str) -> Recognized:
        image = content_type in SUFFIX
        with tempfile.TemporaryDirectory(prefix="dhtn-ocr-") as tmp:
            work = Path(tmp)
            source = work / ("in" + SUFFIX.get(content_type, ".pdf"))
            source.write_bytes(data)
            target, sidecar = work / "out.pdf", work / "out.txt"
            try:
                cmd = self.sandbox.command(
                    self.command(source, target, sidecar, image=image),
                    limits=self.limits,
                    writable=[work],
                    home=work,
                )
                result = subprocess.run(cmd, capture_output=True, timeout=self.timeout, check=False)
            except SandboxUnavailable as exc:
                raise RecognitionError(str(exc)) from exc
            except subprocess.TimeoutExpired as exc:
                raise RecognitionError(f"quá {int(self.timeout)} giây") from exc
            if result.returncode != 0 or not target.exists():
                raise RecognitionError(_reason(result.returncode, result.stderr))
            pages = sidecar.read_text(encoding="utf-8", errors="replace").split("\f")
            if pages and not pages[-1].strip():
                pages = pages[:-1]
            texts = ["" if p.strip().startswith(SKIPPED) else p for p in pages]
            return Recognized(pdf=target.read_bytes(), pages=texts)


def _reason(code: int, stderr: bytes) -> str:
    # OCRmyPDF's exit codes (ocrmypdf.ExitCode).
    known = {
        2: "tệp đầu vào không hợp lệ",
        6: "tệp đã có lớp chữ",
        7: "lỗi của chương trình phụ trợ",
        8: "tệp PDF có mật khẩu",
        9: "thiếu cấu hình OCR",
        15: "lỗi không rõ",
    }
    if code < 0 or code in {137, 152}:
        return "vượt giới hạn thời gian hoặc bộ nhớ"
    tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
    return f"{known.get(code, f'mã lỗi {code}')} {tail[0][:200]}".strip()


def make_recognizer(settings: Settings) -> OcrMyPdfRecognizer | None:
    """The OCR engine of this deployment, or None (DHTN_OCR=off, or OCRmyPDF not installed:
    scans are then marked failed with the reason, text PDFs and DOCX are still read)."""
    if not settings.ocr or not ocr_available():
        return None
    return OcrMyPdfRecognizer(Sandbox(settings.sandbox), timeout=settings.ocr_timeout)
