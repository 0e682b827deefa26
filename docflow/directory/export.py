"""The directory of an admin's subtree as a workbook of the shape the import reads
(:mod:`docflow.imports`: sheets ``organizations``, ``units``, ``users`` with the template's
Vietnamese headers), so an export edited and imported again changes only what was edited.

Streamed: rows come from the database in batches (``yield_per``: a server-side cursor on
PostgreSQL) into openpyxl's write-only workbook, which keeps no cell in memory; every cell goes
through :mod:`docflow.spreadsheets` (no formula can run). Memory stays flat with the size of the
tree (the national tree's 270,000 people included).
"""

from __future__ import annotations

import uuid
from typing import IO

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from docflow import spreadsheets
from docflow.actors import Actor
from docflow.directory.policy import ensure_can_manage_org
from docflow.models import Organization, Unit, User, UserRole
from docflow.uow import UnitOfWork

_BATCH = 2000


def export_directory(
    uow: UnitOfWork, actor: Actor, out: IO[bytes], *, organization_id: uuid.UUID | None = None
) -> dict[str, int]:
    """Write the organisation (the actor's own by default) and its whole subtree to ``out``;
    return the rows written per sheet."""
    from docflow.imports import COLUMNS, SHEETS  # the import's shape (it builds on us)

    counts = {"organizations": 0, "units": 0, "users": 0}
    with uow:
        s = uow.session
        root = ensure_can_manage_org(
            actor, s.get(Organization, organization_id or actor.organization_id)
        )
        in_tree = Organization.path.startswith(root.path, autoescape=True)
        with spreadsheets.streamed_workbook() as wb:
            sheets = {
                key: wb.create_sheet(SHEETS[key]) for key in ("organizations", "units", "users")
            }
            for key, ws in sheets.items():
                ws.append(spreadsheets.row(ws, list(COLUMNS[key].values())))

            parent = aliased(Organization)
            ws = sheets["organizations"]
            rows = s.execute(
                select(
                    Organization.code,
                    parent.code,
                    Organization.level,
                    Organization.name,
                    Organization.abbreviation,
                    Organization.address,
                    Organization.email,
                    Organization.phone,
                )
                .outerjoin(parent, parent.id == Organization.parent_id)
                .where(in_tree)
                .order_by(Organization.path)
                .execution_options(yield_per=_BATCH)
            )
            for r in rows:
                ws.append(spreadsheets.row(ws, list(r)))
                counts["organizations"] += 1

            ws = sheets["units"]
            parent_unit = aliased(Unit)
            rows = s.execute(
                select(Organization.code, Unit.abbreviation, Unit.name, parent_unit.abbreviation)
                .join(Organization, Organization.id == Unit.organization_id)
                .outerjoin(parent_unit, parent_unit.id == Unit.parent_id)
                .where(in_tree)
                .order_by(Organization.code, Unit.abbreviation)
                .execution_options(yield_per=_BATCH)
            )
            for r in rows:
                ws.append(spreadsheets.row(ws, list(r)))
                counts["units"] += 1

            ws = sheets["users"]
            roles = (
                select(func.aggregate_strings(UserRole.role, ";"))
                .where(UserRole.user_id == User.id)
                .correlate(User)
                .scalar_subquery()
            )
            rows = s.execute(
                select(
                    User.username,
                    User.full_name,
                    Organization.code,
                    Unit.abbreviation,
                    User.position,
                    roles,
                    User.clearance,
                    User.email,
                    User.phone,
                    User.active,
                )
                .join(Organization, Organization.id == User.organization_id)
                .outerjoin(Unit, Unit.id == User.unit_id)
                .where(in_tree)
                .order_by(User.username)
                .execution_options(yield_per=_BATCH)
            )
            for r in rows:
                *head, role_text, clearance, email, phone, active = r
                role_list = ";".join(sorted((role_text or "").split(";"))).strip(";")
                values = [*head, role_list, clearance, email, phone, "có" if active else "không"]
                ws.append(spreadsheets.row(ws, values))
                counts["users"] += 1
            wb.save(out)
    return counts


__all__ = ["export_directory"]
