"""``dhtn import documents DIR``: what the folder holds becomes a stream of import items.

A folder with ``manifest.xlsx`` / ``manifest.csv`` is read by :mod:`docflow.imports.manifest`;
a folder of edXML packages (``*.edxml``, ``*.xml``) is read here with interop's parser (the app
may use interop; docflow may not), one package at a time, each becoming an item whose identity
is the package's DocumentId. docflow then checks, stores and writes them in batches.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from docflow.imports import FileSource, ImportItem

EDXML_SUFFIXES = (".edxml", ".xml")


def edxml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in EDXML_SUFFIXES)


def _attachment_opener(attachment: Any) -> Callable[[], IO[bytes]]:
    def open_() -> IO[bytes]:
        stream: IO[bytes] = attachment.open()
        return stream

    return open_


class EdxmlFolder:
    """The packages of a folder as import items (in name order), used as a context manager:
    a parsed package's attachments are spooled to temporary files; the last ``keep_open`` stay
    available (the importer stores a batch's files after reading the whole batch, possibly after
    the last item was read), older ones are discarded as reading goes on, the rest on exit."""

    def __init__(self, folder: Path, *, organization_code: str = "", keep_open: int = 256):
        self.folder = folder
        self.organization_code = organization_code
        self.keep_open = keep_open
        self._open: collections.deque[Any] = collections.deque()

    def __enter__(self) -> EdxmlFolder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        while self._open:
            self._open.popleft().close()

    def __iter__(self) -> Iterator[ImportItem]:
        from interop import EdxmlError, parse_package

        for path in edxml_files(self.folder):
            try:
                result = parse_package(path)
            except EdxmlError as exc:
                yield ImportItem(
                    source=path.name,
                    row=None,
                    cells={"direction": "incoming"},
                    problems=(f"Gói edXML không đọc được: {exc.message}",),
                    identity=f"edxml-file:{path.name}",
                )
                continue
            self._open.append(result)
            while len(self._open) > self.keep_open:
                self._open.popleft().close()
            package = result.package
            assert package is not None
            head = package.code.notation.split("-", 1)[0].strip()
            cells = {
                "direction": "incoming",
                "organization_code": self.organization_code,
                "notation": str(package.code),
                "type": head if head.isalpha() else "CV",
                "subject": package.subject or "(không có trích yếu)",
                "issuer": package.from_.organ_name or package.from_.organ_id,
                "issued_date": package.promulgation.date.isoformat()
                if package.promulgation.date
                else "",
                "due_date": package.due_date.isoformat() if package.due_date else "",
                "urgency": str(package.urgency),
            }
            files = tuple(
                FileSource(a.attachment.name, _attachment_opener(a)) for a in result.attachments
            )
            identity = (
                f"edxml:{package.document_id}"
                if package.document_id
                else f"edxml-sha256:{result.sha256}"
            )
            yield ImportItem(
                source=path.name, row=None, cells=cells, files=files, identity=identity
            )
