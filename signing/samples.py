# mypy: allow-untyped-calls
# (pyHanko and pyhanko-certvalidator leave parts of their API unannotated; we call it here.)
"""Sample documents in Decree 30 format, with the layout of their fields (demo data, tests, bench).

The pages carry real Vietnamese text in an embedded TrueType subset, the blanks where the number
and the date go, and the signature block on the last page; :class:`SampleDocument` returns the
matching :class:`~signing.prepare.DocumentLayout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PdfFileWriter

from .appearance import TextItem, mm, text_ops
from .fonts import FontConfig, FontStyle, ScaledGlyphAccumulator, ScaledGlyphAccumulatorFactory
from .prepare import DocumentLayout, FieldBox

__all__ = ["SampleDocument", "make_sample_attachment", "make_sample_document"]

A4 = (595.28, 841.89)
_LEFT, _RIGHT, _TOP, _BOTTOM = mm(30), A4[0] - mm(15), A4[1] - mm(20), mm(20)
_BODY = (
    "Thực hiện Chương trình phối hợp và thống nhất hành động của Mặt trận Tổ quốc Việt Nam, "
    "Ban Thường trực đề nghị các tổ chức thành viên, Ủy ban Mặt trận Tổ quốc Việt Nam các tỉnh, "
    "thành phố triển khai ứng dụng hệ thống thông tin điều hành tác nghiệp, bảo đảm văn bản điện "
    "tử được ký số đúng quy định, gửi nhận kịp thời qua Trục liên thông văn bản quốc gia; "
    "tiếp nhận, xử lý phản ánh, kiến nghị của Nhân dân đúng thời hạn, công khai kết quả giải quyết."
)


@dataclass(frozen=True)
class SampleDocument:
    """A generated PDF and where its form and signature fields belong."""

    pdf: bytes
    layout: DocumentLayout


class _Engines(dict[FontStyle, ScaledGlyphAccumulator]):
    """Font engines created on first use: an engine that shapes no glyph cannot be written."""

    def __init__(self, writer: PdfFileWriter, fonts: FontConfig) -> None:
        super().__init__()
        self.writer = writer
        self.fonts = fonts
        self.widths: dict[str, float] = {}

    def __missing__(self, style: FontStyle) -> ScaledGlyphAccumulator:
        factory = ScaledGlyphAccumulatorFactory(str(self.fonts.path(style)))
        engine = self[style] = factory.create_font_engine(self.writer)
        return engine


class _Page:
    def __init__(self, engines: _Engines) -> None:
        self.engines = engines
        self.ops: list[bytes] = []

    def text(
        self,
        text: str,
        x: float,
        y: float,
        size: float = 13,
        style: FontStyle = "regular",
        align: str = "left",
    ) -> None:
        item = TextItem(text, x, y, size, style=style, align=align)  # type: ignore[arg-type]
        self.ops.append(text_ops(self.engines[style], item))

    def rule(self, x0: float, x1: float, y: float) -> None:
        self.ops.append(b"q 0.6 w %g %g m %g %g l S Q" % (x0, y, x1, y))

    def word_width(self, word: str) -> float:
        cached = self.engines.widths.get(word)
        if cached is None:
            cached = self.engines.widths[word] = self.width(word, 13)
        return cached

    def width(self, text: str, size: float, style: FontStyle = "regular") -> float:
        engine = self.engines[style]
        engine.set_size(size)
        return float(engine.shape(text).x_advance) * size


def make_sample_document(
    pages: int = 1,
    *,
    organization: str = "ỦY BAN TRUNG ƯƠNG",
    organization_line2: str = "MẶT TRẬN TỔ QUỐC VIỆT NAM",
    doc_type: str = "KẾ HOẠCH",
    subject: str = "Triển khai hệ thống điều hành tác nghiệp năm 2026",
    position: str = "CHỦ TỊCH",
    authority: str = "TM. BAN THƯỜNG TRỰC",
    signer_name: str = "Lê Văn Minh",
    fonts: FontConfig | None = None,
) -> SampleDocument:
    """An A4 document of ``pages`` pages in Decree 30 format, not yet prepared for signing."""
    fonts = fonts or FontConfig()
    writer = PdfFileWriter()
    engines = _Engines(writer, fonts)
    left_c = _LEFT + mm(30)
    right_c = _RIGHT - mm(47)
    words = _BODY.split()
    number_box = date_box = leader_box = None
    for index in range(pages):
        page = _Page(engines)
        y = _TOP - 12
        if index == 0:
            page.text(organization, left_c, y, 12.5, "regular", "center")
            page.text(organization_line2, left_c, y - 15, 12.5, "bold", "center")
            page.rule(left_c - mm(15), left_c + mm(15), y - 20)
            page.text("Số:", left_c - mm(28), y - 40, 13)
            number_box = FieldBox(0, left_c - mm(28) + 22, y - 44, mm(55), 17)
            page.text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", right_c, y, 12, "bold", "center")
            page.text("Độc lập - Tự do - Hạnh phúc", right_c, y - 15, 13, "bold", "center")
            page.rule(right_c - mm(28), right_c + mm(28), y - 19)
            date_box = FieldBox(0, right_c - mm(45), y - 44, mm(90), 17)
            y -= 90
            page.text(doc_type, A4[0] / 2 + (_LEFT - (A4[0] - _RIGHT)) / 2, y, 14, "bold", "center")
            page.text(
                subject, A4[0] / 2 + (_LEFT - (A4[0] - _RIGHT)) / 2, y - 18, 14, "bold", "center"
            )
            y -= 50
        else:
            page.text(str(index + 1), A4[0] / 2, _TOP + 20, 13, "regular", "center")
        bottom = _BOTTOM + (mm(75) if index == pages - 1 else 0)
        paragraph = 0
        while y > bottom + 20:
            lines = _wrap(
                page, words[paragraph % 7 :] + words[: paragraph % 7], _RIGHT - _LEFT - mm(10)
            )
            for n, line in enumerate(lines):
                if y <= bottom:
                    break
                page.text(line, _LEFT + (mm(10) if n == 0 else 0), y, 13)
                y -= 19
            y -= 6
            paragraph += 1
        if index == pages - 1:
            block_c = _RIGHT - mm(40)
            top = _BOTTOM + mm(62)
            page.text(authority, block_c, top, 13, "bold", "center")
            page.text(position, block_c, top - 16, 13, "bold", "center")
            leader_box = FieldBox(-1, block_c - mm(30), top - 16 - mm(30), mm(60), mm(26))
            page.text(signer_name, block_c, top - 16 - mm(36), 13, "bold", "center")
            page.text("Nơi nhận:", _LEFT, top, 12, "bold")
            for n, recipient in enumerate(
                ("- Các tổ chức thành viên;", "- UBMTTQ các tỉnh, thành phố;", "- Lưu: VT, BTT.")
            ):
                page.text(recipient, _LEFT, top - 14 - 13 * n, 11)
        _add_page(writer, page, engines)
    out = BytesIO()
    writer.write(out)
    assert number_box is not None and date_box is not None and leader_box is not None
    return SampleDocument(out.getvalue(), DocumentLayout(leader_box, number_box, date_box))


def make_sample_attachment(
    pages: int = 1, *, title: str = "PHỤ LỤC", fonts: FontConfig | None = None
) -> bytes:
    """A plain attachment (phụ lục) with a title and body text, to be stamped top right."""
    fonts = fonts or FontConfig()
    writer = PdfFileWriter()
    engines = _Engines(writer, fonts)
    for _ in range(pages):
        page = _Page(engines)
        page.text(title, A4[0] / 2, _TOP - 60, 14, "bold", "center")
        page.text(
            "Danh sách đơn vị triển khai ứng dụng (kèm theo văn bản)",
            A4[0] / 2,
            _TOP - 78,
            13,
            "italic",
            "center",
        )
        y = _TOP - 120
        for row in range(1, 16):
            page.text(
                f"{row:02d}.  Ủy ban MTTQ Việt Nam tỉnh Demo {row} — hoàn thành đúng hạn",
                _LEFT,
                y,
                13,
            )
            y -= 22
        _add_page(writer, page, engines)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _wrap(page: _Page, words: list[str], width: float) -> list[str]:
    # Greedy wrapping on summed word widths (kerning across spaces is negligible here).
    space = page.width(" ", 13)
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in words:
        word_width = page.word_width(word)
        if current and used + space + word_width > width:
            lines.append(" ".join(current))
            current, used = [], 0.0
        used += word_width + (space if current else 0.0)
        current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines


def _add_page(writer: PdfFileWriter, page: _Page, engines: _Engines) -> None:
    stream = generic.StreamObject(stream_data=b"\n".join(page.ops))
    stream.compress()
    names = {"regular": "/FR", "bold": "/FB", "italic": "/FI"}
    fonts = generic.DictionaryObject(
        {pdf_name(names[style]): engine.as_resource() for style, engine in engines.items()}
    )
    writer.insert_page(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject(
                    [
                        generic.FloatObject(0),
                        generic.FloatObject(0),
                        generic.FloatObject(A4[0]),
                        generic.FloatObject(A4[1]),
                    ]
                ),
                pdf_name("/Contents"): writer.add_object(stream),
                pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/Font"): fonts}),
            }
        )
    )
