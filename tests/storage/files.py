"""Real files of each type for the upload checks, built at run time with well-kept libraries."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from docx import Document
from openpyxl import Workbook
from pypdf import PdfWriter

MAIN_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MAIN_DOCM = "application/vnd.ms-word.document.macroEnabled.main+xml"


def pdf(pages: int = 1, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if password is not None:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx(text: str = "Kính gửi: Ban Thường trực Ủy ban MTTQ Việt Nam") -> bytes:
    document = Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "Số văn bản"
    sheet["B1"] = 12
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)


def tiff() -> bytes:
    return b"II*\x00\x08\x00\x00\x00" + bytes(64)


def rezip(
    original: bytes,
    *,
    replace: dict[str, bytes] | None = None,
    add: dict[str, bytes] | None = None,
    drop: set[str] | None = None,
) -> bytes:
    """``original`` (a zip) with parts replaced, added or dropped."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(original)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if drop and info.filename in drop:
                continue
            data = (replace or {}).get(info.filename, source.read(info))
            target.writestr(info.filename, data)
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def docm() -> bytes:
    """A macro-enabled Word file: a real OOXML package, of a type we refuse."""
    original = docx()
    with zipfile.ZipFile(io.BytesIO(original)) as package:
        types = package.read("[Content_Types].xml")
    return rezip(
        original,
        replace={"[Content_Types].xml": types.replace(MAIN_DOCX.encode(), MAIN_DOCM.encode())},
    )


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    return out.getvalue()


def docx_with_lying_sizes() -> bytes:
    """A DOCX whose headers declare document.xml 10 bytes long while it inflates to more."""
    data = bytearray(docx("nội dung " * 200))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as package:
        info = package.getinfo("word/document.xml")
        real_size = info.file_size
        local_offset = info.header_offset
    small = struct.pack("<I", 10)
    # Local file header: uncompressed size at +22; central directory entry: at +24.
    assert struct.unpack_from("<I", data, local_offset + 22)[0] == real_size
    data[local_offset + 22 : local_offset + 26] = small
    name = b"word/document.xml"
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + name_length] == name:
            data[position + 24 : position + 28] = small
            break
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)
