"""The PDF of a filled report (A4, a Vietnamese serif font): the heading, every field with its
value (tables with their fixed rows, the gathered table of the organisation's subordinates), and
the leader's signature box at the end, where :func:`sign_report` puts the PAdES signature.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from fpdf import FPDF
from PIL import Image

from signing import (
    AppearanceSpec,
    FieldBox,
    FontConfig,
    ImageItem,
    KeySigner,
    SigningOptions,
    SignRequest,
    TextItem,
    sign_pdf,
)

MM = 72 / 25.4
PAGE_H = 297.0
SIGNATURE_FIELD = "LanhDaoDuyetBaoCao"
SIG_W, SIG_H = 70.0, 30.0


@dataclass(frozen=True)
class ReportPdf:
    """The rendered report and where the signature goes."""

    data: bytes
    box: FieldBox


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", " ")
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return str(value)


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    pdf.set_font("Body", "B", 10)
    for text, w in zip(header, widths, strict=True):
        pdf.cell(w, 7, text[:60], border=1, align="C")
    pdf.ln()
    pdf.set_font("Body", "", 10)
    for row in rows:
        if pdf.get_y() > PAGE_H - 25:
            pdf.add_page()
        for i, (text, w) in enumerate(zip(row, widths, strict=True)):
            pdf.cell(w, 7, text[:70], border=1, align="L" if i == 0 else "R")
        pdf.ln()


def render_report_pdf(
    *,
    requester: str,
    organization: str,
    title: str,
    period: str,
    deadline: dt.date,
    fields: list[dict[str, Any]],
    values: dict[str, Any],
    leader_name: str,
    version: int,
) -> ReportPdf:
    fonts = FontConfig()
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(f"{title} - {organization} - {period}")
    pdf.set_author(organization)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("Body", "", str(fonts.regular_path()))
    pdf.add_font("Body", "B", str(fonts.bold_path()))
    pdf.add_page()
    pdf.set_margins(20, 15, 15)
    pdf.set_font("Body", "B", 12)
    pdf.set_xy(20, 15)
    pdf.multi_cell(170, 6, organization.upper(), align="C")
    pdf.set_font("Body", "B", 14)
    pdf.ln(4)
    pdf.multi_cell(170, 7, f"BÁO CÁO: {title.upper()}", align="C")
    pdf.set_font("Body", "", 11)
    pdf.multi_cell(
        170,
        6,
        f"Kỳ báo cáo: {period} - Hạn: {deadline:%d/%m/%Y} - Kính gửi: {requester}"
        f" - Phiên bản {version}",
        align="C",
    )
    pdf.ln(4)
    simple = [f for f in fields if f["type"] in ("number", "percent", "text")]
    if simple:
        rows = []
        for f in simple:
            v = values.get(f["key"])
            text = _fmt(v) + (" %" if f["type"] == "percent" and v is not None else "")
            rows.append([f["label"], text])
        _table(pdf, ["Chỉ tiêu", "Số liệu"], rows, [120, 50])
    for f in fields:
        v = values.get(f["key"])
        if f["type"] == "table":
            pdf.ln(3)
            pdf.set_font("Body", "B", 11)
            pdf.multi_cell(170, 6, f["label"])
            cols = f["columns"]
            w0 = 60.0
            w = (170 - w0) / len(cols)
            cells = v or {}
            _table(
                pdf,
                ["", *[c["label"] for c in cols]],
                [
                    [r["label"], *[_fmt((cells.get(r["key"]) or {}).get(c["key"])) for c in cols]]
                    for r in f["rows"]
                ],
                [w0, *[w] * len(cols)],
            )
        elif f["type"] == "gathered" and isinstance(v, dict):
            pdf.ln(3)
            pdf.set_font("Body", "B", 11)
            pdf.multi_cell(170, 6, f"{f['label']}: {v.get('title', '')} ({v.get('period', '')})")
            cols = [c for c in v.get("fields", []) if c["type"] in ("number", "percent")][:6]
            w0 = 170 - 22.0 * len(cols)
            rows = [
                [r["organization"]["name"], *[_fmt(r["values"].get(c["key"])) for c in cols]]
                for r in v.get("rows", [])
            ]
            rows.append(["Tổng cộng", *[_fmt(v.get("totals", {}).get(c["key"])) for c in cols]])
            _table(
                pdf, ["Tổ chức", *[c["label"][:14] for c in cols]], rows, [w0, *[22.0] * len(cols)]
            )
    for f in fields:
        if f["type"] == "text" and values.get(f["key"]):
            pdf.ln(3)
            pdf.set_font("Body", "B", 11)
            pdf.multi_cell(170, 6, f["label"])
            pdf.set_font("Body", "", 11)
            pdf.multi_cell(170, 6, str(values[f["key"]]))
    if pdf.get_y() > PAGE_H - 20 - SIG_H - 20:
        pdf.add_page()
    pdf.ln(6)
    pdf.set_font("Body", "B", 11)
    pdf.set_x(110)
    pdf.cell(80, 6, "LÃNH ĐẠO DUYỆT", align="C")
    pdf.ln(6)
    top = pdf.get_y()
    pdf.set_xy(110, top + SIG_H + 2)
    pdf.set_font("Body", "", 11)
    pdf.cell(80, 6, leader_name, align="C")
    page = pdf.page_no() - 1
    box = FieldBox(page, (115) * MM, (PAGE_H - top - SIG_H) * MM, SIG_W * MM, SIG_H * MM)
    return ReportPdf(bytes(pdf.output()), box)


def sign_report(
    rendered: ReportPdf,
    signer: KeySigner,
    *,
    signature_image: bytes | None,
    leader_name: str,
    options: SigningOptions,
    signed_at: dt.datetime | None = None,
) -> bytes:
    """The leader's approval: a certifying PAdES signature in the box at the report's end,
    showing the leader's stored signature image (or, without one, the name) and the time
    (``signed_at``: the real time by default, which the timestamp authority confirms)."""

    def appearance(width: float, height: float, at: dt.datetime) -> AppearanceSpec:
        when = TextItem(f"Ký duyệt {at:%d/%m/%Y %H:%M} UTC", 2, 2, 8)
        if signature_image is None:
            name = TextItem(leader_name, width / 2, height / 2, 11, align="center")
            return AppearanceSpec(texts=(name, when))
        with Image.open(io.BytesIO(signature_image)) as im:
            iw, ih = im.size
        scale = min(width / iw, (height - 12) / ih)
        w, h = iw * scale, ih * scale
        return AppearanceSpec(
            images=(ImageItem(signature_image, (width - w) / 2, 12, w, h),), texts=(when,)
        )

    request = SignRequest(
        SIGNATURE_FIELD,
        appearance,
        new_field=rendered.box,
        certify=True,
        reason=f"Lãnh đạo ký duyệt báo cáo - {leader_name}",
        signed_at=signed_at,
    )
    return sign_pdf(rendered.data, signer, request, options)


__all__ = ["SIGNATURE_FIELD", "ReportPdf", "render_report_pdf", "sign_report"]
