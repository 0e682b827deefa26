"""Turning the task forms into the dicts the docflow commands validate, and the report into
the bars of the statistics chart. No rule lives here: the commands and services decide."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from docflow.reports import ProcessingReport

# The parameters each action's form may carry (the command refuses anything else).
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "start": ("comment",),
    "report_progress": ("percent", "comment"),
    "request_extension": ("new_due_date", "reason"),
    "decide_extension": ("approve", "comment"),
    "submit_completion": ("comment",),
    "approve_completion": ("comment",),
    "reject_completion": ("comment",),
    "cancel": ("reason",),
}


def _filled(form: Mapping[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = (form.get(name) or "").strip()
        if value:
            out[name] = value
    return out


def _party(value: str | None) -> dict[str, str] | None:
    """ "unit:<id>" or "user:<id>" → {"unit_id": …} / {"user_id": …}."""
    kind, _, ident = (value or "").partition(":")
    if kind in ("unit", "user") and ident:
        return {f"{kind}_id": ident}
    return None


def create_payload(form: MultiDict[str, str]) -> dict[str, Any]:
    data = _filled(
        form, ("title", "description", "due_date", "due_in_working_days", "priority", "document_id")
    )
    lead = _party(form.get("lead"))
    if lead is not None:
        data["lead"] = lead
    data["cooperating"] = [p for v in form.getlist("cooperating") if (p := _party(v))]
    return data


def split_payload(form: MultiDict[str, str]) -> dict[str, Any]:
    data = _filled(form, ("title", "description", "due_date"))
    if form.get("lead_user_id"):
        data["lead"] = {"user_id": form["lead_user_id"]}
    return data


def action_payload(action: str, form: Mapping[str, str]) -> dict[str, Any]:
    return {"action": action, **_filled(form, ACTION_FIELDS[action])}


def party_options(units: list[Any], people: list[Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Option groups for the lead / co-operating selects: units, then people."""
    return [
        ("Đơn vị", [(f"unit:{u.id}", u.name) for u in units]),
        (
            "Cá nhân",
            [
                (f"user:{p.id}", f"{p.full_name}" + (f" — {p.unit.abbreviation}" if p.unit else ""))
                for p in people
            ],
        ),
    ]


@dataclass(frozen=True)
class Segment:
    css: str  # the colour class of the part
    label: str
    value: int
    x: float  # percent of the chart width where it starts
    width: float


@dataclass(frozen=True)
class ChartRow:
    name: str
    total: int
    segments: tuple[Segment, ...]


PARTS = (
    ("done_on_time", "dhtn-fill-ontime", "Hoàn thành đúng hạn"),
    ("done_late", "dhtn-fill-late", "Hoàn thành quá hạn"),
    ("open", "dhtn-fill-open", "Đang thực hiện, còn hạn"),
    ("overdue", "dhtn-fill-overdue", "Quá hạn"),
)


def chart_rows(report: ProcessingReport) -> list[ChartRow]:
    """One stacked bar per group, scaled to the largest group (so bars compare)."""
    totals = [sum(getattr(r, p) for p, _, _ in PARTS) for r in report.rows]
    scale = max(totals, default=0) or 1
    rows = []
    for r, total in zip(report.rows, totals, strict=True):
        x = 0.0
        segments = []
        for attr, css, label in PARTS:
            value = int(getattr(r, attr))
            width = 100.0 * value / scale
            if value:
                segments.append(Segment(css, label, value, round(x, 3), round(width, 3)))
            x += width
        rows.append(ChartRow(r.name, total, tuple(segments)))
    return rows
