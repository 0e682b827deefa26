"""Reports (API.md §6): processing statistics per unit or per person, as JSON or XLSX."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from flask import Response
from pydantic import BaseModel, ConfigDict, Field

from app.api import bp
from app.api.spec import parse_query, registry
from app.api.task_schemas import ProcessingReportOut
from app.auth import actor_required, api_auth
from app.runtime import make_uow
from docflow.reports import GroupBy, processing_report, processing_xlsx
from storage import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ProcessingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    date_from: dt.date = Field(alias="from", description="Ngày đầu kỳ (YYYY-MM-DD).")
    date_to: dt.date = Field(alias="to", description="Ngày cuối kỳ (YYYY-MM-DD).")
    group_by: GroupBy = GroupBy.UNIT
    format: Literal["json", "xlsx"] = "json"


@registry.operation(
    bp,
    "/reports/processing",
    "GET",
    summary="Thống kê xử lý theo đơn vị / cá nhân (format=xlsx: tệp Excel)",
    tag="reports",
    query=ProcessingQuery,
    response=ProcessingReportOut,
    errors=(403, 422),
)
@api_auth
def reports_processing() -> object:
    q = parse_query(ProcessingQuery)
    report = processing_report(
        make_uow(), actor_required(), date_from=q.date_from, date_to=q.date_to, group_by=q.group_by
    )
    if q.format == "xlsx":
        name = f"thong-ke-xu-ly-{q.date_from:%Y%m%d}-{q.date_to:%Y%m%d}.xlsx"
        response = Response(processing_xlsx(report), mimetype=XLSX)
        response.headers["Content-Disposition"] = content_disposition(name)
        return response
    return ProcessingReportOut.of(report).model_dump(mode="json", by_alias=True)
